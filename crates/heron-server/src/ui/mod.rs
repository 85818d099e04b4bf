//! The web UI at `/ui`: server-rendered HTML (maud) with one small script,
//! both compiled into the binary; nothing to build or install.
//!
//! Signing in with an API key (or an OIDC access token) opens a session:
//! a random token in an `HttpOnly`, `SameSite=Strict` cookie, stored only
//! as its SHA-256, carrying the credential's tenant and scopes. Pages are
//! routes of the access policy like any other, so a page needs the scope
//! of what it shows; the pages' actions call the JSON API with the
//! session cookie and the session's CSRF token in `X-CSRF-Token`, which
//! the policy checks on every change. A refused page answers with the
//! sign-in page (not signed in) or an explanation (missing role).

pub(crate) mod pages;

use axum::Form;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Redirect, Response};

use heron_core::access::Scope;
use heron_store::{AuditEntry, UiSession};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use serde::Deserialize;

use crate::AppState;
use crate::access::auth::{Principal, SESSION_COOKIE, session_cookie};
use crate::error::ApiError;

const STYLE: &str = include_str!("assets/heron.css");
const SCRIPT: &str = include_str!("assets/heron.js");

/// A refused page: the sign-in page for someone not signed in, else an
/// explanation of what is missing.
pub(crate) fn refusal(error: ApiError, uri: &Uri) -> Response {
    match error {
        ApiError::Unauthorized | ApiError::InvalidToken(_) => {
            let next = uri
                .path_and_query()
                .map_or("/ui/upload", |p| p.as_str())
                .to_owned();
            Redirect::to(&format!("/ui/login?next={}", encode(&next))).into_response()
        }
        other => {
            let status = other.status();
            let (title, advice) = match &other {
                ApiError::Forbidden(scope) => (
                    "Not allowed",
                    format!(
                        "Your sign-in lacks the {scope:?} permission this page needs. Ask an admin \
                         for a key with a role that has it (uploader, reader, reviewer, trainer, admin), \
                         or use the pages in the menu."
                    ),
                ),
                ApiError::DocumentNotFound(_) => (
                    "No such document",
                    "It may have been erased, or it belongs to another tenant. Find documents in \
                     the review queue or upload them again."
                        .to_owned(),
                ),
                ApiError::RateLimited { .. } => (
                    "Too many requests",
                    format!("{other}. Wait a moment and reload the page."),
                ),
                _ => (
                    "Something went wrong",
                    format!("{other}. Reload the page; if it persists, tell the operator."),
                ),
            };
            let body = html! {
                h1 { (title) }
                p role="alert" { (advice) }
                p { a href="/ui/upload" { "Back to the start" } }
            };
            (status, shell(title, None, "", body)).into_response()
        }
    }
}

/// Percent-encoding for a query value.
fn encode(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// The menu: (path, name, scope needed).
const MENU: &[(&str, &str, Scope)] = &[
    ("/ui/upload", "Upload", Scope::Classify),
    ("/ui/review", "Review", Scope::Review),
    ("/ui/dashboard", "Dashboard", Scope::Read),
    ("/ui/models", "Models", Scope::Read),
    ("/ui/types", "Types", Scope::Read),
];

/// A whole page: head, skip link, menu (for a signed-in user), main.
pub(crate) fn shell(
    title: &str,
    principal: Option<&Principal>,
    active: &str,
    main: Markup,
) -> Html<String> {
    let csrf = principal
        .and_then(|p| p.session_csrf.clone())
        .unwrap_or_default();
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="csrf-token" content=(csrf);
                title { (title) " · Heron" }
                link rel="stylesheet" href="/ui/assets/heron.css";
                script src="/ui/assets/heron.js" defer {}
            }
            body data-page=(active) {
                a.skip href="#main" { "Skip to content" }
                header.top {
                    span.brand { "Heron" }
                    @if let Some(principal) = principal {
                        nav aria-label="Main" {
                            ul {
                                @for (path, name, scope) in MENU {
                                    @if principal.scopes.contains(*scope) {
                                        li {
                                            a href=(path) aria-current=[(*path == active).then_some("page")] { (name) }
                                        }
                                    }
                                }
                            }
                        }
                        div.who {
                            span { (principal.actor) " · tenant " strong { (principal.tenant) } }
                            form method="post" action="/ui/logout" {
                                input type="hidden" name="csrf" value=(csrf);
                                button.link type="submit" { "Sign out" }
                            }
                        }
                    }
                }
                main #main tabindex="-1" { (main) }
            }
        }
    };
    Html(page.into_string())
}

