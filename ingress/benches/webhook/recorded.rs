//! Counting a workflow's recorded executions in SQL: a round waits for thousands of them,
//! more than a page of the REST history holds.

use std::time::{Duration, Instant};

use shared::testkit::TestEnv;
use uuid::Uuid;

use crate::common::Workflow;

/// Counts over the stack's database.
pub struct Recorded {
    pool: deadpool_postgres::Pool,
}

impl Recorded {
    pub fn new(env: &TestEnv) -> Recorded {
        Recorded { pool: env.pool() }
    }

    /// Executions of `workflow` recorded in a final state.
    pub async fn count(&self, workflow: &Workflow) -> usize {
        let id: Uuid = workflow.id.parse().expect("workflow id");
        let client = self.pool.get().await.expect("database connection");
        let row = client
            .query_one(
                "SELECT count(*) FROM executions \
                 WHERE workflow_id = $1 AND status NOT IN ('queued', 'started')",
                &[&id],
            )
            .await
            .expect("count executions");
        let count: i64 = row.get(0);
        usize::try_from(count).unwrap_or(0)
    }

    /// Waits (at most `limit`) until `workflow` has `count` recorded executions: when they
    /// were all there, or how many were when time ran out.
    pub async fn by(
        &self,
        workflow: &Workflow,
        count: usize,
        limit: Duration,
    ) -> Result<Instant, usize> {
        let deadline = Instant::now() + limit;
        loop {
            let recorded = self.count(workflow).await;
            if recorded >= count {
                return Ok(Instant::now());
            }
            if Instant::now() >= deadline {
                return Err(recorded);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Executions of any workflow recorded in a final state.
    pub async fn total(&self) -> usize {
        let client = self.pool.get().await.expect("database connection");
        let row = client
            .query_one(
                "SELECT count(*) FROM executions WHERE status NOT IN ('queued', 'started')",
                &[],
            )
            .await
            .expect("count executions");
        let count: i64 = row.get(0);
        usize::try_from(count).unwrap_or(0)
    }

    /// Waits (at most `limit`) until `count` executions are recorded in all: when they were.
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

    pub fn close(self) {
        self.pool.close();
    }
}
