//! A request node's settings (NocoBase's names), read from the stored config to validate
//! and from the rendered config to run.

use std::time::Duration;

use reqwest::{Method, header::HeaderMap};
use serde_json::Value;
use url::Url;

use super::parts::{body, headers, is_placeholder, pairs};
use crate::fields::{Fields, Stage, whole_number};
use crate::problem::Problem;

/// Default `timeout`, in milliseconds.
const DEFAULT_TIMEOUT_MS: u64 = 5000;
/// Longest `timeout`, in milliseconds. With [`MAX_ATTEMPTS`] and the longest pauses a
/// node stays well inside RabbitMQ's consumer timeout (see the delay node).
pub(crate) const MAX_TIMEOUT_MS: u64 = 60_000;
/// Most `retry.attempts`.
pub(crate) const MAX_ATTEMPTS: u64 = 5;
/// Default `retry.backoff`, in milliseconds.
const DEFAULT_BACKOFF_MS: u64 = 500;
/// Longest `retry.backoff`, in milliseconds.
pub(crate) const MAX_BACKOFF_MS: u64 = 10_000;

const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

/// `contentType`: how `data` is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ContentType {
    /// `application/json` (the default): `data` as JSON.
    Json,
    /// `application/x-www-form-urlencoded`: `data` as `[{name, value}]`.
    Form,
    /// `text/plain`: `data` as text.
    Text,
    /// `application/xml`: `data` as text.
    Xml,
}

impl ContentType {
    const ALL: [(&'static str, ContentType); 4] = [
        ("application/json", ContentType::Json),
        ("application/x-www-form-urlencoded", ContentType::Form),
        ("text/plain", ContentType::Text),
        ("application/xml", ContentType::Xml),
    ];

    fn parse(name: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .find(|(known, _)| *known == name)
            .map(|(_, kind)| *kind)
    }

    /// Its `Content-Type` header value.
    pub(crate) fn header(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, kind)| *kind == self)
            .map_or("application/json", |(name, _)| name)
    }
}

/// `retry`: how often and how far apart a call is tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RetrySettings {
    /// Calls in all, the first one included (1: no retry).
    pub(crate) attempts: u32,
    /// The first pause; each next one doubles.
    pub(crate) backoff: Duration,
}

/// A request node's settings, rendered.
#[derive(Debug)]
pub(crate) struct RequestConfig {
    pub(crate) method: Method,
    pub(crate) url: Url,
    pub(crate) content_type: ContentType,
    /// The configured headers, in order (a later one of the same name replaces).
    pub(crate) headers: HeaderMap,
    /// The body, already encoded for `content_type`; `None` for GET or without `data`.
    pub(crate) body: Option<Vec<u8>>,
    pub(crate) timeout: Duration,
    pub(crate) ignore_fail: bool,
    pub(crate) only_data: bool,
    pub(crate) retry: RetrySettings,
}

/// Reads a request node's config. As stored, a string holding a placeholder is checked
/// only once rendered.
pub(crate) fn parse(config: &Value, stage: Stage) -> Result<RequestConfig, Vec<Problem>> {
    let mut fields = Fields::new(config, stage);
    let method = fields
        .optional::<String>("method", |value| {
            format!("method must be one of {}, not {value}", METHODS.join(", "))
        })
        .and_then(|name| {
            if METHODS.contains(&name.as_str()) {
                Method::from_bytes(name.as_bytes()).ok()
            } else {
                fields.problem(
                    "method",
                    format!(
                        "method must be one of {}, not \"{name}\"",
                        METHODS.join(", ")
                    ),
                );
                None
            }
        });
    let url = url(&mut fields);
    let content_type = fields
        .optional::<String>("contentType", content_type_message)
        .and_then(|name| {
            let parsed = ContentType::parse(&name);
            if parsed.is_none() {
                fields.problem("contentType", content_type_message(&Value::String(name)));
            }
            parsed
        });
    let headers = headers(&mut fields);
    let params = pairs(&mut fields, "params");
    let timeout = fields
        .optional::<Value>("timeout", |_| String::new())
        .and_then(|value| match whole_number(&value) {
            Some(ms) if (1..=MAX_TIMEOUT_MS).contains(&ms) => Some(ms),
            _ => {
                fields.problem(
                    "timeout",
                    format!(
                        "timeout must be a whole number of milliseconds from 1 to {MAX_TIMEOUT_MS}"
                    ),
                );
                None
            }
        });
    let ignore_fail = flag(&mut fields, "ignoreFail");
    let only_data = flag(&mut fields, "onlyData");
    let retry = retry(&mut fields);
    let content = content_type.unwrap_or(ContentType::Json);
    let body = body(&mut fields, content);
    let given = |name: &str| fields.raw(name).is_some();
    let (method_given, type_given, timeout_given) =
        (given("method"), given("contentType"), given("timeout"));
    fields.finish(|| {
        let method = match method {
            Some(method) => method,
            None if method_given => return None,
            None => Method::POST,
        };
        if (type_given && content_type.is_none()) || (timeout_given && timeout.is_none()) {
            return None;
        }
        let mut url = url?;
        if !params.is_empty() {
            let mut query = url.query_pairs_mut();
            for (name, value) in &params {
                query.append_pair(name, value);
            }
        }
        Some(RequestConfig {
            body: if method == Method::GET { None } else { body? },
            method,
            url,
            content_type: content,
            headers,
            timeout: Duration::from_millis(timeout.unwrap_or(DEFAULT_TIMEOUT_MS)),
            ignore_fail: ignore_fail.unwrap_or(false),
            only_data: only_data.unwrap_or(false),
            retry: retry?,
        })
    })
}

