//! Creating, reading, listing, toggling and deleting workflows.

use std::collections::HashSet;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApi, id_of, payment_callback, simple};

#[tokio::test(flavor = "multi_thread")]
async fn create_answers_the_workflow_with_its_webhook_url() {
    let api = TestApi::start().await;
    let created = api.create(payment_callback()).await;

    let key = created["key"].as_str().expect("key");
    assert_eq!(key.len(), 11, "{key}");
    assert!(
        key.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()),
        "{key}"
    );
    assert_eq!(
        created["webhookUrl"],
        format!(
            "{}/api/webhook:trigger/{key}",
            api.config.public_url.as_str().trim_end_matches('/')
        )
    );
    assert_eq!(created["version"], 1);
    assert!(id_of(&created).parse::<uuid::Uuid>().is_ok());
    assert_eq!(created["title"], "Payment callback");
    assert_eq!(created["sync"], true);
    assert_eq!(created["enabled"], true);
    assert_eq!(
        created["trigger"]["basicAuthentication"],
        json!({"username": "shop", "password": "********"})
    );
    assert_eq!(created["nodes"], payment_callback()["nodes"]);
    assert_eq!(created["options"], json!({"timeout": 5000}));

    // The password is stored: ingress gets it.
    let trigger = api.get(&format!("/internal/triggers/{key}")).await;
    assert_eq!(trigger.status, StatusCode::OK);
    assert_eq!(
        trigger.body["trigger"]["basicAuthentication"]["password"],
        "s3cret"
    );
    assert_eq!(trigger.body["workflowId"], created["id"]);
    assert_eq!(trigger.body["version"], 1);
    assert_eq!(trigger.body["sync"], true);
    assert_eq!(trigger.body["enabled"], true);
    assert_eq!(trigger.body["options"]["timeout"], 5000);

    let fetched = api
        .get(&format!("/api/workflows/{}", id_of(&created)))
        .await;
    assert_eq!(fetched.status, StatusCode::OK);
    assert_eq!(fetched.body, created);

    // Keys differ between workflows.
    let other = api.create(simple("other")).await;
    assert_ne!(other["key"], created["key"]);
    api.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_and_malformed_ids_are_not_found() {
    let api = TestApi::start().await;
    let unknown = uuid::Uuid::now_v7();
    for path in [
        format!("/api/workflows/{unknown}"),
        "/api/workflows/not-a-uuid".to_owned(),
        format!("/api/workflows/{unknown}/versions"),
        format!("/api/workflows/{unknown}/versions/1"),
        "/api/workflows/not-a-uuid/versions/x".to_owned(),
        "/internal/triggers/abcdefghijk".to_owned(),
        "/api/nothing-here".to_owned(),
    ] {
        let answer = api.get(&path).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(answer.body["error"], "not_found", "{path}");
    }
    for answer in [
        api.put(&format!("/api/workflows/{unknown}"), simple("t"))
            .await,
        api.post(&format!("/api/workflows/{unknown}/enable"), json!({}))
            .await,
        api.delete(&format!("/api/workflows/{unknown}")).await,
    ] {
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{answer:?}");
    }
    api.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn list_pages_in_creation_order_and_filters_by_enabled() {
    let api = TestApi::start().await;
    let mut ids = Vec::new();
    for n in 0..5 {
        let created = api.create(simple(&format!("w{n}"))).await;
        ids.push(id_of(&created).to_owned());
    }
    for id in &ids[1..3] {
        let disabled = api
            .post(&format!("/api/workflows/{id}/disable"), json!({}))
            .await;
        assert_eq!(disabled.status, StatusCode::OK);
    }
    let deleted = api.delete(&format!("/api/workflows/{}", ids[4])).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);

    let mut seen = Vec::new();
    let mut path = "/api/workflows?limit=2".to_owned();
    loop {
        let page = api.get(&path).await;
        assert_eq!(page.status, StatusCode::OK, "{:?}", page.body);
        let items = page.body["items"].as_array().expect("items");
        assert!(items.len() <= 2);
        seen.extend(items.iter().map(|w| id_of(w).to_owned()));
        match page.body["nextCursor"].as_str() {
            Some(cursor) => path = format!("/api/workflows?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, ids[..4]);

    let titles = |body: &Value| -> HashSet<String> {
        body["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|w| w["title"].as_str().expect("title").to_owned())
            .collect()
    };
    let disabled = api.get("/api/workflows?enabled=false").await;
    assert_eq!(
        titles(&disabled.body),
        HashSet::from(["w1".into(), "w2".into()])
    );
    assert!(disabled.body["items"][0]["enabled"] == false);
    let enabled = api.get("/api/workflows?enabled=true").await;
    assert_eq!(
        titles(&enabled.body),
        HashSet::from(["w0".into(), "w3".into()])
    );
    assert_eq!(enabled.body["nextCursor"], Value::Null);

    for bad in [
        "/api/workflows?limit=0",
        "/api/workflows?limit=-1",
        "/api/workflows?cursor=nope",
        "/api/workflows?enabled=maybe",
    ] {
        let answer = api.get(bad).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(answer.body["error"], "invalid_query", "{bad}");
    }
    let clamped = api.get("/api/workflows?limit=100000").await;
    assert_eq!(clamped.status, StatusCode::OK);
    api.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn enable_disable_and_delete() {
    let api = TestApi::start().await;
    let created = api.create(simple("toggled")).await;
    let id = id_of(&created);
    let key = created["key"].as_str().expect("key");

    let disabled = api
        .post(&format!("/api/workflows/{id}/disable"), json!({}))
        .await;
    assert_eq!(disabled.status, StatusCode::OK);
    assert_eq!(disabled.body["enabled"], false);
    assert_eq!(disabled.body["key"], key);
    assert_eq!(disabled.body["version"], 1);
    // Disabled workflows are still served to ingress, which answers 404 for them.
    let trigger = api.get(&format!("/internal/triggers/{key}")).await;
    assert_eq!(trigger.status, StatusCode::OK);
    assert_eq!(trigger.body["enabled"], false);
    let fetched = api.get(&format!("/api/workflows/{id}")).await;
    assert_eq!(fetched.body["enabled"], false);

    let enabled = api
        .post(&format!("/api/workflows/{id}/enable"), json!({}))
        .await;
    assert_eq!(enabled.status, StatusCode::OK);
    assert_eq!(enabled.body["enabled"], true);
    let trigger = api.get(&format!("/internal/triggers/{key}")).await;
    assert_eq!(trigger.body["enabled"], true);

    let deleted = api.delete(&format!("/api/workflows/{id}")).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(deleted.body, Value::Null);
    for path in [
        format!("/api/workflows/{id}"),
        format!("/api/workflows/{id}/versions"),
        format!("/api/workflows/{id}/versions/1"),
        format!("/internal/triggers/{key}"),
    ] {
        assert_eq!(api.get(&path).await.status, StatusCode::NOT_FOUND, "{path}");
    }
    assert_eq!(
        api.delete(&format!("/api/workflows/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        api.post(&format!("/api/workflows/{id}/enable"), json!({}))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        api.put(&format!("/api/workflows/{id}"), simple("again"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let list = api.get("/api/workflows").await;
    assert_eq!(list.body["items"], json!([]));
    api.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn methods_a_path_does_not_answer_are_405_naming_those_it_does() {
    let api = TestApi::start().await;
    let id = uuid::Uuid::now_v7();
    for (method, path, allow) in [
        (
            reqwest::Method::PATCH,
            "/api/workflows".to_owned(),
            "GET, POST",
        ),
        (
            reqwest::Method::POST,
            format!("/api/workflows/{id}"),
            "GET, PUT, DELETE",
        ),
        (
            reqwest::Method::DELETE,
            format!("/api/workflows/{id}/enable"),
            "POST",
        ),
        (reqwest::Method::TRACE, "/api/parse/body".to_owned(), "POST"),
    ] {
        let response = api
            .client
            .request(method.clone(), api.url(&path))
            .bearer_auth(shared::testkit::ADMIN_TOKEN)
            .send()
            .await
            .expect("config-api answers");
        assert_eq!(
            response.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}"
        );
        assert_eq!(
            response.headers()["allow"].to_str().expect("allow"),
            allow,
            "{method} {path}"
        );
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["error"], "method_not_allowed", "{method} {path}");
    }
    let unknown = api
        .call(reqwest::Method::PATCH, "/api/nothing-here", None)
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    api.stop().await;
}
