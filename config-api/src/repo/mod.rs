//! SQL access to the tables of `shared/migrations`.

pub mod executions;
pub mod workflows;
