//! What every handler shares.

use deadpool_postgres::Pool;

use crate::changes::Changes;

/// Shared by the handlers through `web::Data`.
pub struct AppState {
    /// The database.
    pub pool: Pool,
    /// Where committed changes are announced.
    pub changes: Changes,
    /// Base of the webhook URLs handed out (`HOOKFLOW_PUBLIC_URL`).
    pub public_url: String,
}
