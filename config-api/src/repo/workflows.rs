//! Workflows and their immutable versions.

use chrono::{DateTime, Utc};
use deadpool_postgres::{GenericClient, Pool};
use shared::model::WorkflowDocument;
use tokio_postgres::{Row, error::SqlState, types::Json};
use uuid::Uuid;

use crate::error::ApiError;
use crate::keys;
use crate::secrets::Secrets;

/// A workflow with its current version.
#[derive(Debug, Clone)]
pub struct Workflow {
    /// Id (UUID v7).
    pub id: Uuid,
    /// Webhook key.
    pub key: String,
    /// Whether the webhook URL answers.
    pub enabled: bool,
    /// Number of the current version.
    pub version: i32,
    /// The current version's document, password included.
    pub document: WorkflowDocument,
    /// When the workflow was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// One stored version of a workflow.
#[derive(Debug, Clone)]
pub struct Version {
    /// The workflow.
    pub workflow_id: Uuid,
    /// Its webhook key.
    pub key: String,
    /// Version number, from 1.
    pub version: i32,
    /// The document, password included.
    pub document: WorkflowDocument,
    /// When the version was stored.
    pub created_at: DateTime<Utc>,
}

const SELECT_CURRENT: &str = "SELECT w.id, w.key, w.enabled, w.current_version AS version, \
     w.created_at, w.updated_at, v.document \
     FROM workflows w JOIN workflow_versions v \
       ON v.workflow_id = w.id AND v.version = w.current_version";

// Random keys practically never collide; a few retries make a collision harmless.
const KEY_ATTEMPTS: usize = 5;

/// Stores a new workflow as version 1 under a fresh key.
pub async fn create(pool: &Pool, doc: &WorkflowDocument) -> Result<Workflow, ApiError> {
    let id = Uuid::now_v7();
    let mut client = pool.get().await?;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let key = keys::generate();
        let tx = client.transaction().await?;
        let inserted = tx
            .execute(
                "INSERT INTO workflows (id, key, title, sync, enabled, current_version) \
                 VALUES ($1, $2, $3, $4, $5, 1)",
                &[&id, &key, &doc.title, &doc.sync, &doc.enabled],
            )
            .await;
        match inserted {
            Err(err)
                if err.code() == Some(&SqlState::UNIQUE_VIOLATION) && attempt < KEY_ATTEMPTS =>
            {
                tracing::warn!(%key, "webhook key collision, drawing another");
                tx.rollback().await?;
                continue;
            }
            other => other?,
        };
        insert_version(&tx, id, 1, doc).await?;
        let workflow = current(&tx, id, false).await?;
        tx.commit().await?;
        return workflow.ok_or_else(|| ApiError::Corrupt("created workflow vanished".into()));
    }
}

/// The current version of a workflow that is not deleted.
pub async fn get(pool: &Pool, id: Uuid) -> Result<Option<Workflow>, ApiError> {
    let client = pool.get().await?;
    current(&client, id, false).await
}

/// Up to `limit + 1` workflows after `cursor`, by id.
pub async fn list(
    pool: &Pool,
    enabled: Option<bool>,
    cursor: Option<Uuid>,
    limit: u32,
) -> Result<Vec<Workflow>, ApiError> {
    let client = pool.get().await?;
    let sql = format!(
        "{SELECT_CURRENT} WHERE w.deleted_at IS NULL \
           AND ($1::boolean IS NULL OR w.enabled = $1) \
           AND ($2::uuid IS NULL OR w.id > $2) \
         ORDER BY w.id LIMIT $3"
    );
    let rows = client
        .query(&sql, &[&enabled, &cursor, &(i64::from(limit) + 1)])
        .await?;
    rows.iter().map(workflow).collect()
}

