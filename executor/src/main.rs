//! `executor`: runs workflow executions. `executor healthcheck` probes a running instance.

fn main() -> anyhow::Result<()> {
    shared::cli::main(
        shared::config::Service::Executor,
        hookflow_executor::run,
        &[],
    )
}
