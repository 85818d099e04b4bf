//! Running in-process parsers in a pool of child processes.
//!
//! Catching panics does not stop a parser that loops forever or allocates
//! without bound. So the text-layer parsers run in child processes (the
//! `heron` binary itself, started with a hidden subcommand that calls
//! [`serve_child`]), each with an address-space limit (`RLIMIT_AS`, which
//! its own tool children inherit). A request that passes its deadline gets
//! its child killed; a child that dies (crash, abort, out of memory) is
//! reported as [`ExtractError::Crashed`] for that one file and replaced on
//! the next request. Idle children are reused, so the cost of a process
//! start is paid once per pool slot, not once per file.
//!
//! Children start with a cleared environment ([`CHILD_ENVIRONMENT`] is
//! all they inherit: no database URL, S3 key or webhook secret reaches a
//! parser) and with `TMPDIR` set to a folder of their own that the parent
//! creates and removes when the child ends, so scratch files of a child
//! killed at its deadline are not left behind. A parent that is killed
//! itself cannot remove them; its folders carry its process id, and the
//! next pool started on the machine removes those of dead parents
//! ([`sweep_orphaned_scratch`]).
//!
//! Protocol: one JSON line per request ([`ChildRequest`]) on the child's
//! stdin, one JSON line per response ([`ChildResponse`]) on its stdout.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::{ExtractError, Extraction, ExtractionLimits, FileKind, OcrEngine};

/// One piece of work for a child.
#[derive(Debug, Serialize, Deserialize)]
pub struct ChildRequest {
    pub path: PathBuf,
    pub kind: FileKind,
    pub limits: ExtractionLimits,
    pub task: ChildTask,
}

/// What the child is asked to do with the file.
#[derive(Debug, Serialize, Deserialize)]
pub enum ChildTask {
    /// Read the text layer ([`crate::extract_in_process`]).
    TextLayer,
    /// OCR what `extraction` lacks ([`crate::ocr_in_process`]): image
    /// decoding and preprocessing run here, fenced, not in the service.
    Ocr {
        engine: Box<OcrEngine>,
        extraction: Box<Extraction>,
    },
}

/// A child's answer: the extraction, or an error with its stable code.
#[derive(Debug, Serialize, Deserialize)]
pub enum ChildResponse {
    Ok(Extraction),
    Err {
        kind: ChildErrorKind,
        message: String,
    },
}

/// [`ExtractError`] variants as they cross the process boundary.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub enum ChildErrorKind {
    Unsupported,
    Corrupt,
    Encrypted,
    Timeout,
    Crashed,
    LimitExceeded,
    ToolMissing,
    Io,
}

impl ChildResponse {
    fn from_result(result: Result<Extraction, ExtractError>) -> ChildResponse {
        let error = match result {
            Ok(extraction) => return ChildResponse::Ok(extraction),
            Err(error) => error,
        };
        let kind = match &error {
            ExtractError::Unsupported { .. } => ChildErrorKind::Unsupported,
            ExtractError::Corrupt(_) => ChildErrorKind::Corrupt,
            ExtractError::Encrypted => ChildErrorKind::Encrypted,
            ExtractError::Timeout { .. } => ChildErrorKind::Timeout,
            ExtractError::Crashed(_) => ChildErrorKind::Crashed,
            ExtractError::LimitExceeded(_) => ChildErrorKind::LimitExceeded,
            ExtractError::ToolMissing(_) => ChildErrorKind::ToolMissing,
            ExtractError::Io(_) => ChildErrorKind::Io,
        };
        let message = match &error {
            // The inner text, so the parent does not repeat the prefix.
            ExtractError::Unsupported { detected } => detected.clone(),
            ExtractError::Corrupt(m)
            | ExtractError::Crashed(m)
            | ExtractError::LimitExceeded(m)
            | ExtractError::ToolMissing(m) => m.clone(),
            other => other.to_string(),
        };
        ChildResponse::Err { kind, message }
    }

    fn into_result(self, limits: &ExtractionLimits) -> Result<Extraction, ExtractError> {
        let (kind, message) = match self {
            ChildResponse::Ok(extraction) => return Ok(extraction),
            ChildResponse::Err { kind, message } => (kind, message),
        };
        Err(match kind {
            // The child's description is not 'static; keep the generic one
            // and the message in a corrupt-free form.
            ChildErrorKind::Unsupported => ExtractError::Unsupported { detected: message },
            ChildErrorKind::Corrupt => ExtractError::Corrupt(message),
            ChildErrorKind::Encrypted => ExtractError::Encrypted,
            ChildErrorKind::Timeout => ExtractError::Timeout {
                seconds: limits.timeout.as_secs_f64(),
            },
            ChildErrorKind::Crashed => ExtractError::Crashed(message),
            ChildErrorKind::LimitExceeded => ExtractError::LimitExceeded(message),
            ChildErrorKind::ToolMissing => ExtractError::ToolMissing(message),
            ChildErrorKind::Io => ExtractError::Io(std::io::Error::other(message)),
        })
    }
}

