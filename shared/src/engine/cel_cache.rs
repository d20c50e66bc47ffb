//! Compiled CEL programs, kept because workflow versions are immutable: the same source is
//! compiled once per process rather than once per execution.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::expr::{self, ExprError, Expression};

/// Sources beyond this many are not kept (the cache is emptied), bounding memory when
/// many versions come and go.
const MAX_ENTRIES: usize = 4096;

/// Compiled expressions by source text.
#[derive(Default)]
pub(crate) struct CelCache {
    compiled: RwLock<HashMap<String, Arc<Expression>>>,
}

impl CelCache {
    /// The compiled program for `source`, compiling it on first use.
    pub(crate) fn get(&self, source: &str) -> Result<Arc<Expression>, ExprError> {
        let cached = self
            .compiled
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(source)
            .cloned();
        if let Some(expression) = cached {
            return Ok(expression);
        }
        let expression = Arc::new(expr::compile(source)?);
        let mut compiled = self
            .compiled
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if compiled.len() >= MAX_ENTRIES {
            compiled.clear();
        }
        compiled.insert(source.to_owned(), Arc::clone(&expression));
        Ok(expression)
    }
}
