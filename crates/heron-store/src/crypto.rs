//! Encryption at rest: envelope encryption with AES-256-GCM (ring).
//!
//! Each stored object (a document's text, a blob) is sealed under a data
//! key of its own; data keys are stored wrapped by the master key
//! (`data_keys`), which never touches the database. Rotating the master
//! key re-wraps the data keys and leaves the objects alone. A wrong master
//! key is caught at start-up ([`Store::check_master_key`]): it cannot
//! unwrap the stored data keys.
//!
//! Erasure destroys the keys (crypto-shredding): a document's text keys go
//! with its rows and its file's key before the file, so a copy that
//! outlives the deletion — an old object version kept by a versioned
//! bucket, a copy of the blob folder — can no longer be opened.

use std::path::Path;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use sha2::{Digest, Sha256};

use crate::clock::now_ms;
use crate::{Store, StoreError};

/// Marks an encrypted text body.
const TEXT_PREFIX: &str = "enc:v1:";

/// The key that wraps every data key.
pub struct MasterKey {
    id: String,
    key: LessSafeKey,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MasterKey({})", self.id)
    }
}

impl MasterKey {
    /// A key from 32 bytes written in base64 (`openssl rand -base64 32`).
    pub fn from_base64(text: &str) -> Result<MasterKey, StoreError> {
        let bytes = STANDARD
            .decode(text.trim())
            .map_err(|_| StoreError::Encryption("the master key is not base64".to_owned()))?;
        MasterKey::from_bytes(&bytes)
    }

    /// A key from a file holding its base64 form.
    pub fn from_file(path: &Path) -> Result<MasterKey, StoreError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            StoreError::Encryption(format!("reading the master key {}: {e}", path.display()))
        })?;
        MasterKey::from_base64(&text)
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<MasterKey, StoreError> {
        if bytes.len() != 32 {
            return Err(StoreError::Encryption(format!(
                "the master key must be 32 bytes, not {}",
                bytes.len()
            )));
        }
        // The id names the key without revealing it: 8 bytes of a hash.
        let id = hex::encode(&Sha256::digest([b"heron-master-key:", bytes].concat())[..8]);
        Ok(MasterKey {
            id,
            key: aead_key(bytes)?,
        })
    }

    pub fn id(&self) -> &str {
        &self.id
    }
}

fn aead_key(bytes: &[u8]) -> Result<LessSafeKey, StoreError> {
    UnboundKey::new(&AES_256_GCM, bytes)
        .map(LessSafeKey::new)
        .map_err(|_| StoreError::Encryption("invalid AES-256 key".to_owned()))
}

