//! Where webhooks may go, and how their bodies are signed.
//!
//! Only `http`/`https` URLs are accepted, and by default never to an
//! address inside the deployment's own networks: a tenant's callback URL
//! is a request Heron makes on its behalf from inside, so without this
//! rule it could reach (and, through delivery results, probe) loopback
//! services, private networks (10/8, 172.16/12, 192.168/16, 100.64/10,
//! fc00::/7), link-local addresses with the cloud metadata services
//! (169.254.0.0/16, fe80::/10, fd00:ec2::254), the unspecified address,
//! broadcast and multicast. `HERON_WEBHOOK_ALLOWED_NETWORKS` names the
//! internal receivers an operator does want reached (CIDRs);
//! `HERON_WEBHOOK_ALLOW_LINK_LOCAL` lifts the link-local ban. The check
//! runs when a URL is submitted and again on the resolved address at each
//! delivery (so DNS cannot be used to slip past it), and deliveries ignore
//! proxy variables (a proxy would connect where Heron did not check).

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
    #[error(
        "{0} is a loopback, private, link-local, metadata, multicast or unspecified address (HERON_WEBHOOK_ALLOWED_NETWORKS names internal receivers)"
    )]
    Address(IpAddr),
}

/// Which addresses webhooks may be delivered to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetworkPolicy {
    /// Internal networks an operator allows (loopback, private or
    /// link-local receivers of their own).
    pub allowed: Vec<ipnet::IpNet>,
    /// Allow every link-local address (metadata services included).
    pub allow_link_local: bool,
}

impl NetworkPolicy {
    /// Check a webhook URL as submitted; returns it parsed.
    pub fn check_url(&self, text: &str) -> Result<url::Url, UrlRefused> {
        let parsed =
            url::Url::parse(text.trim()).map_err(|e| UrlRefused::Malformed(e.to_string()))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(UrlRefused::Scheme(parsed.scheme().to_owned()));
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(UrlRefused::Credentials);
        }
        match parsed.host() {
            None => return Err(UrlRefused::NoHost),
            Some(url::Host::Ipv4(ip)) => self.check_address(IpAddr::V4(ip))?,
            Some(url::Host::Ipv6(ip)) => self.check_address(IpAddr::V6(ip))?,
            Some(url::Host::Domain(name)) if name.eq_ignore_ascii_case("localhost") => {
                self.check_address(IpAddr::V4(Ipv4Addr::LOCALHOST))?;
            }
            Some(url::Host::Domain(_)) => {}
        }
        Ok(parsed)
    }

    /// Whether a delivery may connect to `address`.
    pub fn check_address(&self, address: IpAddr) -> Result<(), UrlRefused> {
        let address = match address {
            IpAddr::V6(ip) => ip.to_ipv4_mapped().map_or(address, IpAddr::V4),
            v4 => v4,
        };
        if self.allowed.iter().any(|net| net.contains(&address)) {
            return Ok(());
        }
        let forbidden = match address {
            IpAddr::V4(ip) => forbidden_v4(ip, self.allow_link_local),
            IpAddr::V6(ip) => forbidden_v6(ip, self.allow_link_local),
        };
        if forbidden {
            Err(UrlRefused::Address(address))
        } else {
            Ok(())
        }
    }
}

fn forbidden_v4(ip: Ipv4Addr, allow_link_local: bool) -> bool {
    let [a, b, ..] = ip.octets();
    let shared = a == 100 && (64..128).contains(&b);
    ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_loopback()
        || ip.is_private()
        || shared
        || a == 0
        || (ip.is_link_local() && !allow_link_local)
}

fn forbidden_v6(ip: Ipv6Addr, allow_link_local: bool) -> bool {
    const AWS_METADATA: Ipv6Addr = Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254);
    let link_local = (ip.segments()[0] & 0xffc0) == 0xfe80;
    let unique_local = (ip.segments()[0] & 0xfe00) == 0xfc00;
    if ip == AWS_METADATA {
        return !allow_link_local;
    }
    ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || unique_local
        || (link_local && !allow_link_local)
}

