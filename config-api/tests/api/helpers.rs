//! A config-api started in-process, and a client that speaks to it as the admin.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use shared::config::{Config, Service};
pub use shared::fixtures::payment_callback;
use shared::testkit::{self, ADMIN_TOKEN, INTERNAL_TOKEN, Running, TestEnv};

/// A running config-api on its own database. Fields drop in order: service, then database.
pub struct TestApi {
    pub running: Running,
    pub config: Config,
    pub client: reqwest::Client,
    pub env: TestEnv,
}

/// An answer: status and JSON body (`Null` when empty).
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub body: Value,
}

impl TestApi {
    pub async fn start() -> TestApi {
        let env = TestEnv::new().await;
        let config = env.config(Service::ConfigApi);
        TestApi::start_with(env, config).await
    }

    pub async fn start_with(env: TestEnv, config: Config) -> TestApi {
        let running = testkit::start_service(hookflow_config_api::run, config.clone()).await;
        TestApi {
            running,
            config,
            client: shared::testkit::http_client(),
            env,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.running.url)
    }

    /// Sends as the admin, or as ingress to `/internal/...`.
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Answer {
        let token = if path.starts_with("/internal/") {
            INTERNAL_TOKEN
        } else {
            ADMIN_TOKEN
        };
        let request = self
            .client
            .request(method, self.url(path))
            .bearer_auth(token);
        answer(match body {
            Some(body) => request.json(&body),
            None => request,
        })
        .await
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Answer {
        self.call(Method::POST, path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> Answer {
        self.call(Method::PUT, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Answer {
        self.call(Method::DELETE, path, None).await
    }

    /// Creates a workflow and returns its body (asserting 201).
    pub async fn create(&self, doc: Value) -> Value {
        let created = self.post("/api/workflows", doc).await;
        assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
        created.body
    }

    pub async fn stop(self) {
        self.running
            .stop()
            .await
            .expect("config-api stopped cleanly");
    }
}

pub async fn answer(request: reqwest::RequestBuilder) -> Answer {
    let response = request.send().await.expect("config-api answers");
    let status = response.status();
    let bytes = response.bytes().await.expect("body");
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&bytes)))
    };
    Answer { status, body }
}

/// A small async workflow.
pub fn simple(title: &str) -> Value {
    json!({"title": title, "trigger": {"type": "webhook"}})
}

pub fn id_of(workflow: &Value) -> &str {
    workflow["id"].as_str().expect("id")
}

/// What config-api says when it refuses to start with `config` (it must return at once).
pub async fn refusal_to_start(config: Config) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let outcome = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        hookflow_config_api::run(config, listener, tokio_util::sync::CancellationToken::new()),
    )
    .await
    .expect("run returns at once");
    format!("{:#}", outcome.expect_err("refused to start"))
}
