//! Requests ingress refuses or accepts on its own: docs/webhooks.md status rows and `$context`.

use base64::Engine;
use serde_json::{Value, json};

use std::sync::Arc;

use crate::{
    harness::{Harness, LateConfirms, definition, json_of},
    refusals,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn async_call_is_queued_then_answered_ok_with_the_parsed_context() {
    let harness = Harness::start().await;
    harness.put(definition(
        "abc123def45",
        false,
        json!({"request": {"headers": [
            {"key": "X-Request-Id"}, {"key": "Authorization"}, {"key": "Proxy-Authorization"}
        ]}}),
    ));
    let response = harness
        .http
        .post(format!(
            "{}?a[b]=1&list[]=x&list[]=y",
            harness.webhook("abc123def45")
        ))
        .header("X-Request-Id", "req-9")
        .header("X-Ignored", "nope")
        .header("Authorization", "Bearer secret")
        .header("Proxy-Authorization", "Basic cHJveHk6c2VjcmV0")
        .json(&json!({"id": 42, "status": "paid"}))
        .send()
        .await
        .expect("call");
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/plain; charset=utf-8"
    );
    assert_eq!(response.text().await.expect("text"), "ok");

    let executions = harness.executions();
    assert_eq!(executions.len(), 1);
    let (sync, outgoing, message) = &executions[0];
    assert!(!sync);
    assert_eq!(message.workflow_key, "abc123def45");
    assert_eq!(
        outgoing.message_id.as_deref(),
        Some(message.execution_id.to_string().as_str())
    );
    assert_eq!(message.execution_id.get_version_num(), 7);
    assert_eq!(
        message.context,
        json!({
            "headers": {"x-request-id": "req-9"},
            "query": {"a": {"b": "1"}, "list": ["x", "y"]},
            "body": {"id": 42, "status": "paid"},
        })
    );
}

#[tokio::test]
async fn async_answer_uses_the_configured_status_headers_and_json_body() {
    let harness = Harness::start().await;
    harness.put(definition(
        "custom00001",
        false,
        json!({"response": {"statusCode": 202, "headers": [{"name": "X-Ack", "value": "1"}],
                            "body": {"received": true}}}),
    ));
    let response = harness
        .http
        .post(harness.webhook("custom00001"))
        .send()
        .await
        .expect("call");
    assert_eq!(response.status(), 202);
    assert_eq!(response.headers()["x-ack"], "1");
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(json_of(response).await, json!({"received": true}));
}

#[tokio::test]
async fn other_methods_get_405_with_allow_post() {
    let harness = Harness::start().await;
    refusals::assert_only_post_is_allowed(&harness.http, &harness.webhook("unknownkey1")).await;
}

#[tokio::test]
async fn unknown_disabled_and_malformed_keys_are_404() {
    let harness = Harness::start().await;
    let mut disabled = definition("disabled001", false, json!({}));
    disabled.enabled = false;
    harness.put(disabled);
    for key in ["unknownkey1", "disabled001", "NOT-A-KEY"] {
        let response = harness
            .http
            .post(harness.webhook(key))
            .json(&json!({}))
            .send()
            .await
            .expect("call");
        assert_eq!(response.status(), 404, "{key}");
        assert_eq!(json_of(response).await["error"], "not_found");
    }
    assert!(harness.executions().is_empty());
    assert_eq!(
        harness.config_api.definitions.fetches(),
        2,
        "a malformed key is refused without asking config-api"
    );
}

#[tokio::test]
async fn basic_auth_refuses_missing_and_wrong_credentials() {
    let harness = Harness::start().await;
    harness.put(definition(
        "guarded0001",
        false,
        json!({"basicAuthentication": {"username": "shop", "password": "s3cret"}}),
    ));
    let url = harness.webhook("guarded0001");
    refusals::assert_wrong_credentials_are_refused(&harness.http, &url, "shop", "s3cret").await;
    assert!(harness.executions().is_empty());
    let right = harness
        .http
        .post(&url)
        .basic_auth("shop", Some("s3cret"))
        .send()
        .await
        .expect("call");
    assert_eq!(right.status(), 200);
    let context = &harness.executions()[0].2.context;
    assert!(!context.to_string().contains("s3cret"));
}

