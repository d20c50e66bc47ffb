//! Reading webhook bodies within the size limit and parsing them by Content-Type (docs/webhooks.md).

use actix_web::{
    error::PayloadError,
    http::header::{self, HeaderMap},
    mime::{self, Mime},
    web,
};
use futures_util::{Stream, StreamExt};
use serde_json::{Map, Value};
use shared::shape::{JsonShapeError, ShapeError, ShapeLimits};

use crate::budget::{BodyBudget, Held};
use crate::error::WebhookError;

/// How a body is parsed, decided by its Content-Type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    /// `application/json` and any `application/*+json`.
    Json,
    /// `application/x-www-form-urlencoded`, parsed qs-style.
    Form,
    /// `text/plain`, `text/xml`, `application/xml`: kept as text.
    Text,
    /// No Content-Type: an empty body or a JSON document is accepted.
    Unlabelled,
}

/// A parsed body: `$context.body` and, for text bodies, `$context.raw`.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedBody {
    /// The whole parsed body (`{}` when empty; the text itself for text bodies).
    pub body: Value,
    /// The body as text when it is neither JSON nor form data.
    pub raw: Option<String>,
}

/// Decides how to parse a body from its Content-Type header.
pub fn classify(headers: &HeaderMap) -> Result<BodyKind, WebhookError> {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Ok(BodyKind::Unlabelled);
    };
    let unsupported = || {
        WebhookError::UnsupportedMediaType(format!(
            "Content-Type {:?} is not supported; send application/json, \
             application/x-www-form-urlencoded, text/plain or XML",
            String::from_utf8_lossy(value.as_bytes())
        ))
    };
    let mime: Mime = value
        .to_str()
        .ok()
        .and_then(|text| text.parse().ok())
        .ok_or_else(unsupported)?;
    let (top, sub) = (mime.type_(), mime.subtype());
    match (top, sub) {
        (mime::APPLICATION, mime::JSON) => Ok(BodyKind::Json),
        (mime::APPLICATION, _) if mime.suffix() == Some(mime::JSON) => Ok(BodyKind::Json),
        (mime::APPLICATION, mime::WWW_FORM_URLENCODED) => Ok(BodyKind::Form),
        (mime::APPLICATION, mime::XML) | (mime::TEXT, mime::XML) | (mime::TEXT, mime::PLAIN) => {
            Ok(BodyKind::Text)
        }
        _ => Err(unsupported()),
    }
}

/// Reads the whole body within `limit` bytes: a declared Content-Length over it is refused
/// before any byte is read, and since a chunked body has none (and a declared one may lie)
/// the read stops as soon as the body grows past it, so at most `limit` bytes are held.
/// Every byte read is taken from `budget` first; the bytes stay taken while the returned
/// [`Held`] lives, and a body that does not fit in what is left is refused with 503.
pub async fn read_limited<S>(
    headers: &HeaderMap,
    mut payload: S,
    limit: usize,
    budget: &BodyBudget,
) -> Result<(web::Bytes, Held), WebhookError>
where
    S: Stream<Item = Result<web::Bytes, PayloadError>> + Unpin,
{
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|text| text.trim().parse::<usize>().ok());
    if declared.is_some_and(|length| length > limit) {
        return Err(WebhookError::PayloadTooLarge { limit });
    }
    // The chunks are kept as they arrive and joined once at the end, into a buffer of
    // exactly their size: nothing is allocated from a declared length (only a promise), and
    // no buffer grows by doubling to twice what it holds. A body of one chunk is not copied.
    let mut chunks: Vec<web::Bytes> = Vec::new();
    let mut length = 0;
    let mut held = budget.none();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|err| {
            tracing::debug!(error = %err, "reading the webhook body failed");
            WebhookError::BadRequest {
                code: "invalid_body",
                message: "The request body could not be read completely.".into(),
            }
        })?;
        if length + chunk.len() > limit {
            return Err(WebhookError::PayloadTooLarge { limit });
        }
        budget.grow(&mut held, chunk.len())?;
        length += chunk.len();
        chunks.push(chunk);
    }
    let body = match chunks.len() {
        0 => web::Bytes::new(),
        1 => chunks.swap_remove(0),
        _ => {
            let mut joined = web::BytesMut::with_capacity(length);
            for chunk in chunks {
                joined.extend_from_slice(&chunk);
            }
            joined.freeze()
        }
    };
    Ok((body, held))
}

