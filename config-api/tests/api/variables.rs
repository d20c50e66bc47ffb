//! `/api/variables`: the `$env` variables, secrets write-only and sealed at rest.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::TestApi;

async fn stored(api: &TestApi, name: &str) -> (String, bool) {
    let client = api.env.pool().get().await.expect("connection");
    let row = client
        .query_one(
            "SELECT value, secret FROM variables WHERE name = $1",
            &[&name],
        )
        .await
        .expect("stored variable");
    (row.get("value"), row.get("secret"))
}

#[tokio::test(flavor = "multi_thread")]
async fn variables_are_created_read_listed_changed_and_deleted() {
    let api = TestApi::start().await;
    let created = api
        .post(
            "/api/variables",
            json!({"name": "SHOP_URL", "value": "https://shop.example"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    assert_eq!(created.body["name"], "SHOP_URL");
    assert_eq!(created.body["value"], "https://shop.example");
    assert_eq!(created.body["secret"], false);

    let again = api
        .post("/api/variables", json!({"name": "SHOP_URL", "value": "x"}))
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{:?}", again.body);
    assert_eq!(again.body["error"], "variable_exists");

    for name in ["b_2", "_a", "C"] {
        let made = api
            .post("/api/variables", json!({"name": name, "value": name}))
            .await;
        assert_eq!(made.status, StatusCode::CREATED, "{name}");
    }
    let first = api.get("/api/variables?limit=2").await;
    assert_eq!(first.status, StatusCode::OK);
    let names = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|v| v["name"].as_str().expect("name").to_owned())
            .collect()
    };
    assert_eq!(names(&first.body), ["C", "SHOP_URL"]);
    let cursor = first.body["nextCursor"].as_str().expect("more");
    let second = api
        .get(&format!("/api/variables?limit=2&cursor={cursor}"))
        .await;
    assert_eq!(names(&second.body), ["_a", "b_2"]);
    assert_eq!(second.body["nextCursor"], Value::Null);

    let changed = api
        .put(
            "/api/variables/SHOP_URL",
            json!({"value": "https://new.example"}),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{:?}", changed.body);
    assert_eq!(changed.body["value"], "https://new.example");
    let read = api.get("/api/variables/SHOP_URL").await;
    assert_eq!(read.body["value"], "https://new.example");

    let renamed = api
        .put(
            "/api/variables/SHOP_URL",
            json!({"name": "OTHER", "value": "v"}),
        )
        .await;
    assert_eq!(renamed.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(renamed.body["error"], "invalid_variable");

    assert_eq!(
        api.delete("/api/variables/SHOP_URL").await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        api.get("/api/variables/SHOP_URL").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        api.delete("/api/variables/SHOP_URL").await.status,
        StatusCode::NOT_FOUND
    );
    let missing = api.put("/api/variables/NOPE", json!({"value": "v"})).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    api.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_names_and_values_are_refused_with_what_is_wrong() {
    let api = TestApi::start().await;
    for name in ["", "1ABC", "A-B", "a.b", "ä", &"A".repeat(129)] {
        let refused = api
            .post("/api/variables", json!({"name": name, "value": "v"}))
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{name:?}");
        assert_eq!(refused.body["error"], "invalid_variable");
    }
    let not_text = api
        .post("/api/variables", json!({"name": "N", "value": 5}))
        .await;
    assert_eq!(
        not_text.status,
        StatusCode::BAD_REQUEST,
        "{:?}",
        not_text.body
    );
    let unknown = api
        .post(
            "/api/variables",
            json!({"name": "N", "value": "v", "extra": 1}),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    let empty_secret = api
        .post(
            "/api/variables",
            json!({"name": "N", "value": "", "secret": true}),
        )
        .await;
    assert_eq!(empty_secret.status, StatusCode::UNPROCESSABLE_ENTITY);
    let masked_secret = api
        .post(
            "/api/variables",
            json!({"name": "N", "value": "********", "secret": true}),
        )
        .await;
    assert_eq!(masked_secret.status, StatusCode::UNPROCESSABLE_ENTITY);
    let large = api
        .post(
            "/api/variables",
            json!({"name": "N", "value": "x".repeat(64 * 1024 + 1)}),
        )
        .await;
    assert_eq!(large.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        api.get("/api/variables").await.body["items"],
        json!([]),
        "nothing was stored"
    );
    api.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn secret_values_are_write_only_and_sealed_at_rest() {
    let api = TestApi::start().await;
    let created = api
        .post(
            "/api/variables",
            json!({"name": "SHOP_TOKEN", "value": "tok-s3cret-1", "secret": true}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    assert_eq!(created.body["value"], "********");
    assert_eq!(created.body["secret"], true);
    let (value, secret) = stored(&api, "SHOP_TOKEN").await;
    assert!(secret);
    assert!(value.starts_with("sealed:v1:"), "{value}");
    assert!(!value.contains("tok-s3cret-1"));

    // `********` keeps the value (re-sealed, so the ciphertext may change but not the text).
    let kept = api
        .put(
            "/api/variables/SHOP_TOKEN",
            json!({"name": "SHOP_TOKEN", "value": "********", "secret": true}),
        )
        .await;
    assert_eq!(kept.status, StatusCode::OK, "{:?}", kept.body);
    assert_eq!(kept.body["value"], "********");
    let (after, _) = stored(&api, "SHOP_TOKEN").await;
    assert_eq!(after, value, "already sealed with the current key: kept");

    // A secret is not made visible without a new value.
    let revealed = api
        .put(
            "/api/variables/SHOP_TOKEN",
            json!({"value": "********", "secret": false}),
        )
        .await;
    assert_eq!(revealed.status, StatusCode::UNPROCESSABLE_ENTITY);
    let replaced = api
        .put(
            "/api/variables/SHOP_TOKEN",
            json!({"value": "now-public", "secret": false}),
        )
        .await;
    assert_eq!(replaced.status, StatusCode::OK);
    assert_eq!(replaced.body["value"], "now-public");
    assert_eq!(
        stored(&api, "SHOP_TOKEN").await,
        ("now-public".to_owned(), false)
    );

    // Nothing the admin API answers holds the secret.
    api.post(
        "/api/variables",
        json!({"name": "OTHER", "value": "tok-s3cret-2", "secret": true}),
    )
    .await;
    for path in ["/api/variables", "/api/variables/OTHER"] {
        let answer = api.get(path).await;
        assert!(
            !answer.body.to_string().contains("tok-s3cret-2"),
            "{path}: {}",
            answer.body
        );
    }
    // A secret stored with a plain value that looks sealed is sealed all the same.
    let looks_sealed = api
        .post(
            "/api/variables",
            json!({"name": "LOOKS", "value": "sealed:v1:abc:def", "secret": true}),
        )
        .await;
    assert_eq!(looks_sealed.status, StatusCode::CREATED);
    let (value, _) = stored(&api, "LOOKS").await;
    assert_ne!(value, "sealed:v1:abc:def");
    api.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn variables_are_in_the_openapi_document() {
    let api = TestApi::start().await;
    let spec = api.get("/api/openapi.json").await.body;
    for (path, methods) in [
        ("/api/variables", &["get", "post"][..]),
        ("/api/variables/{name}", &["get", "put", "delete"][..]),
        ("/api/executions/{id}/replay", &["post"][..]),
        ("/api/executions/replay", &["post"][..]),
    ] {
        for method in methods {
            assert!(
                spec["paths"][path][method].is_object(),
                "{method} {path} documented"
            );
        }
    }
    api.stop().await;
}
