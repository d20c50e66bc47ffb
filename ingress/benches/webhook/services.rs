//! The three services as child processes of the benchmark, each in its own process with its
//! own runtime, as in production: the benchmark binary re-executes itself with
//! `HOOKFLOW_BENCH_SERVE=<service>` and runs that service's binary code
//! ([`shared::cli::main`], as each crate's `src/main.rs` does), configured through the
//! `HOOKFLOW_*` variables the services read. A child is stopped with SIGTERM (then killed
//! if it does not exit in time) when the benchmark ends, and also when it panics; one that
//! outlives the benchmark stops itself when its stdin (a pipe from the benchmark) closes.

use std::{
    io::Read,
    net::SocketAddr,
    process::{Child, Command, ExitCode, Stdio},
    time::{Duration, Instant},
};

use secrecy::ExposeSecret;
use serde_json::Value;
use shared::{
    cli::NoOther,
    config::{Config, Service},
    testkit::{ADMIN_TOKEN, TestEnv, http_status},
};

use crate::{
    common::Workflow,
    memory::{Memory, Rss},
};

/// The variable that makes the benchmark binary run a service instead of the benchmark.
const SERVE: &str = "HOOKFLOW_BENCH_SERVE";

/// How long a child may take to become ready, and to exit after SIGTERM.
const START_LIMIT: Duration = Duration::from_secs(30);
const STOP_LIMIT: Duration = Duration::from_secs(15);

/// When this process is a child started by [`Services::start`]: runs its service to the
/// end, as the service's own binary would, and returns the exit code.
pub fn serve_if_child() -> Option<ExitCode> {
    let service = std::env::var(SERVE).ok()?;
    // The benchmark holds the other end of stdin: when it is gone, however it ended, the
    // child drains and exits as on SIGTERM rather than live on.
    std::thread::spawn(|| {
        let mut sink = Vec::new();
        let _ = std::io::stdin().read_to_end(&mut sink);
        let _ = terminate(std::process::id());
    });
    Some(match service.as_str() {
        "ingress" => shared::cli::main(Service::Ingress, hookflow_ingress::run, NoOther::run),
        "executor" => shared::cli::main(Service::Executor, hookflow_executor::run, NoOther::run),
        "config-api" => {
            shared::cli::main(Service::ConfigApi, hookflow_config_api::run, NoOther::run)
        }
        other => {
            eprintln!("{SERVE}={other}: not a service");
            ExitCode::FAILURE
        }
    })
}

/// Sends SIGTERM to `pid` (through `kill(1)`: the workspace forbids `unsafe`).
fn terminate(pid: u32) -> std::io::Result<std::process::ExitStatus> {
    Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
}

/// One service running as a child process.
pub struct Process {
    pub service: Service,
    pub url: String,
    child: Child,
}

impl Process {
    /// Starts `service` with `config` and waits until its `/readyz` answers 200.
    async fn start(service: Service, config: &Config) -> Process {
        let exe = std::env::current_exe().expect("the benchmark's own path");
        let addr = free_port();
        let mut command = Command::new(exe);
        command
            .arg("serve")
            .env(SERVE, service.binary())
            .envs(environment(config, addr))
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        // The services log every start and stop at info; the benchmark wants only trouble.
        if std::env::var_os("RUST_LOG").is_none() {
            command.env("RUST_LOG", "warn");
        }
        let child = command.spawn().expect("start a service process");
        let mut process = Process {
            service,
            url: format!("http://{addr}"),
            child,
        };
        let deadline = Instant::now() + START_LIMIT;
        while http_status(addr, "/readyz").await != Some(200) {
            if let Ok(Some(status)) = process.child.try_wait() {
                panic!("{} exited before it was ready: {status}", service.binary());
            }
            assert!(
                Instant::now() < deadline,
                "{} was not ready within {START_LIMIT:?}",
                service.binary()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        process
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGTERM, then waits for the exit (bounded; past it the child is killed).
    fn stop(&mut self) -> Result<(), String> {
        if let Ok(Some(_)) = self.child.try_wait() {
            return Err(format!("{} had already exited", self.service.binary()));
        }
        let _ = terminate(self.child.id());
        let deadline = Instant::now() + STOP_LIMIT;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) if status.success() => return Ok(()),
                Ok(Some(status)) => {
                    return Err(format!("{} exited with {status}", self.service.binary()));
                }
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                _ => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    return Err(format!(
                        "{} did not exit within {STOP_LIMIT:?} of SIGTERM: killed",
                        self.service.binary()
                    ));
                }
            }
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        // Reached with the child still running only when the benchmark panicked.
        if let Ok(None) = self.child.try_wait()
            && let Err(err) = self.stop()
        {
            eprintln!("{err}");
        }
    }
}

/// A local address nobody listens on now; the child binds it.
fn free_port() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind port 0");
    listener.local_addr().expect("local address")
}