#[tokio::test]
async fn bodies_over_the_limit_are_413_declared_or_streamed() {
    let harness = Harness::start_with(|config| config.max_body_bytes = 64).await;
    harness.put(definition("limited0001", false, json!({})));
    let declared = harness
        .http
        .post(harness.webhook("limited0001"))
        .header("content-type", "application/json")
        .body(format!("\"{}\"", "x".repeat(100)))
        .send()
        .await
        .expect("call");
    assert_eq!(declared.status(), 413);
    assert_eq!(json_of(declared).await["error"], "payload_too_large");

    // Chunked: no Content-Length, so only counting while reading catches it.
    let chunk = "x".repeat(40);
    let request = format!(
        "POST /api/webhook:trigger/limited0001 HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n\
         28\r\n{chunk}\r\n28\r\n{chunk}\r\n0\r\n\r\n"
    );
    let addr = harness.url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");

    let small = harness
        .http
        .post(harness.webhook("limited0001"))
        .header("content-type", "text/plain")
        .body("x".repeat(64))
        .send()
        .await
        .expect("call");
    assert_eq!(small.status(), 200);
    assert_eq!(harness.executions().len(), 1);
}

#[tokio::test]
async fn unsupported_content_type_is_415_and_unparseable_bodies_400() {
    let harness = Harness::start().await;
    harness.put(definition("parsing0001", false, json!({})));
    refusals::assert_unparseable_bodies_are_refused(&harness.http, &harness.webhook("parsing0001"))
        .await;
    assert!(harness.executions().is_empty());
}

/// docs/webhooks.md "Content types": JSON and any `application/*+json`, qs-style forms, XML and
/// plain text kept in `$context.raw`, and an empty body as `{}` whatever its type.
#[tokio::test]
async fn every_supported_content_type_is_parsed_as_documented() {
    let harness = Harness::start().await;
    harness.put(definition("formats0001", false, json!({})));
    let url = harness.webhook("formats0001");
    let xml = "<order id=\"1\"/>";
    let cases: [(&str, &str, Value, Option<&str>); 13] = [
        (
            "application/x-www-form-urlencoded",
            "a[b]=1&c=x+y&l[]=1&l[]=2",
            json!({"a": {"b": "1"}, "c": "x y", "l": ["1", "2"]}),
            None,
        ),
        ("text/xml", xml, json!(xml), Some(xml)),
        ("application/xml; charset=utf-8", xml, json!(xml), Some(xml)),
        ("text/plain", "hello", json!("hello"), Some("hello")),
        ("", "{\"n\": 1}", json!({"n": 1}), None),
        (
            "application/json; charset=utf-8",
            "[1, 2]",
            json!([1, 2]),
            None,
        ),
        (
            "application/vnd.github+json",
            "{\"action\": \"opened\"}",
            json!({"action": "opened"}),
            None,
        ),
        (
            "application/cloudevents+json; charset=utf-8",
            "{\"type\": \"order.paid\"}",
            json!({"type": "order.paid"}),
            None,
        ),
        ("application/json", "", json!({}), None),
        ("", "", json!({}), None),
        ("application/x-www-form-urlencoded", "", json!({}), None),
        ("text/plain", "", json!({}), None),
        ("application/xml", "", json!({}), None),
    ];
    for (content_type, body, _, _) in &cases {
        let mut request = harness.http.post(&url).body(*body);
        if !content_type.is_empty() {
            request = request.header("content-type", *content_type);
        }
        let response = request.send().await.expect("call");
        assert_eq!(response.status(), 200, "{content_type} {body:?}");
    }
    let executions = harness.executions();
    assert_eq!(executions.len(), cases.len());
    for ((content_type, sent, body, raw), (_, _, message)) in cases.iter().zip(executions) {
        let context = &message.context;
        assert_eq!(&context["body"], body, "{content_type} {sent:?}");
        assert_eq!(
            context.get("raw").and_then(Value::as_str),
            *raw,
            "{content_type} {sent:?}"
        );
    }
}

/// docs/webhooks.md: the whole query string parsed like Node's `qs`, brackets written plainly or
/// percent-encoded.
#[tokio::test]
async fn query_strings_are_parsed_qs_style() {
    let harness = Harness::start().await;
    harness.put(definition("querying001", false, json!({})));
    let response = harness
        .http
        .post(format!(
            "{}?a[b][c]=1&l[]=1&l[]=2&o[0][x]=1&query[0][a]=1&b=2&e%5Bf%5D=3&s=x+y%21",
            harness.webhook("querying001")
        ))
        .send()
        .await
        .expect("call");
    assert_eq!(response.status(), 200);
    assert_eq!(
        harness.executions()[0].2.context["query"],
        json!({
            "a": {"b": {"c": "1"}},
            "l": ["1", "2"],
            "o": [{"x": "1"}],
            "query": [{"a": "1"}],
            "b": "2",
            "e": {"f": "3"},
            "s": "x y!",
        })
    );
}

