//! What every service binary promises on its command line.

use std::process::{Command, Output};

use crate::config::{SETTINGS, Service};

/// Runs the built `binary` of `service` (from `env!("CARGO_BIN_EXE_…")`) and checks its
/// command line: `--help` exits 0 and lists `serve`, `healthcheck`, `subcommands` and every
/// setting of the service with its environment variable, even when the environment holds
/// invalid settings; each subcommand has a `--help`; `--version` names the binary and
/// `version`; an unknown subcommand or an invalid setting exits non-zero with a clear
/// message and no backtrace.
pub fn assert_command_line(binary: &str, service: Service, subcommands: &[&str], version: &str) {
    let run = |args: &[&str], env: &[(&str, &str)]| -> Output {
        Command::new(binary)
            .args(args)
            .env("RUST_BACKTRACE", "1")
            .envs(env.iter().copied())
            .output()
            .expect("the binary runs")
    };
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();

    let help = run(&["--help"], &[("HOOKFLOW_LISTEN", "nowhere")]);
    let shown = text(&help.stdout);
    assert!(help.status.success(), "--help: {help:?}");
    for setting in SETTINGS.iter().filter(|s| s.used_by.contains(&service)) {
        assert!(
            shown.contains(setting.env),
            "--help lacks {}:\n{shown}",
            setting.env
        );
    }
    for command in ["serve", "healthcheck"].iter().chain(subcommands) {
        assert!(shown.contains(command), "--help lacks {command}:\n{shown}");
        let help = run(&[command, "--help"], &[]);
        assert!(help.status.success(), "{command} --help: {help:?}");
    }

    let shown = run(&["--version"], &[]);
    assert!(shown.status.success(), "--version: {shown:?}");
    assert_eq!(
        text(&shown.stdout),
        format!("{} {version}\n", service.binary())
    );

    let unknown = run(&["frobnicate"], &[]);
    let said = text(&unknown.stderr);
    assert!(!unknown.status.success(), "an unknown subcommand fails");
    assert!(
        said.contains("unrecognized subcommand 'frobnicate'"),
        "{said}"
    );
    assert!(!said.to_lowercase().contains("backtrace"), "{said}");

    let invalid = run(
        &["healthcheck"],
        &[("HOOKFLOW_SHUTDOWN_GRACE_SECS", "soon")],
    );
    let said = text(&invalid.stderr);
    assert_eq!(invalid.status.code(), Some(1), "{said}");
    assert!(
        said.contains("HOOKFLOW_SHUTDOWN_GRACE_SECS=\"soon\""),
        "{said}"
    );
    assert!(!said.to_lowercase().contains("backtrace"), "{said}");
}
