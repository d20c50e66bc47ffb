//! `ingress --help`, `--version` and refusals on the command line.

#[test]
fn the_command_line_answers_help_and_version() {
    shared::testkit::assert_command_line(
        env!("CARGO_BIN_EXE_ingress"),
        shared::config::Service::Ingress,
        &[],
        env!("CARGO_PKG_VERSION"),
    );
}