/// Parses `bytes` as `kind` into `$context.body` (and `$context.raw` for text), refusing
/// bodies that nest deeper or hold more values than `limits` before building them.
pub fn parse(
    kind: BodyKind,
    bytes: &[u8],
    limits: &ShapeLimits,
) -> Result<ParsedBody, WebhookError> {
    if bytes.is_empty() {
        return Ok(empty());
    }
    match kind {
        BodyKind::Json => parse_json(bytes, limits).map_err(|err| match err {
            JsonShapeError::Syntax(err) => WebhookError::BadRequest {
                code: "invalid_body",
                message: format!("The body is not valid JSON: {err}."),
            },
            JsonShapeError::Shape(err) => refused("body", err),
        }),
        BodyKind::Unlabelled => parse_json(bytes, limits).map_err(|err| match err {
            JsonShapeError::Syntax(_) => WebhookError::UnsupportedMediaType(
                "The request has a body but no Content-Type, and the body is not JSON; \
                 send a Content-Type header"
                    .into(),
            ),
            JsonShapeError::Shape(err) => refused("body", err),
        }),
        BodyKind::Form => {
            let text = utf8(bytes, "form")?;
            limits
                .check_parameters(text)
                .map_err(|err| refused("body", err))?;
            let body = shared::qs::parse_query(text);
            Ok(ParsedBody { body, raw: None })
        }
        BodyKind::Text => {
            let text = utf8(bytes, "text")?.to_owned();
            Ok(ParsedBody {
                body: Value::String(text.clone()),
                raw: Some(text),
            })
        }
    }
}

fn empty() -> ParsedBody {
    ParsedBody {
        body: Value::Object(Map::new()),
        raw: None,
    }
}

fn parse_json(bytes: &[u8], limits: &ShapeLimits) -> Result<ParsedBody, JsonShapeError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(empty());
    }
    let body = limits.parse_json(bytes)?;
    Ok(ParsedBody { body, raw: None })
}

/// The answer to a body or query string (`part`) past a shape limit: 413 for too many
/// values, 400 for too deep a nesting; both name the limit.
pub fn refused(part: &'static str, err: ShapeError) -> WebhookError {
    match err {
        ShapeError::TooManyValues { limit } => WebhookError::TooManyValues { part, limit },
        ShapeError::TooDeep { limit } => WebhookError::BadRequest {
            code: if part == "body" {
                "invalid_body"
            } else {
                "invalid_query"
            },
            message: format!("The request {part} nests deeper than {limit} levels."),
        },
    }
}

