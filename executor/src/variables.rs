//! The `$env` variables, read from the database and opened here: secret values are sealed
//! at rest with the keys config-api seals them with (`HOOKFLOW_SECRET_KEY`), so their plain
//! text never crosses the network. What was read is reused while the variables' generation,
//! which PostgreSQL moves on with every change and which the executor learns with each
//! batch of lookups, stays the same: a change reaches every execution that starts after it.

use std::sync::{Arc, Mutex};

use shared::engine::Env;
use shared::sealing::Secrets;
use shared::store::{Store, StoreError};

/// Reads, opens and keeps the variables of one generation.
pub(crate) struct Variables {
    store: Arc<dyn Store>,
    /// `None` when the configuration has no key (only with stand-in stores).
    secrets: Option<Secrets>,
    /// The variables last read, and their generation.
    read: Mutex<Option<(i64, Arc<Env>)>>,
}

impl Variables {
    pub(crate) fn new(store: Arc<dyn Store>, secrets: Option<Secrets>) -> Self {
        Variables {
            store,
            secrets,
            read: Mutex::new(None),
        }
    }

    /// The variables of `generation`: those read before when they are of it, else read now.
    /// Without a generation (the execution was not looked up first) they are read now.
    pub(crate) async fn current(&self, generation: Option<i64>) -> Result<Arc<Env>, StoreError> {
        if let Some(env) = generation.and_then(|generation| self.kept(generation)) {
            return Ok(env);
        }
        let stored = self.store.variables().await?;
        let opened = stored.variables.into_iter().filter_map(|variable| {
            if !variable.secret {
                return Some((variable.name, variable.value, false));
            }
            let opened = match &self.secrets {
                Some(secrets) => secrets.open(&variable.value).map_err(|err| err.to_string()),
                None => Err("HOOKFLOW_SECRET_KEY is not set".to_owned()),
            };
            match opened {
                Ok(plain) => Some((variable.name, plain, true)),
                Err(err) => {
                    // Left out (templates see it as absent) rather than failing every
                    // execution, whether or not it reads this variable.
                    tracing::error!(variable = %variable.name, error = %err, "a secret variable cannot be opened; it is left out of $env");
                    None
                }
            }
        });
        let env = Arc::new(Env::new(opened));
        if let Some(generation) = stored.generation
            && let Ok(mut read) = self.read.lock()
            // A read that took longer than a later one does not replace it.
            && read.as_ref().is_none_or(|(kept, _)| *kept < generation)
        {
            *read = Some((generation, Arc::clone(&env)));
        }
        Ok(env)
    }

    /// The variables kept, when they are of `generation` or a later one.
    fn kept(&self, generation: i64) -> Option<Arc<Env>> {
        let read = self.read.lock().ok()?;
        let (kept, env) = read.as_ref()?;
        (*kept >= generation).then(|| Arc::clone(env))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};

    use async_trait::async_trait;
    use shared::engine::RunResult;
    use shared::messages::ExecutionMessage;
    use shared::model::WorkflowDocument;
    use shared::store::{Begin, DeadLetter, Finished, StoredVariable, StoredVariables};
    use uuid::Uuid;

    use super::*;

    /// One variable, `N`, whose value is the generation; counts the reads.
    #[derive(Default)]
    struct Generations {
        generation: AtomicI64,
        reads: AtomicUsize,
    }

    #[async_trait]
    impl Store for Generations {
        async fn variables(&self) -> Result<StoredVariables, StoreError> {
            self.reads.fetch_add(1, Ordering::SeqCst);
            let generation = self.generation.load(Ordering::SeqCst);
            Ok(StoredVariables {
                generation: Some(generation),
                variables: vec![StoredVariable {
                    name: "N".into(),
                    value: generation.to_string(),
                    secret: false,
                }],
            })
        }
        async fn load_version(
            &self,
            _: Uuid,
            _: i32,
        ) -> Result<Option<WorkflowDocument>, StoreError> {
            unimplemented!("variables only")
        }
        async fn begin(&self, _: &ExecutionMessage) -> Result<Begin, StoreError> {
            unimplemented!("variables only")
        }
        async fn finish(&self, _: Uuid, _: &RunResult) -> Result<Finished, StoreError> {
            unimplemented!("variables only")
        }
        async fn record_dead_letter(&self, _: DeadLetter<'_>, _: &str) -> Result<Uuid, StoreError> {
            unimplemented!("variables only")
        }
    }

    async fn value(variables: &Variables, generation: Option<i64>) -> String {
        let env = variables.current(generation).await.expect("read");
        env.values()["N"].as_str().expect("a string").to_owned()
    }

    #[tokio::test]
    async fn variables_are_read_again_only_when_their_generation_moved_on() {
        let store = Arc::new(Generations::default());
        let variables = Variables::new(Arc::clone(&store) as Arc<dyn Store>, None);
        let reads = || store.reads.load(Ordering::SeqCst);

        assert_eq!(value(&variables, Some(0)).await, "0");
        assert_eq!(value(&variables, Some(0)).await, "0");
        assert_eq!(reads(), 1, "the same generation is served from memory");

        // A change: the next lookup sees generation 1, and the variables are read again.
        store.generation.store(1, Ordering::SeqCst);
        assert_eq!(value(&variables, Some(1)).await, "1");
        assert_eq!(reads(), 2);
        // An execution looked up before the change may use the newer variables.
        assert_eq!(value(&variables, Some(0)).await, "1");
        assert_eq!(reads(), 2);

        // Without a generation (an execution begun, not looked up) they are read every time.
        store.generation.store(2, Ordering::SeqCst);
        assert_eq!(value(&variables, None).await, "2");
        assert_eq!(value(&variables, None).await, "2");
        assert_eq!(reads(), 4);
        assert_eq!(value(&variables, Some(2)).await, "2");
        assert_eq!(reads(), 4);
    }
}