#[derive(Debug, Deserialize)]
pub(crate) struct LoginQuery {
    next: Option<String>,
    error: Option<String>,
}

pub(crate) async fn login_page(Query(query): Query<LoginQuery>) -> Html<String> {
    let next = safe_next(query.next.as_deref());
    let message = match query.error.as_deref() {
        Some("unknown") => Some(
            "That key or token was not accepted. Check it and try again, or ask an admin for a new key.",
        ),
        Some("limited") => {
            Some("Too many failed sign-ins from this address. Wait a minute and try again.")
        }
        Some("empty") => Some("Paste an API key (hk_…) or an access token."),
        _ => None,
    };
    let body = html! {
        h1 { "Sign in" }
        p { "Use an API key (" code { "heron keys create" } " or your admin gives you one) or an access token from your identity provider." }
        @if let Some(message) = message {
            p.error role="alert" { (message) }
        }
        form.card method="post" action="/ui/login" {
            input type="hidden" name="next" value=(next);
            label for="credential" { "API key or access token" }
            input #credential name="credential" type="password" autocomplete="off" required autofocus;
            button type="submit" { "Sign in" }
        }
    };
    shell("Sign in", None, "", body)
}

/// Only our own pages may be the target after signing in.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(next)
            if next.starts_with("/ui/") && !next.starts_with("//") && !next.contains('\\') =>
        {
            next.to_owned()
        }
        _ => "/ui/upload".to_owned(),
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct LoginForm {
    credential: String,
    next: Option<String>,
}

pub(crate) async fn login(
    State(state): State<AppState>,
    ConnectInfo(client): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, ApiError> {
    if cross_site(&headers) {
        return Err(ApiError::CsrfRejected);
    }
    let next = safe_next(form.next.as_deref());
    let back = |error: &str| {
        Redirect::to(&format!("/ui/login?error={error}&next={}", encode(&next))).into_response()
    };
    let address = crate::access::client_address::resolve(
        client.ip(),
        &headers,
        &state.settings.trusted_proxies,
    )
    .to_string();
    let credential = form.credential.trim();
    if credential.is_empty() {
        return Ok(back("empty"));
    }
    let mut presented = HeaderMap::new();
    let Ok(value) = HeaderValue::from_str(credential) else {
        return Ok(back("unknown"));
    };
    presented.insert("x-api-key", value);
    let principal = match state.auth.authenticate(&state.store, &presented).await {
        Ok(Some(principal)) => principal,
        // Only failures are counted, after authenticating: a valid
        // credential signs in whatever others sent from the same address.
        Ok(None) | Err(ApiError::InvalidToken(_)) => {
            let decision = state.limits.auth_failures.take(&address);
            return Ok(back(if decision.allowed {
                "unknown"
            } else {
                "limited"
            }));
        }
        Err(other) => return Err(other),
    };
    let scopes: Vec<&str> = principal.scopes.iter().map(Scope::as_str).collect();
    let csrf = uuid::Uuid::new_v4().simple().to_string();
    // The session ends with its credential, if that comes first.
    let expires = (crate::routes::admin::now_ms() + state.settings.ui_session.as_millis() as i64)
        .min(principal.expires_at_ms.unwrap_or(i64::MAX));
    let token = state
        .store
        .create_session(&UiSession {
            tenant: principal.tenant.clone(),
            actor: principal.actor.clone(),
            scopes: scopes.join(","),
            csrf,
            expires_at_ms: expires,
        })
        .await?;
    let request_id = headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let entry = AuditEntry::ok(
        &principal.tenant,
        &principal.actor(&request_id),
        "ui.sign_in",
        "session".to_owned(),
    );
    state.store.audit(&entry).await?;
    // Secure when the browser reached Heron over TLS: Heron's own, or a
    // proxy's that says so.
    let secure = state.settings.tls_cert.is_some()
        || headers
            .get("x-forwarded-proto")
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"https"));
    let lifetime_secs = (expires - crate::routes::admin::now_ms()).max(0) / 1000;
    let cookie = format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={lifetime_secs}{}",
        if secure { "; Secure" } else { "" }
    );
    let mut response = Redirect::to(&next).into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    Ok(response)
}

