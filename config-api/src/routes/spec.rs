//! `/api/openapi.json`: the OpenAPI document of this API.

use actix_web::{HttpResponse, get, web};

/// The OpenAPI document, rendered once at start.
pub struct OpenApiJson(pub String);

/// The OpenAPI document of this API.
#[utoipa::path(
    tag = "meta",
    responses((status = 200, description = "OpenAPI 3 document", content_type = "application/json"))
)]
#[get("/openapi.json")]
pub async fn openapi_json(doc: web::Data<OpenApiJson>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(doc.0.clone())
}
