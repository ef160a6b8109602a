#!/usr/bin/env bash
# sluice quickstart: a throwaway PostgreSQL with logical replication, a small
# demo schema with ongoing activity, and `sluice standalone` streaming every
# change as Debezium JSON to a file. No Kafka, no Docker.
#
# Usage: ./scripts/quickstart.sh            (Ctrl-C stops everything)
# Env:   QUICKSTART_DIR=/path               where to keep the demo (default ./quickstart)
#        QUICKSTART_SECONDS=N               stop by itself after N seconds (default: run until Ctrl-C)
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
dir="${QUICKSTART_DIR:-$root/quickstart}"
pgbin="${SLUICE_PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)}"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# 1. What is missing gets installed.
if [ -z "$pgbin" ] || [ ! -x "$pgbin/postgres" ]; then
    say "installing PostgreSQL (Debian packages)"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 apt-get install -y -qq --no-install-recommends postgresql postgresql-client
    pgbin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)"
fi
command -v psql >/dev/null || { echo "psql is missing: apt-get install postgresql-client" >&2; exit 1; }
command -v cargo >/dev/null || { echo "cargo is missing: install Rust (https://rustup.rs) first" >&2; exit 1; }

say "building sluice (release)"
(cd "$root" && cargo build --release -q -p sluice)
sluice="$root/target/release/sluice"

# 2. A throwaway PostgreSQL on a free port. It refuses to run as root, so
#    as root it runs as the postgres user.
rm -rf "$dir"
mkdir -p "$dir"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
run_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
pgdir="$(mktemp -d /tmp/sluice-quickstart-pg.XXXXXX)"
[ "$(id -u)" -eq 0 ] && chown postgres: "$pgdir"
say "starting PostgreSQL on 127.0.0.1:$port (data in $pgdir)"
run_pg "$pgbin/initdb" -D "$pgdir/data" -U postgres --auth=trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1
run_pg "$pgbin/pg_ctl" -D "$pgdir/data" -l "$pgdir/postgres.log" -w \
    -o "-p $port -k $pgdir -c listen_addresses=127.0.0.1 -c wal_level=logical -c max_replication_slots=10 -c max_wal_senders=10" start >/dev/null

activity_pid=""
sluice_pid=""
cleanup() {
    trap - EXIT INT TERM
    echo
    say "stopping"
    [ -n "$activity_pid" ] && kill "$activity_pid" 2>/dev/null || true
    if [ -n "$sluice_pid" ]; then
        kill -TERM "$sluice_pid" 2>/dev/null || true
        wait "$sluice_pid" 2>/dev/null || true
    fi
    run_pg "$pgbin/pg_ctl" -D "$pgdir/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$pgdir"
    echo "The events stay in $dir/events.jsonl"
}
trap cleanup EXIT INT TERM

export PGHOST=127.0.0.1 PGPORT="$port" PGUSER=postgres PGDATABASE=inventory
psql -q -d postgres -c "CREATE DATABASE inventory"
psql -q -v ON_ERROR_STOP=1 <<'SQL'
CREATE TABLE customers (
    id serial PRIMARY KEY,
    first_name text NOT NULL,
    last_name text NOT NULL,
    email varchar(255) UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE orders (
    id serial PRIMARY KEY,
    customer_id int NOT NULL REFERENCES customers(id),
    quantity int NOT NULL,
    price numeric(10,2) NOT NULL,
    order_date date NOT NULL DEFAULT current_date
);
INSERT INTO customers (first_name, last_name, email) VALUES
    ('Sally', 'Thomas', 'sally.thomas@acme.com'),
    ('George', 'Bailey', 'gbailey@foobar.com'),
    ('Edward', 'Walker', 'ed@walker.com');
SQL

# 3. sluice: a Debezium PostgreSQL connector config, unchanged, and a worker
#    that writes JSON lines to a file.
cat >"$dir/worker.properties" <<PROPS
offset.storage.file.filename=$dir/offsets.json
offset.flush.interval.ms=1000
key.converter=org.apache.kafka.connect.json.JsonConverter
value.converter=org.apache.kafka.connect.json.JsonConverter
key.converter.schemas.enable=false
value.converter.schemas.enable=false
sink.type=file
sink.file.path=$dir/events.jsonl
PROPS
cat >"$dir/inventory-connector.json" <<JSON
{
  "name": "inventory-connector",
  "config": {
    "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
    "tasks.max": "1",
    "database.hostname": "127.0.0.1",
    "database.port": "$port",
    "database.user": "postgres",
    "database.password": "postgres",
    "database.dbname": "inventory",
    "topic.prefix": "dbserver1",
    "plugin.name": "pgoutput",
    "slot.name": "quickstart",
    "heartbeat.interval.ms": "10000"
  }
}
JSON
say "starting sluice"
"$sluice" standalone "$dir/worker.properties" "$dir/inventory-connector.json" 2>"$dir/sluice.log" &
sluice_pid=$!
for _ in $(seq 1 100); do
    [ "$(psql -tAc "SELECT count(*) FROM pg_replication_slots WHERE slot_name='quickstart' AND active")" = 1 ] && break
    kill -0 "$sluice_pid" 2>/dev/null || { cat "$dir/sluice.log" >&2; exit 1; }
    sleep 0.1
done

# 4. Ongoing activity: inserts, updates and deletes every second.
(
    i=0
    while true; do
        i=$((i + 1))
        psql -q -c "INSERT INTO customers (first_name, last_name, email) VALUES ('user$i', 'demo', 'user$i@example.com');
                    INSERT INTO orders (customer_id, quantity, price) SELECT max(id), $((i % 5 + 1)), $i.99 FROM customers;
                    UPDATE customers SET email = 'updated$i@example.com' WHERE id = 1;" >/dev/null 2>&1 || true
        if [ $((i % 5)) -eq 0 ]; then
            psql -q -c "DELETE FROM orders WHERE id = (SELECT min(id) FROM orders)" >/dev/null 2>&1 || true
        fi
        sleep 1
    done
) &
activity_pid=$!

cat <<EOF

  sluice is streaming the changes of database 'inventory' (PostgreSQL on 127.0.0.1:$port).

  Debezium change events, one JSON object per line:   tail -f $dir/events.jsonl
  Just the operations and rows:                         tail -f $dir/events.jsonl | jq -c '.value | {op, before, after}'
  Make your own change:     PGHOST=127.0.0.1 PGPORT=$port psql -U postgres inventory -c "UPDATE customers SET first_name='Anne' WHERE id=1"
  Committed offsets:        cat $dir/offsets.json
  sluice's log:             $dir/sluice.log

  Stop with Ctrl-C (sluice flushes, commits its offset and exits; PostgreSQL is removed).

EOF

if [ -n "${QUICKSTART_SECONDS:-}" ]; then
    sleep "$QUICKSTART_SECONDS"
else
    wait "$sluice_pid"
fi
