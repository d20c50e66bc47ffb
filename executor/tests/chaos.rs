//! docs/guarantees.md under fire: an executor killed with SIGKILL, RabbitMQ stopped and started,
//! PostgreSQL stopped and started — each in the middle of a load of async webhook calls.
//! Every call ingress answered 2xx must end up recorded exactly once, and the services
//! must recover without being restarted.
//!
//! These tests stop the servers every other test uses, so the target is `test = false`:
//! `scripts/test` runs it on its own, after the other tests, with
//! `cargo test -p hookflow-executor --test chaos -- --test-threads=1`. The `Servers` guard
//! starts RabbitMQ and PostgreSQL again however a test ends.

mod chaos_support;

use std::time::{Duration, Instant};

use chaos_support::{
    Stack,
    books::{Books, records},
    bounded,
    child::ExecutorProcess,
    load::{Answer, Load, refused},
    report, wait_readyz,
};
use shared::config::Service;

/// Calls of the kill test.
const CALLS: u64 = 300;
/// Pause of each of the four load workers between calls in the outage tests.
const PACE: Duration = Duration::from_millis(25);
/// Upper bound on calls of the outage tests.
const MAX_CALLS: u64 = 5000;
/// How long RabbitMQ stays down at least: long enough for the reconnection backoff to grow.
const RABBITMQ_OUTAGE: Duration = Duration::from_secs(5);
/// How long PostgreSQL stays down: far longer than the requeue pauses that a delivery
/// limit of 2 allows (0.5 s, then 1 s), so requeueing on a database error would show.
const POSTGRES_OUTAGE: Duration = Duration::from_secs(6);
/// Bound on how long recorded executions may take to catch up after a disruption.
const DRAIN: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_executor_killed_mid_load_loses_nothing_and_runs_nothing_twice() {
    bounded(async {
        let stack = Stack::start(false, |_| {}).await;
        let config = stack.env.config(Service::Executor);
        let (workflow, url) = stack.create_workflow(200).await;
        let executor = ExecutorProcess::start(&config, "first").await;
        let load = Load::start(&url, 16, Duration::ZERO, CALLS);

        // Kill it while it holds executions: some recorded, some started and unfinished.
        let pool = stack.env.pool();
        let deadline = Instant::now() + Duration::from_secs(30);
        let (done_at_kill, running_at_kill) = loop {
            let records = records(&pool, workflow).await;
            let running = records.iter().filter(|r| r.status == "started").count();
            let done = records.len() - running;
            if done >= 30 && running > 0 {
                break (done, running);
            }
            assert!(
                Instant::now() < deadline,
                "executions never got going: {done} recorded, {running} running"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let log = executor.log.clone();
        executor.kill_9();
        let killed = Instant::now();
        let executor = ExecutorProcess::start(&config, "restarted").await;
        let answers = load.finish(false).await;
        let (books, records, _) = Books::when_recorded(&stack.env, workflow, &answers, DRAIN).await;
        let drained = killed.elapsed();

        report(format!(
            "chaos kill -9: accepted {}, recorded {}, lost {}, duplicated {}, \
             recorded/running at the kill {done_at_kill}/{running_at_kill}, \
             redelivered {}, {:.1} s from the kill until all were recorded \
             (executor logs: {}, {})",
            books.accepted.len(),
            records.len(),
            books.lost.len(),
            books.duplicated.len(),
            books.redelivered,
            drained.as_secs_f64(),
            log.display(),
            executor.log.display(),
        ));
        let refused = refused(&answers);
        assert!(
            refused.is_empty(),
            "ingress refused calls although only the executor died: {refused:?}"
        );
        books.assert_exactly_once();
        assert_eq!(records.len(), CALLS as usize, "one execution per call");
        assert!(
            books.redelivered > 0,
            "no execution held by the killed executor was delivered again"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_rabbitmq_restart_answers_503_meanwhile_and_loses_nothing() {
    bounded(async {
        let stack = Stack::start(true, |_| {}).await;
        let executor = stack.executor.as_ref().expect("executor").addr;
        let (workflow, url) = stack.create_workflow(50).await;
        let load = Load::start_working(&url, PACE, MAX_CALLS).await;

        stack.servers.stop_rabbitmq().await;
        let stopped = Instant::now();
        let ingress_unready = wait_readyz(stack.ingress.addr, 503, Duration::from_secs(10)).await;
        let executor_unready = wait_readyz(executor, 503, Duration::from_secs(10)).await;
        let config_api_unready =
            wait_readyz(stack.config_api.addr, 503, Duration::from_secs(10)).await;
        let refused_meanwhile = load
            .wait_until(Duration::from_secs(10), |a| {
                a.iter().any(|a| a.at > stopped && a.status == Some(503))
            })
            .await;

        tokio::time::sleep_until((stopped + RABBITMQ_OUTAGE).into()).await;
        stack.servers.start_rabbitmq().await;
        let restarted = Instant::now();
        let outage = restarted - stopped;
        let ingress_ready = wait_readyz(stack.ingress.addr, 200, Duration::from_secs(30)).await;
        let executor_ready = wait_readyz(executor, 200, Duration::from_secs(30)).await;
        let config_api_ready =
            wait_readyz(stack.config_api.addr, 200, Duration::from_secs(30)).await;
        let accepting = load
            .wait_until(Duration::from_secs(30), |a| {
                a.iter().any(|a| a.at > restarted && a.accepted())
            })
            .await;
        let recovery = restarted.elapsed();
        // More calls after the recovery, which the same executor must consume.
        let answers = load.finish_working().await;
        let (books, records, drained) =
            Books::when_recorded(&stack.env, workflow, &answers, DRAIN).await;
        let refused = refused(&answers);
        let after_recovery = answers
            .iter()
            .filter(|a| a.at > restarted && a.accepted())
            .count();

        report(format!(
            "chaos RabbitMQ restart: accepted {}, refused {} (503 with Retry-After {}), \
             accepted after the restart {after_recovery}, down {:.1} s, recovery {:.1} s \
             after RabbitMQ answered again, recorded {} ({} of them answered 503), lost {}, \
             duplicated {}, redelivered {}, drained {:.1} s after the load (service logs: {})",
            books.accepted.len(),
            refused.len(),
            refused
                .iter()
                .filter(|a| a.status == Some(503) && a.retry_after)
                .count(),
            outage.as_secs_f64(),
            recovery.as_secs_f64(),
            records.len(),
            books.recorded_unaccepted,
            books.lost.len(),
            books.duplicated.len(),
            books.redelivered,
            drained.as_secs_f64(),
            stack.log.display(),
        ));
        assert!(
            ingress_unready,
            "ingress /readyz did not answer 503 without RabbitMQ"
        );
        assert!(
            executor_unready,
            "executor /readyz did not answer 503 without RabbitMQ"
        );
        assert!(
            config_api_unready,
            "config-api /readyz did not answer 503 without RabbitMQ"
        );
        assert!(
            refused_meanwhile,
            "no webhook call was answered 503 during the outage"
        );
        let unexpected: Vec<&&Answer> = refused
            .iter()
            .filter(|a| a.status != Some(503) || !a.retry_after)
            .collect();
        assert!(
            unexpected.is_empty(),
            "refusals other than 503 with Retry-After: {unexpected:?}"
        );
        assert!(ingress_ready, "ingress /readyz did not answer 200 again");
        assert!(executor_ready, "executor /readyz did not answer 200 again");
        assert!(
            config_api_ready,
            "config-api /readyz did not answer 200 again"
        );
        assert!(
            accepting,
            "ingress did not accept calls again after the restart"
        );
        books.assert_exactly_once();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_postgresql_restart_is_waited_out_without_dead_letters() {
    bounded(async {
        // A low delivery limit: any requeue caused by the outage would soon dead-letter
        // the execution, and dead letters are recorded as `error` executions.
        let stack = Stack::start(true, |config| config.delivery_limit = 2).await;
        let executor = stack.executor.as_ref().expect("executor").addr;
        let (workflow, url) = stack.create_workflow(50).await;
        let load = Load::start_working(&url, PACE, MAX_CALLS).await;

        stack.servers.stop_postgres().await;
        let stopped = Instant::now();
        let executor_unready = wait_readyz(executor, 503, Duration::from_secs(10)).await;
        let config_api_unready =
            wait_readyz(stack.config_api.addr, 503, Duration::from_secs(10)).await;
        tokio::time::sleep_until((stopped + POSTGRES_OUTAGE).into()).await;
        let ingress_ready_meanwhile = wait_readyz(stack.ingress.addr, 200, Duration::ZERO).await;
        let accepted_meanwhile = load
            .answers()
            .iter()
            .filter(|a| a.at > stopped && a.accepted())
            .count();

        stack.servers.start_postgres().await;
        let restarted = Instant::now();
        let outage = restarted - stopped;
        let executor_ready = wait_readyz(executor, 200, Duration::from_secs(30)).await;
        let recovery = restarted.elapsed();
        let config_api_ready =
            wait_readyz(stack.config_api.addr, 200, Duration::from_secs(30)).await;
        let answers = load.finish_working().await;
        let (books, records, drained) =
            Books::when_recorded(&stack.env, workflow, &answers, DRAIN).await;
        let refused = refused(&answers);
        let errors = records.iter().filter(|r| r.status == "error").count();

        report(format!(
            "chaos PostgreSQL restart: accepted {} ({accepted_meanwhile} while it was down), \
             refused {}, down {:.1} s, executor ready again {:.1} s after PostgreSQL was, recorded {}, \
             lost {}, duplicated {}, dead-lettered {errors}, redelivered {}, \
             drained {:.1} s after the load (service logs: {})",
            books.accepted.len(),
            refused.len(),
            outage.as_secs_f64(),
            recovery.as_secs_f64(),
            records.len(),
            books.lost.len(),
            books.duplicated.len(),
            books.redelivered,
            drained.as_secs_f64(),
            stack.log.display(),
        ));
        assert!(
            executor_unready,
            "executor /readyz did not answer 503 without PostgreSQL"
        );
        assert!(
            config_api_unready,
            "config-api /readyz did not answer 503 without PostgreSQL"
        );
        assert!(
            ingress_ready_meanwhile,
            "ingress /readyz depends on PostgreSQL"
        );
        assert!(
            refused.is_empty(),
            "ingress refused calls although it never touches PostgreSQL: {refused:?}"
        );
        assert!(
            accepted_meanwhile > 0,
            "no call was accepted during the outage"
        );
        assert!(executor_ready, "executor /readyz did not answer 200 again");
        assert!(
            config_api_ready,
            "config-api /readyz did not answer 200 again"
        );
        books.assert_exactly_once();
    })
    .await;
}