/// `nonce || ciphertext || tag` of `plaintext` under `key`.
pub(crate) fn seal(key: &LessSafeKey, plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>, StoreError> {
    let mut nonce = [0u8; NONCE_LEN];
    SystemRandom::new()
        .fill(&mut nonce)
        .map_err(|_| StoreError::Encryption("no randomness".to_owned()))?;
    let mut sealed = plaintext.to_vec();
    key.seal_in_place_append_tag(
        Nonce::assume_unique_for_key(nonce),
        Aad::from(aad),
        &mut sealed,
    )
    .map_err(|_| StoreError::Encryption("sealing failed".to_owned()))?;
    let mut out = nonce.to_vec();
    out.extend_from_slice(&sealed);
    Ok(out)
}

/// The plaintext of [`seal`]'s output; an error when it was altered or
/// sealed under another key.
pub(crate) fn open(key: &LessSafeKey, sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>, StoreError> {
    if sealed.len() < NONCE_LEN {
        return Err(StoreError::Encryption(
            "sealed data is truncated".to_owned(),
        ));
    }
    let (nonce, body) = sealed.split_at(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce)
        .map_err(|_| StoreError::Encryption("bad nonce".to_owned()))?;
    let mut buffer = body.to_vec();
    let plaintext = key
        .open_in_place(nonce, Aad::from(aad), &mut buffer)
        .map_err(|_| {
            StoreError::Encryption(
                "decryption failed: the data was altered or the key is wrong".to_owned(),
            )
        })?;
    Ok(plaintext.to_vec())
}

/// A fresh data key: its id, the key, and its wrapped form.
pub(crate) struct DataKey {
    pub id: String,
    pub key: LessSafeKey,
    pub wrapped: String,
}

pub(crate) fn new_data_key(master: &MasterKey) -> Result<DataKey, StoreError> {
    let mut bytes = [0u8; 32];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| StoreError::Encryption("no randomness".to_owned()))?;
    let id = uuid::Uuid::new_v4().simple().to_string();
    let wrapped = STANDARD.encode(seal(&master.key, &bytes, id.as_bytes())?);
    Ok(DataKey {
        key: aead_key(&bytes)?,
        id,
        wrapped,
    })
}

fn unwrap_data_key(master: &MasterKey, id: &str, wrapped: &str) -> Result<LessSafeKey, StoreError> {
    let sealed = STANDARD
        .decode(wrapped)
        .map_err(|_| StoreError::Corrupt(format!("data key {id} is not base64")))?;
    aead_key(&open(&master.key, &sealed, id.as_bytes())?)
}

/// Record a data key within `transaction`.
pub(crate) async fn insert_data_key(
    transaction: &mut sqlx::Transaction<'_, sqlx::Any>,
    master: &MasterKey,
    key: &DataKey,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO data_keys (id, master_key_id, wrapped, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(&key.id)
    .bind(master.id())
    .bind(&key.wrapped)
    .bind(now_ms())
    .execute(&mut **transaction)
    .await?;
    Ok(())
}

impl Store {
    /// Encrypt what is stored from now on under `master` (texts and
    /// blobs keep working either way: plaintext written before stays
    /// readable).
    pub fn with_master_key(mut self, master: Option<Arc<MasterKey>>) -> Store {
        self.master = master;
        self
    }

    pub fn encrypts(&self) -> bool {
        self.master.is_some()
    }

    /// Fail clearly when stored data keys were wrapped by another master
    /// key than the one configured, or when encrypted data exists and no
    /// key is configured.
    pub async fn check_master_key(&self) -> Result<(), StoreError> {
        let row: Option<(String, String, String)> = sqlx::query_as(
            "SELECT id, master_key_id, wrapped FROM data_keys ORDER BY created_at DESC LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await?;
        let Some((id, master_key_id, wrapped)) = row else {
            return Ok(());
        };
        let Some(master) = &self.master else {
            return Err(StoreError::Encryption(format!(
                "stored data is encrypted (master key {master_key_id}) but no master key is configured: \
                 set HERON_MASTER_KEY_FILE or HERON_MASTER_KEY"
            )));
        };
        if master.id() != master_key_id {
            return Err(StoreError::Encryption(format!(
                "wrong master key: stored data keys are wrapped by master key {master_key_id}, \
                 the configured key is {}",
                master.id()
            )));
        }
        unwrap_data_key(master, &id, &wrapped).map(|_| ())
    }

    /// Re-wrap every data key of `old` under `new` (in one transaction);
    /// returns how many. Objects are not re-encrypted.
    pub async fn rotate_master_key(
        &self,
        old: &MasterKey,
        new: &MasterKey,
    ) -> Result<u64, StoreError> {
        let mut transaction = self.pool.begin().await?;
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT id, wrapped FROM data_keys WHERE master_key_id = $1")
                .bind(old.id())
                .fetch_all(&mut *transaction)
                .await?;
        let foreign: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM data_keys WHERE master_key_id NOT IN ($1, $2)",
        )
        .bind(old.id())
        .bind(new.id())
        .fetch_one(&mut *transaction)
        .await?;
        if foreign > 0 {
            return Err(StoreError::Encryption(format!(
                "{foreign} data keys are wrapped by neither the old nor the new master key"
            )));
        }
        for (id, wrapped) in &rows {
            let sealed = STANDARD
                .decode(wrapped)
                .map_err(|_| StoreError::Corrupt(format!("data key {id} is not base64")))?;
            let raw = open(&old.key, &sealed, id.as_bytes())?;
            let rewrapped = STANDARD.encode(seal(&new.key, &raw, id.as_bytes())?);
            sqlx::query("UPDATE data_keys SET master_key_id = $1, wrapped = $2 WHERE id = $3")
                .bind(new.id())
                .bind(&rewrapped)
                .bind(id)
                .execute(&mut *transaction)
                .await?;
        }
        transaction.commit().await?;
        Ok(rows.len() as u64)
    }

    /// The data key `id`, unwrapped.
    pub(crate) async fn data_key(&self, id: &str) -> Result<LessSafeKey, StoreError> {
        let master = self.master.as_ref().ok_or_else(|| {
            StoreError::Encryption(
                "encrypted data needs the master key (HERON_MASTER_KEY_FILE)".to_owned(),
            )
        })?;
        let wrapped: String = sqlx::query_scalar("SELECT wrapped FROM data_keys WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| {
                StoreError::Encryption(format!(
                    "data key {id} no longer exists: what it sealed was erased"
                ))
            })?;
        unwrap_data_key(master, id, &wrapped)
    }

    /// A new data key for a blob, recorded at once.
    pub(crate) async fn new_blob_key(&self) -> Result<Option<(String, LessSafeKey)>, StoreError> {
        let Some(master) = &self.master else {
            return Ok(None);
        };
        let key = new_data_key(master)?;
        let mut transaction = self.pool.begin().await?;
        insert_data_key(&mut transaction, master, &key).await?;
        transaction.commit().await?;
        Ok(Some((key.id, key.key)))
    }

    /// `text` as stored: sealed under a new data key (recorded within
    /// `transaction`) when a master key is configured.
    pub(crate) async fn seal_text(
        &self,
        transaction: &mut sqlx::Transaction<'_, sqlx::Any>,
        text: &str,
    ) -> Result<String, StoreError> {
        let Some(master) = &self.master else {
            return Ok(text.to_owned());
        };
        let key = new_data_key(master)?;
        insert_data_key(transaction, master, &key).await?;
        let sealed = seal(&key.key, text.as_bytes(), key.id.as_bytes())?;
        Ok(format!(
            "{TEXT_PREFIX}{}:{}",
            key.id,
            STANDARD.encode(sealed)
        ))
    }

    /// [`Store::open_text`] of a column that may be NULL.
    pub(crate) async fn open_optional(
        &self,
        body: Option<String>,
    ) -> Result<Option<String>, StoreError> {
        match body {
            Some(body) => self.open_text(&body).await.map(Some),
            None => Ok(None),
        }
    }

    /// A stored text body as text.
    pub(crate) async fn open_text(&self, body: &str) -> Result<String, StoreError> {
        let Some(rest) = body.strip_prefix(TEXT_PREFIX) else {
            return Ok(body.to_owned());
        };
        let (id, sealed) = rest
            .split_once(':')
            .ok_or_else(|| StoreError::Corrupt("malformed encrypted text".to_owned()))?;
        let sealed = STANDARD
            .decode(sealed)
            .map_err(|_| StoreError::Corrupt("encrypted text is not base64".to_owned()))?;
        let key = self.data_key(id).await?;
        let plaintext = open(&key, &sealed, id.as_bytes())?;
        String::from_utf8(plaintext)
            .map_err(|_| StoreError::Corrupt("text is not UTF-8".to_owned()))
    }
}

/// The data key a stored text body is sealed under; `None` for a body
/// stored in the clear.
pub(crate) fn sealed_key_id(body: &str) -> Option<&str> {
    body.strip_prefix(TEXT_PREFIX)?
        .split_once(':')
        .map(|(id, _)| id)
}

/// Destroy data keys within `transaction` (crypto-shredding): whatever
/// was sealed under them — the row being deleted, and every copy of it in
/// a blob store's old versions or a backup of the files — can no longer
/// be opened by this deployment.
pub(crate) async fn destroy_data_keys<'a>(
    transaction: &mut sqlx::Transaction<'_, sqlx::Any>,
    ids: impl IntoIterator<Item = &'a str>,
) -> Result<u64, StoreError> {
    let mut destroyed = 0;
    for id in ids {
        destroyed += sqlx::query("DELETE FROM data_keys WHERE id = $1")
            .bind(id)
            .execute(&mut **transaction)
            .await?
            .rows_affected();
    }
    Ok(destroyed)
}

