//! `/api/parse/*`: the "parse" button of the trigger editor (docs/webhooks.md).

use actix_web::{HttpResponse, post, web};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use shared::{paths::list_paths, qs};
use utoipa::ToSchema;

use crate::error::{ApiError, ErrorBody};

/// An example query string, or a whole URL.
#[derive(Debug, Deserialize, ToSchema)]
pub struct QueryExample {
    /// E.g. `http://localhost:13000/api/webhook:trigger/1hfmkioou0d?query[0][a]=1&b=2`.
    pub example: String,
}

/// An example request body.
#[derive(Debug, Deserialize, ToSchema)]
pub struct BodyExample {
    /// Any JSON value; a string holding JSON is parsed first.
    pub example: Value,
}

/// One path offered as a declared variable.
#[derive(Debug, Serialize, ToSchema)]
pub struct PathEntry {
    /// E.g. `a`, `b.c`, `items[0].id`.
    pub key: String,
}

/// The parsed query and its paths.
#[derive(Debug, Serialize, ToSchema)]
pub struct ParsedQuery {
    /// The query parsed like Node's `qs`.
    pub value: Value,
    /// Every path in it, parents before children.
    pub paths: Vec<PathEntry>,
}

/// The paths of a body.
#[derive(Debug, Serialize, ToSchema)]
pub struct ParsedBody {
    /// Every path in it, parents before children.
    pub paths: Vec<PathEntry>,
}

/// Parses an example query string (or URL) into its value and paths.
#[utoipa::path(
    tag = "parse",
    request_body = QueryExample,
    responses(
        (status = 200, description = "Parsed", body = ParsedQuery),
        (status = 400, description = "Not a JSON object with an `example` string (every query string parses)", body = ErrorBody),
    )
)]
#[post("/parse/query")]
#[tracing::instrument(skip_all)]
pub async fn query(request: web::Json<QueryExample>) -> Result<HttpResponse, ApiError> {
    let value = qs::parse_query(qs::query_part(&request.example));
    let paths = entries(&value);
    Ok(HttpResponse::Ok().json(ParsedQuery { value, paths }))
}

/// Lists the paths of an example body.
#[utoipa::path(
    tag = "parse",
    request_body = BodyExample,
    responses(
        (status = 200, description = "Parsed", body = ParsedBody),
        (status = 400, description = "Not JSON", body = ErrorBody),
    )
)]
#[post("/parse/body")]
#[tracing::instrument(skip_all)]
pub async fn body(request: web::Json<BodyExample>) -> Result<HttpResponse, ApiError> {
    let example = match request.into_inner().example {
        // An editor's text box sends the example as text.
        Value::String(text) => match serde_json::from_str::<Value>(&text) {
            Ok(parsed @ (Value::Object(_) | Value::Array(_))) => parsed,
            _ => Value::String(text),
        },
        other => other,
    };
    Ok(HttpResponse::Ok().json(ParsedBody {
        paths: entries(&example),
    }))
}

fn entries(value: &Value) -> Vec<PathEntry> {
    list_paths(value)
        .into_iter()
        .map(|key| PathEntry { key })
        .collect()
}