#[tokio::test]
async fn broker_down_is_503_with_retry_after_and_nothing_accepted() {
    let harness = Harness::start().await;
    harness.put(definition("brokerdown1", false, json!({})));
    harness.broker.set_ready(false);
    let response = harness
        .http
        .post(harness.webhook("brokerdown1"))
        .send()
        .await
        .expect("call");
    assert_eq!(response.status(), 503);
    assert!(response.headers().contains_key("retry-after"));
    let body = json_of(response).await;
    assert_eq!(body["error"], "unavailable");
    assert!(
        !body["message"]
            .as_str()
            .expect("message")
            .contains("broker is down")
    );
    assert!(harness.executions().is_empty());
}

#[tokio::test]
async fn a_late_confirm_is_503_with_retry_after_and_counted_as_a_timeout() {
    let harness = Harness::start_over(|memory| Arc::new(LateConfirms(memory)), |_| {}).await;
    harness.put(definition("lateconfirm", false, json!({})));
    let response = harness
        .http
        .post(harness.webhook("lateconfirm"))
        .json(&json!({"n": 1}))
        .send()
        .await
        .expect("call");
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["retry-after"], "1");
    assert!(!response.headers().contains_key("x-hookflow-execution-id"));
    let body = json_of(response).await;
    assert_eq!(body["error"], "unavailable");
    assert!(!body.to_string().contains("confirm"), "{body}");
    assert!(harness.executions().is_empty());

    let metrics = harness.metrics().await;
    assert!(
        metrics.lines().any(|line| {
            line.starts_with("hookflow_publish_confirm_seconds_count{")
                && line.contains(r#"queue="async""#)
                && line.contains(r#"outcome="timeout""#)
        }),
        "{metrics}"
    );
}

#[tokio::test]
async fn config_api_unreachable_is_503() {
    let harness = Harness::start_with(|config| {
        config.config_api_url = "http://127.0.0.1:9".parse().expect("url")
    })
    .await;
    let response = harness
        .http
        .post(harness.webhook("anykey00001"))
        .send()
        .await
        .expect("call");
    assert_eq!(response.status(), 503);
    assert!(response.headers().contains_key("retry-after"));
    let body = json_of(response).await;
    assert_eq!(body["error"], "unavailable");
    // docs/webhooks.md: internal details never reach the caller.
    let message = body["message"].as_str().expect("message");
    for internal in ["127.0.0.1", ":9", "config-api", "connect", "error sending"] {
        assert!(!message.contains(internal), "{internal}: {body}");
    }
}

#[tokio::test]
async fn basic_credentials_are_checked_before_the_body() {
    let harness = Harness::start_with(|config| config.max_body_bytes = 8).await;
    harness.put(definition(
        "ordering001",
        false,
        json!({"basicAuthentication": {"username": "u", "password": "p"}}),
    ));
    let encoded = base64::engine::general_purpose::STANDARD.encode("u:p");
    let unauthenticated = harness
        .http
        .post(harness.webhook("ordering001"))
        .header("content-type", "image/png")
        .body("far too large a body")
        .send()
        .await
        .expect("call");
    assert_eq!(unauthenticated.status(), 401);
    let too_large = harness
        .http
        .post(harness.webhook("ordering001"))
        .header("authorization", format!("Basic {encoded}"))
        .header("content-type", "image/png")
        .body("far too large a body")
        .send()
        .await
        .expect("call");
    assert_eq!(too_large.status(), 413);
    let unsupported = harness
        .http
        .post(harness.webhook("ordering001"))
        .header("authorization", format!("Basic {encoded}"))
        .header("content-type", "image/png")
        .body("{")
        .send()
        .await
        .expect("call");
    assert_eq!(unsupported.status(), 415);
}

#[tokio::test]
async fn shutdown_returns_cleanly() {
    let harness = Harness::start().await;
    harness.stop().await.expect("clean stop");
}

#[tokio::test]
async fn every_answer_says_nosniff() {
    let harness = Harness::start().await;
    harness.put(definition(
        "nosniff0001",
        false,
        json!({"response": {"statusCode": 200, "body": "<b>hi</b>",
                            "headers": [{"name": "Content-Type", "value": "text/html"}]}}),
    ));
    let webhook = harness.webhook("nosniff0001");
    let answers = [
        harness.http.post(&webhook).send().await.expect("accepted"),
        harness.http.get(&webhook).send().await.expect("405"),
        harness
            .http
            .post(harness.webhook("unknown0001"))
            .send()
            .await
            .expect("404"),
        harness
            .http
            .get(webhook.replace("/api/webhook:trigger/nosniff0001", "/livez"))
            .send()
            .await
            .expect("livez"),
    ];
    for answer in answers {
        assert_eq!(
            answer
                .headers()
                .get("x-content-type-options")
                .map(|v| v.as_bytes()),
            Some(&b"nosniff"[..]),
            "{} {}",
            answer.status(),
            answer.url()
        );
    }
}
