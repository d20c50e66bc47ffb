//! The one shape of every service binary: load config → init telemetry → run until
//! SIGTERM/SIGINT → drain → flush telemetry → exit; plus the `healthcheck` subcommand.

use std::{
    future::Future,
    io::{Read, Write},
    net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream},
    time::Duration,
};

use anyhow::Context;
use futures_util::future::BoxFuture;
use tokio_util::sync::CancellationToken;

use crate::config::{Config, Service};

/// A subcommand beyond `serve` and `healthcheck`, e.g. config-api's `migrate`.
pub struct Command {
    /// Its name on the command line.
    pub name: &'static str,
    /// What it runs.
    pub run: fn(Config) -> BoxFuture<'static, anyhow::Result<()>>,
}

/// Runs the binary of `service`: `serve` (the default) runs `run` until SIGTERM/SIGINT,
/// `healthcheck` probes the local instance, and `extra` commands run with telemetry set up.
pub fn main<F, Fut>(service: Service, run: F, extra: &[Command]) -> anyhow::Result<()>
where
    F: FnOnce(Config, TcpListener, CancellationToken) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let config = Config::load(service).context("invalid configuration")?;
    let command = std::env::args().nth(1);
    let runtime = tokio::runtime::Runtime::new().context("cannot start the runtime")?;
    match command.as_deref() {
        None | Some("serve") => runtime.block_on(serve(service, config, run)),
        Some("healthcheck") => healthcheck(&config),
        Some(name) => {
            let Some(command) = extra.iter().find(|c| c.name == name) else {
                let names: Vec<&str> = ["serve", "healthcheck"]
                    .into_iter()
                    .chain(extra.iter().map(|c| c.name))
                    .collect();
                anyhow::bail!("unknown command {name:?}; use one of {}", names.join(", "));
            };
            runtime.block_on(with_telemetry(service, config, command.run))
        }
    }
}

async fn serve<F, Fut>(service: Service, config: Config, run: F) -> anyhow::Result<()>
where
    F: FnOnce(Config, TcpListener, CancellationToken) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let telemetry = crate::telemetry::init(&config, service).context("cannot set up telemetry")?;
    let listener = TcpListener::bind(&config.listen)
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    listener.set_nonblocking(true)?;
    tracing::info!(listen = %config.listen, service = service.name(), "starting");
    let served = run(config, listener, crate::shutdown::on_signal()).await;
    if let Err(err) = &served {
        tracing::error!(error = format!("{err:#}"), "stopped with an error");
    }
    // Flushing spans blocks on the exporter.
    tokio::task::spawn_blocking(move || telemetry.shutdown()).await?;
    served
}

async fn with_telemetry(
    service: Service,
    config: Config,
    run: fn(Config) -> BoxFuture<'static, anyhow::Result<()>>,
) -> anyhow::Result<()> {
    let telemetry = crate::telemetry::init(&config, service).context("cannot set up telemetry")?;
    let outcome = run(config).await;
    tokio::task::spawn_blocking(move || telemetry.shutdown()).await?;
    outcome
}

/// Exits 0 when `/livez` of the local instance answers 200; for container health checks,
/// so no client library and no runtime.
pub fn healthcheck(config: &Config) -> anyhow::Result<()> {
    let port = config
        .listen_addr()
        .context("invalid HOOKFLOW_LISTEN")?
        .port();
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let timeout = Duration::from_secs(3);
    let mut stream = TcpStream::connect_timeout(&address, timeout)
        .with_context(|| format!("nothing answers on {address}"))?;
    stream.set_read_timeout(Some(timeout))?;
    stream.write_all(b"GET /livez HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")?;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head)?;
    anyhow::ensure!(
        head.starts_with(b"HTTP/1.") && &head[8..12] == b" 200",
        "livez answered {}",
        String::from_utf8_lossy(&head)
    );
    Ok(())
}
