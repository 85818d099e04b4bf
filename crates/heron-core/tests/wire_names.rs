//! Every name Heron puts on the wire for these enums, written out here by
//! hand (not read from the code under test): clients match on them, so a
//! renamed or removed variant must fail this test, and a new one must be
//! added here on purpose. Serde's form is checked against `as_str`, and
//! parsing against both.

use heron_core::access::{Role, Scope};
use heron_core::{JobStatus, NoticeCode};

fn check<T>(
    all: &[T],
    expected: &[&str],
    as_str: fn(T) -> &'static str,
    parse: fn(&str) -> Option<T>,
) where
    T: Copy + PartialEq + std::fmt::Debug,
{
    let names: Vec<&str> = all.iter().map(|v| as_str(*v)).collect();
    assert_eq!(names, expected);
    for value in all {
        assert_eq!(parse(as_str(*value)), Some(*value));
    }
    assert_eq!(parse("no-such-name"), None);
}

fn check_serde<T>(all: &[T], as_str: fn(T) -> &'static str)
where
    T: Copy + PartialEq + std::fmt::Debug + serde::Serialize + serde::de::DeserializeOwned,
{
    for value in all {
        let json = serde_json::to_string(value).expect("serialized");
        assert_eq!(json, format!("\"{}\"", as_str(*value)));
        let back: T = serde_json::from_str(&json).expect("deserialized");
        assert_eq!(back, *value);
    }
}

#[test]
fn notice_codes_are_pinned() {
    check(
        NoticeCode::ALL,
        &[
            "ocr_used",
            "type_mismatch",
            "unsupported_type",
            "extraction_failed",
            "extraction_timeout",
            "extraction_crashed",
            "limit_exceeded",
            "no_text",
            "encrypted",
            "ocr_unavailable",
            "low_confidence",
            "filename_disagrees",
            "out_of_distribution",
            "internal_error",
        ],
        NoticeCode::as_str,
        NoticeCode::from_wire,
    );
    check_serde(NoticeCode::ALL, NoticeCode::as_str);
}

#[test]
fn job_statuses_are_pinned() {
    check(
        JobStatus::ALL,
        &["queued", "processing", "done", "failed", "cancelled"],
        JobStatus::as_str,
        JobStatus::from_wire,
    );
    check_serde(JobStatus::ALL, JobStatus::as_str);
}

#[test]
fn scopes_and_roles_are_pinned() {
    check(
        Scope::ALL,
        &["classify", "read", "review", "train", "admin"],
        Scope::as_str,
        Scope::from_wire,
    );
    check(
        Role::ALL,
        &["uploader", "reader", "reviewer", "trainer", "admin"],
        Role::as_str,
        Role::from_wire,
    );
}
