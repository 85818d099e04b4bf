//! The OpenAPI description, generated from the handlers' annotations.

use utoipa::OpenApi;

use crate::{admin, compliance, documents, error, jobs, ops, upload, webhooks};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Heron document classifier",
        description = "Classifies uploaded business documents (invoices, statements, IDs...). \
                       Compatible with the HeronAI v1 API. Authenticate with the `x-api-key` header \
                       (or `Authorization: Bearer` with a key or an OIDC token); every route's \
                       required scope is in `policy.rs`.",
    ),
    paths(
        upload::upload,
        jobs::get_job,
        jobs::list_jobs,
        jobs::cancel_job,
        jobs::dead_letters,
        jobs::retry_dead_letter,
        webhooks::job_deliveries,
        webhooks::add_endpoint,
        webhooks::list_endpoints,
        webhooks::remove_endpoint,
        documents::get_document,
        documents::get_text,
        documents::get_file,
        documents::erase_document,
        admin::create_key,
        admin::list_keys,
        admin::revoke_key,
        admin::get_tenant,
        admin::put_tenant,
        admin::audit_log,
        compliance::report,
        ops::health,
        ops::ready,
        ops::version,
        ops::metrics
    ),
    components(schemas(
        heron_core::ClassificationResult,
        heron_core::StageConfidences,
        heron_core::Notice,
        heron_core::NoticeCode,
        heron_core::DecidedBy,
        heron_core::JobStatus,
        upload::JobAccepted,
        jobs::JobResponse,
        jobs::JobProgress,
        jobs::JobList,
        jobs::JobSummaryItem,
        jobs::DeadLetterList,
        jobs::DeadLetterItem,
        jobs::RetryAccepted,
        webhooks::DeliveryList,
        webhooks::Delivery,
        webhooks::DeliveryAttempt,
        webhooks::NewEndpoint,
        webhooks::Endpoint,
        webhooks::EndpointList,
        documents::DocumentResponse,
        admin::NewKey,
        admin::KeyInfo,
        admin::KeyList,
        admin::TenantSettingsBody,
        admin::TenantInfo,
        admin::AuditItem,
        admin::AuditPage,
        compliance::ComplianceReport,
        compliance::DocumentCounts,
        compliance::AccessCount,
        compliance::RetentionSettings,
        compliance::ChainState,
        error::ErrorEnvelope,
        error::ErrorBody,
    )),
    tags(
        (name = "classification", description = "Upload files and read results"),
        (name = "jobs", description = "Batches: state, results, list, cancellation"),
        (name = "documents", description = "One uploaded file: read, erase"),
        (name = "admin", description = "A tenant's keys, settings, audit log, dead letters and webhook endpoints (admin scope)"),
        (name = "operations", description = "Health, readiness, versions, metrics"),
    )
)]
pub struct ApiDoc;
