//! Bearer JWTs from OpenID Connect issuers.
//!
//! Each configured issuer's discovery document names its JWKS; keys are
//! fetched on first use, cached for `HERON_OIDC_JWKS_CACHE_SECS`, and
//! fetched again early when a token names a key id the cache lacks (the
//! issuer rotated its keys) — at most once per [`REFRESH_COOLDOWN`], so
//! tokens with made-up key ids cannot make Heron hammer the issuer.
//!
//! A token is accepted when its signature verifies with the issuer's key
//! for its `kid` under the key's own algorithm (RS256 or ES256; HS256 only
//! with `HERON_JWT_HS256_SECRET`, for development), `iss` is a configured
//! issuer, `aud` is present and contains `HERON_OIDC_AUDIENCE` (a token
//! without `aud` is refused: it was minted for no one in particular), and
//! `exp`/`nbf` hold within the allowed clock skew. The tenant and roles
//! come from configurable claims, and the tenant must be one the issuer
//! may speak for (`HERON_OIDC_ISSUER_TENANTS`; required for every issuer
//! when there are several, so one identity provider cannot assert
//! another's tenants).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use heron_core::Settings;
use heron_core::access::{Role, Scopes, valid_tenant_id};
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use tokio::sync::Mutex;

use crate::access::auth::Principal;

/// The least time between two early JWKS fetches of one issuer.
const REFRESH_COOLDOWN: Duration = Duration::from_secs(2);

/// Why a token was refused (told to the client: none of it is secret).
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("malformed token: {0}")]
    Malformed(String),
    #[error("issuer {0:?} is not trusted")]
    UnknownIssuer(String),
    #[error("algorithm {0:?} is not accepted")]
    Algorithm(String),
    #[error("no key {0:?} in the issuer's key set")]
    UnknownKey(String),
    #[error("the issuer's keys could not be fetched: {0}")]
    Discovery(String),
    #[error("{0}")]
    Rejected(String),
    #[error("the token has no valid {0:?} claim")]
    MissingClaim(String),
    #[error("the token's issuer may not speak for tenant {0:?}")]
    TenantNotBound(String),
}

/// Verifies tokens of the configured issuers.
pub struct Verifier {
    issuers: Vec<Issuer>,
    audience: Option<String>,
    tenant_claim: String,
    roles_claim: String,
    leeway: Duration,
    cache_for: Duration,
    hs256: Option<DecodingKey>,
    http: reqwest::Client,
}

struct Issuer {
    url: String,
    /// The tenants this issuer may assert; `None`: any (the only issuer,
    /// or one bound to `*`).
    tenants: Option<Vec<String>>,
    keys: Mutex<KeyCache>,
}

#[derive(Default)]
struct KeyCache {
    keys: HashMap<String, (DecodingKey, Algorithm)>,
    fetched_at: Option<Instant>,
}

#[derive(Deserialize)]
struct Discovery {
    issuer: String,
    jwks_uri: String,
}

