//! Trigger definitions from config-api, cached in memory, evicted by change events and
//! re-validated once older than `HOOKFLOW_TRIGGER_CACHE_MAX_AGE_MS`, so that a lost change
//! event cannot keep a disabled workflow, an old password or an old allowlist alive.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use futures_util::StreamExt;
use quick_cache::sync::Cache;
use secrecy::{ExposeSecret, SecretString};
use shared::{
    broker::{self, Broker, Source},
    config::Config,
    messages::ChangeEvent,
    model::TriggerDefinition,
};

use crate::{
    instruments,
    respond::{self, Prepared},
};

/// Why a definition could not be fetched.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// config-api did not answer; the message carries the causes (refused connection,
    /// failed TLS handshake, …), which reqwest's own message leaves out.
    #[error("config-api unreachable: {}", shared::causes::text(.0))]
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
        // `https://` config-api URLs are checked against the system's roots and
        // HOOKFLOW_TLS_CA_FILE.
        let http = shared::tls::http_client_builder(&config.tls_ca)
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

/// What the cache holds for a key: the lookup and when config-api answered it.
#[derive(Clone)]
struct Cached {
    lookup: Lookup,
    fetched_at: Instant,
    /// Set while one request re-validates the entry, so that the others do not.
    refreshing: Arc<AtomicBool>,
}

impl Cached {
    fn new(lookup: Lookup) -> Cached {
        Cached {
            lookup,
            fetched_at: Instant::now(),
            refreshing: Arc::new(AtomicBool::new(false)),
        }
    }

    fn is(&self, other: &Cached) -> bool {
        Arc::ptr_eq(&self.refreshing, &other.refreshing)
    }
}

/// Definitions by webhook key, positive and negative, each fetched once however many
/// requests miss it at the same time, and fetched again once older than the max age.
pub struct TriggerCache {
    client: ConfigApiClient,
    entries: Cache<String, Cached>,
    following: AtomicBool,
    max_age: Duration,
}

impl TriggerCache {
    /// An empty cache over `client` holding at most `capacity` entries, so that probing
    /// random URLs cannot grow it without bound (past it the least useful ones — S3-FIFO:
    /// seen once and not since, as probes are — make room, and the webhooks in use stay),
    /// whose entries are re-validated after `max_age`.
    pub fn new(client: ConfigApiClient, capacity: usize, max_age: Duration) -> Arc<Self> {
        Arc::new(TriggerCache {
            client,
            entries: Cache::new(capacity),
            following: AtomicBool::new(false),
            max_age,
        })
    }

    /// The definition of `key`, from the cache or config-api.
    pub async fn get(&self, key: &str) -> Result<Lookup, FetchError> {
        if let Some(known) = self.entries.get(key) {
            instruments::trigger_cache(true);
            if known.fetched_at.elapsed() < self.max_age {
                return Ok(known.lookup);
            }
            return Ok(self.revalidate(key, known).await);
        }
        instruments::trigger_cache(false);
        // Concurrent misses wait for the first one's fetch. A key evicted while its fetch
        // runs still answers the requests already waiting on it, but the fetched value is
        // not kept: later requests fetch again. A failed fetch is not kept either.
        let cached = self
            .entries
            .get_or_insert_async(key, async {
                let fetched = self.client.fetch(key).await?;
                Ok::<_, FetchError>(Cached::new(
                    fetched.map(|definition| Arc::new(Webhook::new(definition))),
                ))
            })
            .await?;
        Ok(cached.lookup)
    }

    /// The lookup of `key` once its entry `stale` is past the max age. One request asks
    /// config-api again, the others meanwhile get the entry they found (so a change takes
    /// effect within the max age plus one fetch). When config-api cannot answer, the stale
    /// entry goes on serving, and the next request tries again: an outage of config-api
    /// does not take the webhooks down.
    async fn revalidate(&self, key: &str, stale: Cached) -> Lookup {
        if stale.refreshing.swap(true, Ordering::SeqCst) {
            return stale.lookup;
        }
        match self.client.fetch(key).await {
            Ok(fetched) => {
                instruments::trigger_revalidation(true);
                let fresh =
                    Cached::new(fetched.map(|definition| Arc::new(Webhook::new(definition))));
                let lookup = fresh.lookup.clone();
                // Unless a change event evicted the entry meanwhile (the next request
                // fetches it anew then).
                if self.entries.get(key).is_some_and(|now| now.is(&stale)) {
                    self.entries.insert(key.to_owned(), fresh);
                }
                lookup
            }
            Err(err) => {
                tracing::warn!(key, error = %err, "re-validating a cached trigger failed; serving it as cached");
                instruments::trigger_revalidation(false);
                stale.refreshing.store(false, Ordering::SeqCst);
                stale.lookup
            }
        }
    }