/// Stores the document returned by `prepare` (given the current one) as the next
/// version and makes it current. `None` when the workflow does not exist.
pub async fn update<F>(pool: &Pool, id: Uuid, prepare: F) -> Result<Option<Workflow>, ApiError>
where
    F: FnOnce(&WorkflowDocument) -> Result<WorkflowDocument, ApiError>,
{
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    // Locks the row so that concurrent updates get consecutive version numbers.
    let Some(previous) = current(&tx, id, true).await? else {
        return Ok(None);
    };
    let doc = prepare(&previous.document)?;
    let version = previous.version + 1;
    insert_version(&tx, id, version, &doc).await?;
    tx.execute(
        "UPDATE workflows SET title = $2, sync = $3, enabled = $4, current_version = $5, \
         updated_at = now() WHERE id = $1",
        &[&id, &doc.title, &doc.sync, &doc.enabled, &version],
    )
    .await?;
    let workflow = current(&tx, id, false).await?;
    tx.commit().await?;
    Ok(workflow)
}

/// Switches the webhook URL on or off. `None` when the workflow does not exist.
pub async fn set_enabled(
    pool: &Pool,
    id: Uuid,
    enabled: bool,
) -> Result<Option<Workflow>, ApiError> {
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    let changed = tx
        .execute(
            "UPDATE workflows SET enabled = $2, updated_at = now() \
             WHERE id = $1 AND deleted_at IS NULL",
            &[&id, &enabled],
        )
        .await?;
    if changed == 0 {
        return Ok(None);
    }
    let workflow = current(&tx, id, false).await?;
    tx.commit().await?;
    Ok(workflow)
}

/// Soft-deletes a workflow; returns its key, or `None` when there was nothing to delete.
pub async fn delete(pool: &Pool, id: Uuid) -> Result<Option<String>, ApiError> {
    let client = pool.get().await?;
    let row = client
        .query_opt(
            "UPDATE workflows SET deleted_at = now(), updated_at = now() \
             WHERE id = $1 AND deleted_at IS NULL RETURNING key",
            &[&id],
        )
        .await?;
    Ok(row.map(|row| row.try_get("key")).transpose()?)
}

/// Up to `limit + 1` versions after version `after`, oldest first; `None` when the
/// workflow does not exist.
pub async fn versions(
    pool: &Pool,
    id: Uuid,
    after: Option<i32>,
    limit: u32,
) -> Result<Option<Vec<Version>>, ApiError> {
    let client = pool.get().await?;
    let Some(key) = live_key(&client, id).await? else {
        return Ok(None);
    };
    let rows = client
        .query(
            "SELECT version, document, created_at FROM workflow_versions \
             WHERE workflow_id = $1 AND ($2::integer IS NULL OR version > $2) \
             ORDER BY version LIMIT $3",
            &[&id, &after, &(i64::from(limit) + 1)],
        )
        .await?;
    rows.iter()
        .map(|row| version(id, &key, row))
        .collect::<Result<_, _>>()
        .map(Some)
}

/// One version of a workflow that is not deleted.
pub async fn version_of(pool: &Pool, id: Uuid, number: i32) -> Result<Option<Version>, ApiError> {
    let client = pool.get().await?;
    let Some(key) = live_key(&client, id).await? else {
        return Ok(None);
    };
    let row = client
        .query_opt(
            "SELECT version, document, created_at FROM workflow_versions \
             WHERE workflow_id = $1 AND version = $2",
            &[&id, &number],
        )
        .await?;
    row.map(|row| version(id, &key, &row)).transpose()
}

/// The current version of the workflow serving webhook `key`, unless deleted.
pub async fn by_key(pool: &Pool, key: &str) -> Result<Option<Workflow>, ApiError> {
    let client = pool.get().await?;
    let sql = format!("{SELECT_CURRENT} WHERE w.key = $1 AND w.deleted_at IS NULL");
    let row = client.query_opt(&sql, &[&key]).await?;
    row.as_ref().map(workflow).transpose()
}

