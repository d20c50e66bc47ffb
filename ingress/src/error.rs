//! Every way a webhook call can fail, and the HTTP answer each one gets (docs/webhooks.md).

use actix_web::{
    HttpResponse, ResponseError,
    http::{StatusCode, header},
};
use serde_json::json;
use uuid::Uuid;

use crate::respond;

/// Seconds a caller should wait before retrying after a 503.
const RETRY_AFTER_SECS: &str = "1";

/// Why a webhook call was not answered by its workflow.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    /// A method other than POST on a webhook path.
    #[error("webhook URLs accept only POST")]
    MethodNotAllowed,
    /// No enabled workflow has this key.
    #[error("no enabled workflow answers at this URL")]
    NotFound,
    /// Basic authentication is configured and the credentials are missing or wrong.
    #[error("missing or wrong credentials")]
    Unauthorized,
    /// `allowedIps` is configured and the caller is not in it; the sentence says why.
    #[error("{0}")]
    Forbidden(String),
    /// `rateLimit` is exceeded; nothing was accepted.
    #[error(
        "too many calls to this webhook; nothing was accepted, retry after {retry_after_secs} s"
    )]
    RateLimited {
        /// Whole seconds until a call fits again (at least 1), sent as `Retry-After`.
        retry_after_secs: u64,
    },
    /// `signature` is configured and the request's signature is missing, stale or wrong;
    /// the sentence says which.
    #[error("{0}")]
    InvalidSignature(String),
    /// The body is larger than the configured limit.
    #[error("the request body is larger than {limit} bytes")]
    PayloadTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The body or query string holds more values than the configured limit.
    #[error("the request {part} holds more than {limit} values")]
    TooManyValues {
        /// `body` or `query string`.
        part: &'static str,
        /// `HOOKFLOW_MAX_BODY_VALUES`.
        limit: usize,
    },
    /// The Content-Type is not one the webhook accepts.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// The body (or query string) cannot be parsed; the message names what is wrong.
    #[error("{message}")]
    BadRequest {
        /// Machine code: `invalid_body` or `invalid_query`.
        code: &'static str,
        /// One sentence naming the problem.
        message: String,
    },
    /// The workflow definition could not be fetched; nothing was accepted.
    #[error("workflow definitions are unavailable")]
    DefinitionsUnavailable,
    /// The execution could not be queued durably; nothing was accepted.
    #[error("the execution could not be queued")]
    QueueUnavailable,
    /// Too many publishes await a broker confirm (`max_inflight_publishes`), or the bodies
    /// being read or held already fill `max_buffered_bytes`; nothing was accepted.
    #[error("the service is overloaded")]
    Overloaded,
    /// The service is shutting down and takes no new calls; nothing was accepted.
    #[error("the service is shutting down")]
    Draining,
    /// The body did not arrive within `HOOKFLOW_BODY_READ_TIMEOUT_MS`; nothing was accepted.
    #[error("the request body was not received within {timeout_ms} ms; nothing was accepted")]
    BodyTimeout {
        /// The timeout.
        timeout_ms: u64,
    },
    /// A sync call repeated an idempotency key with another query string or body than the
    /// call that first used it; nothing ran.
    #[error(
        "this idempotency key was already used by a call with another query string or body; \
         nothing ran, and retrying with the same key will not change that"
    )]
    IdempotencyConflict,
    /// A sync workflow did not answer within its timeout.
    #[error("the workflow did not answer within {timeout_ms} ms")]
    Timeout {
        /// The workflow's `options.timeout`.
        timeout_ms: u64,
        /// The execution, which continues (sent as `X-Hookflow-Execution-Id`).
        execution_id: Uuid,
    },
}

impl WebhookError {
    /// The machine code of the error body.
    pub fn code(&self) -> &'static str {
        match self {
            WebhookError::MethodNotAllowed => "method_not_allowed",
            WebhookError::NotFound => "not_found",
            WebhookError::Unauthorized => "unauthorized",
            WebhookError::Forbidden(_) => "forbidden",
            WebhookError::RateLimited { .. } => "rate_limited",
            WebhookError::InvalidSignature(_) => "invalid_signature",
            WebhookError::PayloadTooLarge { .. } | WebhookError::TooManyValues { .. } => {
                "payload_too_large"
            }
            WebhookError::UnsupportedMediaType(_) => "unsupported_media_type",
            WebhookError::BadRequest { code, .. } => code,
            WebhookError::DefinitionsUnavailable
            | WebhookError::QueueUnavailable
            | WebhookError::Draining => "unavailable",
            WebhookError::Overloaded => "overloaded",
            WebhookError::Timeout { .. } => "timeout",
            WebhookError::BodyTimeout { .. } => "body_timeout",
            WebhookError::IdempotencyConflict => "idempotency_conflict",
        }
    }

    /// The one human sentence of the error body; it tells the caller whether a retry is safe.
    fn message(&self) -> String {
        match self {
            WebhookError::DefinitionsUnavailable
            | WebhookError::QueueUnavailable
            | WebhookError::Overloaded
            | WebhookError::Draining => {
                format!("The request was not accepted because {self}; it is safe to retry later.")
            }
            WebhookError::Timeout { .. } => {
                format!("{self}; the execution continues and is recorded.")
            }
            _ => {
                let mut sentence = self.to_string();
                if let Some(first) = sentence.get(..1) {
                    let upper = first.to_uppercase();
                    sentence.replace_range(..1, &upper);
                }
                if !sentence.ends_with('.') {
                    sentence.push('.');
                }
                sentence
            }
        }
    }
}

