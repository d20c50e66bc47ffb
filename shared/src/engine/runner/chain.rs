//! One chain of nodes, run in order; how it ended tells the chain around it what to do.

use chrono::Utc;
use futures_util::future::BoxFuture;
use serde_json::{Value, json};

use super::{Engine, JobRecord};
use crate::engine::{error::NodeError, node::EndStatus, node::Outcome, scope::RunScope};
use crate::messages::{HttpReply, JobStatus};
use crate::model::Node;
use crate::shape::approximate_size;

/// How a chain ended.
#[derive(Debug)]
pub(super) enum ChainEnd {
    /// Its last node ran and the flow goes on after the node that ran the chain.
    Completed,
    /// A response node answered: the workflow ends as resolved.
    Responded(HttpReply),
    /// A node ended the workflow (an `end` node, a rejected condition, an expired delay).
    Ended(EndStatus),
    /// A node raised; the message names it.
    Raised(String),
}

impl ChainEnd {
    /// Whether the chain failed: a node raised or ended the flow as failed. Inside a loop or
    /// a parallel branch that is for the loop's `exit` or the parallel's `mode` to handle,
    /// while a response or a resolved end ends the whole workflow wherever it runs.
    pub(super) fn failed(&self) -> bool {
        matches!(
            self,
            ChainEnd::Ended(EndStatus::Failed) | ChainEnd::Raised(_)
        )
    }
}

/// How a loop or parallel node ended after running its branches.
#[derive(Debug)]
pub(super) struct Container {
    /// Its job's status.
    pub(super) status: JobStatus,
    /// Its output.
    pub(super) output: Value,
    /// How the workflow ends because of a branch; `None`: it goes on after the node.
    pub(super) stop: Option<ChainEnd>,
}

impl Engine {
    /// Runs `nodes` in order, recording a job for each into `jobs`.
    pub(super) fn chain<'s, 'c: 's>(
        &'s self,
        nodes: &'s [Node],
        scope: &'s mut RunScope<'c>,
        jobs: &'s mut Vec<JobRecord>,
    ) -> BoxFuture<'s, ChainEnd> {
        Box::pin(async move {
            for node in nodes {
                scope.tick();
                // Recorded as pending before it runs, so that a branch stopped meanwhile
                // leaves a record of what it was doing.
                let slot = open(jobs, node, scope.iteration());
                let outcome = self.run_node(node, scope).await;
                // A node that settles itself: its job's status and record, the output later
                // nodes see (none when the flow ends with it), and where the flow goes.
                let (status, record, output, then) = match outcome {
                    Ok(Outcome::Continue(output)) => (
                        JobStatus::Resolved,
                        output.clone(),
                        Some(output),
                        Then::Next,
                    ),
                    Ok(Outcome::Recorded { output, record }) => {
                        (JobStatus::Resolved, record, Some(output), Then::Next)
                    }
                    Ok(Outcome::Branch { name, output }) => (
                        JobStatus::Resolved,
                        output.clone(),
                        Some(output),
                        Then::Branch(name),
                    ),
                    Ok(Outcome::Respond(reply)) => (
                        JobStatus::Resolved,
                        serde_json::to_value(&reply).unwrap_or(Value::Null),
                        None,
                        Then::Respond(reply),
                    ),
                    Ok(Outcome::End { status, output }) => {
                        (status.job_status(), output, None, Then::End(status))
                    }
                    Ok(Outcome::Loop(plan)) => {
                        let container = self.run_loop(node, plan, scope, jobs).await;
                        if let Some(end) = contained(node, slot, container, scope, jobs) {
                            return end;
                        }
                        continue;
                    }
                    Ok(Outcome::Parallel(mode)) => {
                        let container = Ok(self.run_parallel(node, mode, scope, jobs).await);
                        if let Some(end) = contained(node, slot, container, scope, jobs) {
                            return end;
                        }
                        continue;
                    }
                    Err(err) => return raised(jobs, slot, node, &err, scope),
                };
                if let Err(err) = hold(jobs, slot, &record, scope) {
                    return raised(jobs, slot, node, &err, scope);
                }
                close(jobs, slot, status, record);
                if let Some(output) = output {
                    scope.record_output(&node.key, output);
                }
                match then {
                    Then::Next => {}
                    Then::Branch(name) => {
                        if let Some(branch) = node.branches.get(name) {
                            match self.chain(branch, scope, jobs).await {
                                ChainEnd::Completed => {}
                                end => return end,
                            }
                        }
                    }
                    Then::Respond(reply) => return ChainEnd::Responded(reply),
                    Then::End(status) => return ChainEnd::Ended(status),
                }
            }
            ChainEnd::Completed
        })
    }
}