/// Tables holding a document's sealed text bodies, keyed by `task_id`:
/// its text and what was read from it.
pub(crate) const DOCUMENT_TEXT_TABLES: [&str; 2] = ["document_texts", "document_analysis"];

/// Destroy the data key of the body `table` holds for `task_id` (one of
/// [`DOCUMENT_TEXT_TABLES`]), before the row is replaced or deleted.
pub(crate) async fn destroy_text_key(
    transaction: &mut sqlx::Transaction<'_, sqlx::Any>,
    table: &str,
    task_id: &str,
) -> Result<u64, StoreError> {
    debug_assert!(DOCUMENT_TEXT_TABLES.contains(&table));
    // The table name is one of the constants above.
    let body: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT body FROM {table} WHERE task_id = $1"
    )))
    .bind(task_id)
    .fetch_optional(&mut **transaction)
    .await?;
    destroy_data_keys(transaction, body.as_deref().and_then(sealed_key_id)).await
}

/// Delete every text body of document `task_id` and destroy their keys.
pub(crate) async fn shred_document_texts(
    transaction: &mut sqlx::Transaction<'_, sqlx::Any>,
    task_id: &str,
) -> Result<(), StoreError> {
    for table in DOCUMENT_TEXT_TABLES {
        destroy_text_key(transaction, table, task_id).await?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM {table} WHERE task_id = $1"
        )))
        .bind(task_id)
        .execute(&mut **transaction)
        .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_data_opens_only_with_its_key_and_aad() {
        let a = MasterKey::from_bytes(&[1u8; 32]).unwrap();
        let b = MasterKey::from_bytes(&[2u8; 32]).unwrap();
        assert_ne!(a.id(), b.id());
        let sealed = seal(&a.key, b"statement", b"k1").unwrap();
        assert_eq!(open(&a.key, &sealed, b"k1").unwrap(), b"statement");
        assert!(open(&b.key, &sealed, b"k1").is_err());
        assert!(open(&a.key, &sealed, b"k2").is_err());
        let mut tampered = sealed.clone();
        tampered[NONCE_LEN] ^= 1;
        assert!(open(&a.key, &tampered, b"k1").is_err());
        assert!(MasterKey::from_bytes(&[0u8; 16]).is_err());
        assert!(MasterKey::from_base64("not base64!").is_err());
    }
}
