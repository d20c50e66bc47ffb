//! Which addresses a request node may connect to: by default none of the loopback, private,
//! link-local, unique-local, shared (CGNAT) or cloud-metadata ranges, so that a workflow
//! document cannot reach the services next to the executor; an operator opens chosen
//! ranges with `HOOKFLOW_REQUEST_ALLOWED_NETWORKS`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;
use url::{Host, Url};

/// The outbound address policy.
#[derive(Debug, Clone, Default)]
pub struct AddressPolicy {
    allowed: Vec<IpNet>,
}

/// A connection the policy refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the address {address} is refused: it is {reason} (HOOKFLOW_REQUEST_ALLOWED_NETWORKS can permit it)"
)]
pub struct RefusedAddress {
    /// The address.
    pub address: IpAddr,
    /// What kind of address it is, e.g. `a loopback address`.
    pub reason: &'static str,
}

impl AddressPolicy {
    /// The default policy, with `allowed` opened.
    pub fn new(allowed: Vec<IpNet>) -> Self {
        AddressPolicy { allowed }
    }

    /// Whether a connection to `address` may be made.
    pub fn check(&self, address: IpAddr) -> Result<(), RefusedAddress> {
        // `::ffff:127.0.0.1` reaches 127.0.0.1: judge the address it stands for.
        let address = match address {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
            v4 => v4,
        };
        let Some(reason) = refusal(address) else {
            return Ok(());
        };
        let opened = self.allowed.iter().any(|net| {
            // Opening a whole range (say 169.254.0.0/16) does not open the metadata
            // service inside it; only an entry naming that very address does.
            net.contains(&address)
                && (!is_metadata(address) || net.prefix_len() == net.max_prefix_len())
        });
        if opened {
            Ok(())
        } else {
            Err(RefusedAddress { address, reason })
        }
    }

    /// Checks a URL whose host is an IP address. Such hosts are never resolved, so the
    /// resolver's check does not see them; a host name passes here and is checked on
    /// every address it resolves to.
    pub fn check_url(&self, url: &Url) -> Result<(), RefusedAddress> {
        match url.host() {
            Some(Host::Ipv4(v4)) => self.check(IpAddr::V4(v4)),
            Some(Host::Ipv6(v6)) => self.check(IpAddr::V6(v6)),
            Some(Host::Domain(_)) | None => Ok(()),
        }
    }
}

/// The cloud metadata services (AWS, GCP, Azure, OpenStack: 169.254.169.254; AWS over
/// IPv6: fd00:ec2::254).
fn is_metadata(address: IpAddr) -> bool {
    const V6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x0254);
    match address {
        IpAddr::V4(v4) => v4 == Ipv4Addr::new(169, 254, 169, 254),
        IpAddr::V6(v6) => v6 == V6,
    }
}

/// Why `address` is refused by default, `None` for a public address.
fn refusal(address: IpAddr) -> Option<&'static str> {
    if is_metadata(address) {
        return Some("a cloud metadata address");
    }
    match address {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            if v4.is_loopback() {
                Some("a loopback address")
            } else if v4.is_private() {
                Some("a private address")
            } else if v4.is_link_local() {
                Some("a link-local address")
            } else if a == 100 && (64..128).contains(&b) {
                Some("a shared (CGNAT) address")
            } else if a == 0 {
                // Connecting to 0.0.0.0 reaches the local host on Linux.
                Some("an unspecified address")
            } else if v4.is_multicast() || v4.is_broadcast() || a >= 240 {
                Some("a multicast or reserved address")
            } else {
                None
            }
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            if v6.is_loopback() {
                Some("a loopback address")
            } else if v6.is_unspecified() {
                Some("an unspecified address")
            } else if first & 0xfe00 == 0xfc00 {
                Some("a unique-local address")
            } else if first & 0xffc0 == 0xfe80 {
                Some("a link-local address")
            } else if v6.is_multicast() {
                Some("a multicast or reserved address")
            } else {
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(policy: &AddressPolicy, address: &str) -> Option<&'static str> {
        let address: IpAddr = address.parse().expect("an address");
        policy.check(address).err().map(|refused| refused.reason)
    }

    #[test]
    fn inner_addresses_are_refused_and_public_ones_pass() {
        let policy = AddressPolicy::default();
        for (address, reason) in [
            ("127.0.0.1", "a loopback address"),
            ("127.8.9.10", "a loopback address"),
            ("10.1.2.3", "a private address"),
            ("172.16.0.1", "a private address"),
            ("192.168.1.1", "a private address"),
            ("169.254.1.1", "a link-local address"),
            ("169.254.169.254", "a cloud metadata address"),
            ("100.64.0.1", "a shared (CGNAT) address"),
            ("0.0.0.0", "an unspecified address"),
            ("255.255.255.255", "a multicast or reserved address"),
            ("224.0.0.1", "a multicast or reserved address"),
            ("::1", "a loopback address"),
            ("::", "an unspecified address"),
            ("fc00::1", "a unique-local address"),
            ("fd12:3456::1", "a unique-local address"),
            ("fd00:ec2::254", "a cloud metadata address"),
            ("fe80::1", "a link-local address"),
            ("::ffff:127.0.0.1", "a loopback address"),
            ("::ffff:10.0.0.1", "a private address"),
        ] {
            assert_eq!(refused(&policy, address), Some(reason), "{address}");
        }
        for address in ["93.184.215.14", "8.8.8.8", "100.128.0.1", "2606:4700::1111"] {
            assert_eq!(refused(&policy, address), None, "{address}");
        }
    }

    #[test]
    fn allowed_networks_open_their_ranges_but_not_the_metadata_service_inside_one() {
        let nets = ["127.0.0.1/32", "169.254.0.0/16", "fd00::/8"]
            .map(|net| net.parse().expect("a network"))
            .to_vec();
        let policy = AddressPolicy::new(nets);
        assert_eq!(refused(&policy, "127.0.0.1"), None);
        assert_eq!(refused(&policy, "127.0.0.2"), Some("a loopback address"));
        assert_eq!(refused(&policy, "169.254.10.10"), None);
        assert_eq!(
            refused(&policy, "169.254.169.254"),
            Some("a cloud metadata address")
        );
        assert_eq!(
            refused(&policy, "fd00:ec2::254"),
            Some("a cloud metadata address")
        );
        let named = AddressPolicy::new(vec!["169.254.169.254/32".parse().expect("a network")]);
        assert_eq!(refused(&named, "169.254.169.254"), None);
    }

    #[test]
    fn urls_with_address_hosts_are_checked_and_host_names_left_to_the_resolver() {
        let policy = AddressPolicy::default();
        let check = |url: &str| policy.check_url(&Url::parse(url).expect("a URL"));
        assert!(check("http://127.0.0.1:8080/x").is_err());
        // The URL parser reads every spelling of an IPv4 address as that address.
        assert!(check("http://2130706433/").is_err());
        assert!(check("http://0x7f.1/").is_err());
        assert!(check("http://[::1]/").is_err());
        assert!(check("http://[::ffff:169.254.169.254]/").is_err());
        assert!(check("https://api.example.com/").is_ok());
    }
}
