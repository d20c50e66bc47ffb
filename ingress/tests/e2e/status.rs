//! Every status-code row of docs/webhooks.md's table, through the real stack.

use std::time::Duration;

use serde_json::json;

use crate::{
    common::{Stack, json_of, webhook_on},
    refusals,
};

fn async_workflow() -> serde_json::Value {
    json!({"title": "plain", "trigger": {"type": "webhook"}, "nodes": []})
}

#[tokio::test]
async fn refusals_follow_the_status_table() {
    let stack = Stack::start().await;
    let open = stack.create_workflow(async_workflow()).await;
    let url = stack.webhook(&open.key);

    refusals::assert_only_post_is_allowed(&stack.http, &url).await;

    let unknown = stack
        .http
        .post(stack.webhook("zzzzzzzzzzz"))
        .json(&json!({}))
        .send()
        .await
        .expect("call");
    assert_eq!(unknown.status(), 404);
    let body = json_of(unknown).await;
    assert!(
        body["error"].is_string() && body["message"].is_string(),
        "{body}"
    );

    let oversized = stack
        .http
        .post(&url)
        .header("content-type", "text/plain")
        .body(vec![b'x'; 2 * 1024 * 1024 + 1])
        .send()
        .await
        .expect("call");
    assert_eq!(oversized.status(), 413);

    refusals::assert_unparseable_bodies_are_refused(&stack.http, &url).await;

    assert!(
        stack.executions(&open).await.is_empty(),
        "refused calls start no execution"
    );
}

#[tokio::test]
async fn a_disabled_workflow_is_404() {
    let stack = Stack::start().await;
    let mut document = async_workflow();
    document["enabled"] = json!(false);
    let disabled = stack.create_workflow(document).await;
    let response = stack.call(&disabled, json!({})).await;
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn basic_auth_needs_the_right_credentials() {
    let stack = Stack::start().await;
    let guarded = stack
        .create_workflow(json!({
            "title": "guarded",
            "trigger": {"type": "webhook",
                        "basicAuthentication": {"username": "shop", "password": "s3cret"}},
        }))
        .await;
    let url = stack.webhook(&guarded.key);
    refusals::assert_wrong_credentials_are_refused(&stack.http, &url, "shop", "s3cret").await;
    let right = stack
        .http
        .post(&url)
        .basic_auth("shop", Some("s3cret"))
        .send()
        .await
        .expect("call");
    assert_eq!(right.status(), 200);
    assert_eq!(right.text().await.expect("body"), "ok");
}

#[tokio::test]
async fn an_unreachable_broker_is_503_with_retry_after() {
    let stack = Stack::start().await;
    let workflow = stack.create_workflow(async_workflow()).await;
    let closed_port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let cut_off = stack.extra_ingress(|config| {
        config.amqp_url = format!("amqp://guest:guest@127.0.0.1:{closed_port}/%2f");
    });
    let mut answered = None;
    for _ in 0..100 {
        if let Ok(response) = stack
            .http
            .post(webhook_on(&cut_off, &workflow.key))
            .send()
            .await
        {
            answered = Some(response);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let response = answered.expect("the cut-off ingress answers");
    assert_eq!(response.status(), 503);
    assert!(response.headers().contains_key("retry-after"));
    let body = json_of(response).await;
    assert_eq!(body["error"], "unavailable");
    let readyz = stack
        .http
        .get(format!("{}/readyz", cut_off.url))
        .send()
        .await
        .expect("readyz");
    assert_eq!(readyz.status(), 503);
    // Nothing was accepted, so nothing is recorded.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(stack.executions(&workflow).await.is_empty());
}

#[tokio::test]
async fn async_answers_are_the_configured_response() {
    let stack = Stack::start().await;
    let default = stack.create_workflow(async_workflow()).await;
    let response = stack.call(&default, json!({"n": 1})).await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("text/plain")
    );
    assert_eq!(response.text().await.expect("body"), "ok");

    let custom = stack
        .create_workflow(json!({
            "title": "custom answer",
            "trigger": {"type": "webhook", "response": {
                "statusCode": 202,
                "headers": [{"name": "X-Ack", "value": "1"}],
                "body": {"accepted": true}}},
        }))
        .await;
    let response = stack.call(&custom, json!({})).await;
    assert_eq!(response.status(), 202);
    assert_eq!(response.headers()["x-ack"], "1");
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(json_of(response).await, json!({"accepted": true}));
}

#[tokio::test]
async fn a_sync_response_node_sets_status_headers_and_body() {
    let stack = Stack::start().await;
    let workflow = stack
        .create_workflow(json!({
            "title": "created",
            "sync": true,
            "trigger": {"type": "webhook"},
            "nodes": [{"key": "answer", "type": "response", "config": {
                "statusCode": 201,
                "headers": [{"name": "X-Order", "value": "{{$context.body.id}}"}],
                "body": {"id": "{{$context.body.id}}", "note": "order {{$context.body.id}}"}}}],
        }))
        .await;
    let response = stack.call(&workflow, json!({"id": 77})).await;
    assert_eq!(response.status(), 201);
    assert_eq!(response.headers()["x-order"], "77");
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(
        json_of(response).await,
        json!({"id": 77, "note": "order 77"})
    );
}

#[tokio::test]
async fn a_text_response_body_is_sent_as_text_with_its_headers() {
    let stack = Stack::start().await;
    let workflow = stack
        .create_workflow(json!({
            "title": "text",
            "sync": true,
            "trigger": {"type": "webhook"},
            "nodes": [{"key": "answer", "type": "response", "config": {
                "statusCode": 200,
                "headers": [{"name": "X-Greeting", "value": "yes"}],
                "body": "hello {{$context.body.name}}"}}],
        }))
        .await;
    let response = stack.call(&workflow, json!({"name": "Ann"})).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-greeting"], "yes");
    assert!(
        response.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("text/plain")
    );
    assert_eq!(response.text().await.expect("body"), "hello Ann");
}
