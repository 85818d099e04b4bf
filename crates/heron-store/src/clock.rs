//! Wall-clock time as stored: milliseconds since the Unix epoch.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

pub(crate) fn ms(duration: Duration) -> i64 {
    duration.as_millis() as i64
}
