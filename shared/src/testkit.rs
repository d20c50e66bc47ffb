//! Test support (feature `testkit`): an isolated database and AMQP prefix per test, and
//! services started in-process on port 0. Everything a test creates is removed on drop.

use std::{
    future::Future,
    net::SocketAddr,
    num::{NonZeroU64, NonZeroUsize},
    time::Duration,
};

use lapin::options::{ExchangeDeleteOptions, QueueDeleteOptions};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    task::JoinHandle,
};
use tokio_util::sync::CancellationToken;

mod command_line;
pub mod tls;

pub use command_line::assert_command_line;

use crate::{
    broker::Topology,
    config::{Config, Service},
};

/// Bearer token every test config-api accepts.
pub const ADMIN_TOKEN: &str = "test-admin-token";

/// Token with which test ingresses fetch trigger definitions.
pub const INTERNAL_TOKEN: &str = "test-internal-token";

/// Key that encrypts the secrets of test config-apis.
pub const SECRET_KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

/// PostgreSQL server used by tests (maintenance database), overridable with
/// `HOOKFLOW_TEST_POSTGRES_URL`.
pub fn postgres_server_url() -> String {
    std::env::var("HOOKFLOW_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// RabbitMQ used by tests, overridable with `HOOKFLOW_TEST_AMQP_URL`.
pub fn amqp_url() -> String {
    std::env::var("HOOKFLOW_TEST_AMQP_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into())
}

fn database_url(name: &str) -> String {
    let server = postgres_server_url();
    match server.rsplit_once('/') {
        Some((base, _)) => format!("{base}/{name}"),
        None => format!("{server}/{name}"),
    }
}

/// One test's private database and AMQP prefix.
pub struct TestEnv {
    /// Name of the database created for this test.
    pub db_name: String,
    /// AMQP prefix of this test's exchanges and queues.
    pub prefix: String,
}

impl TestEnv {
    /// Creates a fresh, empty database and picks a unique AMQP prefix. Tests that need the
    /// schema apply config-api's migrations to it (`hookflow_config_api::schema::migrate`);
    /// a config-api started on it migrates it itself.
    pub async fn new() -> TestEnv {
        // Test HTTP clients built with plain `reqwest::Client::new()` need the process's
        // crypto provider installed (reqwest is built without one of its own).
        crate::tls::provider();
        let id = uuid::Uuid::now_v7().simple().to_string();
        let env = TestEnv {
            db_name: format!("hookflow_test_{id}"),
            prefix: format!("hookflow-test-{id}"),
        };
        let (client, connection) =
            tokio_postgres::connect(&postgres_server_url(), tokio_postgres::NoTls)
                .await
                .expect("PostgreSQL must run on 127.0.0.1:5432 (scripts/ensure-services)");
        tokio::spawn(connection);
        client
            .batch_execute(&format!("CREATE DATABASE \"{}\"", env.db_name))
            .await
            .expect("create test database");
        env
    }

    /// A configuration of `service` pointing at this test's database and prefix, with an
    /// admin token and short timeouts; the listen address is chosen by `start_service`.
    pub fn config(&self, service: Service) -> Config {
        let mut config = Config::defaults(service);
        config.database_url = database_url(&self.db_name);
        config.amqp_url = amqp_url();
        config.amqp_prefix = self.prefix.clone();
        config.admin_token = Some(ADMIN_TOKEN.into());
        config.internal_token = Some(INTERNAL_TOKEN.into());
        config.secret_key = Some(SECRET_KEY.into());
        config.listen = ([127, 0, 0, 1], 0).into();
        config.shutdown_grace_secs = 5;
        config.publish_timeout_ms = NonZeroU64::new(2000).expect("non-zero");
        config.database_pool_size = NonZeroUsize::new(4).expect("non-zero");
        config
    }

    /// A pool on this test's database.
    pub fn pool(&self) -> deadpool_postgres::Pool {
        crate::db::pool(&database_url(&self.db_name), 4, &Default::default()).expect("test pool")
    }
}

impl Drop for TestEnv {
    fn drop(&mut self) {
        let db_name = self.db_name.clone();
        let topology = Topology::new(self.prefix.clone());
        // Drop may run inside a runtime; clean up on a thread with a runtime of its own.
        let cleanup = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async move {
                remove_database(&db_name).await;
                remove_topology(&topology).await;
            });
        });
        let _ = cleanup.join();
    }
}

