//! Delivery guarantees end to end (docs/workflows.md "The trigger", docs/guarantees.md):
//! idempotency keys, back-pressure, and graceful shutdown of ingress and executor, over the
//! real PostgreSQL and RabbitMQ.

#[path = "common/mod.rs"]
mod common;

use std::{
    collections::HashSet,
    sync::Arc,
    time::{Duration, Instant},
};

use async_trait::async_trait;
use common::{Stack, Workflow, json_of, webhook_on};
use futures_util::{StreamExt, future::join_all, stream::BoxStream};
use serde_json::{Value, json};
use shared::{
    broker::{AmqpBroker, Broker, BrokerError, Incoming, Outgoing, Route, Source},
    config::Service,
    testkit::{ADMIN_TOKEN, http_status, start_service},
};
use tokio::sync::{Notify, watch};

const EXECUTION_ID: &str = "x-hookflow-execution-id";

fn execution_id_of(response: &reqwest::Response) -> String {
    response
        .headers()
        .get(EXECUTION_ID)
        .expect("an accepted call names its execution")
        .to_str()
        .expect("ascii")
        .to_owned()
}

/// `GET /api/executions/{id}`: its status code and body.
async fn execution(stack_http: &reqwest::Client, config_api: &str, id: &str) -> (u16, Value) {
    let response = stack_http
        .get(format!("{config_api}/api/executions/{id}"))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .expect("config-api");
    let status = response.status().as_u16();
    (status, json_of(response).await)
}

