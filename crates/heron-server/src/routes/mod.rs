//! The routes, one module per resource, and every route of the service in
//! one table: method, path, what it
//! requires, whether it needs the database, and its handler. The router
//! and the access policy ([`POLICY`], enforced by [`crate::policy`]) are
//! both made from it, so a route cannot be served without a rule or have a
//! rule without being served; the API description (`#[utoipa::path]` on
//! each handler) is checked against it by the authorization-matrix test.
//!
//! Adding a route is one line here (and its handler's `#[utoipa::path]`).

use axum::Router;
use axum::response::Redirect;
use axum::routing::{MethodFilter, on};
use heron_core::access::Scope::{Admin, Classify, Read, Review, Train};

use crate::access::policy::Access::{self, Public};
use crate::{AppState, ui};

pub(crate) mod admin;
pub(crate) mod compliance;
pub(crate) mod dashboard;
pub(crate) mod documents;
pub(crate) mod jobs;
pub(crate) mod learning;
pub(crate) mod ops;
pub(crate) mod search;
pub(crate) mod similar;
pub(crate) mod upload;
pub(crate) mod uploads;
pub(crate) mod webhooks;

/// What a route stands on, which decides the router it joins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Serves {
    /// Liveness, readiness and metrics: also served by `heron worker`, and
    /// never refused by a breaker.
    Probe,
    /// Answers without the database (the version, a redirect).
    Free,
    /// Needs the database: passes its circuit breaker.
    Data,
}

/// The table: one row per method and path. Expands to [`POLICY`] and
/// [`build`].
macro_rules! route_table {
    ( $( $method:ident $path:literal $access:expr, $serves:ident, $handler:expr; )+ ) => {
        /// Every route: method, path (as routed), what it requires.
        pub const POLICY: &[(&str, &str, Access)] = &[
            $( (stringify!($method), $path, $access) ),+
        ];

        /// The routes `include` keeps, by what they stand on: those that
        /// need the database, and the others.
        pub(crate) fn build(include: impl Fn(Serves) -> bool) -> (Router<AppState>, Router<AppState>) {
            let mut data = Router::new();
            let mut other = Router::new();
            $(
                if include(Serves::$serves) {
                    let route = on(MethodFilter::$method, $handler);
                    if Serves::$serves == Serves::Data {
                        data = data.route($path, route);
                    } else {
                        other = other.route($path, route);
                    }
                }
            )+
            (data, other)
        }
    };
}

