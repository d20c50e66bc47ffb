//! `allowedIps`: only callers from the listed CIDR ranges reach the workflow (docs/workflows.md).
//!
//! The caller is the TCP peer, unless the peer is one of `HOOKFLOW_TRUSTED_PROXIES` (ingress
//! behind load balancers): then it is the right-most `X-Forwarded-For` address that is not
//! a trusted proxy. Each proxy appends the address it was called from, so the entries right
//! of the first untrusted one were written by trusted proxies, and anything left of it may
//! be made up by the caller.

use std::net::{IpAddr, SocketAddr};

use actix_web::{HttpRequest, http::header::HeaderMap};
use ipnet::IpNet;
use shared::trigger_settings::parse_ip_range;

use crate::error::WebhookError;

const FORWARDED_FOR: &str = "x-forwarded-for";

/// The caller's address (see the module documentation); `None` when it cannot be told:
/// no peer address, or a trusted proxy forwarded an entry that is not an address.
pub fn caller(request: &HttpRequest, trusted_proxies: &[IpNet]) -> Option<IpAddr> {
    let peer = request.peer_addr().map(|addr| addr.ip());
    caller_of(request.headers(), peer, trusted_proxies)
}

fn caller_of(headers: &HeaderMap, peer: Option<IpAddr>, trusted: &[IpNet]) -> Option<IpAddr> {
    // An IPv4 client of a dual-stack listener shows as ::ffff:a.b.c.d.
    let mut caller = peer?.to_canonical();
    if !is_trusted(trusted, caller) {
        return Some(caller);
    }
    // Several X-Forwarded-For headers read as one list, in the order they came.
    let mut entries = Vec::new();
    for value in headers.get_all(FORWARDED_FOR) {
        entries.extend(value.to_str().ok()?.split(','));
    }
    for entry in entries.iter().rev().map(|entry| entry.trim()) {
        if entry.is_empty() {
            continue;
        }
        caller = address(entry)?.to_canonical();
        if !is_trusted(trusted, caller) {
            return Some(caller);
        }
    }
    // Every hop was a trusted proxy: the first of them made the call.
    Some(caller)
}

fn is_trusted(trusted: &[IpNet], address: IpAddr) -> bool {
    trusted.iter().any(|range| range.contains(&address))
}

/// One `X-Forwarded-For` entry; some proxies add the port, or quote it.
fn address(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim_matches('"');
    entry
        .parse::<IpAddr>()
        .or_else(|_| entry.parse::<SocketAddr>().map(|addr| addr.ip()))
        .ok()
}

