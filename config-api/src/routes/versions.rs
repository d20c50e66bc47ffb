//! `/api/workflows/{id}/versions`: the immutable history of a workflow.

use actix_web::{HttpResponse, get, web};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use crate::error::{ApiError, ErrorBody};
use crate::paging::{self, Page};
use crate::repo::workflows as repo;
use crate::state::AppState;
use crate::views::VersionView;

/// Paging of the version list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VersionsQuery {
    /// Page size: default 50, at most 200.
    #[param(minimum = 1, maximum = 4294967295_u64)]
    limit: Option<u32>,
    /// `nextCursor` of the previous page.
    cursor: Option<i32>,
}

/// Every version of a workflow, oldest first.
#[utoipa::path(
    tag = "workflows",
    params(("id" = Uuid, Path, description = "Workflow id"), VersionsQuery),
    responses(
        (status = 200, description = "One page", body = Page<VersionView>),
        (status = 400, description = "Bad limit or cursor", body = ErrorBody),
        (status = 404, description = "No such workflow", body = ErrorBody),
    )
)]
#[get("/workflows/{id}/versions")]
#[tracing::instrument(skip(state))]
pub async fn list(
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    query: web::Query<VersionsQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = paging::limit(query.limit)?;
    let rows = repo::versions(&state.pool, *id, query.cursor, limit)
        .await?
        .ok_or(ApiError::NotFound("workflow"))?;
    let page = Page::from_rows(rows, limit, |v| v.version.to_string())
        .map(|v| VersionView::new(v, &state.public_url));
    Ok(HttpResponse::Ok().json(page))
}

/// One version of a workflow.
#[utoipa::path(
    tag = "workflows",
    params(
        ("id" = Uuid, Path, description = "Workflow id"),
        ("n" = i32, Path, description = "Version number, from 1"),
    ),
    responses(
        (status = 200, description = "The version", body = VersionView),
        (status = 404, description = "No such workflow or version", body = ErrorBody),
    )
)]
#[get("/workflows/{id}/versions/{n}")]
#[tracing::instrument(skip(state))]
pub async fn get(
    state: web::Data<AppState>,
    path: web::Path<(Uuid, i32)>,
) -> Result<HttpResponse, ApiError> {
    let (id, n) = path.into_inner();
    let version = repo::version_of(&state.pool, id, n)
        .await?
        .ok_or(ApiError::NotFound("version"))?;
    Ok(HttpResponse::Ok().json(VersionView::new(version, &state.public_url)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_are_version_numbers() {
        let query = |text: &str| web::Query::<VersionsQuery>::from_query(text);
        assert!(query("cursor=1.5").is_err());
        assert!(query("cursor=one").is_err());
        assert_eq!(query("cursor=7").expect("number").cursor, Some(7));
        assert_eq!(query("").expect("none").cursor, None);
    }
}
