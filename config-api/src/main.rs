//! `config-api`: serve (default), `migrate`, `healthcheck`, `openapi`.

use futures_util::FutureExt;
use shared::{
    cli::Command,
    config::{Config, Service},
};

fn main() -> anyhow::Result<()> {
    shared::cli::main(
        Service::ConfigApi,
        hookflow_config_api::run,
        &[
            Command {
                name: "migrate",
                run: |config| migrate(config).boxed(),
            },
            Command {
                name: "openapi",
                run: |_| openapi().boxed(),
            },
        ],
    )
}

/// Applies pending migrations (waiting for the database to be reachable) and exits.
async fn migrate(config: Config) -> anyhow::Result<()> {
    let pool = shared::db::pool(&config.database_url, 1)?;
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
