//! [`Store`] over PostgreSQL (tables of `config-api/migrations/V1__initial_schema.sql` and
//! `V2__idempotency_keys.sql`).

use std::borrow::Cow;

use async_trait::async_trait;
use deadpool_postgres::{GenericClient, Pool};
use serde_json::Value;
use tokio_postgres::Row;
use uuid::Uuid;

use super::idempotency::{self, Claim};
use super::{Begin, DeadLetter, Finished, Store, StoreError, StoredVariable};
use crate::engine::RunResult;
use crate::messages::{ExecutionMessage, ExecutionStatus, HttpReply};
use crate::model::WorkflowDocument;

/// The PostgreSQL store.
#[derive(Clone)]
pub struct PgStore {
    pool: Pool,
}

impl PgStore {
    /// A store over `pool`.
    pub fn new(pool: Pool) -> Self {
        PgStore { pool }
    }

    async fn client(&self) -> Result<deadpool_postgres::Client, StoreError> {
        self.pool
            .get()
            .await
            .map_err(|e| StoreError::Unavailable(e.to_string()))
    }
}

const FINAL: &str = "('resolved', 'failed', 'error', 'aborted')";

#[async_trait]
impl Store for PgStore {
    async fn load_version(
        &self,
        workflow_id: Uuid,
        version: i32,
    ) -> Result<Option<WorkflowDocument>, StoreError> {
        let client = self.client().await?;
        let statement = client
            .prepare_cached(
                "SELECT document FROM workflow_versions WHERE workflow_id = $1 AND version = $2",
            )
            .await?;
        let Some(row) = client
            .query_opt(&statement, &[&workflow_id, &version])
            .await?
        else {
            return Ok(None);
        };
        let document: Value = row.try_get(0)?;
        serde_json::from_value(document)
            .map(Some)
            .map_err(|e| StoreError::InvalidDocument {
                workflow_id,
                version,
                reason: e.to_string(),
            })
    }

    async fn begin(&self, message: &ExecutionMessage) -> Result<Begin, StoreError> {
        let mut client = self.client().await?;
        let row = match &message.idempotency {
            // One statement: no transaction, no round trips for BEGIN and COMMIT.
            None => record_attempt(&client, message).await?,
            Some(idempotency) => {
                // The key claim and the execution record commit together: a key is never
                // held by an execution that is not recorded.
                let tx = client.transaction().await?;
                if let Claim::Held(original) = idempotency::claim(&tx, message, idempotency).await?
                {
                    tx.rollback().await?;
                    return Ok(Begin::Duplicate { original });
                }
                let row = record_attempt(&tx, message).await?;
                tx.commit().await?;
                row
            }
        };
        let finished = finished_from(row.try_get(0)?, row.try_get(1)?)?;
        Ok(if finished.status.is_final() {
            Begin::Finished(finished)
        } else {
            Begin::Run
        })
    }

    async fn outcome(&self, execution_id: Uuid) -> Result<Option<Finished>, StoreError> {
        let client = self.client().await?;
        let statement = client
            .prepare_cached("SELECT status, response FROM executions WHERE id = $1")
            .await?;
        let Some(row) = client.query_opt(&statement, &[&execution_id]).await? else {
            return Ok(None);
        };
        let finished = finished_from(row.try_get(0)?, row.try_get(1)?)?;
        Ok(finished.status.is_final().then_some(finished))
    }

    async fn purge_expired_keys(&self) -> Result<u64, StoreError> {
        idempotency::purge_expired(&self.client().await?).await
    }

