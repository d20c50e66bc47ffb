//! Bearer authentication of `/api/*` (the admin token) and `/internal/*` (ingress's token),
//! and refusing to run unprotected.

use reqwest::{Method, StatusCode};
use serde_json::json;
use shared::config::Service;
use shared::testkit::{ADMIN_TOKEN, INTERNAL_TOKEN, TestEnv, http_status};

use crate::helpers::{TestApi, answer, id_of, refusal_to_start, simple};

#[tokio::test(flavor = "multi_thread")]
async fn api_calls_need_the_admin_token() {
    let api = TestApi::start().await;
    let client = &api.client;
    let url = api.url("/api/workflows");

    let missing = answer(client.get(&url)).await;
    assert_eq!(missing.status, StatusCode::UNAUTHORIZED);
    assert_eq!(missing.body["error"], "unauthorized");
    assert!(missing.body["message"].is_string());

    let wrong = answer(client.get(&url).bearer_auth("not-the-token")).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let basic = answer(
        client
            .get(&url)
            .basic_auth("admin", Some("test-admin-token")),
    )
    .await;
    assert_eq!(basic.status, StatusCode::UNAUTHORIZED);

    // Also for writes, unknown ids and the OpenAPI document.
    let create = answer(client.post(&url).json(&crate::helpers::simple("t"))).await;
    assert_eq!(create.status, StatusCode::UNAUTHORIZED);
    let spec = answer(client.get(api.url("/api/openapi.json"))).await;
    assert_eq!(spec.status, StatusCode::UNAUTHORIZED);
    let trigger = answer(client.get(api.url("/internal/triggers/abcdefghijk"))).await;
    assert_eq!(trigger.status, StatusCode::UNAUTHORIZED);

    // Neither token opens the other's door.
    let admin_on_internal = answer(
        client
            .get(api.url("/internal/triggers/abcdefghijk"))
            .bearer_auth(ADMIN_TOKEN),
    )
    .await;
    assert_eq!(admin_on_internal.status, StatusCode::UNAUTHORIZED);
    let internal_on_admin = answer(client.get(&url).bearer_auth(INTERNAL_TOKEN)).await;
    assert_eq!(internal_on_admin.status, StatusCode::UNAUTHORIZED);
    let no_admin_route = api.get("/api/triggers/abcdefghijk").await;
    assert_eq!(no_admin_route.status, StatusCode::NOT_FOUND);

    let right = api.get("/api/workflows").await;
    assert_eq!(right.status, StatusCode::OK);
    assert_eq!(right.body["items"], serde_json::json!([]));

    // Health and metrics are for probes, without a token.
    for path in ["/livez", "/readyz", "/metrics"] {
        assert_eq!(
            http_status(api.running.addr, path).await,
            Some(200),
            "{path}"
        );
    }
    api.stop().await;
}

/// docs/api.md: every `/api` route, taken from the OpenAPI document so that a new route is
/// covered too, answers 401 without the token and does nothing.
#[tokio::test(flavor = "multi_thread")]
async fn every_api_route_needs_the_token() {
    let api = TestApi::start().await;
    let created = api.create(simple("guarded")).await;
    let (id, key) = (id_of(&created), created["key"].as_str().expect("key"));
    let execution = uuid::Uuid::now_v7();
    let spec = api.get("/api/openapi.json").await;
    let mut operations = 0;
    for (template, item) in spec.body["paths"].as_object().expect("paths") {
        let path = template
            .replace("{key}", key)
            .replace("{n}", "1")
            .replace("{name}", "SOME_VARIABLE")
            .replace(
                "{id}",
                &if template.starts_with("/api/executions") {
                    execution.to_string()
                } else {
                    id.to_owned()
                },
            );
        assert!(!path.contains('{'), "unfilled parameter in {template}");
        for method in item.as_object().expect("path item").keys() {
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            let request = api
                .client
                .request(method.clone(), api.url(&path))
                .json(&json!({"example": "a=1", "title": "taken over"}));
            let refused = answer(request).await;
            assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{method} {path}");
            assert_eq!(refused.body["error"], "unauthorized", "{method} {path}");
            operations += 1;
        }
    }
    assert!(operations >= 14, "only {operations} operations listed");

    // Nothing the refused calls asked for happened.
    let workflow = api.get(&format!("/api/workflows/{id}")).await;
    assert_eq!(workflow.status, StatusCode::OK);
    assert_eq!(workflow.body["version"], 1);
    assert_eq!(workflow.body["title"], "guarded");
    assert_eq!(workflow.body["enabled"], true);
    assert_eq!(api.get("/api/variables").await.body["items"], json!([]));
    assert_eq!(api.get("/api/executions").await.body["items"], json!([]));
    api.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn refuses_to_start_without_a_token() {
    let env = TestEnv::new().await;
    let mut config = env.config(Service::ConfigApi);
    config.admin_token = None;
    let error = refusal_to_start(config).await;
    assert!(error.contains("HOOKFLOW_ADMIN_TOKEN"), "{error}");
}

#[tokio::test(flavor = "multi_thread")]
async fn refuses_to_start_without_an_internal_token_of_its_own() {
    let env = TestEnv::new().await;
    for internal in [None, Some(ADMIN_TOKEN)] {
        let mut config = env.config(Service::ConfigApi);
        config.internal_token = internal.map(Into::into);
        let error = refusal_to_start(config).await;
        assert!(error.contains("HOOKFLOW_INTERNAL_TOKEN"), "{error}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn insecure_mode_serves_without_a_token() {
    let env = TestEnv::new().await;
    let mut config = env.config(Service::ConfigApi);
    config.admin_token = None;
    config.insecure_no_auth = true;
    let api = TestApi::start_with(env, config).await;
    let open = answer(api.client.get(api.url("/api/workflows"))).await;
    assert_eq!(open.status, StatusCode::OK);
    api.stop().await;
}
