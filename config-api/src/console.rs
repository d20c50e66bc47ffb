//! The web console: the built single-page app (`console/dist`) served at `/`, beside the
//! `/api` scope. Paths that name no file get `index.html`, so the app's own routes survive
//! a reload; without a build, `/` explains how to make one.

use std::path::{Path, PathBuf};

use actix_files::{Files, NamedFile};
use actix_web::{
    Error, HttpRequest, HttpResponse,
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse, fn_service},
    http::header::{self, HeaderValue},
    middleware::{Next, from_fn},
    web,
};
use shared::config::Config;

/// Vite puts every hashed bundle here; a name there never changes content.
const ASSETS: &str = "/assets/";

/// Where the console's files are, when it is served at all.
#[derive(Debug, Clone)]
pub struct Console {
    dir: Option<PathBuf>,
}

impl Console {
    /// `HOOKFLOW_CONSOLE` and `HOOKFLOW_CONSOLE_DIR` of `config`.
    pub fn from_config(config: &Config) -> Self {
        let console = Console {
            dir: config.console.then(|| PathBuf::from(&config.console_dir)),
        };
        if let Some(dir) = &console.dir
            && !dir.join("index.html").is_file()
        {
            tracing::warn!(dir = %dir.display(), "the console is not built; `/` says how to build it");
        }
        console
    }

    /// Registers the console's routes; call it after every other service, since it
    /// answers every path they leave. Turned off, it registers nothing (`/` is a 404).
    pub fn configure(&self, cfg: &mut web::ServiceConfig) {
        let Some(dir) = self.dir.clone() else {
            return;
        };
        let index = dir.join("index.html");
        let files = Files::new("/", &dir)
            .index_file("index.html")
            .default_handler(fn_service(move |req: ServiceRequest| {
                let index = index.clone();
                async move {
                    let (req, _) = req.into_parts();
                    let response = fallback(&req, &index).await;
                    Ok(ServiceResponse::new(req, response))
                }
            }));
        cfg.service(web::scope("").wrap(from_fn(cache_headers)).service(files));
    }
}

/// What a path that names no file gets: the app (whose router knows the path), a 404 for
/// a missing asset, or the hint page when there is no build.
async fn fallback(req: &HttpRequest, index: &Path) -> HttpResponse {
    if req.path().starts_with(ASSETS) {
        return HttpResponse::NotFound().finish();
    }
    match NamedFile::open_async(index).await {
        Ok(file) => file.into_response(req),
        Err(_) => not_built(index),
    }
}

fn not_built(index: &Path) -> HttpResponse {
    HttpResponse::NotFound()
        .content_type("text/plain; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(format!(
            "The Hookflow console is not built: {} is missing.\n\
             Build it with `npm ci && npm run build` in the repository's console/ directory,\n\
             or point HOOKFLOW_CONSOLE_DIR at a build. The REST API is at /api.\n",
            index.display()
        ))
}

/// Hashed assets are cached for good; everything else (index.html above all) is
/// revalidated, so a new build is picked up on the next load.
async fn cache_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let immutable = req.path().starts_with(ASSETS);
    let mut response = next.call(req).await?;
    if response.status().is_success() && !response.headers().contains_key(header::CACHE_CONTROL) {
        let value = if immutable {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        };
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    }
    Ok(response)
}