    async fn finish(&self, execution_id: Uuid, result: &RunResult) -> Result<Finished, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let response = result
            .response
            .as_ref()
            .map(|reply| {
                serde_json::to_value(reply).map_err(|e| StoreError::Invalid(e.to_string()))
            })
            .transpose()?
            .map(|value| storable(&value).into_owned());
        let update = tx
            .prepare_cached(&format!(
                "UPDATE executions SET status = $2, response = $3, error = $4, finished_at = now() \
                 WHERE id = $1 AND status NOT IN {FINAL}"
            ))
            .await?;
        let updated = tx
            .execute(
                &update,
                &[
                    &execution_id,
                    &result.status.as_str(),
                    &response,
                    &result.error,
                ],
            )
            .await?;
        if updated == 0 {
            // Another attempt got there first (or the row is gone): keep what it recorded.
            let row = tx
                .query_opt(
                    "SELECT status, response FROM executions WHERE id = $1",
                    &[&execution_id],
                )
                .await?;
            return match row {
                Some(row) => finished_from(row.try_get(0)?, row.try_get(1)?),
                None => Err(StoreError::Invalid(format!(
                    "execution {execution_id} is not recorded"
                ))),
            };
        }
        let insert = tx
            .prepare_cached(
                "INSERT INTO jobs (execution_id, position, node_key, node_type, status, result, started_at, finished_at, iteration) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .await?;
        for (position, job) in result.jobs.iter().enumerate() {
            let position =
                i32::try_from(position).map_err(|e| StoreError::Invalid(e.to_string()))?;
            let iteration = iteration_column(&job.iteration)?;
            tx.execute(
                &insert,
                &[
                    &execution_id,
                    &position,
                    &job.node_key,
                    &job.node_type,
                    &job.status.as_str(),
                    &storable(&job.result).as_ref(),
                    &job.started_at,
                    &job.finished_at,
                    &iteration,
                ],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(Finished {
            status: result.status,
            response: result.response.clone(),
        })
    }

    async fn variables(&self) -> Result<Vec<StoredVariable>, StoreError> {
        let client = self.client().await?;
        let statement = client
            .prepare_cached("SELECT name, value, secret FROM variables")
            .await?;
        let rows = client.query(&statement, &[]).await?;
        rows.iter()
            .map(|row| {
                Ok(StoredVariable {
                    name: row.try_get("name")?,
                    value: row.try_get("value")?,
                    secret: row.try_get("secret")?,
                })
            })
            .collect()
    }

    async fn record_dead_letter(
        &self,
        letter: DeadLetter<'_>,
        reason: &str,
    ) -> Result<Uuid, StoreError> {
        let client = self.client().await?;
        let statement = format!(
            "INSERT INTO executions (id, workflow_id, version, status, context, error, created_at, finished_at) \
             VALUES ($1, $2, $3, 'error', {{context}}, $5, $6, now()) \
             ON CONFLICT (id) DO UPDATE SET status = 'error', error = EXCLUDED.error, finished_at = now() \
             WHERE executions.status NOT IN {FINAL}"
        );
        let (envelope, payload) = match letter {
            DeadLetter::Execution { envelope, payload } => (Some(envelope), payload),
            DeadLetter::Unreadable(payload) => (None, payload),
        };
        // PostgreSQL reads the body, not the executor: a body too large or too deep to hold
        // here costs it nothing. The text is cut to a bound, so what is stored is bounded too.
        let text = bounded_text(payload);
        if let Some(envelope) = envelope {
            let with_context = statement.replace(
                "{context}",
                "COALESCE(($4::text)::jsonb -> 'context', 'null'::jsonb)",
            );
            let recorded = client
                .execute(
                    &with_context,
                    &[
                        &envelope.execution_id,
                        &envelope.workflow_id,
                        &envelope.version,
                        &text,
                        &reason,
                        &envelope.received_at,
                    ],
                )
                .await;
            match recorded {
                Ok(_) => return Ok(envelope.execution_id),
                // A body PostgreSQL cannot read as JSON (cut, or never JSON): keep the text.
                Err(err) if err.code().is_some() => {
                    tracing::debug!(error = %err, "dead letter body is not JSON; keeping it as text");
                }
                Err(err) => return Err(err.into()),
            }
        }
        // No workflow to name: the nil id and version 0 mark it, and the raw bytes are kept
        // as text so that an operator can see what arrived.
        let (id, workflow_id, version, created_at) = match envelope {
            Some(envelope) => (
                envelope.execution_id,
                envelope.workflow_id,
                envelope.version,
                envelope.received_at,
            ),
            None => (Uuid::now_v7(), Uuid::nil(), 0, chrono::Utc::now()),
        };
        let as_text = statement.replace("{context}", "to_jsonb($4::text)");
        client
            .execute(
                &as_text,
                &[&id, &workflow_id, &version, &text, &reason, &created_at],
            )
            .await?;
        Ok(id)
    }
}

/// Most bytes of a dead letter's body kept in its execution record.
const DEAD_LETTER_TEXT_LIMIT: usize = 4 * 1024 * 1024;

/// A body as text PostgreSQL accepts (no NUL), cut at [`DEAD_LETTER_TEXT_LIMIT`].
fn bounded_text(payload: &[u8]) -> String {
    let kept = &payload[..payload.len().min(DEAD_LETTER_TEXT_LIMIT)];
    String::from_utf8_lossy(kept).replace('\0', "")
}

/// Records that `message` is starting, or counts one more attempt of it; the row holds
/// the execution's status and response as recorded. A row config-api recorded as `queued`
/// (a replay) is started here.
async fn record_attempt(
    client: &impl GenericClient,
    message: &ExecutionMessage,
) -> Result<Row, StoreError> {
    let statement = client
        .prepare_cached(
            "INSERT INTO executions (id, workflow_id, version, status, context, created_at, started_at) \
             VALUES ($1, $2, $3, 'started', $4, $5, now()) \
             ON CONFLICT (id) DO UPDATE SET attempts = executions.attempts + 1, \
               status = CASE WHEN executions.status = 'queued' THEN 'started' ELSE executions.status END, \
               started_at = COALESCE(executions.started_at, now()) \
             RETURNING status, response",
        )
        .await?;
    Ok(client
        .query_one(
            &statement,
            &[
                &message.execution_id,
                &message.workflow_id,
                &message.version,
                &storable(&message.context).as_ref(),
                &message.received_at,
            ],
        )
        .await?)
}

fn finished_from(status: String, response: Option<Value>) -> Result<Finished, StoreError> {
    let status = ExecutionStatus::parse(&status)
        .ok_or_else(|| StoreError::Invalid(format!("unknown execution status {status:?}")))?;
    let response = match response {
        Some(value) => Some(
            serde_json::from_value::<HttpReply>(value)
                .map_err(|e| StoreError::Invalid(format!("stored response: {e}")))?,
        ),
        None => None,
    };
    Ok(Finished { status, response })
}

/// `value` without NUL characters, which PostgreSQL's jsonb refuses: a caller sending
/// `\u0000` must not make its execution impossible to record.
fn storable(value: &Value) -> Cow<'_, Value> {
    if has_nul(value) {
        Cow::Owned(strip_nul(value))
    } else {
        Cow::Borrowed(value)
    }
}

fn has_nul(value: &Value) -> bool {
    match value {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().any(has_nul),
        Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
        _ => false,
    }
}

fn strip_nul(value: &Value) -> Value {
    match value {
        Value::String(s) => Value::String(s.replace('\0', "")),
        Value::Array(items) => Value::Array(items.iter().map(strip_nul).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.replace('\0', ""), strip_nul(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// A job's loop iteration path as stored: `NULL` outside loops.
fn iteration_column(iteration: &[usize]) -> Result<Option<Vec<i32>>, StoreError> {
    if iteration.is_empty() {
        return Ok(None);
    }
    iteration
        .iter()
        .map(|&index| i32::try_from(index).map_err(|e| StoreError::Invalid(e.to_string())))
        .collect::<Result<_, _>>()
        .map(Some)
}
