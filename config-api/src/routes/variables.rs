//! `/api/variables`: the `$env` variables every workflow can read. A secret's value is
//! write-only: it reads `********`, and PUTting `********` back keeps it.

use actix_web::{HttpResponse, delete, get, post, put, web};
use serde::Deserialize;
use shared::model::MASKED_PASSWORD;
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ErrorBody};
use crate::paging::{self, Page};
use crate::repo::variables::{self as repo, Variable};
use crate::state::AppState;
use crate::views::VariableView;

const VARIABLE: &str = "variable";
/// Longest variable name.
const MAX_NAME_LEN: usize = 128;
/// Largest value, in bytes.
const MAX_VALUE_BYTES: usize = 64 * 1024;

/// Paging of the variable list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Page size: default 50, at most 200.
    #[param(minimum = 1, maximum = 4294967295_u64)]
    limit: Option<u32>,
    /// `nextCursor` of the previous page.
    cursor: Option<String>,
}

/// A variable to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewVariable {
    /// `[A-Za-z_][A-Za-z0-9_]*`, at most 128 characters; templates read it as `{{$env.NAME}}`.
    #[schema(pattern = "^[A-Za-z_][A-Za-z0-9_]*$", max_length = 128)]
    name: String,
    /// The value (text, at most 64 KiB).
    value: String,
    /// Write-only: the API answers `********` for it, executions records mask it.
    #[serde(default)]
    secret: bool,
}

/// A variable's new value.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VariableUpdate {
    /// The name, if sent, must be the one in the path (variables are not renamed).
    #[serde(default)]
    name: Option<String>,
    /// The new value; `********` keeps a secret's value.
    value: String,
    /// Write-only from now on (`false` on a secret needs a new value).
    #[serde(default)]
    secret: bool,
}

/// Variables by name.
#[utoipa::path(
    tag = "variables",
    params(ListQuery),
    responses(
        (status = 200, description = "One page", body = Page<VariableView>),
        (status = 400, description = "Bad limit", body = ErrorBody),
    )
)]
#[get("/variables")]
#[tracing::instrument(skip(state))]
pub async fn list(
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = paging::limit(query.limit)?;
    let rows = repo::list(&state.pool, query.cursor.as_deref(), limit).await?;
    let page = Page::from_rows(rows, limit, |v| v.name.clone()).map(VariableView::new);
    Ok(HttpResponse::Ok().json(page))
}

/// Creates a variable.
#[utoipa::path(
    tag = "variables",
    request_body = NewVariable,
    responses(
        (status = 201, description = "Created", body = VariableView),
        (status = 400, description = "Not JSON, or not this shape", body = ErrorBody),
        (status = 409, description = "The name is taken", body = ErrorBody),
        (status = 422, description = "Bad name or value", body = ErrorBody),
    )
)]
#[post("/variables")]
#[tracing::instrument(skip_all)]
pub async fn create(
    state: web::Data<AppState>,
    body: web::Json<NewVariable>,
) -> Result<HttpResponse, ApiError> {
    let NewVariable {
        name,
        value,
        secret,
    } = body.into_inner();
    check_name(&name)?;
    check_value(&value, secret)?;
    if secret && value == MASKED_PASSWORD {
        return Err(invalid(format!(
            "{MASKED_PASSWORD} stands for a stored secret; a new secret needs its real value"
        )));
    }
    let stored = stored_value(&state, value, secret)?;
    let variable = repo::create(&state.pool, &name, &stored, secret).await?;
    tracing::info!(variable = %variable.name, secret, "variable created");
    Ok(HttpResponse::Created().json(VariableView::new(variable)))
}

/// One variable; a secret's value reads `********`.
#[utoipa::path(
    tag = "variables",
    params(("name" = String, Path, description = "Variable name")),
    responses(
        (status = 200, description = "The variable", body = VariableView),
        (status = 404, description = "No such variable", body = ErrorBody),
    )
)]
#[get("/variables/{name}")]
#[tracing::instrument(skip(state))]
pub async fn get(
    state: web::Data<AppState>,
    name: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let variable = repo::get(&state.pool, &name)
        .await?
        .ok_or(ApiError::NotFound(VARIABLE))?;
    Ok(HttpResponse::Ok().json(VariableView::new(variable)))
}

