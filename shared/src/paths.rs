//! Paths into JSON values: `a`, `b.c`, `items[0].id`, `headers.x-request-id`, `$context.body.id`.
//!
//! Segments are separated by `.`; `[n]` is an array index. A key may hold any character but `.`,
//! `[` and `]`, so `-`, `$`, `:` and spaces are ordinary. There is no escape syntax: a key that
//! contains `.`, `[` or `]` cannot be addressed.

use std::fmt::Write as _;

use serde_json::Value;

/// One step of a path: an object key or an array index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// An object key (a key of decimal digits also indexes an array).
    Key(String),
    /// An array index written `[n]` (on an object it looks up the key `"n"`).
    Index(usize),
}

/// Why a path does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    /// The path is empty.
    #[error("the path is empty")]
    Empty,
    /// Two dots in a row, or a dot at the start or the end.
    #[error("path `{path}` has an empty segment")]
    EmptySegment {
        /// The whole path.
        path: String,
    },
    /// A `[` without its `]`.
    #[error("path `{path}` has a `[` that is not closed")]
    UnclosedBracket {
        /// The whole path.
        path: String,
    },
    /// Something other than decimal digits between `[` and `]`.
    #[error("path `{path}` has `[{index}]`, but an index must be a non-negative integer")]
    InvalidIndex {
        /// The whole path.
        path: String,
        /// The text between the brackets.
        index: String,
    },
    /// A character where only `.`, `[` or the end of the path may follow.
    #[error("path `{path}` has an unexpected `{found}` at position {position}")]
    Unexpected {
        /// The whole path.
        path: String,
        /// The offending character.
        found: char,
        /// Its byte offset in the path.
        position: usize,
    },
}

/// A borrowed segment, so that lookups on the hot path do not allocate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

/// Walks `path` once, handing each step to `visit`; stops at the first error.
fn walk<'p>(path: &'p str, mut visit: impl FnMut(Step<'p>) -> bool) -> Result<(), PathError> {
    if path.is_empty() {
        return Err(PathError::Empty);
    }
    let bytes = path.as_bytes();
    let empty_segment = || PathError::EmptySegment {
        path: path.to_owned(),
    };
    let mut pos = 0;
    // A key is expected at the start and after every dot; `[` may also open the path.
    let mut expect_key = true;
    while pos < bytes.len() {
        match bytes[pos] {
            b'[' if expect_key && pos > 0 => return Err(empty_segment()),
            b'[' => {
                let close = path[pos + 1..]
                    .find(']')
                    .map(|offset| pos + 1 + offset)
                    .ok_or_else(|| PathError::UnclosedBracket {
                        path: path.to_owned(),
                    })?;
                let index = &path[pos + 1..close];
                let valid = !index.is_empty() && index.bytes().all(|b| b.is_ascii_digit());
                let parsed = valid.then(|| index.parse::<usize>().ok()).flatten();
                let Some(index) = parsed else {
                    return Err(PathError::InvalidIndex {
                        path: path.to_owned(),
                        index: index.to_owned(),
                    });
                };
                if !visit(Step::Index(index)) {
                    return Ok(());
                }
                pos = close + 1;
                expect_key = false;
            }
            b'.' if expect_key => return Err(empty_segment()),
            b'.' => {
                pos += 1;
                if pos == bytes.len() {
                    return Err(empty_segment());
                }
                expect_key = true;
            }
            _ if expect_key => {
                let end = path[pos..]
                    .find(['.', '[', ']'])
                    .map_or(bytes.len(), |offset| pos + offset);
                if end == pos {
                    // Only `]` can end a key before it starts.
                    return Err(unexpected(path, pos));
                }
                if !visit(Step::Key(&path[pos..end])) {
                    return Ok(());
                }
                pos = end;
                expect_key = false;
            }
            _ => return Err(unexpected(path, pos)),
        }
    }
    Ok(())
}

fn unexpected(path: &str, position: usize) -> PathError {
    PathError::Unexpected {
        path: path.to_owned(),
        found: path[position..].chars().next().unwrap_or(' '),
        position,
    }
}

/// Parses a path into its segments.
pub fn parse_path(path: &str) -> Result<Vec<Segment>, PathError> {
    let mut segments = Vec::new();
    walk(path, |step| {
        segments.push(match step {
            Step::Key(key) => Segment::Key(key.to_owned()),
            Step::Index(index) => Segment::Index(index),
        });
        true
    })?;
    Ok(segments)
}

fn step_into<'a>(value: &'a Value, step: Step<'_>) -> Option<&'a Value> {
    match (value, step) {
        (Value::Object(map), Step::Key(key)) => map.get(key),
        (Value::Object(map), Step::Index(index)) => map.get(&index.to_string()),
        (Value::Array(items), Step::Index(index)) => items.get(index),
        (Value::Array(items), Step::Key(key)) => items.get(array_index(key)?),
        _ => None,
    }
}

/// `"3"` indexes an array, `"03"` or `"+3"` do not.
fn array_index(key: &str) -> Option<usize> {
    let canonical =
        key == "0" || (!key.starts_with('0') && key.bytes().all(|b| b.is_ascii_digit()));
    canonical.then(|| key.parse().ok()).flatten()
}

/// The value at `path`, or `None` when the path is missing or does not parse.
pub fn get<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    let mut current = Some(value);
    walk(path, |step| {
        current = current.and_then(|value| step_into(value, step));
        current.is_some()
    })
    .ok()?;
    current
}

/// The value at already parsed `segments`; no segments is the value itself.
pub fn get_segments<'a>(value: &'a Value, segments: &[Segment]) -> Option<&'a Value> {
    segments.iter().try_fold(value, |value, segment| {
        let step = match segment {
            Segment::Key(key) => Step::Key(key),
            Segment::Index(index) => Step::Index(*index),
        };
        step_into(value, step)
    })
}

/// Every path in `value`, depth first, parents before children, object keys in the value's order:
/// `{"a":1,"b":{"c":2}}` gives `a`, `b`, `b.c`. Keys that no path can address (empty, or holding
/// `.`, `[` or `]`) are left out with everything below them.
pub fn list_paths(value: &Value) -> Vec<String> {
    let mut paths = Vec::new();
    collect_paths(value, &mut String::new(), &mut paths);
    paths
}

fn collect_paths(value: &Value, prefix: &mut String, paths: &mut Vec<String>) {
    let base_len = prefix.len();
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                if key.is_empty() || key.contains(['.', '[', ']']) {
                    continue;
                }
                if !prefix.is_empty() {
                    prefix.push('.');
                }
                prefix.push_str(key);
                paths.push(prefix.clone());
                collect_paths(child, prefix, paths);
                prefix.truncate(base_len);
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                // Writing into a String cannot fail.
                let _ = write!(prefix, "[{index}]");
                paths.push(prefix.clone());
                collect_paths(child, prefix, paths);
                prefix.truncate(base_len);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests;