/// Refuses `caller` unless an entry of `allowed` contains it. Entries that do not parse
/// (validation refuses them) match nothing.
pub fn check(allowed: &[String], caller: Option<IpAddr>) -> Result<(), WebhookError> {
    let Some(caller) = caller else {
        return Err(WebhookError::Forbidden(
            "The caller's address cannot be determined, and this webhook admits only listed addresses."
                .into(),
        ));
    };
    let listed = allowed
        .iter()
        .filter_map(|entry| parse_ip_range(entry))
        .any(|range| range.contains(&caller));
    if listed {
        Ok(())
    } else {
        Err(WebhookError::Forbidden(format!(
            "Calls from {caller} are not allowed to this webhook."
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("ip")
    }

    fn list(entries: &[&str]) -> Vec<String> {
        entries.iter().map(|entry| (*entry).to_owned()).collect()
    }

    fn forwarded(value: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            HeaderName::from_static(FORWARDED_FOR),
            HeaderValue::from_static(value),
        );
        headers
    }

    #[test]
    fn cidr_ranges_and_bare_addresses_match_their_members() {
        let allowed = list(&["10.0.0.0/8", "192.168.1.7", "2001:db8::/32", "::1"]);
        for inside in [
            "10.0.0.1",
            "10.255.255.255",
            "192.168.1.7",
            "2001:db8::42",
            "::1",
        ] {
            assert!(check(&allowed, Some(ip(inside))).is_ok(), "{inside}");
        }
        for outside in ["11.0.0.1", "192.168.1.8", "2001:db9::1", "::2", "127.0.0.1"] {
            let err = check(&allowed, Some(ip(outside))).expect_err(outside);
            assert_eq!(err.code(), "forbidden");
            assert_eq!(
                err.to_string(),
                format!("Calls from {outside} are not allowed to this webhook.")
            );
        }
    }

    #[test]
    fn host_bits_in_a_range_do_not_narrow_it() {
        let allowed = list(&["10.1.2.3/16"]);
        assert!(check(&allowed, Some(ip("10.1.200.1"))).is_ok());
        assert!(check(&allowed, Some(ip("10.2.0.1"))).is_err());
    }

    #[test]
    fn an_empty_list_or_an_unknown_caller_admits_nobody() {
        assert!(check(&[], Some(ip("10.0.0.1"))).is_err());
        assert!(check(&list(&["0.0.0.0/0"]), None).is_err());
        assert!(check(&list(&["0.0.0.0/0"]), Some(ip("203.0.113.9"))).is_ok());
        assert!(check(&list(&["0.0.0.0/0"]), Some(ip("2001:db8::1"))).is_err());
    }

    fn proxies(list: &str) -> Vec<IpNet> {
        shared::trigger_settings::parse_ip_ranges(list).expect("proxies")
    }

    #[test]
    fn without_trusted_proxies_the_peer_is_the_caller() {
        let peer = Some(ip("10.0.0.5"));
        let headers = forwarded("203.0.113.9, 10.0.0.1");
        assert_eq!(caller_of(&headers, peer, &[]), peer);
        assert_eq!(caller_of(&HeaderMap::new(), None, &[]), None);
    }

    #[test]
    fn a_peer_that_is_not_a_trusted_proxy_is_the_caller_whatever_it_forwards() {
        let trusted = proxies("10.0.0.0/8");
        let peer = Some(ip("198.51.100.20"));
        assert_eq!(caller_of(&forwarded("10.0.0.1"), peer, &trusted), peer);
    }

    #[test]
    fn behind_trusted_proxies_the_caller_is_the_right_most_untrusted_entry() {
        let trusted = proxies("10.0.0.0/8, 192.168.0.1");
        let peer = Some(ip("10.0.0.5"));
        // The left-most entry is whatever the caller sent; the proxies appended the rest.
        let spoofed = forwarded("1.2.3.4, 203.0.113.9, 192.168.0.1");
        assert_eq!(caller_of(&spoofed, peer, &trusted), Some(ip("203.0.113.9")));
        assert_eq!(caller_of(&HeaderMap::new(), peer, &trusted), peer);
        assert_eq!(
            caller_of(&forwarded("10.1.1.1, 10.2.2.2"), peer, &trusted),
            Some(ip("10.1.1.1")),
            "every hop trusted: the first one called"
        );
        assert_eq!(
            caller_of(&forwarded("1.2.3.4, garbage"), peer, &trusted),
            None
        );
        assert_eq!(
            caller_of(&forwarded("garbage, 203.0.113.9"), peer, &trusted),
            Some(ip("203.0.113.9")),
            "what the caller wrote left of the client is never read"
        );
        assert_eq!(
            caller_of(&forwarded("[2001:db8::7]:443"), peer, &trusted),
            Some(ip("2001:db8::7"))
        );
        assert_eq!(
            caller_of(&forwarded("198.51.100.4:5000"), peer, &trusted),
            Some(ip("198.51.100.4"))
        );
    }

    #[test]
    fn repeated_forwarded_for_headers_read_as_one_list() {
        let mut headers = forwarded("1.2.3.4");
        headers.append(
            HeaderName::from_static(FORWARDED_FOR),
            HeaderValue::from_static("203.0.113.9, 10.0.0.2"),
        );
        let trusted = proxies("10.0.0.0/8");
        assert_eq!(
            caller_of(&headers, Some(ip("10.0.0.5")), &trusted),
            Some(ip("203.0.113.9"))
        );
    }

    #[test]
    fn ipv4_mapped_peers_count_as_ipv4() {
        let mapped = Some(ip("::ffff:10.0.0.5"));
        assert_eq!(
            caller_of(&HeaderMap::new(), mapped, &[]),
            Some(ip("10.0.0.5"))
        );
        let trusted = proxies("10.0.0.0/8");
        assert_eq!(
            caller_of(&forwarded("::ffff:203.0.113.9"), mapped, &trusted),
            Some(ip("203.0.113.9"))
        );
    }
}