async fn remove_database(db_name: &str) {
    if let Ok((client, connection)) =
        tokio_postgres::connect(&postgres_server_url(), tokio_postgres::NoTls).await
    {
        tokio::spawn(connection);
        let sql = format!("DROP DATABASE IF EXISTS \"{db_name}\" WITH (FORCE)");
        if let Err(err) = client.batch_execute(&sql).await {
            eprintln!("could not drop test database {db_name}: {err}");
        }
    }
}

/// Deletes the durable queues and exchanges of a test prefix.
pub async fn remove_topology(topology: &Topology) {
    let Ok(connection) =
        lapin::Connection::connect(&amqp_url(), lapin::ConnectionProperties::default()).await
    else {
        return;
    };
    if let Ok(channel) = connection.create_channel().await {
        for queue in topology.durable_queues() {
            let _ = channel
                .queue_delete(queue.into(), QueueDeleteOptions::default())
                .await;
        }
        for exchange in topology.exchanges() {
            let _ = channel
                .exchange_delete(exchange.into(), ExchangeDeleteOptions::default())
                .await;
        }
    }
    let _ = connection.close(200, "test cleanup".into()).await;
}

/// A service running in-process.
pub struct Running {
    /// Bound address.
    pub addr: SocketAddr,
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    shutdown: CancellationToken,
    task: Option<JoinHandle<anyhow::Result<()>>>,
}

impl Running {
    /// Signals a graceful shutdown and waits for the service to return.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.shutdown.cancel();
        match self.task.take() {
            Some(task) => task.await?,
            None => Ok(()),
        }
    }

    /// Signals a graceful shutdown without waiting (e.g. to observe the drain).
    pub fn signal_stop(&self) {
        self.shutdown.cancel();
    }

    /// Waits for the service's task to return.
    pub async fn join(mut self) -> anyhow::Result<()> {
        match self.task.take() {
            Some(task) => task.await?,
            None => Ok(()),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.shutdown.cancel();
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// Starts a service's `run` on 127.0.0.1:0 and waits (up to 15 s) until its `/readyz`
/// answers 200.
pub async fn start_service<F, Fut>(run: F, config: Config) -> Running
where
    F: FnOnce(Config, std::net::TcpListener, CancellationToken) -> Fut,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let running = start_service_unready(run, config);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while http_status(running.addr, "/readyz").await != Some(200) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "service on {} did not become ready",
            running.addr
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    running
}

/// Starts a service's `run` on 127.0.0.1:0 without waiting for readiness.
pub fn start_service_unready<F, Fut>(run: F, config: Config) -> Running
where
    F: FnOnce(Config, std::net::TcpListener, CancellationToken) -> Fut,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind port 0");
    listener.set_nonblocking(true).expect("nonblocking");
    let addr = listener.local_addr().expect("local addr");
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(run(config, listener, shutdown.clone()));
    Running {
        addr,
        url: format!("http://{addr}"),
        shutdown,
        task: Some(task),
    }
}

/// An HTTP client for tests, from [`crate::tls::http_client_builder`] (a bare
/// `reqwest::Client::new()` panics while no crypto provider is installed).
pub fn http_client() -> reqwest::Client {
    crate::tls::http_client_builder(&Default::default())
        .build()
        .expect("test HTTP client")
}

/// Status code of a plain `GET path`, or `None` if nothing answered.
pub async fn http_status(addr: SocketAddr, path: &str) -> Option<u16> {
    let mut stream = tokio::net::TcpStream::connect(addr).await.ok()?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).await.ok()?;
    std::str::from_utf8(&head[9..12]).ok()?.parse().ok()
}

/// An HTTP stub on a free local port serving what `routes` configures (one worker, no
/// signal handling): its base URL and the handle that stops it. Needs a Tokio runtime.
pub fn http_stub<F>(routes: F) -> (String, actix_web::dev::ServerHandle)
where
    F: Fn(&mut actix_web::web::ServiceConfig) + Clone + Send + 'static,
{
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind port 0");
    let url = format!("http://{}", listener.local_addr().expect("local addr"));
    let server =
        actix_web::HttpServer::new(move || actix_web::App::new().configure(routes.clone()))
            .workers(1)
            .disable_signals()
            .listen(listener)
            .expect("listen")
            .run();
    let handle = server.handle();
    tokio::spawn(server);
    (url, handle)
}
