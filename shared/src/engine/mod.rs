//! The node engine. Placeholder signatures; being written.

use crate::model::WorkflowDocument;

/// One problem found in a workflow document.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    /// Where: e.g. `nodes[0].branches.true[1].config.expression`.
    pub path: String,
    /// What is wrong, one human sentence.
    pub message: String,
}

/// Every problem of a document (empty when it is valid).
pub fn validate_document(doc: &WorkflowDocument) -> Vec<Problem> {
    let _ = doc;
    Vec::new()
}