#[derive(Debug, Deserialize)]
pub(crate) struct LogoutForm {
    csrf: String,
}

pub(crate) async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<LogoutForm>,
) -> Result<Response, ApiError> {
    if cross_site(&headers) {
        return Err(ApiError::CsrfRejected);
    }
    if let Some(token) = session_cookie(&headers) {
        let Some(session) = state.store.session(token).await? else {
            return Ok(cleared(Redirect::to("/ui/login").into_response()));
        };
        if !heron_store::constant_time_eq(form.csrf.as_bytes(), session.csrf.as_bytes()) {
            return Err(ApiError::CsrfRejected);
        }
        state.store.end_session(token).await?;
    }
    Ok(cleared(Redirect::to("/ui/login").into_response()))
}

/// Whether a browser sent this form from another site (login CSRF: a
/// page elsewhere signing the victim in under the attacker's key, or out).
/// `Sec-Fetch-Site` decides where the browser sends it (only
/// `same-origin`, or `none` for a user's own navigation, pass); otherwise
/// an `Origin` must name the host the request was sent to. A request with
/// neither header comes from no browser that could be tricked into it.
fn cross_site(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site") {
        return !matches!(site.as_bytes(), b"same-origin" | b"none");
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return false;
    };
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let origin_host = origin
        .to_str()
        .ok()
        .and_then(|o| o.split_once("://"))
        .map(|(_, authority)| authority.trim_end_matches('/'));
    match (origin_host, host) {
        (Some(origin), Some(host)) => !origin.eq_ignore_ascii_case(host),
        // `Origin: null` (a sandboxed frame, a redirect chain) or no Host.
        _ => true,
    }
}

fn cleared(mut response: Response) -> Response {
    let cookie = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

pub(crate) async fn asset(Path(file): Path<String>) -> Response {
    let (body, kind) = match file.as_str() {
        "heron.css" => (STYLE, "text/css; charset=utf-8"),
        "heron.js" => (SCRIPT, "text/javascript; charset=utf-8"),
        _ => return ApiError::NotFound(format!("/ui/assets/{file}")).into_response(),
    };
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        body,
    )
        .into_response()
}

/// Raw HTML we wrote ourselves (charts drawn by `charts.rs`, whose text is
/// escaped there).
pub(crate) fn trusted_svg(svg: String) -> PreEscaped<String> {
    PreEscaped(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_our_pages_are_followed_after_sign_in() {
        assert_eq!(safe_next(Some("/ui/review")), "/ui/review");
        assert_eq!(safe_next(Some("https://evil.example/ui/")), "/ui/upload");
        assert_eq!(safe_next(Some("//evil.example/ui/")), "/ui/upload");
        assert_eq!(safe_next(Some("/v1/files")), "/ui/upload");
        assert_eq!(safe_next(None), "/ui/upload");
        assert_eq!(encode("/ui/review?x=1&y"), "/ui/review%3Fx%3D1%26y");
    }
}
