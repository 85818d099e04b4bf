//! Who is calling: API keys and bearer tokens become a [`Principal`] (a
//! tenant, scopes, an actor id for the audit log).
//!
//! Credentials arrive as `x-api-key` (the original's header) or
//! `Authorization: Bearer`. In order:
//! - a JWT (three dot-separated parts) when issuers are configured;
//! - a key issued by Heron (`hk_<id>_<secret>`), looked up in the store;
//! - a key of `HERON_ADMIN_API_KEYS` (default tenant, every scope) or of
//!   `ALLOWED_API_KEYS` / the generated key (default tenant, every scope
//!   but `admin`), compared through SHA-256 digests in constant time.

use std::path::Path;
use std::sync::Arc;

use axum::http::HeaderMap;
use heron_core::access::{DEFAULT_TENANT, Scopes};
use heron_core::settings::Secret;
use heron_store::{Actor, Store, constant_time_eq};
use sha2::{Digest, Sha256};

use crate::access::oidc::Verifier;
use crate::error::ApiError;

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// Every read and write of this request is confined to this tenant.
    pub tenant: String,
    pub scopes: Scopes,
    /// For the audit log: `key:<id>`, `env-key:<fingerprint>`,
    /// `token:<issuer>#<subject>`. Never a secret.
    pub actor: String,
    /// Whose request-rate bucket this request draws from.
    pub rate_key: String,
    /// Set when the caller signed in to the web UI (a session cookie): its
    /// changes must carry this token in `X-CSRF-Token`.
    pub session_csrf: Option<String>,
    /// When the credential itself ends (a key's expiry, a token's `exp`),
    /// in Unix milliseconds: a UI session opened with it ends no later.
    pub expires_at_ms: Option<i64>,
}

impl Principal {
    pub fn actor(&self, request_id: &str) -> Actor {
        Actor {
            id: self.actor.clone(),
            request_id: request_id.to_owned(),
        }
    }
}

/// Digests of keys given in the environment.
#[derive(Debug, Clone)]
pub struct ApiKeys {
    digests: Vec<[u8; 32]>,
}

impl ApiKeys {
    pub fn new(keys: &[Secret]) -> ApiKeys {
        ApiKeys {
            digests: keys.iter().map(|k| digest(k.expose())).collect(),
        }
    }

    /// Whether a key whose actor fingerprint is `fingerprint` is still
    /// configured (a UI session opened with an environment key ends when
    /// the key is taken out of the configuration).
    pub fn has_fingerprint(&self, fingerprint: &str) -> bool {
        self.digests
            .iter()
            .any(|d| key_fingerprint(d) == fingerprint)
    }

    /// The matching key's digest. Every key is compared, so time does not
    /// depend on which one matched.
    pub fn find(&self, presented: &str) -> Option<[u8; 32]> {
        let presented = digest(presented);
        self.digests.iter().fold(None, |found, key| {
            if constant_time_eq(key, &presented) {
                Some(*key)
            } else {
                found
            }
        })
    }
}