/// The child side: apply the memory limit, then answer requests until
/// stdin closes. Each request runs under `catch_unwind`, so an ordinary
/// panic costs one error response rather than the process.
pub fn serve_child(memory_limit_bytes: u64) -> std::io::Result<()> {
    if memory_limit_bytes > 0 {
        rlimit::setrlimit(rlimit::Resource::AS, memory_limit_bytes, memory_limit_bytes)?;
    }
    // A panicking parser should not print a backtrace into our protocol
    // stream's neighbour (stderr is inherited by the parent's log).
    std::panic::set_hook(Box::new(|info| {
        eprintln!("extraction child: parser panicked: {info}");
    }));
    let stdin = std::io::stdin();
    let mut stdout = std::io::stdout().lock();
    for line in stdin.lock().lines() {
        let line = line?;
        let response = match serde_json::from_str::<ChildRequest>(&line) {
            Ok(request) => {
                let outcome = std::panic::catch_unwind(move || match request.task {
                    ChildTask::TextLayer => {
                        crate::extract_in_process(&request.path, request.kind, &request.limits)
                    }
                    ChildTask::Ocr { engine, extraction } => crate::ocr_in_process(
                        &request.path,
                        request.kind,
                        *extraction,
                        &engine,
                        &request.limits,
                    ),
                });
                match outcome {
                    Ok(result) => ChildResponse::from_result(result),
                    Err(_) => ChildResponse::Err {
                        kind: ChildErrorKind::Crashed,
                        message: "the parser panicked on this file".to_owned(),
                    },
                }
            }
            Err(e) => ChildResponse::Err {
                kind: ChildErrorKind::Io,
                message: format!("bad request: {e}"),
            },
        };
        let mut encoded = serde_json::to_vec(&response).map_err(std::io::Error::other)?;
        encoded.push(b'\n');
        stdout.write_all(&encoded)?;
        stdout.flush()?;
    }
    Ok(())
}

/// The variables a child inherits from the service; everything else (the
/// service's secrets among it) is cleared. The tools a child runs need a
/// `PATH`, a locale and Tesseract's data folder, nothing more.
pub const CHILD_ENVIRONMENT: &[&str] = &["PATH", "LANG", "LC_ALL", "LC_CTYPE", "TESSDATA_PREFIX"];

/// A running child with its pipes and its scratch folder.
struct ChildProcess {
    child: Arc<Mutex<Child>>,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    /// The child's `TMPDIR`, removed when this is dropped (after the child
    /// ended), whatever the child left in it.
    _scratch: tempfile::TempDir,
}

impl ChildProcess {
    fn kill(&self) {
        if let Ok(mut child) = self.child.lock() {
            kill_group(&mut child);
            let _ = child.wait();
        }
    }
}

/// Resident memory above which a child is retired after its answer.
const RETIRE_RESIDENT_BYTES: u64 = 320 * 1024 * 1024;

/// A process's resident memory (Linux `/proc`; `None` elsewhere).
fn resident_bytes(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kilobytes: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kilobytes * 1024)
}

