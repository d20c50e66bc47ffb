//! `ingress`: serves webhook URLs. `ingress healthcheck` probes a running instance.

use shared::{cli::NoOther, config::Service};

fn main() -> std::process::ExitCode {
    shared::cli::main(Service::Ingress, hookflow_ingress::run, NoOther::run)
}
