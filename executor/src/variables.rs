//! The `$env` variables, read from the database and opened here: secret values are sealed
//! at rest with the keys config-api seals them with (`HOOKFLOW_SECRET_KEY`), so their plain
//! text never crosses the network. What was read is reused for `HOOKFLOW_VARIABLES_REFRESH_MS`
//! (a change reaches the executions that start after it, within that time).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use shared::engine::Env;
use shared::sealing::Secrets;
use shared::store::{Store, StoreError};

/// Reads, opens and briefly keeps the variables.
pub(crate) struct Variables {
    store: Arc<dyn Store>,
    /// `None` when the configuration has no key (only with stand-in stores).
    secrets: Option<Secrets>,
    refresh: Duration,
    read: Mutex<Option<(Instant, Arc<Env>)>>,
}

impl Variables {
    pub(crate) fn new(store: Arc<dyn Store>, secrets: Option<Secrets>, refresh: Duration) -> Self {
        Variables {
            store,
            secrets,
            refresh,
            read: Mutex::new(None),
        }
    }

    /// The variables as they are now (or were within the refresh time).
    pub(crate) async fn current(&self) -> Result<Arc<Env>, StoreError> {
        if let Some(env) = self.fresh() {
            return Ok(env);
        }
        let stored = self.store.variables().await?;
        let opened = stored.into_iter().filter_map(|variable| {
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
        if !self.refresh.is_zero()
            && let Ok(mut read) = self.read.lock()
        {
            *read = Some((Instant::now(), Arc::clone(&env)));
        }
        Ok(env)
    }

    fn fresh(&self) -> Option<Arc<Env>> {
        let read = self.read.lock().ok()?;
        let (at, env) = read.as_ref()?;
        (at.elapsed() < self.refresh).then(|| Arc::clone(env))
    }
}
