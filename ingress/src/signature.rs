//! Webhook signatures: an HMAC over the raw body, in the format of the provider that sends
//! it, checked before the body is parsed (docs/workflows.md `signature`). Any configured secret may
//! match, so secrets rotate without downtime; digests are compared in constant time.

use actix_web::http::header::HeaderMap;
use base64::{
    Engine, alphabet,
    engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig},
};
use hmac::{Hmac, KeyInit, Mac};
use secrecy::ExposeSecret;
use sha1::Sha1;
use sha2::{Sha256, Sha512};
use shared::trigger_settings::{
    HmacAlgorithm, SignatureEncoding, SignatureScheme, SignatureSettings, standard_webhooks_key,
};

use crate::error::WebhookError;

/// Standard base64 whether or not the sender kept the padding.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Checks the request's signature now.
pub fn verify(
    settings: &SignatureSettings,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), WebhookError> {
    verify_at(settings, headers, body, chrono::Utc::now().timestamp())
}

/// Checks the request's signature as of `now` (Unix seconds).
pub fn verify_at(
    settings: &SignatureSettings,
    headers: &HeaderMap,
    body: &[u8],
    now: i64,
) -> Result<(), WebhookError> {
    let check = Check {
        settings,
        headers,
        now,
    };
    match settings.scheme {
        SignatureScheme::Stripe => check.stripe(body),
        SignatureScheme::Github => check.github(body),
        SignatureScheme::StandardWebhooks => check.standard_webhooks(body),
        SignatureScheme::Shopify => check.shopify(body),
        SignatureScheme::Slack => check.slack(body),
        SignatureScheme::Hmac => check.generic(body),
    }
}

struct Check<'a> {
    settings: &'a SignatureSettings,
    headers: &'a HeaderMap,
    now: i64,
}

impl Check<'_> {
    /// `Stripe-Signature: t=<ts>,v1=<hex>[,v1=<hex>...]` over `<ts>.<body>`.
    fn stripe(&self, body: &[u8]) -> Result<(), WebhookError> {
        const HEADER: &str = "Stripe-Signature";
        let value = self.header(HEADER)?;
        let mut timestamp = None;
        let mut candidates = Vec::new();
        for pair in value.split(',') {
            match pair.trim().split_once('=') {
                Some(("t", ts)) => timestamp = Some(ts),
                Some(("v1", hex)) => candidates.extend(decode_hex(hex)),
                _ => {}
            }
        }
        let Some(timestamp) = timestamp else {
            return Err(malformed(HEADER));
        };
        if candidates.is_empty() {
            return Err(malformed(HEADER));
        }
        self.fresh(timestamp)?;
        self.any_secret(
            HmacAlgorithm::Sha256,
            &[timestamp.as_bytes(), b".", body],
            &candidates,
        )
    }

    /// `X-Hub-Signature-256: sha256=<hex>` over the body.
    fn github(&self, body: &[u8]) -> Result<(), WebhookError> {
        const HEADER: &str = "X-Hub-Signature-256";
        let value = self.header(HEADER)?;
        let candidate = strip_prefix_ignore_case(value, "sha256=")
            .and_then(decode_hex)
            .ok_or_else(|| malformed(HEADER))?;
        self.any_secret(HmacAlgorithm::Sha256, &[body], &[candidate])
    }

    /// `webhook-id`, `webhook-timestamp` and `webhook-signature: v1,<base64> ...` over
    /// `<id>.<ts>.<body>`, keyed by the decoded `whsec_` secret. Svix sends the same
    /// headers prefixed `svix-`.
    fn standard_webhooks(&self, body: &[u8]) -> Result<(), WebhookError> {
        let id = self.header_or("webhook-id", "svix-id")?;
        let timestamp = self.header_or("webhook-timestamp", "svix-timestamp")?;
        let signatures = self.header_or("webhook-signature", "svix-signature")?;
        let candidates: Vec<Vec<u8>> = signatures
            .split_whitespace()
            .filter_map(|entry| entry.strip_prefix("v1,"))
            .filter_map(|encoded| BASE64.decode(encoded).ok())
            .collect();
        if candidates.is_empty() {
            return Err(malformed("webhook-signature"));
        }
        self.fresh(timestamp)?;
        let message: [&[u8]; 5] = [id.as_bytes(), b".", timestamp.as_bytes(), b".", body];
        let signed = self.settings.secrets.iter().any(|secret| {
            standard_webhooks_key(secret.expose_secret())
                .is_some_and(|key| signed_by(HmacAlgorithm::Sha256, &key, &message, &candidates))
        });
        if signed { Ok(()) } else { Err(mismatch()) }
    }

    /// `X-Shopify-Hmac-Sha256: <base64>` over the body.
    fn shopify(&self, body: &[u8]) -> Result<(), WebhookError> {
        const HEADER: &str = "X-Shopify-Hmac-Sha256";
        let candidate = BASE64
            .decode(self.header(HEADER)?)
            .map_err(|_| malformed(HEADER))?;
        self.any_secret(HmacAlgorithm::Sha256, &[body], &[candidate])
    }

    /// `X-Slack-Signature: v0=<hex>` over `v0:<ts>:<body>`, with `X-Slack-Request-Timestamp`.
    fn slack(&self, body: &[u8]) -> Result<(), WebhookError> {
        const HEADER: &str = "X-Slack-Signature";
        let timestamp = self.header("X-Slack-Request-Timestamp")?;
        let candidate = strip_prefix_ignore_case(self.header(HEADER)?, "v0=")
            .and_then(decode_hex)
            .ok_or_else(|| malformed(HEADER))?;
        self.fresh(timestamp)?;
        self.any_secret(
            HmacAlgorithm::Sha256,
            &[b"v0:", timestamp.as_bytes(), b":", body],
            &[candidate],
        )
    }

    /// The configured header, prefix, encoding and algorithm over the body.
    fn generic(&self, body: &[u8]) -> Result<(), WebhookError> {
        let settings = self.settings;
        let header = settings.header_name();
        let mut value = self.header(header)?;
        if let Some(prefix) = settings.prefix.as_deref() {
            value = strip_prefix_ignore_case(value, prefix).ok_or_else(|| malformed(header))?;
        }
        let candidate = match settings.hmac_encoding() {
            SignatureEncoding::Hex => decode_hex(value),
            SignatureEncoding::Base64 => BASE64.decode(value).ok(),
        }
        .ok_or_else(|| malformed(header))?;
        self.any_secret(settings.hmac_algorithm(), &[body], &[candidate])
    }

    /// Whether any configured secret, used as the raw key, signed `message`.
    fn any_secret(
        &self,
        algorithm: HmacAlgorithm,
        message: &[&[u8]],
        candidates: &[Vec<u8>],
    ) -> Result<(), WebhookError> {
        let signed = self.settings.secrets.iter().any(|secret| {
            signed_by(
                algorithm,
                secret.expose_secret().as_bytes(),
                message,
                candidates,
            )
        });
        if signed { Ok(()) } else { Err(mismatch()) }
    }

    /// Refuses a signed timestamp further from now than the tolerance, so a captured
    /// request cannot be replayed later.
    fn fresh(&self, timestamp: &str) -> Result<(), WebhookError> {
        let Ok(signed_at) = timestamp.trim().parse::<i64>() else {
            return Err(WebhookError::InvalidSignature(
                "The signature timestamp is not a number of seconds.".into(),
            ));
        };
        let tolerance = self.settings.tolerance_secs();
        if tolerance > 0 && self.now.abs_diff(signed_at) > tolerance {
            return Err(WebhookError::InvalidSignature(format!(
                "The signature timestamp is more than {tolerance} seconds away from now."
            )));
        }
        Ok(())
    }

    fn header(&self, name: &str) -> Result<&str, WebhookError> {
        match self.headers.get(name) {
            None => Err(WebhookError::InvalidSignature(format!(
                "The {name} header is missing."
            ))),
            Some(value) => value.to_str().map(str::trim).map_err(|_| malformed(name)),
        }
    }

    fn header_or(&self, name: &str, alternative: &str) -> Result<&str, WebhookError> {
        if self.headers.contains_key(alternative) && !self.headers.contains_key(name) {
            self.header(alternative)
        } else {
            self.header(name)
        }
    }
}

