//! Why a node raised.

/// Why a node raised: its job ends as `error`, and so does the execution.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// The document names a type this engine does not know.
    #[error("unknown node type \"{0}\"")]
    UnknownType(String),
    /// A setting is missing or has the wrong shape (after rendering templates).
    #[error("invalid config: {0}")]
    Config(String),
    /// A CEL expression failed to compile or to evaluate.
    #[error("expression failed: {0}")]
    Expression(String),
    /// A basic calculation could not be evaluated.
    #[error("condition failed: {0}")]
    Condition(String),
    /// A loop's target asks for more iterations than `HOOKFLOW_MAX_LOOP_ITERATIONS`.
    #[error(
        "the loop target asks for {asked} iterations; a loop runs at most {limit} (HOOKFLOW_MAX_LOOP_ITERATIONS)"
    )]
    TooManyIterations {
        /// Iterations the target asks for.
        asked: u64,
        /// The limit.
        limit: u32,
    },
}
