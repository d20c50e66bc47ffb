//! `config-api` binary: serve (default), `migrate`, `healthcheck`, `openapi`.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use futures_util::FutureExt;
use shared::config::{Config, Service};

const USAGE: &str = "usage: config-api [serve | migrate | healthcheck | openapi]";

fn main() -> ExitCode {
    let command = std::env::args().nth(1);
    let outcome = match command.as_deref() {
        None | Some("serve") => serve(),
        Some("migrate") => migrate(),
        Some("healthcheck") => healthcheck(),
        Some("openapi") => openapi(),
        Some(_) => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("config-api: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn config() -> anyhow::Result<Config> {
    Config::load(Service::ConfigApi).context("configuration")
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("tokio runtime")
}

fn serve() -> anyhow::Result<()> {
    let config = config()?;
    let address = config.listen_addr().context("HOOKFLOW_LISTEN")?;
    let listener = TcpListener::bind(address).with_context(|| format!("binding {address}"))?;
    listener.set_nonblocking(true)?;
    runtime()?.block_on(async move {
        let telemetry = shared::telemetry::init(&config, Service::ConfigApi)
            .context("cannot set up telemetry")?;
        // SIGTERM - Kubernetes sends this to start a graceful shutdown.
        let served = hookflow_config_api::run(
            config,
            listener,
            shared::telemetry::shutdown_signal().boxed(),
        )
        .await;
        // Flushing spans blocks on the exporter.
        tokio::task::spawn_blocking(move || telemetry.shutdown()).await?;
        served
    })
}

fn migrate() -> anyhow::Result<()> {
    let config = config()?;
    runtime()?.block_on(async move {
        let telemetry = shared::telemetry::init(&config, Service::ConfigApi)
            .context("cannot set up telemetry")?;
        let pool = shared::db::pool(&config.database_url, 1)?;
        let migrated = hookflow_config_api::migrate_when_reachable(&pool).await;
        if migrated.is_ok() {
            tracing::info!("migrations applied");
        }
        tokio::task::spawn_blocking(move || telemetry.shutdown()).await?;
        migrated
    })
}

fn openapi() -> anyhow::Result<()> {
    println!(
        "{}",
        hookflow_config_api::openapi::document().to_pretty_json()?
    );
    Ok(())
}

/// Exit 0 when `/livez` answers 200; for container health checks, so no client library.
fn healthcheck() -> anyhow::Result<()> {
    let port = config()?.listen_addr().context("HOOKFLOW_LISTEN")?.port();
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let timeout = Duration::from_secs(3);
    let mut stream = TcpStream::connect_timeout(&address, timeout)?;
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
