//! The baselines: what RabbitMQ itself manages through `AmqpBroker` — confirmed publishes
//! (consumed by a bare consumer in `broker_ceiling.rs`), and request/reply round trips with
//! a consumer that answers at once.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use chrono::Utc;
use futures_util::{FutureExt, StreamExt, future::BoxFuture};
use serde_json::{Value, json};
use shared::{
    broker::{AmqpBroker, Broker, BrokerError, Outgoing, Route, Source},
    config::Config,
    messages::{ExecutionMessage, SyncReply},
};
use tokio::{sync::oneshot, task::JoinHandle};

use crate::load::Outcome;
use uuid::Uuid;

/// How long one baseline round trip may wait for its reply.
const REPLY_TIMEOUT: Duration = Duration::from_secs(5);

/// A connected broker on `config`'s prefix.
pub async fn connect(config: &Config) -> Arc<AmqpBroker> {
    let broker = AmqpBroker::start(config);
    assert!(
        broker.wait_ready(Duration::from_secs(15)).await,
        "RabbitMQ must run on 127.0.0.1:5672 (scripts/ensure-services)"
    );
    broker
}

/// The execution message ingress would publish for `body`, serialised: the baseline sends
/// messages of the same size. Written as JSON so that new optional fields of
/// [`ExecutionMessage`] do not break the benchmark; it must still read as one.
pub fn execution_payload(body: &Value, sync: bool) -> Vec<u8> {
    let mut message = json!({
        "executionId": Uuid::now_v7(),
        "workflowId": Uuid::now_v7(),
        "workflowKey": "benchmark01",
        "version": 1,
        "sync": sync,
        "context": {"headers": {"x-request-id": "r-1"}, "query": {}, "body": body},
        "receivedAt": Utc::now(),
    });
    if sync {
        message["syncTimeoutMs"] = json!(5000);
    }
    let payload = serde_json::to_vec(&message).expect("an execution message serialises");
    serde_json::from_slice::<ExecutionMessage>(&payload).expect("an execution message");
    payload
}

/// One confirmed publish of `payload` to the async execution queue per call.
pub fn publisher(
    broker: Arc<AmqpBroker>,
    payload: Vec<u8>,
) -> impl Fn() -> BoxFuture<'static, Outcome> + Clone + Send + 'static {
    move || {
        let broker = Arc::clone(&broker);
        let message = Outgoing {
            payload: payload.clone(),
            message_id: Some(Uuid::now_v7().to_string()),
            ..Outgoing::default()
        };
        async move {
            broker
                .publish(Route::Execution { sync: false }, message)
                .await
                .map_err(|err| reason(&err))
        }
        .boxed()
    }
}

/// A broker error's kind, without its details.
fn reason(err: &BrokerError) -> String {
    let text = err.to_string();
    text.split(':').next().unwrap_or_default().to_owned()
}

type Waiting = Arc<Mutex<HashMap<String, oneshot::Sender<()>>>>;

/// A caller and a responder on separate connections, like ingress and an executor.
pub struct RoundTrips {
    caller: Arc<AmqpBroker>,
    responder: Arc<AmqpBroker>,
    waiting: Waiting,
    payload: Vec<u8>,
    tasks: Vec<JoinHandle<()>>,
}

impl RoundTrips {
    /// Connects both sides on `config`'s prefix; requests carry `payload`.
    pub async fn start(config: &Config, payload: Vec<u8>) -> Arc<RoundTrips> {
        let caller = connect(config).await;
        let responder = connect(config).await;
        let waiting: Waiting = Arc::default();
        let replies = caller
            .subscribe(Source::Replies)
            .await
            .expect("subscribe to replies");
        let requests = responder
            .subscribe(Source::Executions {
                sync: true,
                prefetch: config.executor_prefetch.get(),
            })
            .await
            .expect("subscribe to sync executions");
        let tasks = vec![
            tokio::spawn(wake_callers(replies, Arc::clone(&waiting))),
            tokio::spawn(answer(requests, Arc::clone(&responder))),
        ];
        let trips = Arc::new(RoundTrips {
            caller,
            responder,
            waiting,
            payload,
            tasks,
        });
        // Replies published before the reply queue is consumed are lost: wait for one.
        let mut answered = false;
        for _ in 0..30 {
            if trips.round_trip(Duration::from_millis(500)).await.is_ok() {
                answered = true;
                break;
            }
        }
        assert!(answered, "no raw AMQP round trip completed");
        trips
    }

    /// Publishes one request with a confirm and waits for its reply.
    pub async fn round_trip(&self, timeout: Duration) -> Outcome {
        let id = Uuid::now_v7().to_string();
        let (tx, rx) = oneshot::channel();
        self.waiting_map().insert(id.clone(), tx);
        let request = Outgoing {
            payload: self.payload.clone(),
            message_id: Some(id.clone()),
            correlation_id: Some(id.clone()),
            reply_to: Some(self.caller.reply_address()),
            ..Outgoing::default()
        };
        let answered = match self
            .caller
            .publish(Route::Execution { sync: true }, request)
            .await
        {
            Ok(()) => match tokio::time::timeout(timeout, rx).await {
                Ok(Ok(())) => Ok(()),
                _ => Err("no reply".to_owned()),
            },
            Err(err) => Err(reason(&err)),
        };
        if answered.is_err() {
            self.waiting_map().remove(&id);
        }
        answered
    }

    /// One round trip per call.
    pub fn caller(
        self: &Arc<Self>,
    ) -> impl Fn() -> BoxFuture<'static, Outcome> + Clone + Send + use<> {
        let trips = Arc::clone(self);
        move || {
            let trips = Arc::clone(&trips);
            async move { trips.round_trip(REPLY_TIMEOUT).await }.boxed()
        }
    }

    /// Stops consuming and closes both connections.
    pub async fn close(&self) {
        for task in &self.tasks {
            task.abort();
        }
        self.caller.close().await;
        self.responder.close().await;
    }

    fn waiting_map(&self) -> std::sync::MutexGuard<'_, HashMap<String, oneshot::Sender<()>>> {
        self.waiting
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Hands each reply to the caller waiting for its correlation id.
async fn wake_callers(
    mut replies: futures_util::stream::BoxStream<'static, shared::broker::Incoming>,
    waiting: Waiting,
) {
    while let Some(reply) = replies.next().await {
        let _ = reply.settle.ack().await;
        let Some(id) = reply.correlation_id else {
            continue;
        };
        let caller = waiting
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .remove(&id);
        if let Some(caller) = caller {
            let _ = caller.send(());
        }
    }
}

/// Answers every request at once with a reply the size of an executor's, then acks it.
async fn answer(
    mut requests: futures_util::stream::BoxStream<'static, shared::broker::Incoming>,
    responder: Arc<AmqpBroker>,
) {
    let reply = json!({
        "executionId": Uuid::now_v7(),
        "status": "resolved",
        "response": {"statusCode": 200, "headers": [], "body": {"code": 0, "id": 1001}},
    });
    let payload = serde_json::to_vec(&reply).expect("a reply serialises");
    serde_json::from_slice::<SyncReply>(&payload).expect("a sync reply");
    while let Some(request) = requests.next().await {
        let responder = Arc::clone(&responder);
        let payload = payload.clone();
        tokio::spawn(async move {
            if let Some(reply_to) = request.reply_to.clone() {
                let reply = Outgoing {
                    payload,
                    correlation_id: request.correlation_id.clone(),
                    ..Outgoing::default()
                };
                let _ = responder.publish(Route::Reply(reply_to), reply).await;
            }
            let _ = request.settle.ack().await;
        });
    }
}
