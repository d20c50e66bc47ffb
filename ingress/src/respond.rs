//! Turning configured or computed answers into HTTP responses (docs/webhooks.md "Answers").

use actix_web::{
    HttpResponse,
    http::{
        StatusCode,
        header::{self, HeaderName, HeaderValue},
    },
    web::Bytes,
};
use serde_json::{Value, json};
use shared::{
    messages::{ExecutionStatus, HttpReply, SyncReply},
    model::{HeaderSpec, ResponseSpec},
    template,
};
use uuid::Uuid;

/// Header naming the execution a webhook call started, on every answer that accepted one.
pub const EXECUTION_ID_HEADER: &str = "x-hookflow-execution-id";

/// `response` with the [`EXECUTION_ID_HEADER`] of `execution_id` (replacing a configured one).
pub fn with_execution_id(mut response: HttpResponse, execution_id: Uuid) -> HttpResponse {
    if let Ok(value) = HeaderValue::try_from(execution_id.to_string()) {
        response
            .headers_mut()
            .insert(HeaderName::from_static(EXECUTION_ID_HEADER), value);
    }
    response
}

/// The async answer configured on a trigger, with its defaults (200, `ok`).
pub fn configured(spec: &ResponseSpec) -> Prepared {
    Prepared::new(&HttpReply {
        status_code: spec.status_code.unwrap_or(200),
        headers: spec.headers.clone(),
        body: spec
            .body
            .clone()
            .unwrap_or_else(|| Value::String("ok".into())),
    })
}

/// A sync workflow's `options.timeoutResponse`, rendered for one call: its templates see
/// `$execution.id` and `$context`. Rendered before the call waits, so that the wait holds
/// this small answer rather than the context.
pub fn timeout_answer(spec: &ResponseSpec, execution_id: Uuid, context: &Value) -> Prepared {
    let scope = json!({
        "$execution": {"id": execution_id.to_string()},
        "$context": context,
    });
    let headers = spec
        .headers
        .iter()
        .map(|header| HeaderSpec {
            name: header.name.clone(),
            value: match template::render_str(&header.value, &scope) {
                Value::String(text) => text,
                Value::Null => String::new(),
                other => other.to_string(),
            },
        })
        .collect();
    let body = spec.body.as_ref().map_or_else(
        || Value::String("ok".into()),
        |body| template::render_value(body, &scope),
    );
    Prepared::new(&HttpReply {
        status_code: spec.status_code.unwrap_or(200),
        headers,
        body,
    })
}

/// The answer to a sync caller once its execution replied.
pub fn sync_reply(reply: &SyncReply) -> HttpResponse {
    match &reply.response {
        Some(response) => http_response(response),
        None => {
            let status = if reply.status == ExecutionStatus::Resolved {
                StatusCode::OK
            } else {
                StatusCode::INTERNAL_SERVER_ERROR
            };
            HttpResponse::build(status).json(json!({
                "executionId": reply.execution_id,
                "status": reply.status.as_str(),
            }))
        }
    }
}

/// Builds the HTTP response for `reply` (see [`Prepared::new`]).
pub fn http_response(reply: &HttpReply) -> HttpResponse {
    Prepared::new(reply).response()
}

/// An answer checked and encoded once, to be sent any number of times (a trigger's async
/// answer is prepared when its definition is fetched, not on every call).
#[derive(Debug, Clone)]
pub struct Prepared {
    status: StatusCode,
    headers: Vec<(HeaderName, HeaderValue)>,
    /// `None` for a `null` body: nothing is sent, not even a Content-Type.
    body: Option<Bytes>,
}

