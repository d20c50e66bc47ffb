//! [`Store`] over PostgreSQL (tables of `config-api/migrations/V1__initial_schema.sql` and
//! `V2__idempotency_keys.sql`).

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use async_trait::async_trait;
use deadpool_postgres::{GenericClient, Pool};
use serde_json::Value;
use tokio_postgres::Row;
use uuid::Uuid;

use super::idempotency::{self, Claim};
use super::{
    Begin, DeadLetter, Execution, Finished, Recorded, Recording, Store, StoreError, StoredContext,
    StoredVariable, StoredVariables,
};
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
                match idempotency::claim(&tx, message, idempotency).await? {
                    Claim::Ours => {}
                    Claim::Held(original) => {
                        tx.rollback().await?;
                        return Ok(Begin::Duplicate { original });
                    }
                    Claim::Conflict(original) => {
                        tx.rollback().await?;
                        return Ok(Begin::Conflict { original });
                    }
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

    async fn variables(&self) -> Result<StoredVariables, StoreError> {
        let client = self.client().await?;
        // One statement, one snapshot: the generation is the one of these variables. With
        // no variable there is still the generation's row.
        let statement = client
            .prepare_cached(
                "SELECT g.n, v.name, v.value, v.secret \
                 FROM variables_generation g LEFT JOIN variables v ON true",
            )
            .await?;
        let rows = client.query(&statement, &[]).await?;
        let mut stored = StoredVariables::default();
        for row in &rows {
            stored.generation = Some(row.try_get("n")?);
            if let Some(name) = row.try_get::<_, Option<String>>("name")? {
                stored.variables.push(StoredVariable {
                    name,
                    value: row.try_get("value")?,
                    secret: row.try_get("secret")?,
                });
            }
        }
        Ok(stored)
    }

    async fn recorded_among(&self, ids: &[Uuid]) -> Result<Recorded, StoreError> {
        let client = self.client().await?;
        let statement = client
            .prepare_cached(
                "SELECT id, NULL::bigint AS generation FROM executions WHERE id = ANY($1) \
                 UNION ALL SELECT NULL, n FROM variables_generation",
            )
            .await?;
        let rows = client.query(&statement, &[&ids]).await?;
        let mut recorded = Recorded::default();
        for row in &rows {
            match row.try_get::<_, Option<Uuid>>("id")? {
                Some(id) => recorded.ids.push(id),
                None => recorded.variables = row.try_get("generation")?,
            }
        }
        Ok(recorded)
    }

    async fn started(&self, execution: &Execution) -> Result<(), StoreError> {
        let client = self.client().await?;
        let statement = client
            .prepare_cached(&format!(
                "INSERT INTO executions (id, workflow_id, version, status, context, created_at, started_at) \
                 VALUES ($1, $2, $3, 'started', {CONTEXT}, $6, $7) \
                 ON CONFLICT (id) DO NOTHING",
                CONTEXT = context_from("($4::text)", "$5::bool")
            ))
            .await?;
        let (source, whole) = context_text(&execution.context)?;
        client
            .execute(
                &statement,
                &[
                    &execution.id,
                    &execution.workflow_id,
                    &execution.version,
                    &source.as_ref(),
                    &whole,
                    &execution.received_at,
                    &execution.started_at,
                ],
            )
            .await?;
        Ok(())
    }

    async fn record(
        &self,
        batch: &[Arc<Recording>],
    ) -> Result<Vec<Result<Finished, StoreError>>, StoreError> {
        let client = self.client().await?;
        let mut outcomes: Vec<Option<Result<Finished, StoreError>>> =
            batch.iter().map(|_| None).collect();
        // One statement cannot write a row twice: an execution that occurs more than once
        // (a redelivery arriving while the first attempt is still being recorded) goes into
        // a later round, where it finds the first one's outcome.
        let mut rest: Vec<usize> = (0..batch.len()).collect();
        while !rest.is_empty() {
            let mut seen = HashSet::new();
            let (round, later): (Vec<usize>, Vec<usize>) = rest
                .into_iter()
                .partition(|&index| seen.insert(batch[index].execution.id));
            rest = later;
            let recordings: Vec<&Recording> = round.iter().map(|&i| &*batch[i]).collect();
            match record_batch(&client, &recordings).await {
                Ok(done) => {
                    for (index, outcome) in round.into_iter().zip(done) {
                        outcomes[index] = Some(Ok(outcome));
                    }
                }
                // The server refused the statement: one of the executions holds something
                // it cannot take. Each is recorded alone, so that only that one fails.
                Err(StoreError::Query(err)) if err.code().is_some() && round.len() > 1 => {
                    tracing::debug!(error = %err, "a batch could not be recorded; recording its executions one by one");
                    for index in round {
                        let alone = [&*batch[index]];
                        let outcome = record_batch(&client, &alone).await;
                        match outcome {
                            Ok(mut done) => outcomes[index] = done.pop().map(Ok),
                            Err(err) if err.is_outage() => return Err(err),
                            Err(err) => outcomes[index] = Some(Err(err)),
                        }
                    }
                }
                Err(err) if err.is_outage() || round.len() > 1 => return Err(err),
                Err(err) => outcomes[round[0]] = Some(Err(err)),
            }
        }
        Ok(outcomes
            .into_iter()
            .map(|outcome| {
                outcome.unwrap_or_else(|| {
                    Err(StoreError::Invalid(
                        "execution left out of its batch".into(),
                    ))
                })
            })
            .collect())
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

/// The SQL of an execution's `context` from `source` (text): the message's `context`
/// member, or the whole text when `whole` is true.
fn context_from(source: &str, whole: &str) -> String {
    format!(
        "CASE WHEN {whole} THEN {source}::jsonb \
         ELSE COALESCE({source}::jsonb -> 'context', 'null'::jsonb) END"
    )
}

/// The text PostgreSQL reads an execution's context from, and whether it is the context
/// itself (rather than the whole message).
fn context_text(context: &StoredContext) -> Result<(Cow<'_, str>, bool), StoreError> {
    match context {
        StoredContext::Message(bytes) => std::str::from_utf8(bytes)
            .map(|text| (Cow::Borrowed(text), false))
            .map_err(|e| StoreError::Invalid(format!("execution message: {e}"))),
        StoredContext::Value(value) => serde_json::to_string(storable(value).as_ref())
            .map(|text| (Cow::Owned(text), true))
            .map_err(|e| StoreError::Invalid(e.to_string())),
    }
}

/// Writes `batch` (no execution twice) in one statement: each execution that is not
/// final yet gets its outcome and its jobs; the others keep what they hold. Answers each
/// execution's outcome as recorded, in order.
async fn record_batch(
    client: &deadpool_postgres::Client,
    batch: &[&Recording],
) -> Result<Vec<Finished>, StoreError> {
    let count = batch.len();
    let (mut ids, mut workflows, mut versions) = (
        Vec::with_capacity(count),
        Vec::with_capacity(count),
        Vec::with_capacity(count),
    );
    let (mut sources, mut wholes, mut statuses) = (
        Vec::with_capacity(count),
        Vec::with_capacity(count),
        Vec::with_capacity(count),
    );
    let (mut responses, mut errors, mut created, mut started) = (
        Vec::with_capacity(count),
        Vec::with_capacity(count),
        Vec::with_capacity(count),
        Vec::with_capacity(count),
    );
    let jobs = batch.iter().map(|r| r.result.jobs.len()).sum();
    let (mut job_executions, mut positions, mut keys, mut types) = (
        Vec::with_capacity(jobs),
        Vec::with_capacity(jobs),
        Vec::with_capacity(jobs),
        Vec::with_capacity(jobs),
    );
    let (mut job_statuses, mut results, mut job_started, mut job_finished) = (
        Vec::with_capacity(jobs),
        Vec::with_capacity(jobs),
        Vec::with_capacity(jobs),
        Vec::with_capacity(jobs),
    );
    // Iteration paths differ in length, which one array parameter cannot hold as arrays:
    // each travels as an array literal (`{0,2}`), `NULL` outside loops.
    let mut iterations: Vec<Option<String>> = Vec::with_capacity(jobs);
    for recording in batch {
        let (execution, result) = (&recording.execution, &recording.result);
        let (source, whole) = context_text(&execution.context)?;
        ids.push(execution.id);
        workflows.push(execution.workflow_id);
        versions.push(execution.version);
        sources.push(source);
        wholes.push(whole);
        statuses.push(result.status.as_str());
        responses.push(
            result
                .response
                .as_ref()
                .map(|reply| {
                    serde_json::to_value(reply)
                        .map(|value| storable(&value).into_owned())
                        .map_err(|e| StoreError::Invalid(e.to_string()))
                })
                .transpose()?,
        );
        errors.push(result.error.as_deref());
        created.push(execution.received_at);
        started.push(execution.started_at);
        for (position, job) in result.jobs.iter().enumerate() {
            job_executions.push(execution.id);
            positions
                .push(i32::try_from(position).map_err(|e| StoreError::Invalid(e.to_string()))?);
            keys.push(job.node_key.as_str());
            types.push(job.node_type.as_str());
            job_statuses.push(job.status.as_str());
            results.push(storable(&job.result));
            job_started.push(job.started_at);
            job_finished.push(job.finished_at);
            iterations.push(iteration_literal(&job.iteration));
        }
    }
    let statement = client
        .prepare_cached(&format!(
            "WITH batch AS ( \
                 SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::int4[], $4::text[], $5::bool[], \
                     $6::text[], $7::jsonb[], $8::text[], $9::timestamptz[], $10::timestamptz[]) \
                 AS b(id, workflow_id, version, source, whole, status, response, error, created_at, started_at) \
             ), written AS ( \
                 INSERT INTO executions AS e (id, workflow_id, version, status, context, response, error, created_at, started_at, finished_at) \
                 SELECT id, workflow_id, version, status, {CONTEXT}, response, error, created_at, started_at, now() \
                 FROM batch \
                 ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, response = EXCLUDED.response, \
                     error = EXCLUDED.error, finished_at = EXCLUDED.finished_at \
                 WHERE e.status NOT IN {FINAL} \
                 RETURNING e.id \
             ), jobs_written AS ( \
                 INSERT INTO jobs (execution_id, position, node_key, node_type, status, result, started_at, finished_at, iteration) \
                 SELECT j.execution_id, j.position, j.node_key, j.node_type, j.status, j.result, \
                     j.started_at, j.finished_at, j.iteration::int4[] \
                 FROM unnest($11::uuid[], $12::int4[], $13::text[], $14::text[], $15::text[], \
                     $16::jsonb[], $17::timestamptz[], $18::timestamptz[], $19::text[]) \
                 AS j(execution_id, position, node_key, node_type, status, result, started_at, finished_at, iteration) \
                 WHERE j.execution_id IN (SELECT id FROM written) \
             ) \
             SELECT id, NULL::text, NULL::jsonb FROM written \
             UNION ALL \
             SELECT id, status, response FROM executions \
             WHERE id = ANY($1) AND id NOT IN (SELECT id FROM written)",
            CONTEXT = context_from("source", "whole"),
        ))
        .await?;
    let sources: Vec<&str> = sources.iter().map(AsRef::as_ref).collect();
    let results: Vec<&Value> = results.iter().map(AsRef::as_ref).collect();
    let rows = client
        .query(
            &statement,
            &[
                &ids,
                &workflows,
                &versions,
                &sources,
                &wholes,
                &statuses,
                &responses,
                &errors,
                &created,
                &started,
                &job_executions,
                &positions,
                &keys,
                &types,
                &job_statuses,
                &results,
                &job_started,
                &job_finished,
                &iterations,
            ],
        )
        .await?;
    let mut kept: HashMap<Uuid, Option<Finished>> = HashMap::with_capacity(rows.len());
    for row in rows {
        let id: Uuid = row.try_get(0)?;
        let status: Option<String> = row.try_get(1)?;
        let recorded = match status {
            // Written by this statement: the outcome is this attempt's.
            None => None,
            Some(status) => Some(finished_from(status, row.try_get(2)?)?),
        };
        kept.insert(id, recorded);
    }
    let missing: Vec<Uuid> = ids
        .iter()
        .filter(|id| !kept.contains_key(id))
        .copied()
        .collect();
    if !missing.is_empty() {
        // Recorded by an attempt that committed while this statement ran, so its snapshot
        // did not show them.
        let rows = client
            .query(
                "SELECT id, status, response FROM executions WHERE id = ANY($1)",
                &[&missing],
            )
            .await?;
        for row in rows {
            kept.insert(
                row.try_get(0)?,
                Some(finished_from(row.try_get(1)?, row.try_get(2)?)?),
            );
        }
    }
    batch
        .iter()
        .map(|recording| match kept.remove(&recording.execution.id) {
            Some(None) => Ok(Finished {
                status: recording.result.status,
                response: recording.result.response.clone(),
            }),
            Some(Some(recorded)) => Ok(recorded),
            None => Err(StoreError::Invalid(format!(
                "execution {} is not recorded",
                recording.execution.id
            ))),
        })
        .collect()
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

/// A job's loop iteration path as an array literal for a batch (`{0,2}`), `None` outside
/// loops.
fn iteration_literal(iteration: &[usize]) -> Option<String> {
    if iteration.is_empty() {
        return None;
    }
    let indexes: Vec<String> = iteration.iter().map(usize::to_string).collect();
    Some(format!("{{{}}}", indexes.join(",")))
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
