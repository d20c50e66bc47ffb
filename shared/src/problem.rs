//! One problem found in a workflow document, named by its path.

/// One problem found in a workflow document.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    pub fn under(self, prefix: &str) -> Self {
        let path = if self.path.is_empty() {
            prefix.to_owned()
        } else if prefix.is_empty() {
            self.path
        } else if self.path.starts_with('[') {
            format!("{prefix}{}", self.path)
        } else {
            format!("{prefix}.{}", self.path)
        };
        Problem { path, ..self }
    }
}
