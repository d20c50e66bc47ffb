//! The request node's Idempotency-Key under fire: an executor process killed with SIGKILL
//! while its request node waits for an answer; the restarted executor runs the execution
//! again and its call carries the same key, so an API honouring it applies the call once.
//!
//! It kills only the executor child process it started itself and never stops PostgreSQL
//! or RabbitMQ; it is `test = false` like every `chaos*.rs` target and `scripts/test` runs
//! it in its chaos phase with
//! `cargo test -p hookflow-executor --test chaos_request -- --test-threads=1`.

#[path = "chaos_support/child.rs"]
#[allow(dead_code)] // `start` serves chaos.rs
mod child;
mod support;

use std::time::Duration;

use child::ExecutorProcess;
use serde_json::json;
use shared::{
    broker::{AmqpBroker, Broker},
    config::Service,
};
use support::{WAIT, outside_api::OutsideApi};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_redelivered_after_a_kill_9_carries_the_same_idempotency_key() {
    let api = OutsideApi::start().await;
    let env = support::migrated_env().await;
    let config = env.config(Service::Executor);
    let pool = env.pool();
    let workflow = support::insert_workflow(
        &pool,
        &json!({"title": "t", "sync": false, "trigger": {}, "nodes": [
            // The first call is answered only after 60 s: the executor is killed before.
            {"key": "notify", "type": "request",
             "config": {"url": format!("{}/hold-once", api.url), "timeout": 60000,
                        "data": {"order": "{{$context.body.id}}"}}},
        ]}),
    )
    .await;
    let allow = [("HOOKFLOW_REQUEST_ALLOWED_NETWORKS", "127.0.0.1/32")];
    let executor = ExecutorProcess::start_with(&config, "request-first", &allow).await;

    let broker = AmqpBroker::start(&config);
    assert!(broker.wait_ready(WAIT).await, "test broker did not connect");
    let message = support::message(workflow, false, json!({"body": {"id": 7}}));
    support::publish_execution(&broker, &message).await;

    let first = api.wait_for(1, Duration::from_secs(20)).await;
    assert_eq!(first.len(), 1, "the request node never called");
    executor.kill_9();

    let _restarted = ExecutorProcess::start_with(&config, "request-restarted", &allow).await;
    let calls = api.wait_for(2, Duration::from_secs(60)).await;
    assert_eq!(
        calls.len(),
        2,
        "the execution was not run again after the kill"
    );
    let key = format!("{}:notify", message.execution_id);
    for call in &calls {
        assert_eq!(call.headers["idempotency-key"], key);
        assert_eq!(call.body, r#"{"order":7}"#);
    }

    // The redelivered run is the one recorded, once.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let client = pool.get().await.expect("db");
    loop {
        let row = client
            .query_opt(
                "SELECT status, finished_at IS NOT NULL FROM executions WHERE id = $1",
                &[&message.execution_id],
            )
            .await
            .expect("select execution");
        if let Some(row) = row
            && row.get::<_, bool>(1)
        {
            assert_eq!(row.get::<_, String>(0), "resolved");
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "never recorded");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let jobs = client
        .query(
            "SELECT status, result FROM jobs WHERE execution_id = $1",
            &[&message.execution_id],
        )
        .await
        .expect("select jobs");
    assert_eq!(jobs.len(), 1);
    let result: serde_json::Value = jobs[0].get(1);
    assert_eq!(result["data"], json!({"call": 2}));
    broker.close().await;
}
