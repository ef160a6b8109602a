# sluice as a container image: docker build -t sluice .
# Build stage: the workspace's release binary (librdkafka is built from the
# bundled sources, hence cmake-less make + a C/C++ toolchain, and OpenSSL).
FROM rust:1-bookworm AS build
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends build-essential pkg-config libssl-dev zlib1g-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p sluice

# Run stage: the binary and what it links against.
FROM debian:bookworm-slim
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends ca-certificates libssl3 zlib1g \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home /var/lib/sluice --create-home sluice
COPY --from=build /src/target/release/sluice /usr/local/bin/sluice
USER sluice
WORKDIR /var/lib/sluice
ENTRYPOINT ["/usr/local/bin/sluice"]
CMD ["--help"]
