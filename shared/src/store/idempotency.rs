//! Idempotency keys (trigger setting `idempotencyKey`) in `idempotency_keys`: the first
//! execution carrying a key within its window holds it; repeats find the holder.

use chrono::{DateTime, TimeDelta, Utc};
use deadpool_postgres::{Client, Transaction};
use uuid::Uuid;

use super::StoreError;
use crate::messages::{ExecutionMessage, Idempotency};

/// Who holds a key once a message tried to claim it.
pub(super) enum Claim {
    /// This message's execution: run it.
    Ours,
    /// Another execution, within the key's window, for the same request.
    Held(Uuid),
    /// Another execution, within the key's window, for another request (query string or
    /// body): a conflict, not a repeat.
    Conflict(Uuid),
}

/// Claims `idempotency` for `message` inside `tx`. The key is ours when it is new, when its
/// window ended before this call arrived, or when this execution took it before (a
/// redelivery). Concurrent claims of one key serialise on its row, so exactly one wins.
pub(super) async fn claim(
    tx: &Transaction<'_>,
    message: &ExecutionMessage,
    idempotency: &Idempotency,
) -> Result<Claim, StoreError> {
    let key = idempotency.key.as_bytes();
    let digest = idempotency
        .request_digest
        .as_deref()
        .and_then(|hex| const_hex::decode(hex).ok());
    let expires_at = expiry(message.received_at, idempotency.window_ms);
    let insert = tx
        .prepare_cached(
            "INSERT INTO idempotency_keys \
                 (workflow_id, key_hash, execution_id, expires_at, request_digest) \
             VALUES ($1, sha256($2), $3, $4, $6) \
             ON CONFLICT (workflow_id, key_hash) DO UPDATE \
             SET execution_id = EXCLUDED.execution_id, expires_at = EXCLUDED.expires_at, \
                 request_digest = EXCLUDED.request_digest \
             WHERE idempotency_keys.expires_at <= $5 \
             RETURNING execution_id",
        )
        .await?;
    let claimed = tx
        .query_opt(
            &insert,
            &[
                &message.workflow_id,
                &key,
                &message.execution_id,
                &expires_at,
                &message.received_at,
                &digest,
            ],
        )
        .await?;
    if claimed.is_some() {
        return Ok(Claim::Ours);
    }
    // ON CONFLICT locked the holder's row even though it did not update it, so it is
    // still there to read.
    let row = tx
        .query_one(
            "SELECT execution_id, request_digest FROM idempotency_keys \
             WHERE workflow_id = $1 AND key_hash = sha256($2)",
            &[&message.workflow_id, &key],
        )
        .await?;
    let holder: Uuid = row.try_get(0)?;
    let held_digest: Option<Vec<u8>> = row.try_get(1)?;
    if holder == message.execution_id {
        return Ok(Claim::Ours);
    }
    // A very late redelivery of an execution whose key was taken over after its window:
    // the execution is already recorded, so it is still this message's to finish.
    let recorded = tx
        .query_opt(
            "SELECT 1 FROM executions WHERE id = $1",
            &[&message.execution_id],
        )
        .await?
        .is_some();
    // Either side without a digest (a row or a message from before digests) matches.
    let same_request = match (&held_digest, &digest) {
        (Some(held), Some(ours)) => held == ours,
        _ => true,
    };
    Ok(if recorded {
        Claim::Ours
    } else if same_request {
        Claim::Held(holder)
    } else {
        Claim::Conflict(holder)
    })
}

/// Deletes a batch of keys whose window has ended; returns how many.
pub(super) async fn purge_expired(client: &Client) -> Result<u64, StoreError> {
    // The outer condition is checked again on a row a concurrent claim just took over, so
    // a key reclaimed while the purge waited for it survives.
    Ok(client
        .execute(
            "DELETE FROM idempotency_keys \
             WHERE expires_at < now() AND (workflow_id, key_hash) IN ( \
                 SELECT workflow_id, key_hash FROM idempotency_keys \
                 WHERE expires_at < now() LIMIT 10000)",
            &[],
        )
        .await?)
}

/// When a key first seen at `received_at` stops being recognised; windows too long for the
/// calendar never end.
fn expiry(received_at: DateTime<Utc>, window_ms: u64) -> DateTime<Utc> {
    i64::try_from(window_ms)
        .ok()
        .and_then(TimeDelta::try_milliseconds)
        .and_then(|window| received_at.checked_add_signed(window))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_counts_from_the_first_call_and_saturates() {
        let received = DateTime::<Utc>::UNIX_EPOCH;
        assert_eq!(
            expiry(received, 1500),
            received + TimeDelta::milliseconds(1500)
        );
        assert_eq!(expiry(received, u64::MAX), DateTime::<Utc>::MAX_UTC);
    }
}