impl Verifier {
    /// A verifier for `settings`, or `None` when no issuer and no HS256
    /// secret are configured. Issuers must be https (plain http only on a
    /// loopback address) and need an audience.
    pub fn from_settings(settings: &Settings) -> Result<Option<Arc<Verifier>>, String> {
        if settings.oidc_issuers.is_empty() && settings.jwt_hs256_secret.is_none() {
            return Ok(None);
        }
        if !settings.oidc_issuers.is_empty() && settings.oidc_audience.is_none() {
            return Err("HERON_OIDC_ISSUERS needs HERON_OIDC_AUDIENCE".to_owned());
        }
        for issuer in &settings.oidc_issuers {
            check_issuer_url(issuer)?;
        }
        let issuers = issuers_with_tenants(settings)?;
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("building the OIDC client: {e}"))?;
        Ok(Some(Arc::new(Verifier {
            issuers,
            audience: settings.oidc_audience.clone(),
            tenant_claim: settings.oidc_tenant_claim.clone(),
            roles_claim: settings.oidc_roles_claim.clone(),
            leeway: settings.oidc_leeway,
            cache_for: settings.oidc_jwks_cache,
            hs256: settings
                .jwt_hs256_secret
                .as_ref()
                .map(|s| DecodingKey::from_secret(s.expose().as_bytes())),
            http,
        })))
    }

    /// The caller a token names, if it verifies.
    pub async fn verify(&self, token: &str) -> Result<Principal, TokenError> {
        let header =
            jsonwebtoken::decode_header(token).map_err(|e| TokenError::Malformed(e.to_string()))?;
        let issuer_url = unverified_issuer(token)?;
        let (key, algorithm) = match header.alg {
            Algorithm::HS256 => {
                let key = self
                    .hs256
                    .clone()
                    .ok_or_else(|| TokenError::Algorithm("HS256".to_owned()))?;
                (key, Algorithm::HS256)
            }
            Algorithm::RS256 | Algorithm::ES256 => {
                let issuer = self
                    .issuers
                    .iter()
                    .find(|i| i.url == issuer_url.trim_end_matches('/'))
                    .ok_or_else(|| TokenError::UnknownIssuer(issuer_url.clone()))?;
                let kid = header
                    .kid
                    .ok_or_else(|| TokenError::Malformed("no kid in the header".to_owned()))?;
                let (key, algorithm) = self.key(issuer, &kid).await?;
                if algorithm != header.alg {
                    return Err(TokenError::Algorithm(format!("{:?}", header.alg)));
                }
                (key, algorithm)
            }
            other => return Err(TokenError::Algorithm(format!("{other:?}"))),
        };
        let mut validation = Validation::new(algorithm);
        validation.leeway = self.leeway.as_secs();
        validation.validate_nbf = true;
        match &self.audience {
            Some(audience) => {
                validation.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
                validation.set_audience(&[audience]);
            }
            // HS256 for development without an audience configured.
            None => {
                validation.set_required_spec_claims(&["exp", "iss", "sub"]);
                validation.validate_aud = false;
            }
        }
        if !self.issuers.is_empty() {
            let accepted: Vec<String> = self
                .issuers
                .iter()
                .flat_map(|i| [i.url.clone(), format!("{}/", i.url)])
                .collect();
            validation.set_issuer(&accepted);
        }
        let claims = jsonwebtoken::decode::<serde_json::Value>(token, &key, &validation)
            .map_err(|e| TokenError::Rejected(rejection(&e)))?
            .claims;
        self.principal(&issuer_url, &claims)
    }

    fn principal(&self, issuer: &str, claims: &serde_json::Value) -> Result<Principal, TokenError> {
        let tenant = claims
            .get(&self.tenant_claim)
            .and_then(|v| v.as_str())
            .filter(|t| valid_tenant_id(t))
            .ok_or_else(|| TokenError::MissingClaim(self.tenant_claim.clone()))?;
        let allowed = self
            .issuers
            .iter()
            .find(|i| i.url == issuer.trim_end_matches('/'))
            .and_then(|i| i.tenants.as_ref());
        if allowed.is_some_and(|tenants| !tenants.iter().any(|t| t == tenant)) {
            return Err(TokenError::TenantNotBound(tenant.to_owned()));
        }
        let roles: Vec<String> = match claims.get(&self.roles_claim) {
            Some(serde_json::Value::Array(items)) => items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            Some(serde_json::Value::String(text)) => {
                text.split_whitespace().map(str::to_owned).collect()
            }
            _ => Vec::new(),
        };
        // Unknown role names grant nothing (an identity provider has roles
        // of its own for other applications).
        let scopes = roles
            .iter()
            .filter_map(|r| r.parse::<Role>().ok())
            .fold(Scopes::NONE, |scopes, role| scopes.union(role.scopes()));
        let subject = claims.get("sub").and_then(|v| v.as_str()).unwrap_or("");
        let actor = format!("token:{issuer}#{subject}");
        Ok(Principal {
            tenant: tenant.to_owned(),
            scopes,
            rate_key: actor.clone(),
            actor,
            session_csrf: None,
            expires_at_ms: claims
                .get("exp")
                .and_then(serde_json::Value::as_i64)
                .map(|seconds| seconds.saturating_mul(1000)),
        })
    }

    /// The issuer's key `kid`, from the cache or a fresh JWKS.
    async fn key(
        &self,
        issuer: &Issuer,
        kid: &str,
    ) -> Result<(DecodingKey, Algorithm), TokenError> {
        let mut cache = issuer.keys.lock().await;
        let fresh = cache
            .fetched_at
            .is_some_and(|at| at.elapsed() < self.cache_for);
        if fresh && let Some(found) = cache.keys.get(kid) {
            return Ok(found.clone());
        }
        let may_refresh = !fresh
            || cache
                .fetched_at
                .is_none_or(|at| at.elapsed() >= REFRESH_COOLDOWN);
        if may_refresh {
            match self.fetch_keys(&issuer.url).await {
                Ok(keys) => {
                    cache.keys = keys;
                    cache.fetched_at = Some(Instant::now());
                }
                // Keep using the keys we have while the issuer is away.
                Err(e) if cache.keys.is_empty() => return Err(e),
                Err(e) => tracing::warn!(issuer = %issuer.url, error = %e, "JWKS refresh failed"),
            }
        }
        cache
            .keys
            .get(kid)
            .cloned()
            .ok_or_else(|| TokenError::UnknownKey(kid.to_owned()))
    }

    async fn fetch_keys(
        &self,
        issuer: &str,
    ) -> Result<HashMap<String, (DecodingKey, Algorithm)>, TokenError> {
        let discovery: Discovery = self
            .get_json(&format!("{issuer}/.well-known/openid-configuration"))
            .await?;
        if discovery.issuer.trim_end_matches('/') != issuer {
            return Err(TokenError::Discovery(format!(
                "the discovery document names issuer {:?}",
                discovery.issuer
            )));
        }
        let set: JwkSet = self.get_json(&discovery.jwks_uri).await?;
        let mut keys = HashMap::new();
        for jwk in &set.keys {
            let Some(kid) = jwk.common.key_id.clone() else {
                continue;
            };
            let algorithm = match &jwk.algorithm {
                AlgorithmParameters::RSA(_) => Algorithm::RS256,
                AlgorithmParameters::EllipticCurve(ec) if ec.curve == EllipticCurve::P256 => {
                    Algorithm::ES256
                }
                _ => continue,
            };
            match DecodingKey::from_jwk(jwk) {
                Ok(key) => {
                    keys.insert(kid, (key, algorithm));
                }
                Err(e) => tracing::warn!(issuer, kid, error = %e, "unusable key in the JWKS"),
            }
        }
        tracing::info!(issuer, keys = keys.len(), "JWKS fetched");
        Ok(keys)
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, TokenError> {
        check_issuer_url(url).map_err(TokenError::Discovery)?;
        let response = self
            .http
            .get(url)
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(|e| TokenError::Discovery(format!("{url}: {e}")))?;
        response
            .json()
            .await
            .map_err(|e| TokenError::Discovery(format!("{url}: {e}")))
    }
}

