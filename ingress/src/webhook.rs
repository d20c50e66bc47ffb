//! `POST /api/webhook:trigger/{key}`: authenticate, parse, queue, answer (docs/webhooks.md).

use std::{
    collections::BTreeMap,
    sync::Arc,
    time::{Duration, Instant},
};

use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use chrono::Utc;
use shared::{
    broker::{Broker, Outgoing, Route, Topology},
    messages::{self, Envelope, ExecutionMessage},
    shape::ShapeLimits,
};
use tokio::sync::Semaphore;
use tracing::Instrument;
use uuid::Uuid;

use crate::{
    allowed_ips, basic_auth, body,
    budget::BodyBudget,
    context,
    error::WebhookError,
    idempotency, instruments,
    rate_limit::RateLimits,
    replies::Replies,
    respond, server_span, signature,
    triggers::{self, TriggerCache, Webhook},
};

/// What the webhook handler works with.
pub struct Ingress {
    /// Where executions are queued.
    pub broker: Arc<dyn Broker>,
    /// Trigger definitions.
    pub triggers: Arc<TriggerCache>,
    /// Sync callers waiting for replies.
    pub replies: Arc<Replies>,
    /// Bounds publishes awaiting a confirm; beyond it callers get 503 rather than queueing
    /// in memory.
    pub publishes: Semaphore,
    /// Largest accepted body.
    pub max_body_bytes: usize,
    /// How deep and how large a parsed body or query may be.
    pub shape_limits: ShapeLimits,
    /// The bytes of all bodies being read or held at once.
    pub budget: BodyBudget,
    /// How long a caller may take to send its body.
    pub body_read_timeout: Duration,
    /// The exchange executions are published to (named on the `send` span).
    pub executions_exchange: String,
    /// `rateLimit` buckets by webhook key.
    pub rate_limits: RateLimits,
    /// The proxies whose `X-Forwarded-For` entries tell the caller's address.
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

/// Registers the webhook route: POST runs the workflow, any other method gets 405.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/api/webhook:trigger/{key}")
            .route(web::post().to(trigger))
            .default_service(web::to(method_not_allowed)),
    );
}

/// Runs the workflow of `key` for one webhook call, in the call's server span.
pub async fn trigger(
    request: HttpRequest,
    key: web::Path<String>,
    payload: web::Payload,
    ingress: web::Data<Ingress>,
) -> HttpResponse {
    let span = server_span::webhook(&request, &key);
    let response = answer(request, key, payload, ingress)
        .instrument(span.clone())
        .await;
    server_span::record_status(&span, response.status());
    response
}

async fn answer(
    request: HttpRequest,
    key: web::Path<String>,
    payload: web::Payload,
    ingress: web::Data<Ingress>,
) -> HttpResponse {
    let started = Instant::now();
    let mut mode = "none";
    let response = match handle(&request, &key, payload, &ingress, &mut mode).await {
        Ok(response) => response,
        Err(err) => {
            tracing::info!(status = err.status_code().as_u16(), error = %err, "webhook call refused");
            err.error_response()
        }
    };
    instruments::record_request(mode, response.status().as_u16(), started.elapsed());
    response
}

async fn method_not_allowed() -> HttpResponse {
    let response = WebhookError::MethodNotAllowed.error_response();
    instruments::record_request("none", response.status().as_u16(), Duration::ZERO);
    response
}

