//! Workflow documents as users write them (docs/workflows.md), with NocoBase's field names.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use uuid::Uuid;

use crate::secret::Secret;

pub use crate::trigger_settings::{RateLimit, SignatureSettings};

/// Default `options.timeout` of a sync workflow, in milliseconds.
pub const DEFAULT_SYNC_TIMEOUT_MS: u64 = 30_000;
/// Default `idempotencyWindow`, in milliseconds (72 hours).
pub const DEFAULT_IDEMPOTENCY_WINDOW_MS: u64 = 72 * 3600 * 1000;
/// What config-api returns instead of a stored password.
pub const MASKED_PASSWORD: &str = "********";

/// A workflow as stored in one version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct WorkflowDocument {
    /// Display name, not blank.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, pattern = r"\S"))]
    pub title: String,
    /// Whether callers wait for a Response node.
    #[serde(default)]
    pub sync: bool,
    /// Whether the webhook URL answers.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// The webhook trigger.
    pub trigger: Trigger,
    /// Workflow options.
    #[serde(default)]
    pub options: WorkflowOptions,
    /// The main chain, run in order.
    #[serde(default)]
    pub nodes: Vec<Node>,
}

fn default_true() -> bool {
    true
}

/// The webhook trigger settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Trigger {
    /// Always `webhook`.
    #[serde(rename = "type", default = "webhook")]
    #[cfg_attr(feature = "openapi", schema(pattern = "^webhook$"))]
    pub kind: String,
    /// Basic authentication the caller must present; `false` or absent for none.
    #[serde(
        default,
        serialize_with = "serialize_basic_auth",
        deserialize_with = "deserialize_basic_auth"
    )]
    #[cfg_attr(feature = "openapi", schema(schema_with = basic_auth_schema))]
    pub basic_authentication: Option<BasicAuth>,
    /// Which parts of the request become declared variables.
    #[serde(default)]
    pub request: RequestSpec,
    /// The async answer.
    #[serde(default)]
    pub response: ResponseSpec,
    /// Template whose value identifies repeated deliveries of one event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
    /// How long a repeated idempotency key is recognised, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(minimum = 0, maximum = 18446744073709551615_u64)
    )]
    pub idempotency_window: Option<u64>,
    /// HMAC signature over the raw body the caller must present; its secrets are
    /// write-only through the API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<SignatureSettings>,
    /// Calls admitted per second by each ingress instance; beyond it 429.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<RateLimit>,
    /// CIDR ranges (or bare addresses) callers must come from; others get 403.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_ips: Option<Vec<String>>,
}

fn webhook() -> String {
    "webhook".into()
}

/// Credentials of a webhook's basic authentication.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BasicAuth {
    /// Expected user name.
    pub username: String,
    /// Expected password (write-only through the API).
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub password: Secret,
}

fn serialize_basic_auth<S: Serializer>(auth: &Option<BasicAuth>, s: S) -> Result<S::Ok, S::Error> {
    match auth {
        Some(auth) => auth.serialize(s),
        None => s.serialize_bool(false),
    }
}

/// `false`, or the credentials.
#[cfg(feature = "openapi")]
fn basic_auth_schema() -> utoipa::openapi::schema::Schema {
    use utoipa::PartialSchema;
    use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, Type};
    let one_of = OneOfBuilder::new()
        .item(
            ObjectBuilder::new()
                .schema_type(Type::Boolean)
                .enum_values(Some([false])),
        )
        .item(BasicAuth::schema())
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .description(Some(
            "`false` (or null) for none, or the credentials; the password reads back as `********`",
        ))
        .build();
    Schema::OneOf(one_of)
}

fn deserialize_basic_auth<'de, D: Deserializer<'de>>(d: D) -> Result<Option<BasicAuth>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Flag(bool),
        Auth(BasicAuth),
    }
    match Option::<Raw>::deserialize(d)? {
        None | Some(Raw::Flag(false)) => Ok(None),
        Some(Raw::Flag(true)) => Err(serde::de::Error::custom(
            "basicAuthentication must be false or {\"username\", \"password\"}",
        )),
        Some(Raw::Auth(auth)) => Ok(Some(auth)),
    }
}

/// Declared request variables.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RequestSpec {
    /// Headers copied into `$context.headers` (the only ones that are).
    #[serde(default)]
    pub headers: Vec<FieldSpec>,
    /// Declared query variables.
    #[serde(default)]
    pub query: Vec<FieldSpec>,
    /// Declared body variables.
    #[serde(default)]
    pub body: Vec<FieldSpec>,
}

/// One declared variable: a path and an optional display name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldSpec {
    /// Path such as `a`, `b.c` or `items[0].id` (a header name for headers), not blank.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, pattern = r"\S"))]
    pub key: String,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
}

/// A configured HTTP answer: the async trigger response, or a Response node's config.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ResponseSpec {
    /// Status code, 200–599; 200 when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 200, maximum = 599))]
    pub status_code: Option<u16>,
    /// Extra headers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<HeaderSpec>,
    /// Body: a string is sent as text, any other JSON value as JSON; `ok` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
}

/// One response header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HeaderSpec {
    /// Header name.
    pub name: String,
    /// Header value.
    pub value: String,
}

