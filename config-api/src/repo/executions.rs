//! Execution history as the executor records it (read-only here).

use chrono::{DateTime, Utc};
use deadpool_postgres::Pool;
use serde_json::Value;
use tokio_postgres::Row;
use uuid::Uuid;

use crate::error::ApiError;

/// One execution without its jobs.
#[derive(Debug, Clone)]
pub struct Execution {
    /// Id (UUID v7 assigned by ingress).
    pub id: Uuid,
    /// The workflow.
    pub workflow_id: Uuid,
    /// The version that ran.
    pub version: i32,
    /// `queued`, `started`, `resolved`, `failed`, `error` or `aborted`.
    pub status: String,
    /// `$context`.
    pub context: Value,
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

/// One node's job within an execution.
#[derive(Debug, Clone)]
pub struct Job {
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

/// Which executions to list.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only this workflow's.
    pub workflow_id: Option<Uuid>,
    /// Only those with this status.
    pub status: Option<String>,
    /// Only those older than this id (the previous page's last).
    pub before: Option<Uuid>,
}

const COLUMNS: &str = "id, workflow_id, version, status, context, response, error, attempts, \
                       created_at, started_at, finished_at";

/// Up to `limit + 1` executions matching `filter`, newest first.
pub async fn list(pool: &Pool, filter: &Filter, limit: u32) -> Result<Vec<Execution>, ApiError> {
    let client = pool.get().await?;
    let sql = format!(
        "SELECT {COLUMNS} FROM executions \
         WHERE ($1::uuid IS NULL OR workflow_id = $1) \
           AND ($2::text IS NULL OR status = $2) \
           AND ($3::uuid IS NULL OR id < $3) \
         ORDER BY id DESC LIMIT $4"
    );
    let rows = client
        .query(
            &sql,
            &[
                &filter.workflow_id,
                &filter.status,
                &filter.before,
                &(i64::from(limit) + 1),
            ],
        )
        .await?;
    rows.iter().map(execution).collect()
}

/// One execution with its jobs in the order they ran.
pub async fn get(pool: &Pool, id: Uuid) -> Result<Option<(Execution, Vec<Job>)>, ApiError> {
    let client = pool.get().await?;
    let sql = format!("SELECT {COLUMNS} FROM executions WHERE id = $1");
    let Some(row) = client.query_opt(&sql, &[&id]).await? else {
        return Ok(None);
    };
    let execution = execution(&row)?;
    let jobs = client
        .query(
            "SELECT node_key, node_type, status, result, started_at, finished_at \
             FROM jobs WHERE execution_id = $1 ORDER BY position",
            &[&id],
        )
        .await?
        .iter()
        .map(job)
        .collect::<Result<_, _>>()?;
    Ok(Some((execution, jobs)))
}

fn execution(row: &Row) -> Result<Execution, ApiError> {
    Ok(Execution {
        id: row.try_get("id")?,
        workflow_id: row.try_get("workflow_id")?,
        version: row.try_get("version")?,
        status: row.try_get("status")?,
        context: row.try_get("context")?,
        response: row.try_get("response")?,
        error: row.try_get("error")?,
        attempts: row.try_get("attempts")?,
        created_at: row.try_get("created_at")?,
        started_at: row.try_get("started_at")?,
        finished_at: row.try_get("finished_at")?,
    })
}

fn job(row: &Row) -> Result<Job, ApiError> {
    Ok(Job {
        node_key: row.try_get("node_key")?,
        node_type: row.try_get("node_type")?,
        status: row.try_get("status")?,
        result: row.try_get("result")?,
        started_at: row.try_get("started_at")?,
        finished_at: row.try_get("finished_at")?,
    })
}
