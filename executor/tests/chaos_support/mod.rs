//! The stack for the chaos tests: config-api and ingress in-process (the executor in-process
//! or as a child process), a load of webhook calls each carrying a unique `{"n": i}`, and
//! the books that compare what ingress accepted with what was recorded.

pub mod books;
pub mod child;
pub mod load;
pub mod servers;

use std::{
    future::Future,
    io::Write,
    path::PathBuf,
    sync::{Mutex, OnceLock},
    time::{Duration, Instant},
};

use serde_json::{Value, json};
use shared::{
    config::{Config, Service},
    testkit::{ADMIN_TOKEN, Running, TestEnv, http_status, start_service},
};
use uuid::Uuid;

use servers::Servers;

/// Fields drop in order: the servers are started again first, then the services stop, and
/// only then is the test's database and prefix removed (which needs both servers).
pub struct Stack {
    pub servers: Servers,
    pub ingress: Running,
    pub executor: Option<Running>,
    pub config_api: Running,
    pub http: reqwest::Client,
    /// Where the in-process services log, for a report to name.
    pub log: PathBuf,
    pub env: TestEnv,
}

/// The log of the services run in this test process (`info` and above, all tests of the
/// binary), created on first use under the target's temporary directory.
fn services_log() -> PathBuf {
    static LOG: OnceLock<PathBuf> = OnceLock::new();
    LOG.get_or_init(|| {
        let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("chaos-services-{}.log", std::process::id()));
        let file = std::fs::File::create(&path).expect("services log file");
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("info"))
            .with_ansi(false)
            .with_writer(Mutex::new(file))
            .try_init();
        path
    })
    .clone()
}

impl Stack {
    /// Starts config-api and ingress — and the executor too when `with_executor` — on a
    /// fresh database and prefix; `adjust` changes every service's configuration.
    pub async fn start(with_executor: bool, adjust: fn(&mut Config)) -> Stack {
        let servers = Servers::claim().await;
        let log = services_log();
        let env = TestEnv::new().await;
        let config = |service| {
            let mut config = env.config(service);
            adjust(&mut config);
            config
        };
        let config_api = start_service(hookflow_config_api::run, config(Service::ConfigApi)).await;
        let executor = match with_executor {
            true => Some(start_service(hookflow_executor::run, config(Service::Executor)).await),
            false => None,
        };
        let mut ingress_config = config(Service::Ingress);
        ingress_config.config_api_url = config_api.url.parse().expect("url");
        let ingress = start_service(hookflow_ingress::run, ingress_config).await;
        Stack {
            servers,
            ingress,
            executor,
            config_api,
            http: shared::testkit::http_client(),
            log,
            env,
        }
    }

    /// Creates an async workflow that computes `2n` and then waits `delay_ms`, so that
    /// executions are in flight for a while; returns its id and webhook URL.
    pub async fn create_workflow(&self, delay_ms: u64) -> (Uuid, String) {
        let document = json!({
            "title": "chaos",
            "sync": false,
            "trigger": {"type": "webhook"},
            "nodes": [
                {"key": "double", "type": "calculation",
                 "config": {"engine": "cel", "expression": "context.body.n * 2"}},
                {"key": "wait", "type": "delay", "config": {"duration": delay_ms, "endStatus": 1}},
            ],
        });
        let response = self
            .http
            .post(format!("{}/api/workflows", self.config_api.url))
            .bearer_auth(ADMIN_TOKEN)
            .json(&document)
            .send()
            .await
            .expect("config-api answers");
        assert_eq!(response.status(), 201, "creating the workflow");
        let created: Value = response.json().await.expect("created workflow JSON");
        let id = created["id"].as_str().expect("id").parse().expect("uuid");
        let key = created["key"].as_str().expect("key");
        (
            id,
            format!("{}/api/webhook:trigger/{key}", self.ingress.url),
        )
    }
}

/// `GET /readyz` of the service at `addr`, retried until it answers `status` (bounded).
pub async fn wait_readyz(addr: std::net::SocketAddr, status: u16, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    loop {
        if http_status(addr, "/readyz").await == Some(status) {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Writes a test's numbers to stderr directly: the test harness captures `eprintln!`
/// output of passing tests, and these numbers belong in every log.
pub fn report(line: String) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// Runs a test for at most two minutes. On timeout the test's future is dropped first,
/// and with it the servers guard, so RabbitMQ and PostgreSQL are started again.
pub async fn bounded(test: impl Future<Output = ()>) {
    let limit = Duration::from_secs(120);
    if tokio::time::timeout(limit, test).await.is_err() {
        panic!("the test took more than {limit:?}");
    }
}
