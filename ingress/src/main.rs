//! `ingress`: serves webhook URLs. `ingress healthcheck` probes a running instance.

fn main() -> anyhow::Result<()> {
    shared::cli::main(shared::config::Service::Ingress, hookflow_ingress::run, &[])
}
