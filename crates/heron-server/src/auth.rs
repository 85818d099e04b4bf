//! API-key authentication, as the original: `x-api-key` must be one of
//! `ALLOWED_API_KEYS`. `Authorization: Bearer <key>` is accepted too.
//!
//! Keys are compared through their SHA-256 digests with a constant-time
//! equality, so neither timing nor length leaks how close a guess was.

use std::path::Path;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use heron_core::settings::Secret;
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::error::ApiError;

/// Digests of the accepted keys.
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

    pub fn accepts(&self, presented: &str) -> bool {
        let presented = digest(presented);
        // Check every key, so time does not depend on which one matched.
        self.digests.iter().fold(false, |found, key| {
            found | constant_time_eq(key, &presented)
        })
    }
}

fn digest(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

fn constant_time_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter()
        .zip(b)
        .fold(0u8, |difference, (x, y)| difference | (x ^ y))
        == 0
}

/// The key a request presents: `x-api-key`, else `Authorization: Bearer`.
fn presented_key(request: &Request) -> Option<&str> {
    let headers = request.headers();
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
}

/// Middleware for the protected routes.
pub async fn require_key(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    match presented_key(&request) {
        Some(key) if state.api_keys.accepts(key) => Ok(next.run(request).await),
        _ => {
            metrics::counter!("heron_auth_failures_total").increment(1);
            Err(ApiError::Unauthorized)
        }
    }
}

/// Middleware for the admin routes: a key of `HERON_ADMIN_API_KEYS`. A
/// valid ordinary key is told it lacks the right (`403`), anything else is
/// `401`.
pub async fn require_admin_key(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    match presented_key(&request) {
        Some(key) if state.admin_keys.accepts(key) => Ok(next.run(request).await),
        Some(key) if state.api_keys.accepts(key) => Err(ApiError::Forbidden),
        _ => {
            metrics::counter!("heron_auth_failures_total").increment(1);
            Err(ApiError::Unauthorized)
        }
    }
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
        assert!(keys.accepts("alpha"));
        assert!(keys.accepts("beta"));
        assert!(!keys.accepts("alph"));
        assert!(!keys.accepts(""));
        assert!(!ApiKeys::new(&[]).accepts("anything"));
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
