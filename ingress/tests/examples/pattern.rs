//! The answers the examples show: JSON in which `...` stands for what the reader need not
//! see. `"..."` matches any value; `...` as the last member of an object or the last item of
//! an array means "and more"; anything else must be equal (numbers by value).

use serde_json::Value;

/// A shown answer body, to compare with the real one.
#[derive(Debug, Clone, PartialEq)]
pub enum Pattern {
    /// `"..."`: any value.
    Any,
    /// A JSON scalar, equal to the real one.
    Exact(Value),
    /// An array: these items first; `open` when `...` ends it (more may follow).
    Array { items: Vec<Pattern>, open: bool },
    /// An object: these members; `open` when `...` ends it (others may be present).
    Object {
        members: Vec<(String, Pattern)>,
        open: bool,
    },
}

impl Pattern {
    /// Parses a pattern from the start of `text`; returns it and what follows it.
    pub fn parse(text: &str) -> Result<(Pattern, &str), String> {
        let mut parser = Parser { text, at: 0 };
        let pattern = parser.value()?;
        Ok((pattern, &text[parser.at..]))
    }

    /// Replaces `<name>` placeholders inside strings with what `fill` gives for them.
    pub fn fill(&mut self, fill: &impl Fn(&str) -> String) {
        match self {
            Pattern::Exact(Value::String(text)) => *text = fill(text),
            Pattern::Array { items, .. } => items.iter_mut().for_each(|item| item.fill(fill)),
            Pattern::Object { members, .. } => {
                members.iter_mut().for_each(|(_, member)| member.fill(fill));
            }
            Pattern::Any | Pattern::Exact(_) => {}
        }
    }

    /// Where `actual` differs from the pattern (a path and what differs), if anywhere.
    pub fn mismatch(&self, actual: &Value) -> Option<String> {
        self.mismatch_at("$", actual)
    }

    /// How the pattern reads, for messages.
    fn shape(&self) -> String {
        match self {
            Pattern::Any => "\"...\"".into(),
            Pattern::Exact(value) => value.to_string(),
            Pattern::Array { .. } => "a list".into(),
            Pattern::Object { .. } => "an object".into(),
        }
    }

    fn mismatch_at(&self, path: &str, actual: &Value) -> Option<String> {
        match (self, actual) {
            (Pattern::Any, _) => None,
            (Pattern::Exact(expected), actual) if same(expected, actual) => None,
            (Pattern::Array { items, open }, Value::Array(actual)) => {
                let count_ok = if *open {
                    actual.len() >= items.len()
                } else {
                    actual.len() == items.len()
                };
                if !count_ok {
                    return Some(format!(
                        "{path}: {} items shown, {} present",
                        items.len(),
                        actual.len()
                    ));
                }
                items
                    .iter()
                    .zip(actual)
                    .enumerate()
                    .find_map(|(i, (item, actual))| {
                        item.mismatch_at(&format!("{path}[{i}]"), actual)
                    })
            }
            (Pattern::Object { members, open }, Value::Object(actual)) => {
                for (name, member) in members {
                    let at = format!("{path}.{name}");
                    match actual.get(name) {
                        Some(value) => {
                            if let Some(found) = member.mismatch_at(&at, value) {
                                return Some(found);
                            }
                        }
                        None => return Some(format!("{at}: missing")),
                    }
                }
                if !open && actual.len() > members.len() {
                    let extra: Vec<&String> = actual
                        .keys()
                        .filter(|key| !members.iter().any(|(name, _)| name == *key))
                        .collect();
                    return Some(format!("{path}: members not shown: {extra:?}"));
                }
                None
            }
            (expected, actual) => Some(format!("{path}: shown {}, got {actual}", expected.shape())),
        }
    }
}

/// JSON equality, numbers compared by value (`1` and `1.0` are the same).
fn same(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        _ => expected == actual,
    }
}

struct Parser<'a> {
    text: &'a str,
    at: usize,
}

