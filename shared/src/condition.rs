//! NocoBase's "basic" condition engine: groups of calculations joined by `and`/`or`.
//!
//! The input is a node's `config.calculation` after template rendering:
//! `{"group": {"type": "and", "calculations": [{"calculator": "equal", "operands": [a, b]},
//! {"group": {...}}]}}`. A missing or empty group is true; `and`/`or` stop at the first item that
//! decides them.
//!
//! Comparisons are loose, the way a NocoBase user expects after templates turned everything into
//! text:
//! - `null` (or a missing operand) equals only `null`;
//! - a number and a numeric string compare as numbers: `"5" == 5`, `"5.0" == 5`, `" 5 " == 5`
//!   (the empty string is not numeric); two strings are equal only when identical (`"007"` is not
//!   `"7"`);
//! - a boolean equals its text: `true == "true"`, `false == "FALSE"`; also `true == 1`, `false == 0`
//!   and `true == "1"`, as in JavaScript;
//! - arrays and objects equal JSON-equal arrays and objects, nothing else;
//! - `gt`/`gte`/`lt`/`lte` compare numerically when both sides are numbers or numeric strings,
//!   else they compare the text forms, so ISO-8601 dates order correctly; against `null` they are
//!   false (except `null >= null` and `null <= null`), and they are false for arrays and objects;
//! - `includes` finds a substring in a string (or a number's text) and a loosely equal element in
//!   an array; `startsWith`/`endsWith` work on text forms (strings, numbers, booleans); the `not`
//!   forms are their negations.

use std::cmp::Ordering;

use serde_json::Value;

/// Why a calculation cannot be evaluated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConditionError {
    /// The calculator name is not one this engine knows.
    #[error("unknown calculator `{0}`")]
    UnknownCalculator(String),
    /// The calculation's shape is wrong; the text says where and how.
    #[error("{0}")]
    Malformed(String),
}

/// Every calculator name, aliases included.
pub const CALCULATORS: &[&str] = &[
    "equal",
    "notEqual",
    "gt",
    "gte",
    "lt",
    "lte",
    "includes",
    "notIncludes",
    "startsWith",
    "notStartsWith",
    "endsWith",
    "notEndsWith",
    "==",
    "!=",
    ">",
    ">=",
    "<",
    "<=",
];

/// Evaluates `config.calculation` (already rendered). A missing (`null`) calculation or group is
/// true.
pub fn evaluate(calculation: &Value) -> Result<bool, ConditionError> {
    match calculation {
        Value::Null => Ok(true),
        Value::Object(map) => match map.get("group") {
            None | Some(Value::Null) => Ok(true),
            Some(group) => evaluate_group(group, "group"),
        },
        _ => Err(malformed("the calculation", "is not an object")),
    }
}

fn evaluate_group(group: &Value, at: &str) -> Result<bool, ConditionError> {
    let Value::Object(group) = group else {
        return Err(malformed(at, "is not an object"));
    };
    let any = group_is_or(group.get("type"), at)?;
    let items = match group.get("calculations") {
        None | Some(Value::Null) => return Ok(true),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(malformed(&format!("{at}.calculations"), "is not an array")),
    };
    for (index, item) in items.iter().enumerate() {
        let outcome = evaluate_item(item, &format!("{at}.calculations[{index}]"))?;
        if outcome == any {
            return Ok(any);
        }
    }
    // An empty group is true whatever its type.
    Ok(items.is_empty() || !any)
}

/// `true` for `or`, `false` for `and` (also when the type is not given).
fn group_is_or(kind: Option<&Value>, at: &str) -> Result<bool, ConditionError> {
    match kind {
        None | Some(Value::Null) => Ok(false),
        Some(Value::String(kind)) if kind == "and" => Ok(false),
        Some(Value::String(kind)) if kind == "or" => Ok(true),
        Some(other) => Err(malformed(
            &format!("{at}.type"),
            &format!("is {other}, expected \"and\" or \"or\""),
        )),
    }
}

fn evaluate_item(item: &Value, at: &str) -> Result<bool, ConditionError> {
    if let Some(group) = item.get("group") {
        return evaluate_group(group, &format!("{at}.group"));
    }
    let Some(calculator) = item.get("calculator") else {
        return Err(malformed(at, "has neither `calculator` nor `group`"));
    };
    let Value::String(calculator) = calculator else {
        return Err(malformed(&format!("{at}.calculator"), "is not a string"));
    };
    match item.get("operands") {
        Some(Value::Array(operands)) if operands.len() == 2 => {
            calculate(calculator, &operands[0], &operands[1])
        }
        _ => Err(malformed(
            &format!("{at}.operands"),
            "is not an array of two operands",
        )),
    }
}

fn malformed(at: &str, problem: &str) -> ConditionError {
    ConditionError::Malformed(format!("{at} {problem}"))
}

