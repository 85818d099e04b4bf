//! Encrypted blobs: the file cut into 64 KiB segments, each sealed with
//! AES-256-GCM under the blob's data key (the STREAM construction: the
//! nonce is a random prefix, the segment's number and a last-segment flag,
//! so segments cannot be reordered, dropped or cut off unnoticed).
//!
//! Layout: `HERONBLOB1` · data key id (32 hex characters) · 7-byte nonce
//! prefix · sealed segments (each 16 bytes longer than its plaintext; the
//! last may be shorter, even empty).

use ring::aead::{Aad, LessSafeKey, NONCE_LEN, Nonce};
use ring::rand::{SecureRandom, SystemRandom};

use crate::StoreError;

pub(crate) const MAGIC: &[u8] = b"HERONBLOB1";
const KEY_ID_LEN: usize = 32;
const PREFIX_LEN: usize = 7;
pub(crate) const HEADER_LEN: usize = MAGIC.len() + KEY_ID_LEN + PREFIX_LEN;
const SEGMENT: usize = 64 * 1024;
const TAG: usize = 16;
const AAD: &[u8] = b"heron-blob";

fn nonce(prefix: &[u8; PREFIX_LEN], counter: u32, last: bool) -> Nonce {
    let mut bytes = [0u8; NONCE_LEN];
    bytes[..PREFIX_LEN].copy_from_slice(prefix);
    bytes[PREFIX_LEN..PREFIX_LEN + 4].copy_from_slice(&counter.to_be_bytes());
    bytes[NONCE_LEN - 1] = u8::from(last);
    Nonce::assume_unique_for_key(bytes)
}

/// Seals plaintext as it arrives.
pub(crate) struct Sealer {
    key: LessSafeKey,
    prefix: [u8; PREFIX_LEN],
    counter: u32,
    pending: Vec<u8>,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Sealer(segment {})", self.counter)
    }
}

impl Sealer {
    /// A sealer and the header to write first.
    pub(crate) fn new(key: LessSafeKey, key_id: &str) -> Result<(Sealer, Vec<u8>), StoreError> {
        if key_id.len() != KEY_ID_LEN || !key_id.is_ascii() {
            return Err(StoreError::Encryption(format!(
                "bad data key id {key_id:?}"
            )));
        }
        let mut prefix = [0u8; PREFIX_LEN];
        SystemRandom::new()
            .fill(&mut prefix)
            .map_err(|_| StoreError::Encryption("no randomness".to_owned()))?;
        let mut header = MAGIC.to_vec();
        header.extend_from_slice(key_id.as_bytes());
        header.extend_from_slice(&prefix);
        let sealer = Sealer {
            key,
            prefix,
            counter: 0,
            pending: Vec::with_capacity(SEGMENT),
        };
        Ok((sealer, header))
    }

    /// Take plaintext; returns the sealed segments completed by it.
    pub(crate) fn push(&mut self, mut plaintext: &[u8]) -> Result<Vec<u8>, StoreError> {
        let mut out = Vec::new();
        while !plaintext.is_empty() {
            // A full segment is sealed only once more data follows it, so
            // that the last segment is always sealed as last.
            if self.pending.len() == SEGMENT {
                let segment = std::mem::take(&mut self.pending);
                out.extend(self.seal(segment, false)?);
            }
            let room = SEGMENT - self.pending.len();
            let take = room.min(plaintext.len());
            self.pending.extend_from_slice(&plaintext[..take]);
            plaintext = &plaintext[take..];
        }
        Ok(out)
    }

    /// Seal what is left as the last segment.
    pub(crate) fn finish(mut self) -> Result<Vec<u8>, StoreError> {
        let segment = std::mem::take(&mut self.pending);
        self.seal(segment, true)
    }

    fn seal(&mut self, mut segment: Vec<u8>, last: bool) -> Result<Vec<u8>, StoreError> {
        let counter = self.counter;
        self.counter = self
            .counter
            .checked_add(1)
            .ok_or_else(|| StoreError::Encryption("blob too large to seal".to_owned()))?;
        self.key
            .seal_in_place_append_tag(
                nonce(&self.prefix, counter, last),
                Aad::from(AAD),
                &mut segment,
            )
            .map_err(|_| StoreError::Encryption("sealing failed".to_owned()))?;
        Ok(segment)
    }
}

/// The data key id named by an encrypted blob's header, or `None` when the
/// bytes do not start like an encrypted blob (a blob written before
/// encryption was turned on).
pub(crate) fn key_id(header: &[u8]) -> Option<String> {
    if header.len() < HEADER_LEN || !header.starts_with(MAGIC) {
        return None;
    }
    std::str::from_utf8(&header[MAGIC.len()..MAGIC.len() + KEY_ID_LEN])
        .ok()
        .map(str::to_owned)
}

