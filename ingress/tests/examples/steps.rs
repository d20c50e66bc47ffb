//! Finding the examples in the documentation: every ```sh block that runs `curl` is a list
//! of steps, each some shell lines followed by the answer they get, written
//! `# → <status> [<body>]`.

use crate::pattern::Pattern;

/// What a step's last `curl` must be answered.
#[derive(Debug, Clone)]
pub struct Expected {
    /// The status code.
    pub status: u16,
    /// The body, when one is shown.
    pub body: Option<Body>,
}

/// A shown body.
#[derive(Debug, Clone)]
pub enum Body {
    /// JSON, with `...` for what is not shown; text after it is commentary.
    Json(Pattern),
    /// Anything else, compared as trimmed text.
    Text(String),
}

/// Shell lines and the answer shown after them.
#[derive(Debug, Clone)]
pub struct Step {
    /// `file:line` of the answer line.
    pub at: String,
    /// The shell lines (comments included; bash skips them).
    pub script: String,
    /// What the answer must be.
    pub expected: Expected,
}

/// The marker of a shown answer.
const ANSWER: &str = "# →";

/// The steps of every example in `markdown` (named `file` in messages).
pub fn steps(file: &str, markdown: &str) -> Result<Vec<Step>, String> {
    let mut steps = Vec::new();
    let mut in_block = false;
    let mut is_shell = false;
    let mut script = String::new();
    for (index, line) in markdown.lines().enumerate() {
        let at = format!("{file}:{}", index + 1);
        let fence = line.trim_start();
        if fence.starts_with("```") {
            if in_block && is_shell && script.contains("curl ") {
                return Err(format!(
                    "{at}: the block ends with a curl whose answer is not shown (`{ANSWER} <status> <body>`)"
                ));
            }
            in_block = !in_block;
            is_shell = in_block && matches!(fence.trim_start_matches('`').trim(), "sh" | "bash");
            script.clear();
            continue;
        }
        if !(in_block && is_shell) {
            continue;
        }
        match fence.strip_prefix(ANSWER) {
            Some(answer) => {
                let expected = expected(answer).map_err(|err| format!("{at}: {err}"))?;
                if !script.contains("curl ") {
                    return Err(format!("{at}: an answer shown without a curl before it"));
                }
                steps.push(Step {
                    at,
                    script: std::mem::take(&mut script),
                    expected,
                });
            }
            None => {
                script.push_str(line);
                script.push('\n');
            }
        }
    }
    Ok(steps)
}

/// Reads `<status> [<body>]`.
fn expected(answer: &str) -> Result<Expected, String> {
    let answer = answer.trim();
    let (status, body) = answer.split_once(' ').unwrap_or((answer, ""));
    let status = status
        .parse()
        .map_err(|_| format!("`{status}` is not a status code"))?;
    let body = body.trim();
    let body = if body.is_empty() {
        None
    } else if body.starts_with(['{', '[', '"']) {
        let (pattern, _commentary) = Pattern::parse(body)?;
        Some(Body::Json(pattern))
    } else {
        Some(Body::Text(body.to_owned()))
    };
    Ok(Expected { status, body })
}

#[test]
fn steps_end_at_each_shown_answer() {
    let markdown = "text\n```sh\nA=1\ncurl -s x \\\n  -d y\n# → 201 {\"a\": 1, ...}\ncurl z\n# → 200 ok\n```\n```json\n{}\n```\n";
    let steps = steps("doc.md", markdown).expect("steps");
    assert_eq!(steps.len(), 2);
    assert_eq!(steps[0].script, "A=1\ncurl -s x \\\n  -d y\n");
    assert_eq!(steps[0].expected.status, 201);
    assert_eq!(steps[1].at, "doc.md:8");
    assert!(matches!(&steps[1].expected.body, Some(Body::Text(text)) if text == "ok"));
    assert!(super::steps::steps("doc.md", "```sh\ncurl x\n```\n").is_err());
}