/// Applies one calculator to two operands.
pub fn calculate(calculator: &str, a: &Value, b: &Value) -> Result<bool, ConditionError> {
    Ok(match calculator {
        "equal" | "==" => loose_eq(a, b),
        "notEqual" | "!=" => !loose_eq(a, b),
        "gt" | ">" => compare(a, b).is_some_and(Ordering::is_gt),
        "gte" | ">=" => compare(a, b).is_some_and(Ordering::is_ge),
        "lt" | "<" => compare(a, b).is_some_and(Ordering::is_lt),
        "lte" | "<=" => compare(a, b).is_some_and(Ordering::is_le),
        "includes" => includes(a, b),
        "notIncludes" => !includes(a, b),
        "startsWith" => text_pair(a, b).is_some_and(|(a, b)| a.starts_with(b.as_str())),
        "notStartsWith" => !text_pair(a, b).is_some_and(|(a, b)| a.starts_with(b.as_str())),
        "endsWith" => text_pair(a, b).is_some_and(|(a, b)| a.ends_with(b.as_str())),
        "notEndsWith" => !text_pair(a, b).is_some_and(|(a, b)| a.ends_with(b.as_str())),
        other => return Err(ConditionError::UnknownCalculator(other.to_owned())),
    })
}

/// Lists what is wrong with `config.calculation` (before rendering), each problem naming where it
/// is relative to the calculation (`group.calculations[1].calculator: unknown calculator `like``);
/// empty when the calculation can be evaluated.
pub fn validate(calculation: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    match calculation {
        Value::Null => {}
        Value::Object(map) => match map.get("group") {
            None | Some(Value::Null) => {}
            Some(group) => validate_group(group, "group", &mut problems),
        },
        _ => problems.push("the calculation is not an object".to_owned()),
    }
    problems
}

fn validate_group(group: &Value, at: &str, problems: &mut Vec<String>) {
    let Value::Object(group) = group else {
        problems.push(format!("{at} is not an object"));
        return;
    };
    if let Err(error) = group_is_or(group.get("type"), at) {
        problems.push(error.to_string());
    }
    let items = match group.get("calculations") {
        None | Some(Value::Null) => return,
        Some(Value::Array(items)) => items,
        Some(_) => {
            problems.push(format!("{at}.calculations is not an array"));
            return;
        }
    };
    for (index, item) in items.iter().enumerate() {
        let at = format!("{at}.calculations[{index}]");
        if let Some(group) = item.get("group") {
            validate_group(group, &format!("{at}.group"), problems);
            continue;
        }
        match item.get("calculator") {
            None => problems.push(format!("{at} has neither `calculator` nor `group`")),
            Some(Value::String(name)) if CALCULATORS.contains(&name.as_str()) => {}
            Some(Value::String(name)) => {
                problems.push(format!("{at}.calculator: unknown calculator `{name}`"));
            }
            Some(_) => problems.push(format!("{at}.calculator is not a string")),
        }
        if !matches!(item.get("operands"), Some(Value::Array(operands)) if operands.len() == 2) {
            problems.push(format!("{at}.operands is not an array of two operands"));
        }
    }
}

/// The number a number or numeric string stands for.
fn numeric(value: &Value) -> Option<f64> {
    match value {
        Value::Number(number) => number.as_f64(),
        Value::String(text) => {
            let text = text.trim();
            // `f64::from_str` also reads "inf" and "NaN", which are words, not numbers, here.
            let looks_numeric = text
                .bytes()
                .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E'));
            let number = (!text.is_empty() && looks_numeric)
                .then(|| text.parse::<f64>().ok())
                .flatten()?;
            number.is_finite().then_some(number)
        }
        _ => None,
    }
}

/// The text form of a scalar; arrays, objects and `null` have none.
fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}

fn text_pair(a: &Value, b: &Value) -> Option<(String, String)> {
    Some((text(a)?, text(b)?))
}

fn loose_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::Null, _) | (_, Value::Null) => false,
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => x == y,
            _ => x.as_f64() == y.as_f64(),
        },
        // Two strings compare as written, so that "007" and "7" stay different ids.
        (Value::String(x), Value::String(y)) => x == y,
        (Value::Number(_), Value::String(_)) | (Value::String(_), Value::Number(_)) => {
            matches!((numeric(a), numeric(b)), (Some(x), Some(y)) if x == y)
        }
        (Value::Bool(flag), other) | (other, Value::Bool(flag)) => bool_eq(*flag, other),
        (Value::Array(_), _)
        | (Value::Object(_), _)
        | (_, Value::Array(_))
        | (_, Value::Object(_)) => a == b,
    }
}

fn bool_eq(flag: bool, other: &Value) -> bool {
    match other {
        Value::Bool(other) => flag == *other,
        Value::String(text) if text.trim().eq_ignore_ascii_case("true") => flag,
        Value::String(text) if text.trim().eq_ignore_ascii_case("false") => !flag,
        Value::String(_) | Value::Number(_) => numeric(other) == Some(if flag { 1.0 } else { 0.0 }),
        _ => false,
    }
}

fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Null, Value::Null) => Some(Ordering::Equal),
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => Some(x.cmp(&y)),
            _ => x.as_f64()?.partial_cmp(&y.as_f64()?),
        },
        _ => match (numeric(a), numeric(b)) {
            (Some(x), Some(y)) => x.partial_cmp(&y),
            _ => {
                let (x, y) = text_pair(a, b)?;
                Some(x.cmp(&y))
            }
        },
    }
}

fn includes(haystack: &Value, needle: &Value) -> bool {
    match haystack {
        Value::Array(items) => items.iter().any(|item| loose_eq(item, needle)),
        Value::String(_) | Value::Number(_) => {
            text_pair(haystack, needle).is_some_and(|(haystack, needle)| haystack.contains(&needle))
        }
        _ => false,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests;
