//! Trigger settings that decide which calls a webhook admits before it parses them
//! (docs/workflows.md "The trigger"): `signature`, `rateLimit`, `allowedIps`.
//! Ingress enforces them; the document validator checks them with [`parse_signature`] and
//! [`problems`].

use std::net::IpAddr;

use base64::Engine;
use ipnet::IpNet;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::fields::{Fields, Stage};
use crate::model::{MASKED_PASSWORD, Trigger};
use crate::problem::Problem;
use crate::secret::Secret;

/// Default `signature.tolerance`: how far, in seconds, a signed timestamp may be from now.
pub const DEFAULT_SIGNATURE_TOLERANCE_SECS: u64 = 300;
/// The shortest signing key accepted, in bytes (after `whsec_` decoding for Standard
/// Webhooks): a shorter HMAC key can be guessed, and an empty one signs for anybody.
pub const MIN_SIGNING_KEY_BYTES: usize = 16;
/// Default `signature.header` of the generic `hmac` scheme.
pub const DEFAULT_SIGNATURE_HEADER: &str = "X-Signature";

/// How callers sign their requests: an HMAC over the raw body, in a provider's format.
/// Read through [`parse_signature`], which names every problem of the settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", try_from = "Value")]
pub struct SignatureSettings {
    /// The provider's format.
    pub scheme: SignatureScheme,
    /// The shared secrets; a request signed with any of them is accepted, so a secret can
    /// be rotated without downtime. Write-only through the API (they read back as
    /// `********`), like the basic-auth password.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>, min_items = 1))]
    pub secrets: Vec<Secret>,
    /// Seconds a signed timestamp may differ from now (`stripe`, `slack`,
    /// `standard-webhooks`); default 300, `0` turns the check off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(maximum = 18446744073709551615_u64))]
    pub tolerance: Option<u64>,
    /// `hmac` only: the header carrying the signature (default `X-Signature`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<String>,
    /// `hmac` only: the hash (default `sha256`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub algorithm: Option<HmacAlgorithm>,
    /// `hmac` only: how the digest is written (default `hex`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding: Option<SignatureEncoding>,
    /// `hmac` only: text the header value starts with before the signature, e.g. `sha256=`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
}

/// A signature format, as the provider defines it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
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

/// The hash under the generic `hmac` scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum HmacAlgorithm {
    /// HMAC-SHA1, for older providers only.
    Sha1,
    /// HMAC-SHA256.
    #[default]
    Sha256,
    /// HMAC-SHA512.
    Sha512,
}

/// How the generic `hmac` scheme writes the digest in its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum SignatureEncoding {
    /// Lower- or upper-case hexadecimal.
    #[default]
    Hex,
    /// Standard base64 with padding.
    Base64,
}

impl SignatureSettings {
    /// The timestamp tolerance in seconds, defaulted; `0` means unchecked.
    pub fn tolerance_secs(&self) -> u64 {
        self.tolerance.unwrap_or(DEFAULT_SIGNATURE_TOLERANCE_SECS)
    }

    /// The `hmac` scheme's header, defaulted.
    pub fn header_name(&self) -> &str {
        self.header.as_deref().unwrap_or(DEFAULT_SIGNATURE_HEADER)
    }

    /// The `hmac` scheme's algorithm, defaulted.
    pub fn hmac_algorithm(&self) -> HmacAlgorithm {
        self.algorithm.unwrap_or_default()
    }

    /// The `hmac` scheme's encoding, defaulted.
    pub fn hmac_encoding(&self) -> SignatureEncoding {
        self.encoding.unwrap_or_default()
    }
}

impl TryFrom<Value> for SignatureSettings {
    type Error = String;

    fn try_from(value: Value) -> Result<Self, String> {
        parse_signature(&value).map_err(|problems| {
            let messages: Vec<String> = problems
                .into_iter()
                .map(|problem| format!("{}: {}", problem.path, problem.message))
                .collect();
            messages.join("; ")
        })
    }
}

