//! Signature headers of any content, for every scheme, are refused without a panic: no
//! made-up header passes without the secret.
#![no_main]

use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use hookflow_ingress::signature;
use libfuzzer_sys::fuzz_target;
use shared::trigger_settings::SignatureSettings;

const SCHEMES: [&str; 6] = ["stripe", "github", "standard-webhooks", "shopify", "slack", "hmac"];

const HEADERS: [&str; 9] = [
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

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    // The header value, then the body after the first newline.
    let split = rest.iter().position(|b| *b == b'\n').unwrap_or(rest.len());
    let (header, body) = rest.split_at(split);
    let Ok(value) = HeaderValue::from_bytes(header) else {
        return;
    };
    let settings: SignatureSettings = serde_json::from_value(serde_json::json!({
        "scheme": SCHEMES[usize::from(selector) % SCHEMES.len()],
        "secrets": ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
    }))
    .expect("settings");
    let mut headers = HeaderMap::new();
    for name in HEADERS {
        headers.insert(HeaderName::from_static(name), value.clone());
    }
    let now = value
        .to_str()
        .ok()
        .and_then(|text| text.parse::<i64>().ok())
        .unwrap_or(1_700_000_000);
    assert!(signature::verify_at(&settings, &headers, body, now).is_err());
});
