//! Execution history as the executor records it (read-only here), read straight into the
//! shapes the API answers: nothing is masked or derived on the way.

use deadpool_postgres::Pool;
use shared::messages::ExecutionStatus;
use tokio_postgres::Row;
use uuid::Uuid;

use crate::error::ApiError;
use crate::views::{ExecutionSummary, ExecutionView, JobView};

/// Which executions to list.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only this workflow's.
    pub workflow_id: Option<Uuid>,
    /// Only those with this status.
    pub status: Option<ExecutionStatus>,
    /// Only those older than this id (the previous page's last).
    pub before: Option<Uuid>,
}

// Lists leave out the JSON columns (context, response): they can be large and a list
// does not show them.
const SUMMARY_COLUMNS: &str =
    "id, workflow_id, version, status, error, created_at, started_at, finished_at, replay_of";

/// Up to `limit + 1` executions matching `filter`, newest first.
pub async fn list(
    pool: &Pool,
    filter: &Filter,
    limit: u32,
) -> Result<Vec<ExecutionSummary>, ApiError> {
    let client = pool.get().await?;
    let sql = format!(
        "SELECT {SUMMARY_COLUMNS} FROM executions \
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
                &filter.status.map(ExecutionStatus::as_str),
                &filter.before,
                &(i64::from(limit) + 1),
            ],
        )
        .await?;
    rows.iter().map(summary).collect()
}

/// One execution with its jobs in the order they ran.
pub async fn get(pool: &Pool, id: Uuid) -> Result<Option<ExecutionView>, ApiError> {
    let client = pool.get().await?;
    let sql = format!(
        "SELECT {SUMMARY_COLUMNS}, context, response, attempts FROM executions WHERE id = $1"
    );
    let Some(row) = client.query_opt(&sql, &[&id]).await? else {
        return Ok(None);
    };
    let jobs = client
        .query(
            "SELECT node_key, node_type, status, result, started_at, finished_at, iteration \
             FROM jobs WHERE execution_id = $1 ORDER BY position",
            &[&id],
        )
        .await?
        .iter()
        .map(job)
        .collect::<Result<_, _>>()?;
    Ok(Some(ExecutionView {
        summary: summary(&row)?,
        context: row.try_get("context")?,
        jobs,
        response: row.try_get("response")?,
        attempts: row.try_get("attempts")?,
    }))
}

fn summary(row: &Row) -> Result<ExecutionSummary, ApiError> {
    Ok(ExecutionSummary {
        id: row.try_get("id")?,
        workflow_id: row.try_get("workflow_id")?,
        version: row.try_get("version")?,
        status: row.try_get("status")?,
        error: row.try_get("error")?,
        created_at: row.try_get("created_at")?,
        started_at: row.try_get("started_at")?,
        finished_at: row.try_get("finished_at")?,
        replay_of: row.try_get("replay_of")?,
    })
}

fn job(row: &Row) -> Result<JobView, ApiError> {
    Ok(JobView {
        node_key: row.try_get("node_key")?,
        node_type: row.try_get("node_type")?,
        status: row.try_get("status")?,
        result: row.try_get("result")?,
        started_at: row.try_get("started_at")?,
        finished_at: row.try_get("finished_at")?,
        iteration: row.try_get("iteration")?,
    })
}