impl Parser<'_> {
    fn rest(&self) -> &str {
        &self.text[self.at..]
    }

    fn skip_space(&mut self) {
        let rest = self.rest();
        self.at += rest.len() - rest.trim_start().len();
    }

    fn eat(&mut self, token: &str) -> bool {
        self.skip_space();
        if self.rest().starts_with(token) {
            self.at += token.len();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, token: &str) -> Result<(), String> {
        if self.eat(token) {
            Ok(())
        } else {
            Err(format!("expected `{token}` at `{}`", self.rest()))
        }
    }

    fn value(&mut self) -> Result<Pattern, String> {
        self.skip_space();
        if self.eat("{") {
            return self.object();
        }
        if self.eat("[") {
            return self.array();
        }
        if self.rest().starts_with('"') {
            let text = self.string()?;
            return Ok(if text == "..." {
                Pattern::Any
            } else {
                Pattern::Exact(Value::String(text))
            });
        }
        // A scalar: let serde_json read the longest prefix that is one.
        let rest = self.rest();
        let end = rest
            .find(|c: char| c == ',' || c == '}' || c == ']' || c.is_whitespace())
            .unwrap_or(rest.len());
        let value: Value = serde_json::from_str(&rest[..end])
            .map_err(|err| format!("not a JSON value at `{rest}`: {err}"))?;
        self.at += end;
        Ok(Pattern::Exact(value))
    }

    fn string(&mut self) -> Result<String, String> {
        let rest = self.rest();
        let mut escaped = false;
        for (i, c) in rest.char_indices().skip(1) {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => {
                    let text = serde_json::from_str(&rest[..=i]).map_err(|err| err.to_string())?;
                    self.at += i + 1;
                    return Ok(text);
                }
                _ => {}
            }
        }
        Err(format!("unterminated string at `{rest}`"))
    }

    fn object(&mut self) -> Result<Pattern, String> {
        let mut members = Vec::new();
        loop {
            if self.eat("}") {
                return Ok(Pattern::Object {
                    members,
                    open: false,
                });
            }
            if self.eat("...") {
                self.expect("}")?;
                return Ok(Pattern::Object {
                    members,
                    open: true,
                });
            }
            self.skip_space();
            let name = self.string()?;
            self.expect(":")?;
            members.push((name, self.value()?));
            if !self.eat(",") {
                self.expect("}")?;
                return Ok(Pattern::Object {
                    members,
                    open: false,
                });
            }
        }
    }

    fn array(&mut self) -> Result<Pattern, String> {
        let mut items = Vec::new();
        loop {
            if self.eat("]") {
                return Ok(Pattern::Array { items, open: false });
            }
            if self.eat("...") {
                self.expect("]")?;
                return Ok(Pattern::Array { items, open: true });
            }
            items.push(self.value()?);
            if !self.eat(",") {
                self.expect("]")?;
                return Ok(Pattern::Array { items, open: false });
            }
        }
    }
}

#[test]
fn dots_stand_for_any_value_and_for_more_members() {
    let (pattern, rest) =
        Pattern::parse(r#"{"id": "...", "n": 1, "items": [{"a": true, ...}, ...], ...} (comment)"#)
            .expect("pattern");
    assert_eq!(rest.trim(), "(comment)");
    let fits =
        serde_json::json!({"id": "x", "n": 1.0, "items": [{"a": true, "b": 2}, 3], "more": 1});
    assert_eq!(pattern.mismatch(&fits), None);
    let wrong = serde_json::json!({"id": "x", "n": 2, "items": [{"a": true}]});
    assert!(pattern.mismatch(&wrong).expect("differs").contains("$.n"));
    let (closed, _) = Pattern::parse(r#"{"a": [1]}"#).expect("pattern");
    assert!(
        closed
            .mismatch(&serde_json::json!({"a": [1], "b": 2}))
            .is_some()
    );
    assert!(closed.mismatch(&serde_json::json!({"a": [1, 2]})).is_some());
}
