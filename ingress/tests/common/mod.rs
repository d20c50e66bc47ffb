//! The whole stack in-process: config-api, executor and ingress on one test's database and
//! AMQP prefix, with helpers that talk to them the way a user does.

#![allow(dead_code)]

use std::time::{Duration, Instant};

use serde_json::Value;
use shared::{
    config::{Config, Service},
    testkit::{ADMIN_TOKEN, Running, TestEnv, start_service, start_service_unready},
};

/// How long a recorded execution may take to show up in the history.
pub const RECORD_WAIT: Duration = Duration::from_secs(10);

/// Services are declared before the environment so that they stop before it is removed.
pub struct Stack {
    pub ingress: Running,
    pub executor: Running,
    pub config_api: Running,
    pub http: reqwest::Client,
    pub env: TestEnv,
}

impl Stack {
    pub async fn start() -> Stack {
        Stack::start_in(TestEnv::new().await, |_, _| {}).await
    }

    /// The stack on `env`, each service's config adjusted by `tune` first.
    pub async fn start_in(env: TestEnv, tune: impl Fn(Service, &mut Config)) -> Stack {
        let config = |service| {
            let mut config = env.config(service);
            tune(service, &mut config);
            config
        };
        let config_api = start_service(hookflow_config_api::run, config(Service::ConfigApi)).await;
        let executor = start_service(hookflow_executor::run, config(Service::Executor)).await;
        let mut ingress_config = ingress_config(&env, &config_api);
        tune(Service::Ingress, &mut ingress_config);
        let ingress = start_service(hookflow_ingress::run, ingress_config).await;
        Stack {
            ingress,
            executor,
            config_api,
            http: shared::testkit::http_client(),
            env,
        }
    }

