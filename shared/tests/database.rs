//! The PostgreSQL pool against the real server.

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
