//! Secrets at rest: sealed and opened with `shared::sealing` (the executor opens secret
//! variables with the same keys).

pub use shared::sealing::{OpenError, Secrets};