/// `config` as the `HOOKFLOW_*` variables that the services read: the settings the test
/// kit and the benchmark change from the defaults, listening on `addr`.
fn environment(config: &Config, addr: SocketAddr) -> Vec<(&'static str, String)> {
    let mut variables = vec![
        ("HOOKFLOW_DATABASE_URL", config.database_url.clone()),
        ("HOOKFLOW_AMQP_URL", config.amqp_url.clone()),
        ("HOOKFLOW_AMQP_PREFIX", config.amqp_prefix.clone()),
        ("HOOKFLOW_LISTEN", addr.to_string()),
        ("HOOKFLOW_CONFIG_API_URL", config.config_api_url.to_string()),
        (
            "HOOKFLOW_SHUTDOWN_GRACE_SECS",
            config.shutdown_grace_secs.to_string(),
        ),
        (
            "HOOKFLOW_PUBLISH_TIMEOUT_MS",
            config.publish_timeout_ms.to_string(),
        ),
        (
            "HOOKFLOW_DATABASE_POOL_SIZE",
            config.database_pool_size.to_string(),
        ),
        (
            "HOOKFLOW_TRIGGER_CACHE_ENTRIES",
            config.trigger_cache_entries.to_string(),
        ),
    ];
    for (name, secret) in [
        ("HOOKFLOW_ADMIN_TOKEN", &config.admin_token),
        ("HOOKFLOW_INTERNAL_TOKEN", &config.internal_token),
        ("HOOKFLOW_SECRET_KEY", &config.secret_key),
    ] {
        if let Some(secret) = secret {
            variables.push((name, secret.expose_secret().to_owned()));
        }
    }
    variables
}

/// config-api, executor and ingress, each in its own process, on one environment.
/// The processes are declared before the environment so that they stop before it is
/// removed.
pub struct Services {
    pub ingress: Process,
    pub executor: Process,
    pub config_api: Process,
    memory: Memory,
    http: reqwest::Client,
    /// Ingress's `HOOKFLOW_TRIGGER_CACHE_ENTRIES`.
    pub trigger_cache_entries: usize,
    pub env: TestEnv,
}

impl Services {
    /// Starts the three on `env`, each service's config adjusted by `tune` first, and
    /// starts sampling their resident memory.
    pub async fn start(env: TestEnv, tune: impl Fn(Service, &mut Config)) -> Services {
        let config = |service| {
            let mut config = env.config(service);
            tune(service, &mut config);
            config
        };
        let config_api = Process::start(Service::ConfigApi, &config(Service::ConfigApi)).await;
        let executor = Process::start(Service::Executor, &config(Service::Executor)).await;
        let mut ingress_config = config(Service::Ingress);
        ingress_config.config_api_url = config_api.url.parse().expect("url");
        // Ingress faces the internet: it holds its own token, not the admin token.
        ingress_config.admin_token = None;
        let ingress = Process::start(Service::Ingress, &ingress_config).await;
        let memory = Memory::sample(&[&ingress, &executor, &config_api]);
        Services {
            ingress,
            executor,
            config_api,
            memory,
            http: shared::testkit::http_client(),
            trigger_cache_entries: ingress_config.trigger_cache_entries,
            env,
        }
    }

    /// The memory figures of each service: resident at start, peak sampled since, and the
    /// kernel's high-water mark now. Call it before [`Services::stop`].
    pub fn memory(&self) -> Vec<Rss> {
        self.memory.report()
    }

    /// SIGTERM to each, callers' side first, waiting for each to exit.
    pub fn stop(mut self) -> Result<(), String> {
        self.memory.stop();
        let mut errors = Vec::new();
        for process in [&mut self.ingress, &mut self.executor, &mut self.config_api] {
            if let Err(err) = process.stop() {
                errors.push(err);
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors.join("; "))
        }
    }

    pub fn webhook(&self, key: &str) -> String {
        format!("{}/api/webhook:trigger/{key}", self.ingress.url)
    }

    /// Creates a workflow through config-api's REST API, as the admin.
    pub async fn create_workflow(&self, document: Value) -> Workflow {
        let response = self
            .http
            .post(format!("{}/api/workflows", self.config_api.url))
            .bearer_auth(ADMIN_TOKEN)
            .json(&document)
            .send()
            .await
            .expect("config-api");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        assert_eq!(status, 201, "config-api answered {status}: {text}");
        Workflow::from(serde_json::from_str::<Value>(&text).expect("config-api JSON"))
    }

    /// The text of `process`'s `/metrics`; empty when it does not answer.
    pub async fn metrics(&self, process: &Process) -> String {
        match self
            .http
            .get(format!("{}/metrics", process.url))
            .send()
            .await
        {
            Ok(response) => response.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    /// The sum of `process`'s samples of `name` whose labels include every one of `labels`
    /// (`/metrics`); 0 when there is none.
    pub async fn sample(&self, process: &Process, name: &str, labels: &[(&str, &str)]) -> f64 {
        crate::common::sample(&self.metrics(process).await, name, labels).unwrap_or(0.0)
    }
}
