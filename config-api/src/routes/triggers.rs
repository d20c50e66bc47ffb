//! `/internal/triggers/{key}`: what ingress needs to serve a webhook key, secrets included.
//! Not part of the admin API (nor of its OpenAPI document): it answers the internal token
//! only.

use actix_web::{HttpResponse, get, web};
use shared::model::TriggerDefinition;

use crate::error::ApiError;
use crate::repo::workflows as repo;
use crate::state::AppState;

/// The trigger definition of a webhook key, password included; for ingress only.
/// Disabled workflows are answered too (`enabled: false`); deleted ones are 404.
#[get("/triggers/{key}")]
#[tracing::instrument(skip(state))]
pub async fn get(
    state: web::Data<AppState>,
    key: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let mut workflow = repo::by_key(&state.pool, &key)
        .await?
        .ok_or(ApiError::NotFound("trigger"))?;
    state.secrets.open_document(&mut workflow.document)?;
    Ok(HttpResponse::Ok().json(TriggerDefinition {
        workflow_id: workflow.id,
        key: workflow.key,
        version: workflow.version,
        enabled: workflow.enabled,
        sync: workflow.document.sync,
        trigger: workflow.document.trigger,
        options: workflow.document.options,
    }))
}
