//! PostgreSQL plumbing: the connection pool. The schema and its migrations belong to
//! config-api (`config-api/migrations`).

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::NoTls;

/// Database errors.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The URL does not parse.
    #[error("invalid database url: {0}")]
    Url(#[from] tokio_postgres::Error),
    /// The pool could not be built or could not hand out a connection.
    #[error("database pool: {0}")]
    Pool(String),
}

/// Builds a pool for `url` holding at most `size` connections. No connection is made yet.
pub fn pool(url: &str, size: usize) -> Result<Pool, DbError> {
    let pg: tokio_postgres::Config = url.parse()?;
    let manager = Manager::from_config(
        pg,
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Pool::builder(manager)
        .max_size(size)
        .runtime(deadpool_postgres::Runtime::Tokio1)
        .build()
        .map_err(|e| DbError::Pool(e.to_string()))
}

/// Whether a connection can be had and answers.
pub async fn is_usable(pool: &Pool) -> bool {
    match pool.get().await {
        Ok(client) => client.simple_query("SELECT 1").await.is_ok(),
        Err(_) => false,
    }
}
