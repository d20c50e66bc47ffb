//! Properties of what ingress reads from a caller before any workflow runs, on generated
//! input: body parsers keep to the shape limits and never panic, and signature headers of
//! any content are refused (never a panic, never a pass without the secret).

use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use hookflow_ingress::{
    body::{self, BodyKind},
    signature,
};
use proptest::prelude::*;
use serde_json::{Value, json};
use shared::{shape::ShapeLimits, trigger_settings::SignatureSettings};

const LIMITS: ShapeLimits = ShapeLimits {
    max_depth: 4,
    max_values: 40,
};

fn depth(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

fn values(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(values).sum::<usize>(),
        Value::Object(map) => 1 + map.values().map(|v| 1 + values(v)).sum::<usize>(),
        _ => 1,
    }
}

fn kind(n: u8) -> BodyKind {
    match n % 4 {
        0 => BodyKind::Json,
        1 => BodyKind::Form,
        2 => BodyKind::Text,
        _ => BodyKind::Unlabelled,
    }
}

/// JSON-ish text: brackets, braces, strings and numbers in any order.
fn jsonish() -> impl Strategy<Value = Vec<u8>> {
    "[\\[\\]{}\",:0-9a-z \\\\]{0,120}".prop_map(String::into_bytes)
}

const SCHEMES: [&str; 6] = [
    "stripe",
    "github",
    "standard-webhooks",
    "shopify",
    "slack",
    "hmac",
];

const SIGNATURE_HEADERS: [&str; 9] = [
    "stripe-signature",
    "x-hub-signature-256",
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
    "x-shopify-hmac-sha256",
    "x-slack-signature",
    "x-slack-request-timestamp",
    "x-signature",
];

proptest! {
    #[test]
    fn bodies_parse_within_the_limits_or_are_refused(
        kind_number in 0u8..4,
        bytes in prop_oneof![jsonish(), prop::collection::vec(any::<u8>(), 0..120)],
    ) {
        let kind = kind(kind_number);
        if let Ok(parsed) = body::parse(kind, &bytes, &LIMITS) {
            if matches!(kind, BodyKind::Json | BodyKind::Unlabelled) {
                prop_assert!(depth(&parsed.body) <= LIMITS.max_depth, "{}", parsed.body);
                prop_assert!(values(&parsed.body) <= LIMITS.max_values, "{}", parsed.body);
            }
            if kind == BodyKind::Form {
                prop_assert!(parsed.body.is_object());
            }
        }
    }

    #[test]
    fn signature_headers_of_any_content_are_refused(
        scheme in 0usize..6,
        header in "[ -~]{0,80}",
        body in prop::collection::vec(any::<u8>(), 0..64),
    ) {
        let settings: SignatureSettings = serde_json::from_value(json!({
            "scheme": SCHEMES[scheme],
            "secrets": ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
        }))
        .expect("settings");
        let mut headers = HeaderMap::new();
        let value = HeaderValue::from_str(&header).expect("visible ASCII");
        for name in SIGNATURE_HEADERS {
            headers.insert(HeaderName::from_static(name), value.clone());
        }
        let now = header.parse::<i64>().unwrap_or(1_700_000_000);
        let verified = signature::verify_at(&settings, &headers, &body, now);
        prop_assert!(verified.is_err(), "a made-up signature passed: {}", header);
    }
}
