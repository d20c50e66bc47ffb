//! Counting recorded executions without loading the database that records them: the
//! executor counts each execution once its record is committed
//! (`hookflow_executions_total`), and a round waits on that count. Counting in SQL instead
//! scanned the growing `executions` table fifty times a second, and that load showed in the
//! figures as PostgreSQL's own cost.

use std::time::{Duration, Instant};

use crate::services::Services;

/// The executor's count of recorded executions, over its `/metrics`.
pub struct Recorded<'a> {
    stack: &'a Services,
}

/// The executor's counter of recorded executions, one series per final status.
const RECORDED: &str = "hookflow_executions_total";

impl Recorded<'_> {
    /// Counts what `stack`'s executor records.
    pub fn new(stack: &Services) -> Recorded<'_> {
        Recorded { stack }
    }

    /// Executions recorded so far, in any final status.
    pub async fn total(&self) -> usize {
        self.stack.sample(&self.stack.executor, RECORDED, &[]).await as usize
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
