#!/usr/bin/env bash
# The PostgreSQL initial snapshot benchmark (docs/benchmarks.md): builds
# sluice and the benchmark program in release mode, then runs
# benches/src/bin/pg_snapshot.rs, which starts a throwaway PostgreSQL, loads
# a table of N rows and reads it with `psql -c 'COPY … TO STDOUT'` and with
# sluice (snapshot.mode=initial_only; null sink with 2 and 1 threads, file
# sink with 2 threads).
#
# Usage: ./scripts/bench-snapshot.sh [--rows N] [other pg_snapshot options]
#        ./scripts/bench-snapshot.sh --help
# Output: progress on stderr, one JSON object on stdout.
# Env:   SLUICE_PG_BIN   PostgreSQL bin directory (default /usr/lib/postgresql/15/bin)
#        SLUICE_SKIP_INSTALL=1  do not install missing Debian packages
set -euo pipefail

cd "$(dirname "$0")/.."

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo "$@"; else
        echo "need root to run: $*" >&2; return 1; fi
}

if [ "${SLUICE_SKIP_INSTALL:-0}" != 1 ]; then
    pkgs=()
    [ -x /usr/lib/postgresql/15/bin/postgres ] || pkgs+=(postgresql-15)
    [ -x /usr/lib/postgresql/15/bin/psql ] || pkgs+=(postgresql-client-15)
    [ -x /usr/bin/time ] || pkgs+=(time)
    if [ ${#pkgs[@]} -gt 0 ]; then
        echo "==> installing Debian packages: ${pkgs[*]}" >&2
        as_root apt-get update -qq >&2
        # Do not start the packaged services: the benchmark starts its own server.
        as_root env DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 \
            apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >&2
    fi
fi

if [ -z "${SLUICE_PG_BIN:-}" ] && [ -x /usr/lib/postgresql/15/bin/postgres ]; then
    export SLUICE_PG_BIN=/usr/lib/postgresql/15/bin
fi

echo "==> cargo build --release -p sluice -p sluice-benches --bin sluice --bin pg_snapshot" >&2
cargo build --release -p sluice -p sluice-benches --bin sluice --bin pg_snapshot >&2

target_dir=$(cargo metadata --format-version 1 --no-deps 2>/dev/null |
    sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
target_dir=${target_dir:-target}

exec "$target_dir/release/pg_snapshot" --sluice "$target_dir/release/sluice" "$@"
