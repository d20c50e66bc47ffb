//! config-api, executor and ingress in-process on one test's database and AMQP prefix.

use serde_json::Value;
use shared::{
    config::Service,
    testkit::{ADMIN_TOKEN, Running, TestEnv, start_service},
};

/// Services are declared before the environment so that they stop before it is removed.
pub struct Stack {
    pub ingress: Running,
    pub executor: Running,
    pub config_api: Running,
    pub http: reqwest::Client,
    pub env: TestEnv,
}

impl Stack {
    pub async fn start(env: TestEnv) -> Stack {
        let config_api =
            start_service(hookflow_config_api::run, env.config(Service::ConfigApi)).await;
        let executor = start_service(hookflow_executor::run, env.config(Service::Executor)).await;
        let mut ingress_config = env.config(Service::Ingress);
        ingress_config.config_api_url = config_api.url.clone();
        let ingress = start_service(hookflow_ingress::run, ingress_config).await;
        Stack {
            ingress,
            executor,
            config_api,
            http: reqwest::Client::new(),
            env,
        }
    }

    /// Creates a workflow and returns its webhook key.
    pub async fn create_workflow(&self, document: Value) -> String {
        let response = self
            .http
            .post(format!("{}/api/workflows", self.config_api.url))
            .bearer_auth(ADMIN_TOKEN)
            .json(&document)
            .send()
            .await
            .expect("config-api");
        let status = response.status().as_u16();
        let created: Value = response.json().await.expect("config-api JSON");
        assert_eq!(status, 201, "workflow not created: {created}");
        created["key"].as_str().expect("key").to_owned()
    }

    /// POSTs `body` to the webhook of `key`, with the caller's `traceparent` if given.
    pub async fn call(&self, key: &str, body: Value, traceparent: Option<&str>) -> (u16, Value) {
        let mut request = self
            .http
            .post(format!("{}/api/webhook:trigger/{key}", self.ingress.url))
            .json(&body);
        if let Some(traceparent) = traceparent {
            request = request.header("traceparent", traceparent);
        }
        let response = request.send().await.expect("ingress");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, body)
    }

    /// The Prometheus text of a service's `/metrics`.
    pub async fn scrape(&self, service: &Running) -> String {
        let response = self
            .http
            .get(format!("{}/metrics", service.url))
            .send()
            .await
            .expect("metrics");
        assert_eq!(response.status().as_u16(), 200);
        response.text().await.expect("metrics text")
    }

    pub async fn stop(self) {
        self.ingress.stop().await.expect("ingress stops");
        self.executor.stop().await.expect("executor stops");
        self.config_api.stop().await.expect("config-api stops");
    }
}
