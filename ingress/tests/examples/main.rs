//! Every example in `README.md` and `docs/*.md`, run against the real services (config-api,
//! executor and ingress in-process, on PostgreSQL and RabbitMQ) with the real `curl`, and
//! checked against the answer the documentation shows. A documented example that stops
//! being true fails here.
//!
//! How examples are written (docs/README.md says the same to authors): a ```sh block of
//! curl commands, each followed by `# → <status> [<body>]`. The commands use the ports of
//! `docker compose up` (`localhost:13000` ingress, `13001` config-api, `13002` executor) and
//! `$TOKEN` / `$INTERNAL_TOKEN`; `<key>` and `<id>` stand for the last created workflow's, `<execution-id>` for the
//! last `X-Hookflow-Execution-Id` answered (`<previous-execution-id>` for the one before). In a shown body `"..."` is any value and a final
//! `...` in an object or array means "and more". An answer that waits for something
//! asynchronous (an execution being recorded, a change reaching ingress) is asked again until
//! it matches, for at most [`POLL`], when asking again changes nothing: a request without a
//! body or method, or one shown answered 404.

#[path = "../common/mod.rs"]
mod common;
mod links;
mod pattern;
mod steps;

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    process::Command,
    time::{Duration, Instant},
};

use common::Stack;
use serde_json::Value;
use shared::{config::Service, testkit::TestEnv};
use steps::{Body, Step};

