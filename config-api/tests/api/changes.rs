//! Change events for ingress, and the OpenAPI document.

use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use reqwest::StatusCode;
use serde_json::json;
use shared::broker::{AmqpBroker, Broker, Incoming, Source};
use shared::messages::{ChangeEvent, ChangeKind};

use crate::helpers::{TestApi, id_of, simple};

async fn next_event(
    events: &mut BoxStream<'static, Incoming>,
    wait: Duration,
) -> Option<ChangeEvent> {
    let incoming = tokio::time::timeout(wait, events.next()).await.ok()??;
    incoming.settle.ack().await.expect("ack");
    Some(serde_json::from_slice(&incoming.payload).expect("a ChangeEvent"))
}

#[tokio::test(flavor = "multi_thread")]
async fn committed_changes_are_published() {
    let api = TestApi::start().await;
    let broker = AmqpBroker::start(&api.config);
    assert!(broker.wait_ready(Duration::from_secs(10)).await);
    let mut events = broker.subscribe(Source::Changes).await.expect("subscribe");

    // The subscription binds its queue in the background: poke until it hears something.
    let probe = api.create(simple("probe")).await;
    let probe_id = id_of(&probe);
    let mut heard = false;
    for _ in 0..40 {
        api.post(&format!("/api/workflows/{probe_id}/enable"), json!({}))
            .await;
        if next_event(&mut events, Duration::from_millis(250))
            .await
            .is_some()
        {
            heard = true;
            break;
        }
    }
    assert!(heard, "no change event arrived");
    while next_event(&mut events, Duration::from_millis(300))
        .await
        .is_some()
    {}

    let created = api.create(simple("watched")).await;
    let id: uuid::Uuid = id_of(&created).parse().expect("uuid");
    let key = created["key"].as_str().expect("key").to_owned();
    api.post(&format!("/api/workflows/{id}/disable"), json!({}))
        .await;
    api.post(&format!("/api/workflows/{id}/enable"), json!({}))
        .await;
    api.put(&format!("/api/workflows/{id}"), simple("watched v2"))
        .await;
    let deleted = api.delete(&format!("/api/workflows/{id}")).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);

    let mut seen = Vec::new();
    while seen.len() < 5 {
        let event = next_event(&mut events, Duration::from_secs(5))
            .await
            .unwrap_or_else(|| panic!("missing events after {seen:?}"));
        assert_eq!(event.workflow_id, id);
        assert_eq!(event.key, key);
        seen.push(event.change);
    }
    assert_eq!(
        seen,
        [
            ChangeKind::Created,
            ChangeKind::Disabled,
            ChangeKind::Enabled,
            ChangeKind::Updated,
            ChangeKind::Deleted
        ]
    );
    let metrics = api
        .client
        .get(api.url("/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(
        metrics.contains("hookflow_config_changes_total{kind=\"deleted\"}"),
        "{metrics}"
    );
    broker.close().await;
    api.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_openapi_document_lists_the_api() {
    let api = TestApi::start().await;
    let spec = api.get("/api/openapi.json").await;
    assert_eq!(spec.status, StatusCode::OK);
    assert!(
        spec.body["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with('3')),
        "{:?}",
        spec.body["openapi"]
    );
    let paths = spec.body["paths"].as_object().expect("paths");
    for (path, method) in [
        ("/api/workflows", "post"),
        ("/api/workflows", "get"),
        ("/api/workflows/{id}", "get"),
        ("/api/workflows/{id}", "put"),
        ("/api/workflows/{id}", "delete"),
        ("/api/workflows/{id}/versions", "get"),
        ("/api/workflows/{id}/versions/{n}", "get"),
        ("/api/workflows/{id}/enable", "post"),
        ("/api/workflows/{id}/disable", "post"),
        ("/api/parse/query", "post"),
        ("/api/parse/body", "post"),
        ("/api/executions", "get"),
        ("/api/executions/{id}", "get"),
    ] {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path}"
        );
    }
    // Trigger definitions carry secrets: they are ingress's, not part of the admin API.
    assert!(
        paths.keys().all(|path| !path.contains("triggers")),
        "{:?}",
        paths.keys()
    );
    assert_eq!(
        spec.body["components"]["securitySchemes"]["admin_token"]["scheme"],
        "bearer"
    );
    api.stop().await;
}
