//! Execution records as the executor reads and writes them, behind a small interface with
//! a PostgreSQL implementation.

mod idempotency;
mod postgres;

use async_trait::async_trait;
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

    /// Every `$env` variable as stored: a secret's value is sealed (`crate::sealing`).
    /// Stores without variables need not implement it.
    async fn variables(&self) -> Result<Vec<StoredVariable>, StoreError> {
        Ok(Vec::new())
    }

    /// Records how the execution ended and its jobs, atomically. When another attempt
    /// finished it first, nothing is written and that attempt's outcome is returned.
    async fn finish(&self, execution_id: Uuid, result: &RunResult) -> Result<Finished, StoreError>;

    /// Records a dead-lettered message as an `error` execution with `reason`; returns the
    /// execution id (a new one when the message does not parse). An execution that
    /// already finished keeps its outcome.
    async fn record_dead_letter(
        &self,
        letter: DeadLetter<'_>,
        reason: &str,
    ) -> Result<Uuid, StoreError>;
}