/// Waits until the workflow's newest execution is `started`: an executor holds it.
async fn until_started(stack: &Stack, workflow: &Workflow) -> String {
    let deadline = Instant::now() + common::RECORD_WAIT;
    loop {
        let items = stack.executions(workflow).await;
        if let Some(started) = items.iter().find(|item| item["status"] == "started") {
            return started["id"].as_str().expect("id").to_owned();
        }
        assert!(Instant::now() < deadline, "no execution started: {items:?}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

fn keyed_async_workflow() -> Value {
    json!({
        "title": "Order events",
        "sync": false,
        "trigger": {
            "type": "webhook",
            // The key reads a header that `request.headers` does not list.
            "response": {"statusCode": 202, "body": {"accepted": true}},
            "idempotencyKey": "{{$context.headers.x-request-id}}"
        },
        "nodes": [{"key": "done", "type": "end", "config": {"endStatus": 1}}]
    })
}

#[tokio::test]
async fn a_repeated_key_gets_the_configured_answer_and_starts_no_execution() {
    let stack = Stack::start().await;
    let workflow = stack.create_workflow(keyed_async_workflow()).await;
    let send = |request_id: &'static str| {
        stack
            .http
            .post(stack.webhook(&workflow.key))
            .header("X-Request-Id", request_id)
            .json(&json!({"order": request_id}))
            .send()
    };

    let mut ids = Vec::new();
    for request_id in ["evt-1", "evt-1", "evt-2"] {
        let response = send(request_id).await.expect("ingress");
        assert_eq!(response.status(), 202, "{request_id}");
        ids.push(execution_id_of(&response));
        assert_eq!(json_of(response).await, json!({"accepted": true}));
    }
    let [first, repeat, other] = <[String; 3]>::try_from(ids).expect("three ids");
    assert_ne!(first, repeat, "ingress names each call's own message");

    stack.finished_executions(&workflow, 2).await;
    // The repeat was queued before `evt-2`, whose execution is recorded by now; a little
    // longer covers a repeat still being settled.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let recorded: HashSet<String> = stack
        .executions(&workflow)
        .await
        .iter()
        .map(|item| item["id"].as_str().expect("id").to_owned())
        .collect();
    // Executors run deliveries concurrently, so either message of the repeated key may
    // claim it first; what is promised is that exactly one of them runs.
    let (winner, loser) = if recorded.contains(&first) {
        (first, repeat)
    } else {
        (repeat, first)
    };
    assert_eq!(recorded, HashSet::from([winner.clone(), other]));
    let (status, body) = execution(&stack.http, &stack.config_api.url, &loser).await;
    assert_eq!(
        status, 404,
        "the other call of the key is not recorded: {body}"
    );
    let (_, original) = execution(&stack.http, &stack.config_api.url, &winner).await;
    assert_eq!(original["status"], "resolved");
}

#[tokio::test]
async fn concurrent_sync_calls_with_one_key_share_one_execution() {
    let stack = Stack::start().await;
    let workflow = stack
        .create_workflow(json!({
            "title": "Payments",
            "sync": true,
            "trigger": {"type": "webhook", "idempotencyKey": "{{$context.body.id}}"},
            "options": {"timeout": 10000},
            "nodes": [
                {"key": "settle", "type": "delay", "config": {"duration": 500, "endStatus": 1}},
                {"key": "answer", "type": "response", "config": {
                    "statusCode": 201,
                    "body": {"execution": "{{$execution.id}}", "payment": "{{$context.body.id}}"}
                }}
            ]
        }))
        .await;

    let calls = (0..10).map(|_| async {
        let response = stack.call(&workflow, json!({"id": "pay-1"})).await;
        let status = response.status().as_u16();
        let id = execution_id_of(&response);
        (status, id, json_of(response).await)
    });
    let answers = join_all(calls).await;

    let bodies: HashSet<String> = answers
        .iter()
        .map(|(_, _, body)| body.to_string())
        .collect();
    assert_eq!(
        bodies.len(),
        1,
        "every caller gets the same answer: {answers:?}"
    );
    assert!(
        answers.iter().all(|(status, _, _)| *status == 201),
        "{answers:?}"
    );
    let answer = &answers[0].2;
    assert_eq!(answer["payment"], "pay-1");
    let original = answer["execution"].as_str().expect("execution id");
    // Every caller is told the execution whose answer it got: the one recorded.
    let ids: HashSet<&str> = answers.iter().map(|(_, id, _)| id.as_str()).collect();
    assert_eq!(ids, HashSet::from([original]), "{answers:?}");

    let recorded = stack.finished_executions(&workflow, 1).await;
    assert_eq!(recorded.len(), 1, "exactly one execution: {recorded:?}");
    assert_eq!(recorded[0]["id"], original);

    // A repeat after the original finished is answered from its record at once.
    let later = stack.call(&workflow, json!({"id": "pay-1"})).await;
    assert_eq!(later.status(), 201);
    assert_eq!(execution_id_of(&later), original);
    assert_eq!(&json_of(later).await, answer);
    // Another key is another event.
    let fresh = stack.call(&workflow, json!({"id": "pay-2"})).await;
    assert_eq!(fresh.status(), 201);
    let fresh = json_of(fresh).await;
    assert_eq!(fresh["payment"], "pay-2");
    assert_ne!(fresh["execution"], answer["execution"]);
    assert_eq!(stack.finished_executions(&workflow, 2).await.len(), 2);
}

#[tokio::test]
async fn a_sync_repeat_with_another_request_is_a_conflict_that_reads_nothing() {
    let stack = Stack::start().await;
    let workflow = stack
        .create_workflow(json!({
            "title": "Refunds",
            "sync": true,
            "trigger": {"type": "webhook", "request": {"headers": [{"key": "X-Request-Id"}]},
                        "idempotencyKey": "{{$context.headers.x-request-id}}"},
            "nodes": [{"key": "answer", "type": "response", "config": {
                "statusCode": 201, "body": {"refund": "{{$context.body.amount}}"}}}]
        }))
        .await;
    let send = |query: &'static str, body: Value| {
        stack
            .http
            .post(format!("{}{query}", stack.webhook(&workflow.key)))
            .header("X-Request-Id", "refund-1")
            .json(&body)
            .send()
    };
    let first = send("", json!({"amount": 10})).await.expect("ingress");
    assert_eq!(first.status(), 201);
    assert_eq!(json_of(first).await, json!({"refund": 10}));

    for (query, body) in [
        ("", json!({"amount": 9999})),
        ("?to=other", json!({"amount": 10})),
    ] {
        let squatter = send(query, body).await.expect("ingress");
        assert_eq!(squatter.status(), 409, "{query}");
        assert!(
            squatter.headers().get(EXECUTION_ID).is_none(),
            "nothing was accepted"
        );
        assert_eq!(
            json_of(squatter).await,
            json!({"error": "idempotency_conflict", "message": "This idempotency key was already used by a call with another query string or body; nothing ran, and retrying with the same key will not change that."})
        );
    }
    // The first caller's own repeat still gets its answer.
    let repeat = send("", json!({"amount": 10})).await.expect("ingress");
    assert_eq!(repeat.status(), 201);
    assert_eq!(json_of(repeat).await, json!({"refund": 10}));
    assert_eq!(stack.finished_executions(&workflow, 1).await.len(), 1);
}

#[tokio::test]
async fn an_async_repeat_with_another_body_gets_the_configured_answer_and_runs_nothing() {
    let stack = Stack::start().await;
    let workflow = stack.create_workflow(keyed_async_workflow()).await;
    let send = |body: Value| {
        stack
            .http
            .post(stack.webhook(&workflow.key))
            .header("X-Request-Id", "evt-9")
            .json(&body)
            .send()
    };
    let first = send(json!({"order": 1})).await.expect("ingress");
    assert_eq!(first.status(), 202);
    let first = execution_id_of(&first);
    stack.finished_executions(&workflow, 1).await;

    let squatter = send(json!({"order": 2})).await.expect("ingress");
    assert_eq!(squatter.status(), 202);
    let squatter = execution_id_of(&squatter);
    assert_eq!(
        json_of(send(json!({"order": 2})).await.expect("ingress")).await,
        json!({"accepted": true})
    );
    // Both repeats are settled by the time a later call's execution is recorded.
    let later = stack
        .http
        .post(stack.webhook(&workflow.key))
        .header("X-Request-Id", "evt-10")
        .json(&json!({"order": 3}))
        .send()
        .await
        .expect("ingress");
    assert_eq!(later.status(), 202);
    stack.finished_executions(&workflow, 2).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let recorded = stack.executions(&workflow).await;
    assert_eq!(recorded.len(), 2, "{recorded:?}");
    assert!(recorded.iter().any(|item| item["id"] == first.as_str()));
    let (status, _) = execution(&stack.http, &stack.config_api.url, &squatter).await;
    assert_eq!(status, 404, "the conflicting call ran nothing");
}

/// RabbitMQ with a gate in front of execution publishes, to hold one in flight.
struct GatedBroker {
    inner: Arc<AmqpBroker>,
    open: watch::Sender<bool>,
    holding: Notify,
}

#[async_trait]
impl Broker for GatedBroker {
    async fn publish(&self, route: Route, message: Outgoing) -> Result<(), BrokerError> {
        if matches!(route, Route::Execution { .. }) {
            self.holding.notify_one();
            let _ = self.open.subscribe().wait_for(|open| *open).await;
        }
        self.inner.publish(route, message).await
    }
    async fn subscribe(&self, source: Source) -> Result<BoxStream<'static, Incoming>, BrokerError> {
        self.inner.subscribe(source).await
    }
    fn reply_address(&self) -> String {
        self.inner.reply_address()
    }
    fn is_ready(&self) -> bool {
        self.inner.is_ready()
    }
    fn readiness(&self) -> watch::Receiver<bool> {
        self.inner.readiness()
    }
    async fn close(&self) {
        self.inner.close().await;
    }
}

