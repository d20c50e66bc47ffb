//! Trigger definitions from config-api, cached in memory and evicted by change events.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex, MutexGuard, PoisonError,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use futures_util::StreamExt;
use secrecy::{ExposeSecret, SecretString};
use shared::{
    broker::{Broker, Source},
    config::Config,
    messages::ChangeEvent,
    model::TriggerDefinition,
};
use tokio::sync::OnceCell;

use crate::{
    instruments,
    respond::{self, Prepared},
};

/// Entries kept before unknown keys are forgotten, so that probing random URLs cannot
/// grow the cache without bound.
const MAX_ENTRIES: usize = 10_000;

/// Why a definition could not be fetched.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// config-api did not answer.
    #[error("config-api unreachable: {0}")]
    Unreachable(#[from] reqwest::Error),
    /// config-api answered something other than 200 or 404.
    #[error("config-api answered {0}")]
    Status(u16),
}

/// What the cache knows about a key: its webhook, or `None` when no workflow has it.
pub type Lookup = Option<Arc<Webhook>>;

/// A workflow's trigger as the webhook handler uses it.
#[derive(Debug)]
pub struct Webhook {
    /// The definition config-api served.
    pub definition: TriggerDefinition,
    /// The configured async answer, prepared once rather than on every call.
    pub answer: Prepared,
}

impl Webhook {
    /// Prepares what every call to `definition`'s webhook shares.
    pub fn new(definition: TriggerDefinition) -> Webhook {
        Webhook {
            answer: respond::configured(&definition.trigger.response),
            definition,
        }
    }
}

/// Fetches trigger definitions from `GET {config_api_url}/internal/triggers/{key}` with the
/// internal token (never the admin token: ingress faces the internet and does not hold it).
pub struct ConfigApiClient {
    http: reqwest::Client,
    base_url: String,
    internal_token: SecretString,
}

impl ConfigApiClient {
    /// A client for the config-api of `config`.
    pub fn new(config: &Config) -> anyhow::Result<Self> {
        let internal_token = config.internal_token.clone().ok_or_else(|| {
            anyhow::anyhow!(
                "HOOKFLOW_INTERNAL_TOKEN is not set; set it (to the same value at ingress and \
                 config-api): ingress fetches trigger definitions with it"
            )
        })?;
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(2))
            .timeout(Duration::from_secs(5))
            .build()?;
        Ok(ConfigApiClient {
            http,
            base_url: config
                .config_api_url
                .as_str()
                .trim_end_matches('/')
                .to_owned(),
            internal_token,
        })
    }

    /// The definition of `key`; `None` when config-api does not know it.
    #[tracing::instrument(skip(self))]
    pub async fn fetch(&self, key: &str) -> Result<Option<TriggerDefinition>, FetchError> {
        let response = self
            .http
            .get(format!("{}/internal/triggers/{key}", self.base_url))
            .bearer_auth(self.internal_token.expose_secret())
            .send()
            .await?;
        match response.status().as_u16() {
            200 => Ok(Some(response.json().await?)),
            404 => Ok(None),
            other => Err(FetchError::Status(other)),
        }
    }
}

/// Definitions by webhook key, positive and negative, each fetched once however many
/// requests miss it at the same time.
pub struct TriggerCache {
    client: ConfigApiClient,
    entries: Mutex<HashMap<String, Arc<OnceCell<Lookup>>>>,
    following: AtomicBool,
}

impl TriggerCache {
    /// An empty cache over `client`.
    pub fn new(client: ConfigApiClient) -> Arc<Self> {
        Arc::new(TriggerCache {
            client,
            entries: Mutex::new(HashMap::new()),
            following: AtomicBool::new(false),
        })
    }

    /// The definition of `key`, from the cache or config-api.
    pub async fn get(&self, key: &str) -> Result<Lookup, FetchError> {
        let cell = self.cell(key);
        if let Some(known) = cell.get() {
            instruments::trigger_cache(true);
            return Ok(known.clone());
        }
        instruments::trigger_cache(false);
        // A cell evicted while its fetch runs still answers the requests already waiting
        // on it, but later requests find a fresh cell and fetch again.
        let known = cell
            .get_or_try_init(|| async {
                let fetched = self.client.fetch(key).await?;
                Ok::<_, FetchError>(fetched.map(|definition| Arc::new(Webhook::new(definition))))
            })
            .await?;
        Ok(known.clone())
    }

    /// Forgets `key` (its workflow changed).
    pub fn evict(&self, key: &str) {
        self.lock().remove(key);
    }

    /// Forgets everything (change events may have been missed).
    pub fn clear(&self) {
        self.lock().clear();
    }

    /// Whether change events are being followed, without which entries could go stale.
    pub fn is_following(&self) -> bool {
        self.following.load(Ordering::SeqCst)
    }

    fn cell(&self, key: &str) -> Arc<OnceCell<Lookup>> {
        let mut entries = self.lock();
        if let Some(cell) = entries.get(key) {
            return Arc::clone(cell);
        }
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, cell| matches!(cell.get(), Some(Some(_))));
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        let cell = Arc::new(OnceCell::new());
        entries.insert(key.to_owned(), Arc::clone(&cell));
        cell
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Arc<OnceCell<Lookup>>>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Whether `key` can be a webhook key at all (lowercase alphanumeric); other keys are
/// answered 404 without asking config-api.
pub fn is_plausible_key(key: &str) -> bool {
    (1..=64).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// Evicts entries named by change events until the broker closes.
pub async fn follow_changes(broker: Arc<dyn Broker>, cache: Arc<TriggerCache>) {
    let mut backoff = Duration::from_millis(100);
    let mut stream = loop {
        match broker.subscribe(Source::Changes).await {
            Ok(stream) => break stream,
            Err(err) => {
                tracing::warn!(error = %err, "cannot follow workflow changes yet; retrying");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
        }
    };
    cache.following.store(true, Ordering::SeqCst);
    while let Some(message) = stream.next().await {
        match serde_json::from_slice::<ChangeEvent>(&message.payload) {
            Ok(event) => {
                tracing::debug!(key = %event.key, change = ?event.change, "workflow changed");
                cache.evict(&event.key);
            }
            Err(err) => {
                tracing::warn!(error = %err, "undecodable change event; forgetting every trigger");
                cache.clear();
            }
        }
        if let Err(err) = message.settle.ack().await {
            tracing::debug!(error = %err, "acknowledging a change event failed");
        }
    }
    cache.following.store(false, Ordering::SeqCst);
    tracing::info!("change consumer stopped: broker closed");
}

/// Clears the cache whenever the broker reconnects: events sent while it was away are lost.
pub async fn clear_on_reconnect(broker: Arc<dyn Broker>, cache: Arc<TriggerCache>) {
    let mut readiness = broker.readiness();
    readiness.borrow_and_update();
    while readiness.changed().await.is_ok() {
        // A watch keeps only the latest value, so a quick down-and-up shows as a single
        // change to `true`: any change that ends ready counts as a reconnect.
        if *readiness.borrow_and_update() {
            tracing::info!("broker reconnected; forgetting every cached trigger");
            cache.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_lowercase_alphanumeric_keys_are_plausible() {
        assert!(is_plausible_key("1hfmkioou0d"));
        for bad in ["", "ABC", "a-b", "a.b", "..", "a b", &"a".repeat(65)] {
            assert!(!is_plausible_key(bad), "{bad}");
        }
    }
}
