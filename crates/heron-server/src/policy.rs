//! The access policy: which scope every route needs, in one table, and the
//! middleware that enforces it on every request.
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
use crate::error::ApiError;
use crate::limits::Decision;
use crate::request_id::RequestId;

/// What a route requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone who can reach the port (probes, version, API description).
    Public,
    /// An authenticated caller holding this scope.
    Scope(Scope),
}

use Access::Public;
use Scope::{Admin, Classify, Read, Review, Train};

/// Every route: method, path (as routed), what it requires.
#[rustfmt::skip]
pub const POLICY: &[(&str, &str, Access)] = &[
    ("GET",    "/v1/health",                              Public),
    ("GET",    "/v1/ready",                               Public),
    ("GET",    "/metrics",                                Public),
    ("GET",    "/v1/version",                             Public),
    ("GET",    "/redoc",                                  Public),
    ("POST",   "/v1/files",                               Access::Scope(Classify)),
    // tus discovery: what the server supports, nothing of anyone's.
    ("OPTIONS", "/v1/uploads",                            Public),
    ("POST",   "/v1/uploads",                             Access::Scope(Classify)),
    ("POST",   "/v1/uploads/presigned",                   Access::Scope(Classify)),
    ("GET",    "/v1/uploads/{upload_id}",                 Access::Scope(Classify)),
    ("HEAD",   "/v1/uploads/{upload_id}",                 Access::Scope(Classify)),
    ("PATCH",  "/v1/uploads/{upload_id}",                 Access::Scope(Classify)),
    ("DELETE", "/v1/uploads/{upload_id}",                 Access::Scope(Classify)),
    ("POST",   "/v1/uploads/{upload_id}/complete",        Access::Scope(Classify)),
    ("GET",    "/v1/jobs",                                Access::Scope(Read)),
    ("GET",    "/v1/jobs/{job_id}",                       Access::Scope(Read)),
    ("DELETE", "/v1/jobs/{job_id}",                       Access::Scope(Classify)),
    ("GET",    "/v1/jobs/{job_id}/deliveries",            Access::Scope(Read)),
    ("GET",    "/v1/documents/{document_id}",             Access::Scope(Read)),
    // Unredacted text (`?redact=false`) also needs `review`.
    ("GET",    "/v1/documents/{document_id}/text",        Access::Scope(Read)),
    ("GET",    "/v1/documents/{document_id}/similar",     Access::Scope(Read)),
    // Files sent with it (multipart) also need `classify`.
    ("POST",   "/v1/compare",                             Access::Scope(Read)),
    ("GET",    "/v1/search",                              Access::Scope(Read)),
    // The original holds every piece of personal data.
    ("GET",    "/v1/documents/{document_id}/file",        Access::Scope(Review)),
    ("DELETE", "/v1/documents/{document_id}",             Access::Scope(Admin)),
    ("GET",    "/v1/audit",                               Access::Scope(Admin)),
    ("GET",    "/v1/compliance/report",                   Access::Scope(Admin)),
    ("GET",    "/v1/admin/keys",                          Access::Scope(Admin)),
    ("POST",   "/v1/admin/keys",                          Access::Scope(Admin)),
    ("DELETE", "/v1/admin/keys/{key_id}",                 Access::Scope(Admin)),
    ("GET",    "/v1/admin/tenant",                        Access::Scope(Admin)),
    ("PUT",    "/v1/admin/tenant",                        Access::Scope(Admin)),
    ("GET",    "/v1/admin/dead-letters",                  Access::Scope(Admin)),
    ("POST",   "/v1/admin/dead-letters/{task_id}/retry",  Access::Scope(Admin)),
    ("GET",    "/v1/admin/webhooks",                      Access::Scope(Admin)),
    ("POST",   "/v1/admin/webhooks",                      Access::Scope(Admin)),
    ("DELETE", "/v1/admin/webhooks/{endpoint_id}",        Access::Scope(Admin)),
    ("POST",   "/v1/admin/callback-secret",               Access::Scope(Admin)),
    // Learning: readers see figures and models, reviewers give verdicts,
    // trainers define types and train, admins change the champion.
    ("GET",    "/v1/review/queue",                        Access::Scope(Review)),
    ("POST",   "/v1/documents/{document_id}/review",      Access::Scope(Review)),
    ("GET",    "/v1/documents/{document_id}/reviews",     Access::Scope(Read)),
    // A picture of the page holds every piece of personal data.
    ("GET",    "/v1/documents/{document_id}/pages/{page}", Access::Scope(Review)),
    ("GET",    "/v1/types",                               Access::Scope(Read)),
    ("POST",   "/v1/types",                               Access::Scope(Train)),
    ("GET",    "/v1/models",                              Access::Scope(Read)),
    ("POST",   "/v1/models/train",                        Access::Scope(Train)),
    ("GET",    "/v1/models/runs/{run_id}",                Access::Scope(Read)),
    ("POST",   "/v1/models/{model_id}/promote",           Access::Scope(Admin)),
    ("POST",   "/v1/models/rollback",                     Access::Scope(Admin)),
    ("GET",    "/v1/dashboard",                           Access::Scope(Read)),
    // The web UI: sign-in and assets are open; each page needs what its
    // actions need (the actions themselves go through the routes above).
    ("GET",    "/ui",                                     Public),
    ("GET",    "/ui/login",                               Public),
    ("POST",   "/ui/login",                               Public),
    ("POST",   "/ui/logout",                              Public),
    ("GET",    "/ui/assets/{file}",                       Public),
    ("GET",    "/ui/upload",                              Access::Scope(Classify)),
    ("GET",    "/ui/review",                              Access::Scope(Review)),
    ("GET",    "/ui/documents/{document_id}",             Access::Scope(Read)),
    ("GET",    "/ui/models",                              Access::Scope(Read)),
    ("GET",    "/ui/types",                               Access::Scope(Read)),
    ("GET",    "/ui/dashboard",                           Access::Scope(Read)),
];

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
    let client = crate::client_address::of(request, &state.settings.trusted_proxies)
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
