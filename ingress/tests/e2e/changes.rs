//! Workflow changes reaching ingress within a second, and async calls being recorded.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use shared::broker::Topology;
use shared::testkit::{remove_topology, start_service};

use crate::common::{Stack, webhook_on};

fn answering(text: &str) -> Value {
    json!({"title": "versioned", "trigger": {"type": "webhook", "response": {"body": text}}})
}

#[tokio::test]
async fn a_new_version_takes_effect_within_a_second() {
    let stack = Stack::start().await;
    let workflow = stack.create_workflow(answering("v1")).await;
    let first = stack.call(&workflow, json!({})).await;
    assert_eq!(first.text().await.expect("body"), "v1");

    let updated = stack.update_workflow(&workflow, answering("v2")).await;
    assert_eq!(updated["key"], workflow.key.as_str(), "the URL stays");
    stack
        .within_a_second(&workflow, |status, body| status == 200 && body == "v2")
        .await;
}

#[tokio::test]
async fn disabling_enabling_and_deleting_take_effect_within_a_second() {
    let stack = Stack::start().await;
    let workflow = stack.create_workflow(answering("on")).await;
    assert_eq!(stack.call(&workflow, json!({})).await.status(), 200);

    stack.disable_workflow(&workflow).await;
    stack
        .within_a_second(&workflow, |status, _| status == 404)
        .await;

    stack.enable_workflow(&workflow).await;
    stack
        .within_a_second(&workflow, |status, body| status == 200 && body == "on")
        .await;

    stack.delete_workflow(&workflow).await;
    stack
        .within_a_second(&workflow, |status, _| status == 404)
        .await;
}

#[tokio::test]
async fn every_accepted_async_call_is_recorded() {
    let stack = Stack::start().await;
    let workflow = stack
        .create_workflow(json!({
            "title": "recorded",
            "trigger": {"type": "webhook"},
            "nodes": [{"key": "double", "type": "calculation",
                       "config": {"engine": "cel", "expression": "context.body.n + context.body.n"}}],
        }))
        .await;
    for n in 1..=3 {
        let response = stack.call(&workflow, json!({"n": n})).await;
        assert_eq!(response.status(), 200);
    }
    let executions = stack.finished_executions(&workflow, 3).await;
    assert_eq!(executions.len(), 3, "{executions:?}");
    let mut seen: Vec<i64> = Vec::new();
    for listed in &executions {
        assert_eq!(listed["status"], "resolved", "{listed}");
        let id = listed["id"].as_str().expect("id");
        let execution = stack.execution(id).await;
        assert_eq!(execution["workflowId"], workflow.id.as_str());
        let n = execution["context"]["body"]["n"].as_i64().expect("n");
        let job = execution["jobs"]
            .as_array()
            .expect("jobs")
            .iter()
            .find(|job| job["nodeKey"] == "double")
            .cloned()
            .expect("the calculation ran");
        assert_eq!(job["status"], "resolved");
        assert_eq!(job["result"].as_f64(), Some((2 * n) as f64));
        seen.push(n);
    }
    seen.sort_unstable();
    assert_eq!(seen, vec![1, 2, 3]);
}

#[tokio::test]
async fn an_ingress_that_missed_the_change_event_stops_serving_a_disabled_workflow_within_its_max_age()
 {
    const MAX_AGE: Duration = Duration::from_millis(1500);
    let stack = Stack::start().await;
    let workflow = stack.create_workflow(answering("on")).await;
    // An ingress on a prefix of its own: config-api's change events never reach it.
    let deaf_topology = Topology::new(format!("{}-deaf", stack.env.prefix));
    let mut config = stack.ingress_config();
    config.amqp_prefix = deaf_topology.prefix.clone();
    config.trigger_cache_max_age_ms = MAX_AGE.as_millis() as u64;
    let deaf = start_service(hookflow_ingress::run, config).await;
    let call_deaf = || {
        stack
            .http
            .post(webhook_on(&deaf, &workflow.key))
            .json(&json!({}))
            .send()
    };
    assert_eq!(call_deaf().await.expect("ingress").status(), 200);

    stack.disable_workflow(&workflow).await;
    let disabled_at = Instant::now();
    stack
        .within_a_second(&workflow, |status, _| status == 404)
        .await;
    let still_cached = call_deaf().await.expect("ingress").status();
    assert_eq!(still_cached, 200, "the deaf ingress heard of the change");
    loop {
        let status = call_deaf().await.expect("ingress").status();
        if status == 404 {
            break;
        }
        assert_eq!(status, 200);
        assert!(
            disabled_at.elapsed() < MAX_AGE + Duration::from_secs(1),
            "a disabled workflow served past the max age"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    deaf.stop().await.expect("stop");
    remove_topology(&deaf_topology).await;
}