/// Reads `signature` settings, naming every problem with its path under
/// `trigger.signature`. A masked secret (`********`) is accepted: it stands for a stored one.
pub fn parse_signature(value: &Value) -> Result<SignatureSettings, Vec<Problem>> {
    let mut fields = Fields::new(value, Stage::Rendered);
    if !value.is_object() {
        fields.problem(
            "",
            "signature must be an object: {\"scheme\", \"secrets\", ...}",
        );
    }
    let scheme: Option<SignatureScheme> = fields.required("scheme", |v| {
        closed_set_message::<SignatureScheme>("signature scheme", v)
    });
    let secrets: Vec<String> = fields
        .required("secrets", |v| {
            if v.is_null() {
                "give at least one secret".to_owned()
            } else {
                "secrets must be a list of strings".to_owned()
            }
        })
        .unwrap_or_default();
    if fields.raw("secrets").is_some_and(Value::is_array) && secrets.is_empty() {
        fields.problem("secrets", "give at least one secret");
    }
    for (i, secret) in secrets.iter().enumerate() {
        if secret.is_empty() {
            fields.problem(format!("secrets[{i}]"), "a secret must not be empty");
        } else if scheme == Some(SignatureScheme::StandardWebhooks)
            && secret != MASKED_PASSWORD
            && standard_webhooks_key(secret).is_none()
        {
            fields.problem(
                format!("secrets[{i}]"),
                "a Standard Webhooks secret is whsec_ followed by base64",
            );
        }
    }
    let tolerance: Option<u64> = fields.optional("tolerance", |_| {
        "tolerance must be a whole number of seconds".to_owned()
    });
    let header: Option<String> =
        fields.optional("header", |_| "header must be a string".to_owned());
    let prefix: Option<String> =
        fields.optional("prefix", |_| "prefix must be a string".to_owned());
    let (mut algorithm, mut encoding) = (None, None);
    match scheme {
        Some(SignatureScheme::Hmac) => {
            algorithm = fields.optional("algorithm", |v| {
                closed_set_message::<HmacAlgorithm>("algorithm", v)
            });
            encoding = fields.optional("encoding", |v| {
                closed_set_message::<SignatureEncoding>("encoding", v)
            });
            let name = header.as_deref().unwrap_or(DEFAULT_SIGNATURE_HEADER);
            if !crate::header_name::is_valid(name) {
                fields.problem(
                    "header",
                    format!("\"{name}\" is not a valid HTTP header name"),
                );
            }
        }
        Some(other) => {
            for field in ["header", "algorithm", "encoding", "prefix"] {
                if fields.raw(field).is_some() {
                    fields.problem(
                        field,
                        format!(
                            "{field} applies only to the hmac scheme; the {} scheme fixes it",
                            name_of(other)
                        ),
                    );
                }
            }
        }
        None => {}
    }
    fields
        .finish(|| {
            Some(SignatureSettings {
                scheme: scheme?,
                secrets: secrets.into_iter().map(Secret::from).collect(),
                tolerance,
                header,
                algorithm,
                encoding,
                prefix,
            })
        })
        .map_err(|problems| {
            problems
                .into_iter()
                .map(|problem| problem.under("trigger.signature"))
                .collect()
        })
}

/// What is wrong with `value` as one of the closed set `T`, naming the values serde
/// knows for `T`, so the message cannot fall out of step with the type.
fn closed_set_message<T: serde::de::DeserializeOwned>(what: &str, value: &Value) -> String {
    // An unknown name makes serde list the known ones: "... expected one of `a`, `b`".
    let known = match T::deserialize(&Value::String(String::new())) {
        Err(err) => {
            let text = err.to_string().replace('`', "");
            match text.split_once("expected one of ") {
                Some((_, names)) => names.to_owned(),
                None => text,
            }
        }
        Ok(_) => String::new(),
    };
    if value.is_null() {
        format!("give the {what}: one of {known}")
    } else {
        format!("unknown {what} {value}; known {what}s are {known}")
    }
}

/// The name a value of a closed set is written as.
fn name_of(value: impl Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(Value::String(name)) => name,
        _ => String::new(),
    }
}

/// The signing secrets of `settings` that are too short to be keys, each with its path
/// under `trigger.signature` (config-api checks this on every document it stores; a masked
/// secret stands for a stored one and is not checked).
pub fn key_problems(settings: &SignatureSettings) -> Vec<Problem> {
    let mut problems = Vec::new();
    for (i, secret) in settings.secrets.iter().enumerate() {
        let secret = secret.expose_secret();
        // An empty secret is named by `parse_signature` already.
        if secret == MASKED_PASSWORD || secret.is_empty() {
            continue;
        }
        let (length, decoded) = match settings.scheme {
            SignatureScheme::StandardWebhooks => (
                standard_webhooks_key(secret).map_or(0, |key| key.len()),
                " once decoded",
            ),
            _ => (secret.len(), ""),
        };
        if length < MIN_SIGNING_KEY_BYTES {
            problems.push(Problem::new(
                format!("trigger.signature.secrets[{i}]"),
                format!(
                    "a signing secret must be at least {MIN_SIGNING_KEY_BYTES} bytes long{decoded}; \
                     this one is {length}"
                ),
            ));
        }
    }
    problems
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RateLimit {
    /// Calls admitted per second on average (fractions allowed, e.g. `0.5`).
    #[serde(serialize_with = "whole_as_integer")]
    #[cfg_attr(feature = "openapi", schema(exclusive_minimum = 0))]
    pub per_second: f64,
    /// Calls admitted at once after a quiet period; default `perSecond` rounded up (at least 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 4294967295_u64))]
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

/// A comma-separated list of [`parse_ip_range`] entries (`HOOKFLOW_TRUSTED_PROXIES`); an
/// empty list is empty, a bad entry is named.
pub fn parse_ip_ranges(list: &str) -> Result<Vec<IpNet>, String> {
    list.split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            parse_ip_range(entry).ok_or_else(|| {
                format!("\"{entry}\" is neither an IP address nor a CIDR range such as 10.0.0.0/8")
            })
        })
        .collect()
}

/// Every problem of `trigger`'s `rateLimit` and `allowedIps`, with its path in the
/// document (`signature` is checked as it is read, by [`parse_signature`]).
pub fn problems(trigger: &Trigger) -> Vec<Problem> {
    let mut problems = Vec::new();
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

#[cfg(test)]
mod tests;
