//! One request node's call: the attempts with their pauses, each bounded by the node's
//! timeout, and the answer read up to the size limit.

use std::{
    sync::atomic::{AtomicU32, Ordering},
    time::Duration,
};

use reqwest::{
    StatusCode,
    header::{CONTENT_TYPE, HeaderMap, RETRY_AFTER},
};
use serde_json::{Map, Value};
use tracing::Instrument;

use super::config::RequestConfig;
use crate::outbound::{Outbound, RedirectRefused, RefusedAddress, find_cause};
use crate::retry::{ExponentialBuilder, Retryable};

/// Longest pause between attempts that the doubling backoff reaches.
const MAX_PAUSE: Duration = Duration::from_secs(30);
/// Longest `Retry-After` that is waited out; an API asking for more is not retried.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// An API's answer.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    /// Lower-case names; repeated headers joined with `, `.
    pub(crate) headers: Map<String, Value>,
    /// Parsed JSON when the answer is JSON, else its text.
    pub(crate) data: Value,
}

/// Why a call failed.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The API answered, but not with a 2xx.
    Status {
        answer: Answer,
        retry_after: Option<Duration>,
    },
    /// No answer within the node's timeout.
    Timeout(Duration),
    /// The address policy refused the target or a redirect's target.
    Refused(RefusedAddress),
    /// The answer was larger than the limit.
    TooLarge(u64),
    /// A redirect that was not followed.
    Redirect(String),
    /// The connection could not be made or broke.
    Transport(String),
}

impl Failure {
    /// Whether another attempt may succeed: connection errors, timeouts, 5xx and 429.
    fn retryable(&self) -> bool {
        match self {
            Failure::Status { answer, .. } => answer.status >= 500 || answer.status == 429,
            Failure::Timeout(_) | Failure::Transport(_) => true,
            Failure::Refused(_) | Failure::TooLarge(_) | Failure::Redirect(_) => false,
        }
    }

    /// A short name of the kind of failure, for traces.
    fn kind(&self) -> &'static str {
        match self {
            Failure::Status { .. } => "status",
            Failure::Timeout(_) => "timeout",
            Failure::Refused(_) => "refused_address",
            Failure::TooLarge(_) => "response_too_large",
            Failure::Redirect(_) => "redirect",
            Failure::Transport(_) => "transport",
        }
    }

    /// The answer, when there was one.
    pub(crate) fn answer(&self) -> Option<&Answer> {
        match self {
            Failure::Status { answer, .. } => Some(answer),
            _ => None,
        }
    }

    /// One sentence for the record.
    pub(crate) fn message(&self) -> String {
        match self {
            Failure::Status { answer, .. } => {
                let reason = StatusCode::from_u16(answer.status)
                    .ok()
                    .and_then(|code| code.canonical_reason())
                    .unwrap_or("");
                format!("the API answered {} {reason}", answer.status)
                    .trim_end()
                    .to_owned()
            }
            Failure::Timeout(limit) => format!("no answer within {} ms", limit.as_millis()),
            Failure::Refused(refused) => refused.to_string(),
            Failure::TooLarge(limit) => format!(
                "the answer is larger than {limit} bytes (HOOKFLOW_REQUEST_MAX_RESPONSE_BYTES)"
            ),
            Failure::Redirect(why) => format!("redirect not followed: {why}"),
            Failure::Transport(why) => format!("the call failed: {why}"),
        }
    }
}

/// Calls as `config` says, with `headers` (the configured ones and the Idempotency-Key),
/// retrying as its `retry` allows. Gives the outcome and how many attempts were made.
pub(crate) async fn call(
    outbound: &Outbound,
    config: &RequestConfig,
    headers: &HeaderMap,
) -> (Result<Answer, Failure>, u32) {
    if let Err(refused) = outbound.check_url(&config.url) {
        return (Err(Failure::Refused(refused)), 0);
    }
    let attempts = AtomicU32::new(0);
    let backoff = ExponentialBuilder::new()
        .with_min_delay(config.retry.backoff)
        .with_max_delay(MAX_PAUSE.max(config.retry.backoff))
        .with_max_times(config.retry.attempts.saturating_sub(1) as usize);
    let outcome = (|| {
        attempts.fetch_add(1, Ordering::Relaxed);
        attempt(outbound, config, headers)
    })
    .retry(backoff)
    .sleep(tokio::time::sleep)
    .when(Failure::retryable)
    .adjust(|failure, pause| match failure {
        Failure::Status {
            retry_after: Some(after),
            ..
        } if *after > MAX_RETRY_AFTER => None,
        Failure::Status {
            retry_after: Some(after),
            ..
        } => pause.map(|pause| pause.max(*after)),
        _ => pause,
    })
    .notify(|failure, pause| {
        tracing::info!(error = %failure.message(), pause_ms = pause.as_millis() as u64, "request node retries");
    })
    .await;
    (outcome, attempts.load(Ordering::Relaxed))
}

