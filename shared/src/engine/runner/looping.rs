//! A loop node's iterations: `branches.body` once per item while the condition holds, with
//! `$scopes.<key>` and the iteration path set for each.

use serde_json::Value;

use super::chain::{ChainEnd, Container};
use super::{Engine, JobRecord};
use crate::engine::error::NodeError;
use crate::engine::node::{LoopExit, LoopPlan};
use crate::engine::nodes::loops::condition_holds;
use crate::engine::scope::RunScope;
use crate::messages::JobStatus;
use crate::model::Node;

impl Engine {
    /// Runs loop `node` as `plan` says. Raises, before any iteration, when the target asks
    /// for more iterations than the limit.
    pub(super) async fn run_loop(
        &self,
        node: &Node,
        plan: LoopPlan,
        scope: &mut RunScope<'_>,
        jobs: &mut Vec<JobRecord>,
    ) -> Result<Container, NodeError> {
        let asked = plan.target.len();
        if asked > u64::from(self.max_loop_iterations) {
            return Err(NodeError::TooManyIterations {
                asked,
                limit: self.max_loop_iterations,
            });
        }
        // Within the limit, a u32, so it fits.
        let length = usize::try_from(asked).unwrap_or(usize::MAX);
        let body = node.branches.get("body").map(Vec::as_slice).unwrap_or(&[]);
        scope.enter_loop();
        let ended = self.iterate(node, &plan, body, length, scope, jobs).await;
        scope.leave_loop(&node.key);
        ended
    }

    async fn iterate(
        &self,
        node: &Node,
        plan: &LoopPlan,
        body: &[Node],
        length: usize,
        scope: &mut RunScope<'_>,
        jobs: &mut Vec<JobRecord>,
    ) -> Result<Container, NodeError> {
        let mut ran: u64 = 0;
        let done = |status, ran: u64, stop| Container {
            status,
            output: Value::from(ran),
            stop,
        };
        for index in 0..length {
            scope.iterate(&node.key, index, plan.target.item(index), length);
            if let Some(condition) = &plan.condition
                && !condition_holds(condition, scope).await?
            {
                break;
            }
            ran += 1;
            let end = self.chain(body, scope, jobs).await;
            // Past the execution's size limit every later node would raise too: the loop
            // fails whatever its `exit` says.
            if end.failed() && scope.over_held_limit() {
                return Ok(done(JobStatus::Failed, ran, Some(end)));
            }
            if end.failed() {
                match plan.exit {
                    LoopExit::Fail => return Ok(done(JobStatus::Failed, ran, Some(end))),
                    LoopExit::Break => break,
                    LoopExit::Continue => continue,
                }
            }
            if !matches!(end, ChainEnd::Completed) {
                return Ok(done(JobStatus::Resolved, ran, Some(end)));
            }
        }
        Ok(done(JobStatus::Resolved, ran, None))
    }
}
