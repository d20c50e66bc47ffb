//! Graceful shutdown: the process signals that start it, turned into the cancellation token
//! every service's `run` takes (tests cancel that token themselves), and the drain of an
//! HTTP server once it is cancelled.

use actix_web::dev::Server;
use tokio_util::sync::CancellationToken;

use crate::health::Health;

/// A token cancelled on the first SIGTERM or SIGINT. Call it inside the runtime.
pub fn on_signal() -> CancellationToken {
    let token = CancellationToken::new();
    let cancel = token.clone();
    tokio::spawn(async move {
        terminated().await;
        cancel.cancel();
    });
    token
}

/// Resolves on SIGTERM or SIGINT.
async fn terminated() {
    // SIGTERM - Kubernetes (and `docker stop`) sends this to start a graceful shutdown;
    // SIGINT - Ctrl-C, for a service started by hand in a terminal.
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::error!(error = %err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT received, draining"),
        _ = terminate => tracing::info!("SIGTERM received, draining"),
    }
}

/// Runs `server` until `shutdown` is cancelled (or the server fails). Then `/readyz` turns
/// 503, `drain` finishes the work in progress and the server stops: gracefully when
/// `drain` says all of it finished, else closing the connections still open.
pub async fn serve_http(
    server: Server,
    health: &Health,
    shutdown: &CancellationToken,
    drain: impl Future<Output = bool>,
) -> anyhow::Result<()> {
    let handle = server.handle();
    let mut server = tokio::spawn(server);
    tokio::select! {
        served = &mut server => return Ok(served??),
        () = shutdown.cancelled() => {}
    }
    health.start_draining();
    let finished = drain.await;
    handle.stop(finished).await;
    Ok(server.await??)
}
