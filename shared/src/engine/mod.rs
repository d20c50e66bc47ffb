//! The node engine: runs a workflow version's node graph for one execution and validates
//! workflow documents. It knows neither the broker nor the database: it takes a document,
//! `$context` and execution metadata and yields job records and at most one HTTP reply.
//!
//! Adding a node type is one module in `nodes/` implementing [`NodeType`] plus one line in
//! [`Registry::builtin`].

mod cel_cache;
mod env;
mod error;
mod evaluator;
mod node;
mod nodes;
mod registry;
mod runner;
mod scope;
mod validate;

pub use crate::problem::Problem;
pub use env::Env;
pub use error::NodeError;
pub use evaluator::{EvalLimits, LIMITS_HIT};
pub use node::{
    EndStatus, LoopExit, LoopPlan, LoopTarget, NodeType, Outcome, ParallelMode, ValidationCtx,
};
pub use registry::Registry;
pub use runner::{
    DEFAULT_MAX_EXECUTION_BYTES, DEFAULT_MAX_LOOP_ITERATIONS, Engine, JobRecord, RunResult,
};
pub use scope::{ExecutionMeta, RunScope};
pub use validate::{parse_document, read_document, validate_document};

#[cfg(test)]
mod tests;
