//! The node engine: runs a workflow version's node graph for one execution and validates
//! workflow documents. It knows neither the broker nor the database: it takes a document,
//! `$context` and execution metadata and yields job records and at most one HTTP reply.
//!
//! Adding a node type is one module in `nodes/` implementing [`NodeType`] plus one line in
//! [`Registry::builtin`].

mod cel_cache;
mod node;
mod nodes;
mod registry;
mod runner;
mod scope;
mod validate;

pub use node::{EndStatus, NodeError, NodeType, Outcome, ValidationCtx};
pub use registry::Registry;
pub use runner::{Engine, ExecutionMeta, JobRecord, RunResult};
pub use scope::RunScope;
pub use validate::validate_document;

/// One problem found in a workflow document.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    /// Where: e.g. `nodes[0].branches.true[1].config.expression`.
    pub path: String,
    /// What is wrong, one human sentence.
    pub message: String,
}

impl Problem {
    /// A problem at `path`.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Problem {
            path: path.into(),
            message: message.into(),
        }
    }

    /// The same problem with its path placed under `prefix` (a node's own problems are
    /// reported relative to the node).
    pub(crate) fn under(self, prefix: &str) -> Self {
        let path = if self.path.is_empty() {
            prefix.to_owned()
        } else if self.path.starts_with('[') {
            format!("{prefix}{}", self.path)
        } else {
            format!("{prefix}.{}", self.path)
        };
        Problem { path, ..self }
    }
}

#[cfg(test)]
mod tests;
