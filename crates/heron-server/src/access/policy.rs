//! The access policy: which scope every route needs ([`POLICY`], made
//! from the route table in [`crate::routes`] with the router itself), and
//! the middleware that enforces it on every request.
//!
//! A route missing from [`POLICY`] is refused (fail closed), and a test
//! checks that every route of the API description is in it. For each
//! request the middleware, in order: authenticates (`401`; a client
//! address past its allowance of failures gets `429` for further failures,
//! while a valid credential from it is still served), draws from the
//! key's and the tenant's rate buckets (`429`), checks the scope (`403`,
//! audited as `access.denied`), and hands the [`Principal`] to the
//! handler. Handlers scope every query to the principal's tenant.

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use heron_core::access::Scope;
use heron_store::AuditEntry;

use crate::AppState;
use crate::access::limits::Decision;
use crate::error::ApiError;
use crate::request_id::RequestId;

/// What a route requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone who can reach the port (probes, version, API description).
    Public,
    /// An authenticated caller holding this scope.
    Scope(Scope),
}

/// Every route's rule, from the route table.
pub use crate::routes::POLICY;

/// What `method path` requires; `None` for a route nobody declared.
pub fn access(method: &Method, path: &str) -> Option<Access> {
    let find = |method: &str| {
        POLICY
            .iter()
            .find(|(m, p, _)| *m == method && *p == path)
            .map(|(_, _, access)| *access)
    };
    // The router answers HEAD with the GET handler (body dropped), so a
    // HEAD without a rule of its own is governed by the GET rule.
    find(method.as_str()).or_else(|| {
        if *method == Method::HEAD {
            find("GET")
        } else {
            None
        }
    })
}

/// The middleware of every routed request (see the module docs). Web UI
/// pages answer a refusal with the sign-in page or an HTML explanation
/// instead of the JSON envelope.
pub async fn enforce(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let ui_page = request.uri().path().starts_with("/ui/");
    let uri = request.uri().clone();
    match check(state, request, next).await {
        Ok(response) => response,
        Err(error) if ui_page => crate::ui::refusal(error, &uri),
        Err(error) => error.into_response(),
    }
}

async fn check(state: AppState, mut request: Request, next: Next) -> Result<Response, ApiError> {
    let path = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    let Some(access) = access(request.method(), &path) else {
        return Err(ApiError::Internal(format!(
            "route {} {path} has no access policy",
            request.method()
        )));
    };
    let Access::Scope(needed) = access else {
        return Ok(next.run(request).await);
    };
    // Authenticate first: a valid credential is always served, so failures
    // from a shared address (a proxy, an office) cannot lock anyone out.
    let principal = match state
        .auth
        .authenticate(&state.store, request.headers())
        .await
    {
        Ok(Some(principal)) => principal,
        Ok(None) => return Err(auth_failed(&state, &request, ApiError::Unauthorized)),
        Err(error @ ApiError::InvalidToken(_)) => {
            return Err(auth_failed(&state, &request, error));
        }
        Err(other) => return Err(other),
    };
    // A signed-in browser's changes must prove they come from our pages.
    if let Some(csrf) = &principal.session_csrf
        && !matches!(*request.method(), Method::GET | Method::HEAD)
    {
        let sent = request
            .headers()
            .get("x-csrf-token")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !heron_store::constant_time_eq(sent.as_bytes(), csrf.as_bytes()) {
            return Err(ApiError::CsrfRejected);
        }
    }
    // Limits before the scope check: denied requests are audited, and a
    // caller must not be able to write audit rows faster than its rate.
    let per_key = state.limits.per_key.take(&principal.rate_key);
    if !per_key.allowed {
        return Ok(rate_limited("key", per_key).with_rate(per_key));
    }
    let per_tenant = state.limits.per_tenant.take(&principal.tenant);
    if !per_tenant.allowed {
        return Ok(rate_limited("tenant", per_tenant).with_rate(per_tenant));
    }
    let request_id = request
        .extensions()
        .get::<RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_default();
    if !principal.scopes.contains(needed) {
        let entry = AuditEntry::ok(
            &principal.tenant,
            &principal.actor(&request_id),
            "access.denied",
            format!("route:{} {path}", request.method()),
        )
        .with_outcome("denied")
        .with_detail(serde_json::json!({ "needed": needed.as_str() }));
        state.store.audit(&entry).await?;
        return Err(ApiError::Forbidden(needed.as_str()));
    }
    request.extensions_mut().insert(principal);
    let mut response = next.run(request).await;
    rate_headers(&mut response, per_key);
    Ok(response)
}

/// Count a failed authentication against the client's address: within
/// the address's allowance the failure is answered as it is (`401`), past
/// it with `429`, so guessing keys is slowed for that address alone.
fn auth_failed(state: &AppState, request: &Request, error: ApiError) -> ApiError {
    metrics::counter!("heron_auth_failures_total").increment(1);
    let client = crate::access::client_address::of(request, &state.settings.trusted_proxies)
        .map_or_else(|| "unknown".to_owned(), |address| address.to_string());
    let decision = state.limits.auth_failures.take(&client);
    if decision.allowed {
        error
    } else {
        rate_limited("client address", decision)
    }
}

fn rate_limited(scope: &'static str, decision: Decision) -> ApiError {
    metrics::counter!("heron_rate_limited_total", "scope" => scope).increment(1);
    ApiError::RateLimited {
        scope,
        retry_after_secs: decision.retry_after_secs,
    }
}

/// `RateLimit-Limit`, `-Remaining`, `-Reset` (IETF draft names).
pub fn rate_headers(response: &mut Response, decision: Decision) {
    let headers = response.headers_mut();
    headers.insert("ratelimit-limit", HeaderValue::from(decision.limit));
    headers.insert("ratelimit-remaining", HeaderValue::from(decision.remaining));
    headers.insert("ratelimit-reset", HeaderValue::from(decision.reset_secs));
}

impl ApiError {
    /// A refused request's response with its rate headers.
    pub fn with_rate(self, decision: Decision) -> Response {
        let mut response = self.into_response();
        rate_headers(&mut response, decision);
        response
    }
}