#[tokio::test]
async fn calls_beyond_the_publishes_in_flight_get_503_with_retry_after() {
    let stack = Stack::start().await;
    let workflow = stack
        .create_workflow(json!({"title": "Busy", "trigger": {"type": "webhook"}, "nodes": []}))
        .await;
    let mut config = stack.ingress_config();
    config.max_inflight_publishes = std::num::NonZeroUsize::MIN;
    let gated = Arc::new(GatedBroker {
        inner: AmqpBroker::start(&config),
        open: watch::Sender::new(false),
        holding: Notify::new(),
    });
    let broker: Arc<dyn Broker> = gated.clone();
    let ingress = start_service(
        move |config, listener, shutdown| {
            hookflow_ingress::serve(config, listener, broker, shutdown)
        },
        config,
    )
    .await;
    let url = webhook_on(&ingress, &workflow.key);

    let held = tokio::spawn(stack.http.post(&url).json(&json!({"n": 1})).send());
    tokio::time::timeout(Duration::from_secs(5), gated.holding.notified())
        .await
        .expect("the first publish is in flight");
    let refused = stack
        .http
        .post(&url)
        .json(&json!({"n": 2}))
        .send()
        .await
        .expect("ingress");
    assert_eq!(refused.status(), 503);
    assert_eq!(refused.headers()["retry-after"], "1");
    assert!(!refused.headers().contains_key(EXECUTION_ID));
    assert_eq!(json_of(refused).await["error"], "overloaded");
    // docs/webhooks.md: the async answer is sent only after the broker confirmed the message.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!held.is_finished(), "answered before the broker confirmed");

    gated.open.send_replace(true);
    let accepted = held.await.expect("join").expect("ingress");
    assert_eq!(accepted.status(), 200);
    let id = execution_id_of(&accepted);
    let again = stack.http.post(&url).json(&json!({"n": 3})).send().await;
    assert_eq!(again.expect("ingress").status(), 200, "capacity is back");
    let recorded = stack.finished_executions(&workflow, 2).await;
    assert_eq!(recorded.len(), 2, "the refused call was not accepted");
    assert!(recorded.iter().any(|item| item["id"] == id.as_str()));
    ingress.stop().await.expect("ingress stops");
}

