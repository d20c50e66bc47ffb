//! What the API answers: records turned into their JSON shapes.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use shared::model::WorkflowDocument;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::keys::webhook_url;
use crate::repo::variables::Variable;
use crate::repo::workflows::{Version, Workflow};
use shared::model::MASKED_PASSWORD;

/// A workflow as the API shows it: its current version, password masked.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorkflowView {
    /// Workflow id.
    pub id: Uuid,
    /// Webhook key, the same for every version.
    pub key: String,
    /// Current version number.
    pub version: i32,
    /// The URL callers POST to.
    pub webhook_url: String,
    /// When the workflow was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// The document of the current version.
    #[serde(flatten)]
    pub document: WorkflowDocument,
}

impl WorkflowView {
    /// The view of `workflow`, with webhook URLs based on `public_url`.
    pub fn new(workflow: Workflow, public_url: &str) -> Self {
        let mut document = workflow.document.masked();
        // Enable/disable flip the flag without a new version; the flag is the truth.
        document.enabled = workflow.enabled;
        WorkflowView {
            webhook_url: webhook_url(public_url, &workflow.key),
            id: workflow.id,
            key: workflow.key,
            version: workflow.version,
            created_at: workflow.created_at,
            updated_at: workflow.updated_at,
            document,
        }
    }
}

/// One stored version of a workflow, password masked.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VersionView {
    /// Workflow id.
    pub id: Uuid,
    /// Webhook key.
    pub key: String,
    /// Version number.
    pub version: i32,
    /// The URL callers POST to.
    pub webhook_url: String,
    /// When this version was stored.
    pub created_at: DateTime<Utc>,
    /// The document as stored in this version.
    #[serde(flatten)]
    pub document: WorkflowDocument,
}

impl VersionView {
    /// The view of `version`.
    pub fn new(version: Version, public_url: &str) -> Self {
        VersionView {
            webhook_url: webhook_url(public_url, &version.key),
            id: version.workflow_id,
            key: version.key,
            version: version.version,
            created_at: version.created_at,
            document: version.document.masked(),
        }
    }
}

/// An execution in a list (without context, response and jobs).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionSummary {
    /// Execution id (UUID v7 assigned by ingress).
    pub id: Uuid,
    /// The workflow.
    pub workflow_id: Uuid,
    /// The version that ran.
    pub version: i32,
    /// `queued`, `started`, `resolved`, `failed`, `error` or `aborted`.
    pub status: String,
    /// What went wrong, for `error` executions.
    pub error: Option<String>,
    /// When ingress accepted the request.
    pub created_at: DateTime<Utc>,
    /// When an executor started it.
    pub started_at: Option<DateTime<Utc>>,
    /// When it ended.
    pub finished_at: Option<DateTime<Utc>>,
    /// The execution whose context this one runs again, when it is a replay.
    pub replay_of: Option<Uuid>,
}

/// One execution with everything recorded about it: the summary's fields and the rest.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionView {
    /// What a list shows of it.
    #[serde(flatten)]
    pub summary: ExecutionSummary,
    /// `$context`: headers, query, body, raw.
    pub context: Value,
    /// The node jobs, in the order they started (a parallel node's branches one after the
    /// other).
    pub jobs: Vec<JobView>,
    /// The answer sent to a sync caller.
    pub response: Option<Value>,
    /// Deliveries so far.
    pub attempts: i32,
}

/// One node's job.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JobView {
    /// The node's key.
    pub node_key: String,
    /// The node's type.
    pub node_type: String,
    /// `pending`, `resolved`, `failed`, `error` or `aborted`.
    pub status: String,
    /// The node's output.
    pub result: Option<Value>,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it ended.
    pub finished_at: Option<DateTime<Utc>>,
    /// Inside loop nodes: the index of each loop's iteration it ran in, outer loop first
    /// (absent outside loops).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<u32>>)]
    pub iteration: Option<Vec<i32>>,
}

/// A `$env` variable as the API shows it: a secret's value reads `********`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VariableView {
    /// Templates read it as `{{$env.NAME}}`, CEL as `env.NAME`.
    pub name: String,
    /// The value; `********` for a secret.
    pub value: String,
    /// Whether the value is write-only.
    pub secret: bool,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl VariableView {
    /// The view of `variable`.
    pub fn new(variable: Variable) -> Self {
        VariableView {
            value: if variable.secret {
                MASKED_PASSWORD.to_owned()
            } else {
                variable.value
            },
            name: variable.name,
            secret: variable.secret,
            created_at: variable.created_at,
            updated_at: variable.updated_at,
        }
    }
}
