//! Invalid documents are refused with every problem named.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApi, answer, id_of, simple};

fn problem_paths(body: &Value) -> Vec<String> {
    body["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .map(|p| {
            assert!(p["message"].as_str().is_some_and(|m| !m.is_empty()), "{p}");
            p["path"].as_str().expect("path").to_owned()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn invalid_documents_name_every_problem() {
    let api = TestApi::start().await;
    let invalid = api
        .post(
            "/api/workflows",
            json!({
                "title": "",
                "sync": false,
                "trigger": {
                    "type": "schedule",
                    "request": {"headers": [{"key": "Authorization"}]},
                    "response": {"statusCode": 700}
                },
                "options": {"timeout": 0},
                "nodes": [
                    {"key": "a", "type": "teleport"},
                    {"key": "a", "type": "response", "config": {"statusCode": 200}}
                ]
            }),
        )
        .await;
    assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(invalid.body["error"], "invalid_workflow");
    assert!(invalid.body["message"].is_string());
    let paths = problem_paths(&invalid.body);
    for expected in [
        "title",
        "trigger.type",
        "trigger.request.headers[0].key",
        "trigger.response.statusCode",
        "options.timeout",
        // The engine's checks: unknown type, duplicate key, response node in an async workflow.
        "nodes[0].type",
        "nodes[1].key",
    ] {
        assert!(
            paths.iter().any(|p| p == expected),
            "{expected} in {paths:?}"
        );
    }
    assert!(
        paths.iter().filter(|p| p.starts_with("nodes[1]")).count() >= 2,
        "duplicate key and async response: {paths:?}"
    );
    let list = api.get("/api/workflows").await;
    assert_eq!(list.body["items"], json!([]), "nothing stored");
    api.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_bodies_are_refused() {
    let api = TestApi::start().await;
    let not_json = answer(
        api.client
            .post(api.url("/api/workflows"))
            .bearer_auth(shared::testkit::ADMIN_TOKEN)
            .header("content-type", "application/json")
            .body("{not json"),
    )
    .await;
    assert_eq!(not_json.status, StatusCode::BAD_REQUEST);
    assert_eq!(not_json.body["error"], "invalid_json");

    let wrong_shape = api
        .post(
            "/api/workflows",
            json!({"title": "t", "trigger": {"request": {"body": [{"key": 5}]}}}),
        )
        .await;
    assert_eq!(wrong_shape.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        problem_paths(&wrong_shape.body),
        ["trigger.request.body[0].key"]
    );
    let no_title = api.post("/api/workflows", json!({"trigger": {}})).await;
    assert_eq!(no_title.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        no_title.body["problems"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("title")),
        "{:?}",
        no_title.body
    );
    let array = api.post("/api/workflows", json!([1, 2])).await;
    assert_eq!(array.status, StatusCode::UNPROCESSABLE_ENTITY);
    api.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_invalid_put_keeps_the_current_version() {
    let api = TestApi::start().await;
    let created = api.create(simple("kept")).await;
    let id = id_of(&created);
    let refused = api
        .put(
            &format!("/api/workflows/{id}"),
            json!({"title": "", "trigger": {"type": "webhook"}}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem_paths(&refused.body), ["title"]);
    let current = api.get(&format!("/api/workflows/{id}")).await;
    assert_eq!(current.body["version"], 1);
    assert_eq!(current.body["title"], "kept");
    api.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn loop_and_parallel_nodes_are_checked_like_every_node() {
    let api = TestApi::start().await;
    let invalid = api
        .post(
            "/api/workflows",
            json!({
                "title": "fan out", "sync": false, "trigger": {"type": "webhook"},
                "nodes": [
                    {"key": "l", "type": "loop", "config": {"exit": "retry"}},
                    {"key": "p", "type": "parallel", "config": {"mode": "some"},
                     "branches": {"only": [{"key": "r", "type": "response"}]}},
                ]
            }),
        )
        .await;
    assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
    let mut paths = problem_paths(&invalid.body);
    paths.sort();
    assert_eq!(
        paths,
        [
            "nodes[0].branches.body",
            "nodes[0].config.exit",
            "nodes[0].config.target",
            "nodes[1].branches",
            "nodes[1].branches.only[0]",
            "nodes[1].config.mode",
        ]
    );

    let valid = api
        .post(
            "/api/workflows",
            json!({
                "title": "fan out", "sync": false, "trigger": {"type": "webhook"},
                "nodes": [
                    {"key": "l", "type": "loop", "config": {"target": "{{$context.body.items}}"},
                     "branches": {"body": [
                        {"key": "p", "type": "parallel", "config": {"mode": "race"},
                         "branches": {"a": [], "b": []}}]}},
                ]
            }),
        )
        .await;
    assert_eq!(valid.status, StatusCode::CREATED, "{:?}", valid.body);
}
