#!/usr/bin/env bash
# Runs every check of the project on a fresh machine: installs what is
# missing (Debian packages, Rust components), then cargo fmt --check,
# clippy with -D warnings, and the whole test suite (unit tests, integration
# tests against throwaway local PostgreSQL / MariaDB processes, end-to-end
# tests of the sluice binary).
#
# Usage: ./scripts/test.sh            (from anywhere)
# Env:   SLUICE_SKIP_INSTALL=1        skip the install step
set -euo pipefail

cd "$(dirname "$0")/.."

log() { printf '\n==> %s\n' "$*"; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo "$@"; else
        echo "need root to run: $*" >&2; return 1; fi
}

install_deps() {
    local pkgs=()
    [ -x /usr/lib/postgresql/15/bin/postgres ] || pkgs+=(postgresql-15 postgresql-client-15)
    command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ] || pkgs+=(mariadb-server mariadb-client)
    command -v mariadb >/dev/null 2>&1 || pkgs+=(mariadb-client)
    command -v cc >/dev/null 2>&1 || pkgs+=(build-essential)
    command -v pkg-config >/dev/null 2>&1 || pkgs+=(pkg-config)
    # openssl-sys (native-tls, librdkafka's SSL); librdkafka's bundled build
    # needs make and a C++-capable toolchain, zlib; python3 + pip for the
    # Confluent client test.
    [ -f /usr/include/openssl/ssl.h ] || pkgs+=(libssl-dev)
    [ -f /usr/include/zlib.h ] || pkgs+=(zlib1g-dev)
    command -v make >/dev/null 2>&1 || pkgs+=(make)
    command -v c++ >/dev/null 2>&1 || pkgs+=(g++)
    command -v python3 >/dev/null 2>&1 || pkgs+=(python3 python3-pip)
    command -v openssl >/dev/null 2>&1 || pkgs+=(openssl)
    # A real headless browser for the status page test (crates/cli/tests/ui.rs).
    [ -x /usr/bin/chromium ] || pkgs+=(chromium)
    [ -x /usr/bin/chromedriver ] || pkgs+=(chromium-driver)
    if [ ${#pkgs[@]} -gt 0 ]; then
        log "installing Debian packages: ${pkgs[*]}"
        as_root apt-get update -qq
        # Do not start the packaged services: tests start their own instances.
        as_root env DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 apt-get install -y -qq --no-install-recommends "${pkgs[@]}"
    fi
    if ! command -v cargo >/dev/null 2>&1; then
        echo "cargo is not installed: install Rust (rustup) first" >&2
        exit 1
    fi
    cargo fmt --version >/dev/null 2>&1 || rustup component add rustfmt
    cargo clippy --version >/dev/null 2>&1 || rustup component add clippy
    # The Kafka-protocol broker of the integration tests (~11 min to build
    # the first time; cargo keeps it in ~/.cargo/bin).
    if ! command -v tansu >/dev/null 2>&1 && [ ! -x "${CARGO_HOME:-$HOME/.cargo}/bin/tansu" ]; then
        log "installing tansu (cargo install tansu --locked --features dynostore)"
        cargo install tansu --locked --features dynostore
    fi
    # Confluent's Python client reads sluice's Avro events in a test.
    if ! python3 -c "import confluent_kafka.schema_registry.avro, fastavro" >/dev/null 2>&1; then
        log "installing Python's confluent-kafka (pip)"
        python3 -m pip install --quiet "confluent-kafka[avro,schemaregistry]" ||
            python3 -m pip install --quiet --break-system-packages "confluent-kafka[avro,schemaregistry]"
    fi
}

if [ "${SLUICE_SKIP_INSTALL:-0}" != 1 ]; then
    install_deps
fi

export CARGO_TERM_COLOR=never
export RUST_BACKTRACE=1

log "cargo fmt --check"
cargo fmt --all -- --check

log "cargo clippy (all targets, -D warnings)"
cargo clippy --workspace --all-targets --locked -- -D warnings

log "cargo test (whole workspace)"
cargo test --workspace --locked --no-fail-fast 2>&1 | tee target/test-output.txt
status=${PIPESTATUS[0]}

# One closing line for CI: N passed, N failed.
passed=$(grep -Eo 'test result: [a-zA-Z]+\. [0-9]+ passed' target/test-output.txt | awk '{s+=$4} END {print s+0}')
failed=$(grep -Eo '[0-9]+ failed' target/test-output.txt | awk '{s+=$1} END {print s+0}')
echo
echo "${passed} passed, ${failed} failed"
exit "$status"
