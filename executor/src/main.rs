//! `executor`: runs workflow executions. `executor healthcheck` probes a running instance.

use std::net::TcpListener;

use anyhow::Context;
use futures_util::FutureExt;
use shared::config::{Config, Service};

fn main() -> anyhow::Result<()> {
    let config = Config::load(Service::Executor).context("invalid configuration")?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the runtime")?;
    match std::env::args().nth(1).as_deref() {
        None | Some("serve") => runtime.block_on(serve(config)),
        Some("healthcheck") => runtime.block_on(healthcheck(&config)),
        Some(other) => anyhow::bail!("unknown command {other:?}; use `serve` or `healthcheck`"),
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let telemetry =
        shared::telemetry::init(&config, Service::Executor).context("cannot set up telemetry")?;
    let listener = TcpListener::bind(&config.listen)
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    listener.set_nonblocking(true)?;
    tracing::info!(listen = %config.listen, "executor starting");
    // SIGTERM - Kubernetes sends this to start a graceful shutdown.
    let served = hookflow_executor::run(
        config,
        listener,
        shared::telemetry::shutdown_signal().boxed(),
    )
    .await;
    // Flushing spans blocks on the exporter.
    tokio::task::spawn_blocking(move || telemetry.shutdown()).await?;
    served
}

/// Exits 0 when the local instance answers `/livez` with 200 (container health checks).
async fn healthcheck(config: &Config) -> anyhow::Result<()> {
    let port = config
        .listen_addr()
        .context("invalid listen address")?
        .port();
    let response = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{port}/livez"))
        .timeout(std::time::Duration::from_secs(3))
        .send()
        .await
        .context("executor did not answer")?;
    anyhow::ensure!(
        response.status().is_success(),
        "executor answered {}",
        response.status()
    );
    Ok(())
}
