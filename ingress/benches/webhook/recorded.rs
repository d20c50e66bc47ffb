//! Counting recorded executions without loading the database that records them: the
//! executor counts each execution once its record is committed
//! (`hookflow_executions_total`), and a round waits on that count. Counting in SQL instead
//! scanned the growing `executions` table fifty times a second, and that load showed in the
//! figures as PostgreSQL's own cost.

use std::time::{Duration, Instant};

/// The executor's count of recorded executions, over its `/metrics`.
pub struct Recorded {
    http: reqwest::Client,
    metrics: String,
}

/// The executor's counter of recorded executions, one series per final status.
const RECORDED: &str = "hookflow_executions_total";

impl Recorded {
    /// Counts what the executor serving metrics at `executor_url` records.
    pub fn new(executor_url: &str) -> Recorded {
        Recorded {
            http: reqwest::Client::new(),
            metrics: format!("{executor_url}/metrics"),
        }
    }

    /// Executions recorded so far, in any final status.
    pub async fn total(&self) -> usize {
        let text = match self.http.get(&self.metrics).send().await {
            Ok(response) => response.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        let sum: f64 = text
            .lines()
            .filter_map(|line| line.strip_prefix(RECORDED)?.strip_prefix('{'))
            .filter_map(|rest| rest.split_once('}')?.1.trim().parse::<f64>().ok())
            .sum();
        sum as usize
    }

    /// Waits (at most `limit`) until `count` executions are recorded in all: when they were,
    /// or how many were when time ran out.
    pub async fn total_by(&self, count: usize, limit: Duration) -> Result<Instant, usize> {
        let deadline = Instant::now() + limit;
        loop {
            let recorded = self.total().await;
            if recorded >= count {
                return Ok(Instant::now());
            }
            if Instant::now() >= deadline {
                return Err(recorded);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
