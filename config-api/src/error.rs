//! The one error type of the REST API and how each case reaches the caller.

use actix_web::{HttpResponse, ResponseError, http::StatusCode, http::header};
use serde::Serialize;
use shared::engine::Problem;
use utoipa::ToSchema;

/// Everything a handler can answer instead of its success.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No bearer token, or not the admin token.
    #[error("a valid bearer token is required")]
    Unauthorized,
    /// The thing named in the path does not exist (or was deleted).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The path exists, but not with this method; `Allow` names the methods it has.
    #[error("this path does not answer this method; it answers {allow}")]
    MethodNotAllowed {
        /// The methods the path answers, comma-separated, e.g. `GET, PUT, DELETE`.
        allow: String,
    },
    /// The request itself is malformed (not JSON, bad query parameter, ...).
    #[error("{message}")]
    BadRequest {
        /// Machine code, e.g. `invalid_json`.
        code: &'static str,
        /// One human sentence.
        message: String,
    },
    /// The body is larger than the API accepts.
    #[error("the request body is too large")]
    PayloadTooLarge,
    /// The request is well-formed but conflicts with what is stored (an existing name, a
    /// disabled workflow).
    #[error("{message}")]
    Conflict {
        /// Machine code, e.g. `variable_exists`.
        code: &'static str,
        /// One human sentence.
        message: String,
    },
    /// The request is well-formed but its content is not acceptable (a bad variable).
    #[error("{message}")]
    Unprocessable {
        /// Machine code, e.g. `invalid_variable`.
        code: &'static str,
        /// One human sentence.
        message: String,
    },
    /// The broker did not confirm a message this call must publish; the message says what
    /// was queued and that the call can be repeated.
    #[error("{0}")]
    QueueUnavailable(String),
    /// A workflow document with one or more problems.
    #[error("the workflow document is invalid ({} problem(s))", .0.len())]
    InvalidWorkflow(Vec<Problem>),
    /// A query failed.
    #[error("database query failed: {0}")]
    Database(#[from] tokio_postgres::Error),
    /// No database connection could be had.
    #[error("database pool: {0}")]
    Pool(#[from] deadpool_postgres::PoolError),
    /// A stored record could not be read back.
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
}

impl ApiError {
    /// A 400 with the given machine code.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::BadRequest {
            code,
            message: message.into(),
        }
    }

    fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthorized => "unauthorized",
            ApiError::NotFound(_) => "not_found",
            ApiError::MethodNotAllowed { .. } => "method_not_allowed",
            ApiError::BadRequest { code, .. } => code,
            ApiError::PayloadTooLarge => "payload_too_large",
            ApiError::Conflict { code, .. } | ApiError::Unprocessable { code, .. } => code,
            ApiError::QueueUnavailable(_) => "queue_unavailable",
            ApiError::InvalidWorkflow(_) => "invalid_workflow",
            ApiError::Database(_) | ApiError::Pool(_) | ApiError::Corrupt(_) => "internal",
        }
    }
}

/// The JSON body of every error answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Machine code, e.g. `not_found`.
    pub error: String,
    /// One human sentence.
    pub message: String,
    /// Every problem of an invalid workflow document (`invalid_workflow` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problems: Option<Vec<Problem>>,
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::InvalidWorkflow(_) | ApiError::Unprocessable { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ApiError::QueueUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Database(_) | ApiError::Pool(_) | ApiError::Corrupt(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let body = if status.is_server_error() && !matches!(self, ApiError::QueueUnavailable(_)) {
            // The cause (SQL, pool state) is for operators only.
            tracing::error!(error = %error_chain(self), "request failed");
            ErrorBody {
                error: "internal".into(),
                message: "internal error".into(),
                problems: None,
            }
        } else {
            ErrorBody {
                error: self.code().into(),
                message: self.to_string(),
                problems: match self {
                    ApiError::InvalidWorkflow(problems) => Some(problems.clone()),
                    _ => None,
                },
            }
        };
        let mut response = HttpResponse::build(status);
        match self {
            ApiError::Unauthorized => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            ApiError::MethodNotAllowed { allow } => {
                response.insert_header((header::ALLOW, allow.as_str()));
            }
            ApiError::QueueUnavailable(_) => {
                response.insert_header((header::RETRY_AFTER, "1"));
            }
            _ => {}
        }
        response.json(body)
    }
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

impl From<crate::secrets::OpenError> for ApiError {
    fn from(err: crate::secrets::OpenError) -> Self {
        ApiError::Corrupt(err.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::to_bytes;

    async fn body_of(error: ApiError) -> (StatusCode, serde_json::Value) {
        let response = error.error_response();
        let status = response.status();
        let bytes = to_bytes(response.into_body()).await.expect("body");
        (status, serde_json::from_slice(&bytes).expect("json"))
    }

    #[actix_web::test]
    async fn server_errors_are_opaque() {
        let (status, body) = body_of(ApiError::Corrupt("column document: bad".into())).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            body,
            serde_json::json!({"error": "internal", "message": "internal error"})
        );
    }

    #[actix_web::test]
    async fn invalid_workflow_lists_problems() {
        let problem = Problem {
            path: "title".into(),
            message: "title must not be empty".into(),
        };
        let (status, body) = body_of(ApiError::InvalidWorkflow(vec![problem])).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(body["error"], "invalid_workflow");
        assert_eq!(body["problems"][0]["path"], "title");
    }

    #[actix_web::test]
    async fn unauthorized_names_the_scheme() {
        let response = ApiError::Unauthorized.error_response();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            response.headers().get(header::WWW_AUTHENTICATE),
            Some(&header::HeaderValue::from_static("Bearer"))
        );
    }
}
