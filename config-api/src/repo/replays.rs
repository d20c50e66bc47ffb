//! What a replay reads (the recorded execution and its workflow) and writes (the new
//! execution, `queued`, naming the one it replays).

use chrono::{DateTime, Utc};
use deadpool_postgres::Pool;
use serde_json::Value;
use shared::messages::ExecutionStatus;
use uuid::Uuid;

use crate::error::ApiError;

/// A recorded execution to run again, with the state of its workflow now.
#[derive(Debug, Clone)]
pub struct Source {
    /// The recorded execution.
    pub id: Uuid,
    /// Its workflow.
    pub workflow_id: Uuid,
    /// The version it ran.
    pub version: i32,
    /// Its `$context`.
    pub context: Value,
    /// The workflow as it is now: `None` when it no longer exists.
    pub workflow: Option<WorkflowNow>,
}

/// A workflow's state at the time of the replay.
#[derive(Debug, Clone)]
pub struct WorkflowNow {
    /// Its webhook key.
    pub key: String,
    /// Its current version.
    pub current_version: i32,
    /// Whether it takes executions.
    pub enabled: bool,
    /// Whether it was deleted.
    pub deleted: bool,
}

/// Which executions a bulk replay runs again.
#[derive(Debug, Clone)]
pub struct Selection {
    /// Only this workflow's.
    pub workflow_id: Option<Uuid>,
    /// Only executions with one of these statuses.
    pub statuses: Vec<ExecutionStatus>,
    /// Only those accepted at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Only those accepted before this time.
    pub until: Option<DateTime<Utc>>,
    /// At most this many, oldest first.
    pub limit: u32,
}

/// The execution `id` with its workflow, or `None` when there is no such execution.
pub async fn source(pool: &Pool, id: Uuid) -> Result<Option<Source>, ApiError> {
    let client = pool.get().await?;
    let row = client
        .query_opt(
            "SELECT e.id, e.workflow_id, e.version, e.context, \
                    w.key, w.current_version, w.enabled, w.deleted_at IS NOT NULL AS deleted \
             FROM executions e LEFT JOIN workflows w ON w.id = e.workflow_id \
             WHERE e.id = $1",
            &[&id],
        )
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let key: Option<String> = row.try_get("key")?;
    let workflow = match key {
        Some(key) => Some(WorkflowNow {
            key,
            current_version: row.try_get("current_version")?,
            enabled: row.try_get("enabled")?,
            deleted: row.try_get("deleted")?,
        }),
        None => None,
    };
    Ok(Some(Source {
        id: row.try_get("id")?,
        workflow_id: row.try_get("workflow_id")?,
        version: row.try_get("version")?,
        context: row.try_get("context")?,
        workflow,
    }))
}

/// The ids of the executions `selection` names whose workflow is enabled and not deleted,
/// oldest first.
pub async fn select(pool: &Pool, selection: &Selection) -> Result<Vec<Uuid>, ApiError> {
    let client = pool.get().await?;
    let statuses: Vec<&str> = selection
        .statuses
        .iter()
        .map(|status| status.as_str())
        .collect();
    let rows = client
        .query(
            "SELECT e.id FROM executions e JOIN workflows w ON w.id = e.workflow_id \
             WHERE w.deleted_at IS NULL AND w.enabled \
               AND ($1::uuid IS NULL OR e.workflow_id = $1) \
               AND e.status = ANY($2::text[]) \
               AND ($3::timestamptz IS NULL OR e.created_at >= $3) \
               AND ($4::timestamptz IS NULL OR e.created_at < $4) \
             ORDER BY e.id LIMIT $5",
            &[
                &selection.workflow_id,
                &statuses,
                &selection.since,
                &selection.until,
                &i64::from(selection.limit),
            ],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|row| row.try_get("id"))
        .collect::<Result<_, _>>()?)
}

/// Records the replay `id` as queued before its message is published, so that it is listed
/// at once; the executor takes the row over when it starts it.
pub async fn insert_queued(
    pool: &Pool,
    id: Uuid,
    source: &Source,
    version: i32,
    created_at: DateTime<Utc>,
) -> Result<(), ApiError> {
    let client = pool.get().await?;
    client
        .execute(
            "INSERT INTO executions (id, workflow_id, version, status, context, created_at, replay_of, attempts) \
             VALUES ($1, $2, $3, 'queued', $4, $5, $6, 0)",
            &[
                &id,
                &source.workflow_id,
                &version,
                &source.context,
                &created_at,
                &source.id,
            ],
        )
        .await?;
    Ok(())
}

/// Removes a queued replay whose message the broker did not take.
pub async fn remove_queued(pool: &Pool, id: Uuid) -> Result<(), ApiError> {
    let client = pool.get().await?;
    client
        .execute(
            "DELETE FROM executions WHERE id = $1 AND status = 'queued'",
            &[&id],
        )
        .await?;
    Ok(())
}
