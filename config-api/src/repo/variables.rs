//! The `$env` variables. A secret's value is stored sealed; the plain text never leaves
//! this service through the admin API (the executor opens it with the same keys).

use chrono::{DateTime, Utc};
use deadpool_postgres::Pool;
use tokio_postgres::{Row, error::SqlState};

use crate::error::ApiError;
use crate::secrets::Secrets;

/// One stored variable.
#[derive(Debug, Clone)]
pub struct Variable {
    /// `[A-Za-z_][A-Za-z0-9_]*`.
    pub name: String,
    /// The value as stored: sealed when `secret`.
    pub value: String,
    /// Whether the value is write-only.
    pub secret: bool,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "name, value, secret, created_at, updated_at";

/// Up to `limit + 1` variables after `after`, by name.
pub async fn list(pool: &Pool, after: Option<&str>, limit: u32) -> Result<Vec<Variable>, ApiError> {
    let client = pool.get().await?;
    let sql = format!(
        "SELECT {COLUMNS} FROM variables WHERE ($1::text IS NULL OR name > $1) \
         ORDER BY name LIMIT $2"
    );
    let rows = client
        .query(&sql, &[&after, &(i64::from(limit) + 1)])
        .await?;
    rows.iter().map(variable).collect()
}

/// The variable called `name`.
pub async fn get(pool: &Pool, name: &str) -> Result<Option<Variable>, ApiError> {
    let client = pool.get().await?;
    let sql = format!("SELECT {COLUMNS} FROM variables WHERE name = $1");
    let row = client.query_opt(&sql, &[&name]).await?;
    row.as_ref().map(variable).transpose()
}

/// Stores a new variable; `409` when the name is taken.
pub async fn create(
    pool: &Pool,
    name: &str,
    stored_value: &str,
    secret: bool,
) -> Result<Variable, ApiError> {
    let client = pool.get().await?;
    let sql = format!(
        "INSERT INTO variables (name, value, secret) VALUES ($1, $2, $3) RETURNING {COLUMNS}"
    );
    match client
        .query_one(&sql, &[&name, &stored_value, &secret])
        .await
    {
        Ok(row) => variable(&row),
        Err(err) if err.code() == Some(&SqlState::UNIQUE_VIOLATION) => Err(ApiError::Conflict {
            code: "variable_exists",
            message: format!(
                "a variable named {name} exists already; PUT /api/variables/{name} changes it"
            ),
        }),
        Err(err) => Err(err.into()),
    }
}

/// Replaces the variable called `name` with what `prepare` makes of the stored one
/// (`(stored value, secret)`), under a row lock; `None` when there is no such variable.
pub async fn update<F>(pool: &Pool, name: &str, prepare: F) -> Result<Option<Variable>, ApiError>
where
    F: FnOnce(&Variable) -> Result<(String, bool), ApiError>,
{
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    let sql = format!("SELECT {COLUMNS} FROM variables WHERE name = $1 FOR UPDATE");
    let Some(row) = tx.query_opt(&sql, &[&name]).await? else {
        return Ok(None);
    };
    let (value, secret) = prepare(&variable(&row)?)?;
    let sql = format!(
        "UPDATE variables SET value = $2, secret = $3, updated_at = now() WHERE name = $1 \
         RETURNING {COLUMNS}"
    );
    let row = tx.query_one(&sql, &[&name, &value, &secret]).await?;
    tx.commit().await?;
    Ok(Some(variable(&row)?))
}

/// Removes the variable called `name`; `false` when there was none.
pub async fn delete(pool: &Pool, name: &str) -> Result<bool, ApiError> {
    let client = pool.get().await?;
    let removed = client
        .execute("DELETE FROM variables WHERE name = $1", &[&name])
        .await?;
    Ok(removed > 0)
}

/// Seals every secret variable not sealed with the current key (see
/// `workflows::reseal_versions`); returns how many were rewritten.
pub async fn reseal(pool: &Pool, secrets: &Secrets) -> Result<usize, ApiError> {
    let client = pool.get().await?;
    let rows = client
        .query("SELECT name, value FROM variables WHERE secret", &[])
        .await?;
    let mut rewritten = 0;
    for row in &rows {
        let name: String = row.try_get("name")?;
        let stored: String = row.try_get("value")?;
        let sealed = match secrets.seal(&stored) {
            Ok(sealed) => sealed,
            Err(err) => {
                tracing::warn!(variable = %name, error = %err, "cannot re-seal a secret variable");
                continue;
            }
        };
        if sealed == stored {
            continue;
        }
        client
            .execute(
                "UPDATE variables SET value = $2 WHERE name = $1 AND value = $3",
                &[&name, &sealed, &stored],
            )
            .await?;
        rewritten += 1;
    }
    Ok(rewritten)
}

fn variable(row: &Row) -> Result<Variable, ApiError> {
    Ok(Variable {
        name: row.try_get("name")?,
        value: row.try_get("value")?,
        secret: row.try_get("secret")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}