fn utf8<'a>(bytes: &'a [u8], what: &str) -> Result<&'a str, WebhookError> {
    std::str::from_utf8(bytes).map_err(|err| WebhookError::BadRequest {
        code: "invalid_body",
        message: format!(
            "The {what} body is not valid UTF-8 (invalid byte at offset {}).",
            err.valid_up_to()
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};
    use futures_util::FutureExt;
    use serde_json::json;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(
                HeaderName::from_static(name),
                HeaderValue::from_static(value),
            );
        }
        map
    }

    const LIMITS: ShapeLimits = ShapeLimits {
        max_depth: 32,
        max_values: 1000,
    };

    fn kind_of(content_type: &'static str) -> Result<BodyKind, WebhookError> {
        classify(&headers(&[("content-type", content_type)]))
    }

    #[test]
    fn json_and_json_suffixes_are_json() {
        assert_eq!(kind_of("application/json").ok(), Some(BodyKind::Json));
        assert_eq!(
            kind_of("application/json; charset=utf-8").ok(),
            Some(BodyKind::Json)
        );
        assert_eq!(
            kind_of("application/vnd.github+json").ok(),
            Some(BodyKind::Json)
        );
        assert_eq!(kind_of("Application/JSON").ok(), Some(BodyKind::Json));
    }

    #[test]
    fn form_xml_and_text_are_supported() {
        assert_eq!(
            kind_of("application/x-www-form-urlencoded").ok(),
            Some(BodyKind::Form)
        );
        for text in ["text/xml", "application/xml", "text/plain; charset=utf-8"] {
            assert_eq!(kind_of(text).ok(), Some(BodyKind::Text), "{text}");
        }
        assert_eq!(classify(&HeaderMap::new()).ok(), Some(BodyKind::Unlabelled));
    }

    #[test]
    fn other_content_types_are_unsupported() {
        for other in [
            "application/octet-stream",
            "multipart/form-data; boundary=x",
            "text/html",
            "image/png",
            "not a mime type",
        ] {
            let err = kind_of(other).expect_err(other);
            assert_eq!(err.code(), "unsupported_media_type", "{other}");
        }
    }

    /// A body that must not be read: polling it panics.
    fn unread() -> impl Stream<Item = Result<web::Bytes, PayloadError>> + Unpin {
        futures_util::stream::poll_fn(|_| panic!("the body was read"))
    }

    fn chunks(
        parts: &[&'static str],
    ) -> impl Stream<Item = Result<web::Bytes, PayloadError>> + Unpin {
        futures_util::stream::iter(
            parts
                .iter()
                .map(|part| Ok(web::Bytes::from_static(part.as_bytes())))
                .collect::<Vec<_>>(),
        )
    }

    fn read(
        headers: &HeaderMap,
        body: impl Stream<Item = Result<web::Bytes, PayloadError>> + Unpin,
        limit: usize,
    ) -> Result<web::Bytes, WebhookError> {
        read_limited(headers, body, limit, &BodyBudget::new(1 << 20))
            .now_or_never()
            .expect("an in-memory body is read at once")
            .map(|(bytes, _held)| bytes)
    }

    #[test]
    fn the_bytes_read_are_held_from_the_budget_until_dropped() {
        let budget = BodyBudget::new(12);
        let (bytes, held) = read_limited(&headers(&[]), chunks(&["01234", "56789"]), 100, &budget)
            .now_or_never()
            .expect("in memory")
            .expect("fits");
        assert_eq!(bytes, "0123456789");
        assert_eq!(held.bytes(), 10);
        let second = read_limited(&headers(&[]), chunks(&["abc"]), 100, &budget)
            .now_or_never()
            .expect("in memory");
        assert!(matches!(second, Err(WebhookError::Overloaded)));
        drop(held);
        assert_eq!(budget.available(), 12);
    }

    #[test]
    fn declared_length_over_the_limit_is_refused_up_front() {
        let big = headers(&[("content-length", "11")]);
        assert!(matches!(
            read(&big, unread(), 10),
            Err(WebhookError::PayloadTooLarge { limit: 10 })
        ));
        let fits = headers(&[("content-length", "10")]);
        assert_eq!(
            read(&fits, chunks(&["01234", "56789"]), 10).expect("fits"),
            "0123456789"
        );
        assert_eq!(
            read(&HeaderMap::new(), chunks(&["0123456789"]), 10).expect("fits"),
            "0123456789"
        );
    }

    #[test]
    fn an_undeclared_or_understated_body_is_refused_once_it_grows_past_the_limit() {
        for declared in [headers(&[]), headers(&[("content-length", "4")])] {
            assert!(matches!(
                read(&declared, chunks(&["01234", "56789", "x"]), 10),
                Err(WebhookError::PayloadTooLarge { limit: 10 })
            ));
        }
    }

    #[test]
    fn empty_bodies_are_an_empty_object() {
        for kind in [
            BodyKind::Json,
            BodyKind::Form,
            BodyKind::Text,
            BodyKind::Unlabelled,
        ] {
            let parsed = parse(kind, b"", &LIMITS).expect("empty");
            assert_eq!(parsed.body, json!({}));
            assert_eq!(parsed.raw, None);
        }
        assert_eq!(
            parse(BodyKind::Json, b" \n", &LIMITS).expect("blank").body,
            json!({})
        );
    }

    #[test]
    fn json_bodies_keep_their_types() {
        let parsed = parse(
            BodyKind::Json,
            br#"{"id": 7, "items": [{"ok": true}]}"#,
            &LIMITS,
        )
        .expect("json");
        assert_eq!(parsed.body, json!({"id": 7, "items": [{"ok": true}]}));
        assert_eq!(parsed.raw, None);
        assert_eq!(
            parse(BodyKind::Json, b"[1,2]", &LIMITS)
                .expect("array")
                .body,
            json!([1, 2])
        );
    }

    #[test]
    fn broken_json_is_a_bad_request_naming_the_problem() {
        let err = parse(BodyKind::Json, b"{\"a\": ", &LIMITS).expect_err("broken");
        assert_eq!(err.code(), "invalid_body");
        let message = err.to_string();
        assert!(message.contains("not valid JSON"), "{message}");
        assert!(message.contains("line 1"), "{message}");
    }

    #[test]
    fn text_bodies_are_kept_as_text() {
        let xml = "<order><id>1</id></order>";
        let parsed = parse(BodyKind::Text, xml.as_bytes(), &LIMITS).expect("xml");
        assert_eq!(parsed.raw.as_deref(), Some(xml));
        assert_eq!(parsed.body, json!(xml));
        let err = parse(BodyKind::Text, b"\xff\xfe", &LIMITS).expect_err("not utf-8");
        assert_eq!(err.code(), "invalid_body");
    }

    #[test]
    fn unlabelled_bodies_must_be_json() {
        let parsed = parse(BodyKind::Unlabelled, br#"{"a": 1}"#, &LIMITS).expect("json");
        assert_eq!(parsed.body, json!({"a": 1}));
        let err = parse(BodyKind::Unlabelled, b"a=1", &LIMITS).expect_err("not json");
        assert_eq!(err.code(), "unsupported_media_type");
    }

    #[test]
    fn bodies_past_the_shape_limits_are_refused_naming_the_limit() {
        let limits = ShapeLimits {
            max_depth: 2,
            max_values: 5,
        };
        let deep = parse(BodyKind::Json, b"[[[1]]]", &limits).expect_err("deep");
        assert_eq!(deep.code(), "invalid_body");
        assert_eq!(
            deep.to_string(),
            "The request body nests deeper than 2 levels."
        );
        let many = parse(BodyKind::Json, b"[1,2,3,4,5]", &limits).expect_err("many");
        assert!(matches!(
            many,
            WebhookError::TooManyValues {
                part: "body",
                limit: 5
            }
        ));
        // Without a Content-Type the shape answer stands; only unparseable text is a 415.
        let unlabelled = parse(BodyKind::Unlabelled, b"[[[1]]]", &limits).expect_err("deep");
        assert_eq!(unlabelled.code(), "invalid_body");
        let form = parse(BodyKind::Form, b"a=1&b=2&c=3&d=4&e=5&f=6", &limits).expect_err("many");
        assert_eq!(form.code(), "payload_too_large");
    }
}
