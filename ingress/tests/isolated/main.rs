//! Ingress alone, over an in-process broker and a stub config-api: every status row of
//! docs/webhooks.md that ingress decides by itself, `$context` parsing, sync replies and the
//! trigger cache.

mod command_line;
mod harness;
mod hostile;
#[path = "../common/refusals.rs"]
mod refusals;
mod requests;
mod sync_and_cache;
mod trigger_settings;
