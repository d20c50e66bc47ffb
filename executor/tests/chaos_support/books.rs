//! The books: what ingress accepted against what the executor recorded.

use std::{
    collections::{BTreeMap, BTreeSet},
    time::{Duration, Instant},
};

use shared::testkit::TestEnv;
use uuid::Uuid;

use super::load::{Answer, accepted};

/// One recorded execution of the workflow.
#[derive(Debug, Clone)]
pub struct Record {
    pub n: Option<i64>,
    pub status: String,
    pub attempts: i32,
    /// `node key:status` of its jobs, in order.
    pub jobs: Vec<String>,
}

/// Every execution recorded for `workflow`, read from the test's database.
pub async fn records(pool: &deadpool_postgres::Pool, workflow: Uuid) -> Vec<Record> {
    let client = pool.get().await.expect("database connection");
    let rows = client
        .query(
            "SELECT (e.context -> 'body' ->> 'n')::bigint, e.status, e.attempts, \
                    array_remove(array_agg(j.node_key || ':' || j.status ORDER BY j.position), NULL) \
             FROM executions e LEFT JOIN jobs j ON j.execution_id = e.id \
             WHERE e.workflow_id = $1 GROUP BY e.id",
            &[&workflow],
        )
        .await
        .expect("read executions");
    rows.iter()
        .map(|row| Record {
            n: row.get(0),
            status: row.get(1),
            attempts: row.get(2),
            jobs: row.get(3),
        })
        .collect()
}

/// Waits (bounded) until every accepted `n` has an execution in a final state; returns
/// the records then (or at the deadline) and how long it took.
pub async fn wait_recorded(
    env: &TestEnv,
    workflow: Uuid,
    accepted: &BTreeSet<i64>,
    within: Duration,
) -> (Vec<Record>, Duration) {
    let pool = env.pool();
    let started = Instant::now();
    loop {
        let records = records(&pool, workflow).await;
        let done: BTreeSet<i64> = records
            .iter()
            .filter(|r| !matches!(r.status.as_str(), "queued" | "started"))
            .filter_map(|r| r.n)
            .collect();
        if accepted.is_subset(&done) || started.elapsed() >= within {
            return (records, started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// What ingress accepted against what was recorded.
#[derive(Debug)]
pub struct Books {
    pub accepted: BTreeSet<i64>,
    /// Accepted but never recorded.
    pub lost: Vec<i64>,
    /// Recorded more than once.
    pub duplicated: Vec<Option<i64>>,
    /// Recorded without `resolved` and the two jobs `double` and `wait`, both resolved.
    pub wrong: Vec<Record>,
    /// Recorded after more than one delivery (redelivered and not run twice).
    pub redelivered: usize,
    /// Recorded although ingress answered 503: the broker stored the message but its
    /// confirm was lost with the connection. Allowed (the caller was told to retry).
    pub recorded_unaccepted: usize,
}

impl Books {
    /// Waits (at most `within`) until every call accepted in `answers` is recorded in a
    /// final state, then draws up the books; also returns the records and how long the
    /// wait took.
    pub async fn when_recorded(
        env: &TestEnv,
        workflow: Uuid,
        answers: &[Answer],
        within: Duration,
    ) -> (Books, Vec<Record>, Duration) {
        let (records, waited) = wait_recorded(env, workflow, &accepted(answers), within).await;
        (Books::new(answers, &records), records, waited)
    }

    pub fn new(answers: &[Answer], records: &[Record]) -> Books {
        let accepted = accepted(answers);
        let mut recorded = BTreeMap::new();
        for record in records {
            *recorded.entry(record.n).or_insert(0) += 1;
        }
        let lost = accepted
            .iter()
            .filter(|n| !recorded.contains_key(&Some(**n)))
            .copied()
            .collect();
        let duplicated = recorded
            .iter()
            .filter(|(_, count)| **count > 1)
            .map(|(n, _)| *n)
            .collect();
        let expected_jobs = ["double:resolved", "wait:resolved"];
        let wrong = records
            .iter()
            .filter(|r| r.status != "resolved" || r.jobs != expected_jobs)
            .cloned()
            .collect();
        let recorded_unaccepted = records
            .iter()
            .filter(|r| r.n.is_none_or(|n| !accepted.contains(&n)))
            .count();
        Books {
            recorded_unaccepted,
            accepted,
            lost,
            duplicated,
            wrong,
            redelivered: records.iter().filter(|r| r.attempts > 1).count(),
        }
    }

    /// Asserts docs/guarantees.md: every accepted call recorded, none twice, each run completely.
    pub fn assert_exactly_once(&self) {
        assert!(
            self.lost.is_empty(),
            "accepted but not recorded: {:?}",
            self.lost
        );
        assert!(
            self.duplicated.is_empty(),
            "recorded more than once: {:?}",
            self.duplicated
        );
        assert!(
            self.wrong.is_empty(),
            "executions not resolved with exactly the jobs double and wait: {:?}",
            self.wrong
        );
    }
}
