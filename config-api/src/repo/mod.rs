//! SQL access to the tables of `config-api/migrations`.

pub mod executions;
pub mod replays;
pub mod variables;
pub mod workflows;
