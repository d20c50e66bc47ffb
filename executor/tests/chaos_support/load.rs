//! A load of webhook calls, each with a unique body `{"n": i}`, and how ingress answered.

use std::{
    collections::BTreeSet,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use serde_json::json;
use tokio::task::JoinSet;

/// Accepted calls that show the stack working, before a disruption and after it.
const WORKING: usize = 30;

/// One webhook call of the load and how ingress answered it.
#[derive(Debug, Clone)]
pub struct Answer {
    pub n: i64,
    /// `None` when no HTTP answer came at all.
    pub status: Option<u16>,
    pub retry_after: bool,
    pub at: Instant,
}

impl Answer {
    pub fn accepted(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// Webhook calls sent by `workers` concurrent tasks, each call with the next `n`.
pub struct Load {
    answers: Arc<Mutex<Vec<Answer>>>,
    stop: Arc<AtomicBool>,
    tasks: JoinSet<()>,
}

impl Load {
    /// Sends up to `max` calls to `url`; each worker pauses `pace` between calls.
    pub fn start(url: &str, workers: usize, pace: Duration, max: u64) -> Load {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("http client");
        let answers = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let next = Arc::new(AtomicU64::new(0));
        let mut tasks = JoinSet::new();
        for _ in 0..workers {
            let (http, url) = (http.clone(), url.to_owned());
            let (answers, stop, next) = (answers.clone(), stop.clone(), next.clone());
            tasks.spawn(async move {
                while !stop.load(Ordering::SeqCst) {
                    let n = next.fetch_add(1, Ordering::SeqCst);
                    if n >= max {
                        return;
                    }
                    let n = i64::try_from(n).expect("small n");
                    let sent = http.post(&url).json(&json!({"n": n})).send().await;
                    let answer = Answer {
                        n,
                        status: sent.as_ref().ok().map(|r| r.status().as_u16()),
                        retry_after: sent
                            .as_ref()
                            .is_ok_and(|r| r.headers().contains_key("retry-after")),
                        at: Instant::now(),
                    };
                    answers.lock().expect("answers").push(answer);
                    tokio::time::sleep(pace).await;
                }
            });
        }
        Load {
            answers,
            stop,
            tasks,
        }
    }

    /// Four workers pausing `pace` between calls, up to `max` calls, once ingress accepted
    /// 30 of them (waiting at most 10 s): the stack works before it is disrupted.
    pub async fn start_working(url: &str, pace: Duration, max: u64) -> Load {
        let load = Load::start(url, 4, pace, max);
        assert!(
            load.wait_until(Duration::from_secs(10), |a| count_accepted(a) >= WORKING)
                .await,
            "calls were not accepted before the outage: {:?}",
            load.answers()
        );
        load
    }

    /// Waits (at most 15 s) until 30 more calls are accepted, which the recovered stack
    /// must take, then stops sending and returns every answer.
    pub async fn finish_working(self) -> Vec<Answer> {
        let before = self.accepted();
        self.wait_until(Duration::from_secs(15), |a| {
            count_accepted(a) >= before + WORKING
        })
        .await;
        self.finish(true).await
    }

    /// The answers so far.
    pub fn answers(&self) -> Vec<Answer> {
        self.answers.lock().expect("answers").clone()
    }

    /// Calls accepted (2xx) so far.
    pub fn accepted(&self) -> usize {
        self.answers().iter().filter(|a| a.accepted()).count()
    }

    /// Waits (bounded) until `done` holds for the answers so far.
    pub async fn wait_until(&self, within: Duration, done: impl Fn(&[Answer]) -> bool) -> bool {
        let deadline = Instant::now() + within;
        while !done(&self.answers()) {
            if Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        true
    }

    /// Stops sending (or, with `stop` false, lets the workers send all `max`) and returns
    /// every answer.
    pub async fn finish(mut self, stop: bool) -> Vec<Answer> {
        self.stop.store(stop, Ordering::SeqCst);
        let joined = tokio::time::timeout(Duration::from_secs(60), async {
            while let Some(joined) = self.tasks.join_next().await {
                joined.expect("load worker");
            }
        })
        .await;
        assert!(joined.is_ok(), "the load did not finish within 60 s");
        self.answers()
    }
}

/// The `n` of every accepted call.
pub fn accepted(answers: &[Answer]) -> BTreeSet<i64> {
    answers
        .iter()
        .filter(|a| a.accepted())
        .map(|a| a.n)
        .collect()
}

/// How many calls were accepted (2xx).
pub fn count_accepted(answers: &[Answer]) -> usize {
    answers.iter().filter(|a| a.accepted()).count()
}

/// The calls ingress did not accept: no answer, or not 2xx.
pub fn refused(answers: &[Answer]) -> Vec<&Answer> {
    answers.iter().filter(|a| !a.accepted()).collect()
}
