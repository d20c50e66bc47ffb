//! The web console is served at `/` from a build directory, beside an untouched `/api`.

use std::path::PathBuf;

use reqwest::StatusCode;
use reqwest::header::{CACHE_CONTROL, CONTENT_TYPE};
use shared::config::Service;
use shared::testkit::TestEnv;

use crate::helpers::TestApi;

const INDEX: &str = "<!doctype html><title>Hookflow</title><div id=\"root\"></div>";
const SCRIPT: &str = "console.log('hookflow')";

/// A fake `console/dist`, removed on drop.
struct FakeBuild(PathBuf);

impl FakeBuild {
    fn new(with_index: bool) -> Self {
        let dir = std::env::temp_dir().join(format!("hookflow-console-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(dir.join("assets")).expect("build dir");
        if with_index {
            std::fs::write(dir.join("index.html"), INDEX).expect("index");
        }
        std::fs::write(dir.join("assets/index-abc123.js"), SCRIPT).expect("asset");
        FakeBuild(dir)
    }
}

impl Drop for FakeBuild {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn start(console: bool, dir: String) -> TestApi {
    let env = TestEnv::new().await;
    let mut config = env.config(Service::ConfigApi);
    config.console = console;
    config.console_dir = dir;
    TestApi::start_with(env, config).await
}

async fn fetch(api: &TestApi, path: &str) -> reqwest::Response {
    api.client
        .get(api.url(path))
        .send()
        .await
        .expect("config-api answers")
}

fn header(response: &reqwest::Response, name: reqwest::header::HeaderName) -> &str {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn serves_the_build_with_a_fallback_to_the_app() {
    let build = FakeBuild::new(true);
    let api = start(true, build.0.display().to_string()).await;

    let index = fetch(&api, "/").await;
    assert_eq!(index.status(), StatusCode::OK);
    assert!(header(&index, CONTENT_TYPE).starts_with("text/html"));
    assert_eq!(header(&index, CACHE_CONTROL), "no-cache");
    assert_eq!(index.text().await.expect("body"), INDEX);

    let asset = fetch(&api, "/assets/index-abc123.js").await;
    assert_eq!(asset.status(), StatusCode::OK);
    assert!(header(&asset, CACHE_CONTROL).contains("immutable"));
    assert_eq!(asset.text().await.expect("body"), SCRIPT);

    // The app's own routes load the app, so a reload keeps the page.
    let route = fetch(&api, "/workflows/0190/edit").await;
    assert_eq!(route.status(), StatusCode::OK);
    assert_eq!(route.text().await.expect("body"), INDEX);
    let missing_asset = fetch(&api, "/assets/gone.js").await;
    assert_eq!(missing_asset.status(), StatusCode::NOT_FOUND);

    // The API, health and metrics answer as before; unknown API paths stay JSON 404s.
    let unknown_api = fetch(&api, "/api/nope").await;
    assert_eq!(unknown_api.status(), StatusCode::UNAUTHORIZED);
    let listed = api.get("/api/workflows").await;
    assert_eq!(listed.status, StatusCode::OK);
    let unknown_route = api.get("/api/nope").await;
    assert_eq!(unknown_route.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown_route.body["error"], "not_found");
    assert_eq!(fetch(&api, "/livez").await.status(), StatusCode::OK);
    assert_eq!(fetch(&api, "/metrics").await.status(), StatusCode::OK);
    api.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn turned_off_the_console_is_not_found() {
    let build = FakeBuild::new(true);
    let api = start(false, build.0.display().to_string()).await;
    assert_eq!(fetch(&api, "/").await.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        fetch(&api, "/assets/index-abc123.js").await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(api.get("/api/workflows").await.status, StatusCode::OK);
    api.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_build_the_root_says_how_to_make_one() {
    let build = FakeBuild::new(false);
    let nowhere = build.0.join("missing").display().to_string();
    for dir in [build.0.display().to_string(), nowhere] {
        let api = start(true, dir).await;
        for path in ["/", "/workflows"] {
            let hint = fetch(&api, path).await;
            assert_eq!(hint.status(), StatusCode::NOT_FOUND, "{path}");
            assert!(header(&hint, CONTENT_TYPE).starts_with("text/plain"));
            let text = hint.text().await.expect("body");
            assert!(text.contains("not built"), "{text}");
            assert!(text.contains("npm run build"), "{text}");
        }
        assert_eq!(api.get("/api/workflows").await.status, StatusCode::OK);
        api.stop().await;
    }
}
