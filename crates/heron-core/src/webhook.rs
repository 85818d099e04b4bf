//! Where webhooks may go, and how their bodies are signed.
//!
//! Only `http`/`https` URLs are accepted, and never to an address a
//! server-side request must not reach by default: link-local addresses
//! (169.254.0.0/16, fe80::/10), which include the cloud metadata services
//! (169.254.169.254, fd00:ec2::254), the unspecified address, broadcast and
//! multicast. Loopback and private addresses are allowed: internal
//! receivers are legitimate. `HERON_WEBHOOK_ALLOW_LINK_LOCAL` lifts the
//! ban. The check runs when a URL is submitted and again on the resolved
//! address at each delivery (so DNS cannot be used to slip past it).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why a webhook URL is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlRefused {
    #[error("not a URL: {0}")]
    Malformed(String),
    #[error("only http and https URLs are allowed, not {0:?}")]
    Scheme(String),
    #[error("the URL has no host")]
    NoHost,
    #[error("the URL may not carry credentials")]
    Credentials,
    #[error("{0} is a link-local, metadata, multicast or unspecified address")]
    Address(IpAddr),
}

/// Check a webhook URL as submitted; returns it parsed.
pub fn check_url(text: &str, allow_link_local: bool) -> Result<url::Url, UrlRefused> {
    let parsed = url::Url::parse(text.trim()).map_err(|e| UrlRefused::Malformed(e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(UrlRefused::Scheme(parsed.scheme().to_owned()));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(UrlRefused::Credentials);
    }
    match parsed.host() {
        None => return Err(UrlRefused::NoHost),
        Some(url::Host::Ipv4(ip)) => check_address(IpAddr::V4(ip), allow_link_local)?,
        Some(url::Host::Ipv6(ip)) => check_address(IpAddr::V6(ip), allow_link_local)?,
        Some(url::Host::Domain(_)) => {}
    }
    Ok(parsed)
}

/// Whether a delivery may connect to `address`.
pub fn check_address(address: IpAddr, allow_link_local: bool) -> Result<(), UrlRefused> {
    let forbidden = match address {
        IpAddr::V4(ip) => forbidden_v4(ip, allow_link_local),
        IpAddr::V6(ip) => match ip.to_ipv4_mapped() {
            Some(v4) => forbidden_v4(v4, allow_link_local),
            None => forbidden_v6(ip, allow_link_local),
        },
    };
    if forbidden {
        Err(UrlRefused::Address(address))
    } else {
        Ok(())
    }
}

fn forbidden_v4(ip: Ipv4Addr, allow_link_local: bool) -> bool {
    ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.octets()[0] == 0
        || (ip.is_link_local() && !allow_link_local)
}

fn forbidden_v6(ip: Ipv6Addr, allow_link_local: bool) -> bool {
    const AWS_METADATA: Ipv6Addr = Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254);
    let link_local = (ip.segments()[0] & 0xffc0) == 0xfe80;
    ip.is_unspecified()
        || ip.is_multicast()
        || ((link_local || ip == AWS_METADATA) && !allow_link_local)
}

/// The `Heron-Signature` header of a body sent at Unix time `timestamp`:
/// `t=<timestamp>,v1=<hex HMAC-SHA256 of "<timestamp>.<body>">`. Receivers
/// recompute it with the shared secret and reject stale timestamps.
pub fn signature(secret: &str, timestamp: u64, body: &[u8]) -> String {
    use hmac::{KeyInit, Mac};
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("t={timestamp},v1={hex}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_web_urls_to_reachable_addresses_are_accepted() {
        assert!(check_url("https://hooks.example.com/heron", false).is_ok());
        assert!(check_url("http://127.0.0.1:9000/hook", false).is_ok());
        assert!(check_url("http://10.1.2.3/hook", false).is_ok());
        for refused in [
            "ftp://example.com/x",
            "file:///etc/passwd",
            "http://169.254.169.254/latest/meta-data/",
            "http://[fe80::1]/x",
            "http://[fd00:ec2::254]/x",
            "http://[::ffff:169.254.169.254]/x",
            "http://0.0.0.0:80/",
            "http://user:pw@example.com/",
            "not a url",
        ] {
            assert!(
                check_url(refused, false).is_err(),
                "{refused} should be refused"
            );
        }
        assert!(check_url("http://169.254.169.254/", true).is_ok());
    }

    #[test]
    fn signatures_follow_the_documented_recipe() {
        // HMAC-SHA256("secret", "1700000000.{}") computed independently
        // (Python: hmac.new(b"secret", b"1700000000.{}", "sha256")).
        assert_eq!(
            signature("secret", 1_700_000_000, b"{}"),
            "t=1700000000,v1=b8569b78799ff9e3cbff0fc2d63a33a2b57f3282abd07c37ae5e8e7d79a5f163"
        );
    }
}