/// Whether HMAC(`key`, `message`) equals one of `candidates`, compared in constant time.
fn signed_by(
    algorithm: HmacAlgorithm,
    key: &[u8],
    message: &[&[u8]],
    candidates: &[Vec<u8>],
) -> bool {
    match algorithm {
        HmacAlgorithm::Sha1 => matches::<Hmac<Sha1>>(key, message, candidates),
        HmacAlgorithm::Sha256 => matches::<Hmac<Sha256>>(key, message, candidates),
        HmacAlgorithm::Sha512 => matches::<Hmac<Sha512>>(key, message, candidates),
    }
}

fn matches<M: Mac + KeyInit + Clone>(
    key: &[u8],
    message: &[&[u8]],
    candidates: &[Vec<u8>],
) -> bool {
    let Ok(mut mac) = <M as KeyInit>::new_from_slice(key) else {
        return false;
    };
    for part in message {
        mac.update(part);
    }
    // `verify_slice` compares in constant time, so timing tells nothing about how much
    // of a forged signature was right.
    candidates
        .iter()
        .any(|candidate| mac.clone().verify_slice(candidate).is_ok())
}

fn mismatch() -> WebhookError {
    WebhookError::InvalidSignature("The signature does not match the request body.".into())
}

fn malformed(header: &str) -> WebhookError {
    WebhookError::InvalidSignature(format!("The {header} header is malformed."))
}

fn strip_prefix_ignore_case<'a>(value: &'a str, prefix: &str) -> Option<&'a str> {
    let head = value.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &value[prefix.len()..])
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    let text = text.trim().as_bytes();
    if text.is_empty() || !text.len().is_multiple_of(2) {
        return None;
    }
    text.chunks_exact(2)
        .map(|pair| Some(hex_digit(pair[0])? << 4 | hex_digit(pair[1])?))
        .collect()
}

fn hex_digit(byte: u8) -> Option<u8> {
    char::from(byte).to_digit(16).map(|digit| digit as u8)
}

#[cfg(test)]
mod tests;