/// The `Heron-Signature` header of a body sent at Unix time `timestamp`:
/// `t=<timestamp>,v1=<hex HMAC-SHA256 of "<timestamp>.<body>">`. Receivers
/// recompute it with the shared secret and reject stale timestamps.
pub fn signature(secret: &str, timestamp: u64, body: &[u8]) -> String {
    let hex = hmac_hex(secret, &[timestamp.to_string().as_bytes(), b".", body]);
    format!("t={timestamp},v1={hex}")
}

/// The hex HMAC-SHA256 under `key` of `parts` one after the other.
fn hmac_hex(key: &str, parts: &[&[u8]]) -> String {
    use hmac::{KeyInit, Mac};
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    for part in parts {
        mac.update(part);
    }
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The secret that signs `tenant`'s callbacks until it sets one of its
/// own: `whsec_` and the hex HMAC-SHA256 of `heron-callback-v1:<tenant>`
/// under the deployment's `HERON_WEBHOOK_SECRET`. Each tenant's differs,
/// and knowing one's (handed out by `heron callback-secret`) tells
/// nothing of another's, so no tenant can sign another's callbacks.
pub fn derived_callback_secret(deployment_secret: &str, tenant: &str) -> String {
    let hex = hmac_hex(
        deployment_secret,
        &[b"heron-callback-v1:", tenant.as_bytes()],
    );
    format!("whsec_{hex}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_tenant_has_its_own_derived_callback_secret() {
        let acme = derived_callback_secret("deployment", "acme");
        assert_eq!(acme, derived_callback_secret("deployment", "acme"));
        assert_ne!(acme, derived_callback_secret("deployment", "globex"));
        assert_ne!(acme, derived_callback_secret("another deployment", "acme"));
        // HMAC-SHA256("deployment", "heron-callback-v1:acme") computed
        // independently (Python: hmac.new(b"deployment",
        // b"heron-callback-v1:acme", "sha256").hexdigest()).
        assert_eq!(
            acme,
            "whsec_485a73173df0ab88d17ab412f531966696fc2488632d7d1079cc170ebc7f613b"
        );
    }

    #[test]
    fn only_web_urls_to_public_addresses_are_accepted_by_default() {
        let policy = NetworkPolicy::default();
        assert!(policy.check_url("https://hooks.example.com/heron").is_ok());
        assert!(policy.check_url("http://203.0.113.9:8080/hook").is_ok());
        assert!(policy.check_url("http://[2001:db8::1]/hook").is_ok());
        for refused in [
            "ftp://example.com/x",
            "file:///etc/passwd",
            "http://127.0.0.1:9000/hook",
            "http://localhost:9000/hook",
            "http://[::1]/hook",
            "http://10.1.2.3/hook",
            "http://172.20.0.5/hook",
            "http://192.168.1.1/admin",
            "http://100.100.100.200/latest/meta-data/",
            "http://[fd12:3456::1]/x",
            "http://169.254.169.254/latest/meta-data/",
            "http://[fe80::1]/x",
            "http://[fd00:ec2::254]/x",
            "http://[::ffff:169.254.169.254]/x",
            "http://[::ffff:127.0.0.1]/x",
            "http://0.0.0.0:80/",
            "http://user:pw@example.com/",
            "not a url",
        ] {
            assert!(
                policy.check_url(refused).is_err(),
                "{refused} should be refused"
            );
        }
    }

    #[test]
    fn an_operator_names_the_internal_receivers_it_wants() {
        let policy = NetworkPolicy {
            allowed: vec![
                "10.8.0.0/16".parse().unwrap(),
                "127.0.0.1/32".parse().unwrap(),
            ],
            allow_link_local: false,
        };
        assert!(policy.check_url("http://10.8.3.4/hook").is_ok());
        assert!(policy.check_url("http://127.0.0.1:9000/hook").is_ok());
        assert!(policy.check_url("http://10.9.0.1/hook").is_err());
        assert!(policy.check_url("http://169.254.169.254/").is_err());
        let link_local = NetworkPolicy {
            allow_link_local: true,
            ..NetworkPolicy::default()
        };
        assert!(link_local.check_url("http://169.254.169.254/").is_ok());
        assert!(link_local.check_url("http://127.0.0.1/").is_err());
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
