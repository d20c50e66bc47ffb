//! Messages on the wire between the services, serialised as JSON.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::model::HeaderSpec;

/// Status of an execution (docs/api.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum ExecutionStatus {
    /// Accepted, not yet picked up.
    Queued,
    /// Running on an executor.
    Started,
    /// Finished successfully.
    Resolved,
    /// Ended as failed by the flow (an `end` node, `rejectOnFalse`).
    Failed,
    /// A node raised, or the message could not be processed.
    Error,
    /// Stopped by a timeout.
    Aborted,
}

impl ExecutionStatus {
    /// The lower-case name used in the API and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            ExecutionStatus::Queued => "queued",
            ExecutionStatus::Started => "started",
            ExecutionStatus::Resolved => "resolved",
            ExecutionStatus::Failed => "failed",
            ExecutionStatus::Error => "error",
            ExecutionStatus::Aborted => "aborted",
        }
    }

    /// Parses the lower-case name.
    pub fn parse(s: &str) -> Option<Self> {
        serde_json::from_value(Value::String(s.to_owned())).ok()
    }

    /// Whether the execution is over.
    pub fn is_final(self) -> bool {
        !matches!(self, ExecutionStatus::Queued | ExecutionStatus::Started)
    }
}

/// Status of one node's job (docs/api.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    /// Waiting (e.g. inside a delay).
    Pending,
    /// Done.
    Resolved,
    /// Ended the flow as failed.
    Failed,
    /// Raised an error.
    Error,
    /// Stopped by a timeout.
    Aborted,
}

impl JobStatus {
    /// The lower-case name used in the API and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Pending => "pending",
            JobStatus::Resolved => "resolved",
            JobStatus::Failed => "failed",
            JobStatus::Error => "error",
            JobStatus::Aborted => "aborted",
        }
    }
}

/// An HTTP answer decided by the flow (a Response node) or configured on the trigger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpReply {
    /// Status code.
    pub status_code: u16,
    /// Headers.
    #[serde(default)]
    pub headers: Vec<HeaderSpec>,
    /// Body: a string is sent as `text/plain`, anything else as JSON, unless a
    /// `Content-Type` header says otherwise.
    #[serde(default)]
    pub body: Value,
}

/// One webhook call to run: published by ingress, consumed by executors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionMessage {
    /// Assigned by ingress (UUID v7); the idempotency key of the delivery.
    pub execution_id: Uuid,
    /// The workflow.
    pub workflow_id: Uuid,
    /// Its webhook key.
    pub workflow_key: String,
    /// The version to run.
    pub version: i32,
    /// Whether a caller waits for the reply.
    pub sync: bool,
    /// `$context`: headers, query, body, raw.
    pub context: Value,
    /// When ingress accepted the request.
    pub received_at: DateTime<Utc>,
    /// The call's idempotency key, when the trigger has an `idempotencyKey` template and it
    /// rendered to a non-empty value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency: Option<Idempotency>,
    /// How long the sync caller waits for the answer (`options.timeout`), in milliseconds;
    /// a repeated idempotency key waits at most this long for the original execution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync_timeout_ms: Option<u64>,
}

/// An execution message's identity, repeated in its AMQP headers by ingress, so that the
/// dead-letter path records a message under its workflow without reading its body (which may
/// be what made it fail), and even when the body cannot be read at all.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Envelope {
    /// The execution.
    pub execution_id: Uuid,
    /// Its workflow.
    pub workflow_id: Uuid,
    /// The version it runs.
    pub version: i32,
    /// Whether a caller waits for the reply.
    pub sync: bool,
    /// When ingress accepted the request.
    pub received_at: DateTime<Utc>,
}

impl Envelope {
    /// Only in messages of earlier versions: the id is the `message_id` now.
    const EXECUTION_ID: &'static str = "x-hookflow-execution-id";
    const WORKFLOW_ID: &'static str = "x-hookflow-workflow-id";
    const VERSION: &'static str = "x-hookflow-version";
    const SYNC: &'static str = "x-hookflow-sync";
    const RECEIVED_AT: &'static str = "x-hookflow-received-at";

    /// The identity of `message`.
    pub fn of(message: &ExecutionMessage) -> Envelope {
        Envelope {
            execution_id: message.execution_id,
            workflow_id: message.workflow_id,
            version: message.version,
            sync: message.sync,
            received_at: message.received_at,
        }
    }

    /// Adds the identity to a message's headers; the execution id travels as the message's
    /// `message_id` instead, and the arrival time as microseconds since the epoch (cheaper
    /// to write than RFC 3339 on every publish).
    pub fn write(&self, headers: &mut BTreeMap<String, String>) {
        headers.insert(Self::WORKFLOW_ID.into(), self.workflow_id.to_string());
        headers.insert(Self::VERSION.into(), self.version.to_string());
        headers.insert(Self::SYNC.into(), self.sync.to_string());
        headers.insert(
            Self::RECEIVED_AT.into(),
            self.received_at.timestamp_micros().to_string(),
        );
    }

