//! Job states as the original API reports them.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

crate::wire_enum! {
serde;
/// The state of an asynchronous batch, spelled as the original API spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum JobStatus {
    Queued = "queued",
    Processing = "processing",
    Done = "done",
    Failed = "failed",
    /// Cancelled by `DELETE /v1/jobs/{id}` before it finished (Heron
    /// addition).
    Cancelled = "cancelled",
}
}

impl JobStatus {
    pub fn is_final(self) -> bool {
        matches!(
            self,
            JobStatus::Done | JobStatus::Failed | JobStatus::Cancelled
        )
    }
}

impl fmt::Display for JobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stored status string that is not one of the job states.
#[derive(Debug, thiserror::Error)]
#[error("unknown job status {0:?}")]
pub struct UnknownJobStatus(pub String);

impl FromStr for JobStatus {
    type Err = UnknownJobStatus;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        JobStatus::from_wire(s).ok_or_else(|| UnknownJobStatus(s.to_owned()))
    }
}
