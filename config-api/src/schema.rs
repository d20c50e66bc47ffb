//! The database schema, which config-api owns: the migrations under `migrations/`, applied
//! at start-up (and by the `migrate` subcommand) under an advisory lock.

use deadpool_postgres::Pool;

mod embedded {
    refinery::embed_migrations!("migrations");
}

/// Advisory-lock id that serialises migrations across config-api replicas ("hookflow").
const MIGRATION_LOCK_ID: i64 = 0x686f_6f6b_666c_6f77;

/// Why the schema could not be brought up to date.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    /// No connection could be had; retrying later may succeed.
    #[error("database pool: {0}")]
    Pool(String),
    /// Taking or releasing the advisory lock failed.
    #[error("database error: {0}")]
    Sql(#[from] tokio_postgres::Error),
    /// A migration failed.
    #[error("migration failed: {0}")]
    Migration(#[from] refinery::Error),
}

/// Runs pending migrations while holding a session advisory lock, so that replicas
/// starting together migrate once.
pub async fn migrate(pool: &Pool) -> Result<(), MigrateError> {
    let mut client = pool
        .get()
        .await
        .map_err(|e| MigrateError::Pool(shared::causes::text(&e)))?;
    client
        .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK_ID])
        .await?;
    let outcome = embedded::migrations::runner()
        .run_async(&mut **client)
        .await;
    client
        .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK_ID])
        .await?;
    outcome.map(|_| ()).map_err(MigrateError::from)
}