impl Prepared {
    /// Prepares `reply`: a string body is sent as `text/plain`, any other JSON value as
    /// `application/json`, unless a `Content-Type` header is configured.
    pub fn new(reply: &HttpReply) -> Prepared {
        let status = StatusCode::from_u16(reply.status_code).unwrap_or_else(|_| {
            tracing::warn!(
                status = reply.status_code,
                "configured status code is invalid"
            );
            StatusCode::INTERNAL_SERVER_ERROR
        });
        let mut headers = Vec::with_capacity(reply.headers.len() + 1);
        for configured in &reply.headers {
            let (Ok(name), Ok(value)) = (
                HeaderName::try_from(configured.name.trim()),
                HeaderValue::try_from(configured.value.as_str()),
            ) else {
                tracing::warn!(header = %configured.name, "configured header is invalid; skipped");
                continue;
            };
            // actix computes the framing itself; a configured length would corrupt it.
            if name == header::CONTENT_LENGTH
                || name == header::TRANSFER_ENCODING
                || name == header::CONNECTION
            {
                continue;
            }
            headers.push((name, value));
        }
        let (default_type, body) = match &reply.body {
            Value::Null => {
                return Prepared {
                    status,
                    headers,
                    body: None,
                };
            }
            Value::String(text) => ("text/plain; charset=utf-8", Bytes::from(text.clone())),
            other => ("application/json", Bytes::from(other.to_string())),
        };
        if !headers.iter().any(|(name, _)| name == header::CONTENT_TYPE) {
            headers.push((header::CONTENT_TYPE, HeaderValue::from_static(default_type)));
        }
        Prepared {
            status,
            headers,
            body: Some(body),
        }
    }

    /// The HTTP response; the body bytes are shared, not copied.
    pub fn response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        for header in &self.headers {
            response.append_header(header.clone());
        }
        match &self.body {
            Some(body) => response.body(body.clone()),
            None => response.finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::to_bytes;
    use shared::model::HeaderSpec;

    async fn parts(response: HttpResponse) -> (u16, Option<String>, String) {
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|value| value.to_str().expect("ascii").to_owned());
        let body = to_bytes(response.into_body()).await.expect("body");
        (
            status,
            content_type,
            String::from_utf8(body.to_vec()).expect("utf-8"),
        )
    }

    #[actix_web::test]
    async fn the_default_async_answer_is_200_ok_as_text() {
        let (status, content_type, body) =
            parts(configured(&ResponseSpec::default()).response()).await;
        assert_eq!(status, 200);
        assert_eq!(content_type.as_deref(), Some("text/plain; charset=utf-8"));
        assert_eq!(body, "ok");
    }

    #[actix_web::test]
    async fn json_bodies_and_headers_are_sent_as_configured() {
        let spec = ResponseSpec {
            status_code: Some(202),
            headers: vec![HeaderSpec {
                name: "X-Ack".into(),
                value: "1".into(),
            }],
            body: Some(json!({"accepted": true})),
        };
        let response = configured(&spec).response();
        assert_eq!(response.headers().get("x-ack").expect("x-ack"), "1");
        let (status, content_type, body) = parts(response).await;
        assert_eq!(status, 202);
        assert_eq!(content_type.as_deref(), Some("application/json"));
        assert_eq!(
            serde_json::from_str::<Value>(&body).expect("json"),
            json!({"accepted": true})
        );
    }

    #[actix_web::test]
    async fn a_configured_content_type_wins() {
        let reply = HttpReply {
            status_code: 200,
            headers: vec![HeaderSpec {
                name: "Content-Type".into(),
                value: "application/xml".into(),
            }],
            body: json!("<ok/>"),
        };
        let (_, content_type, body) = parts(http_response(&reply)).await;
        assert_eq!(content_type.as_deref(), Some("application/xml"));
        assert_eq!(body, "<ok/>");
    }

    #[actix_web::test]
    async fn a_null_body_sends_nothing_but_the_configured_headers() {
        let reply = HttpReply {
            status_code: 204,
            headers: vec![HeaderSpec {
                name: "X-Ack".into(),
                value: "1".into(),
            }],
            body: Value::Null,
        };
        let response = http_response(&reply);
        assert_eq!(response.headers().get("x-ack").expect("x-ack"), "1");
        let (status, content_type, body) = parts(response).await;
        assert_eq!(status, 204);
        assert_eq!(content_type, None);
        assert_eq!(body, "");
    }

    #[actix_web::test]
    async fn sync_replies_without_a_response_report_the_status() {
        let id = Uuid::now_v7();
        for (status, code) in [
            (ExecutionStatus::Resolved, 200),
            (ExecutionStatus::Failed, 500),
            (ExecutionStatus::Error, 500),
        ] {
            let reply = SyncReply {
                execution_id: id,
                status,
                response: None,
            };
            let (got, _, body) = parts(sync_reply(&reply)).await;
            assert_eq!(got, code);
            assert_eq!(
                serde_json::from_str::<Value>(&body).expect("json"),
                json!({"executionId": id.to_string(), "status": status.as_str()})
            );
        }
    }
}
