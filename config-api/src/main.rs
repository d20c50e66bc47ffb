//! `config-api`: serve (default), `migrate`, `healthcheck`, `openapi`.

use futures_util::{FutureExt, future::BoxFuture};
use shared::config::{Config, Service};

/// The subcommands only config-api has.
#[derive(clap::Subcommand)]
enum Other {
    /// Apply pending migrations (waiting for the database to be reachable) and exit
    Migrate,
    /// Print the OpenAPI document of the REST API
    Openapi,
}

fn main() -> std::process::ExitCode {
    shared::cli::main(Service::ConfigApi, hookflow_config_api::run, run)
}

fn run(command: Other, config: Config) -> BoxFuture<'static, anyhow::Result<()>> {
    match command {
        Other::Migrate => migrate(config).boxed(),
        Other::Openapi => openapi().boxed(),
    }
}

/// Applies pending migrations (waiting for the database to be reachable) and exits.
async fn migrate(config: Config) -> anyhow::Result<()> {
    let pool = shared::db::pool(&config.database_url, 1, &config.tls_ca)?;
    hookflow_config_api::migrate_when_reachable(&pool).await?;
    tracing::info!("migrations applied");
    Ok(())
}

/// Prints the OpenAPI document.
async fn openapi() -> anyhow::Result<()> {
    println!(
        "{}",
        hookflow_config_api::openapi::document().to_pretty_json()?
    );
    Ok(())
}
