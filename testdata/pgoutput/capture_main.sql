-- Workload for the "main" captures (testdata/pgoutput/main_*.txt).
-- Run by capture.sh against a throwaway PostgreSQL 15 started with
-- wal_level=logical and logical_decoding_work_mem=64kB. Every statement
-- runs in autocommit mode unless wrapped in BEGIN/COMMIT; the numbers in
-- the comments (W1, W2, ...) are referred to by the tests.
\set ON_ERROR_STOP on
SET timezone = 'UTC';

CREATE EXTENSION dblink;
CREATE SCHEMA app;
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');

-- REPLICA IDENTITY DEFAULT (primary key), many types, a TOAST-able column
-- stored out of line without compression.
CREATE TABLE t_default (
    id      int PRIMARY KEY,
    name    text,
    amount  numeric(10,2),
    created timestamptz,
    flag    boolean,
    doc     jsonb,
    tags    text[],
    code    varchar(8),
    m       mood,
    big     text,
    raw     bytea
);
ALTER TABLE t_default ALTER COLUMN big SET STORAGE EXTERNAL;

CREATE TABLE t_full (id int, note varchar(20));
ALTER TABLE t_full REPLICA IDENTITY FULL;

CREATE TABLE app.t_index (id int NOT NULL, code text NOT NULL, val int);
CREATE UNIQUE INDEX t_index_code ON app.t_index (code);
ALTER TABLE app.t_index REPLICA IDENTITY USING INDEX t_index_code;

CREATE TABLE t_nothing (id int, v text);
ALTER TABLE t_nothing REPLICA IDENTITY NOTHING;

CREATE TABLE parent (id int PRIMARY KEY);
CREATE TABLE child (id int PRIMARY KEY, parent_id int REFERENCES parent (id));
CREATE TABLE t_seq (id serial PRIMARY KEY, v text);
CREATE TABLE app."Mixed Case" ("Col A" int PRIMARY KEY, "ünï" text);
CREATE TABLE t_stream (id int PRIMARY KEY, payload text);

CREATE PUBLICATION pub FOR TABLE t_default, t_full, app.t_index, parent, child,
    t_seq, app."Mixed Case", t_stream;
-- t_nothing cannot publish UPDATE/DELETE (no replica identity).
CREATE PUBLICATION pub_ins FOR TABLE t_nothing WITH (publish = 'insert, truncate');

SELECT 'slot_main created' FROM pg_create_logical_replication_slot('slot_main', 'pgoutput');

-- W1: insert with every column set; "big" (3000 bytes) goes to TOAST.
INSERT INTO t_default VALUES (1, 'alice', 12.50, '2024-01-02 03:04:05.678901+00', true,
    '{"k": [1, 2]}', '{a,"b c"}', 'abc', 'happy', repeat('0123456789', 300), '\xdeadbeef');
-- W2: insert with NULLs.
INSERT INTO t_default (id) VALUES (2);
-- W3: update of a non-key column: no old tuple, "big" sent as 'u' (unchanged TOAST).
UPDATE t_default SET name = 'alice2' WHERE id = 1;
-- W4: update of the primary key: old key tuple ('K').
UPDATE t_default SET id = 20 WHERE id = 2;
-- W5: REPLICA IDENTITY FULL in one transaction: old full tuples ('O').
BEGIN;
INSERT INTO t_full VALUES (1, 'one'), (2, NULL);
UPDATE t_full SET note = 'uno' WHERE id = 1;
DELETE FROM t_full WHERE id = 2;
COMMIT;
-- W6: REPLICA IDENTITY USING INDEX (column "code").
INSERT INTO app.t_index VALUES (1, 'k1', 100);
UPDATE app.t_index SET val = 101 WHERE code = 'k1';
UPDATE app.t_index SET code = 'k2' WHERE id = 1;
DELETE FROM app.t_index WHERE code = 'k2';
-- W7: REPLICA IDENTITY NOTHING.
INSERT INTO t_nothing VALUES (1, 'n');
-- W8: quoted identifiers and non-ASCII text.
INSERT INTO app."Mixed Case" VALUES (7, 'ß→✓');
-- W9: delete by primary key ('K').
DELETE FROM t_default WHERE id = 20;
-- W10: logical decoding messages.
BEGIN;
INSERT INTO t_seq (v) VALUES ('s1');
SELECT 'msg' FROM pg_logical_emit_message(true, 'app.tx', 'transactional content');
COMMIT;
SELECT 'msg' FROM pg_logical_emit_message(false, 'app.nontx', 'non-transactional content');
SELECT 'msg' FROM pg_logical_emit_message(true, 'app.bin', '\x00ff10'::bytea);
-- W11: truncates.
INSERT INTO parent VALUES (1);
INSERT INTO child VALUES (1, 1);
TRUNCATE parent CASCADE;
TRUNCATE t_seq RESTART IDENTITY;
TRUNCATE t_full RESTART IDENTITY CASCADE;
TRUNCATE t_nothing;
-- W12: ALTER TABLE in the middle of a transaction: a second Relation message.
BEGIN;
INSERT INTO t_default (id, name) VALUES (3, 'before');
ALTER TABLE t_default ADD COLUMN extra int DEFAULT 7;
INSERT INTO t_default (id, name, extra) VALUES (4, 'after', 8);
COMMIT;
-- W13: dropped column disappears from the Relation message.
ALTER TABLE t_default DROP COLUMN raw;
UPDATE t_default SET name = 'dropped raw' WHERE id = 3;
-- W14: a transaction with a replication origin: Begin is followed by Origin.
SELECT 'origin' FROM pg_replication_origin_create('upstream_a');
SELECT 'origin' FROM pg_replication_origin_session_setup('upstream_a');
BEGIN;
SELECT 'origin' FROM pg_replication_origin_xact_setup('0/1234ABCD', '2024-05-06 07:08:09+00');
INSERT INTO t_seq (v) VALUES ('from origin');
COMMIT;
SELECT 'origin' FROM pg_replication_origin_session_reset();
-- W15: a rolled back transaction produces nothing.
BEGIN;
INSERT INTO t_seq (v) VALUES ('rolled back');
ROLLBACK;
-- W16: last transaction, marks the end.
INSERT INTO t_seq (v) VALUES ('end of main');
