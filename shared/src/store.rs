//! Execution records as the executor reads and writes them, behind a small interface with
//! a PostgreSQL implementation.

mod idempotency;
mod postgres;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

use crate::engine::RunResult;
use crate::messages::{Envelope, ExecutionMessage, ExecutionStatus, HttpReply};
use crate::model::WorkflowDocument;

pub use postgres::PgStore;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No connection could be had; retrying later may succeed.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A statement failed.
    #[error("database error: {0}")]
    Query(#[from] tokio_postgres::Error),
    /// A stored workflow document does not read as one; retrying will not help.
    #[error("stored document of workflow {workflow_id} version {version} is invalid: {reason}")]
    InvalidDocument {
        /// The workflow.
        workflow_id: Uuid,
        /// The version.
        version: i32,
        /// What serde said.
        reason: String,
    },
    /// A stored value is not what the schema promises.
    #[error("stored data is invalid: {0}")]
    Invalid(String),
}

impl StoreError {
    /// Whether running the same operation again can succeed (a connection or server
    /// problem rather than bad data).
    pub fn is_transient(&self) -> bool {
        matches!(self, StoreError::Unavailable(_) | StoreError::Query(_))
    }

    /// Whether the database cannot be reached (down, restarting, connection lost) rather
    /// than a statement failing that would fail again however often it is retried: an
    /// outage is worth waiting out.
    pub fn is_outage(&self) -> bool {
        match self {
            StoreError::Unavailable(_) => true,
            StoreError::Query(err) => {
                // Classes 08 (connection exception), 53 (insufficient resources) and 57
                // (operator intervention: admin_shutdown, cannot_connect_now).
                let class = err.code().map(|code| &code.code()[..2]);
                err.is_closed()
                    || matches!(class, Some("08" | "53" | "57"))
                    || std::error::Error::source(err)
                        .is_some_and(|source| source.is::<std::io::Error>())
            }
            _ => false,
        }
    }
}

/// One `$env` variable as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredVariable {
    /// Its name.
    pub name: String,
    /// Its value: sealed when `secret`.
    pub value: String,
    /// Whether it is a secret.
    pub secret: bool,
}

impl std::fmt::Debug for StoredVariable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredVariable")
            .field("name", &self.name)
            .field("secret", &self.secret)
            .finish_non_exhaustive()
    }
}

/// Every `$env` variable as stored, and the generation they were read at.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoredVariables {
    /// Moves on with every change to the variables; `None` from a store that cannot tell,
    /// whose variables are then read again for every execution.
    pub generation: Option<i64>,
    /// The variables.
    pub variables: Vec<StoredVariable>,
}

/// What [`Store::recorded_among`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recorded {
    /// The executions recorded at all.
    pub ids: Vec<Uuid>,
    /// The variables' generation at the same moment (see [`StoredVariables`]).
    pub variables: Option<i64>,
}

/// How an execution ended, as recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct Finished {
    /// Its final status.
    pub status: ExecutionStatus,
    /// The Response node's answer, if one ran.
    pub response: Option<HttpReply>,
}

/// What [`Store::begin`] found.
#[derive(Debug, Clone, PartialEq)]
pub enum Begin {
    /// New, or started before without finishing: run it.
    Run,
    /// Already finished (a redelivery): do not run it again.
    Finished(Finished),
    /// Another execution holds this message's idempotency key within its window: nothing
    /// was recorded for this message and it must not run.
    Duplicate {
        /// The execution that holds the key.
        original: Uuid,
    },
    /// Another execution holds this message's idempotency key within its window, for
    /// another request: nothing was recorded, it must not run, and a sync caller hears of
    /// the conflict (neither the original's answer nor a run of its own).
    Conflict {
        /// The execution that holds the key.
        original: Uuid,
    },
}

/// Where an execution's `$context` is read from when it is recorded.
#[derive(Debug, Clone)]
pub enum StoredContext {
    /// The execution message as it arrived (JSON); its `context` member is what is kept.
    /// The store reads it, so the executor holds no second copy of the context while the
    /// engine owns the first.
    Message(Vec<u8>),
    /// The context itself, for one the store cannot take from the message text as it is
    /// (e.g. one with NUL characters, which are dropped).
    Value(Value),
}

/// An execution run without [`Store::begin`]: nothing was written for it before it ran.
#[derive(Debug, Clone)]
pub struct Execution {
    /// Its id (assigned by ingress).
    pub id: Uuid,
    /// The workflow.
    pub workflow_id: Uuid,
    /// The version it runs.
    pub version: i32,
    /// When ingress accepted the call.
    pub received_at: DateTime<Utc>,
    /// When it started to run.
    pub started_at: DateTime<Utc>,
    /// Its `$context`.
    pub context: StoredContext,
}

