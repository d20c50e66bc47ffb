//! `executor`: runs workflow executions. `executor healthcheck` probes a running instance.

use shared::{cli::NoOther, config::Service};

fn main() -> std::process::ExitCode {
    shared::cli::main(Service::Executor, hookflow_executor::run, NoOther::run)
}
