//! PostgreSQL plumbing: the connection pool. The schema and its migrations belong to
//! config-api (`config-api/migrations`).
//!
//! TLS follows the URL's `sslmode` as libpq does: `disable` never, `prefer` (the default)
//! when the server offers it, `require` always; neither checks the server's certificate.
//! `verify-ca` also checks that a trusted root signed it, `verify-full` also that it is for
//! the URL's host. Trusted roots: the system's plus `HOOKFLOW_TLS_CA_FILE`.

use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::tls::{self, ExtraRoots, Verify};

/// Database errors.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The URL does not parse.
    #[error("invalid database url: {}", crate::causes::text(.0))]
    Url(#[from] tokio_postgres::Error),
    /// The URL asks for certificate checks that cannot be made.
    #[error("database url: {0}")]
    Tls(#[from] tls::TlsError),
    /// The pool could not be built or could not hand out a connection.
    #[error("database pool: {0}")]
    Pool(String),
}

/// How long opening a connection (TCP, TLS, authentication) or checking an idle one before
/// reuse may take: a server that is unreachable without refusing would otherwise hold the
/// caller until the kernel gives up on the connection.
const CONNECTION_TIMEOUT: Duration = Duration::from_secs(5);

/// The server setting that plans each statement for its own parameters and the tables'
/// current size rather than reusing a generic plan.
const CUSTOM_PLANS: &str = "-c plan_cache_mode=force_custom_plan";

/// How long a readiness check waits for a connection and for `SELECT 1`.
const READINESS_TIMEOUT: Duration = Duration::from_secs(3);

/// Builds a pool for `url` holding at most `size` connections, with TLS as the URL's
/// `sslmode` asks, trusting the system's roots and `extra`. No connection is made yet.
pub fn pool(url: &str, size: usize, extra: &ExtraRoots) -> Result<Pool, DbError> {
    let (url, verify) = ssl_checks(url);
    let mut pg: tokio_postgres::Config = url.parse()?;
    // Every statement is planned for the tables as they are when it runs. A plan cached by
    // a long-lived connection is made once, from the statistics of that moment: one made
    // while `executions` was nearly empty scans the whole table for each lookup of an id,
    // and keeps doing so until the table is analyzed — never, where autovacuum is off
    // (measured: lookups 0.4 → 5–15 ms after 100,000 executions).
    let options = match pg.get_options() {
        Some(given) => format!("{given} {CUSTOM_PLANS}"),
        None => CUSTOM_PLANS.to_owned(),
    };
    pg.options(&options);
    let tls = MakeRustlsConnect::new(tls::client_config(extra, verify)?);
    let manager = Manager::from_config(
        pg,
        tls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Pool::builder(manager)
        .max_size(size)
        .runtime(deadpool_postgres::Runtime::Tokio1)
        .create_timeout(Some(CONNECTION_TIMEOUT))
        .recycle_timeout(Some(CONNECTION_TIMEOUT))
        .build()
        .map_err(|e| DbError::Pool(e.to_string()))
}

/// The certificate checks `url`'s `sslmode` asks for, and the URL as tokio-postgres reads
/// it: it knows `disable`, `prefer` and `require`, so `verify-ca` and `verify-full` become
/// `require` (TLS or no connection) with the checks made by the TLS configuration.
fn ssl_checks(url: &str) -> (String, Verify) {
    for (mode, verify) in [("verify-full", Verify::Full), ("verify-ca", Verify::Chain)] {
        let option = format!("sslmode={mode}");
        // In a URL the option follows `?` or `&`; in `key=value` form, a space.
        let found = url.match_indices(&option).find(|(at, _)| {
            let before = url[..*at].chars().next_back();
            let after = url[at + option.len()..].chars().next();
            matches!(before, None | Some('?' | '&' | ' ' | '\t'))
                && matches!(after, None | Some('&' | ' ' | '\t'))
        });
        if let Some((at, _)) = found {
            let url = format!("{}sslmode=require{}", &url[..at], &url[at + option.len()..]);
            return (url, verify);
        }
    }
    (url.to_owned(), Verify::Nothing)
}

/// Whether a connection can be had and answers within [`READINESS_TIMEOUT`]; when not,
/// says why in the log.
pub async fn is_usable(pool: &Pool) -> bool {
    let check = async {
        let client = pool.get().await.map_err(|err| {
            tracing::warn!(error = %crate::causes::text(&err), "no database connection");
        })?;
        client.simple_query("SELECT 1").await.map_err(|err| {
            tracing::warn!(error = %crate::causes::text(&err), "the database does not answer");
        })
    };
    match tokio::time::timeout(READINESS_TIMEOUT, check).await {
        Ok(answer) => answer.is_ok(),
        Err(_) => {
            tracing::warn!(timeout = ?READINESS_TIMEOUT, "the database did not answer in time");
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verify_modes_become_require_with_their_checks() {
        let cases = [
            (
                "postgres://u@db:5432/h?sslmode=verify-full",
                "postgres://u@db:5432/h?sslmode=require",
                Verify::Full,
            ),
            (
                "postgres://u@db/h?application_name=x&sslmode=verify-ca&connect_timeout=3",
                "postgres://u@db/h?application_name=x&sslmode=require&connect_timeout=3",
                Verify::Chain,
            ),
            (
                "host=db user=u sslmode=verify-full dbname=h",
                "host=db user=u sslmode=require dbname=h",
                Verify::Full,
            ),
            (
                "postgres://u@db/h?sslmode=require",
                "postgres://u@db/h?sslmode=require",
                Verify::Nothing,
            ),
            ("postgres://u@db/h", "postgres://u@db/h", Verify::Nothing),
            // Not an option of its own: left for tokio-postgres to refuse.
            (
                "postgres://u@db/h?xsslmode=verify-full",
                "postgres://u@db/h?xsslmode=verify-full",
                Verify::Nothing,
            ),
        ];
        for (url, read_as, verify) in cases {
            assert_eq!(ssl_checks(url), (read_as.to_owned(), verify), "{url}");
        }
    }

    #[test]
    fn an_unknown_sslmode_is_refused_naming_it() {
        let err = pool(
            "postgres://u@db/h?sslmode=verify-everything",
            1,
            &ExtraRoots::default(),
        )
        .expect_err("unknown sslmode");
        assert!(err.to_string().contains("sslmode"), "{err}");
    }
}