/// Opens sealed segments as they arrive (the header already read).
pub(crate) struct Opener {
    key: LessSafeKey,
    prefix: [u8; PREFIX_LEN],
    counter: u32,
    buffer: Vec<u8>,
}

impl Opener {
    pub(crate) fn new(key: LessSafeKey, header: &[u8]) -> Result<Opener, StoreError> {
        if header.len() < HEADER_LEN {
            return Err(StoreError::Corrupt(
                "encrypted blob header is cut short".to_owned(),
            ));
        }
        let mut prefix = [0u8; PREFIX_LEN];
        prefix.copy_from_slice(&header[MAGIC.len() + KEY_ID_LEN..HEADER_LEN]);
        Ok(Opener {
            key,
            prefix,
            counter: 0,
            buffer: Vec::new(),
        })
    }

    /// Take ciphertext; returns the plaintext of the segments it completed
    /// (a full segment is opened once more data follows it).
    pub(crate) fn push(&mut self, ciphertext: &[u8]) -> Result<Vec<u8>, StoreError> {
        self.buffer.extend_from_slice(ciphertext);
        let mut out = Vec::new();
        while self.buffer.len() > SEGMENT + TAG {
            let rest = self.buffer.split_off(SEGMENT + TAG);
            let segment = std::mem::replace(&mut self.buffer, rest);
            out.extend(self.open(segment, false)?);
        }
        Ok(out)
    }

    /// Open the last segment; an error when the blob was cut short.
    pub(crate) fn finish(mut self) -> Result<Vec<u8>, StoreError> {
        let segment = std::mem::take(&mut self.buffer);
        self.open(segment, true)
    }

    fn open(&mut self, mut segment: Vec<u8>, last: bool) -> Result<Vec<u8>, StoreError> {
        let counter = self.counter;
        self.counter = self.counter.wrapping_add(1);
        let plaintext = self
            .key
            .open_in_place(
                nonce(&self.prefix, counter, last),
                Aad::from(AAD),
                &mut segment,
            )
            .map_err(|_| {
                StoreError::Corrupt(
                    "an encrypted blob does not decrypt: altered, cut short, or another key"
                        .to_owned(),
                )
            })?;
        let length = plaintext.len();
        segment.truncate(length);
        Ok(segment)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::aead::{AES_256_GCM, UnboundKey};

    fn key() -> LessSafeKey {
        LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &[7u8; 32]).unwrap())
    }

    fn round_trip(data: &[u8], chunk: usize) -> Result<Vec<u8>, StoreError> {
        let (mut sealer, header) = Sealer::new(key(), &"a".repeat(32)).unwrap();
        let mut sealed = header.clone();
        for piece in data.chunks(chunk.max(1)) {
            sealed.extend(sealer.push(piece)?);
        }
        sealed.extend(sealer.finish()?);
        assert_eq!(key_id(&sealed).as_deref(), Some("a".repeat(32).as_str()));
        let mut opener = Opener::new(key(), &sealed[..HEADER_LEN])?;
        let mut out = Vec::new();
        for piece in sealed[HEADER_LEN..].chunks(chunk.max(1) + 3) {
            out.extend(opener.push(piece)?);
        }
        out.extend(opener.finish()?);
        Ok(out)
    }

    #[test]
    fn blobs_of_every_size_round_trip() {
        for size in [
            0,
            1,
            SEGMENT - 1,
            SEGMENT,
            SEGMENT + 1,
            3 * SEGMENT,
            3 * SEGMENT + 17,
        ] {
            let data: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
            for chunk in [1000, SEGMENT, 5 * SEGMENT] {
                assert_eq!(
                    round_trip(&data, chunk).unwrap(),
                    data,
                    "size {size}, chunk {chunk}"
                );
            }
        }
    }

    #[test]
    fn a_cut_or_altered_blob_does_not_open() {
        let data = vec![1u8; 2 * SEGMENT + 10];
        let (mut sealer, header) = Sealer::new(key(), &"b".repeat(32)).unwrap();
        let mut sealed = header;
        sealed.extend(sealer.push(&data).unwrap());
        sealed.extend(sealer.finish().unwrap());
        // Cut after the second segment: the last one is missing.
        let cut = &sealed[..HEADER_LEN + 2 * (SEGMENT + TAG)];
        let mut opener = Opener::new(key(), &cut[..HEADER_LEN]).unwrap();
        assert!(opener.push(&cut[HEADER_LEN..]).is_ok());
        assert!(opener.finish().is_err());
        // One flipped bit.
        let mut altered = sealed.clone();
        altered[HEADER_LEN + 5] ^= 1;
        let mut opener = Opener::new(key(), &altered[..HEADER_LEN]).unwrap();
        let pushed = opener.push(&altered[HEADER_LEN..]);
        assert!(pushed.is_err() || opener.finish().is_err());
        assert!(key_id(b"%PDF-1.7 not encrypted").is_none());
    }
}