#[tokio::test]
async fn a_draining_ingress_answers_its_calls_in_flight_and_refuses_new_ones() {
    let stack = Stack::start().await;
    let workflow = stack
        .create_workflow(json!({
            "title": "Slow answer",
            "sync": true,
            "trigger": {"type": "webhook"},
            "nodes": [
                {"key": "think", "type": "delay", "config": {"duration": 1500, "endStatus": 1}},
                {"key": "answer", "type": "response", "config": {"body": {"done": true}}}
            ]
        }))
        .await;
    let ingress = start_service(hookflow_ingress::run, stack.ingress_config()).await;
    let url = webhook_on(&ingress, &workflow.key);
    let in_flight = tokio::spawn(stack.http.post(&url).json(&json!({})).send());
    let execution = until_started(&stack, &workflow).await;

    let signalled = Instant::now();
    ingress.signal_stop();
    while http_status(ingress.addr, "/readyz").await != Some(503) {
        assert!(
            signalled.elapsed() < Duration::from_millis(500),
            "/readyz still ready"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(
        !in_flight.is_finished(),
        "the drain began with the call in flight"
    );
    let refused = stack.http.post(&url).json(&json!({})).send().await;
    let refused = refused.expect("the listener stays open while draining");
    assert_eq!(refused.status(), 503);
    assert_eq!(refused.headers()["retry-after"], "1");
    assert_eq!(json_of(refused).await["error"], "unavailable");

    let answered = in_flight
        .await
        .expect("join")
        .expect("answered, not cut off");
    assert_eq!(answered.status(), 200);
    assert_eq!(execution_id_of(&answered), execution);
    assert_eq!(json_of(answered).await, json!({"done": true}));
    tokio::time::timeout(Duration::from_secs(5), ingress.join())
        .await
        .expect("ingress returns once drained")
        .expect("ingress ends cleanly");
    eprintln!("ingress drained in {:?}", signalled.elapsed());
}

#[tokio::test]
async fn a_stopping_executor_finishes_and_acknowledges_what_it_holds() {
    let stack = Stack::start().await;
    let workflow = stack
        .create_workflow(json!({
            "title": "Slow work",
            "trigger": {"type": "webhook"},
            "nodes": [
                {"key": "work", "type": "delay", "config": {"duration": 1500, "endStatus": 1}}
            ]
        }))
        .await;
    let accepted = stack.call(&workflow, json!({"n": 1})).await;
    assert_eq!(accepted.status(), 200);
    let id = execution_id_of(&accepted);
    assert_eq!(until_started(&stack, &workflow).await, id);

    let signalled = Instant::now();
    let executor = stack.executor;
    executor.signal_stop();
    tokio::time::timeout(Duration::from_secs(10), executor.join())
        .await
        .expect("executor returns within its grace period")
        .expect("executor ends cleanly");
    eprintln!("executor drained in {:?}", signalled.elapsed());

    let (status, recorded) = execution(&stack.http, &stack.config_api.url, &id).await;
    assert_eq!(status, 200);
    assert_eq!(recorded["status"], "resolved", "{recorded}");
    let pool = stack.env.pool();
    let client = pool.get().await.expect("database");
    let uuid = uuid::Uuid::parse_str(&id).expect("uuid");
    let attempts: i32 = client
        .query_one("SELECT attempts FROM executions WHERE id = $1", &[&uuid])
        .await
        .expect("row")
        .get(0);
    assert_eq!(attempts, 1, "run once, not handed back");

    // Acknowledged: nothing is left in the queue for the next executor.
    let probe = AmqpBroker::start(&stack.env.config(Service::Executor));
    assert!(probe.wait_ready(Duration::from_secs(10)).await);
    let mut queue = probe
        .subscribe(Source::Executions {
            sync: false,
            prefetch: 1,
        })
        .await
        .expect("subscribe");
    let left = tokio::time::timeout(Duration::from_secs(1), queue.next()).await;
    assert!(left.is_err(), "a message was left in the queue");
    probe.close().await;
}