#[rustfmt::skip]
route_table! {
    GET     "/v1/health"                               Public,                 Probe, ops::health;
    GET     "/v1/ready"                                Public,                 Probe, ops::ready;
    GET     "/metrics"                                 Public,                 Probe, ops::metrics;
    GET     "/v1/version"                              Public,                 Free,  ops::version;
    GET     "/redoc"                                   Public,                 Free,  || async { Redirect::permanent("/docs/") };
    POST    "/v1/files"                                Access::Scope(Classify), Data, upload::upload;
    // tus discovery: what the server supports, nothing of anyone's.
    OPTIONS "/v1/uploads"                              Public,                 Data,  uploads::discover;
    POST    "/v1/uploads"                              Access::Scope(Classify), Data, uploads::create;
    POST    "/v1/uploads/presigned"                    Access::Scope(Classify), Data, uploads::presign;
    GET     "/v1/uploads/{upload_id}"                  Access::Scope(Classify), Data, uploads::status;
    HEAD    "/v1/uploads/{upload_id}"                  Access::Scope(Classify), Data, uploads::offset;
    PATCH   "/v1/uploads/{upload_id}"                  Access::Scope(Classify), Data, uploads::append;
    DELETE  "/v1/uploads/{upload_id}"                  Access::Scope(Classify), Data, uploads::terminate;
    POST    "/v1/uploads/{upload_id}/complete"         Access::Scope(Classify), Data, uploads::complete;
    GET     "/v1/jobs"                                 Access::Scope(Read),    Data,  jobs::list_jobs;
    GET     "/v1/jobs/{job_id}"                        Access::Scope(Read),    Data,  jobs::get_job;
    DELETE  "/v1/jobs/{job_id}"                        Access::Scope(Classify), Data, jobs::cancel_job;
    GET     "/v1/jobs/{job_id}/deliveries"             Access::Scope(Read),    Data,  webhooks::job_deliveries;
    GET     "/v1/documents/{document_id}"              Access::Scope(Read),    Data,  documents::get_document;
    // Unredacted text (`?redact=false`) also needs `review`.
    GET     "/v1/documents/{document_id}/text"         Access::Scope(Read),    Data,  documents::get_text;
    GET     "/v1/documents/{document_id}/similar"      Access::Scope(Read),    Data,  similar::similar;
    // Files sent with it (multipart) also need `classify`.
    POST    "/v1/compare"                              Access::Scope(Read),    Data,  similar::compare;
    GET     "/v1/search"                               Access::Scope(Read),    Data,  search::search;
    // The original holds every piece of personal data.
    GET     "/v1/documents/{document_id}/file"         Access::Scope(Review),  Data,  documents::get_file;
    DELETE  "/v1/documents/{document_id}"              Access::Scope(Admin),   Data,  documents::erase_document;
    GET     "/v1/audit"                                Access::Scope(Admin),   Data,  admin::audit_log;
    GET     "/v1/compliance/report"                    Access::Scope(Admin),   Data,  compliance::report;
    GET     "/v1/admin/keys"                           Access::Scope(Admin),   Data,  admin::list_keys;
    POST    "/v1/admin/keys"                           Access::Scope(Admin),   Data,  admin::create_key;
    DELETE  "/v1/admin/keys/{key_id}"                  Access::Scope(Admin),   Data,  admin::revoke_key;
    GET     "/v1/admin/tenant"                         Access::Scope(Admin),   Data,  admin::get_tenant;
    PUT     "/v1/admin/tenant"                         Access::Scope(Admin),   Data,  admin::put_tenant;
    GET     "/v1/admin/dead-letters"                   Access::Scope(Admin),   Data,  jobs::dead_letters;
    POST    "/v1/admin/dead-letters/{task_id}/retry"   Access::Scope(Admin),   Data,  jobs::retry_dead_letter;
    GET     "/v1/admin/webhooks"                       Access::Scope(Admin),   Data,  webhooks::list_endpoints;
    POST    "/v1/admin/webhooks"                       Access::Scope(Admin),   Data,  webhooks::add_endpoint;
    DELETE  "/v1/admin/webhooks/{endpoint_id}"         Access::Scope(Admin),   Data,  webhooks::remove_endpoint;
    POST    "/v1/admin/callback-secret"                Access::Scope(Admin),   Data,  webhooks::rotate_callback_secret;
    // Learning: readers see figures and models, reviewers give verdicts,
    // trainers define types and train, admins change the champion.
    GET     "/v1/review/queue"                         Access::Scope(Review),  Data,  learning::queue;
    POST    "/v1/documents/{document_id}/review"       Access::Scope(Review),  Data,  learning::review;
    GET     "/v1/documents/{document_id}/reviews"      Access::Scope(Read),    Data,  learning::document_reviews;
    // A picture of the page holds every piece of personal data.
    GET     "/v1/documents/{document_id}/pages/{page}" Access::Scope(Review),  Data,  documents::get_page;
    GET     "/v1/types"                                Access::Scope(Read),    Data,  learning::list_types;
    POST    "/v1/types"                                Access::Scope(Train),   Data,  learning::define_type;
    GET     "/v1/models"                               Access::Scope(Read),    Data,  learning::list_models;
    POST    "/v1/models/train"                         Access::Scope(Train),   Data,  learning::train;
    GET     "/v1/models/runs/{run_id}"                 Access::Scope(Read),    Data,  learning::training_run;
    POST    "/v1/models/{model_id}/promote"            Access::Scope(Admin),   Data,  learning::promote;
    POST    "/v1/models/rollback"                      Access::Scope(Admin),   Data,  learning::rollback;
    GET     "/v1/dashboard"                            Access::Scope(Read),    Data,  dashboard::dashboard;
    // The web UI: sign-in and assets are open; each page needs what its
    // actions need (the actions themselves go through the routes above).
    GET     "/ui"                                      Public,                 Data,  || async { Redirect::to("/ui/upload") };
    GET     "/ui/login"                                Public,                 Data,  ui::login_page;
    POST    "/ui/login"                                Public,                 Data,  ui::login;
    POST    "/ui/logout"                               Public,                 Data,  ui::logout;
    GET     "/ui/assets/{file}"                        Public,                 Data,  ui::asset;
    GET     "/ui/upload"                               Access::Scope(Classify), Data, ui::pages::upload;
    GET     "/ui/review"                               Access::Scope(Review),  Data,  ui::pages::review_queue;
    GET     "/ui/documents/{document_id}"              Access::Scope(Read),    Data,  ui::pages::document;
    GET     "/ui/models"                               Access::Scope(Read),    Data,  ui::pages::models;
    GET     "/ui/types"                                Access::Scope(Read),    Data,  ui::pages::types;
    GET     "/ui/dashboard"                            Access::Scope(Read),    Data,  ui::pages::dashboard;
}
