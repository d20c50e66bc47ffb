//! `allowedIps`: only callers from the listed CIDR ranges reach the workflow (docs/workflows.md).
//!
//! The caller is the TCP peer, or, with `HOOKFLOW_TRUST_FORWARDED_FOR=true` (ingress behind
//! a load balancer), the left-most `X-Forwarded-For` address. Only trust that header when
//! the load balancer sets it and the ingress cannot be reached around it: otherwise any
//! caller can claim any address.

use std::net::{IpAddr, SocketAddr};

use actix_web::{HttpRequest, http::header::HeaderMap};
use shared::trigger_settings::parse_ip_range;

use crate::error::WebhookError;

const FORWARDED_FOR: &str = "x-forwarded-for";

/// The caller's address: the TCP peer, or the left-most `X-Forwarded-For` entry when
/// `trust_forwarded_for` (falling back to the peer when the header is absent). `None`
/// when it cannot be told.
pub fn caller(request: &HttpRequest, trust_forwarded_for: bool) -> Option<IpAddr> {
    let peer = request.peer_addr().map(|addr| addr.ip());
    caller_of(request.headers(), peer, trust_forwarded_for)
}

fn caller_of(
    headers: &HeaderMap,
    peer: Option<IpAddr>,
    trust_forwarded_for: bool,
) -> Option<IpAddr> {
    let address = match headers.get(FORWARDED_FOR) {
        Some(value) if trust_forwarded_for => left_most(value.to_str().ok()?)?,
        _ => peer?,
    };
    // An IPv4 client of a dual-stack listener shows as ::ffff:a.b.c.d.
    Some(address.to_canonical())
}

/// The first address of an `X-Forwarded-For` list; some proxies add the port.
fn left_most(list: &str) -> Option<IpAddr> {
    let first = list.split(',').next()?.trim().trim_matches('"');
    first
        .parse::<IpAddr>()
        .or_else(|_| first.parse::<SocketAddr>().map(|addr| addr.ip()))
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

    #[test]
    fn the_peer_is_the_caller_unless_forwarded_for_is_trusted() {
        let peer = Some(ip("10.0.0.5"));
        let headers = forwarded("203.0.113.9, 10.0.0.1");
        assert_eq!(caller_of(&headers, peer, false), peer);
        assert_eq!(caller_of(&headers, peer, true), Some(ip("203.0.113.9")));
        assert_eq!(caller_of(&HeaderMap::new(), peer, true), peer);
        assert_eq!(caller_of(&forwarded("garbage"), peer, true), None);
        assert_eq!(
            caller_of(&forwarded("[2001:db8::7]:443"), peer, true),
            Some(ip("2001:db8::7"))
        );
        assert_eq!(
            caller_of(&forwarded("198.51.100.4:5000"), peer, true),
            Some(ip("198.51.100.4"))
        );
    }

    #[test]
    fn ipv4_mapped_peers_count_as_ipv4() {
        let mapped = Some(ip("::ffff:10.0.0.5"));
        assert_eq!(
            caller_of(&HeaderMap::new(), mapped, false),
            Some(ip("10.0.0.5"))
        );
    }
}
