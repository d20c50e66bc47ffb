//! `X-Content-Type-Options: nosniff` on every answer of a service, so that no browser reads
//! an answer (a webhook's configured body included) as another type than it is labelled.

use actix_web::{http::header, middleware::DefaultHeaders};

/// Middleware adding the header to every answer that does not carry it already.
pub fn nosniff() -> DefaultHeaders {
    DefaultHeaders::new().add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
}
