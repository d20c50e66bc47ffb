//! Outbound HTTP for request nodes: one connection-reusing client per executor process,
//! whose every connection — redirects included — goes through the [`AddressPolicy`], and
//! which reads answers up to a size limit.
//!
//! Host names are checked on the addresses they resolve to, inside the client's resolver,
//! so the address checked is the address connected to (a name that resolves to a public
//! address when checked and to a private one when connecting cannot slip through). IP
//! literals never reach a resolver: [`Outbound::check_url`] checks them before a call, and
//! the redirect policy checks every redirect's target.

mod address_policy;

use std::{error::Error as StdError, net::SocketAddr, sync::Arc};

use ipnet::IpNet;
use reqwest::{
    Client,
    dns::{Addrs, Name, Resolve, Resolving},
    redirect,
};
use url::Url;

pub use address_policy::{AddressPolicy, RefusedAddress};

/// Most redirects a call follows.
pub const MAX_REDIRECTS: usize = 5;

/// The HTTP client of request nodes, with its address policy and answer size limit.
#[derive(Debug, Clone)]
pub struct Outbound {
    client: Client,
    policy: Arc<AddressPolicy>,
    max_response_bytes: u64,
}

/// A redirect the client did not follow.
#[derive(Debug, thiserror::Error)]
pub enum RedirectRefused {
    /// More than [`MAX_REDIRECTS`].
    #[error("more than {MAX_REDIRECTS} redirects")]
    TooMany,
    /// To something other than `http` or `https`.
    #[error("a redirect to a {0}: URL, which is neither http nor https")]
    Scheme(String),
}

impl Outbound {
    /// A client that refuses what the default policy refuses except the `allowed`
    /// networks, and reads answers up to `max_response_bytes`.
    pub fn new(allowed: Vec<IpNet>, max_response_bytes: u64) -> Result<Self, reqwest::Error> {
        let policy = Arc::new(AddressPolicy::new(allowed));
        let redirects = Arc::clone(&policy);
        let client = Client::builder()
            .user_agent(concat!("hookflow/", env!("CARGO_PKG_VERSION")))
            // Through a proxy the resolver would check the proxy's address, not the target's.
            .no_proxy()
            .dns_resolver(PolicyResolver {
                policy: Arc::clone(&policy),
            })
            .redirect(redirect::Policy::custom(move |attempt| {
                if attempt.previous().len() > MAX_REDIRECTS {
                    return attempt.error(RedirectRefused::TooMany);
                }
                let scheme = attempt.url().scheme().to_owned();
                if scheme != "http" && scheme != "https" {
                    return attempt.error(RedirectRefused::Scheme(scheme));
                }
                match redirects.check_url(attempt.url()) {
                    Ok(()) => attempt.follow(),
                    Err(refused) => attempt.error(refused),
                }
            }))
            .build()?;
        Ok(Outbound {
            client,
            policy,
            max_response_bytes,
        })
    }

    /// The client built from the executor's settings.
    pub fn from_config(config: &crate::config::Config) -> Result<Self, reqwest::Error> {
        Outbound::new(
            config.request_allowed_networks.clone(),
            config.request_max_response_bytes.get(),
        )
    }

    /// The client; clones share its connection pool.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Largest answer to read, in bytes.
    pub fn max_response_bytes(&self) -> u64 {
        self.max_response_bytes
    }

    /// Checks a URL before calling it (see [`AddressPolicy::check_url`]).
    pub fn check_url(&self, url: &Url) -> Result<(), RefusedAddress> {
        self.policy.check_url(url)
    }
}

/// The system resolver, keeping only the addresses the policy permits.
struct PolicyResolver {
    policy: Arc<AddressPolicy>,
}

impl Resolve for PolicyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = Arc::clone(&self.policy);
        let host = name.as_str().to_owned();
        Box::pin(async move {
            // `lookup_host` resolves on tokio's blocking pool, never on a runtime thread.
            let resolved: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let mut refused = None;
            let permitted: Vec<SocketAddr> = resolved
                .into_iter()
                .filter(|addr| match policy.check(addr.ip()) {
                    Ok(()) => true,
                    Err(err) => {
                        refused.get_or_insert(err);
                        false
                    }
                })
                .collect();
            match (permitted.is_empty(), refused) {
                (true, Some(refused)) => Err(Box::new(refused) as Box<dyn StdError + Send + Sync>),
                (true, None) => Err(format!("{host} resolves to no address").into()),
                (false, _) => Ok(Box::new(permitted.into_iter()) as Addrs),
            }
        })
    }
}

/// The first error of type `E` in `err`'s chain of causes.
pub fn find_cause<'a, E: StdError + 'static>(err: &'a (dyn StdError + 'static)) -> Option<&'a E> {
    let mut cause = Some(err);
    while let Some(current) = cause {
        if let Some(found) = current.downcast_ref::<E>() {
            return Some(found);
        }
        cause = current.source();
    }
    None
}