/// One attempt, within the node's timeout; the timer runs on the runtime, holding no thread.
async fn attempt(
    outbound: &Outbound,
    config: &RequestConfig,
    headers: &HeaderMap,
) -> Result<Answer, Failure> {
    let mut request = outbound
        .client()
        .request(config.method.clone(), config.url.clone())
        .headers(headers.clone());
    if let Some(body) = &config.body {
        request = request.body(body.clone());
    }
    let limit = outbound.max_response_bytes();
    let exchange = async {
        let response = request.send().await.map_err(transport)?;
        let status = response.status().as_u16();
        let retry_after = retry_after(response.headers());
        let answer = read(response, limit).await?;
        if (200..300).contains(&status) {
            Ok(answer)
        } else {
            Err(Failure::Status {
                answer,
                retry_after,
            })
        }
    };
    // OpenTelemetry's HTTP client conventions; not the URL, whose query may hold secrets.
    let span = tracing::info_span!(
        "http client",
        otel.name = config.method.as_str(),
        otel.kind = "client",
        http.request.method = config.method.as_str(),
        server.address = config.url.host_str().unwrap_or_default(),
        http.response.status_code = tracing::field::Empty,
        error.type = tracing::field::Empty,
    );
    let outcome = match tokio::time::timeout(config.timeout, exchange)
        .instrument(span.clone())
        .await
    {
        Ok(outcome) => outcome,
        Err(_) => Err(Failure::Timeout(config.timeout)),
    };
    match &outcome {
        Ok(answer) => {
            span.record("http.response.status_code", answer.status);
        }
        Err(Failure::Status { answer, .. }) => {
            span.record("http.response.status_code", answer.status);
            span.record("error.type", answer.status.to_string());
        }
        Err(other) => {
            span.record("error.type", other.kind());
        }
    }
    outcome
}

/// Reads the answer's body as it streams in, failing as soon as it passes `limit`.
async fn read(mut response: reqwest::Response, limit: u64) -> Result<Answer, Failure> {
    if response
        .content_length()
        .is_some_and(|length| length > limit)
    {
        return Err(Failure::TooLarge(limit));
    }
    let status = response.status().as_u16();
    let headers = header_map(response.headers());
    let json = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(is_json);
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(transport)? {
        if (body.len() + chunk.len()) as u64 > limit {
            return Err(Failure::TooLarge(limit));
        }
        body.extend_from_slice(&chunk);
    }
    let data = if json && body.iter().all(u8::is_ascii_whitespace) {
        Value::Null
    } else if json {
        serde_json::from_slice(&body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()))
    } else {
        Value::String(String::from_utf8_lossy(&body).into_owned())
    };
    Ok(Answer {
        status,
        headers,
        data,
    })
}

/// `application/json` and any `application/*+json`.
fn is_json(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// The answer's headers under lower-case names (`http` keeps them lower-case).
fn header_map(headers: &HeaderMap) -> Map<String, Value> {
    let mut map = Map::new();
    for name in headers.keys() {
        let joined = headers
            .get_all(name)
            .iter()
            .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
            .collect::<Vec<_>>()
            .join(", ");
        map.insert(name.as_str().to_owned(), Value::String(joined));
    }
    map
}

/// `Retry-After` as seconds or as an HTTP date.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let text = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = text.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = chrono::DateTime::parse_from_rfc2822(text).ok()?;
    let wait = at.signed_duration_since(chrono::Utc::now());
    Some(wait.to_std().unwrap_or(Duration::ZERO))
}

/// A client error as a failure, its cause chain written out without the URL (whose query
/// may hold secrets).
fn transport(err: reqwest::Error) -> Failure {
    if let Some(refused) = find_cause::<RefusedAddress>(&err) {
        return Failure::Refused(refused.clone());
    }
    if let Some(redirect) = find_cause::<RedirectRefused>(&err) {
        return Failure::Redirect(redirect.to_string());
    }
    let err = err.without_url();
    let mut text = err.to_string();
    let mut cause = std::error::Error::source(&err);
    while let Some(current) = cause {
        text.push_str(": ");
        text.push_str(&current.to_string());
        cause = current.source();
    }
    Failure::Transport(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_answers_are_recognised_by_their_content_type() {
        assert!(is_json("application/json"));
        assert!(is_json("Application/JSON; charset=utf-8"));
        assert!(is_json("application/problem+json"));
        assert!(!is_json("text/plain"));
        assert!(!is_json("application/xml"));
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, "3".parse().expect("a header value"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(3)));
        headers.insert(
            RETRY_AFTER,
            "Sun, 06 Nov 1994 08:49:37 GMT"
                .parse()
                .expect("a header value"),
        );
        assert_eq!(retry_after(&headers), Some(Duration::ZERO));
        headers.insert(RETRY_AFTER, "soon".parse().expect("a header value"));
        assert_eq!(retry_after(&headers), None);
    }
}
