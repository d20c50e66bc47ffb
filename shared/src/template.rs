//! `{{path}}` templates in node configs (docs/workflows.md "Templates").
//!
//! The scope is one JSON object whose keys are the roots (`$context`, `$jobsMapByNodeKey`,
//! `$system`, `$execution`, `$workflow`), or anything else that looks a path up like
//! [`paths::get`] on such an object ([`Scope`]). A string that is exactly one placeholder yields the typed value; otherwise
//! values are written into the text. `{{path:default}}` supplies a default for a missing or null
//! value: JSON when the text parses as JSON (`0`, `true`, `"a"`), else the text itself. A path
//! cannot contain `:`, and a default cannot contain `}}`.
//!
//! A `}}` outside any placeholder is ordinary text, so a JSON document held in a string
//! (`"{\"a\":{\"b\":1}}"`) needs no escaping. Extra opening braces before a placeholder are text
//! too: `{{{a}}}` is `{`, the value of `a`, `}`.

use std::fmt::Write as _;

use serde_json::Value;

use crate::paths::{self, PathError};

/// Why a template does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// A `{{` without its `}}`.
    #[error("placeholder `{placeholder}` is not closed with `}}}}`")]
    Unclosed {
        /// The text from the `{{` on.
        placeholder: String,
    },
    /// `{{}}` or `{{ :default }}`.
    #[error("placeholder `{placeholder}` names no variable")]
    Empty {
        /// The whole placeholder.
        placeholder: String,
    },
    /// The path inside the braces does not parse.
    #[error("placeholder `{placeholder}` has an invalid path: {source}")]
    InvalidPath {
        /// The whole placeholder.
        placeholder: String,
        /// What is wrong with the path.
        source: PathError,
    },
}

/// Where placeholders look their paths up: a JSON object keyed by the roots, or roots kept
/// apart (the engine shares one `$context` between the branches of a parallel node).
pub trait Scope {
    /// The value at `path` (`$context.body.id`), or `None` when it is missing or the path
    /// does not parse.
    fn lookup(&self, path: &str) -> Option<&Value>;
}

impl Scope for Value {
    fn lookup(&self, path: &str) -> Option<&Value> {
        paths::get(self, path)
    }
}

/// A rendered string would have been larger than the limit (in bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("exceeded the {} value limit", crate::expr::size_text(*.0))]
pub struct TooLarge(pub usize);

/// The text of a string being rendered, refusing to grow past `max` bytes.
struct Limited {
    out: String,
    max: usize,
}

impl std::fmt::Write for Limited {
    fn write_str(&mut self, text: &str) -> std::fmt::Result {
        if self.out.len().saturating_add(text.len()) > self.max {
            return Err(std::fmt::Error);
        }
        self.out.push_str(text);
        Ok(())
    }
}

/// One `{{...}}` found in a template.
struct Placeholder<'a> {
    /// `{{` to `}}` inclusive.
    raw: &'a str,
    path: &'a str,
    default: Option<&'a str>,
}

enum Part<'a> {
    Text(&'a str),
    Placeholder(Placeholder<'a>),
    /// A `{{` that no `}}` closes, before the next `{{`; its text is kept as is.
    Unclosed(&'a str),
}

/// Splits a template into text and placeholders in one pass, without allocating.
struct Parts<'a> {
    template: &'a str,
    pos: usize,
}

impl<'a> Iterator for Parts<'a> {
    type Item = Part<'a>;

    fn next(&mut self) -> Option<Part<'a>> {
        let rest = &self.template[self.pos..];
        if rest.is_empty() {
            return None;
        }
        let Some(mut open) = rest.find("{{") else {
            self.pos = self.template.len();
            return Some(Part::Text(rest));
        };
        while rest[open + 2..].starts_with('{') {
            open += 1;
        }
        if open > 0 {
            self.pos += open;
            return Some(Part::Text(&rest[..open]));
        }
        let body = &rest[2..];
        let close = body.find("}}");
        let reopened = body[..close.unwrap_or(body.len())].find("{{");
        match (close, reopened) {
            (Some(close), None) => {
                let raw = &rest[..close + 4];
                self.pos += raw.len();
                let inner = body[..close].trim();
                let (path, default) = match inner.split_once(':') {
                    Some((path, default)) => (path.trim(), Some(default.trim())),
                    None => (inner, None),
                };
                Some(Part::Placeholder(Placeholder { raw, path, default }))
            }
            (_, reopened) => {
                // Keep the `{{` as text and look for a placeholder after it.
                let end = reopened.map_or(rest.len(), |next| next + 2);
                self.pos += end;
                Some(Part::Unclosed(&rest[..end]))
            }
        }
    }
}

fn parts(template: &str) -> Parts<'_> {
    Parts { template, pos: 0 }
}

impl Placeholder<'_> {
    fn resolve<'s>(&self, scope: &'s impl Scope) -> Resolved<'s> {
        match scope.lookup(self.path) {
            Some(value) if !value.is_null() => Resolved::Found(value),
            _ => match self.default {
                Some(default) => Resolved::Default(
                    serde_json::from_str(default)
                        .unwrap_or_else(|_| Value::String(default.to_owned())),
                ),
                None => Resolved::Missing,
            },
        }
    }

    fn check(&self) -> Result<(), TemplateError> {
        if self.path.is_empty() {
            return Err(TemplateError::Empty {
                placeholder: self.raw.to_owned(),
            });
        }
        paths::parse_path(self.path)
            .map(drop)
            .map_err(|source| TemplateError::InvalidPath {
                placeholder: self.raw.to_owned(),
                source,
            })
    }
}

