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
//! Page previews and PDF stamping for people run in the same children
//! ([`ChildTask::Preview`], [`ChildTask::Stamp`]): a hostile file meets
//! Poppler, qpdf and the image decoder only under the child's limits.
//!
//! Children start with a cleared environment ([`CHILD_ENVIRONMENT`] is
//! all they inherit: no database URL, S3 key or webhook secret reaches a
//! parser), optionally as another user ([`IsolatedExtractor::with_user`],
//! `HERON_EXTRACT_USER`: then they cannot read the service's files either,
//! and each file is handed over as a copy in the child's own folder), and
//! with `TMPDIR` set to a folder of their own that the parent
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
    /// A page as PNG for a person ([`crate::preview::render_page`]).
    Preview { page: u32, max_side: u32 },
    /// The PDF with a provenance line stamped on it
    /// ([`crate::stamp::stamp_pdf`]).
    Stamp { line: String },
}

/// A child's answer: the extraction, bytes it made (a preview, a stamped
/// file; base64), or an error with its stable code.
#[derive(Debug, Serialize, Deserialize)]
pub enum ChildResponse {
    Ok(Extraction),
    /// `None`: there was nothing to make (a page the file does not have).
    Made(Option<String>),
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
        match result {
            Ok(extraction) => ChildResponse::Ok(extraction),
            Err(error) => ChildResponse::from_error(error),
        }
    }

    fn from_made(result: Result<Option<Vec<u8>>, ExtractError>) -> ChildResponse {
        use base64::Engine;
        match result {
            Ok(made) => ChildResponse::Made(
                made.map(|bytes| base64::engine::general_purpose::STANDARD.encode(bytes)),
            ),
            Err(error) => ChildResponse::from_error(error),
        }
    }

    fn from_error(error: ExtractError) -> ChildResponse {
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

    fn into_extraction(self, limits: &ExtractionLimits) -> Result<Extraction, ExtractError> {
        match self {
            ChildResponse::Ok(extraction) => Ok(extraction),
            ChildResponse::Made(_) => Err(ExtractError::Crashed(
                "the extraction process answered with bytes, not text".to_owned(),
            )),
            ChildResponse::Err { kind, message } => Err(error_of(kind, message, limits)),
        }
    }

    fn into_made(self, limits: &ExtractionLimits) -> Result<Option<Vec<u8>>, ExtractError> {
        use base64::Engine;
        match self {
            ChildResponse::Made(None) => Ok(None),
            ChildResponse::Made(Some(encoded)) => base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .map(Some)
                .map_err(|e| ExtractError::Crashed(format!("unreadable bytes from a child: {e}"))),
            ChildResponse::Ok(_) => Err(ExtractError::Crashed(
                "the extraction process answered with text, not bytes".to_owned(),
            )),
            ChildResponse::Err { kind, message } => Err(error_of(kind, message, limits)),
        }
    }
}