/// Checks in the order docs/webhooks.md lists: 404, 403 (`allowedIps`), 401 (basic auth), 413, 415,
/// 401 (`signature`, over the raw body), 429 (`rateLimit`), 400, then publishes. The rate limit
/// counts only calls that proved who they are, so a flood of unauthenticated calls cannot use
/// up the real sender's bucket.
async fn handle(
    request: &HttpRequest,
    key: &str,
    payload: web::Payload,
    ingress: &Ingress,
    mode: &mut &'static str,
) -> Result<HttpResponse, WebhookError> {
    let webhook = find(ingress, key).await?;
    let definition = &webhook.definition;
    *mode = if definition.sync { "sync" } else { "async" };
    tracing::Span::current().record("mode", *mode);

    let headers = request.headers();
    if let Some(allowed) = &definition.trigger.allowed_ips {
        let caller = allowed_ips::caller(request, &ingress.trusted_proxies);
        allowed_ips::check(allowed, caller)?;
    }
    if let Some(expected) = &definition.trigger.basic_authentication {
        basic_auth::verify(headers, expected)?;
    }
    let kind = body::classify(headers);
    let reading = body::read_limited(headers, payload, ingress.max_body_bytes, &ingress.budget);
    let (bytes, mut held) = tokio::time::timeout(ingress.body_read_timeout, reading)
        .await
        .map_err(|_| WebhookError::BodyTimeout {
            timeout_ms: u64::try_from(ingress.body_read_timeout.as_millis()).unwrap_or(u64::MAX),
        })??;
    let kind = kind?;
    if let Some(settings) = &definition.trigger.signature {
        signature::verify(settings, headers, &bytes)?;
    }
    ingress.rate_limits.admit(definition)?;
    let parsed = body::parse(kind, &bytes, &ingress.shape_limits)?;
    let encoded_size = bytes.len();
    // What tells two calls with one idempotency key apart, taken before the body is dropped.
    let request_digest = definition
        .trigger
        .idempotency_key
        .is_some()
        .then(|| messages::request_digest(request.query_string(), &bytes));
    // A sync call may wait for seconds: hold neither the body nor the message meanwhile.
    drop(bytes);
    let mut context = context::build(
        headers,
        request.query_string(),
        &definition.trigger.request,
        parsed,
        &ingress.shape_limits,
    )?;
    // What the call holds from here: the built context and, while it is published, the
    // encoded message (about the size of the body). Counted, so that many small bodies of
    // many tiny values cannot build past the budget.
    ingress.budget.grow(
        &mut held,
        shared::shape::approximate_size(&context) + encoded_size,
    )?;

    let message = ExecutionMessage {
        execution_id: Uuid::now_v7(),
        workflow_id: definition.workflow_id,
        workflow_key: definition.key.clone(),
        version: definition.version,
        sync: definition.sync,
        idempotency: idempotency::key_of(
            &definition.trigger,
            &mut context,
            || context::all_headers(headers),
            request_digest,
        ),
        context,
        received_at: Utc::now(),
        sync_timeout_ms: definition.sync.then(|| definition.options.timeout_ms()),
    };
    let execution_id = message.execution_id;
    tracing::Span::current().record(
        "execution_id",
        tracing::field::display(message.execution_id),
    );

    if definition.sync {
        let timeout_ms = definition.options.timeout_ms();
        let timeout_answer = definition
            .options
            .timeout_response
            .as_ref()
            .map(|spec| respond::timeout_answer(spec, execution_id, &message.context));
        let waiter = ingress.replies.register(message.execution_id);
        publish(ingress, &message).await?;
        drop(message);
        drop(held);
        match waiter.wait(Duration::from_millis(timeout_ms)).await {
            Some(reply) if reply.idempotency_conflict => Err(WebhookError::IdempotencyConflict),
            // The execution whose answer this is: for a repeated idempotency key, the
            // original one, which is the one recorded.
            Some(reply) => Ok(respond::with_execution_id(
                respond::sync_reply(&reply),
                reply.execution_id,
            )),
            None => {
                instruments::sync_timeout();
                if let Some(answer) = timeout_answer {
                    return Ok(respond::with_execution_id(answer.response(), execution_id));
                }
                Err(WebhookError::Timeout {
                    timeout_ms,
                    execution_id,
                })
            }
        }
    } else {
        publish(ingress, &message).await?;
        Ok(respond::with_execution_id(
            webhook.answer.response(),
            execution_id,
        ))
    }
}

/// The enabled workflow answering at `key`.
async fn find(ingress: &Ingress, key: &str) -> Result<Arc<Webhook>, WebhookError> {
    if !triggers::is_plausible_key(key) {
        return Err(WebhookError::NotFound);
    }
    match ingress.triggers.get(key).await {
        Ok(Some(webhook)) if webhook.definition.enabled => Ok(webhook),
        Ok(_) => Err(WebhookError::NotFound),
        Err(err) => {
            tracing::warn!(error = %err, "cannot fetch the trigger definition");
            Err(WebhookError::DefinitionsUnavailable)
        }
    }
}

/// Queues `message` durably; `Ok` only once the broker confirmed it.
/// The `send` span follows the OpenTelemetry messaging conventions for RabbitMQ.
#[tracing::instrument(
    name = "send",
    skip_all,
    fields(
        otel.kind = "producer",
        otel.status_code = tracing::field::Empty,
        messaging.system = "rabbitmq",
        messaging.operation.type = "send",
        messaging.operation.name = "send",
        messaging.destination.name = %ingress.executions_exchange,
        messaging.rabbitmq.destination.routing_key = Topology::execution_routing_key(message.sync),
        messaging.message.id = %message.execution_id,
        messaging.message.body.size = tracing::field::Empty,
    )
)]
async fn publish(ingress: &Ingress, message: &ExecutionMessage) -> Result<(), WebhookError> {
    let Ok(_permit) = ingress.publishes.try_acquire() else {
        tracing::warn!("too many publishes awaiting a confirm; refusing the call");
        tracing::Span::current().record("otel.status_code", "error");
        return Err(WebhookError::Overloaded);
    };
    let payload = serde_json::to_vec(message).map_err(|err| {
        tracing::error!(error = %err, "cannot serialise the execution message");
        WebhookError::QueueUnavailable
    })?;
    tracing::Span::current().record("messaging.message.body.size", payload.len());
    let id = message.execution_id.to_string();
    let mut headers = BTreeMap::new();
    shared::telemetry::inject_current(&mut headers);
    Envelope::of(message).write(&mut headers);
    let outgoing = Outgoing {
        payload,
        headers,
        message_id: Some(id.clone()),
        correlation_id: message.sync.then(|| id.clone()),
        reply_to: message.sync.then(|| ingress.broker.reply_address()),
    };
    let route = Route::Execution { sync: message.sync };
    let confirming = Instant::now();
    // The broker bounds the confirm (`publish_timeout_ms`): a late one is `ConfirmTimeout`.
    let published = ingress.broker.publish(route, outgoing).await;
    instruments::publish_confirm(message.sync, &published, confirming.elapsed());
    published.map_err(|err| {
        tracing::warn!(error = %err, "execution not queued");
        tracing::Span::current().record("otel.status_code", "error");
        WebhookError::QueueUnavailable
    })
}