enum Resolved<'s> {
    Found(&'s Value),
    Default(Value),
    Missing,
}

impl Resolved<'_> {
    fn into_value(self) -> Value {
        match self {
            Resolved::Found(value) => value.clone(),
            Resolved::Default(value) => value,
            Resolved::Missing => Value::Null,
        }
    }

    /// Writes the value in; fails only when `out` would pass its limit (compound values
    /// are written as compact JSON, and stop being written there).
    fn write_into(&self, out: &mut Limited) -> std::fmt::Result {
        let value = match self {
            Resolved::Found(value) => *value,
            Resolved::Default(value) => value,
            Resolved::Missing => return Ok(()),
        };
        match value {
            Value::String(text) => out.write_str(text),
            Value::Null => Ok(()),
            other => write!(out, "{other}"),
        }
    }
}

/// Renders one string. Exactly one placeholder yields the typed value (`null` when missing);
/// otherwise the result is a string with each placeholder written in (strings raw, `null` and
/// missing as nothing, numbers and booleans as text, objects and arrays as compact JSON). Rendering
/// never fails: a path that does not parse counts as missing and an unclosed `{{` stays text
/// ([`check`] reports both when the workflow is saved).
pub fn render_str(template: &str, scope: &impl Scope) -> Value {
    render_str_within(template, scope, usize::MAX).unwrap_or(Value::Null)
}

/// Renders `template` like [`render_str`], failing when the string it writes would be
/// larger than `max` bytes (a single placeholder's typed value is not written, so it
/// counts for nothing).
pub fn render_str_within(
    template: &str,
    scope: &impl Scope,
    max: usize,
) -> Result<Value, TooLarge> {
    if !template.contains("{{") {
        return Ok(Value::String(template.to_owned()));
    }
    if let Some(Part::Placeholder(placeholder)) = parts(template).next()
        && placeholder.raw.len() == template.len()
    {
        return Ok(placeholder.resolve(scope).into_value());
    }
    let mut out = Limited {
        out: String::with_capacity(template.len().min(max)),
        max,
    };
    for part in parts(template) {
        match part {
            Part::Text(text) | Part::Unclosed(text) => out.write_str(text),
            Part::Placeholder(placeholder) => placeholder.resolve(scope).write_into(&mut out),
        }
        .map_err(|_| TooLarge(max))?;
    }
    Ok(Value::String(out.out))
}

/// Renders every string inside `value` (object values and array items, at any depth); object
/// keys are left as they are.
pub fn render_value(value: &Value, scope: &impl Scope) -> Value {
    render_value_within(value, scope, usize::MAX).unwrap_or(Value::Null)
}

/// Renders `value` like [`render_value`], failing when a string it writes would be larger
/// than `max` bytes.
pub fn render_value_within(
    value: &Value,
    scope: &impl Scope,
    max: usize,
) -> Result<Value, TooLarge> {
    Ok(match value {
        Value::String(text) => render_str_within(text, scope, max)?,
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| render_value_within(v, scope, max))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(key, v)| Ok((key.clone(), render_value_within(v, scope, max)?)))
                .collect::<Result<_, _>>()?,
        ),
        other => other.clone(),
    })
}

/// Checks that every placeholder in `template` is closed, names a variable and has a path that
/// parses; the first problem is returned.
pub fn check(template: &str) -> Result<(), TemplateError> {
    for part in parts(template) {
        match part {
            Part::Text(_) => {}
            Part::Unclosed(text) => {
                return Err(TemplateError::Unclosed {
                    placeholder: text.to_owned(),
                });
            }
            Part::Placeholder(placeholder) => placeholder.check()?,
        }
    }
    Ok(())
}

/// Checks every string inside `value`; each problem comes with where it is, written like a path
/// (`body.items[0]`; the empty string for `value` itself).
pub fn check_value(value: &Value) -> Vec<(String, TemplateError)> {
    let mut problems = Vec::new();
    check_at(value, &mut String::new(), &mut problems);
    problems
}

fn check_at(value: &Value, location: &mut String, problems: &mut Vec<(String, TemplateError)>) {
    let base_len = location.len();
    match value {
        Value::String(text) => {
            if let Err(error) = check(text) {
                problems.push((location.clone(), error));
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                let _ = write!(location, "[{index}]");
                check_at(item, location, problems);
                location.truncate(base_len);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                if !location.is_empty() {
                    location.push('.');
                }
                location.push_str(key);
                check_at(item, location, problems);
                location.truncate(base_len);
            }
        }
        _ => {}
    }
}

/// The paths of the well-formed placeholders in `template`, in order, e.g. to check their roots.
pub fn placeholder_paths(template: &str) -> Vec<&str> {
    parts(template)
        .filter_map(|part| match part {
            Part::Placeholder(placeholder) if placeholder.check().is_ok() => Some(placeholder.path),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests;