/// The error a child reported, as the parent's [`ExtractError`].
fn error_of(kind: ChildErrorKind, message: String, limits: &ExtractionLimits) -> ExtractError {
    {
        match kind {
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
        }
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
                let outcome =
                    std::panic::catch_unwind(move || match request.task {
                        ChildTask::TextLayer => ChildResponse::from_result(
                            crate::extract_in_process(&request.path, request.kind, &request.limits),
                        ),
                        ChildTask::Ocr { engine, extraction } => {
                            ChildResponse::from_result(crate::ocr_in_process(
                                &request.path,
                                request.kind,
                                *extraction,
                                &engine,
                                &request.limits,
                            ))
                        }
                        ChildTask::Preview { page, max_side } => {
                            ChildResponse::from_made(crate::preview::render_page(
                                &request.path,
                                page,
                                max_side,
                                request.limits.timeout,
                            ))
                        }
                        ChildTask::Stamp { line } => ChildResponse::from_made(
                            stamp_in_process(&request.path, &line).map(Some),
                        ),
                    });
                match outcome {
                    Ok(response) => response,
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

/// [`crate::stamp::stamp_pdf`] into a scratch file, read back.
fn stamp_in_process(path: &Path, line: &str) -> Result<Vec<u8>, ExtractError> {
    let output = tempfile::NamedTempFile::new()?;
    crate::stamp::stamp_pdf(path, output.path(), line)
        .map_err(|e| ExtractError::Corrupt(e.to_string()))?;
    Ok(std::fs::read(output.path())?)
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
    scratch: tempfile::TempDir,
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
    // Errors mean the group is gone already.
    if let Some(group) = i32::try_from(child.id())
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    {
        let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
    }
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

/// The user extraction children run as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChildUser {
    pub uid: u32,
    pub gid: u32,
}

impl ChildUser {
    /// `uid`, `uid:gid`, or a user name looked up in `/etc/passwd` (its
    /// primary group). The user should own nothing of the service's.
    pub fn resolve(spec: &str) -> Result<ChildUser, String> {
        let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
        ChildUser::resolve_in(spec, &passwd)
    }

    fn resolve_in(spec: &str, passwd: &str) -> Result<ChildUser, String> {
        let spec = spec.trim();
        let number = |s: &str| s.parse::<u32>().ok();
        let user = if let Some((uid, gid)) = spec.split_once(':')
            && let (Some(uid), Some(gid)) = (number(uid), number(gid))
        {
            ChildUser { uid, gid }
        } else if let Some(uid) = number(spec) {
            ChildUser { uid, gid: uid }
        } else {
            ChildUser::from_passwd(spec, passwd)?
        };
        if user.uid == 0 {
            return Err(format!(
                "{spec:?} is root: children would gain, not lose, rights"
            ));
        }
        Ok(user)
    }

    fn from_passwd(name: &str, passwd: &str) -> Result<ChildUser, String> {
        let number = |s: &str| s.parse::<u32>().ok();
        passwd
            .lines()
            .filter_map(|line| {
                let fields: Vec<&str> = line.split(':').collect();
                (fields.len() >= 4 && fields[0] == name).then(|| {
                    Some(ChildUser {
                        uid: number(fields[2])?,
                        gid: number(fields[3])?,
                    })
                })?
            })
            .next()
            .ok_or_else(|| format!("no user {name:?} in /etc/passwd"))
    }
}

/// The parent side: a pool of extraction children.
#[derive(Debug)]
pub struct IsolatedExtractor {
    program: PathBuf,
    args: Vec<String>,
    idle: Mutex<Vec<ChildSlot>>,
    max_idle: usize,
    /// Children run as this user when set (`HERON_EXTRACT_USER`).
    user: Option<ChildUser>,
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
            user: None,
        }
    }

    /// Run the children as `user`: they cannot read the service's data
    /// folder, its database file or its secret files, nor signal it. Needs
    /// a parent started as root (or with the capabilities to set user and
    /// group ids, to change a file's owner and to signal other users'
    /// processes). One child is started here, so a parent that may not do
    /// it fails at start-up rather than on every file.
    pub fn with_user(mut self, user: ChildUser) -> Result<IsolatedExtractor, ExtractError> {
        self.user = Some(user);
        let child = self.spawn()?;
        self.give_back(child);
        Ok(self)
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
        if let Some(user) = self.user {
            use std::os::unix::fs::PermissionsExt;
            // The child's own folder; the parent keeps access through its
            // group (to hand files over and to remove the folder).
            std::os::unix::fs::chown(scratch.path(), Some(user.uid), None)
                .and_then(|()| {
                    std::fs::set_permissions(scratch.path(), std::fs::Permissions::from_mode(0o770))
                })
                .map_err(|e| {
                    ExtractError::Crashed(format!(
                        "could not give the scratch folder to uid {} (HERON_EXTRACT_USER needs root or CAP_CHOWN): {e}",
                        user.uid
                    ))
                })?;
            command.uid(user.uid).gid(user.gid);
        }
        command.current_dir(scratch.path());
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
            scratch,
        })
    }

    /// Write `request` for the file at `original` to `child`. A child
    /// running as another user cannot read the service's files: it gets a
    /// copy in its own scratch folder, removed when the returned guard is
    /// dropped.
    fn send(
        &self,
        child: &mut ChildProcess,
        request: &mut ChildRequest,
        original: &Path,
    ) -> std::io::Result<Option<tempfile::TempPath>> {
        let input = match self.user {
            Some(_) => {
                use std::os::unix::fs::PermissionsExt;
                let copy = tempfile::Builder::new()
                    .prefix("input-")
                    .tempfile_in(child.scratch.path())?
                    .into_temp_path();
                std::fs::copy(original, &copy)?;
                std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o644))?;
                request.path = copy.to_path_buf();
                Some(copy)
            }
            None => None,
        };
        let mut line = serde_json::to_vec(&*request).map_err(std::io::Error::other)?;
        line.push(b'\n');
        child.stdin.write_all(&line)?;
        child.stdin.flush()?;
        Ok(input)
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
        })?
        .into_extraction(limits)
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
        })?
        .into_extraction(limits)
    }

    /// [`crate::preview::render_page`] in a child, within `limits.timeout`.
    pub fn render_page(
        &self,
        path: &Path,
        page: u32,
        max_side: u32,
        limits: &ExtractionLimits,
    ) -> Result<Option<Vec<u8>>, ExtractError> {
        self.run(ChildRequest {
            path: path.to_path_buf(),
            kind: crate::sniff::sniff_file(path, None)?,
            limits: limits.clone(),
            task: ChildTask::Preview { page, max_side },
        })?
        .into_made(limits)
    }

    /// [`crate::stamp::stamp_pdf`] in a child: the stamped file's bytes.
    pub fn stamp_pdf(
        &self,
        path: &Path,
        line: &str,
        limits: &ExtractionLimits,
    ) -> Result<Vec<u8>, ExtractError> {
        self.run(ChildRequest {
            path: path.to_path_buf(),
            kind: FileKind::Pdf,
            limits: limits.clone(),
            task: ChildTask::Stamp {
                line: line.to_owned(),
            },
        })?
        .into_made(limits)?
        .ok_or_else(|| ExtractError::Crashed("no stamped file came back".to_owned()))
    }

    /// Send one request to a child and wait for its answer until the deadline.
    fn run(&self, mut request: ChildRequest) -> Result<ChildResponse, ExtractError> {
        let deadline = request.limits.deadline_from(Instant::now());
        // Children work in their own folder: a relative path means nothing
        // there.
        request.path = std::path::absolute(&request.path)?;
        let original = request.path.clone();
        let mut child = self.take_child()?;
        // Dropped (the copy removed) when the answer is in.
        let _input = match self.send(&mut child, &mut request, &original) {
            Ok(input) => input,
            Err(_) => {
                // An idle child that died meanwhile: one fresh try.
                child.kill();
                child = self.spawn()?;
                self.send(&mut child, &mut request, &original)
                    .map_err(|e| {
                        ExtractError::Crashed(format!("extraction process unreachable: {e}"))
                    })?
            }
        };
        let limits = &request.limits;

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
                        Ok(answer)
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
            FileKind::EncryptedOffice => return Err(ExtractError::Encrypted),
            _ => {}
        }
        match self {
            Extractor::InProcess => crate::extract_in_process(path, kind, limits),
            Extractor::Isolated(pool) => pool.extract(path, kind, limits),
        }
    }

    /// A page of the file as PNG for a person (see
    /// [`crate::preview::render_page`]); in a child when isolated, so the
    /// renderer and image decoder run under its memory limit.
    pub fn render_page(
        &self,
        path: &Path,
        page: u32,
        max_side: u32,
        limits: &ExtractionLimits,
    ) -> Result<Option<Vec<u8>>, ExtractError> {
        match self {
            Extractor::InProcess => {
                crate::preview::render_page(path, page, max_side, limits.timeout)
            }
            Extractor::Isolated(pool) => pool.render_page(path, page, max_side, limits),
        }
    }

    /// The PDF with `line` stamped on it (see [`crate::stamp::stamp_pdf`]);
    /// in a child when isolated.
    pub fn stamp_pdf(
        &self,
        path: &Path,
        line: &str,
        limits: &ExtractionLimits,
    ) -> Result<Vec<u8>, ExtractError> {
        match self {
            Extractor::InProcess => stamp_in_process(path, line),
            Extractor::Isolated(pool) => pool.stamp_pdf(path, line, limits),
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
    fn the_child_user_is_a_name_a_uid_or_a_pair_and_never_root() {
        let passwd = "root:x:0:0:root:/root:/bin/bash\n\
                      nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n\
                      heron-extract:x:998:997::/nonexistent:/usr/sbin/nologin\n";
        let user = |spec| ChildUser::resolve_in(spec, passwd);
        assert_eq!(user("heron-extract"), Ok(ChildUser { uid: 998, gid: 997 }));
        assert_eq!(
            user("nobody"),
            Ok(ChildUser {
                uid: 65534,
                gid: 65534
            })
        );
        assert_eq!(
            user("1200"),
            Ok(ChildUser {
                uid: 1200,
                gid: 1200
            })
        );
        assert_eq!(user("1200:50"), Ok(ChildUser { uid: 1200, gid: 50 }));
        assert!(user("root").is_err());
        assert!(user("0").is_err());
        assert!(user("nosuchuser").is_err());
    }

    /// As root (CI runs so), children run as `nobody`: they read the file
    /// they are handed, not the service's other files.
    #[test]
    fn children_run_as_another_user_and_cannot_read_the_service_files() {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        if std::fs::metadata("/proc/self").map(|m| m.uid()).ok() != Some(0) {
            heron_testkit::missing("root, to start children as another user");
            return;
        }
        let nobody = ChildUser::resolve("nobody").expect("the nobody user");
        // The service's data: readable by its owner only.
        let data = tempfile::tempdir().unwrap();
        std::fs::set_permissions(data.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        let secret = data.path().join("master.key");
        std::fs::write(&secret, "s3cr3t").unwrap();
        let upload = data.path().join("upload.txt");
        std::fs::write(&upload, "hello").unwrap();
        // The child reports who it is, the file it was handed, and the secret.
        let script = format!(
            r#"while read line; do
                 path=$(printf '%s' "$line" | sed 's/.*"path":"\([^"]*\)".*/\1/')
                 echo "{{\"Ok\":{{\"pages\":[\"$(id -u)\",\"$(cat "$path")\",\"$(cat {} 2>/dev/null || echo denied)\"],\"metadata\":{{}},\"page_count\":1,\"ocr_used\":false,\"ocr_confidence\":null,\"warnings\":[]}}}}"
               done"#,
            secret.display()
        );
        let pool = pool(&script)
            .with_user(nobody)
            .expect("starting a child as nobody");
        let extraction = pool
            .extract(&upload, FileKind::Text, &limits(Duration::from_secs(10)))
            .unwrap();
        assert_eq!(
            extraction.pages,
            [
                nobody.uid.to_string(),
                "hello".to_owned(),
                "denied".to_owned()
            ]
        );
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
