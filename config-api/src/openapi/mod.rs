//! The OpenAPI document, collected from the handlers' `#[utoipa::path]` annotations.

use actix_web::App;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{Content, Ref, ResponseBuilder};
use utoipa::{Modify, OpenApi, ToSchema};
use utoipa_actix_web::AppExt;

use crate::error::ErrorBody;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Hookflow config-api",
        description = "Stores and versions webhook workflows, parses examples, shows execution history."
    ),
    modifiers(&BearerAuth),
    // Named by a query parameter, which does not collect the schemas it refers to.
    components(schemas(shared::messages::ExecutionStatus)),
    security(("admin_token" = [])),
    tags(
        (name = "workflows", description = "Workflow documents and their versions"),
        (name = "executions", description = "Execution history"),
        (name = "variables", description = "The `$env` variables and secrets of every workflow"),
        (name = "parse", description = "Turning examples into declared variables"),
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
    let (_, mut api) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .service(utoipa_actix_web::scope("/api").configure(crate::routes::configure))
        .split_for_parts();
    document_unauthorized(&mut api);
    api
}

// The bearer check is one middleware over the whole `/api` scope (`app::configure`), so
// its 401 is documented once here for every operation rather than on each handler.
fn document_unauthorized(api: &mut utoipa::openapi::OpenApi) {
    let unauthorized = ResponseBuilder::new()
        .description("Missing or wrong bearer token")
        .content(
            "application/json",
            Content::new(Some(Ref::from_schema_name(ErrorBody::name()))),
        )
        .build();
    for item in api.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
            &mut item.head,
            &mut item.options,
            &mut item.trace,
        ];
        for operation in operations.into_iter().flatten() {
            operation
                .responses
                .responses
                .insert("401".into(), unauthorized.clone().into());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_documents_the_401() {
        let api = serde_json::to_value(document()).expect("json");
        let mut operations = 0;
        for (path, item) in api["paths"].as_object().expect("paths") {
            for (method, operation) in item.as_object().expect("path item") {
                let unauthorized = &operation["responses"]["401"];
                assert_eq!(
                    unauthorized["content"]["application/json"]["schema"]["$ref"],
                    "#/components/schemas/ErrorBody",
                    "{method} {path}"
                );
                operations += 1;
            }
        }
        // Every /api route of docs/api.md (the internal trigger route is not one of them).
        assert!(operations >= 14, "{operations} operations");
        assert!(api["components"]["schemas"]["ErrorBody"].is_object());
    }
}
