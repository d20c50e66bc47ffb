//! Ingress alone: an in-process broker, a stub config-api serving trigger definitions from a
//! map, and a stand-in executor answering sync executions.

#![allow(dead_code)]

use std::{
    collections::HashMap,
    net::TcpListener,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use actix_web::{HttpRequest, HttpResponse, dev::ServerHandle, web};
use async_trait::async_trait;
use futures_util::{StreamExt, stream::BoxStream};
use serde_json::{Value, json};
use shared::{
    broker::{Broker, BrokerError, Incoming, MemoryBroker, Outgoing, Route, Source},
    config::{Config, Service},
    messages::{ChangeEvent, ChangeKind, ExecutionMessage, SyncReply},
    model::{Trigger, TriggerDefinition, WorkflowOptions},
};
use tokio::{sync::watch, task::JoinHandle};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// The internal token the stub config-api expects from ingress.
pub const TOKEN: &str = "stub-internal-token";

/// Trigger definitions the stub config-api serves, and how often each was fetched.
#[derive(Default)]
pub struct Definitions {
    by_key: Mutex<HashMap<String, TriggerDefinition>>,
    fetches: AtomicUsize,
    delay_ms: AtomicUsize,
}

impl Definitions {
    pub fn put(&self, definition: TriggerDefinition) {
        self.by_key
            .lock()
            .expect("lock")
            .insert(definition.key.clone(), definition);
    }
    pub fn remove(&self, key: &str) {
        self.by_key.lock().expect("lock").remove(key);
    }
    pub fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
    pub fn slow_down(&self, delay: Duration) {
        self.delay_ms
            .store(delay.as_millis() as usize, Ordering::SeqCst);
    }
}

async fn serve_trigger(
    request: HttpRequest,
    key: web::Path<String>,
    definitions: web::Data<Definitions>,
) -> HttpResponse {
    let authorized = request
        .headers()
        .get("authorization")
        .is_some_and(|value| value == format!("Bearer {TOKEN}").as_str());
    if !authorized {
        return HttpResponse::Unauthorized().finish();
    }
    definitions.fetches.fetch_add(1, Ordering::SeqCst);
    let delay = definitions.delay_ms.load(Ordering::SeqCst) as u64;
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    let found = definitions
        .by_key
        .lock()
        .expect("lock")
        .get(key.as_str())
        .cloned();
    match found {
        Some(definition) => HttpResponse::Ok().json(definition),
        None => HttpResponse::NotFound().json(json!({"error": "not_found"})),
    }
}

pub struct StubConfigApi {
    pub url: String,
    pub definitions: web::Data<Definitions>,
    handle: ServerHandle,
}

impl StubConfigApi {
    pub fn start() -> StubConfigApi {
        let definitions = web::Data::new(Definitions::default());
        let served = definitions.clone();
        let (url, handle) = shared::testkit::http_stub(move |routes| {
            routes
                .app_data(served.clone())
                .route("/internal/triggers/{key}", web::get().to(serve_trigger));
        });
        StubConfigApi {
            url,
            definitions,
            handle,
        }
    }
}

impl Drop for StubConfigApi {
    fn drop(&mut self) {
        let handle = self.handle.clone();
        tokio::spawn(async move { handle.stop(false).await });
    }
}

/// The body of a response as JSON.
pub async fn json_of(response: reqwest::Response) -> Value {
    response.json().await.expect("json body")
}

/// A definition of an enabled workflow at `key` with the given trigger settings.
pub fn definition(key: &str, sync: bool, trigger: Value) -> TriggerDefinition {
    let trigger: Trigger = serde_json::from_value(trigger).expect("trigger");
    TriggerDefinition {
        workflow_id: Uuid::now_v7(),
        key: key.into(),
        version: 1,
        enabled: true,
        sync,
        trigger,
        options: WorkflowOptions::default(),
    }
}

/// Ingress over a memory broker and a stub config-api.
pub struct Harness {
    pub url: String,
    pub broker: Arc<MemoryBroker>,
    pub config_api: StubConfigApi,
    pub http: reqwest::Client,
    shutdown: CancellationToken,
    task: JoinHandle<anyhow::Result<()>>,
}

impl Harness {
    pub async fn start() -> Harness {
        Harness::start_with(|_| {}).await
    }

    pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> Harness {
        Harness::start_over(|memory| memory, adjust).await
    }

    /// Ingress over `front(memory broker)`: a broker in front of the memory one that
    /// `executions()` and `announce_change` still use.
    pub async fn start_over(
        front: impl FnOnce(Arc<MemoryBroker>) -> Arc<dyn Broker>,
        adjust: impl FnOnce(&mut Config),
    ) -> Harness {
        let config_api = StubConfigApi::start();
        let broker = MemoryBroker::new();
        let mut config = Config::defaults(Service::Ingress);
        config.config_api_url = config_api.url.parse().expect("url");
        // Ingress holds only its own token, never the admin token.
        config.admin_token = None;
        config.internal_token = Some(TOKEN.into());
        config.shutdown_grace_secs = 2;
        config.publish_timeout_ms = std::num::NonZeroU64::new(500).expect("non-zero");
        adjust(&mut config);
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(hookflow_ingress::serve(
            config,
            listener,
            front(broker.clone()),
            shutdown.clone(),
        ));
        let harness = Harness {
            url,
            broker,
            config_api,
            http: shared::testkit::http_client(),
            shutdown,
            task,
        };
        harness.wait_ready().await;
        harness
    }

    async fn wait_ready(&self) {
        for _ in 0..200 {
            if let Ok(response) = self.http.get(format!("{}/readyz", self.url)).send().await
                && response.status() == 200
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("ingress did not become ready");
    }

    pub fn webhook(&self, key: &str) -> String {
        format!("{}/api/webhook:trigger/{key}", self.url)
    }

    /// The Prometheus text of `/metrics`.
    pub async fn metrics(&self) -> String {
        let response = self
            .http
            .get(format!("{}/metrics", self.url))
            .send()
            .await
            .expect("metrics");
        response.text().await.expect("metrics text")
    }

    pub fn put(&self, definition: TriggerDefinition) {
        self.config_api.definitions.put(definition);
    }

    /// Execution messages published so far.
    pub fn executions(&self) -> Vec<(bool, Outgoing, ExecutionMessage)> {
        self.broker
            .published()
            .into_iter()
            .filter_map(|(route, outgoing)| match route {
                Route::Execution { sync } => {
                    let message = serde_json::from_slice(&outgoing.payload).expect("message");
                    Some((sync, outgoing, message))
                }
                _ => None,
            })
            .collect()
    }

    /// Announces a change of `key` as config-api would.
    pub async fn announce_change(&self, key: &str) {
        let event = ChangeEvent {
            workflow_id: Uuid::now_v7(),
            key: key.into(),
            change: ChangeKind::Updated,
        };
        self.broker
            .publish(
                Route::Change,
                Outgoing {
                    payload: serde_json::to_vec(&event).expect("event"),
                    ..Outgoing::default()
                },
            )
            .await
            .expect("publish change");
    }

    /// Answers every sync execution with what `answer` makes of it, as an executor would.
    pub async fn answer_sync_with(
        &self,
        answer: impl Fn(&ExecutionMessage) -> SyncReply + Send + 'static,
    ) -> JoinHandle<()> {
        let broker = self.broker.clone();
        let mut executions = broker
            .subscribe(Source::Executions {
                sync: true,
                prefetch: 8,
            })
            .await
            .expect("subscribe");
        tokio::spawn(async move {
            while let Some(delivery) = executions.next().await {
                let message: ExecutionMessage =
                    serde_json::from_slice(&delivery.payload).expect("message");
                let reply = answer(&message);
                let outgoing = Outgoing {
                    payload: serde_json::to_vec(&reply).expect("reply"),
                    correlation_id: delivery.correlation_id.clone(),
                    ..Outgoing::default()
                };
                let address = delivery.reply_to.clone().expect("reply_to");
                broker
                    .publish(Route::Reply(address), outgoing)
                    .await
                    .expect("reply");
                delivery.settle.ack().await.expect("ack");
            }
        })
    }

    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.shutdown.cancel();
        (&mut self.task).await?
    }
}

/// The memory broker, except that no execution message is ever confirmed in time, as
/// RabbitMQ answers when its confirm is late.
pub struct LateConfirms(pub Arc<MemoryBroker>);

#[async_trait]
impl Broker for LateConfirms {
    async fn publish(&self, route: Route, message: Outgoing) -> Result<(), BrokerError> {
        match route {
            Route::Execution { .. } => Err(BrokerError::ConfirmTimeout),
            other => self.0.publish(other, message).await,
        }
    }
    async fn subscribe(&self, source: Source) -> Result<BoxStream<'static, Incoming>, BrokerError> {
        self.0.subscribe(source).await
    }
    fn reply_address(&self) -> String {
        self.0.reply_address()
    }
    fn is_ready(&self) -> bool {
        self.0.is_ready()
    }
    fn readiness(&self) -> watch::Receiver<bool> {
        self.0.readiness()
    }
    async fn close(&self) {
        self.0.close().await;
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}
