//! What the Hookflow services share: the workflow model, wire messages, request parsing,
//! templates, the node engine, and broker and telemetry plumbing; with the `postgres`
//! feature also the database pool and the execution store.

pub mod broker;
pub mod cli;
pub mod condition;
pub mod config;
#[cfg(feature = "postgres")]
pub mod db;
pub mod engine;
pub mod expr;
pub mod fields;
#[cfg(any(test, feature = "testkit"))]
pub mod fixtures;
pub mod header_name;
pub mod health;
pub mod messages;
pub mod model;
pub mod outbound;
pub mod paths;
pub mod problem;
pub mod qs;
pub mod retry;
#[cfg(feature = "postgres")]
pub mod sealing;
pub mod secret;
pub mod shape;
pub mod shutdown;
#[cfg(feature = "postgres")]
pub mod store;
pub mod telemetry;
pub mod template;
#[cfg(feature = "testkit")]
pub mod testkit;
pub mod trigger_settings;
