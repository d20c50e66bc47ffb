//! The executor as a service: health, metrics and draining on shutdown.

mod support;

use serde_json::json;
use shared::testkit::http_status;
use support::Harness;

#[tokio::test]
async fn health_and_metrics_are_served() {
    let mut harness = Harness::start().await;
    assert_eq!(
        http_status(harness.executor.addr, "/livez").await,
        Some(200)
    );
    assert_eq!(
        http_status(harness.executor.addr, "/readyz").await,
        Some(200)
    );

    let workflow = harness
        .create_workflow(&json!({"title": "t", "sync": true, "trigger": {},
            "nodes": [{"key": "r", "type": "response", "config": {"statusCode": 201}}]}))
        .await;
    let message = support::message(workflow, true, json!({}));
    harness.publish(&message).await;
    harness.next_reply().await;
    // The reply comes before the record, which the executions counter counts.
    harness.finished(message.execution_id).await;

    let metrics = reqwest::get(format!("{}/metrics", harness.executor.url))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(
        metrics.contains("hookflow_executions_total{status=\"resolved\"}"),
        "{metrics}"
    );
    assert!(
        metrics.contains("hookflow_execution_duration_seconds"),
        "{metrics}"
    );
    assert!(
        metrics.contains("hookflow_node_duration_seconds_bucket{type=\"response\""),
        "{metrics}"
    );
}

#[tokio::test]
async fn shutdown_lets_a_running_execution_finish() {
    let harness = Harness::start().await;
    let workflow = harness
        .create_workflow(&json!({"title": "t", "sync": false, "trigger": {},
            "nodes": [{"key": "wait", "type": "delay", "config": {"duration": 1000}}]}))
        .await;
    let message = support::message(workflow, false, json!({}));
    harness.publish(&message).await;
    let deadline = tokio::time::Instant::now() + support::WAIT;
    while harness.execution(message.execution_id).await.is_none() {
        assert!(tokio::time::Instant::now() < deadline, "never started");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }

    let Harness {
        executor,
        env,
        pool,
        broker,
        replies,
    } = harness;
    executor.stop().await.expect("graceful stop");
    let client = pool.get().await.expect("db");
    let row = client
        .query_one(
            "SELECT status FROM executions WHERE id = $1",
            &[&message.execution_id],
        )
        .await
        .expect("select");
    assert_eq!(row.get::<_, String>(0), "resolved");
    drop((replies, broker, env));
}

#[test]
fn the_command_line_answers_help_and_version() {
    shared::testkit::assert_command_line(
        env!("CARGO_BIN_EXE_executor"),
        shared::config::Service::Executor,
        &[],
        env!("CARGO_PKG_VERSION"),
    );
}

/// Secret variables are sealed with config-api's key: an executor without it says so and
/// does not start.
#[tokio::test(flavor = "multi_thread")]
async fn refuses_to_start_without_the_secret_key() {
    let env = shared::testkit::TestEnv::new().await;
    let mut config = env.config(shared::config::Service::Executor);
    config.secret_key = None;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let outcome = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        hookflow_executor::run(config, listener, tokio_util::sync::CancellationToken::new()),
    )
    .await
    .expect("returns at once");
    let error = format!("{:#}", outcome.expect_err("refused"));
    assert!(error.contains("HOOKFLOW_SECRET_KEY"), "{error}");
}
