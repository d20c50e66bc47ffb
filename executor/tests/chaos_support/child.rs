//! The executor binary as a child process, configured the way an operator configures it
//! (`HOOKFLOW_*` variables), so that it can be killed with SIGKILL.

use std::{
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use shared::{config::Config, testkit::http_status};

/// A running `executor` process; killed when dropped.
pub struct ExecutorProcess {
    child: Child,
    /// Its log (stderr and stdout).
    pub log: PathBuf,
}

impl ExecutorProcess {
    /// Starts the executor on `config`'s database and AMQP prefix and waits (bounded)
    /// until its `/readyz` answers 200.
    pub async fn start(config: &Config, name: &str) -> ExecutorProcess {
        ExecutorProcess::start_with(config, name, &[]).await
    }

    /// Like [`ExecutorProcess::start`], with more `HOOKFLOW_*` variables set.
    pub async fn start_with(config: &Config, name: &str, env: &[(&str, &str)]) -> ExecutorProcess {
        // The port is picked here rather than with HOOKFLOW_LISTEN=127.0.0.1:0 because the
        // test needs to know it to probe /readyz.
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port");
        let log = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("{}-{name}.log", config.amqp_prefix));
        let file = std::fs::File::create(&log).expect("executor log file");
        let child = Command::new(env!("CARGO_BIN_EXE_executor"))
            .env("HOOKFLOW_DATABASE_URL", &config.database_url)
            .env("HOOKFLOW_AMQP_URL", &config.amqp_url)
            .env("HOOKFLOW_AMQP_PREFIX", &config.amqp_prefix)
            .env("HOOKFLOW_LISTEN", addr.to_string())
            .env(
                "HOOKFLOW_DATABASE_POOL_SIZE",
                config.database_pool_size.to_string(),
            )
            .env("HOOKFLOW_DELIVERY_LIMIT", config.delivery_limit.to_string())
            .env("HOOKFLOW_SECRET_KEY", shared::testkit::SECRET_KEY)
            .env("RUST_LOG", "warn")
            .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(file.try_clone().expect("log file handle"))
            .stderr(file)
            .spawn()
            .expect("start the executor binary");
        let mut process = ExecutorProcess { child, log };
        let deadline = Instant::now() + Duration::from_secs(20);
        while http_status(addr, "/readyz").await != Some(200) {
            let exited = process.child.try_wait().expect("executor status");
            assert!(
                exited.is_none(),
                "executor exited with {exited:?}; see {}",
                process.log.display()
            );
            assert!(
                Instant::now() < deadline,
                "executor not ready in time; see {}",
                process.log.display()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        process
    }

    /// SIGKILL: no drain, no acknowledgement of what it holds.
    pub fn kill_9(mut self) {
        self.child.kill().expect("SIGKILL the executor");
        self.child.wait().expect("reap the executor");
    }
}

impl Drop for ExecutorProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
