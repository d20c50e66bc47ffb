//! Compiled CEL programs, kept because workflow versions are immutable: the same source is
//! compiled once per process rather than once per execution.

use std::sync::Arc;

use quick_cache::sync::Cache;

use crate::expr::Expression;

/// Sources kept at most, bounding memory when many versions come and go; past it the
/// least useful ones (S3-FIFO: seen once and not since) make room.
const MAX_ENTRIES: usize = 4096;

/// Compiled expressions by source text.
pub(crate) struct CelCache {
    compiled: Cache<String, Arc<Expression>>,
}

impl Default for CelCache {
    fn default() -> Self {
        CelCache::with_capacity(MAX_ENTRIES)
    }
}

impl CelCache {
    fn with_capacity(capacity: usize) -> Self {
        CelCache {
            compiled: Cache::new(capacity),
        }
    }

    /// The compiled program for `source`, compiling it on first use.
    #[cfg(test)]
    pub(crate) fn get(&self, source: &str) -> Result<Arc<Expression>, crate::expr::ExprError> {
        if let Some(expression) = self.cached(source) {
            return Ok(expression);
        }
        let expression = Arc::new(crate::expr::compile(source)?);
        self.insert(source, Arc::clone(&expression));
        Ok(expression)
    }

    /// The program compiled from `source`, if it is kept.
    pub(crate) fn cached(&self, source: &str) -> Option<Arc<Expression>> {
        self.compiled.get(source)
    }

    /// Keeps `expression`, compiled from `source`.
    pub(crate) fn insert(&self, source: &str, expression: Arc<Expression>) {
        self.compiled.insert(source.to_owned(), expression);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_cache_keeps_the_expressions_in_use() {
        let cache = CelCache::with_capacity(100);
        let hot = cache.get("context.body.amount > 100").expect("compiles");
        for n in 0..1_000 {
            cache.get(&format!("{n} + 1")).expect("compiles");
            let again = cache.get("context.body.amount > 100").expect("compiles");
            assert!(Arc::ptr_eq(&hot, &again), "recompiled after {n} others");
        }
        assert!(cache.compiled.len() <= 100);
        assert!(cache.compiled.len() > 50, "emptied instead of evicting");
    }
}
