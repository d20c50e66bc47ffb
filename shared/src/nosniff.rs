//! `X-Content-Type-Options: nosniff` on every answer of a service, so that no browser reads
//! an answer (a webhook's configured body included) as another type than it is labelled.
//!
//! Two halves, since an error that a middleware returns passes every outer middleware by
//! and becomes an answer only in the HTTP server: [`nosniff`] marks the answers, and each
//! service's error type adds [`HEADER`] to the answer it makes of itself.

use actix_web::{
    Error,
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    http::header::{self, HeaderName, HeaderValue},
    middleware::Next,
};

/// The header, for `insert_header`.
pub const HEADER: (HeaderName, HeaderValue) = (
    header::X_CONTENT_TYPE_OPTIONS,
    HeaderValue::from_static("nosniff"),
);

/// Middleware (for `middleware::from_fn`) setting the header on every answer, a configured
/// one included.
pub async fn nosniff(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let mut response = next.call(request).await?;
    let (name, value) = HEADER;
    response.headers_mut().insert(name, value);
    Ok(response)
}
