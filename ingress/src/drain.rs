//! Graceful shutdown of webhook calls: once draining, new calls are refused with `503` and
//! `Retry-After` while the listener stays open (so probes see `/readyz` 503 and callers a
//! clean refusal), and the calls in progress are counted until they have all answered.

use std::sync::Arc;
use std::time::Duration;

use actix_web::{
    Error, ResponseError,
    body::{EitherBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    middleware::Next,
    web,
};
use tokio_util::{
    sync::CancellationToken,
    task::{TaskTracker, task_tracker::TaskTrackerToken},
};

use crate::{error::WebhookError, instruments};

/// Paths whose calls are drained; health and metrics keep answering to the end.
const WEBHOOK_PATHS: &str = "/api/webhook:trigger/";

/// Webhook calls in progress, and whether the service drains.
pub struct Drain {
    shutdown: CancellationToken,
    calls: TaskTracker,
}

impl Drain {
    /// Admits calls until `shutdown` is cancelled.
    pub fn new(shutdown: CancellationToken) -> Arc<Self> {
        Arc::new(Drain {
            shutdown,
            calls: TaskTracker::new(),
        })
    }

    /// Resolves once the drain has started and no call is in progress.
    pub async fn finished(&self) {
        self.shutdown.cancelled().await;
        self.calls.close();
        self.calls.wait().await;
    }

    /// Counts a call in; `None` (and not counted) while draining.
    fn enter(&self) -> Option<TaskTrackerToken> {
        // Counted before the token is read: a drain that starts in between waits for it.
        let call = self.calls.token();
        (!self.shutdown.is_cancelled()).then_some(call)
    }
}

/// Middleware: counts webhook calls in, or refuses them while draining.
pub async fn admit(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let drain = request.app_data::<web::Data<Drain>>().cloned();
    let call = match drain {
        Some(drain) if request.path().starts_with(WEBHOOK_PATHS) => match drain.enter() {
            Some(call) => Some(call),
            None => {
                let refusal = WebhookError::Draining.error_response();
                instruments::record_request("none", refusal.status().as_u16(), Duration::ZERO);
                return Ok(request.into_response(refusal).map_into_right_body());
            }
        },
        _ => None,
    };
    let response = next.call(request).await;
    drop(call);
    response.map(ServiceResponse::map_into_left_body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_drain_waits_for_calls_in_progress_and_refuses_new_ones() {
        let shutdown = CancellationToken::new();
        let drain = Drain::new(shutdown.clone());
        let call = drain.enter().expect("admitted before the drain");
        shutdown.cancel();
        assert!(drain.enter().is_none(), "refused while draining");
        let finished = tokio::spawn({
            let drain = Arc::clone(&drain);
            async move { drain.finished().await }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!finished.is_finished(), "a call is still in progress");
        drop(call);
        tokio::time::timeout(Duration::from_secs(1), finished)
            .await
            .expect("finished once the call answered")
            .expect("join");
    }
}
