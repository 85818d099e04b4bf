//! Connecting to the metadata database: SQLite (embedded default) or
//! PostgreSQL, through sqlx's `Any` driver so that both run the same SQL
//! and the same migrations.
//!
//! The few statements whose best form differs between the two engines ask
//! [`Backend`] for their dialect; everything else is written in the SQL
//! both share (`$N` parameters, `RETURNING`, partial indexes, BIGINT/TEXT).

use std::path::Path;
use std::time::Duration;

use sqlx::AnyPool;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::MigrateError;

use crate::StoreError;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Which engine a [`Store`](crate::Store) talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }

    /// The clause a claim's sub-select ends with: PostgreSQL locks the
    /// row and lets concurrent claimers skip it; SQLite serialises
    /// writers, so it needs none.
    pub(crate) fn row_lock(self) -> &'static str {
        match self {
            Backend::Postgres => "FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        }
    }
}

/// Pool limits; both engines honour them.
#[derive(Debug, Clone, Copy)]
pub struct PoolConfig {
    pub max_connections: u32,
    /// How long a query waits for a free connection (and PostgreSQL for a
    /// connection to open) before failing: a database that is down answers
    /// quickly instead of hanging requests.
    pub acquire_timeout: Duration,
    /// PostgreSQL `statement_timeout`: no statement runs longer.
    pub statement_timeout: Duration,
}

impl Default for PoolConfig {
    fn default() -> Self {
        PoolConfig {
            max_connections: 8,
            acquire_timeout: Duration::from_secs(5),
            statement_timeout: Duration::from_secs(30),
        }
    }
}

/// The database URL to use: `url` when given (`sqlite://…`,
/// `postgres://…`), else the embedded SQLite file in `data_dir`.
pub(crate) fn resolve_url(
    url: Option<&str>,
    data_dir: &Path,
) -> Result<(String, Backend), StoreError> {
    match url {
        None => {
            let path = data_dir.join("heron.db");
            Ok((
                format!(
                    "sqlite://{}?mode=rwc",
                    percent_encode_path(&path.to_string_lossy())
                ),
                Backend::Sqlite,
            ))
        }
        Some(url) if url.starts_with("sqlite:") => {
            let url = if url.contains('?') {
                url.to_owned()
            } else {
                format!("{url}?mode=rwc")
            };
            Ok((url, Backend::Sqlite))
        }
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            Ok((url.to_owned(), Backend::Postgres))
        }
        Some(other) => Err(StoreError::UnsupportedUrl(redact_url(other))),
    }
}

/// Open a pool on `url` and bring its schema up to date.
pub(crate) async fn connect(
    url: &str,
    backend: Backend,
    config: PoolConfig,
) -> Result<AnyPool, StoreError> {
    sqlx::any::install_default_drivers();
    let options: AnyConnectOptions = url.parse()?;
    let statement_timeout_ms = config.statement_timeout.as_millis();
    let pool = AnyPoolOptions::new()
        .max_connections(config.max_connections)
        .acquire_timeout(config.acquire_timeout)
        // A connection broken by a database restart is noticed and
        // replaced instead of failing the next query.
        .test_before_acquire(true)
        .after_connect(move |connection, _| {
            Box::pin(async move {
                use sqlx::Executor;
                match backend {
                    Backend::Sqlite => {
                        for pragma in [
                            "PRAGMA journal_mode = WAL",
                            "PRAGMA synchronous = NORMAL",
                            "PRAGMA foreign_keys = ON",
                            "PRAGMA busy_timeout = 10000",
                            // Erased documents are overwritten, not left in
                            // free pages.
                            "PRAGMA secure_delete = ON",
                        ] {
                            connection.execute(pragma).await?;
                        }
                    }
                    Backend::Postgres => {
                        let set = format!("SET statement_timeout = {statement_timeout_ms}");
                        connection.execute(sqlx::AssertSqlSafe(set)).await?;
                    }
                }
                Ok(())
            })
        })
        .connect_with(options)
        .await?;
    MIGRATOR.run(&pool).await.map_err(|e| match e {
        MigrateError::VersionMismatch(version) => StoreError::SchemaChanged(version),
        other => StoreError::Migration(other),
    })?;
    Ok(pool)
}

/// A URL fit for an error message or a log line: the password is replaced.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((credentials, host)) => {
            let user = credentials.split(':').next().unwrap_or("");
            format!("{scheme}://{user}:***@{host}")
        }
        None => url.to_owned(),
    }
}

/// Percent-encode a file path for a `sqlite://` URL (spaces, `?`, `#`, `%`).
fn percent_encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for byte in path.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'.' | b'-' | b'_' | b'~' => {
                out.push(byte as char)
            }
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_their_backend_and_hide_passwords() {
        let dir = Path::new("/data/my files");
        let (url, backend) = resolve_url(None, dir).unwrap();
        assert_eq!(url, "sqlite:///data/my%20files/heron.db?mode=rwc");
        assert_eq!(backend, Backend::Sqlite);
        let (_, backend) = resolve_url(Some("postgres://u:p@db/heron"), dir).unwrap();
        assert_eq!(backend, Backend::Postgres);
        match resolve_url(Some("mysql://u:secret@db/x"), dir) {
            Err(StoreError::UnsupportedUrl(shown)) => assert_eq!(shown, "mysql://u:***@db/x"),
            other => panic!("unexpected {other:?}"),
        }
    }
}
