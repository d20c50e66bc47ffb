//! Reading an object of settings into typed values one setting at a time, so that a
//! document's author hears of every wrong setting at once rather than of the first.
//!
//! The same reading serves validation (the settings as stored, where a string holding a
//! `{{...}}` placeholder can only be checked once rendered) and running (the rendered
//! settings, where every value is final), so the two cannot disagree.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::problem::Problem;

/// Whether the settings' templates are rendered yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// As stored: a string holding a placeholder is left for the run to check.
    Stored,
    /// Rendered: every value is checked.
    Rendered,
}

/// The settings of one object, read field by field; problems are collected, not returned.
#[derive(Debug)]
pub struct Fields<'a> {
    object: Option<&'a Map<String, Value>>,
    stage: Stage,
    problems: Vec<Problem>,
    /// A setting was left for the run to check, so no typed value can be built yet.
    deferred: bool,
}

impl<'a> Fields<'a> {
    /// The settings in `value`: an object, or null for none.
    pub fn new(value: &'a Value, stage: Stage) -> Self {
        Fields {
            object: value.as_object(),
            stage,
            problems: Vec::new(),
            deferred: false,
        }
    }

    /// The raw value of setting `name`, `None` when it is absent or null.
    pub fn raw(&self, name: &str) -> Option<&'a Value> {
        self.object?.get(name).filter(|value| !value.is_null())
    }

    /// Setting `name` as a `T`; `None` when it is absent, null, wrong (a problem is
    /// recorded, with `message` made from the value) or left for the run.
    pub fn optional<T: DeserializeOwned>(
        &mut self,
        name: &str,
        message: impl FnOnce(&Value) -> String,
    ) -> Option<T> {
        let value = self.raw(name)?;
        if self.stage == Stage::Stored && value.as_str().is_some_and(|s| s.contains("{{")) {
            self.deferred = true;
            return None;
        }
        match T::deserialize(value) {
            Ok(parsed) => Some(parsed),
            Err(_) => {
                self.problem(name, message(value));
                None
            }
        }
    }

    /// Setting `name` as a `T`, which must be there (`message` is made from null when not).
    pub fn required<T: DeserializeOwned>(
        &mut self,
        name: &str,
        message: impl FnOnce(&Value) -> String,
    ) -> Option<T> {
        if self.raw(name).is_none() {
            self.problem(name, message(&Value::Null));
            return None;
        }
        self.optional(name, message)
    }

    /// Records a problem at `path`, relative to the object.
    pub fn problem(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem::new(path, message));
    }

    /// Whether the settings are rendered yet.
    pub fn stage(&self) -> Stage {
        self.stage
    }

    /// Whether a problem was recorded so far.
    pub fn has_problems(&self) -> bool {
        !self.problems.is_empty()
    }

    /// The typed settings `build` makes, or every problem found. Also `Err` (possibly
    /// with no problem) when `build` cannot make them or a setting was left for the run.
    pub fn finish<T>(self, build: impl FnOnce() -> Option<T>) -> Result<T, Vec<Problem>> {
        if !self.problems.is_empty() || self.deferred {
            return Err(self.problems);
        }
        build().ok_or(self.problems)
    }
}

/// `value` as a whole number: a JSON number, or a string of digits (values rendered from
/// form bodies and query strings are strings).
pub fn whole_number(value: &Value) -> Option<u64> {
    match value {
        Value::String(text) => text.trim().parse().ok(),
        other => other.as_u64(),
    }
}
