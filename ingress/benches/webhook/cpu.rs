//! Where the CPU goes: the processor time each process of the run spends per execution of a
//! round — the three services, RabbitMQ, PostgreSQL and this process (the load generator) —
//! so that the table says what bounds a figure on this machine: the sum over all of them,
//! against the cores there are, is the rate the machine allows.

use std::collections::BTreeMap;

use crate::services::Services;

/// `/proc/<pid>/stat` counts in clock ticks of this many per second (`USER_HZ`, fixed at
/// 100 for user space on Linux).
const TICKS_PER_SECOND: f64 = 100.0;

/// The processes, in the order they are shown.
const NAMES: [&str; 6] = [
    "ingress",
    "executor",
    "config-api",
    "RabbitMQ",
    "PostgreSQL",
    "load generator",
];

/// Processor seconds of each process so far, and the executor's record batches.
#[derive(Clone)]
pub struct Mark(BTreeMap<&'static str, f64>);

/// The executor's histogram of executions per record batch (group commit).
const BATCHES: &str = "hookflow_record_batch_size_count";
const BATCHED: &str = "hookflow_record_batch_size_sum";

/// Processor time per execution, by round kind, added up over the rounds of that kind.
#[derive(Default)]
pub struct Account {
    /// Label → (seconds by process and batch counts, executions).
    rounds: BTreeMap<&'static str, (BTreeMap<&'static str, f64>, usize)>,
}

impl Account {
    /// The processor seconds of every process now, and the record batches so far.
    pub async fn mark(stack: &Services) -> Mark {
        let mut seconds = BTreeMap::new();
        seconds.insert(BATCHES, stack.sample(&stack.executor, BATCHES, &[]).await);
        seconds.insert(BATCHED, stack.sample(&stack.executor, BATCHED, &[]).await);
        seconds.insert("ingress", pid_seconds(stack.ingress.pid()));
        seconds.insert("executor", pid_seconds(stack.executor.pid()));
        seconds.insert("config-api", pid_seconds(stack.config_api.pid()));
        seconds.insert("RabbitMQ", named_seconds(|comm| comm == "beam.smp"));
        seconds.insert(
            "PostgreSQL",
            named_seconds(|comm| comm.starts_with("postgres")),
        );
        seconds.insert("load generator", pid_seconds(std::process::id()));
        Mark(seconds)
    }

    /// Adds what the processes spent since `since` on `executions` executions of `label`.
    pub async fn add(
        &mut self,
        label: &'static str,
        stack: &Services,
        since: &Mark,
        executions: usize,
    ) {
        let now = Account::mark(stack).await;
        let (spent, count) = self.rounds.entry(label).or_default();
        for name in NAMES.into_iter().chain([BATCHES, BATCHED]) {
            let used =
                now.0.get(name).copied().unwrap_or(0.0) - since.0.get(name).copied().unwrap_or(0.0);
            *spent.entry(name).or_default() += used.max(0.0);
        }
        *count += executions;
    }

    /// One line per round kind: microseconds per execution by process, their sum, and the
    /// rate the machine's cores allow at that cost.
    pub fn facts(&self) -> Vec<(String, String)> {
        let cores = std::thread::available_parallelism().map_or(1, usize::from) as f64;
        self.rounds
            .iter()
            .filter(|(_, (_, count))| *count > 0)
            .map(|(label, (spent, count))| {
                let per =
                    |name: &str| spent.get(name).copied().unwrap_or(0.0) / *count as f64 * 1e6;
                let total: f64 = NAMES.iter().map(|name| per(name)).sum();
                let parts: Vec<String> = NAMES
                    .iter()
                    .map(|name| format!("{name} {:.0} µs", per(name)))
                    .collect();
                let batches = spent.get(BATCHES).copied().unwrap_or(0.0);
                let batched = spent.get(BATCHED).copied().unwrap_or(0.0);
                (
                    format!("CPU per execution, {label}"),
                    format!(
                        "{}; total {total:.0} µs, so {cores:.0} cores allow {:.0}/s; \
                         {:.1} executions per record batch",
                        parts.join(", "),
                        cores * 1e6 / total.max(f64::EPSILON),
                        batched / batches.max(1.0)
                    ),
                )
            })
            .collect()
    }
}

/// User and system processor seconds of process `pid` (0 when it is gone).
fn pid_seconds(pid: u32) -> f64 {
    stat_seconds(&format!("/proc/{pid}/stat")).unwrap_or(0.0)
}

/// The processor seconds of every process whose command name `matches`.
fn named_seconds(matches: impl Fn(&str) -> bool) -> f64 {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0.0;
    };
    entries
        .filter_map(Result::ok)
        .filter(|entry| entry.file_name().to_string_lossy().parse::<u32>().is_ok())
        .filter(|entry| {
            std::fs::read_to_string(entry.path().join("comm"))
                .is_ok_and(|comm| matches(comm.trim_end()))
        })
        .filter_map(|entry| stat_seconds(&entry.path().join("stat").to_string_lossy()))
        .sum()
}

/// `utime + stime` of a `/proc/<pid>/stat`, in seconds. The command name may hold spaces
/// and parentheses, so the fields are counted after its last `)`.
fn stat_seconds(path: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(path).ok()?;
    let after = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    // After the name: state is field 3 of the whole line, utime 14 and stime 15.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / TICKS_PER_SECOND)
}