/// Kill a child and everything it started (it leads its own process group),
/// so that no tool it ran outlives it holding resources.
fn kill_group(child: &mut Child) {
    // `kill -s KILL -- -PGID` rather than unsafe libc; errors mean it is gone.
    let _ = Command::new("kill")
        .args(["-s", "KILL", "--"])
        .arg(format!("-{}", child.id()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    let _ = child.kill();
}

/// Children's scratch folders are named `<this><parent pid>-<random>`.
const SCRATCH_PREFIX: &str = "heron-extract-";

/// Remove the children's scratch folders in `temp` whose parent process
/// no longer runs (a parent killed before it could remove them). Best
/// effort: a folder that cannot be read or removed is left.
fn sweep_orphaned_scratch(temp: &Path) {
    let Ok(entries) = std::fs::read_dir(temp) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(parent) = name
            .to_str()
            .and_then(|n| n.strip_prefix(SCRATCH_PREFIX))
            .and_then(|rest| rest.split_once('-'))
            .and_then(|(pid, _)| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if !Path::new(&format!("/proc/{parent}")).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// The parent side: a pool of extraction children.
#[derive(Debug)]
pub struct IsolatedExtractor {
    program: PathBuf,
    args: Vec<String>,
    idle: Mutex<Vec<ChildSlot>>,
    max_idle: usize,
}

/// `ChildProcess` behind a Debug-able wrapper.
struct ChildSlot(ChildProcess);

impl std::fmt::Debug for ChildSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChildSlot")
    }
}

impl IsolatedExtractor {
    /// Children are started as `program args...`; up to `max_idle` are kept
    /// between requests.
    pub fn new(program: &Path, args: &[&str], max_idle: usize) -> IsolatedExtractor {
        sweep_orphaned_scratch(&std::env::temp_dir());
        IsolatedExtractor {
            program: program.to_path_buf(),
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            idle: Mutex::new(Vec::new()),
            max_idle,
        }
    }

    fn spawn(&self) -> Result<ChildProcess, ExtractError> {
        use std::os::unix::process::CommandExt;
        let scratch = tempfile::Builder::new()
            .prefix(&format!("{SCRATCH_PREFIX}{}-", std::process::id()))
            .tempdir()
            .map_err(|e| {
                ExtractError::Crashed(format!("could not make an extraction scratch folder: {e}"))
            })?;
        let mut command = Command::new(&self.program);
        command.env_clear();
        for name in CHILD_ENVIRONMENT {
            if let Some(value) = std::env::var_os(name) {
                command.env(name, value);
            }
        }
        let mut child = command
            .env("TMPDIR", scratch.path())
            .args(&self.args)
            .process_group(0)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| {
                ExtractError::Crashed(format!("could not start an extraction process: {e}"))
            })?;
        let stdin = child
            .stdin
            .take()
            .ok_or_else(|| ExtractError::Crashed("no stdin".to_owned()))?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| ExtractError::Crashed("no stdout".to_owned()))?;
        Ok(ChildProcess {
            child: Arc::new(Mutex::new(child)),
            stdin,
            stdout: BufReader::new(stdout),
            _scratch: scratch,
        })
    }

    fn take_child(&self) -> Result<ChildProcess, ExtractError> {
        let reused = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        match reused {
            Some(ChildSlot(child)) => Ok(child),
            None => self.spawn(),
        }
    }

    fn give_back(&self, child: ChildProcess) {
        // A child that grew large (an OCR model run on a big photo leaves
        // its heap fragmented) is retired rather than kept: idle children
        // stay small, and the next one starts within its memory limit.
        let large = child
            .child
            .lock()
            .ok()
            .and_then(|c| resident_bytes(c.id()))
            .is_some_and(|bytes| bytes > RETIRE_RESIDENT_BYTES);
        if !large
            && let Ok(mut idle) = self.idle.lock()
            && idle.len() < self.max_idle
        {
            idle.push(ChildSlot(child));
            return;
        }
        child.kill();
    }

    /// Extract the text layer of `path` in a child, within `limits.timeout`.
    pub fn extract(
        &self,
        path: &Path,
        kind: FileKind,
        limits: &ExtractionLimits,
    ) -> Result<Extraction, ExtractError> {
        self.run(ChildRequest {
            path: path.to_path_buf(),
            kind,
            limits: limits.clone(),
            task: ChildTask::TextLayer,
        })
    }

    /// OCR what `extraction` lacks, in a child, within `limits.timeout`.
    pub fn ocr(
        &self,
        path: &Path,
        kind: FileKind,
        extraction: Extraction,
        engine: &OcrEngine,
        limits: &ExtractionLimits,
    ) -> Result<Extraction, ExtractError> {
        self.run(ChildRequest {
            path: path.to_path_buf(),
            kind,
            limits: limits.clone(),
            task: ChildTask::Ocr {
                engine: Box::new(engine.clone()),
                extraction: Box::new(extraction),
            },
        })
    }

    /// Send one request to a child and wait for its answer until the deadline.
    fn run(&self, request: ChildRequest) -> Result<Extraction, ExtractError> {
        let limits = &request.limits;
        let mut line =
            serde_json::to_vec(&request).map_err(|e| ExtractError::Crashed(e.to_string()))?;
        line.push(b'\n');
        let deadline = limits.deadline_from(Instant::now());

        let mut child = self.take_child()?;
        if child
            .stdin
            .write_all(&line)
            .and_then(|()| child.stdin.flush())
            .is_err()
        {
            // An idle child that died meanwhile: one fresh try.
            child.kill();
            child = self.spawn()?;
            child
                .stdin
                .write_all(&line)
                .and_then(|()| child.stdin.flush())
                .map_err(|e| {
                    ExtractError::Crashed(format!("extraction process unreachable: {e}"))
                })?;
        }

        // The watchdog kills the child if no answer came by the deadline.
        let (answered, watchdog_wait) = mpsc::channel::<()>();
        let watched = child.child.clone();
        let watchdog = std::thread::spawn(move || {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if watchdog_wait.recv_timeout(remaining) == Err(mpsc::RecvTimeoutError::Timeout) {
                if let Ok(mut child) = watched.lock() {
                    kill_group(&mut child);
                }
                return true;
            }
            false
        });
        let mut response = String::new();
        let read = child.stdout.read_line(&mut response);
        let _ = answered.send(());
        let timed_out = watchdog.join().unwrap_or(false);

        match read {
            Ok(n) if n > 0 && !timed_out => {
                match serde_json::from_str::<ChildResponse>(&response) {
                    Ok(answer) => {
                        self.give_back(child);
                        answer.into_result(limits)
                    }
                    Err(e) => {
                        child.kill();
                        Err(ExtractError::Crashed(format!(
                            "unreadable answer from the extraction process: {e}"
                        )))
                    }
                }
            }
            _ if timed_out => {
                child.kill();
                Err(ExtractError::Timeout {
                    seconds: limits.timeout.as_secs_f64(),
                })
            }
            _ => {
                let status = child.child.lock().ok().and_then(|mut c| c.wait().ok());
                child.kill();
                Err(ExtractError::Crashed(match status {
                    Some(status) => format!(
                        "the extraction process died ({status}); memory limit or parser crash"
                    ),
                    None => "the extraction process died".to_owned(),
                }))
            }
        }
    }
}

