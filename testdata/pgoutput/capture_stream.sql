-- Workload for the streaming capture (testdata/pgoutput/stream_v2.txt).
-- Run by capture.sh after capture_main.sql; needs the psql variable
-- "connstr" (a libpq connection string back to the same server, for dblink).
-- With logical_decoding_work_mem=64kB each of these transactions exceeds the
-- limit and is streamed when decoded with proto_version 2, streaming on.
\set ON_ERROR_STOP on
SET timezone = 'UTC';

SELECT 'slot_stream created' FROM pg_create_logical_replication_slot('slot_stream', 'pgoutput');

-- S1: a large committed transaction with a transactional message, updates
-- and a delete.
BEGIN;
SELECT 'msg' FROM pg_logical_emit_message(true, 'stream.msg', 'inside streamed txn');
INSERT INTO t_stream SELECT g, 'row ' || g FROM generate_series(1, 500) g;
UPDATE t_stream SET payload = 'upd' WHERE id <= 2;
DELETE FROM t_stream WHERE id = 3;
COMMIT;

-- S2: subtransactions: s1 is rolled back after part of it was streamed
-- (Stream Abort with subxid != xid), s2 is released (kept).
BEGIN;
INSERT INTO t_stream SELECT g, 'top ' || g FROM generate_series(1001, 1400) g;
SAVEPOINT s1;
INSERT INTO t_stream SELECT g, 'sub ' || g FROM generate_series(2001, 2400) g;
ROLLBACK TO SAVEPOINT s1;
SAVEPOINT s2;
INSERT INTO t_stream SELECT g, 'kept ' || g FROM generate_series(4001, 4010) g;
RELEASE SAVEPOINT s2;
INSERT INTO t_stream SELECT g, 'after ' || g FROM generate_series(3001, 3400) g;
COMMIT;

-- S3: a large aborted transaction (Stream Abort with subxid == xid).
BEGIN;
INSERT INTO t_stream SELECT g, 'aborted ' || g FROM generate_series(5001, 5500) g;
ROLLBACK;

-- S4: two large transactions interleaved (through dblink), with a small
-- ordinary transaction committing in between; b commits before a.
SELECT dblink_connect('a', :'connstr');
SELECT dblink_connect('b', :'connstr');
SELECT dblink_exec('a', 'BEGIN');
SELECT dblink_exec('b', 'BEGIN');
SELECT dblink_exec('a', $$INSERT INTO t_stream SELECT g, 'a ' || g FROM generate_series(6001, 6300) g$$);
SELECT dblink_exec('b', $$INSERT INTO t_stream SELECT g, 'b ' || g FROM generate_series(7001, 7300) g$$);
INSERT INTO t_seq (v) VALUES ('small between');
SELECT dblink_exec('a', $$INSERT INTO t_stream SELECT g, 'a ' || g FROM generate_series(6301, 6600) g$$);
SELECT dblink_exec('b', $$INSERT INTO t_stream SELECT g, 'b ' || g FROM generate_series(7301, 7600) g$$);
SELECT dblink_exec('b', 'COMMIT');
SELECT dblink_exec('a', 'COMMIT');
SELECT dblink_disconnect('a');
SELECT dblink_disconnect('b');

-- S5: last transaction, marks the end.
INSERT INTO t_seq (v) VALUES ('end of stream');
