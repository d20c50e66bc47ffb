//! `/api/workflows`: create, read, replace, toggle and delete workflows.

use actix_web::{HttpResponse, delete, get, post, put, web};
use serde::Deserialize;
use serde_json::Value;
use shared::messages::ChangeKind;
use shared::model::WorkflowDocument;
use utoipa::IntoParams;
use uuid::Uuid;

use crate::document;
use crate::error::{ApiError, ErrorBody};
use crate::paging::{self, Page};
use crate::repo::workflows as repo;
use crate::state::AppState;
use crate::views::WorkflowView;

const WORKFLOW: &str = "workflow";

/// Filters and paging of the workflow list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only enabled (`true`) or disabled (`false`) workflows.
    enabled: Option<bool>,
    /// Page size: default 50, at most 200.
    #[param(minimum = 1, maximum = 4294967295_u64)]
    limit: Option<u32>,
    /// `nextCursor` of the previous page.
    cursor: Option<Uuid>,
}

/// Creates a workflow: version 1 under a new webhook key.
#[utoipa::path(
    tag = "workflows",
    request_body(content = WorkflowDocument, description = "A workflow document (docs/workflows.md)"),
    responses(
        (status = 201, description = "Created", body = WorkflowView),
        (status = 400, description = "Not JSON", body = ErrorBody),
        (status = 422, description = "Every problem of the document", body = ErrorBody),
    )
)]
#[post("/workflows")]
#[tracing::instrument(skip_all)]
pub async fn create(
    state: web::Data<AppState>,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    let doc = document::for_create(body.into_inner())?;
    let workflow = repo::create(&state.pool, &state.secrets.seal_document(&doc)?).await?;
    tracing::info!(id = %workflow.id, key = %workflow.key, "workflow created");
    state
        .changes
        .announce(workflow.id, &workflow.key, ChangeKind::Created)
        .await;
    Ok(HttpResponse::Created().json(WorkflowView::new(workflow, &state.public_url)))
}

/// Lists workflows by id (oldest first); deleted ones are not shown.
#[utoipa::path(
    tag = "workflows",
    params(ListQuery),
    responses(
        (status = 200, description = "One page", body = Page<WorkflowView>),
        (status = 400, description = "Bad limit or cursor", body = ErrorBody),
    )
)]
#[get("/workflows")]
#[tracing::instrument(skip(state))]
pub async fn list(
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = paging::limit(query.limit)?;
    let rows = repo::list(&state.pool, query.enabled, query.cursor, limit).await?;
    let page = Page::from_rows(rows, limit, |w| w.id.to_string())
        .map(|w| WorkflowView::new(w, &state.public_url));
    Ok(HttpResponse::Ok().json(page))
}

/// The current version of a workflow.
#[utoipa::path(
    tag = "workflows",
    params(("id" = Uuid, Path, description = "Workflow id")),
    responses(
        (status = 200, description = "The workflow", body = WorkflowView),
        (status = 404, description = "No such workflow", body = ErrorBody),
    )
)]
#[get("/workflows/{id}")]
#[tracing::instrument(skip(state))]
pub async fn get(
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let workflow = repo::get(&state.pool, *id)
        .await?
        .ok_or(ApiError::NotFound(WORKFLOW))?;
    Ok(HttpResponse::Ok().json(WorkflowView::new(workflow, &state.public_url)))
}

/// Replaces the document: stores a new version and makes it current. A masked
/// password (`********`) for the same username keeps the stored password; a masked
/// signature secret keeps the stored secret at the same position.
#[utoipa::path(
    tag = "workflows",
    params(("id" = Uuid, Path, description = "Workflow id")),
    request_body(content = WorkflowDocument, description = "The new document"),
    responses(
        (status = 200, description = "The new current version", body = WorkflowView),
        (status = 400, description = "Not JSON", body = ErrorBody),
        (status = 404, description = "No such workflow", body = ErrorBody),
        (status = 422, description = "Every problem of the document", body = ErrorBody),
    )
)]
#[put("/workflows/{id}")]
#[tracing::instrument(skip(state, body))]
pub async fn update(
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    let mut doc = document::for_update(body.into_inner())?;
    let secrets = state.clone();
    let workflow = repo::update(&state.pool, *id, move |stored| {
        document::restore_secrets(&mut doc, stored)?;
        Ok(secrets.secrets.seal_document(&doc)?)
    })
    .await?
    .ok_or(ApiError::NotFound(WORKFLOW))?;
    tracing::info!(version = workflow.version, "workflow updated");
    state
        .changes
        .announce(workflow.id, &workflow.key, ChangeKind::Updated)
        .await;
    Ok(HttpResponse::Ok().json(WorkflowView::new(workflow, &state.public_url)))
}

/// Switches the webhook URL on.
#[utoipa::path(
    tag = "workflows",
    params(("id" = Uuid, Path, description = "Workflow id")),
    responses(
        (status = 200, description = "The workflow", body = WorkflowView),
        (status = 404, description = "No such workflow", body = ErrorBody),
    )
)]
#[post("/workflows/{id}/enable")]
#[tracing::instrument(skip(state))]
pub async fn enable(
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    toggle(&state, *id, true).await
}

/// Switches the webhook URL off: it answers 404 until enabled again.
#[utoipa::path(
    tag = "workflows",
    params(("id" = Uuid, Path, description = "Workflow id")),
    responses(
        (status = 200, description = "The workflow", body = WorkflowView),
        (status = 404, description = "No such workflow", body = ErrorBody),
    )
)]
#[post("/workflows/{id}/disable")]
#[tracing::instrument(skip(state))]
pub async fn disable(
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    toggle(&state, *id, false).await
}

async fn toggle(state: &AppState, id: Uuid, enabled: bool) -> Result<HttpResponse, ApiError> {
    let workflow = repo::set_enabled(&state.pool, id, enabled)
        .await?
        .ok_or(ApiError::NotFound(WORKFLOW))?;
    let change = if enabled {
        ChangeKind::Enabled
    } else {
        ChangeKind::Disabled
    };
    state
        .changes
        .announce(workflow.id, &workflow.key, change)
        .await;
    Ok(HttpResponse::Ok().json(WorkflowView::new(workflow, &state.public_url)))
}

/// Deletes a workflow: its URL answers 404 from then on; its executions stay readable.
#[utoipa::path(
    tag = "workflows",
    params(("id" = Uuid, Path, description = "Workflow id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such workflow", body = ErrorBody),
    )
)]
#[delete("/workflows/{id}")]
#[tracing::instrument(skip(state))]
pub async fn remove(
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let key = repo::delete(&state.pool, *id)
        .await?
        .ok_or(ApiError::NotFound(WORKFLOW))?;
    tracing::info!(%key, "workflow deleted");
    state.changes.announce(*id, &key, ChangeKind::Deleted).await;
    Ok(HttpResponse::NoContent().finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_are_workflow_ids() {
        let query = |text: &str| web::Query::<ListQuery>::from_query(text);
        assert!(query("cursor=nope").is_err());
        let id = Uuid::now_v7();
        assert_eq!(query(&format!("cursor={id}")).expect("id").cursor, Some(id));
        assert_eq!(query("").expect("none").cursor, None);
    }
}