    /// The identity in a message's `message_id` and headers, when they carry all of it
    /// (messages of earlier versions carry the id in a header and the time in RFC 3339).
    pub fn read(headers: &BTreeMap<String, String>, message_id: Option<&str>) -> Option<Envelope> {
        let get = |name: &str| headers.get(name).map(String::as_str);
        let received_at = get(Self::RECEIVED_AT)?;
        let received_at = match received_at.parse::<i64>() {
            Ok(micros) => DateTime::<Utc>::from_timestamp_micros(micros)?,
            Err(_) => DateTime::parse_from_rfc3339(received_at)
                .ok()?
                .with_timezone(&Utc),
        };
        Some(Envelope {
            execution_id: message_id
                .or_else(|| get(Self::EXECUTION_ID))?
                .parse()
                .ok()?,
            workflow_id: get(Self::WORKFLOW_ID)?.parse().ok()?,
            version: get(Self::VERSION)?.parse().ok()?,
            sync: get(Self::SYNC)?.parse().ok()?,
            received_at,
        })
    }

    /// The identity read from a message body, skipping everything else without building it
    /// (for messages published without the headers).
    pub fn parse(payload: &[u8]) -> Option<Envelope> {
        serde_json::from_slice(payload).ok()
    }
}

/// A rendered idempotency key (trigger setting `idempotencyKey`): within its window, only the
/// first execution carrying the key runs; repeats answer with that execution's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Idempotency {
    /// The rendered key, unique per workflow.
    pub key: String,
    /// How long after the first call a repeat is recognised, in milliseconds.
    pub window_ms: u64,
    /// The SHA-256 of the call's query string and body ([`request_digest`]), hex: a repeat
    /// whose request differs is a conflict. Absent from messages of older ingresses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_digest: Option<String>,
}

/// The digest that tells two calls carrying one idempotency key apart: SHA-256 over the
/// query string, a zero byte and the raw body, as hex.
pub fn request_digest(query_string: &str, body: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    hasher.update(query_string.as_bytes());
    hasher.update([0]);
    hasher.update(body);
    const_hex::encode(hasher.finalize())
}

/// The answer an executor sends back to the ingress holding a sync request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncReply {
    /// The execution.
    pub execution_id: Uuid,
    /// How it ended.
    pub status: ExecutionStatus,
    /// The Response node's answer, if one ran.
    pub response: Option<HttpReply>,
    /// The call repeated an idempotency key with another request: nothing ran, and the
    /// caller gets 409 (`execution_id` is then the original execution's).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub idempotency_conflict: bool,
}

/// What happened to a workflow; config-api publishes it, ingress evicts its cache entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangeEvent {
    /// The workflow.
    pub workflow_id: Uuid,
    /// Its webhook key.
    pub key: String,
    /// The kind of change.
    pub change: ChangeKind,
}

/// Kinds of workflow change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    /// Created.
    Created,
    /// A new version became current.
    Updated,
    /// Enabled.
    Enabled,
    /// Disabled.
    Disabled,
    /// Deleted.
    Deleted,
}

impl ChangeKind {
    /// The lower-case name used on the wire and in metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Created => "created",
            ChangeKind::Updated => "updated",
            ChangeKind::Enabled => "enabled",
            ChangeKind::Disabled => "disabled",
            ChangeKind::Deleted => "deleted",
        }
    }
}

#[cfg(test)]
mod envelope_tests {
    use super::*;

    fn envelope() -> Envelope {
        Envelope {
            execution_id: Uuid::now_v7(),
            workflow_id: Uuid::now_v7(),
            version: 3,
            sync: true,
            received_at: DateTime::<Utc>::from_timestamp_micros(1_700_000_000_123_456)
                .expect("time"),
        }
    }

    #[test]
    fn the_identity_reads_back_from_the_message_id_and_headers() {
        let envelope = envelope();
        let mut headers = BTreeMap::new();
        envelope.write(&mut headers);
        assert!(!headers.contains_key(Envelope::EXECUTION_ID));
        let id = envelope.execution_id.to_string();
        assert_eq!(Envelope::read(&headers, Some(&id)), Some(envelope.clone()));
        // Without a message id nothing names the execution.
        assert_eq!(Envelope::read(&headers, None), None);
    }

    #[test]
    fn headers_of_earlier_versions_still_read() {
        let envelope = envelope();
        let headers: BTreeMap<String, String> = [
            (Envelope::EXECUTION_ID, envelope.execution_id.to_string()),
            (Envelope::WORKFLOW_ID, envelope.workflow_id.to_string()),
            (Envelope::VERSION, "3".to_owned()),
            (Envelope::SYNC, "true".to_owned()),
            (Envelope::RECEIVED_AT, envelope.received_at.to_rfc3339()),
        ]
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value))
        .collect();
        assert_eq!(Envelope::read(&headers, None), Some(envelope));
    }
}
