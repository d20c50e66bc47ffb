# One build, one image per service:
#   docker build --target ingress    -t hookflow/ingress .
#   docker build --target config-api -t hookflow/config-api .
#   docker build --target executor   -t hookflow/executor .
# The three targets share the builder stages, so building all three compiles the workspace
# once. Each image holds one binary as its entrypoint, a HEALTHCHECK that calls the
# binary's own `healthcheck` subcommand, and runs as an unprivileged user; the config-api
# image also holds the web console, built in the `console` stage.

ARG RUST_VERSION=1.95
ARG DEBIAN_RELEASE=bookworm
ARG NODE_VERSION=20

# --- planner: the workspace reduced to its manifests plus stub sources -----------------
# The stub tree only changes when a Cargo.toml or Cargo.lock changes, so the dependency
# layer below is reused across source edits (what cargo-chef does, without the tool).
FROM rust:${RUST_VERSION}-slim-${DEBIAN_RELEASE} AS planner
WORKDIR /src
COPY . .
RUN set -eu; \
    mkdir -p /skeleton; \
    cp Cargo.toml Cargo.lock /skeleton/; \
    find . -name Cargo.toml -not -path './target/*' -not -path './Cargo.toml' | while read -r manifest; do \
        dir=$(dirname "$manifest"); \
        mkdir -p "/skeleton/$dir"; \
        cp "$manifest" "/skeleton/$dir/"; \
        for root in src/lib.rs src/main.rs build.rs; do \
            if [ -f "$dir/$root" ]; then \
                mkdir -p "/skeleton/$dir/$(dirname "$root")"; \
                case "$root" in \
                    src/lib.rs) : > "/skeleton/$dir/$root" ;; \
                    *) echo 'fn main() {}' > "/skeleton/$dir/$root" ;; \
                esac; \
            fi; \
        done; \
        for target in "$dir"/src/bin/*.rs "$dir"/tests/*.rs "$dir"/benches/*.rs "$dir"/examples/*.rs; do \
            [ -f "$target" ] || continue; \
            mkdir -p "/skeleton/$(dirname "$target")"; \
            echo 'fn main() {}' > "/skeleton/$target"; \
        done; \
    done

# --- builder: dependencies first, then the workspace ---------------------------------
FROM rust:${RUST_VERSION}-slim-${DEBIAN_RELEASE} AS builder
WORKDIR /src
ENV CARGO_TERM_COLOR=never
COPY --from=planner /skeleton/ ./
# Ingress is built on its own: built together with the others, cargo would unify the
# features of `shared` and link its PostgreSQL code into ingress too.
RUN cargo build --release --locked -p hookflow-ingress \
    && cargo build --release --locked -p hookflow-config-api -p hookflow-executor
COPY . .
# The real sources may be older than the stubs built above; cargo compares modification
# times, so mark every workspace file as new to have the workspace crates rebuilt.
RUN find . -path ./target -prune -o -type f \( -name '*.rs' -o -name '*.sql' -o -name Cargo.toml \) -exec touch {} + \
    && cargo build --release --locked -p hookflow-ingress \
    && cargo build --release --locked -p hookflow-config-api -p hookflow-executor \
    && mkdir -p /out \
    && cp target/release/ingress target/release/config-api target/release/executor /out/

# --- console: the web console's static files (console/dist) ------------------------
# Dependencies from the lock file first, so that source edits reuse that layer.
FROM node:${NODE_VERSION}-${DEBIAN_RELEASE}-slim AS console
WORKDIR /console
COPY console/package.json console/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY console/ ./
RUN npm run build

# --- runtime base ---------------------------------------------------------------------
FROM debian:${DEBIAN_RELEASE}-slim AS runtime
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 hookflow \
    && useradd --system --uid 10001 --gid hookflow --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin hookflow
ENV RUST_LOG=info \
    HOOKFLOW_LOG_FORMAT=json
# Numeric, so that Kubernetes' runAsNonRoot can verify it without reading /etc/passwd.
USER 10001:10001
STOPSIGNAL SIGTERM

# --- config-api: workflow store and REST API (also runs `config-api migrate`) ---------
FROM runtime AS config-api
COPY --from=builder /out/config-api /usr/local/bin/config-api
COPY --from=console /console/dist /usr/share/hookflow/console
ENV HOOKFLOW_LISTEN=0.0.0.0:13001 \
    HOOKFLOW_CONSOLE_DIR=/usr/share/hookflow/console \
    OTEL_SERVICE_NAME=hookflow-config-api
EXPOSE 13001
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["/usr/local/bin/config-api", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/config-api"]

# --- executor: node-graph workers (HTTP for health and metrics only) ------------------
FROM runtime AS executor
COPY --from=builder /out/executor /usr/local/bin/executor
ENV HOOKFLOW_LISTEN=0.0.0.0:13002 \
    OTEL_SERVICE_NAME=hookflow-executor
EXPOSE 13002
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["/usr/local/bin/executor", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/executor"]

# --- ingress: the webhook front door (last, so a plain `docker build .` builds it) ----
FROM runtime AS ingress
COPY --from=builder /out/ingress /usr/local/bin/ingress
ENV HOOKFLOW_LISTEN=0.0.0.0:13000 \
    OTEL_SERVICE_NAME=hookflow-ingress
EXPOSE 13000
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["/usr/local/bin/ingress", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/ingress"]
