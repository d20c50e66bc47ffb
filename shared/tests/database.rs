//! The PostgreSQL pool against the real server.

use std::time::Duration;

use shared::{config::Service, db, testkit::TestEnv};

async fn setting(pool: &deadpool_postgres::Pool, name: &str) -> String {
    let client = pool.get().await.expect("a connection");
    let row = client
        .query_one(&format!("SHOW {name}"), &[])
        .await
        .expect("SHOW");
    row.get(0)
}

/// A long-lived connection must not keep using a plan made while a table was nearly empty
/// (a lookup by id that scans the whole table once it is large).
#[tokio::test]
async fn connections_plan_each_statement_anew_and_keep_the_urls_own_options() {
    let env = TestEnv::new().await;
    let url = env.config(Service::Executor).database_url;
    let pool = db::pool(&url, 1, &Default::default()).expect("pool");
    assert_eq!(setting(&pool, "plan_cache_mode").await, "force_custom_plan");

    let separator = if url.contains('?') { '&' } else { '?' };
    let with_options = format!("{url}{separator}options=-c%20statement_timeout%3D4321");
    let pool = db::pool(&with_options, 1, &Default::default()).expect("pool");
    assert_eq!(setting(&pool, "plan_cache_mode").await, "force_custom_plan");
    assert_eq!(setting(&pool, "statement_timeout").await, "4321ms");
}

/// A database that accepts connections and never answers makes readiness say "not ready"
/// (`/readyz` 503), rather than hold the check for as long as the kernel keeps trying.
#[tokio::test]
async fn readiness_of_a_database_that_never_answers_is_false_not_pending() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    let silent = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((connection, _)) = listener.accept().await {
            held.push(connection);
        }
    });
    let url = format!("postgres://postgres@{addr}/postgres?sslmode=disable");
    let pool = db::pool(&url, 1, &Default::default()).expect("pool");
    let usable = tokio::time::timeout(Duration::from_secs(20), db::is_usable(&pool)).await;
    assert_eq!(usable, Ok(false), "readiness answered, and not ready");
    silent.abort();
}
