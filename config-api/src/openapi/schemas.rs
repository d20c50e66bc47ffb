//! Schemas of the shared model types as they appear on the wire (the model itself lives
//! in `shared` and does not depend on utoipa).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// A workflow document (SPEC §3).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = WorkflowDocument)]
pub struct DocumentSchema {
    /// Display name, not empty.
    pub title: String,
    /// Whether callers wait for a Response node (default false).
    #[schema(default = false)]
    pub sync: Option<bool>,
    /// Whether the webhook URL answers (default true).
    #[schema(default = true)]
    pub enabled: Option<bool>,
    /// The webhook trigger.
    pub trigger: TriggerSchema,
    /// Workflow options.
    pub options: Option<OptionsSchema>,
    /// The main chain, run in order.
    pub nodes: Option<Vec<NodeSchema>>,
}

/// The webhook trigger settings.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Trigger)]
pub struct TriggerSchema {
    /// Always `webhook`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// `false`, or `{"username": ..., "password": ...}`; the password reads back as `********`.
    #[schema(value_type = Object)]
    pub basic_authentication: Option<Value>,
    /// Which parts of the request become declared variables.
    pub request: Option<RequestSchema>,
    /// The async answer (default 200 `ok`).
    pub response: Option<ResponseSchema>,
    /// Template identifying repeated deliveries of one event.
    pub idempotency_key: Option<String>,
    /// How long a repeated idempotency key is recognised, in milliseconds.
    pub idempotency_window: Option<u64>,
    /// `{"scheme": "stripe" | "github" | "standard-webhooks" | "shopify" | "slack" | "hmac",
    /// "secrets": [...], "tolerance": 300}` (`hmac` also `header`, `algorithm`, `encoding`,
    /// `prefix`): the raw body's HMAC, checked before parsing. Secrets read back as `********`.
    #[schema(value_type = Option<Object>)]
    pub signature: Option<Value>,
    /// `{"perSecond": 100, "burst": 200}`, per ingress instance; beyond it 429.
    #[schema(value_type = Option<Object>)]
    pub rate_limit: Option<Value>,
    /// CIDR ranges or addresses callers must come from; others get 403.
    pub allowed_ips: Option<Vec<String>>,
}

/// Declared request variables.
#[derive(Serialize, ToSchema)]
#[schema(as = RequestSpec)]
pub struct RequestSchema {
    /// Headers copied into `$context.headers`.
    pub headers: Option<Vec<FieldSchema>>,
    /// Declared query variables.
    pub query: Option<Vec<FieldSchema>>,
    /// Declared body variables.
    pub body: Option<Vec<FieldSchema>>,
}

/// One declared variable.
#[derive(Serialize, ToSchema)]
#[schema(as = FieldSpec)]
pub struct FieldSchema {
    /// Path such as `a`, `b.c`, `items[0].id` (a header name for headers).
    pub key: String,
    /// Display name.
    pub alias: Option<String>,
}

/// A configured HTTP answer.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = ResponseSpec)]
pub struct ResponseSchema {
    /// Status code, 100–599.
    pub status_code: Option<u16>,
    /// Extra headers.
    pub headers: Option<Vec<HeaderSchema>>,
    /// A string is sent as text, any other JSON value as JSON.
    pub body: Option<Value>,
}

/// One response header.
#[derive(Serialize, ToSchema)]
#[schema(as = HeaderSpec)]
pub struct HeaderSchema {
    /// Header name.
    pub name: String,
    /// Header value.
    pub value: String,
}

/// Workflow options.
#[derive(Serialize, ToSchema)]
#[schema(as = WorkflowOptions)]
pub struct OptionsSchema {
    /// Milliseconds a sync caller waits (default 30000).
    pub timeout: Option<u64>,
}

/// One node of the graph.
#[derive(Serialize, ToSchema)]
#[schema(as = Node)]
pub struct NodeSchema {
    /// Unique within the workflow.
    pub key: String,
    /// `condition`, `response`, `end`, `calculation` or `delay`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Display name.
    pub title: Option<String>,
    /// Type-specific settings; strings may hold `{{...}}` templates.
    pub config: Option<Value>,
    /// Chains run by a branching node, by branch name (`true`, `false`).
    #[schema(value_type = Option<Object>)]
    pub branches: Option<BTreeMap<String, Vec<Value>>>,
}