/// An execution that ran, to be recorded by [`Store::record`].
#[derive(Debug)]
pub struct Recording {
    /// Which execution.
    pub execution: Execution,
    /// How it ended and its jobs.
    pub result: RunResult,
}

/// A message that reached the dead-letter queue.
#[derive(Debug, Clone, Copy)]
pub enum DeadLetter<'a> {
    /// Its identity is known (from its headers or the start of its body); the body is kept
    /// as the execution's context if PostgreSQL can read it, without the executor parsing it.
    Execution {
        /// Who it is.
        envelope: &'a Envelope,
        /// The message body, as it arrived.
        payload: &'a [u8],
    },
    /// Nothing names its workflow; the raw bytes.
    Unreadable(&'a [u8]),
}

/// What the executor reads and writes.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// The document of one workflow version (versions are immutable), or `None` if there
    /// is no such version.
    async fn load_version(
        &self,
        workflow_id: Uuid,
        version: i32,
    ) -> Result<Option<WorkflowDocument>, StoreError>;

    /// Records that `message` is starting (counting attempts) and tells whether it
    /// already finished. A message with an idempotency key first claims the key for its
    /// workflow, atomically with the record; when another execution holds it, nothing is
    /// recorded and [`Begin::Duplicate`] names that execution.
    async fn begin(&self, message: &ExecutionMessage) -> Result<Begin, StoreError>;

    /// How `execution_id` ended, or `None` while it has not finished (or is unknown). Stores
    /// that never answer [`Begin::Duplicate`] need not implement it.
    async fn outcome(&self, execution_id: Uuid) -> Result<Option<Finished>, StoreError> {
        let _ = execution_id;
        Ok(None)
    }

    /// Deletes idempotency keys whose window has ended; returns how many. Stores that never
    /// answer [`Begin::Duplicate`] need not implement it.
    async fn purge_expired_keys(&self) -> Result<u64, StoreError> {
        Ok(0)
    }

    /// Every `$env` variable as stored (a secret's value is sealed, `crate::sealing`), with
    /// their generation. Stores without variables need not implement it.
    async fn variables(&self) -> Result<StoredVariables, StoreError> {
        Ok(StoredVariables::default())
    }

    /// Records how the execution ended and its jobs, atomically. When another attempt
    /// finished it first, nothing is written and that attempt's outcome is returned.
    async fn finish(&self, execution_id: Uuid, result: &RunResult) -> Result<Finished, StoreError>;

    /// The executions among `ids` that are recorded at all (started or finished): only
    /// these need [`Store::begin`] before they run; the others run at once and are written
    /// once, by [`Store::record`]. Also the variables' generation, read in the same round
    /// trip, which tells whether the variables read before are still current. A store that
    /// cannot tell keeps this default, which names every id: then every execution is begun.
    async fn recorded_among(&self, ids: &[Uuid]) -> Result<Recorded, StoreError> {
        Ok(Recorded {
            ids: ids.to_vec(),
            variables: None,
        })
    }

    /// Records that `execution`, run without [`Store::begin`], is still running (it waits,
    /// e.g. in a delay node), so that it shows as `started`. Nothing is written when it is
    /// recorded already.
    async fn started(&self, execution: &Execution) -> Result<(), StoreError> {
        let _ = execution;
        Ok(())
    }

    /// Records a batch of executions that ran, begun or not, each with its jobs, as
    /// [`Store::finish`] does for one: one answer per recording, in order. An execution
    /// that another attempt finished first keeps that attempt's outcome, which is its
    /// answer. `Err` is for the batch as a whole (e.g. the database is unreachable); an
    /// execution that cannot be recorded fails alone, the others are recorded. The default
    /// finishes them one by one (enough for a store whose [`Store::recorded_among`] makes
    /// every execution begun).
    async fn record(
        &self,
        batch: &[Arc<Recording>],
    ) -> Result<Vec<Result<Finished, StoreError>>, StoreError> {
        let mut outcomes = Vec::with_capacity(batch.len());
        for recording in batch {
            let outcome = self.finish(recording.execution.id, &recording.result).await;
            outcomes.push(outcome);
        }
        Ok(outcomes)
    }

    /// Records a dead-lettered message as an `error` execution with `reason`; returns the
    /// execution id (a new one when the message does not parse). An execution that
    /// already finished keeps its outcome.
    async fn record_dead_letter(
        &self,
        letter: DeadLetter<'_>,
        reason: &str,
    ) -> Result<Uuid, StoreError>;
}