/// Workflow-wide options. Read from a JSON object only (serde would also take an array of
/// the fields in order, which no user means).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(try_from = "serde_json::Map<String, Value>")]
pub struct WorkflowOptions {
    /// Milliseconds a sync caller waits for the answer (default 30000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(minimum = 1, maximum = 18446744073709551615_u64)
    )]
    pub timeout: Option<u64>,
    /// Sync workflows: the answer sent instead of `408` when the workflow has not answered
    /// within `timeout` (templated with `$execution.id` and `$context`); the execution goes
    /// on either way.
    #[serde(
        default,
        rename = "timeoutResponse",
        skip_serializing_if = "Option::is_none"
    )]
    pub timeout_response: Option<ResponseSpec>,
}

/// [`WorkflowOptions`] as serde reads them once they are known to be an object.
#[derive(Deserialize)]
struct OptionsObject {
    #[serde(default)]
    timeout: Option<u64>,
    #[serde(default, rename = "timeoutResponse")]
    timeout_response: Option<ResponseSpec>,
}

impl TryFrom<serde_json::Map<String, Value>> for WorkflowOptions {
    type Error = serde_json::Error;

    fn try_from(object: serde_json::Map<String, Value>) -> Result<Self, Self::Error> {
        let OptionsObject {
            timeout,
            timeout_response,
        } = serde_json::from_value(Value::Object(object))?;
        Ok(WorkflowOptions {
            timeout,
            timeout_response,
        })
    }
}

impl WorkflowOptions {
    /// The sync timeout in milliseconds, defaulted.
    pub fn timeout_ms(&self) -> u64 {
        self.timeout.unwrap_or(DEFAULT_SYNC_TIMEOUT_MS)
    }
}

/// One node of the graph.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Node {
    /// Unique within the workflow, stable across versions; not blank.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, pattern = r"\S"))]
    pub key: String,
    /// The node type: `condition`, `response`, `end`, `calculation`, `delay` or `request`
    /// (an HTTP call: `method`, `url`, `contentType`, `headers`, `params`, `data`,
    /// `timeout`, `ignoreFail`, `onlyData`, `retry`).
    #[serde(rename = "type")]
    pub kind: String,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Type-specific settings, an object; strings may hold `{{...}}` templates.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub config: Value,
    /// Chains run by a branching node, by branch name: `true` and `false` (condition),
    /// `body` (loop), two or more of any names (parallel).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[cfg_attr(feature = "openapi", schema(no_recursion))]
    pub branches: BTreeMap<String, Vec<Node>>,
}

/// What ingress needs to serve one webhook key; served by config-api at `GET /internal/triggers/{key}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct TriggerDefinition {
    /// The workflow.
    pub workflow_id: Uuid,
    /// The webhook key.
    pub key: String,
    /// The current version, which executions run.
    pub version: i32,
    /// Whether the URL answers.
    pub enabled: bool,
    /// Whether callers wait for the answer.
    pub sync: bool,
    /// Trigger settings, password included.
    pub trigger: Trigger,
    /// Workflow options.
    pub options: WorkflowOptions,
}

impl WorkflowDocument {
    /// The document as the API shows it: the basic-auth password and every signature
    /// secret masked.
    pub fn masked(&self) -> WorkflowDocument {
        let mut doc = self.clone();
        if let Some(auth) = doc.trigger.basic_authentication.as_mut() {
            auth.password = MASKED_PASSWORD.into();
        }
        if let Some(signature) = doc.trigger.signature.as_mut() {
            for secret in &mut signature.secrets {
                *secret = MASKED_PASSWORD.into();
            }
        }
        doc
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn basic_authentication_accepts_false_absent_and_credentials() {
        let off: Trigger =
            serde_json::from_value(json!({"basicAuthentication": false})).expect("false");
        assert_eq!(off.basic_authentication, None);
        let absent: Trigger = serde_json::from_value(json!({})).expect("absent");
        assert_eq!(absent.kind, "webhook");
        let on: Trigger = serde_json::from_value(
            json!({"basicAuthentication": {"username": "u", "password": "p"}}),
        )
        .expect("credentials");
        assert_eq!(on.basic_authentication.expect("auth").username, "u");
        assert!(serde_json::from_value::<Trigger>(json!({"basicAuthentication": true})).is_err());
    }

    #[test]
    fn masked_hides_the_password() {
        let doc: WorkflowDocument = serde_json::from_value(json!({
            "title": "t", "trigger": {"basicAuthentication": {"username": "u", "password": "p"}}
        }))
        .expect("doc");
        let shown = serde_json::to_value(doc.masked()).expect("json");
        assert_eq!(
            shown["trigger"]["basicAuthentication"]["password"],
            MASKED_PASSWORD
        );
        assert_eq!(shown["enabled"], true);
    }

    #[test]
    fn masked_hides_every_signature_secret() {
        let doc: WorkflowDocument = serde_json::from_value(json!({
            "title": "t",
            "trigger": {"signature": {"scheme": "github", "secrets": ["old", "new"]}}
        }))
        .expect("doc");
        let shown = serde_json::to_value(doc.masked()).expect("json");
        assert_eq!(
            shown["trigger"]["signature"],
            json!({"scheme": "github", "secrets": [MASKED_PASSWORD, MASKED_PASSWORD]})
        );
        assert_eq!(
            doc.trigger.signature.expect("signature").secrets,
            ["old", "new"]
        );
    }
}
