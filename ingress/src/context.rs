//! Building the trigger variable `$context` from a request (docs/webhooks.md "`$context`").

use actix_web::http::header::{HeaderMap, HeaderName};
use serde_json::{Map, Value};
use shared::{model::RequestSpec, shape::ShapeLimits};

use crate::{
    body::{self, ParsedBody},
    error::WebhookError,
};

/// Headers never copied into `$context`, whatever the trigger lists: they carry secrets.
const NEVER_COPIED: [&str; 2] = ["authorization", "proxy-authorization"];

/// `$context`: `headers` (only the declared ones), `query`, `body` and, for text bodies, `raw`.
pub fn build(
    headers: &HeaderMap,
    query_string: &str,
    request: &RequestSpec,
    parsed: ParsedBody,
    limits: &ShapeLimits,
) -> Result<Value, WebhookError> {
    let mut context = Map::new();
    context.insert(
        "headers".into(),
        Value::Object(declared_headers(headers, request)),
    );
    context.insert("query".into(), query(query_string, limits)?);
    context.insert("body".into(), parsed.body);
    if let Some(raw) = parsed.raw {
        context.insert("raw".into(), Value::String(raw));
    }
    Ok(Value::Object(context))
}

/// The whole query string parsed like Node's `qs`; `{}` when there is none.
fn query(query_string: &str, limits: &ShapeLimits) -> Result<Value, WebhookError> {
    if query_string.is_empty() {
        return Ok(Value::Object(Map::new()));
    }
    limits
        .check_parameters(query_string)
        .map_err(|err| body::refused("query string", err))?;
    Ok(shared::qs::parse_query(query_string))
}

/// The headers the trigger lists, by lower-case name; repeated headers are joined with
/// `, ` as HTTP allows.
fn declared_headers(headers: &HeaderMap, request: &RequestSpec) -> Map<String, Value> {
    let mut copied = Map::new();
    for field in &request.headers {
        let name = field.key.trim().to_ascii_lowercase();
        if let Ok(header_name) = HeaderName::try_from(name.as_str())
            && let Some(value) = joined(headers, &header_name)
        {
            copied.insert(name, value);
        }
    }
    copied
}

/// Every header of the call but the credentials, by lower-case name, like
/// [`declared_headers`]: what an `idempotencyKey` template may read.
pub fn all_headers(headers: &HeaderMap) -> Map<String, Value> {
    headers
        .keys()
        .filter_map(|name| Some((name.as_str().to_owned(), joined(headers, name)?)))
        .collect()
}

/// The values of header `name` joined with `, `; `None` when it is absent or never copied.
fn joined(headers: &HeaderMap, name: &HeaderName) -> Option<Value> {
    if NEVER_COPIED.contains(&name.as_str()) {
        return None;
    }
    let values: Vec<String> = headers
        .get_all(name)
        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
        .collect();
    (!values.is_empty()).then(|| Value::String(values.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::HeaderValue;
    use serde_json::json;
    use shared::model::FieldSpec;

    const LIMITS: ShapeLimits = ShapeLimits {
        max_depth: 32,
        max_values: 3,
    };

    fn listing(names: &[&str]) -> RequestSpec {
        RequestSpec {
            headers: names
                .iter()
                .map(|name| FieldSpec {
                    key: (*name).into(),
                    alias: None,
                })
                .collect(),
            ..RequestSpec::default()
        }
    }

    fn request_headers() -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in [
            ("x-request-id", "r-1"),
            ("authorization", "Basic c2hvcDpzM2NyZXQ="),
            ("x-other", "not listed"),
        ] {
            headers.append(
                HeaderName::from_static(name),
                HeaderValue::from_static(value),
            );
        }
        headers.append(
            HeaderName::from_static("x-tag"),
            HeaderValue::from_static("a"),
        );
        headers.append(
            HeaderName::from_static("x-tag"),
            HeaderValue::from_static("b"),
        );
        headers
    }

    fn empty_body() -> ParsedBody {
        ParsedBody {
            body: json!({}),
            raw: None,
        }
    }

    #[test]
    fn only_listed_headers_are_copied_lower_cased_and_never_authorization() {
        let context = build(
            &request_headers(),
            "",
            &listing(&["X-Request-Id", "Authorization", "X-Tag", "X-Missing"]),
            empty_body(),
            &LIMITS,
        )
        .expect("context");
        assert_eq!(
            context,
            json!({"headers": {"x-request-id": "r-1", "x-tag": "a, b"}, "query": {}, "body": {}})
        );
    }

    #[test]
    fn an_idempotency_key_sees_every_header_but_the_credentials() {
        assert_eq!(
            Value::Object(all_headers(&request_headers())),
            json!({"x-request-id": "r-1", "x-other": "not listed", "x-tag": "a, b"})
        );
    }

    #[test]
    fn text_bodies_add_raw() {
        let parsed = ParsedBody {
            body: json!("<a/>"),
            raw: Some("<a/>".into()),
        };
        let context = build(
            &HeaderMap::new(),
            "",
            &RequestSpec::default(),
            parsed,
            &LIMITS,
        )
        .expect("context");
        assert_eq!(context["raw"], "<a/>");
        assert_eq!(context["body"], "<a/>");
    }

    #[test]
    fn a_query_with_more_parameters_than_the_limit_is_refused() {
        let refused = build(
            &HeaderMap::new(),
            "a=1&b=2&c=3&d=4",
            &RequestSpec::default(),
            empty_body(),
            &LIMITS,
        )
        .expect_err("too many");
        assert_eq!(refused.code(), "payload_too_large");
        assert_eq!(
            refused.to_string(),
            "the request query string holds more than 3 values"
        );
    }
}
