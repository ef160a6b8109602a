#!/usr/bin/env bash
# The PostgreSQL → Kafka benchmark (docs/benchmarks.md): builds sluice and the
# benchmark program in release mode, then runs benches/src/bin/pg_kafka.rs,
# which starts a throwaway PostgreSQL and a tansu broker, generates a backlog
# of N row changes, delivers it to Kafka with sluice (JsonConverter, then
# AvroConverter through `sluice registry`) and replays the very same records
# with a bare rdkafka producer.
#
# Usage: ./scripts/bench-kafka.sh [--rows N] [other pg_kafka options]
#        ./scripts/bench-kafka.sh --help
# Output: progress on stderr, one JSON object on stdout.
# Env:   SLUICE_PG_BIN   PostgreSQL bin directory (default /usr/lib/postgresql/15/bin,
#                        else the newest /usr/lib/postgresql/*/bin)
#        SLUICE_TANSU    the tansu program (default: PATH, then ~/.cargo/bin/tansu)
set -euo pipefail

cd "$(dirname "$0")/.."

tansu=${SLUICE_TANSU:-$(command -v tansu || true)}
if [ -z "$tansu" ] && [ -x "${CARGO_HOME:-$HOME/.cargo}/bin/tansu" ]; then
    tansu="${CARGO_HOME:-$HOME/.cargo}/bin/tansu"
fi
if [ -z "$tansu" ] || [ ! -x "$tansu" ]; then
    echo "tansu (the Kafka-protocol broker this benchmark runs) is not installed; install it with:" >&2
    echo "    cargo install tansu --locked --features dynostore" >&2
    exit 1
fi
export SLUICE_TANSU="$tansu"

# Without it the test kit takes the newest /usr/lib/postgresql/*/bin.
if [ -z "${SLUICE_PG_BIN:-}" ] && [ -x /usr/lib/postgresql/15/bin/postgres ]; then
    export SLUICE_PG_BIN=/usr/lib/postgresql/15/bin
fi

echo "==> cargo build --release -p sluice -p sluice-benches" >&2
cargo build --release -p sluice -p sluice-benches >&2

target_dir=$(cargo metadata --format-version 1 --no-deps 2>/dev/null |
    sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
target_dir=${target_dir:-target}

exec "$target_dir/release/pg_kafka" --sluice "$target_dir/release/sluice" "$@"
