//! Workflow versions by `(workflow id, version)`. Versions never change once stored, so a
//! loaded one is kept for as long as it stays in use.

use std::sync::Arc;

use quick_cache::sync::Cache;
use shared::model::WorkflowDocument;
use shared::store::{Store, StoreError};
use uuid::Uuid;

use crate::instruments;

/// Versions kept at most, bounding memory; past it the least useful ones (S3-FIFO: seen
/// once and not since) make room.
const MAX_ENTRIES: usize = 1024;

type Key = (Uuid, i32);

/// Loads versions through the store and keeps them.
pub(crate) struct Versions {
    store: Arc<dyn Store>,
    loaded: Cache<Key, Arc<WorkflowDocument>>,
}

impl Versions {
    pub(crate) fn new(store: Arc<dyn Store>) -> Self {
        Versions::with_capacity(store, MAX_ENTRIES)
    }

    fn with_capacity(store: Arc<dyn Store>, capacity: usize) -> Self {
        Versions {
            store,
            loaded: Cache::new(capacity),
        }
    }

    /// The document of `version` of `workflow_id`, or `None` if there is no such version.
    pub(crate) async fn get(
        &self,
        workflow_id: Uuid,
        version: i32,
    ) -> Result<Option<Arc<WorkflowDocument>>, StoreError> {
        let key = (workflow_id, version);
        let cached = self.loaded.get(&key);
        instruments::version_cache(cached.is_some());
        if cached.is_some() {
            return Ok(cached);
        }
        let Some(document) = self.store.load_version(workflow_id, version).await? else {
            return Ok(None);
        };
        let document = Arc::new(document);
        self.loaded.insert(key, Arc::clone(&document));
        Ok(Some(document))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use async_trait::async_trait;
    use shared::engine::RunResult;
    use shared::messages::ExecutionMessage;
    use shared::store::{Begin, DeadLetter, Finished};

    use super::*;

    /// Serves every version of every workflow, counting the loads.
    #[derive(Default)]
    struct CountingStore {
        loads: AtomicUsize,
    }

    #[async_trait]
    impl Store for CountingStore {
        async fn load_version(
            &self,
            _: Uuid,
            _: i32,
        ) -> Result<Option<WorkflowDocument>, StoreError> {
            self.loads.fetch_add(1, Ordering::SeqCst);
            let document = serde_json::from_value(shared::fixtures::payment_callback());
            Ok(Some(document.expect("a workflow document")))
        }
        async fn begin(&self, _: &ExecutionMessage) -> Result<Begin, StoreError> {
            unimplemented!("versions only load")
        }
        async fn finish(&self, _: Uuid, _: &RunResult) -> Result<Finished, StoreError> {
            unimplemented!("versions only load")
        }
        async fn record_dead_letter(&self, _: DeadLetter<'_>, _: &str) -> Result<Uuid, StoreError> {
            unimplemented!("versions only load")
        }
    }

    #[tokio::test]
    async fn a_full_cache_keeps_serving_the_versions_in_use() {
        let store = Arc::new(CountingStore::default());
        let versions = Versions::with_capacity(Arc::clone(&store) as Arc<dyn Store>, 100);
        let hot = Uuid::now_v7();
        versions.get(hot, 1).await.expect("loads");
        for n in 0..1_000 {
            versions.get(Uuid::now_v7(), n).await.expect("loads");
            versions.get(hot, 1).await.expect("loads");
        }
        // One load for the version in use, one for each other version: never reloaded.
        assert_eq!(store.loads.load(Ordering::SeqCst), 1 + 1_000);
        assert!(versions.loaded.len() <= 100);
        assert!(versions.loaded.len() > 50, "emptied instead of evicting");
    }
}
