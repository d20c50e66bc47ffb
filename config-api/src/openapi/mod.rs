//! The OpenAPI document, collected from the handlers' `#[utoipa::path]` annotations.

pub mod schemas;

use actix_web::App;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Hookflow config-api",
        description = "Stores and versions webhook workflows, parses examples, shows execution history."
    ),
    modifiers(&BearerAuth),
    security(("admin_token" = [])),
    tags(
        (name = "workflows", description = "Workflow documents and their versions"),
        (name = "executions", description = "Execution history"),
        (name = "parse", description = "Turning examples into declared variables"),
        (name = "internal", description = "Used by ingress"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme(
                "admin_token",
                SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
            );
    }
}

/// The OpenAPI document of the `/api` routes.
pub fn document() -> utoipa::openapi::OpenApi {
    let (_, api) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .service(utoipa_actix_web::scope("/api").configure(crate::routes::configure))
        .split_for_parts();
    api
}
