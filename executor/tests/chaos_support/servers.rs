//! Stopping and starting the machine's RabbitMQ and PostgreSQL (127.0.0.1). The
//! [`Servers`] guard starts whatever it stopped again when dropped — also when a test
//! fails — so that the next test, and everybody else's, finds both servers running.

use std::{
    io::{Read, Write},
    net::TcpStream,
    process::Command,
    sync::atomic::{AtomicBool, Ordering},
    time::{Duration, Instant},
};

const AMQP_ADDR: &str = "127.0.0.1:5672";
/// How long a server may take to come back before the test gives up on it.
const START_WAIT: Duration = Duration::from_secs(60);
/// Bound on one `rabbitmqctl` or `pg_ctlcluster` run.
const COMMAND_SECS: &str = "60";

/// Holds the right to stop the shared servers; restarts what it stopped when dropped.
pub struct Servers {
    rabbitmq_stopped: AtomicBool,
    postgres_stopped: AtomicBool,
}

impl Servers {
    /// Makes sure both servers run (an earlier run may have died mid-outage) and returns
    /// the guard.
    pub async fn claim() -> Servers {
        blocking(|| {
            assert!(amqp_answers() || start_rabbitmq(), "RabbitMQ does not run");
            assert!(
                postgres_answers() || start_postgres(),
                "PostgreSQL does not run"
            );
        })
        .await;
        Servers {
            rabbitmq_stopped: AtomicBool::new(false),
            postgres_stopped: AtomicBool::new(false),
        }
    }

    /// `rabbitmqctl stop_app`: the node stays up, the broker inside it stops.
    pub async fn stop_rabbitmq(&self) {
        self.rabbitmq_stopped.store(true, Ordering::SeqCst);
        blocking(|| run(&["rabbitmqctl", "stop_app"])).await;
    }

    /// `rabbitmqctl start_app`, then waits until port 5672 speaks AMQP.
    pub async fn start_rabbitmq(&self) {
        blocking(|| assert!(start_rabbitmq(), "RabbitMQ did not come back")).await;
        self.rabbitmq_stopped.store(false, Ordering::SeqCst);
    }

    /// Stops the PostgreSQL cluster, disconnecting every client (`-m fast`).
    pub async fn stop_postgres(&self) {
        self.postgres_stopped.store(true, Ordering::SeqCst);
        blocking(|| pg_ctlcluster(&["stop", "-m", "fast"])).await;
    }

    /// Starts the PostgreSQL cluster and waits until it accepts connections.
    pub async fn start_postgres(&self) {
        blocking(|| assert!(start_postgres(), "PostgreSQL did not come back")).await;
        self.postgres_stopped.store(false, Ordering::SeqCst);
    }
}

impl Drop for Servers {
    fn drop(&mut self) {
        if self.rabbitmq_stopped.load(Ordering::SeqCst) {
            eprintln!("chaos: starting RabbitMQ again");
            if !start_rabbitmq() {
                eprintln!("chaos: RabbitMQ did not come back; run scripts/ensure-services");
            }
        }
        if self.postgres_stopped.load(Ordering::SeqCst) {
            eprintln!("chaos: starting PostgreSQL again");
            if !start_postgres() {
                eprintln!("chaos: PostgreSQL did not come back; run scripts/ensure-services");
            }
        }
    }
}

async fn blocking(work: impl FnOnce() + Send + 'static) {
    tokio::task::spawn_blocking(work)
        .await
        .expect("server control panicked");
}

/// Starts RabbitMQ; whether it answers within [`START_WAIT`].
fn start_rabbitmq() -> bool {
    run(&["rabbitmqctl", "start_app"]);
    wait_for(amqp_answers)
}

/// Starts PostgreSQL; whether it answers within [`START_WAIT`].
fn start_postgres() -> bool {
    // Fails harmlessly when the cluster already runs.
    pg_ctlcluster(&["start"]);
    wait_for(postgres_answers)
}

/// `pg_ctlcluster <version> main <action…>` on the installed cluster.
fn pg_ctlcluster(action: &[&str]) {
    let version = postgres_version();
    let mut command = vec![
        "pg_ctlcluster",
        "--skip-systemctl-redirect",
        &version,
        "main",
    ];
    command.extend_from_slice(action);
    run(&command);
}

/// Runs `command` under `timeout`; a failure is reported, not raised, because the
/// readiness waits that follow decide whether the server is where it should be.
fn run(command: &[&str]) {
    let output = Command::new("timeout")
        .arg(COMMAND_SECS)
        .args(command)
        .output();
    match output {
        Ok(output) if output.status.success() => {}
        Ok(output) => eprintln!(
            "chaos: `{}` exited with {}: {}",
            command.join(" "),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ),
        Err(err) => eprintln!("chaos: cannot run `{}`: {err}", command.join(" ")),
    }
}

/// Polls `answers` until it holds (`true`) or [`START_WAIT`] is over (`false`). It never
/// panics: it also runs in `Drop`, where a second panic would abort the test process.
fn wait_for(answers: fn() -> bool) -> bool {
    let deadline = Instant::now() + START_WAIT;
    while !answers() {
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    true
}

/// The installed PostgreSQL major version (the directory under /etc/postgresql).
fn postgres_version() -> String {
    std::fs::read_dir("/etc/postgresql")
        .expect("PostgreSQL is installed under /etc/postgresql")
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().into_string().ok())
        .max()
        .expect("a PostgreSQL cluster version")
}

/// Whether 5672 answers the AMQP 0-9-1 protocol header with a method frame
/// (connection.start), not merely accepts TCP connections.
pub fn amqp_answers() -> bool {
    let Ok(addr) = AMQP_ADDR.parse() else {
        return false;
    };
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_secs(2)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(3)));
    let mut frame = [0u8; 3];
    stream.write_all(b"AMQP\x00\x00\x09\x01").is_ok()
        && stream.read_exact(&mut frame).is_ok()
        && frame == [1, 0, 0]
}

/// Whether PostgreSQL accepts connections on 127.0.0.1:5432.
pub fn postgres_answers() -> bool {
    Command::new("pg_isready")
        .args([
            "-q",
            "-h",
            "127.0.0.1",
            "-p",
            "5432",
            "-U",
            "postgres",
            "-t",
            "2",
        ])
        .status()
        .is_ok_and(|status| status.success())
}
