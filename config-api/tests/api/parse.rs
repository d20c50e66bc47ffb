//! The parse helpers, with docs/webhooks.md's examples.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::TestApi;

#[tokio::test(flavor = "multi_thread")]
async fn parse_helpers_answer_the_spec_examples() {
    let api = TestApi::start().await;

    let query = api
        .post(
            "/api/parse/query",
            json!({"example": "http://localhost:13000/api/webhook:trigger/1hfmkioou0d?query[0][a]=1&b=2"}),
        )
        .await;
    assert_eq!(query.status, StatusCode::OK, "{:?}", query.body);
    assert_eq!(
        query.body,
        json!({
            "value": {"query": [{"a": "1"}], "b": "2"},
            "paths": [{"key": "query"}, {"key": "query[0]"}, {"key": "query[0].a"}, {"key": "b"}]
        })
    );
    // Just the query part works too.
    let bare = api
        .post("/api/parse/query", json!({"example": "query[0][a]=1&b=2"}))
        .await;
    assert_eq!(bare.body, query.body);

    let body = api
        .post(
            "/api/parse/body",
            json!({"example": {"a": 1, "b": {"c": 2}}}),
        )
        .await;
    assert_eq!(body.status, StatusCode::OK);
    assert_eq!(
        body.body,
        json!({"paths": [{"key": "a"}, {"key": "b"}, {"key": "b.c"}]})
    );
    // An editor's text box sends the example as text.
    let text = api
        .post(
            "/api/parse/body",
            json!({"example": "{\"a\": 1, \"b\": {\"c\": 2}}"}),
        )
        .await;
    assert_eq!(text.body, body.body);

    let missing = api.post("/api/parse/body", json!({})).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert_eq!(missing.body["error"], "invalid_json");
    api.stop().await;
}
