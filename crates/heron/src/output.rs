//! Standard output for commands whose output is often piped (`heron
//! extract FILE | head`): text is built first and written in one go, and a
//! reader that goes away early (a closed pipe) ends the command quietly
//! instead of making `println!` panic.

use std::io::Write;

/// Write `text` to standard output; a closed pipe is not an error.
pub fn print(text: &str) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}