/// Replaces a variable's value (and whether it is secret). Executions that start afterwards
/// see the new value.
#[utoipa::path(
    tag = "variables",
    params(("name" = String, Path, description = "Variable name")),
    request_body = VariableUpdate,
    responses(
        (status = 200, description = "The variable as stored now", body = VariableView),
        (status = 400, description = "Not JSON, or not this shape", body = ErrorBody),
        (status = 404, description = "No such variable", body = ErrorBody),
        (status = 422, description = "Bad value, or a rename", body = ErrorBody),
    )
)]
#[put("/variables/{name}")]
#[tracing::instrument(skip(state, body))]
pub async fn update(
    state: web::Data<AppState>,
    name: web::Path<String>,
    body: web::Json<VariableUpdate>,
) -> Result<HttpResponse, ApiError> {
    let VariableUpdate {
        name: sent_name,
        value,
        secret,
    } = body.into_inner();
    if let Some(sent) = sent_name
        && sent != *name
    {
        return Err(invalid(format!(
            "variables are not renamed: the body names {sent}, the path {name}; create the new name and delete the old one"
        )));
    }
    check_value(&value, secret)?;
    let masked = value == MASKED_PASSWORD;
    let updated = repo::update(&state.pool, &name, |stored: &Variable| {
        match (masked, stored.secret, secret) {
            // Resealed with the current key when it was sealed with an old one.
            (true, true, true) => Ok((state.secrets.seal(&stored.value)?, true)),
            (true, true, false) => Err(invalid(
                "a secret stays write-only: making it visible needs a new value",
            )),
            (true, false, true) => Err(invalid(format!(
                "{MASKED_PASSWORD} stands for a stored secret; a new secret needs its real value"
            ))),
            _ => Ok((stored_value(&state, value, secret)?, secret)),
        }
    })
    .await?
    .ok_or(ApiError::NotFound(VARIABLE))?;
    tracing::info!(variable = %updated.name, secret = updated.secret, "variable changed");
    Ok(HttpResponse::Ok().json(VariableView::new(updated)))
}

/// Deletes a variable; templates that read it render it as absent from then on.
#[utoipa::path(
    tag = "variables",
    params(("name" = String, Path, description = "Variable name")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such variable", body = ErrorBody),
    )
)]
#[delete("/variables/{name}")]
#[tracing::instrument(skip(state))]
pub async fn remove(
    state: web::Data<AppState>,
    name: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    if !repo::delete(&state.pool, &name).await? {
        return Err(ApiError::NotFound(VARIABLE));
    }
    tracing::info!(variable = %name, "variable deleted");
    Ok(HttpResponse::NoContent().finish())
}

fn stored_value(state: &AppState, value: String, secret: bool) -> Result<String, ApiError> {
    if secret {
        Ok(state.secrets.seal_plain(&value)?)
    } else {
        Ok(value)
    }
}

fn check_name(name: &str) -> Result<(), ApiError> {
    let mut chars = name.chars();
    let starts_well = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if !starts_well || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(invalid(format!(
            "a variable name is a letter or _ followed by letters, digits or _ (like an environment variable), not {name:?}"
        )));
    }
    if name.len() > MAX_NAME_LEN {
        return Err(invalid(format!(
            "a variable name has at most {MAX_NAME_LEN} characters"
        )));
    }
    Ok(())
}

fn check_value(value: &str, secret: bool) -> Result<(), ApiError> {
    if value.len() > MAX_VALUE_BYTES {
        return Err(invalid(format!(
            "a variable's value has at most {MAX_VALUE_BYTES} bytes"
        )));
    }
    // An empty secret would be masked nowhere: nothing would tell it from absent text.
    if secret && value.is_empty() {
        return Err(invalid("a secret's value must not be empty"));
    }
    Ok(())
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::Unprocessable {
        code: "invalid_variable",
        message: message.into(),
    }
}