impl Drop for IsolatedExtractor {
    fn drop(&mut self) {
        if let Ok(mut idle) = self.idle.lock() {
            for ChildSlot(child) in idle.drain(..) {
                child.kill();
            }
        }
    }
}

/// How text layers are extracted: in this process, or in fenced children.
#[derive(Debug)]
pub enum Extractor {
    InProcess,
    Isolated(IsolatedExtractor),
}

impl Extractor {
    pub fn extract(
        &self,
        path: &Path,
        kind: FileKind,
        limits: &ExtractionLimits,
    ) -> Result<Extraction, ExtractError> {
        // Nothing to parse: no reason to cross a process boundary.
        match kind {
            FileKind::Unknown { description } => {
                return Err(ExtractError::Unsupported {
                    detected: description.to_owned(),
                });
            }
            FileKind::Image(_) => return Ok(Extraction::default()),
            _ => {}
        }
        match self {
            Extractor::InProcess => crate::extract_in_process(path, kind, limits),
            Extractor::Isolated(pool) => pool.extract(path, kind, limits),
        }
    }

    /// OCR what `extraction` lacks (nothing, when it needs no OCR).
    pub fn ocr(
        &self,
        path: &Path,
        kind: FileKind,
        extraction: Extraction,
        engine: &OcrEngine,
        limits: &ExtractionLimits,
    ) -> Result<Extraction, ExtractError> {
        if !crate::needs_ocr(kind, &extraction) {
            return Ok(extraction);
        }
        match self {
            Extractor::InProcess => crate::ocr_in_process(path, kind, extraction, engine, limits),
            Extractor::Isolated(pool) => pool.ocr(path, kind, extraction, engine, limits),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// A pool whose "children" are shell scripts speaking the protocol.
    fn pool(script: &str) -> IsolatedExtractor {
        IsolatedExtractor::new(Path::new("sh"), &["-c", script], 2)
    }

    fn limits(timeout: Duration) -> ExtractionLimits {
        ExtractionLimits {
            timeout,
            ..ExtractionLimits::default()
        }
    }

    const ANSWER: &str = r#"{"Ok":{"pages":["hello"],"metadata":{},"page_count":1,"ocr_used":false,"ocr_confidence":null,"warnings":[]}}"#;

    #[test]
    fn answers_come_back_and_children_are_reused() {
        // Each child answers every request and counts them in its answer.
        let script = format!("while read line; do echo '{ANSWER}'; done");
        let pool = pool(&script);
        for _ in 0..3 {
            let extraction = pool
                .extract(
                    Path::new("/x"),
                    FileKind::Text,
                    &limits(Duration::from_secs(10)),
                )
                .unwrap();
            assert_eq!(extraction.pages, vec!["hello".to_owned()]);
        }
        assert_eq!(
            pool.idle.lock().unwrap().len(),
            1,
            "one child served all three requests"
        );
    }

    #[test]
    fn a_hanging_child_is_killed_at_the_deadline() {
        let pool = pool("read line; sleep 30");
        let started = Instant::now();
        let result = pool.extract(
            Path::new("/x"),
            FileKind::Text,
            &limits(Duration::from_millis(300)),
        );
        assert!(
            matches!(result, Err(ExtractError::Timeout { .. })),
            "{result:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(
            pool.idle.lock().unwrap().is_empty(),
            "a killed child is not reused"
        );
    }

    #[test]
    fn a_dying_child_is_a_crash_for_that_file_only() {
        let pool = pool("read line; kill -SEGV $$");
        let result = pool.extract(
            Path::new("/x"),
            FileKind::Text,
            &limits(Duration::from_secs(10)),
        );
        assert!(
            matches!(result, Err(ExtractError::Crashed(_))),
            "{result:?}"
        );
        // The next request gets a new child (which dies too, but is started).
        let again = pool.extract(
            Path::new("/x"),
            FileKind::Text,
            &limits(Duration::from_secs(10)),
        );
        assert!(matches!(again, Err(ExtractError::Crashed(_))));
    }

    #[test]
    fn errors_keep_their_kind_across_the_boundary() {
        let pool = pool(r#"read line; echo '{"Err":{"kind":"Encrypted","message":"x"}}'"#);
        let result = pool.extract(
            Path::new("/x"),
            FileKind::Pdf,
            &limits(Duration::from_secs(10)),
        );
        assert!(matches!(result, Err(ExtractError::Encrypted)), "{result:?}");
    }

    #[test]
    fn scratch_of_dead_parents_is_swept_and_of_live_ones_kept() {
        let temp = tempfile::tempdir().unwrap();
        let mut ended = Command::new("true").spawn().unwrap();
        let dead = ended.id();
        ended.wait().unwrap();
        let orphan = temp.path().join(format!("{SCRATCH_PREFIX}{dead}-abc"));
        let live = temp
            .path()
            .join(format!("{SCRATCH_PREFIX}{}-def", std::process::id()));
        let other = temp.path().join("heron-extract-notapid");
        for dir in [&orphan, &live, &other] {
            std::fs::create_dir(dir).unwrap();
            std::fs::write(dir.join("left"), b"x").unwrap();
        }
        sweep_orphaned_scratch(temp.path());
        assert!(!orphan.exists());
        assert!(live.join("left").exists());
        assert!(other.exists());
    }

    #[test]
    fn children_inherit_no_secret_and_leave_no_scratch_behind() {
        // The child answers with a variable of the test's environment that
        // is not on the list (`CARGO_MANIFEST_DIR`, set by the test runner)
        // and its TMPDIR, having written a file there.
        assert!(std::env::var_os("CARGO_MANIFEST_DIR").is_some());
        let script = r#"read line; touch "$TMPDIR/left-behind";
            printf '{"Ok":{"pages":["%s|%s"],"metadata":{},"page_count":1,"ocr_used":false,"ocr_confidence":null,"warnings":[]}}\n' \
                "${CARGO_MANIFEST_DIR:-none}" "$TMPDIR"; "#;
        let pool = pool(script);
        let extraction = pool
            .extract(
                Path::new("/x"),
                FileKind::Text,
                &limits(Duration::from_secs(10)),
            )
            .unwrap();
        let (secret, scratch) = extraction.pages[0].split_once('|').unwrap();
        assert_eq!(secret, "none", "the service's environment reached a child");
        let scratch = PathBuf::from(scratch);
        assert!(scratch.join("left-behind").exists());
        assert_ne!(scratch, std::env::temp_dir());
        // The child exits after one answer; the pool finds it dead at the
        // next request, replaces it, and its folder goes with it.
        drop(pool);
        assert!(!scratch.exists(), "{scratch:?} outlived its child");
    }

    #[test]
    fn unknown_content_never_reaches_a_child() {
        let pool = pool("exit 1");
        let result = Extractor::Isolated(pool).extract(
            Path::new("/x"),
            FileKind::Unknown {
                description: "ZIP archive",
            },
            &limits(Duration::from_secs(1)),
        );
        assert!(
            matches!(result, Err(ExtractError::Unsupported { detected }) if detected == "ZIP archive")
        );
    }
}
