//! Running an external tool as a child process under a deadline.
//!
//! A child that runs past its deadline is killed; its output is read with a
//! cap so that a runaway tool cannot fill our memory. This is the fence
//! around every third-party parser that runs out of process.

use std::ffi::OsStr;
use std::io::Read;
use std::process::{Command, ExitStatus, Stdio};
use std::time::Instant;

use wait_timeout::ChildExt;

/// What a finished tool printed.
#[derive(Debug)]
pub struct ToolOutput {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    /// The first few KiB of standard error, lossily decoded.
    pub stderr: String,
    /// Whether stdout was longer than the cap and was cut.
    pub truncated: bool,
}

/// Why a tool could not be run to completion.
#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    #[error("{0} is not installed")]
    Missing(String),
    #[error("{program} ran past its deadline and was stopped")]
    Timeout { program: String },
    #[error("could not run {program}: {source}")]
    Io {
        program: String,
        source: std::io::Error,
    },
}

const STDERR_CAP: usize = 16 * 1024;

/// Run `program` with `args`, reading at most `max_stdout` bytes of its
/// output, and kill it if it is still running at `deadline`.
pub fn run<I, S>(
    program: &str,
    args: I,
    deadline: Instant,
    max_stdout: usize,
) -> Result<ToolOutput, ToolError>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let io_error = |source| ToolError::Io {
        program: program.to_owned(),
        source,
    };
    let mut child = Command::new(program)
        .args(args)
        // Tesseract's OpenMP threads fight our own parallelism; one thread
        // per process is faster overall when several files run at once.
        .env("OMP_THREAD_LIMIT", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => ToolError::Missing(program.to_owned()),
            _ => io_error(e),
        })?;

    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let stdout_reader = std::thread::spawn(move || read_capped(stdout, max_stdout));
    let stderr_reader = std::thread::spawn(move || read_capped(stderr, STDERR_CAP));

    let remaining = deadline.saturating_duration_since(Instant::now());
    let status = match child.wait_timeout(remaining).map_err(io_error)? {
        Some(status) => status,
        None => {
            // Kill and reap so no zombie is left; errors here mean it already exited.
            let _ = child.kill();
            let _ = child.wait();
            let _ = stdout_reader.join();
            let _ = stderr_reader.join();
            return Err(ToolError::Timeout {
                program: program.to_owned(),
            });
        }
    };
    let (stdout, truncated) = stdout_reader.join().unwrap_or_default();
    let (stderr, _) = stderr_reader.join().unwrap_or_default();
    Ok(ToolOutput {
        status,
        stdout,
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
        truncated,
    })
}

/// Read up to `cap` bytes, then keep draining (so the child never blocks on
/// a full pipe) while discarding the rest.
fn read_capped<R: Read>(reader: Option<R>, cap: usize) -> (Vec<u8>, bool) {
    let Some(mut reader) = reader else {
        return (Vec::new(), false);
    };
    let mut kept = Vec::new();
    let mut truncated = false;
    let mut chunk = [0u8; 64 * 1024];
    loop {
        match reader.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let room = cap.saturating_sub(kept.len());
                if n > room {
                    truncated = true;
                }
                kept.extend_from_slice(&chunk[..n.min(room)]);
            }
        }
    }
    (kept, truncated)
}

/// Whether a program can be started (it answers `--version`).
pub fn is_available(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_hanging_tool_is_killed_at_the_deadline() {
        let started = Instant::now();
        let result = run(
            "sleep",
            ["30"],
            Instant::now() + Duration::from_millis(200),
            1024,
        );
        assert!(
            matches!(result, Err(ToolError::Timeout { .. })),
            "{result:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn output_is_capped() {
        let output = run(
            "yes",
            std::iter::empty::<&str>(),
            Instant::now() + Duration::from_millis(300),
            1000,
        );
        // `yes` never ends: either it is killed, or (never) finishes; both are bounded.
        assert!(matches!(output, Err(ToolError::Timeout { .. })));
        let output = run(
            "seq",
            ["1", "100000"],
            Instant::now() + Duration::from_secs(10),
            100,
        )
        .unwrap();
        assert!(output.truncated);
        assert_eq!(output.stdout.len(), 100);
    }

    #[test]
    fn a_missing_tool_is_reported_as_missing() {
        let result = run(
            "heron-no-such-tool",
            ["x"],
            Instant::now() + Duration::from_secs(1),
            10,
        );
        assert!(matches!(result, Err(ToolError::Missing(_))));
    }
}