/// `iss` of a token not yet verified: only to choose whose keys verify it.
fn unverified_issuer(token: &str) -> Result<String, TokenError> {
    use base64::Engine;
    let payload = token
        .split('.')
        .nth(1)
        .ok_or_else(|| TokenError::Malformed("not three parts".to_owned()))?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|e| TokenError::Malformed(e.to_string()))?;
    #[derive(Deserialize)]
    struct Iss {
        iss: Option<String>,
    }
    let claims: Iss =
        serde_json::from_slice(&bytes).map_err(|e| TokenError::Malformed(e.to_string()))?;
    claims
        .iss
        .ok_or_else(|| TokenError::MissingClaim("iss".to_owned()))
}

fn rejection(error: &jsonwebtoken::errors::Error) -> String {
    use jsonwebtoken::errors::ErrorKind;
    match error.kind() {
        ErrorKind::ExpiredSignature => "the token has expired".to_owned(),
        ErrorKind::ImmatureSignature => "the token is not valid yet (nbf)".to_owned(),
        ErrorKind::InvalidAudience => "the token is for another audience".to_owned(),
        ErrorKind::InvalidIssuer => "the token's issuer is not trusted".to_owned(),
        ErrorKind::InvalidSignature => "the signature does not verify".to_owned(),
        ErrorKind::MissingRequiredClaim(claim) => format!("the token has no {claim:?} claim"),
        other => format!("{other:?}"),
    }
}