impl ResponseError for WebhookError {
    fn status_code(&self) -> StatusCode {
        match self {
            WebhookError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            WebhookError::NotFound => StatusCode::NOT_FOUND,
            WebhookError::Unauthorized | WebhookError::InvalidSignature(_) => {
                StatusCode::UNAUTHORIZED
            }
            WebhookError::Forbidden(_) => StatusCode::FORBIDDEN,
            WebhookError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            WebhookError::PayloadTooLarge { .. } | WebhookError::TooManyValues { .. } => {
                StatusCode::PAYLOAD_TOO_LARGE
            }
            WebhookError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            WebhookError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            WebhookError::IdempotencyConflict => StatusCode::CONFLICT,
            WebhookError::DefinitionsUnavailable
            | WebhookError::QueueUnavailable
            | WebhookError::Overloaded
            | WebhookError::Draining => StatusCode::SERVICE_UNAVAILABLE,
            WebhookError::Timeout { .. } | WebhookError::BodyTimeout { .. } => {
                StatusCode::REQUEST_TIMEOUT
            }
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        // Errors of the drain middleware become answers past the nosniff middleware.
        response.insert_header(shared::nosniff::HEADER);
        match self {
            WebhookError::MethodNotAllowed => {
                response.insert_header((header::ALLOW, "POST"));
            }
            WebhookError::Unauthorized => {
                response.insert_header((header::WWW_AUTHENTICATE, "Basic realm=\"webhook\""));
            }
            WebhookError::Timeout { execution_id, .. } => {
                response.insert_header((respond::EXECUTION_ID_HEADER, execution_id.to_string()));
            }
            WebhookError::RateLimited { retry_after_secs } => {
                response.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
            }
            _ => {}
        }
        // Every 503 says when to come back, whatever its cause.
        if self.status_code() == StatusCode::SERVICE_UNAVAILABLE {
            response.insert_header((header::RETRY_AFTER, RETRY_AFTER_SECS));
        }
        response.json(json!({"error": self.code(), "message": self.message()}))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::to_bytes;

    async fn body_of(error: WebhookError) -> serde_json::Value {
        let bytes = to_bytes(error.error_response().into_body())
            .await
            .expect("body");
        serde_json::from_slice(&bytes).expect("json")
    }

    #[actix_web::test]
    async fn errors_carry_the_headers_the_spec_requires() {
        let allow = WebhookError::MethodNotAllowed.error_response();
        assert_eq!(allow.status(), 405);
        assert_eq!(allow.headers().get(header::ALLOW).expect("allow"), "POST");

        let auth = WebhookError::Unauthorized.error_response();
        assert_eq!(auth.status(), 401);
        assert_eq!(
            auth.headers()
                .get(header::WWW_AUTHENTICATE)
                .expect("challenge"),
            "Basic realm=\"webhook\""
        );

        for unavailable in [
            WebhookError::QueueUnavailable,
            WebhookError::DefinitionsUnavailable,
            WebhookError::Overloaded,
            WebhookError::Draining,
        ] {
            let response = unavailable.error_response();
            assert_eq!(response.status(), 503);
            assert!(response.headers().contains_key(header::RETRY_AFTER));
        }
    }

    #[actix_web::test]
    async fn error_bodies_are_a_code_and_a_sentence() {
        let body = body_of(WebhookError::PayloadTooLarge { limit: 10 }).await;
        assert_eq!(body["error"], "payload_too_large");
        assert_eq!(body["message"], "The request body is larger than 10 bytes.");
        let body = body_of(WebhookError::QueueUnavailable).await;
        assert_eq!(body["error"], "unavailable");
        assert!(
            body["message"]
                .as_str()
                .expect("message")
                .contains("safe to retry")
        );
    }
}
