//! Observability across the stack (docs/observability.md): the spans of one webhook call reach an OTLP
//! collector as one trace, and `/metrics` shows the named series after traffic.
//!
//! A test binary of its own: the global tracing subscriber can be installed only once per
//! process, and the services here all run in this one.

#[path = "../common/mod.rs"]
mod common;

mod metrics;
mod receiver;
mod traces;
