//! What Heron's test suites share, and only that (a dev-dependency).
//!
//! **Missing pieces.** A test that needs a tool (Tesseract, Chromium), a
//! model or a service (PostgreSQL, S3) it cannot find calls [`missing`]:
//! on a developer's machine that prints one loud notice and the test
//! passes without running its body; under `HERON_TEST_REQUIRE=all` (set by
//! `.ci/run`) it fails, so CI never goes green on a test that did not run.
//!
//! **The corpus group.** Tests that read documents from outside the
//! repository (the original service's samples, the robust PDFs, the real
//! labelled documents) find them through [`corpus`], one setting:
//! `HERON_TEST_CORPUS`, default `../shared/corpus` beside the workspace
//! when it exists. Their names start with [`CORPUS_GROUP`] so that
//! `scripts/test` can leave the whole group out, and say so, on a clone
//! that has no corpus.

use std::path::{Path, PathBuf};

/// The prefix of every test that reads the outside corpus (a nextest
/// filter `test(/corpus_/)`, a libtest `--skip corpus_`).
pub const CORPUS_GROUP: &str = "corpus_";

/// Whether every tool, model, service and corpus is required (CI).
pub fn required() -> bool {
    std::env::var("HERON_TEST_REQUIRE").is_ok_and(|v| v == "all")
}

/// A test cannot run because `what` is missing: fail under
/// `HERON_TEST_REQUIRE=all`, otherwise print a notice the developer sees.
/// The caller returns right after.
#[track_caller]
pub fn missing(what: &str) {
    assert!(
        !required(),
        "HERON_TEST_REQUIRE=all and {what}: install it or start it (scripts/test does), or unset HERON_TEST_REQUIRE"
    );
    eprintln!("\n!!! SKIPPED: {what} !!!\n");
}

/// The outside corpus folder: `HERON_TEST_CORPUS`, else `../shared/corpus`
/// beside the workspace. It may not exist; see [`corpus`].
pub fn corpus_root() -> PathBuf {
    match std::env::var_os("HERON_TEST_CORPUS") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"),
    }
}

/// The part `part` of the corpus (`samples`, `robust-pdf`, `real`), or
/// `None` after [`missing`] when it is not there.
#[track_caller]
pub fn corpus(part: &str) -> Option<PathBuf> {
    let dir = corpus_root().join(part);
    if dir.is_dir() {
        Some(dir)
    } else {
        missing(&format!(
            "the corpus group needs {} (set HERON_TEST_CORPUS to a folder holding {part}/)",
            dir.display()
        ));
        None
    }
}

/// A file of the original service's samples, read whole, or `None` after
/// [`missing`].
#[track_caller]
pub fn corpus_sample(name: &str) -> Option<Vec<u8>> {
    let dir = corpus("samples")?;
    let path = dir.join(name);
    match std::fs::read(&path) {
        Ok(bytes) => Some(bytes),
        Err(e) => panic!("reading the sample {}: {e}", path.display()),
    }
}

/// The embedding model's folder named by `HERON_TEST_EMBEDDING_MODEL`
/// (`scripts/test` fetches the model and sets it), or `None` after
/// [`missing`].
#[track_caller]
pub fn embedding_model() -> Option<PathBuf> {
    match std::env::var_os("HERON_TEST_EMBEDDING_MODEL") {
        Some(dir) if Path::new(&dir).join("model.safetensors").is_file() => Some(dir.into()),
        _ => {
            missing(
                "HERON_TEST_EMBEDDING_MODEL names no model folder (scripts/fetch-embedding-model DIR; scripts/test sets it)",
            );
            None
        }
    }
}

/// PP-OCR's folder (models and ONNX Runtime) named by
/// `HERON_TEST_OCR_MODELS` (`scripts/test` fetches them and sets it), or
/// `None` after [`missing`]. Whether every file is there is for the
/// extraction crate to say (`heron_extract::ppocr::missing_files`).
#[track_caller]
pub fn ocr_models() -> Option<PathBuf> {
    match std::env::var_os("HERON_TEST_OCR_MODELS") {
        Some(dir) if Path::new(&dir).is_dir() => Some(dir.into()),
        _ => {
            missing(
                "HERON_TEST_OCR_MODELS names no PP-OCR models folder (scripts/fetch-ocr-models DIR; scripts/test sets it)",
            );
            None
        }
    }
}

/// Whether `program` can be started (`program -v`, output discarded).
pub fn can_run(program: &str) -> bool {
    std::process::Command::new(program)
        .arg("-v")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_default_the_outside_folder_is_beside_the_workspace() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
        if std::env::var_os("HERON_TEST_CORPUS").is_none() {
            assert_eq!(corpus_root(), root);
        }
    }

    #[test]
    fn a_tool_that_does_not_exist_cannot_run() {
        assert!(!can_run("heron-no-such-tool-here"));
        assert!(can_run("true"));
    }
}
