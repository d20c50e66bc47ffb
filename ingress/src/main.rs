//! `ingress`: serves webhook URLs. `ingress healthcheck` probes a running instance.

use shared::{cli::NoOther, config::Service};

/// mimalloc rather than the system allocator: the services allocate many small, short-lived
/// values per request (parsed bodies, messages, frames), which it serves with less work.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    shared::cli::main(Service::Ingress, hookflow_ingress::run, NoOther::run)
}