fn digest(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

/// A configured key's name in the audit log: a fingerprint of its digest,
/// which names the key without revealing it.
fn key_fingerprint(digest: &[u8; 32]) -> String {
    hex::encode(digest)[..12].to_owned()
}

/// Turns credentials into principals.
#[derive(Clone)]
pub struct Authenticator {
    env_keys: ApiKeys,
    admin_keys: ApiKeys,
    tokens: Option<Arc<Verifier>>,
}

impl Authenticator {
    pub fn new(
        env_keys: &[Secret],
        admin_keys: &[Secret],
        tokens: Option<Arc<Verifier>>,
    ) -> Authenticator {
        Authenticator {
            env_keys: ApiKeys::new(env_keys),
            admin_keys: ApiKeys::new(admin_keys),
            tokens,
        }
    }

    /// The caller of a request: `Ok(None)` when it sent no credential or
    /// an unknown key, `Err` for a token that does not verify (its reason
    /// is told) or a store failure.
    pub async fn authenticate(
        &self,
        store: &Store,
        headers: &HeaderMap,
    ) -> Result<Option<Principal>, ApiError> {
        let Some(presented) = presented_credential(headers) else {
            return match session_cookie(headers) {
                Some(token) => self.session(store, token).await,
                None => Ok(None),
            };
        };
        if looks_like_jwt(presented)
            && let Some(tokens) = &self.tokens
        {
            return tokens
                .verify(presented)
                .await
                .map(Some)
                .map_err(|e| ApiError::InvalidToken(e.to_string()));
        }
        if presented.starts_with("hk_") {
            return Ok(store.authenticate_key(presented).await?.map(|key| {
                let actor = format!("key:{}", key.id);
                Principal {
                    tenant: key.tenant,
                    scopes: key.scopes,
                    rate_key: actor.clone(),
                    actor,
                    session_csrf: None,
                    expires_at_ms: key.expires_at_ms,
                }
            }));
        }
        let (digest, scopes) = if let Some(d) = self.admin_keys.find(presented) {
            (d, Scopes::all())
        } else if let Some(d) = self.env_keys.find(presented) {
            (d, Scopes::environment_key())
        } else {
            return Ok(None);
        };
        let actor = format!("env-key:{}", key_fingerprint(&digest));
        Ok(Some(Principal {
            tenant: DEFAULT_TENANT.to_owned(),
            scopes,
            rate_key: actor.clone(),
            actor,
            session_csrf: None,
            expires_at_ms: None,
        }))
    }

    /// The principal of a web UI session: the one who signed in, with the
    /// scopes their credential had then. A session never outlives its
    /// credential: it ends at the key's expiry or the token's `exp` (set
    /// when it opens), when its key is revoked (the store ends the key's
    /// sessions), or when its environment key leaves the configuration.
    async fn session(&self, store: &Store, token: &str) -> Result<Option<Principal>, ApiError> {
        let Some(session) = store.session(token).await? else {
            return Ok(None);
        };
        if let Some(fingerprint) = session.actor.strip_prefix("env-key:")
            && !self.env_keys.has_fingerprint(fingerprint)
            && !self.admin_keys.has_fingerprint(fingerprint)
        {
            store.end_session(token).await?;
            return Ok(None);
        }
        let scopes = Scopes::parse_list(&session.scopes).unwrap_or(Scopes::NONE);
        Ok(Some(Principal {
            tenant: session.tenant,
            scopes,
            rate_key: session.actor.clone(),
            actor: session.actor,
            session_csrf: Some(session.csrf),
            expires_at_ms: Some(session.expires_at_ms),
        }))
    }
}

/// The name of the web UI's session cookie.
pub const SESSION_COOKIE: &str = "heron_session";

/// The web UI session token of a request's `Cookie` header.
pub fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.trim())
        .filter(|v| !v.is_empty())
}

/// The credential a request presents: `x-api-key`, else `Authorization:
/// Bearer`.
fn presented_credential(headers: &HeaderMap) -> Option<&str> {
    headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .or_else(|| {
            headers
                .get(axum::http::header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
        })
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

fn looks_like_jwt(credential: &str) -> bool {
    credential.starts_with("eyJ") && credential.split('.').count() == 3
}

/// The keys to accept: `ALLOWED_API_KEYS`, or else a key generated once and
/// kept in `<data_dir>/api-key` (mode 0600), so that a fresh install is
/// never open to anyone who can reach the port.
pub fn load_or_generate(
    configured: &[Secret],
    data_dir: &Path,
) -> std::io::Result<(Vec<Secret>, Option<std::path::PathBuf>)> {
    if !configured.is_empty() {
        return Ok((configured.to_vec(), None));
    }
    let path = data_dir.join("api-key");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let key = existing.trim();
        if !key.is_empty() {
            return Ok((vec![Secret::new(key)], Some(path)));
        }
    }
    let key = format!(
        "heron_{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    write_private(&path, &key)?;
    Ok((vec![Secret::new(key)], Some(path)))
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents.as_bytes())?;
    file.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_match_exactly() {
        let keys = ApiKeys::new(&[Secret::new("alpha"), Secret::new("beta")]);
        assert!(keys.find("alpha").is_some());
        assert!(keys.find("beta").is_some());
        assert_ne!(keys.find("alpha"), keys.find("beta"));
        assert!(keys.find("alph").is_none());
        assert!(keys.find("").is_none());
        assert!(ApiKeys::new(&[]).find("anything").is_none());
    }

    #[test]
    fn only_jwt_shaped_bearers_go_to_the_token_verifier() {
        assert!(looks_like_jwt("eyJhbGciOi.eyJzdWIi.c2ln"));
        assert!(!looks_like_jwt("hk_0123_abcd"));
        assert!(!looks_like_jwt("eyJ.only-two"));
    }

    #[test]
    fn a_generated_key_is_kept_and_private() {
        let dir = std::env::temp_dir().join(format!("heron-auth-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (first, path) = load_or_generate(&[], &dir).unwrap();
        let (second, _) = load_or_generate(&[], &dir).unwrap();
        assert_eq!(first, second);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(path.unwrap())
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::remove_dir_all(dir).unwrap();
    }
}
