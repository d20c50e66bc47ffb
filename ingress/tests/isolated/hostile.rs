//! Callers that try to hold ingress's memory: bodies that never finish arriving, and more
//! bodies at once than the buffered-bytes budget admits; and an ingress without a token of
//! its own.

use std::time::Duration;

use serde_json::json;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use crate::harness::{Harness, definition, json_of};

/// Sends a request head declaring `length` bytes and the first `sent` of them.
async fn start_body(harness: &Harness, key: &str, length: usize, sent: usize) -> TcpStream {
    let addr = harness.url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let head = format!(
        "POST /api/webhook:trigger/{key} HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n\
         Content-Length: {length}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.expect("head");
    stream
        .write_all("x".repeat(sent).as_bytes())
        .await
        .expect("body");
    stream
}

async fn answer_of(mut stream: TcpStream) -> String {
    let mut answer = String::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_string(&mut answer))
        .await
        .expect("ingress answers")
        .expect("read");
    answer
}

#[tokio::test]
async fn a_body_that_does_not_arrive_in_time_gets_408_and_nothing_is_queued() {
    let harness = Harness::start_with(|config| config.body_read_timeout_ms = 300).await;
    harness.put(definition("slowbody001", false, json!({})));
    let stalled = start_body(&harness, "slowbody001", 100, 10).await;
    let answer = answer_of(stalled).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains(r#""error":"body_timeout""#), "{answer}");
    assert!(
        answer.contains("not received within 300 ms; nothing was accepted"),
        "{answer}"
    );
    assert!(harness.executions().is_empty());
}

#[tokio::test]
async fn bodies_past_the_buffered_budget_get_503_until_the_bytes_are_given_back() {
    // A call holds its body, then also what it builds (a text body is kept twice: as
    // `body` and as `raw`) and the message it publishes: about four times its size here.
    let harness = Harness::start_with(|config| {
        config.max_buffered_bytes = 300 * 1024;
        config.body_read_timeout_ms = 5_000;
    })
    .await;
    harness.put(definition("budget00001", false, json!({})));
    let url = harness.webhook("budget00001");
    let post = |size: usize| {
        harness
            .http
            .post(&url)
            .header("content-type", "text/plain")
            .body("y".repeat(size))
            .send()
    };

    // One caller holds 50 KB of the 300 KiB and stalls; a call that would fit alone does not.
    let mut holding = start_body(&harness, "budget00001", 60_000, 50_000).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let refused = post(65_000).await.expect("call");
    assert_eq!(refused.status(), 503);
    assert_eq!(refused.headers()["retry-after"], "1");
    assert_eq!(json_of(refused).await["error"], "overloaded");

    // Once it finishes, its bytes are given back and others fit again.
    holding
        .write_all("x".repeat(10_000).as_bytes())
        .await
        .expect("rest");
    let answer = answer_of(holding).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let admitted = post(65_000).await.expect("call");
    assert_eq!(admitted.status(), 200);
    assert_eq!(harness.executions().len(), 2);
}

#[tokio::test]
async fn ingress_refuses_to_start_without_the_internal_token() {
    let mut config = shared::config::Config::defaults(shared::config::Service::Ingress);
    config.admin_token = Some("the admin token is not enough".into());
    config.internal_token = None;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let broker = shared::broker::MemoryBroker::new();
    let outcome = tokio::time::timeout(
        Duration::from_secs(10),
        hookflow_ingress::serve(
            config,
            listener,
            broker,
            tokio_util::sync::CancellationToken::new(),
        ),
    )
    .await
    .expect("serve returns at once");
    let error = outcome.expect_err("no internal token, no service");
    assert!(
        format!("{error:#}").contains("HOOKFLOW_INTERNAL_TOKEN"),
        "{error:#}"
    );
}

#[tokio::test]
async fn a_small_body_of_many_tiny_values_counts_what_it_builds_not_its_bytes() {
    let harness = Harness::start_with(|config| config.max_buffered_bytes = 100 * 1024).await;
    harness.put(definition("tinyvalues1", false, json!({})));
    let url = harness.webhook("tinyvalues1");
    let post = |count: usize| {
        harness
            .http
            .post(&url)
            .header("content-type", "application/json")
            .body(format!("[{}]", vec!["0"; count].join(",")))
            .send()
    };
    // 10 KB of text, but 5,000 values built: more than the 100 KiB budget.
    let refused = post(5_000).await.expect("call");
    assert_eq!(refused.status(), 503);
    assert_eq!(json_of(refused).await["error"], "overloaded");
    let admitted = post(500).await.expect("call");
    assert_eq!(admitted.status(), 200);
    assert_eq!(harness.executions().len(), 1);
}
