//! An HTTP API on 127.0.0.1 for request nodes to call, which records every request it
//! receives. Its paths:
//! - `/echo`: `200` JSON `{"ok": true}` with header `X-Answer: 1`;
//! - `/text`: `200` `text/plain` `plain answer`;
//! - `/status/{n}`: status `n`, JSON `{"code": n}`;
//! - `/flaky/{n}`: `503` with `Retry-After: 1` for the first `n` calls, then `200`;
//! - `/slow`: `200` after 3 seconds;
//! - `/big/{n}`: `200` with `n` bytes, streamed without a length;
//! - `/redirect?to=<url>`: `302` to `<url>` (written unencoded);
//! - `/loop`: `302` to itself;
//! - `/hold-once`: the first call is answered after 60 seconds, later ones at once.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, dev::ServerHandle, web};
use futures_util::stream;

/// One request the API received.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub query: String,
    /// Lower-case names.
    pub headers: BTreeMap<String, String>,
    pub body: String,
    pub at: Instant,
}

/// The running API; stopped when dropped.
pub struct OutsideApi {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    pub port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
    handle: ServerHandle,
}

impl OutsideApi {
    pub async fn start() -> OutsideApi {
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let state = web::Data::new(Arc::clone(&seen));
        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .default_service(web::to(answer))
        })
        .workers(1)
        .disable_signals()
        .shutdown_timeout(0)
        .bind(("127.0.0.1", 0))
        .expect("bind the outside API");
        let port = server.addrs()[0].port();
        let server = server.run();
        let handle = server.handle();
        tokio::spawn(server);
        OutsideApi {
            url: format!("http://127.0.0.1:{port}"),
            port,
            seen,
            handle,
        }
    }

    /// Every request received so far, in order.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("seen").clone()
    }

    /// Waits (bounded) until `n` requests arrived.
    pub async fn wait_for(&self, n: usize, within: Duration) -> Vec<Seen> {
        let deadline = Instant::now() + within;
        loop {
            let seen = self.seen();
            if seen.len() >= n || Instant::now() > deadline {
                return seen;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for OutsideApi {
    fn drop(&mut self) {
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(self.handle.stop(false));
        }
    }
}

async fn answer(
    request: HttpRequest,
    body: web::Bytes,
    seen: web::Data<Arc<Mutex<Vec<Seen>>>>,
) -> HttpResponse {
    let path = request.path().to_owned();
    let calls_to_path = {
        let mut seen = seen.lock().expect("seen");
        seen.push(Seen {
            method: request.method().to_string(),
            path: path.clone(),
            query: request.query_string().to_owned(),
            headers: request
                .headers()
                .iter()
                .map(|(name, value)| {
                    let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
                    (name.as_str().to_owned(), value)
                })
                .collect(),
            body: String::from_utf8_lossy(&body).into_owned(),
            at: Instant::now(),
        });
        seen.iter().filter(|s| s.path == path).count()
    };
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let number = |i: usize| {
        parts
            .get(i)
            .and_then(|n| n.parse::<usize>().ok())
            .unwrap_or(0)
    };
    match parts[0] {
        "echo" => HttpResponse::Ok()
            .insert_header(("X-Answer", "1"))
            .json(serde_json::json!({"ok": true})),
        "text" => HttpResponse::Ok()
            .content_type("text/plain")
            .body("plain answer"),
        "status" => {
            let code =
                actix_web::http::StatusCode::from_u16(number(1) as u16).expect("a status code");
            HttpResponse::build(code).json(serde_json::json!({"code": code.as_u16()}))
        }
        "flaky" if calls_to_path <= number(1) => HttpResponse::ServiceUnavailable()
            .insert_header(("Retry-After", "1"))
            .json(serde_json::json!({"busy": true})),
        "flaky" => HttpResponse::Ok().json(serde_json::json!({"attempt": calls_to_path})),
        "slow" => {
            tokio::time::sleep(Duration::from_secs(3)).await;
            HttpResponse::Ok().body("late")
        }
        "big" => {
            let chunks = vec![web::Bytes::from(vec![b'x'; 256]); number(1).div_ceil(256)];
            let chunks = stream::iter(chunks.into_iter().map(Ok::<_, actix_web::Error>));
            HttpResponse::Ok()
                .content_type("text/plain")
                .streaming(chunks)
        }
        "redirect" => {
            // Tests write the target unencoded: `?to=http://host:port/path`.
            let to = request
                .query_string()
                .strip_prefix("to=")
                .unwrap_or_default()
                .to_owned();
            HttpResponse::Found()
                .insert_header(("Location", to))
                .finish()
        }
        "loop" => HttpResponse::Found()
            .insert_header(("Location", "/loop"))
            .finish(),
        "hold-once" => {
            if calls_to_path == 1 {
                tokio::time::sleep(Duration::from_secs(60)).await;
            }
            HttpResponse::Ok().json(serde_json::json!({"call": calls_to_path}))
        }
        _ => HttpResponse::NotFound().finish(),
    }
}
