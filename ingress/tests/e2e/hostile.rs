//! Hostile input through the real stack: whatever ingress accepts, the executor reads and
//! records under the caller's workflow; what it cannot hold is refused up front.

use serde_json::{Value, json};

use crate::common::{Stack, json_of};

fn async_workflow() -> Value {
    json!({"title": "hostile", "trigger": {"type": "webhook"}, "nodes": []})
}

fn nested(depth: usize) -> String {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
}

async fn post(stack: &Stack, url: &str, body: String) -> reqwest::Response {
    stack
        .http
        .post(url)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("call")
}

#[tokio::test]
async fn a_body_at_the_depth_limit_is_recorded_and_one_past_it_is_refused() {
    let stack = Stack::start().await;
    let limit = stack.ingress_config().max_body_depth;
    let workflow = stack.create_workflow(async_workflow()).await;
    let url = stack.webhook(&workflow.key);

    // Deep enough to pass serde_json's own limit, not the message around it: once accepted
    // with 200 and then unreadable by the executor.
    for depth in [limit + 1, 126, 127] {
        let refused = post(&stack, &url, nested(depth)).await;
        assert_eq!(refused.status(), 400, "depth {depth}");
        let body = json_of(refused).await;
        assert_eq!(body["error"], "invalid_body");
        assert_eq!(
            body["message"],
            format!("The request body nests deeper than {limit} levels.")
        );
    }

    let accepted = post(&stack, &url, nested(limit)).await;
    assert_eq!(accepted.status(), 200);
    let executions = stack.finished_executions(&workflow, 1).await;
    assert_eq!(executions[0]["status"], "resolved", "{executions:?}");
    let recorded = stack
        .execution(executions[0]["id"].as_str().expect("id"))
        .await;
    assert_eq!(
        serde_json::to_string(&recorded["context"]["body"]).expect("encode"),
        nested(limit)
    );
}

#[tokio::test]
async fn a_million_element_array_is_refused_with_413_naming_the_limit() {
    let stack = Stack::start().await;
    let limit = stack.ingress_config().max_body_values;
    let workflow = stack.create_workflow(async_workflow()).await;
    let url = stack.webhook(&workflow.key);
    let zeros = format!("[{}]", vec!["0"; 1_000_000].join(","));
    let refused = post(&stack, &url, zeros).await;
    assert_eq!(refused.status(), 413);
    let body = json_of(refused).await;
    assert_eq!(body["error"], "payload_too_large");
    assert_eq!(
        body["message"],
        format!("The request body holds more than {limit} values.")
    );

    let form = vec!["a[]=1"; limit + 1].join("&");
    let refused = stack
        .http
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .expect("call");
    assert_eq!(refused.status(), 413);
    assert!(stack.executions(&workflow).await.is_empty());
}
