//! Workflow versions by `(workflow id, version)`. Versions never change once stored, so a
//! loaded one is kept for the life of the process.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use shared::model::WorkflowDocument;
use shared::store::{Store, StoreError};
use uuid::Uuid;

use crate::instruments;

/// Versions beyond this many are not kept (the cache is emptied), bounding memory.
const MAX_ENTRIES: usize = 1024;

type Key = (Uuid, i32);

/// Loads versions through the store and keeps them.
pub(crate) struct Versions {
    store: Arc<dyn Store>,
    loaded: RwLock<HashMap<Key, Arc<WorkflowDocument>>>,
}

impl Versions {
    pub(crate) fn new(store: Arc<dyn Store>) -> Self {
        Versions {
            store,
            loaded: RwLock::new(HashMap::new()),
        }
    }

    /// The document of `version` of `workflow_id`, or `None` if there is no such version.
    pub(crate) async fn get(
        &self,
        workflow_id: Uuid,
        version: i32,
    ) -> Result<Option<Arc<WorkflowDocument>>, StoreError> {
        let key = (workflow_id, version);
        let cached = self
            .loaded
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(&key)
            .cloned();
        instruments::version_cache(cached.is_some());
        if cached.is_some() {
            return Ok(cached);
        }
        let Some(document) = self.store.load_version(workflow_id, version).await? else {
            return Ok(None);
        };
        let document = Arc::new(document);
        let mut loaded = self
            .loaded
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if loaded.len() >= MAX_ENTRIES {
            loaded.clear();
        }
        loaded.insert(key, Arc::clone(&document));
        Ok(Some(document))
    }
}
