//! The OpenAPI description, generated from the handlers' annotations.

use utoipa::OpenApi;

use crate::{error, jobs, ops, upload, webhooks};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Heron document classifier",
        description = "Classifies uploaded business documents (invoices, statements, IDs...). \
                       Compatible with the HeronAI v1 API. Authenticate with the `x-api-key` header.",
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
        error::ErrorEnvelope,
        error::ErrorBody,
    )),
    tags(
        (name = "classification", description = "Upload files and read results"),
        (name = "jobs", description = "Batches: state, results, list, cancellation"),
        (name = "admin", description = "Dead-letter queue and webhook endpoints (HERON_ADMIN_API_KEYS)"),
        (name = "operations", description = "Health, readiness, versions, metrics"),
    )
)]
pub struct ApiDoc;
