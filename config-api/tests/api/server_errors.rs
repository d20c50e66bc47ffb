//! 5xx answers are opaque: the cause (SQL, stored data) is logged, never sent (docs/webhooks.md, docs/api.md).

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{TestApi, id_of, simple};

async fn sql(api: &TestApi, statement: &str) {
    let client = api.env.pool().get().await.expect("connection");
    client.batch_execute(statement).await.expect(statement);
}

#[tokio::test(flavor = "multi_thread")]
async fn server_errors_say_nothing_about_their_cause() {
    let api = TestApi::start().await;
    let opaque = json!({"error": "internal", "message": "internal error"});

    // A stored document that no longer reads as a workflow.
    let created = api.create(simple("soon unreadable")).await;
    let (id, key) = (id_of(&created), created["key"].as_str().expect("key"));
    sql(
        &api,
        "UPDATE workflow_versions SET document = '{\"title\": 5}'",
    )
    .await;
    for path in [
        format!("/api/workflows/{id}"),
        format!("/internal/triggers/{key}"),
    ] {
        let unreadable = api.get(&path).await;
        assert_eq!(
            unreadable.status,
            StatusCode::INTERNAL_SERVER_ERROR,
            "{path}"
        );
        assert_eq!(unreadable.body, opaque, "{path}");
    }

    // Failing statements, reading and writing.
    sql(
        &api,
        "ALTER TABLE executions RENAME TO executions_elsewhere",
    )
    .await;
    let failed_read = api.get("/api/executions").await;
    assert_eq!(failed_read.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(failed_read.body, opaque);
    sql(
        &api,
        "ALTER TABLE workflow_versions RENAME TO versions_elsewhere",
    )
    .await;
    let failed_write = api.post("/api/workflows", simple("not stored")).await;
    assert_eq!(failed_write.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(failed_write.body, opaque);
    api.stop().await;
}