    /// Forgets `key` (its workflow changed).
    pub fn evict(&self, key: &str) {
        self.entries.remove(key);
    }

    /// Forgets everything (change events may have been missed).
    pub fn clear(&self) {
        self.entries.clear();
    }

    /// Whether change events are being followed, without which entries could go stale.
    pub fn is_following(&self) -> bool {
        self.following.load(Ordering::SeqCst)
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
    let Some(mut stream) = broker::subscribe_retrying(&*broker, Source::Changes).await else {
        return;
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
    use std::sync::atomic::AtomicUsize;

    use actix_web::{HttpResponse, dev::ServerHandle, web};

    use super::*;

    /// A client of a config-api that knows no workflow, counting how often it is asked for
    /// `hot`; the handle stops that config-api.
    fn stub_config_api(hot_fetches: Arc<AtomicUsize>) -> (ConfigApiClient, ServerHandle) {
        let (base_url, server) = shared::testkit::http_stub(move |routes| {
            let hot_fetches = Arc::clone(&hot_fetches);
            routes.route(
                "/internal/triggers/{key}",
                web::get().to(move |key: web::Path<String>| {
                    if key.as_str() == "hot" {
                        hot_fetches.fetch_add(1, Ordering::SeqCst);
                    }
                    async { HttpResponse::NotFound().finish() }
                }),
            );
        });
        let client = ConfigApiClient {
            http: shared::tls::http_client_builder(&Default::default())
                .build()
                .expect("client"),
            base_url,
            internal_token: "t".into(),
        };
        (client, server)
    }

    #[tokio::test]
    async fn a_full_cache_keeps_serving_the_keys_in_use() {
        let hot_fetches = Arc::new(AtomicUsize::new(0));
        let (client, server) = stub_config_api(Arc::clone(&hot_fetches));
        let cache = TriggerCache::new(client, 100, Duration::from_secs(60));
        for n in 0..1_000 {
            assert!(
                cache
                    .get(&format!("probe{n}"))
                    .await
                    .expect("fetch")
                    .is_none()
            );
            assert!(cache.get("hot").await.expect("fetch").is_none());
        }
        assert_eq!(hot_fetches.load(Ordering::SeqCst), 1, "`hot` fetched again");
        assert!(cache.entries.len() <= 100);
        assert!(cache.entries.len() > 50, "emptied instead of evicting");
        server.stop(false).await;
    }

    #[tokio::test]
    async fn entries_past_the_max_age_are_fetched_again_once_however_many_ask() {
        let hot_fetches = Arc::new(AtomicUsize::new(0));
        let (client, server) = stub_config_api(Arc::clone(&hot_fetches));
        let cache = TriggerCache::new(client, 100, Duration::from_millis(200));
        assert!(cache.get("hot").await.expect("fetch").is_none());
        assert!(cache.get("hot").await.expect("cached").is_none());
        assert_eq!(hot_fetches.load(Ordering::SeqCst), 1, "fetched while fresh");

        tokio::time::sleep(Duration::from_millis(250)).await;
        let lookups = futures_util::future::join_all((0..50).map(|_| cache.get("hot"))).await;
        assert!(lookups.iter().all(|lookup| matches!(lookup, Ok(None))));
        assert_eq!(hot_fetches.load(Ordering::SeqCst), 2, "one re-validation");
        assert!(cache.get("hot").await.expect("fresh again").is_none());
        assert_eq!(hot_fetches.load(Ordering::SeqCst), 2);
        server.stop(false).await;
    }

    #[tokio::test]
    async fn a_stale_entry_goes_on_serving_while_config_api_cannot_answer() {
        let hot_fetches = Arc::new(AtomicUsize::new(0));
        let (client, server) = stub_config_api(Arc::clone(&hot_fetches));
        let cache = TriggerCache::new(client, 100, Duration::from_millis(100));
        assert!(cache.get("hot").await.expect("fetch").is_none());
        server.stop(false).await;
        tokio::time::sleep(Duration::from_millis(150)).await;
        assert!(
            cache.get("hot").await.expect("served as cached").is_none(),
            "an outage of config-api is not an outage of the webhook"
        );
        assert!(
            cache.get("unknown").await.is_err(),
            "nothing cached to serve"
        );
    }

    #[test]
    fn only_lowercase_alphanumeric_keys_are_plausible() {
        assert!(is_plausible_key("1hfmkioou0d"));
        for bad in ["", "ABC", "a-b", "a.b", "..", "a b", &"a".repeat(65)] {
            assert!(!is_plausible_key(bad), "{bad}");
        }
    }
}
