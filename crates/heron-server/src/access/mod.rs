//! Who is calling and what they may do: authentication (issued keys,
//! environment keys, OIDC tokens), the access policy that enforces each
//! route's scope, the rate limits, and the client's address as trusted
//! proxies report it.

pub(crate) mod auth;
pub(crate) mod client_address;
pub(crate) mod limits;
pub(crate) mod oidc;
pub mod policy;
