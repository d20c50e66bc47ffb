//! The one shape of every service binary: parse the command line → load config → init
//! telemetry → run until SIGTERM/SIGINT → drain → flush telemetry → exit; plus the
//! `healthcheck` subcommand, and whatever subcommands a binary adds.

use std::{
    future::Future,
    io::{Read, Write},
    net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream},
    process::ExitCode,
    time::Duration,
};

use anyhow::Context;
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use futures_util::future::BoxFuture;
use tokio_util::sync::CancellationToken;

use crate::config::{Config, Service};

/// The command line of a service binary; `E` holds the subcommands only it has.
#[derive(Parser)]
#[command(version)]
struct Cli<E: Subcommand> {
    #[command(subcommand)]
    command: Option<Command<E>>,
}

#[derive(Subcommand)]
enum Command<E: Subcommand> {
    /// Serve until SIGTERM or SIGINT, then drain and exit (the default)
    Serve,
    /// Exit 0 when /livez of the instance on this machine answers 200 (for container health checks)
    Healthcheck,
    #[command(flatten)]
    Other(E),
}

/// The subcommands of a binary that has none beyond `serve` and `healthcheck`.
#[derive(Subcommand)]
pub enum NoOther {}

impl NoOther {
    /// Runs nothing: there is no such subcommand.
    pub fn run(self, _: Config) -> BoxFuture<'static, anyhow::Result<()>> {
        match self {}
    }
}

/// Runs the binary of `service`: `serve` (the default) runs `run` until SIGTERM/SIGINT,
/// `healthcheck` probes the local instance, and the binary's own subcommands `E` run
/// through `other` with telemetry set up. `--help` lists the settings of `service`.
pub fn main<E, F, Fut>(
    service: Service,
    run: F,
    other: fn(E, Config) -> BoxFuture<'static, anyhow::Result<()>>,
) -> ExitCode
where
    E: Subcommand,
    F: FnOnce(Config, TcpListener, CancellationToken) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let matches = Cli::<E>::command()
        .name(service.binary())
        .about(service.about())
        .after_help(crate::config::help(service))
        .get_matches();
    let outcome = Cli::<E>::from_arg_matches(&matches)
        .map_err(anyhow::Error::from)
        .and_then(|cli| execute(service, cli.command.unwrap_or(Command::Serve), run, other));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // The cause chain, not a backtrace: what an operator needs to fix the start-up.
            eprintln!("Error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn execute<E, F, Fut>(
    service: Service,
    command: Command<E>,
    run: F,
    other: fn(E, Config) -> BoxFuture<'static, anyhow::Result<()>>,
) -> anyhow::Result<()>
where
    E: Subcommand,
    F: FnOnce(Config, TcpListener, CancellationToken) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let config = Config::load(service)?;
    if let Command::Healthcheck = command {
        return healthcheck(&config);
    }
    // Every TLS client of the process, ours and the libraries', uses the one provider.
    crate::tls::provider();
    let runtime = tokio::runtime::Runtime::new().context("cannot start the runtime")?;
    runtime.block_on(async move {
        let telemetry = crate::telemetry::init(&config).context("cannot set up telemetry")?;
        let outcome = match command {
            Command::Other(command) => other(command, config).await,
            _ => serve(service, config, run).await,
        };
        // Flushing spans blocks on the exporter.
        tokio::task::spawn_blocking(move || telemetry.shutdown()).await?;
        outcome
    })
}

async fn serve<F, Fut>(service: Service, config: Config, run: F) -> anyhow::Result<()>
where
    F: FnOnce(Config, TcpListener, CancellationToken) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let listener = TcpListener::bind(config.listen)
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    listener.set_nonblocking(true)?;
    tracing::info!(listen = %config.listen, service = service.name(), "starting");
    let served = run(config, listener, crate::shutdown::on_signal()).await;
    if let Err(err) = &served {
        tracing::error!(error = format!("{err:#}"), "stopped with an error");
    }
    served
}

/// Exits 0 when `/livez` of the local instance answers 200; for container health checks,
/// so no client library and no runtime.
pub fn healthcheck(config: &Config) -> anyhow::Result<()> {
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, config.listen.port()));
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
