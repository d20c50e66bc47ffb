//! The `/api` routes, and `/internal`'s one; each file holds one resource.

pub mod executions;
pub mod parse;
pub mod replays;
pub mod spec;
pub mod triggers;
pub mod unrouted;
pub mod variables;
pub mod versions;
pub mod workflows;

use utoipa_actix_web::service_config::ServiceConfig;

/// Registers every `/api` handler (paths relative to `/api`), collecting their OpenAPI.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(workflows::create)
        .service(workflows::list)
        .service(workflows::get)
        .service(workflows::update)
        .service(workflows::enable)
        .service(workflows::disable)
        .service(workflows::remove)
        .service(versions::list)
        .service(versions::get)
        .service(executions::list)
        .service(executions::get)
        .service(replays::replay_one)
        .service(replays::replay_many)
        .service(variables::list)
        .service(variables::create)
        .service(variables::get)
        .service(variables::update)
        .service(variables::remove)
        .service(parse::query)
        .service(parse::body)
        .service(spec::openapi_json);
}
