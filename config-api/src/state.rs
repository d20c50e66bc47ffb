//! What every handler shares.

use deadpool_postgres::Pool;

use crate::changes::Changes;
use crate::queue::ExecutionQueue;
use crate::secrets::Secrets;

/// Shared by the handlers through `web::Data`.
pub struct AppState {
    /// The database.
    pub pool: Pool,
    /// Where replays are queued.
    pub executions: ExecutionQueue,
    /// Where committed changes are announced.
    pub changes: Changes,
    /// Base of the webhook URLs handed out (`HOOKFLOW_PUBLIC_URL`).
    pub public_url: String,
    /// Encrypts the secrets of stored documents.
    pub secrets: Secrets,
}