fn content_type_message(value: &Value) -> String {
    let names: Vec<&str> = ContentType::ALL.iter().map(|(name, _)| *name).collect();
    format!(
        "contentType must be one of {}, not {value}",
        names.join(", ")
    )
}

/// A boolean setting; `"true"` and `"false"` are what a placeholder over form data renders.
fn flag(fields: &mut Fields<'_>, name: &str) -> Option<bool> {
    match fields.optional::<Value>(name, |_| String::new())? {
        Value::Bool(flag) => Some(flag),
        Value::String(text) if text == "true" => Some(true),
        Value::String(text) if text == "false" => Some(false),
        _ => {
            fields.problem(name, format!("{name} must be true or false"));
            None
        }
    }
}

/// `url`: required, `http` or `https` with a host.
fn url(fields: &mut Fields<'_>) -> Option<Url> {
    let text: String = fields.required("url", |value| match value {
        Value::Null => "a url is required".to_owned(),
        _ => "url must be a string".to_owned(),
    })?;
    match Url::parse(text.trim()) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => Some(url),
        Ok(url) if url.host().is_none() => {
            fields.problem("url", format!("the url \"{text}\" has no host"));
            None
        }
        Ok(url) => {
            fields.problem(
                "url",
                format!("the url must be http:// or https://, not {}:", url.scheme()),
            );
            None
        }
        Err(err) => {
            fields.problem("url", format!("the url \"{text}\" does not parse: {err}"));
            None
        }
    }
}

/// `retry`: absent for a single attempt.
fn retry(fields: &mut Fields<'_>) -> Option<RetrySettings> {
    let Some(retry) = fields.raw("retry") else {
        return Some(RetrySettings {
            attempts: 1,
            backoff: Duration::ZERO,
        });
    };
    let Some(settings) = retry.as_object() else {
        fields.problem("retry", "retry must be {\"attempts\", \"backoff\"}");
        return None;
    };
    let mut number = |name: &str, low: u64, high: u64, default: Option<u64>, unit: &str| {
        let value = settings.get(name).filter(|value| !value.is_null());
        match value {
            None => default.or_else(|| {
                fields.problem(format!("retry.{name}"), format!("retry.{name} is required"));
                None
            }),
            Some(value) if fields.stage() == Stage::Stored && is_placeholder(value) => None,
            Some(value) => match whole_number(value) {
                Some(n) if (low..=high).contains(&n) => Some(n),
                _ => {
                    fields.problem(
                        format!("retry.{name}"),
                        format!("retry.{name} must be a whole number{unit} from {low} to {high}"),
                    );
                    None
                }
            },
        }
    };
    let attempts = number("attempts", 1, MAX_ATTEMPTS, None, "");
    let backoff = number(
        "backoff",
        0,
        MAX_BACKOFF_MS,
        Some(DEFAULT_BACKOFF_MS),
        " of milliseconds",
    );
    Some(RetrySettings {
        attempts: u32::try_from(attempts?).ok()?,
        backoff: Duration::from_millis(backoff?),
    })
}
