//! Trigger settings that decide which calls a webhook admits before it parses them
//! (SPEC §3 "Trigger settings beyond the seed"): `signature`, `rateLimit`, `allowedIps`.
//! Ingress enforces them; config-api validates them with [`problems`].

use std::net::IpAddr;

use base64::Engine;
use ipnet::IpNet;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};

use crate::engine::Problem;
use crate::model::{MASKED_PASSWORD, Trigger};
use crate::secret::Secret;

/// Default `signature.tolerance`: how far, in seconds, a signed timestamp may be from now.
pub const DEFAULT_SIGNATURE_TOLERANCE_SECS: u64 = 300;
/// Default `signature.header` of the generic `hmac` scheme.
pub const DEFAULT_SIGNATURE_HEADER: &str = "X-Signature";

/// How callers sign their requests: an HMAC over the raw body, in a provider's format.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignatureSettings {
    /// `stripe`, `github`, `standard-webhooks`, `shopify`, `slack` or `hmac`.
    pub scheme: String,
    /// The shared secrets; a request signed with any of them is accepted, so a secret can
    /// be rotated without downtime. Write-only through the API, like the basic-auth password.
    #[serde(default)]
    pub secrets: Vec<Secret>,
    /// Seconds a signed timestamp may differ from now (`stripe`, `slack`,
    /// `standard-webhooks`); default 300, `0` turns the check off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerance: Option<u64>,
    /// `hmac` only: the header carrying the signature (default `X-Signature`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<String>,
    /// `hmac` only: `sha256` (default), `sha1` or `sha512`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub algorithm: Option<String>,
    /// `hmac` only: `hex` (default) or `base64`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding: Option<String>,
    /// `hmac` only: text the header value starts with before the signature, e.g. `sha256=`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
}

/// A signature format, as the provider defines it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureScheme {
    /// `Stripe-Signature: t=<ts>,v1=<hex HMAC-SHA256 of "<ts>.<body>">`.
    Stripe,
    /// `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`.
    Github,
    /// `webhook-signature: v1,<base64 HMAC-SHA256 of "<id>.<ts>.<body>">` (standardwebhooks.com).
    StandardWebhooks,
    /// `X-Shopify-Hmac-Sha256: <base64 HMAC-SHA256 of the body>`.
    Shopify,
    /// `X-Slack-Signature: v0=<hex HMAC-SHA256 of "v0:<ts>:<body>">`.
    Slack,
    /// A configurable header, algorithm, encoding and prefix over the body.
    Hmac,
}

impl SignatureScheme {
    /// Every scheme name, as written in documents.
    pub const NAMES: [&'static str; 6] = [
        "stripe",
        "github",
        "standard-webhooks",
        "shopify",
        "slack",
        "hmac",
    ];

    /// The scheme called `name`, if there is one.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "stripe" => SignatureScheme::Stripe,
            "github" => SignatureScheme::Github,
            "standard-webhooks" => SignatureScheme::StandardWebhooks,
            "shopify" => SignatureScheme::Shopify,
            "slack" => SignatureScheme::Slack,
            "hmac" => SignatureScheme::Hmac,
            _ => return None,
        })
    }
}

/// The hash under the generic `hmac` scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HmacAlgorithm {
    /// HMAC-SHA1, for older providers only.
    Sha1,
    /// HMAC-SHA256.
    Sha256,
    /// HMAC-SHA512.
    Sha512,
}

/// How the generic `hmac` scheme writes the digest in its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureEncoding {
    /// Lower- or upper-case hexadecimal.
    Hex,
    /// Standard base64 with padding.
    Base64,
}

impl SignatureSettings {
    /// The scheme, `None` when the name is unknown (validation refuses such documents).
    pub fn scheme(&self) -> Option<SignatureScheme> {
        SignatureScheme::from_name(&self.scheme)
    }

    /// The timestamp tolerance in seconds, defaulted; `0` means unchecked.
    pub fn tolerance_secs(&self) -> u64 {
        self.tolerance.unwrap_or(DEFAULT_SIGNATURE_TOLERANCE_SECS)
    }

    /// The `hmac` scheme's header, defaulted.
    pub fn header_name(&self) -> &str {
        self.header.as_deref().unwrap_or(DEFAULT_SIGNATURE_HEADER)
    }

    /// The `hmac` scheme's algorithm, defaulted; `None` when the name is unknown.
    pub fn hmac_algorithm(&self) -> Option<HmacAlgorithm> {
        match self.algorithm.as_deref().unwrap_or("sha256") {
            "sha1" => Some(HmacAlgorithm::Sha1),
            "sha256" => Some(HmacAlgorithm::Sha256),
            "sha512" => Some(HmacAlgorithm::Sha512),
            _ => None,
        }
    }

    /// The `hmac` scheme's encoding, defaulted; `None` when the name is unknown.
    pub fn hmac_encoding(&self) -> Option<SignatureEncoding> {
        match self.encoding.as_deref().unwrap_or("hex") {
            "hex" => Some(SignatureEncoding::Hex),
            "base64" => Some(SignatureEncoding::Base64),
            _ => None,
        }
    }
}