/// The admin token the examples show (`HOOKFLOW_ADMIN_TOKEN` of docker-compose.yml).
const SHOWN_TOKEN: &str = "dev-admin-token";
/// The internal token (`HOOKFLOW_INTERNAL_TOKEN` of docker-compose.yml).
const SHOWN_INTERNAL_TOKEN: &str = "dev-internal-token";
/// The webhook base URL the examples show (config-api's default `HOOKFLOW_PUBLIC_URL`).
const SHOWN_PUBLIC_URL: &str = "http://localhost:13000";
/// How long an answer that depends on asynchronous work is waited for.
const POLL: Duration = Duration::from_secs(10);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_example_answers_as_shown() {
    let curl = Command::new("curl").arg("--version").output();
    assert!(
        curl.is_ok_and(|out| out.status.success()),
        "the documentation examples run with curl; install it (apt-get install curl)"
    );
    let stack = Stack::start_in(TestEnv::new().await, |service, config| {
        if service != Service::Ingress {
            config.admin_token = Some(SHOWN_TOKEN.into());
        }
        config.internal_token = Some(SHOWN_INTERNAL_TOKEN.into());
        config.public_url = SHOWN_PUBLIC_URL.parse().expect("url");
    })
    .await;
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root");
    let mut failures = Vec::new();
    let mut ran = 0;
    for file in documents(root) {
        let name = file
            .strip_prefix(root)
            .unwrap_or(&file)
            .display()
            .to_string();
        let markdown = std::fs::read_to_string(&file).expect("readable documentation");
        let steps = match steps::steps(&name, &markdown) {
            Ok(steps) => steps,
            Err(err) => {
                failures.push(err);
                continue;
            }
        };
        // `<key>`, `<id>`, `<execution-id>`: from this file's earlier answers only.
        let mut names = BTreeMap::new();
        for step in &steps {
            ran += 1;
            if let Err(err) = run(&stack, step, &mut names).await {
                failures.push(err);
            }
        }
    }
    stack.stop().await.expect("stack stops");
    assert!(ran > 0, "no examples found under {}", root.display());
    assert!(
        failures.is_empty(),
        "{} of {ran} documented examples do not answer as shown:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// `README.md` and every `docs/*.md`.
fn documents(root: &Path) -> Vec<PathBuf> {
    let mut files = vec![root.join("README.md")];
    let mut pages: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .map(|dir| {
            dir.filter_map(Result::ok)
                .map(|entry| entry.path())
                .filter(|path| path.extension().is_some_and(|ext| ext == "md"))
                .collect()
        })
        .unwrap_or_default();
    pages.sort();
    files.extend(pages);
    files
}

/// What curl got.
struct Answer {
    status: u16,
    headers: BTreeMap<String, String>,
    body: String,
}

async fn run(
    stack: &Stack,
    step: &Step,
    names: &mut BTreeMap<&'static str, String>,
) -> Result<(), String> {
    let script = script_for(stack, step, names)?;
    let deadline = Instant::now() + POLL;
    loop {
        let script = script.clone();
        let answer = tokio::task::spawn_blocking(move || curl(&script))
            .await
            .expect("curl thread")
            .map_err(|err| format!("{}: {err}\n{}", step.at, step.script))?;
        // A shown answer may name what it gives itself (`"webhookUrl": ".../<key>"`).
        let mut known = names.clone();
        if let Some(previous) = known.get("execution-id").cloned() {
            known.insert("previous-execution-id", previous);
        }
        known.extend(captures(&answer));
        let mut expected = step.expected.clone();
        if let Some(Body::Json(pattern)) = &mut expected.body {
            pattern.fill(&|text| fill(text, &known));
        }
        match mismatch(&expected, &answer) {
            None => {
                *names = known;
                return Ok(());
            }
            Some(_) if repeatable(step) && Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Some(why) => {
                return Err(format!(
                    "{}: {why}\n--- the example:\n{}--- the answer: {} {}",
                    step.at, step.script, answer.status, answer.body
                ));
            }
        }
    }
}

/// The names an answer gives: a workflow's `<id>` and `<key>`, an `<execution-id>`.
fn captures(answer: &Answer) -> Vec<(&'static str, String)> {
    let mut found = Vec::new();
    if let Ok(Value::Object(body)) = serde_json::from_str::<Value>(&answer.body)
        && let (Some(Value::String(id)), Some(Value::String(key))) =
            (body.get("id"), body.get("key"))
    {
        found.push(("id", id.clone()));
        found.push(("key", key.clone()));
    }
    if let Some(id) = answer.headers.get("x-hookflow-execution-id") {
        found.push(("execution-id", id.clone()));
    }
    found
}

/// The step's shell lines pointed at this stack, placeholders filled in.
fn script_for(
    stack: &Stack,
    step: &Step,
    names: &BTreeMap<&'static str, String>,
) -> Result<String, String> {
    let mut script = step.script.clone();
    for (port, service) in [
        ("13000", &stack.ingress),
        ("13001", &stack.config_api),
        ("13002", &stack.executor),
    ] {
        let address = service.addr.to_string();
        script = script.replace(&format!("localhost:{port}"), &address);
    }
    let script = fill(&script, names);
    for placeholder in ["<key>", "<id>", "<execution-id>", "<previous-execution-id>"] {
        if script.contains(placeholder) {
            return Err(format!(
                "{}: no earlier answer in this file gives {placeholder}",
                step.at
            ));
        }
    }
    Ok(script)
}

fn fill(text: &str, names: &BTreeMap<&'static str, String>) -> String {
    names.iter().fold(text.to_owned(), |text, (name, value)| {
        text.replace(&format!("<{name}>"), value)
    })
}

/// Whether asking again changes nothing: no body, no method, or shown answered 404.
fn repeatable(step: &Step) -> bool {
    let changes = ["-X ", "--request", "-d ", "--data"]
        .iter()
        .any(|flag| step.script.contains(flag));
    !changes || step.expected.status == 404
}

fn mismatch(expected: &steps::Expected, answer: &Answer) -> Option<String> {
    if answer.status != expected.status {
        return Some(format!(
            "answered {}, the documentation shows {}",
            answer.status, expected.status
        ));
    }
    match &expected.body {
        None => None,
        Some(Body::Text(text)) => (answer.body.trim() != text)
            .then(|| format!("the body is not the text shown (`{text}`)")),
        Some(Body::Json(pattern)) => match serde_json::from_str::<Value>(&answer.body) {
            Ok(body) => pattern.mismatch(&body),
            Err(_) => Some("the body is not JSON".into()),
        },
    }
}

/// Runs `script` with bash, `curl` wrapped so that its last call's status, headers and body
/// are kept (`-i` and `-s` are dropped: the wrapper keeps the headers apart and is silent).
fn curl(script: &str) -> Result<Answer, String> {
    let out = std::env::temp_dir().join(format!("hookflow-example-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&out).map_err(|err| err.to_string())?;
    let wrapper = r#"
curl() {
    local args=()
    for arg in "$@"; do
        case "$arg" in -i | -s | -si | -is | -sS) ;; *) args+=("$arg") ;; esac
    done
    command curl -sS --max-time 30 -o "$OUT/body" -D "$OUT/headers" -w '%{http_code}' "${args[@]}" >"$OUT/status"
}
set -eo pipefail
"#;
    let run = Command::new("bash")
        .arg("-c")
        .arg(format!("{wrapper}{script}"))
        .env("OUT", &out)
        .env("TOKEN", SHOWN_TOKEN)
        .env("INTERNAL_TOKEN", SHOWN_INTERNAL_TOKEN)
        .output()
        .map_err(|err| format!("cannot run bash: {err}"))?;
    let read = |name: &str| std::fs::read_to_string(out.join(name)).unwrap_or_default();
    let answer = Answer {
        status: read("status").trim().parse().unwrap_or(0),
        headers: headers(&read("headers")),
        body: read("body"),
    };
    let _ = std::fs::remove_dir_all(&out);
    if !run.status.success() {
        return Err(format!(
            "the example's shell lines failed ({}): {}",
            run.status,
            String::from_utf8_lossy(&run.stderr)
        ));
    }
    Ok(answer)
}

/// The headers of the final response (curl writes one block per response it read).
fn headers(dump: &str) -> BTreeMap<String, String> {
    let last = dump
        .split("\r\n\r\n")
        .filter(|block| !block.trim().is_empty())
        .last()
        .unwrap_or_default();
    last.lines()
        .skip(1)
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect()
}
