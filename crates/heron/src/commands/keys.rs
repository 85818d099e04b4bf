//! `heron keys`: the operator's key management, straight on the database
//! (it works while the service runs, and for any tenant).

use std::process::ExitCode;

use anyhow::{Context, bail};
use heron_core::Settings;
use heron_core::access::{Role, Scopes, valid_tenant_id};
use heron_store::{Actor, NewApiKey, Store};

use crate::cli::{KeysArgs, KeysCommand};

pub fn run(settings: Settings, args: &KeysArgs) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let store = open_store(&settings).await?;
        let code = match &args.command {
            KeysCommand::Create {
                tenant,
                scopes,
                roles,
                expires,
                name,
            } => create(&store, tenant, scopes, roles, expires, name).await?,
            KeysCommand::List { tenant } => list(&store, tenant.as_deref()).await?,
            KeysCommand::Revoke { tenant, id } => revoke(&store, tenant, id).await?,
            KeysCommand::RotateMaster { new_key_file } => {
                rotate_master(&store, &settings, new_key_file).await?
            }
        };
        store.close().await;
        Ok(code)
    })
}

pub(super) async fn open_store(settings: &Settings) -> anyhow::Result<Store> {
    std::fs::create_dir_all(&settings.data_dir)
        .with_context(|| format!("creating {}", settings.data_dir.display()))?;
    let store = Store::open(settings.database_url.as_deref(), &settings.data_dir)
        .await
        .context("opening the database")?;
    crate::setup::with_keys(store, settings).await
}

/// Who acts when the operator runs a command: the local user.
pub(super) fn operator() -> Actor {
    let user = std::env::var("USER").unwrap_or_else(|_| "unknown".to_owned());
    Actor {
        id: format!("cli:{user}"),
        request_id: format!("cli-{}", std::process::id()),
    }
}

async fn create(
    store: &Store,
    tenant: &str,
    scopes: &str,
    roles: &str,
    expires: &str,
    name: &str,
) -> anyhow::Result<ExitCode> {
    if !valid_tenant_id(tenant) {
        bail!("tenant {tenant:?}: use 1–64 of a-z, 0-9, _ and -, starting with a letter or digit");
    }
    let mut granted = Scopes::parse_list(scopes)?;
    for role in roles.split(',').filter(|r| !r.trim().is_empty()) {
        granted = granted.union(role.parse::<Role>()?.scopes());
    }
    if granted.is_empty() {
        bail!("give --scopes or --roles");
    }
    let expires_at_ms = parse_expiry(expires)?.map(|ms| now_ms() + ms);
    let issued = store
        .create_api_key(
            &NewApiKey {
                tenant: tenant.to_owned(),
                name: name.to_owned(),
                scopes: granted,
                expires_at_ms,
            },
            &operator(),
        )
        .await?;
    eprintln!(
        "key {} for tenant {tenant}, scopes {granted}{}; shown once, keep it now:",
        issued.record.id,
        expires_at_ms.map_or(String::new(), |_| format!(", expires in {expires}"))
    );
    println!("{}", issued.key);
    Ok(ExitCode::SUCCESS)
}

/// `90d`, `12h`, `30m` or `never` → milliseconds.
fn parse_expiry(text: &str) -> anyhow::Result<Option<i64>> {
    if text == "never" {
        return Ok(None);
    }
    let (number, unit) = text.split_at(text.len().saturating_sub(1));
    let number: i64 = number
        .parse()
        .with_context(|| format!("--expires {text:?}: expected e.g. 90d, 12h, 30m or never"))?;
    let unit_ms = match unit {
        "d" => 86_400_000,
        "h" => 3_600_000,
        "m" => 60_000,
        _ => bail!("--expires {text:?}: the unit is d, h or m"),
    };
    if number <= 0 {
        bail!("--expires must be positive");
    }
    Ok(Some(number * unit_ms))
}

async fn list(store: &Store, tenant: Option<&str>) -> anyhow::Result<ExitCode> {
    let keys = store.api_keys(tenant).await?;
    let now = now_ms();
    println!(
        "{:<18} {:<16} {:<8} {:<32} NAME",
        "ID", "TENANT", "STATE", "SCOPES"
    );
    for key in keys {
        let state = if key.revoked_at_ms.is_some() {
            "revoked"
        } else if key.active_at(now) {
            "active"
        } else {
            "expired"
        };
        println!(
            "{:<18} {:<16} {:<8} {:<32} {}",
            key.id,
            key.tenant,
            state,
            key.scopes.to_string(),
            key.name
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Re-wrap every data key under a new master key. The old key comes from
/// the settings; afterwards the service must be started with the new one.
async fn rotate_master(
    store: &Store,
    settings: &Settings,
    new_key_file: &std::path::Path,
) -> anyhow::Result<ExitCode> {
    let Some(old) = crate::setup::master_key(settings)? else {
        bail!("no current master key: set HERON_MASTER_KEY_FILE (or HERON_MASTER_KEY) to it");
    };
    heron_core::settings::check_secret_file("--new-key-file", new_key_file)?;
    let new = heron_store::MasterKey::from_file(new_key_file)
        .with_context(|| format!("the new master key {}", new_key_file.display()))?;
    let count = store.rotate_master_key(&old, &new).await?;
    let entry = heron_store::AuditEntry::ok(
        heron_core::access::DEPLOYMENT_TENANT,
        &operator(),
        "master_key.rotate",
        format!("master_key:{}", new.id()),
    )
    .with_detail(serde_json::json!({ "from": old.id(), "data_keys": count }));
    store.audit(&entry).await?;
    eprintln!(
        "{count} data keys re-wrapped from master key {} to {}; start Heron with the new key now",
        old.id(),
        new.id()
    );
    Ok(ExitCode::SUCCESS)
}

async fn revoke(store: &Store, tenant: &str, id: &str) -> anyhow::Result<ExitCode> {
    let id = id
        .strip_prefix("hk_")
        .and_then(|rest| rest.split('_').next())
        .unwrap_or(id);
    if store.revoke_api_key(tenant, id, &operator()).await? {
        eprintln!("key {id} of tenant {tenant} revoked");
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("tenant {tenant} has no active key {id}");
        Ok(ExitCode::FAILURE)
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

#[cfg(test)]
mod tests {
    use super::parse_expiry;

    #[test]
    fn expiries_read_as_durations() {
        assert_eq!(parse_expiry("never").unwrap(), None);
        assert_eq!(parse_expiry("90d").unwrap(), Some(90 * 86_400_000));
        assert_eq!(parse_expiry("12h").unwrap(), Some(12 * 3_600_000));
        assert!(parse_expiry("5y").is_err());
        assert!(parse_expiry("0d").is_err());
        assert!(parse_expiry("d").is_err());
    }
}
