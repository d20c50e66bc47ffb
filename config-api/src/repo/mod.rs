//! SQL access to the tables of `config-api/migrations`.

pub mod executions;
pub mod workflows;