/// Where the flow goes after a node.
enum Then {
    /// On with the next node.
    Next,
    /// Into the named branch, then on with the next node.
    Branch(&'static str),
    /// The workflow answers the sync caller and ends.
    Respond(HttpReply),
    /// The workflow ends.
    End(EndStatus),
}

/// Settles the job of the loop or parallel `node` in `slot` once its branches ran as
/// `container` says; `Some` with how the chain ends when it ends with the node.
fn contained(
    node: &Node,
    slot: usize,
    container: Result<Container, NodeError>,
    scope: &mut RunScope<'_>,
    jobs: &mut [JobRecord],
) -> Option<ChainEnd> {
    let Container {
        status,
        output,
        stop,
    } = match container {
        Ok(container) => container,
        Err(err) => return Some(raised(jobs, slot, node, &err, scope)),
    };
    if stop.is_some() {
        // The flow ends because of a branch, which says why.
        scope.charge(held_by(jobs, slot, &output));
    } else if let Err(err) = hold(jobs, slot, &output, scope) {
        return Some(raised(jobs, slot, node, &err, scope));
    }
    close(jobs, slot, status, output.clone());
    if status == JobStatus::Resolved {
        scope.record_output(&node.key, output);
    }
    stop
}

/// Records that `node` started; its job is pending until [`close`]d.
fn open(jobs: &mut Vec<JobRecord>, node: &Node, iteration: &[usize]) -> usize {
    let now = Utc::now();
    jobs.push(JobRecord {
        node_key: node.key.clone(),
        node_type: node.kind.clone(),
        status: JobStatus::Pending,
        result: Value::Null,
        started_at: now,
        finished_at: now,
        iteration: iteration.to_vec(),
    });
    jobs.len() - 1
}

/// Records how the job in `slot` ended.
fn close(jobs: &mut [JobRecord], slot: usize, status: JobStatus, result: Value) {
    if let Some(job) = jobs.get_mut(slot) {
        job.status = status;
        job.result = result;
        job.finished_at = Utc::now();
    }
}

/// What the job in `slot` holds once it ends with `result`: its result as
/// [`approximate_size`] measures it, and the record around it. Counting the record too
/// bounds how many jobs nested loops may pile up, not only how large their results are.
fn held_by(jobs: &[JobRecord], slot: usize, result: &Value) -> usize {
    let record = jobs.get(slot).map_or(0, |job| {
        std::mem::size_of::<JobRecord>()
            + job.node_key.len()
            + job.node_type.len()
            + job.iteration.len() * std::mem::size_of::<usize>()
    });
    record + approximate_size(result)
}

/// Counts what the job in `slot` holds once it ends with `result` toward the execution's
/// limit; past it, the job is for [`raised`] to record.
fn hold(
    jobs: &[JobRecord],
    slot: usize,
    result: &Value,
    scope: &RunScope<'_>,
) -> Result<(), NodeError> {
    scope.hold(held_by(jobs, slot, result))
}

/// Records that `node` raised `err`: its job is `error` with the message, which the chain
/// ends with, naming the node.
fn raised(
    jobs: &mut [JobRecord],
    slot: usize,
    node: &Node,
    err: &NodeError,
    scope: &RunScope<'_>,
) -> ChainEnd {
    let message = err.to_string();
    let result = json!({"error": message});
    // Counted, never refused: the chain ends here, and the next node's check fails.
    scope.charge(held_by(jobs, slot, &result));
    close(jobs, slot, JobStatus::Error, result);
    ChainEnd::Raised(format!("node \"{}\" ({}): {message}", node.key, node.kind))
}
