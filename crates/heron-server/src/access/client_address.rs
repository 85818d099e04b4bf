//! The client's address, for the failed-authentication limit and the logs.
//!
//! The socket's peer is the client unless the peer is one of
//! `HERON_TRUSTED_PROXIES`; then the proxy's `Forwarded` (RFC 7239) or
//! `X-Forwarded-For` header names it. Those headers are lists that every
//! proxy appends to, so they are read from the right: the first address
//! that is not itself a trusted proxy is the client. Anything a client
//! wrote further left is its own claim and never believed, and a header
//! from an untrusted peer is ignored altogether, so nobody can pick the
//! address they are counted under.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, Request};
use axum::http::HeaderMap;
use ipnet::IpNet;

/// The client's address of `request` (see the module docs); `None` when
/// the connection's peer is unknown (requests built in tests).
pub fn of(request: &Request, trusted: &[IpNet]) -> Option<IpAddr> {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())?;
    Some(resolve(peer, request.headers(), trusted))
}

/// The client behind `peer`, given the request's forwarding headers.
pub fn resolve(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |address: &IpAddr| trusted.iter().any(|net| net.contains(address));
    if !is_trusted(&peer) {
        return peer;
    }
    let chain = forwarded_chain(headers);
    // Right to left: the nearest hop first. An unparsable hop ends the
    // walk (it cannot be checked against the trusted list).
    let mut client = peer;
    for hop in chain.iter().rev() {
        let Some(address) = hop else {
            break;
        };
        client = *address;
        if !is_trusted(address) {
            break;
        }
    }
    client
}

/// The addresses the proxies recorded, first (farthest) to last; `None`
/// for an entry that is not an address (`unknown`, obfuscated names).
/// `Forwarded` is preferred when present, as the standard form.
fn forwarded_chain(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let forwarded: Vec<Option<IpAddr>> = headers
        .get_all("forwarded")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|element| {
            element.split(';').find_map(|pair| {
                let (name, value) = pair.split_once('=')?;
                name.trim()
                    .eq_ignore_ascii_case("for")
                    .then(|| parse_node(value))
            })
        })
        .collect();
    if !forwarded.is_empty() {
        return forwarded;
    }
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(parse_node)
        .collect()
}

/// `192.0.2.1`, `"192.0.2.1:4711"`, `"[2001:db8::1]:4711"`, `2001:db8::1`.
fn parse_node(value: &str) -> Option<IpAddr> {
    let value = value.trim().trim_matches('"');
    if let Ok(address) = value.parse::<IpAddr>() {
        return Some(address);
    }
    if let Some(rest) = value.strip_prefix('[') {
        return rest.split_once(']')?.0.parse().ok();
    }
    // IPv4 with a port.
    let (host, port) = value.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    host.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_claims() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let claims = headers(&[("x-forwarded-for", "1.2.3.4"), ("forwarded", "for=5.6.7.8")]);
        assert_eq!(
            resolve(ip("203.0.113.9"), &claims, &trusted),
            ip("203.0.113.9")
        );
        assert_eq!(resolve(ip("203.0.113.9"), &claims, &[]), ip("203.0.113.9"));
    }

    #[test]
    fn a_trusted_proxy_names_the_nearest_untrusted_hop() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        // The client forged the first entry; the ingress appended the
        // real one; an inner proxy appended itself.
        let chain = headers(&[("x-forwarded-for", "6.6.6.6, 198.51.100.7, 10.1.2.3")]);
        assert_eq!(
            resolve(ip("10.0.0.5"), &chain, &trusted),
            ip("198.51.100.7")
        );
        let standard = headers(&[(
            "forwarded",
            "for=\"6.6.6.6:1000\", for=\"[2001:db8::17]:4711\";proto=https",
        )]);
        assert_eq!(
            resolve(ip("10.0.0.5"), &standard, &trusted),
            ip("2001:db8::17")
        );
        // No header: the proxy itself.
        assert_eq!(
            resolve(ip("10.0.0.5"), &HeaderMap::new(), &trusted),
            ip("10.0.0.5")
        );
        // An unparsable hop stops the walk at the last checked address.
        let obfuscated = headers(&[("forwarded", "for=1.1.1.1, for=_hidden")]);
        assert_eq!(
            resolve(ip("10.0.0.5"), &obfuscated, &trusted),
            ip("10.0.0.5")
        );
    }
}