/// The configured issuers with the tenants each may assert. With several
/// issuers every one must be bound (`HERON_OIDC_ISSUER_TENANTS`); a
/// binding must name a configured issuer.
fn issuers_with_tenants(settings: &Settings) -> Result<Vec<Issuer>, String> {
    let urls: Vec<&str> = settings
        .oidc_issuers
        .iter()
        .map(|url| url.trim_end_matches('/'))
        .collect();
    if let Some((stray, _)) = settings
        .oidc_issuer_tenants
        .iter()
        .find(|(url, _)| !urls.contains(&url.as_str()))
    {
        return Err(format!(
            "HERON_OIDC_ISSUER_TENANTS binds {stray:?}, which is not in HERON_OIDC_ISSUERS"
        ));
    }
    urls.iter()
        .map(|url| {
            let bound = settings
                .oidc_issuer_tenants
                .iter()
                .find(|(u, _)| u == url)
                .map(|(_, tenants)| tenants.clone());
            let tenants = match bound {
                Some(tenants) if tenants.iter().any(|t| t == "*") => None,
                Some(tenants) => Some(tenants),
                None if urls.len() > 1 => {
                    return Err(format!(
                        "with several OIDC issuers each must be bound to its tenants: add {url}=TENANT|TENANT (or {url}=*) to HERON_OIDC_ISSUER_TENANTS"
                    ));
                }
                None => None,
            };
            Ok(Issuer {
                url: (*url).to_owned(),
                tenants,
                keys: Mutex::new(KeyCache::default()),
            })
        })
        .collect()
}

/// https, or http on a loopback address (tests, sidecars).
fn check_issuer_url(url: &str) -> Result<(), String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("OIDC URL {url:?}: {e}"))?;
    let loopback = match parsed.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => name == "localhost",
        None => false,
    };
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        _ => Err(format!(
            "OIDC URL {url:?} must use https (plain http only on loopback)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(issuers: &str, bound: &str) -> Result<Settings, heron_core::SettingsError> {
        let environment = [
            ("HERON_OIDC_ISSUERS", issuers),
            ("HERON_OIDC_AUDIENCE", "heron-api"),
            ("HERON_OIDC_ISSUER_TENANTS", bound),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        Settings::from_sources(&heron_core::SettingsOverrides::default(), &environment)
    }

    fn tenants_of(issuers: &str, bound: &str) -> Result<Vec<Option<Vec<String>>>, String> {
        let settings = settings(issuers, bound).map_err(|e| e.to_string())?;
        Ok(issuers_with_tenants(&settings)?
            .into_iter()
            .map(|i| i.tenants)
            .collect())
    }

    #[test]
    fn several_issuers_must_each_be_bound_to_their_tenants() {
        let a = "https://idp-a.example";
        let b = "https://idp-b.example/";
        // One issuer: the only authority, for any tenant unless bound.
        assert_eq!(tenants_of(a, "").unwrap(), vec![None]);
        assert_eq!(
            tenants_of(a, &format!("{a}=acme")).unwrap(),
            vec![Some(vec!["acme".to_owned()])]
        );
        // Two: each bound, `*` explicitly for any.
        let both = format!("{a},{b}");
        let error = tenants_of(&both, &format!("{a}=acme")).unwrap_err();
        assert!(error.contains("idp-b.example=TENANT"), "{error}");
        assert_eq!(
            tenants_of(&both, &format!("{a}=acme|globex,{b}=*")).unwrap(),
            vec![Some(vec!["acme".to_owned(), "globex".to_owned()]), None]
        );
        // A binding of an issuer that is not configured is a mistake.
        let error = tenants_of(a, "https://idp-c.example=acme").unwrap_err();
        assert!(error.contains("not in HERON_OIDC_ISSUERS"), "{error}");
        // Malformed bindings are refused when the settings load.
        for bad in [
            "https://idp-a.example",
            "https://idp-a.example=",
            "https://idp-a.example=Not A Tenant",
        ] {
            assert!(settings(a, bad).is_err(), "{bad}");
        }
    }
}
