//! A parallel node's branches, run at once in the executor's task (their waits overlap),
//! each with its own copy of the scope (all sharing one `$context`); the mode decides when
//! the node is done, and the branches still running then are dropped, which stops them
//! where they wait.

use chrono::Utc;
use std::future::poll_fn;
use std::task::Poll;

use futures_util::future::BoxFuture;
use serde_json::{Map, Value, json};

use super::chain::{ChainEnd, Container};
use super::{Engine, JobRecord};
use crate::engine::node::{EndStatus, ParallelMode};
use crate::engine::scope::RunScope;
use crate::messages::JobStatus;
use crate::model::Node;

/// The branches of one parallel node while it runs. However it ends — also when a parallel
/// node around it stops the branch it is in — dropping it hands the branches' jobs to the
/// chain around it, branch after branch, the jobs still running recorded as `aborted`.
struct Lanes<'n, 'j, 'c> {
    node: &'n Node,
    lanes: Vec<Lane<'c>>,
    into: &'j mut Vec<JobRecord>,
}

impl Drop for Lanes<'_, '_, '_> {
    fn drop(&mut self) {
        let stopped_at = Utc::now();
        for (name, lane) in self.node.branches.keys().zip(&mut self.lanes) {
            for mut job in lane.jobs.drain(..) {
                if job.status == JobStatus::Pending {
                    job.status = JobStatus::Aborted;
                    job.finished_at = stopped_at;
                    job.result = json!({"error": format!(
                        "stopped: branch \"{name}\" of the parallel node \"{}\" was no longer needed",
                        self.node.key
                    )});
                }
                self.into.push(job);
            }
        }
    }
}

/// One branch's copy of the flow's state.
struct Lane<'c> {
    scope: RunScope<'c>,
    jobs: Vec<JobRecord>,
}

/// Where a branch stands; its name in the parallel node's output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BranchState {
    Running,
    Resolved,
    Failed,
    Error,
}

impl BranchState {
    fn of(end: &ChainEnd) -> Self {
        match end {
            ChainEnd::Completed | ChainEnd::Responded(_) | ChainEnd::Ended(EndStatus::Resolved) => {
                BranchState::Resolved
            }
            ChainEnd::Ended(EndStatus::Failed) => BranchState::Failed,
            ChainEnd::Raised(_) => BranchState::Error,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            // Still running when the node was done: it was stopped.
            BranchState::Running => "aborted",
            BranchState::Resolved => "resolved",
            BranchState::Failed => "failed",
            BranchState::Error => "error",
        }
    }
}

impl Engine {
    /// Runs parallel `node`'s branches at once. Its output names how each branch ended
    /// (`resolved`, `failed`, `error` or `aborted`); the outputs the branches recorded are
    /// merged into `$jobsMapByNodeKey`, and their jobs follow the node's, branch by branch.
    pub(super) async fn run_parallel(
        &self,
        node: &Node,
        mode: ParallelMode,
        scope: &mut RunScope<'_>,
        jobs: &mut Vec<JobRecord>,
    ) -> Container {
        let mut lanes = Lanes {
            node,
            lanes: scope
                .forks(node.branches.len())
                .into_iter()
                .map(|scope| Lane {
                    scope,
                    jobs: Vec::new(),
                })
                .collect(),
            into: jobs,
        };
        let mut states = vec![BranchState::Running; lanes.lanes.len()];
        let mut ended = Vec::new();
        let (status, stop) = {
            let mut running: Vec<Option<BoxFuture<'_, ChainEnd>>> = lanes
                .lanes
                .iter_mut()
                .zip(node.branches.values())
                .map(|(lane, chain)| Some(self.chain(chain, &mut lane.scope, &mut lane.jobs)))
                .collect();
            // Like `join_all`, every branch still running is polled on each wake-up, so each
            // starts before any can decide the node; what ended in one round is weighed in
            // the order of the branch names.
            poll_fn(|cx| {
                for (i, slot) in running.iter_mut().enumerate() {
                    let Some(branch) = slot else { continue };
                    if let Poll::Ready(end) = branch.as_mut().poll(cx) {
                        *slot = None;
                        states[i] = BranchState::of(&end);
                        ended.push(end);
                    }
                }
                for end in ended.drain(..) {
                    // Past the execution's size limit the node fails whatever its mode:
                    // every branch's later nodes would raise too.
                    let mode = if end.failed() && scope.over_held_limit() {
                        ParallelMode::All
                    } else {
                        mode
                    };
                    if let Some(verdict) = decide(mode, &states, end) {
                        return Poll::Ready(verdict);
                    }
                }
                if running.iter().all(Option::is_none) {
                    return Poll::Ready((JobStatus::Resolved, None));
                }
                Poll::Pending
            })
            .await
            // Dropping `running` here stops every branch still running.
        };
        let mut output = Map::new();
        for ((name, lane), state) in node.branches.keys().zip(&mut lanes.lanes).zip(&states) {
            output.insert(name.clone(), Value::from(state.as_str()));
            let keys = lane.jobs.iter().map(|job| job.node_key.as_str());
            scope.merge_outputs(&mut lane.scope, keys);
        }
        // Hands the branches' jobs over, those still running recorded as aborted.
        drop(lanes);
        Container {
            status,
            output: Value::Object(output),
            stop,
        }
    }
}

/// Whether the branch that just ended with `end` decides the node: its job status and how
/// the workflow ends because of it (`None`: it goes on after the node).
fn decide(
    mode: ParallelMode,
    states: &[BranchState],
    end: ChainEnd,
) -> Option<(JobStatus, Option<ChainEnd>)> {
    let all_done = !states.contains(&BranchState::Running);
    if end.failed() {
        return match mode {
            ParallelMode::Any if !all_done => None,
            _ => Some((JobStatus::Failed, Some(end))),
        };
    }
    match end {
        // A response or a resolved end ends the whole workflow, whatever the mode.
        ChainEnd::Responded(_) | ChainEnd::Ended(_) => Some((JobStatus::Resolved, Some(end))),
        _ => match mode {
            ParallelMode::All if !all_done => None,
            _ => Some((JobStatus::Resolved, None)),
        },
    }
}