/// Seals every stored secret that is not sealed with the current key: values stored before
/// encryption existed, and values sealed with a key now listed as old. The documents say the
/// same after it; only their ciphertexts change. Versions whose secrets cannot be opened (a key
/// no longer configured) or that no longer read as documents are left as they are and
/// logged. Returns how many versions were rewritten.
pub async fn reseal_versions(pool: &Pool, secrets: &Secrets) -> Result<usize, ApiError> {
    let client = pool.get().await?;
    let rows = client
        .query(
            "SELECT workflow_id, version, document FROM workflow_versions",
            &[],
        )
        .await?;
    let mut rewritten = 0;
    for row in &rows {
        let workflow_id: Uuid = row.try_get("workflow_id")?;
        let version: i32 = row.try_get("version")?;
        let Ok(stored) = document(row) else {
            tracing::warn!(%workflow_id, version, "stored document does not read; its secrets are left as they are");
            continue;
        };
        let sealed = match secrets.seal_document(&stored) {
            Ok(sealed) => sealed,
            Err(err) => {
                tracing::warn!(%workflow_id, version, error = %err, "cannot re-seal the secrets of a stored version");
                continue;
            }
        };
        if serde_json::to_value(&sealed).ok() == serde_json::to_value(&stored).ok() {
            continue;
        }
        client
            .execute(
                "UPDATE workflow_versions SET document = $3 WHERE workflow_id = $1 AND version = $2",
                &[&workflow_id, &version, &Json(&sealed)],
            )
            .await?;
        rewritten += 1;
    }
    Ok(rewritten)
}

/// Whether workflow `id` is enabled and whether it was deleted; `None` when it never existed.
pub async fn state_of(pool: &Pool, id: Uuid) -> Result<Option<(bool, bool)>, ApiError> {
    let client = pool.get().await?;
    let row = client
        .query_opt(
            "SELECT enabled, deleted_at IS NOT NULL AS deleted FROM workflows WHERE id = $1",
            &[&id],
        )
        .await?;
    row.map(|row| Ok((row.try_get("enabled")?, row.try_get("deleted")?)))
        .transpose()
}

async fn current(
    client: &impl GenericClient,
    id: Uuid,
    for_update: bool,
) -> Result<Option<Workflow>, ApiError> {
    let lock = if for_update { " FOR UPDATE OF w" } else { "" };
    let sql = format!("{SELECT_CURRENT} WHERE w.id = $1 AND w.deleted_at IS NULL{lock}");
    let row = client.query_opt(&sql, &[&id]).await?;
    row.as_ref().map(workflow).transpose()
}

async fn live_key(client: &impl GenericClient, id: Uuid) -> Result<Option<String>, ApiError> {
    let row = client
        .query_opt(
            "SELECT key FROM workflows WHERE id = $1 AND deleted_at IS NULL",
            &[&id],
        )
        .await?;
    Ok(row.map(|row| row.try_get("key")).transpose()?)
}

async fn insert_version(
    client: &impl GenericClient,
    id: Uuid,
    version: i32,
    doc: &WorkflowDocument,
) -> Result<(), ApiError> {
    client
        .execute(
            "INSERT INTO workflow_versions (workflow_id, version, document) VALUES ($1, $2, $3)",
            &[&id, &version, &Json(doc)],
        )
        .await?;
    Ok(())
}

fn workflow(row: &Row) -> Result<Workflow, ApiError> {
    Ok(Workflow {
        id: row.try_get("id")?,
        key: row.try_get("key")?,
        enabled: row.try_get("enabled")?,
        version: row.try_get("version")?,
        document: document(row)?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn version(workflow_id: Uuid, key: &str, row: &Row) -> Result<Version, ApiError> {
    Ok(Version {
        workflow_id,
        key: key.to_owned(),
        version: row.try_get("version")?,
        document: document(row)?,
        created_at: row.try_get("created_at")?,
    })
}

fn document(row: &Row) -> Result<WorkflowDocument, ApiError> {
    let Json(doc) = row
        .try_get::<_, Json<WorkflowDocument>>("document")
        .map_err(|err| ApiError::Corrupt(format!("workflow document: {err}")))?;
    Ok(doc)
}