/// The key a Standard Webhooks secret stands for: `whsec_<base64>` (or bare base64) decoded.
pub fn standard_webhooks_key(secret: &str) -> Option<Vec<u8>> {
    let encoded = secret.strip_prefix("whsec_").unwrap_or(secret);
    base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()
}

/// A token bucket per webhook key and ingress instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RateLimit {
    /// Calls admitted per second on average (fractions allowed, e.g. `0.5`).
    #[serde(serialize_with = "whole_as_integer")]
    pub per_second: f64,
    /// Calls admitted at once after a quiet period; default `perSecond` rounded up (at least 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub burst: Option<u32>,
}

impl RateLimit {
    /// The bucket size, defaulted.
    pub fn burst_size(&self) -> u32 {
        self.burst
            .unwrap_or_else(|| self.per_second.ceil().clamp(1.0, f64::from(u32::MAX)) as u32)
            .max(1)
    }
}

/// Writes `100.0` back as `100`, so a document reads back the way it was written.
fn whole_as_integer<S: serde::Serializer>(value: &f64, s: S) -> Result<S::Ok, S::Error> {
    if value.fract() == 0.0 && (0.0..=9_007_199_254_740_992.0).contains(value) {
        s.serialize_u64(*value as u64)
    } else {
        s.serialize_f64(*value)
    }
}

/// One `allowedIps` entry: a CIDR (`10.0.0.0/8`, `2001:db8::/32`) or a bare address, which
/// stands for itself alone (`/32` or `/128`).
pub fn parse_ip_range(entry: &str) -> Option<IpNet> {
    let entry = entry.trim();
    if entry.contains('/') {
        entry.parse().ok()
    } else {
        entry.parse::<IpAddr>().ok().map(IpNet::from)
    }
}

/// Every problem of `trigger`'s admission settings, with its path in the document.
pub fn problems(trigger: &Trigger) -> Vec<Problem> {
    let mut problems = Vec::new();
    if let Some(signature) = &trigger.signature {
        signature_problems(signature, &mut problems);
    }
    if let Some(limit) = &trigger.rate_limit {
        if !(limit.per_second.is_finite() && limit.per_second > 0.0) {
            problems.push(Problem::new(
                "trigger.rateLimit.perSecond",
                "perSecond must be a number greater than 0",
            ));
        }
        if limit.burst == Some(0) {
            problems.push(Problem::new(
                "trigger.rateLimit.burst",
                "burst must be at least 1",
            ));
        }
    }
    for (i, entry) in trigger.allowed_ips.iter().flatten().enumerate() {
        if parse_ip_range(entry).is_none() {
            problems.push(Problem::new(
                format!("trigger.allowedIps[{i}]"),
                format!(
                    "\"{entry}\" is neither an IP address nor a CIDR range such as 10.0.0.0/8 or 2001:db8::/32"
                ),
            ));
        }
    }
    problems
}

fn signature_problems(signature: &SignatureSettings, problems: &mut Vec<Problem>) {
    let at = |field: &str| format!("trigger.signature.{field}");
    let scheme = signature.scheme();
    if scheme.is_none() {
        problems.push(Problem::new(
            at("scheme"),
            format!(
                "unknown signature scheme \"{}\"; known schemes are {}",
                signature.scheme,
                SignatureScheme::NAMES.join(", ")
            ),
        ));
    }
    if signature.secrets.is_empty() {
        problems.push(Problem::new(at("secrets"), "give at least one secret"));
    }
    for (i, secret) in signature
        .secrets
        .iter()
        .map(Secret::expose_secret)
        .enumerate()
    {
        if secret.is_empty() {
            problems.push(Problem::new(
                format!("trigger.signature.secrets[{i}]"),
                "a secret must not be empty",
            ));
        } else if scheme == Some(SignatureScheme::StandardWebhooks)
            && secret != MASKED_PASSWORD
            && standard_webhooks_key(secret).is_none()
        {
            problems.push(Problem::new(
                format!("trigger.signature.secrets[{i}]"),
                "a Standard Webhooks secret is whsec_ followed by base64",
            ));
        }
    }
    if scheme == Some(SignatureScheme::Hmac) {
        if signature.hmac_algorithm().is_none() {
            problems.push(Problem::new(
                at("algorithm"),
                "algorithm must be sha256, sha1 or sha512",
            ));
        }
        if signature.hmac_encoding().is_none() {
            problems.push(Problem::new(
                at("encoding"),
                "encoding must be hex or base64",
            ));
        }
        let header = signature.header_name();
        if !crate::header_name::is_valid(header) {
            problems.push(Problem::new(
                at("header"),
                format!("\"{header}\" is not a valid HTTP header name"),
            ));
        }
    } else if scheme.is_some() {
        for (field, set) in [
            ("header", signature.header.is_some()),
            ("algorithm", signature.algorithm.is_some()),
            ("encoding", signature.encoding.is_some()),
            ("prefix", signature.prefix.is_some()),
        ] {
            if set {
                problems.push(Problem::new(
                    at(field),
                    format!(
                        "{field} applies only to the hmac scheme; the {} scheme fixes it",
                        signature.scheme
                    ),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests;
