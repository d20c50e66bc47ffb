//! `/api/executions`: execution history, newest first (read-only).

use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::Deserialize;
use shared::messages::ExecutionStatus;
use utoipa::IntoParams;
use uuid::Uuid;

use crate::error::{ApiError, ErrorBody};
use crate::paging::{self, Page};
use crate::repo::executions::{self as repo, Filter};
use crate::state::AppState;
use crate::views::{ExecutionSummary, ExecutionView};

/// Filters and paging of the execution list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only this workflow's executions.
    workflow_id: Option<Uuid>,
    /// Only executions with this status.
    status: Option<ExecutionStatus>,
    /// Page size: default 50, at most 200.
    #[param(minimum = 1, maximum = 4294967295_u64)]
    limit: Option<u32>,
    /// `nextCursor` of the previous page.
    cursor: Option<Uuid>,
}

/// Execution history, newest first.
#[utoipa::path(
    tag = "executions",
    params(ListQuery),
    responses(
        (status = 200, description = "One page", body = Page<ExecutionSummary>),
        (status = 400, description = "Bad filter, limit or cursor", body = ErrorBody),
    )
)]
#[get("/executions")]
#[tracing::instrument(skip(state))]
pub async fn list(
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = paging::limit(query.limit)?;
    let filter = Filter {
        workflow_id: query.workflow_id,
        status: query.status,
        before: query.cursor,
    };
    let rows = repo::list(&state.pool, &filter, limit).await?;
    let page = Page::from_rows(rows, limit, |e| e.id.to_string());
    Ok(HttpResponse::Ok().json(page))
}

/// One execution with its node jobs in the order they ran.
#[utoipa::path(
    tag = "executions",
    params(("id" = Uuid, Path, description = "Execution id")),
    responses(
        (status = 200, description = "The execution", body = ExecutionView),
        (status = 404, description = "No such execution", body = ErrorBody),
    )
)]
#[get("/executions/{id}")]
#[tracing::instrument(skip(state))]
pub async fn get(
    state: web::Data<AppState>,
    id: web::Path<String>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    // `/executions/replay` answers POST only: any other method is a 405, not an unknown id.
    if id.as_str() == "replay" {
        return super::unrouted::unrouted(request).await;
    }
    let id: Uuid = id.parse().map_err(|_| ApiError::NotFound("execution"))?;
    let execution = repo::get(&state.pool, id)
        .await?
        .ok_or(ApiError::NotFound("execution"))?;
    Ok(HttpResponse::Ok().json(execution))
}