    /// Stops the services gracefully, callers' side first, then removes the environment.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.ingress.stop().await?;
        self.executor.stop().await?;
        self.config_api.stop().await?;
        Ok(())
    }

    /// The configuration of an ingress of this stack.
    pub fn ingress_config(&self) -> Config {
        ingress_config(&self.env, &self.config_api)
    }

    /// A second ingress of this stack with adjusted settings, started without waiting for
    /// readiness (it may be meant to fail).
    pub fn extra_ingress(&self, adjust: impl FnOnce(&mut Config)) -> Running {
        let mut config = self.ingress_config();
        adjust(&mut config);
        start_service_unready(hookflow_ingress::run, config)
    }

    pub fn webhook(&self, key: &str) -> String {
        webhook_on(&self.ingress, key)
    }

    fn api(&self, path: &str) -> String {
        format!("{}/api{path}", self.config_api.url)
    }

    async fn admin(&self, request: reqwest::RequestBuilder, expected: u16) -> Value {
        let response = request
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .expect("config-api");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        assert_eq!(status, expected, "config-api answered {status}: {text}");
        if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).expect("config-api JSON")
        }
    }

    /// Creates a workflow; the answer holds `id`, `key`, `version`, `webhookUrl`.
    /// Calls config-api's `/api{path}` as the admin, asserting the status.
    pub async fn admin_call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
        expected: u16,
    ) -> Value {
        let request = self.http.request(method, self.api(path));
        let request = match body {
            Some(body) => request.json(&body),
            None => request,
        };
        self.admin(request, expected).await
    }

    pub async fn create_workflow(&self, document: Value) -> Workflow {
        let created = self
            .admin(self.http.post(self.api("/workflows")).json(&document), 201)
            .await;
        Workflow::from(created)
    }

    /// Replaces a workflow's document (a new version).
    pub async fn update_workflow(&self, workflow: &Workflow, document: Value) -> Value {
        let path = format!("/workflows/{}", workflow.id);
        self.admin(self.http.put(self.api(&path)).json(&document), 200)
            .await
    }

    pub async fn disable_workflow(&self, workflow: &Workflow) {
        let path = format!("/workflows/{}/disable", workflow.id);
        self.admin(self.http.post(self.api(&path)), 200).await;
    }

    pub async fn enable_workflow(&self, workflow: &Workflow) {
        let path = format!("/workflows/{}/enable", workflow.id);
        self.admin(self.http.post(self.api(&path)), 200).await;
    }

    pub async fn delete_workflow(&self, workflow: &Workflow) {
        let path = format!("/workflows/{}", workflow.id);
        self.admin(self.http.delete(self.api(&path)), 204).await;
    }

    /// `GET /api/executions/{id}` once the execution is recorded in a final state: a sync
    /// caller's answer can arrive before the record is written.
    pub async fn execution(&self, id: &str) -> Value {
        let deadline = Instant::now() + RECORD_WAIT;
        loop {
            let response = (self.http.get(self.api(&format!("/executions/{id}"))))
                .bearer_auth(ADMIN_TOKEN)
                .send()
                .await
                .expect("config-api");
            let status = response.status().as_u16();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            let settled =
                status == 200 && !matches!(body["status"].as_str(), Some("queued" | "started"));
            if settled {
                return body;
            }
            assert!(
                status == 200 || status == 404,
                "config-api answered {status}: {body}"
            );
            assert!(
                Instant::now() < deadline,
                "execution {id} not recorded as finished in time: {status} {body}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// `GET /api/executions?workflowId=`: the first page, newest first.
    pub async fn executions(&self, workflow: &Workflow) -> Vec<Value> {
        let path = format!("/executions?workflowId={}&limit=100", workflow.id);
        let page = self.admin(self.http.get(self.api(&path)), 200).await;
        page["items"].as_array().cloned().unwrap_or_default()
    }

    /// Waits (bounded) until the workflow has `count` executions in a final state.
    pub async fn finished_executions(&self, workflow: &Workflow, count: usize) -> Vec<Value> {
        let deadline = Instant::now() + RECORD_WAIT;
        loop {
            let items = self.executions(workflow).await;
            let finished = items
                .iter()
                .filter(|item| !matches!(item["status"].as_str(), Some("queued" | "started")))
                .count();
            if finished >= count {
                return items;
            }
            assert!(
                Instant::now() < deadline,
                "{count} finished executions not recorded in time: {items:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// POSTs `body` as JSON to the webhook of `workflow`.
    pub async fn call(&self, workflow: &Workflow, body: Value) -> reqwest::Response {
        self.http
            .post(self.webhook(&workflow.key))
            .json(&body)
            .send()
            .await
            .expect("ingress")
    }

    /// Calls until `done` accepts the answer; fails if that takes more than a second
    /// (docs/api.md: a change takes effect at every ingress within 1 second).
    pub async fn within_a_second(&self, workflow: &Workflow, done: impl Fn(u16, &str) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(1);
        loop {
            let response = self.call(workflow, Value::Object(Default::default())).await;
            let status = response.status().as_u16();
            let body = response.text().await.expect("body");
            if done(status, &body) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "change not in effect within 1 s; last answer {status} {body}"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
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
}

fn ingress_config(env: &TestEnv, config_api: &Running) -> Config {
    let mut config = env.config(Service::Ingress);
    config.config_api_url = config_api.url.parse().expect("url");
    // Ingress faces the internet: it holds its own token, not the admin token.
    config.admin_token = None;
    config
}

pub fn webhook_on(ingress: &Running, key: &str) -> String {
    format!("{}/api/webhook:trigger/{key}", ingress.url)
}

/// A created workflow.
#[derive(Debug, Clone)]
pub struct Workflow {
    pub id: String,
    pub key: String,
    pub created: Value,
}

impl From<Value> for Workflow {
    fn from(created: Value) -> Self {
        Workflow {
            id: created["id"].as_str().expect("id").to_owned(),
            key: created["key"].as_str().expect("key").to_owned(),
            created,
        }
    }
}

/// The body of a response as JSON.
pub async fn json_of(response: reqwest::Response) -> Value {
    let text = response.text().await.expect("body");
    serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
}

/// The sum of the samples of `name` whose labels include every one of `labels`, or `None`
/// if there is no such series, in a Prometheus text exposition (`/metrics`).
pub fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let mut found = None;
    for line in text.lines().filter(|line| !line.starts_with('#')) {
        let Some((series, value)) = line.rsplit_once(' ') else {
            continue;
        };
        let (series_name, series_labels) = match series.split_once('{') {
            Some((series_name, rest)) => (series_name, rest.trim_end_matches('}')),
            None => (series, ""),
        };
        let matches = series_name == name
            && labels.iter().all(|(label, wanted)| {
                let pair = format!("{label}=\"{wanted}\"");
                series_labels.split(',').any(|have| have == pair)
            });
        if matches {
            *found.get_or_insert(0.0) += value.parse::<f64>().unwrap_or(f64::NAN);
        }
    }
    found
}
