//! Replacing documents: immutable versions, stable keys, write-only passwords.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{TestApi, id_of, payment_callback};

#[tokio::test(flavor = "multi_thread")]
async fn put_stores_a_new_current_version_under_the_same_url() {
    let api = TestApi::start().await;
    let created = api.create(payment_callback()).await;
    let id = id_of(&created);

    let mut doc = payment_callback();
    doc["title"] = json!("Payment callback v2");
    doc["options"]["timeout"] = json!(8000);
    let updated = api.put(&format!("/api/workflows/{id}"), doc).await;
    assert_eq!(updated.status, StatusCode::OK, "{:?}", updated.body);
    assert_eq!(updated.body["version"], 2);
    assert_eq!(updated.body["title"], "Payment callback v2");
    assert_eq!(updated.body["key"], created["key"]);
    assert_eq!(updated.body["webhookUrl"], created["webhookUrl"]);
    assert_eq!(updated.body["id"], created["id"]);

    let current = api.get(&format!("/api/workflows/{id}")).await;
    assert_eq!(current.body["version"], 2);
    assert_eq!(current.body["options"]["timeout"], 8000);

    let versions = api.get(&format!("/api/workflows/{id}/versions")).await;
    assert_eq!(versions.status, StatusCode::OK);
    let items = versions.body["items"].as_array().expect("items");
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["version"], 1);
    assert_eq!(items[1]["version"], 2);
    assert_eq!(versions.body["nextCursor"], serde_json::Value::Null);
    // Versions show passwords masked too.
    assert_eq!(
        items[0]["trigger"]["basicAuthentication"]["password"],
        "********"
    );

    let first = api.get(&format!("/api/workflows/{id}/versions/1")).await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.body["title"], "Payment callback");
    assert_eq!(first.body["options"]["timeout"], 5000);
    assert_eq!(first.body["key"], created["key"]);
    let paged = api
        .get(&format!("/api/workflows/{id}/versions?limit=1"))
        .await;
    assert_eq!(paged.body["items"][0]["version"], 1);
    assert_eq!(paged.body["nextCursor"], "1");
    let last = api
        .get(&format!("/api/workflows/{id}/versions?limit=1&cursor=1"))
        .await;
    assert_eq!(last.body["items"][0]["version"], 2);
    assert_eq!(last.body["nextCursor"], serde_json::Value::Null);
    let bad_cursor = api
        .get(&format!("/api/workflows/{id}/versions?cursor=one"))
        .await;
    assert_eq!(bad_cursor.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad_cursor.body["error"], "invalid_query");
    let missing = api.get(&format!("/api/workflows/{id}/versions/3")).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    // Ingress runs the current version.
    let trigger = api
        .get(&format!(
            "/internal/triggers/{}",
            created["key"].as_str().expect("key")
        ))
        .await;
    assert_eq!(trigger.body["version"], 2);
    api.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_enabled_field_of_a_put_sets_the_flag() {
    let api = TestApi::start().await;
    let created = api.create(payment_callback()).await;
    let id = id_of(&created);
    let mut doc = created.clone();
    doc["enabled"] = json!(false);
    let updated = api.put(&format!("/api/workflows/{id}"), doc).await;
    assert_eq!(updated.status, StatusCode::OK, "{:?}", updated.body);
    assert_eq!(updated.body["enabled"], false);
    let disabled = api.get("/api/workflows?enabled=false").await;
    assert_eq!(disabled.body["items"][0]["id"], created["id"]);
    api.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_round_tripped_masked_password_keeps_the_stored_one() {
    let api = TestApi::start().await;
    let created = api.create(payment_callback()).await;
    let id = id_of(&created);
    let key = created["key"].as_str().expect("key");
    let password =
        |body: &serde_json::Value| body["trigger"]["basicAuthentication"]["password"].clone();

    // GET → edit → PUT, the way an editor does it.
    let mut shown = api.get(&format!("/api/workflows/{id}")).await.body;
    assert_eq!(password(&shown), "********");
    shown["title"] = json!("renamed");
    let updated = api.put(&format!("/api/workflows/{id}"), shown).await;
    assert_eq!(updated.status, StatusCode::OK, "{:?}", updated.body);
    assert_eq!(password(&updated.body), "********");
    let trigger = api.get(&format!("/internal/triggers/{key}")).await;
    assert_eq!(password(&trigger.body), "s3cret");
    assert_eq!(trigger.body["version"], 2);

    // The mask only stands for the password of the same user.
    let mut other_user = payment_callback();
    other_user["trigger"]["basicAuthentication"] =
        json!({"username": "someone-else", "password": "********"});
    let refused = api.put(&format!("/api/workflows/{id}"), other_user).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        refused.body["problems"][0]["path"],
        "trigger.basicAuthentication.password"
    );

    // A new password replaces the old one.
    let mut changed = payment_callback();
    changed["trigger"]["basicAuthentication"]["password"] = json!("n3w");
    let updated = api.put(&format!("/api/workflows/{id}"), changed).await;
    assert_eq!(updated.status, StatusCode::OK);
    assert_eq!(updated.body["version"], 3);
    let trigger = api.get(&format!("/internal/triggers/{key}")).await;
    assert_eq!(password(&trigger.body), "n3w");
    api.stop().await;
}
