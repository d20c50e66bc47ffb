//! Requests no handler takes: `405` with `Allow` when the path is an API path answered
//! with other methods, else `404`. The paths and methods are read from the OpenAPI
//! document, which the handlers' registration builds, so the two cannot disagree.

use std::sync::OnceLock;

use actix_web::{HttpRequest, HttpResponse};

use crate::error::ApiError;

/// One documented path: its segments (`None` for a `{parameter}`) and its methods.
struct Route {
    segments: Vec<Option<String>>,
    allow: String,
}

fn routes() -> &'static [Route] {
    static ROUTES: OnceLock<Vec<Route>> = OnceLock::new();
    ROUTES.get_or_init(|| {
        let doc = crate::openapi::document();
        doc.paths
            .paths
            .iter()
            .map(|(path, item)| {
                let methods = [
                    ("GET", item.get.is_some()),
                    ("PUT", item.put.is_some()),
                    ("POST", item.post.is_some()),
                    ("DELETE", item.delete.is_some()),
                    ("PATCH", item.patch.is_some()),
                    ("OPTIONS", item.options.is_some()),
                    ("TRACE", item.trace.is_some()),
                ];
                Route {
                    segments: split(path)
                        .map(|segment| {
                            (!(segment.starts_with('{') && segment.ends_with('}')))
                                .then(|| segment.to_owned())
                        })
                        .collect(),
                    allow: methods
                        .iter()
                        .filter(|(_, listed)| *listed)
                        .map(|(method, _)| *method)
                        .collect::<Vec<_>>()
                        .join(", "),
                }
            })
            .collect()
    })
}

fn split(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|segment| !segment.is_empty())
}

/// The methods `path` answers, if it is a documented path.
fn allowed(path: &str) -> Option<&'static str> {
    let segments: Vec<&str> = split(path).collect();
    routes()
        .iter()
        .find(|route| {
            route.segments.len() == segments.len()
                && route
                    .segments
                    .iter()
                    .zip(&segments)
                    .all(|(expected, given)| expected.as_deref().is_none_or(|e| e == *given))
        })
        .map(|route| route.allow.as_str())
}

/// Answers a request that no handler took.
pub async fn unrouted(request: HttpRequest) -> Result<HttpResponse, ApiError> {
    match allowed(request.path()) {
        Some(allow) => Err(ApiError::MethodNotAllowed {
            allow: allow.to_owned(),
        }),
        None => Err(ApiError::NotFound("route")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_paths_name_their_methods() {
        assert_eq!(allowed("/api/workflows"), Some("GET, POST"));
        assert_eq!(allowed("/api/workflows/abc"), Some("GET, PUT, DELETE"));
        assert_eq!(allowed("/api/workflows/abc/versions/2"), Some("GET"));
        assert_eq!(allowed("/api/nothing"), None);
        assert_eq!(allowed("/api/workflows/abc/teleport"), None);
    }
}
