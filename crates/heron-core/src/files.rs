//! Files written whole or not at all.

use std::io::Write;
use std::path::Path;

/// Write `bytes` to `path` through a temporary file in the same folder
/// (created if missing), flushed to disk, then renamed over `path`: a
/// reader — or a process started after a crash — sees the old file or
/// the new one, never part of one. The temporary name carries the process
/// id, so two processes writing the same file do not mix their bytes.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".tmp{}", std::process::id()));
    let temporary = path.with_file_name(name);
    let written = (|| {
        let mut file = std::fs::File::create(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_a_file_whole_and_leaves_no_temporary() {
        let dir = std::env::temp_dir().join(format!("heron-files-{}", std::process::id()));
        let path = dir.join("nested").join("value.json");
        write_atomically(&path, b"first").unwrap();
        write_atomically(&path, b"second").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"second");
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("value.json")]);
        // A folder in the way is an error, and nothing is left behind.
        let blocked = dir.join("nested");
        assert!(write_atomically(&blocked, b"x").is_err());
        assert_eq!(std::fs::read_dir(&blocked).unwrap().count(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
