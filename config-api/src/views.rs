//! What the API answers: records turned into their JSON shapes.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use shared::model::WorkflowDocument;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::keys::webhook_url;
use crate::openapi::schemas::DocumentSchema;
use crate::repo::executions::{Execution, Job};
use crate::repo::workflows::{Version, Workflow};

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
    #[schema(value_type = DocumentSchema)]
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
    #[schema(value_type = DocumentSchema)]
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
    /// Execution id.
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
}

impl From<Execution> for ExecutionSummary {
    fn from(e: Execution) -> Self {
        ExecutionSummary {
            id: e.id,
            workflow_id: e.workflow_id,
            version: e.version,
            status: e.status,
            error: e.error,
            created_at: e.created_at,
            started_at: e.started_at,
            finished_at: e.finished_at,
        }
    }
}

/// One execution with everything recorded about it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionView {
    /// Execution id.
    pub id: Uuid,
    /// The workflow.
    pub workflow_id: Uuid,
    /// The version that ran.
    pub version: i32,
    /// `queued`, `started`, `resolved`, `failed`, `error` or `aborted`.
    pub status: String,
    /// `$context`: headers, query, body, raw.
    pub context: Value,
    /// The node jobs, in the order they ran.
    pub jobs: Vec<JobView>,
    /// The answer sent to a sync caller.
    pub response: Option<Value>,
    /// What went wrong, for `error` executions.
    pub error: Option<String>,
    /// Deliveries so far.
    pub attempts: i32,
    /// When ingress accepted the request.
    pub created_at: DateTime<Utc>,
    /// When an executor started it.
    pub started_at: Option<DateTime<Utc>>,
    /// When it ended.
    pub finished_at: Option<DateTime<Utc>>,
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
}

impl ExecutionView {
    /// The view of an execution and its jobs.
    pub fn new(e: Execution, jobs: Vec<Job>) -> Self {
        ExecutionView {
            id: e.id,
            workflow_id: e.workflow_id,
            version: e.version,
            status: e.status,
            context: e.context,
            jobs: jobs
                .into_iter()
                .map(|j| JobView {
                    node_key: j.node_key,
                    node_type: j.node_type,
                    status: j.status,
                    result: j.result,
                    started_at: j.started_at,
                    finished_at: j.finished_at,
                })
                .collect(),
            response: e.response,
            error: e.error,
            attempts: e.attempts,
            created_at: e.created_at,
            started_at: e.started_at,
            finished_at: e.finished_at,
        }
    }
}
