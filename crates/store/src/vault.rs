//! Protected personal fields: encryption at rest and blind indexes.
//!
//! ID card numbers and phones of residents are stored sealed with AES-256-GCM (an
//! authenticated cipher: a wrong key or a tampered value fails to open instead of
//! giving garbage) and searched through blind indexes, HMAC-SHA256 of the value
//! under a second key. The two keys, 32 bytes each, come from one 64-byte secret:
//! the environment variable `WANGGE_KEY` (base64), or a key file created on first
//! start with mode 0600. See docs/security.md for backup and rotation.
//!
//! A sealed value reads `v1:<key id>:<base64(nonce ‖ ciphertext ‖ tag)>`. The key id
//! (derived from the key, it reveals nothing of it) says which key sealed the value,
//! so a key that does not fit is reported as such rather than as corrupt data.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The environment variable holding the key (base64 of 64 bytes); it wins over any key file.
pub const KEY_ENV: &str = "WANGGE_KEY";
/// The name of the key file that sits next to an SQLite database.
pub const KEY_FILE_NAME: &str = "wangge.key";
/// The first word of a key file's key line: the format, so a later format can be told apart.
const KEY_FILE_TAG: &str = "wangge-key-v1";
const KEY_LEN: usize = 64;
const NONCE_LEN: usize = 12;
/// Bytes of HMAC output kept in a blind index: 128 bits make an accidental collision
/// among even a billion values vanishingly unlikely (the ID card index is UNIQUE, so
/// a collision would refuse a person), at half the index size of the full 256.
const BLIND_LEN: usize = 16;

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("key file {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{0}")]
    BadKey(String),
    #[error("a protected value is malformed: {0}")]
    Malformed(&'static str),
    #[error("a protected value was sealed with key {found}, but the key loaded is {loaded}: load the right key file")]
    WrongKey { found: String, loaded: String },
    #[error(
        "this database's ID card numbers and phones are sealed with key {expected}, but the key loaded from \
         {origin} is {loaded}: point WANGGE_KEY or --key-file at the right key, or restore it from its backup"
    )]
    DatabaseKey { expected: String, loaded: String, origin: String },
    #[error(
        "the key file {path} is missing, but this database's ID card numbers and phones are sealed with key \
         {key_id}: restore that key file from its backup (or give it with --key-file or WANGGE_KEY); no new key \
         was made"
    )]
    MissingKey { path: PathBuf, key_id: String },
    #[error("a protected value does not open with key {0}: the key is wrong or the value was altered")]
    Inauthentic(String),
    #[error("no random numbers from the operating system: {0}")]
    Random(String),
}

/// The keys that seal protected fields and compute their blind indexes.
#[derive(Clone)]
pub struct Vault {
    cipher: Aes256Gcm,
    mac: Hmac<Sha256>,
    key_id: String,
    origin: KeyOrigin,
}

/// Where a [`Vault`]'s key came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyOrigin {
    /// The environment variable `WANGGE_KEY`.
    Env,
    /// A key file.
    File(PathBuf),
    /// Made up for this process ([`Vault::ephemeral`]), or given as bytes.
    Ephemeral,
}

impl fmt::Display for KeyOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Env => write!(f, "environment variable {KEY_ENV}"),
            Self::File(path) => write!(f, "{}", path.display()),
            Self::Ephemeral => f.write_str("an ephemeral key"),
        }
    }
}

impl fmt::Debug for Vault {
    /// Names the key, never shows it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Vault").field("key_id", &self.key_id).field("origin", &self.origin).finish()
    }
}

fn random(buf: &mut [u8]) -> Result<(), VaultError> {
    getrandom::fill(buf).map_err(|e| VaultError::Random(e.to_string()))
}

impl Vault {
    /// A vault over 64 bytes of key: the first 32 for AES-256-GCM, the last 32 for HMAC.
    pub fn from_bytes(key: &[u8], origin: KeyOrigin) -> Result<Self, VaultError> {
        if key.len() != KEY_LEN {
            return Err(VaultError::BadKey(format!("a key must be {KEY_LEN} bytes, found {}", key.len())));
        }
        let cipher = Aes256Gcm::new_from_slice(&key[..32]).expect("32-byte AES key");
        let mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&key[32..]).expect("HMAC takes any key length");
        let mut vault = Self { cipher, mac, key_id: String::new(), origin };
        // Derived through the MAC so that the id tells keys apart without telling
        // anything about them.
        vault.key_id = vault.mac("key id", "")[..4].iter().map(|b| format!("{b:02x}")).collect();
        Ok(vault)
    }

    /// A vault over a fresh random key that lives as long as the process: for tests
    /// and in-memory databases only, as nothing it seals can be read after a restart.
    pub fn ephemeral() -> Self {
        let mut key = [0u8; KEY_LEN];
        random(&mut key).expect("random key");
        Self::from_bytes(&key, KeyOrigin::Ephemeral).expect("64-byte key")
    }

    /// The key from `WANGGE_KEY` when set, else from the key file at `path`, which is
    /// created (mode 0600, with a new random key) when missing.
    pub fn from_env_or_file(path: &Path) -> Result<Self, VaultError> {
        match Self::from_env()? {
            Some(vault) => Ok(vault),
            None => Self::from_file(path),
        }
    }

    /// The key from `WANGGE_KEY`, or `None` when the variable is not set.
    pub fn from_env() -> Result<Option<Self>, VaultError> {
        match std::env::var(KEY_ENV) {
            Ok(text) if !text.trim().is_empty() => {
                let key = decode_key(&text).map_err(|e| VaultError::BadKey(format!("{KEY_ENV}: {e}")))?;
                Self::from_bytes(&key, KeyOrigin::Env).map(Some)
            }
            _ => Ok(None),
        }
    }

    /// The key in the key file at `path`; a new key file is made when there is none.
    pub fn from_file(path: &Path) -> Result<Self, VaultError> {
        let io = |source| VaultError::Io { path: path.to_owned(), source };
        match std::fs::read_to_string(path) {
            Ok(text) => {
                warn_if_readable_by_others(path);
                let key = parse_key_file(&text).map_err(|e| VaultError::BadKey(format!("{}: {e}", path.display())))?;
                Self::from_bytes(&key, KeyOrigin::File(path.to_owned()))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => match Self::create_key_file(path) {
                // Another process made it a moment ago: use theirs.
                Err(VaultError::Io { source, .. }) if source.kind() == std::io::ErrorKind::AlreadyExists => {
                    Self::from_file(path)
                }
                other => other,
            },
            Err(e) => Err(io(e)),
        }
    }

    /// Writes a new random key to `path`, which must not exist yet (an `AlreadyExists`
    /// error otherwise), and returns it. The file is written in full under a temporary
    /// name and then linked into place, so a second process starting at the same
    /// moment either wins the race or reads the winner's complete key, never half a
    /// file and never a different key.
    pub fn create_key_file(path: &Path) -> Result<Self, VaultError> {
        let io = |source| VaultError::Io { path: path.to_owned(), source };
        let mut key = [0u8; KEY_LEN];
        random(&mut key)?;
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(io)?;
        let mut builder = tempfile::Builder::new();
        builder.prefix(".wangge-key-");
        // Owner only (tempfile's default too, said here because it matters).
        #[cfg(unix)]
        builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600));
        let mut file = builder.tempfile_in(dir).map_err(io)?;
        file.write_all(key_file_text(&key).as_bytes()).map_err(io)?;
        file.as_file().sync_all().map_err(io)?;
        file.persist_noclobber(path).map_err(|e| io(e.error))?;
        // The new name must survive a power cut too, or the data sealed next would be lost.
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        tracing::warn!(
            "created a new encryption key for ID card numbers and phones in {}: back it up now, apart from the \
             database backups; without it the protected fields cannot be read (see docs/security.md)",
            path.display()
        );
        Self::from_bytes(&key, KeyOrigin::File(path.to_owned()))
    }

    /// A short name of the key (8 characters), stored with every sealed value.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// Where the key came from.
    pub fn origin(&self) -> &KeyOrigin {
        &self.origin
    }

    /// The key file the key was read from (or created in), if it came from one.
    pub fn key_file(&self) -> Option<&Path> {
        match &self.origin {
            KeyOrigin::File(path) => Some(path),
            _ => None,
        }
    }

    /// Encrypts `plaintext` with a fresh random nonce. `aad` (associated data) is
    /// authenticated but not stored: the same text must be given to [`Vault::open`],
    /// which binds the sealed value to its place (table, column, row).
    pub fn seal(&self, plaintext: &str, aad: &str) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        random(&mut nonce).expect("random nonce");
        self.seal_with_nonce(nonce, plaintext, aad)
    }

    /// [`Vault::seal`] with the nonce taken from `nonces`, for sealing many values in a row.
    pub(crate) fn seal_from(&self, nonces: &mut Nonces, plaintext: &str, aad: &str) -> String {
        self.seal_with_nonce(nonces.take(), plaintext, aad)
    }

    /// `nonce` must be random and never used again with this key.
    fn seal_with_nonce(&self, nonce: [u8; NONCE_LEN], plaintext: &str, aad: &str) -> String {
        let sealed = self
            .cipher
            .encrypt(&Nonce::from(nonce), Payload { msg: plaintext.as_bytes(), aad: aad.as_bytes() })
            .expect("AES-GCM takes messages of this size");
        let mut bytes = Vec::with_capacity(NONCE_LEN + sealed.len());
        bytes.extend_from_slice(&nonce);
        bytes.extend_from_slice(&sealed);
        let mut text = String::with_capacity(4 + self.key_id.len() + bytes.len().div_ceil(3) * 4);
        text.push_str("v1:");
        text.push_str(&self.key_id);
        text.push(':');
        STANDARD.encode_string(bytes, &mut text);
        text
    }

    /// Decrypts what [`Vault::seal`] made with the same `aad`. Fails, never returns
    /// garbage, when the key is wrong or the value or its place were altered.
    pub fn open(&self, sealed: &str, aad: &str) -> Result<String, VaultError> {
        let mut parts = sealed.splitn(3, ':');
        let (Some("v1"), Some(key_id), Some(body)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(VaultError::Malformed("it does not start with v1:"));
        };
        if key_id != self.key_id {
            return Err(VaultError::WrongKey { found: key_id.to_owned(), loaded: self.key_id.clone() });
        }
        let bytes = STANDARD.decode(body).map_err(|_| VaultError::Malformed("it is not base64"))?;
        if bytes.len() < NONCE_LEN + 16 {
            return Err(VaultError::Malformed("it is too short"));
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().expect("split at the nonce length");
        let plain = self
            .cipher
            .decrypt(&Nonce::from(nonce), Payload { msg: ciphertext, aad: aad.as_bytes() })
            .map_err(|_| VaultError::Inauthentic(self.key_id.clone()))?;
        String::from_utf8(plain).map_err(|_| VaultError::Malformed("it is not UTF-8"))
    }

    /// The blind index of `value` for `purpose`: a keyed hash, equal for equal values,
    /// that cannot be reversed or recomputed without the key. The purpose is hashed
    /// in, so the same digits give unrelated hashes in different columns.
    pub fn blind(&self, purpose: &str, value: &str) -> String {
        URL_SAFE_NO_PAD.encode(&self.mac(purpose, value)[..BLIND_LEN])
    }

    /// HMAC-SHA256 of `purpose`, a zero byte (so ("ab", "c") and ("a", "bc") differ) and `value`.
    fn mac(&self, purpose: &str, value: &str) -> [u8; 32] {
        let mut mac = self.mac.clone();
        mac.update(purpose.as_bytes());
        mac.update(&[0]);
        mac.update(value.as_bytes());
        mac.finalize().into_bytes().into()
    }
}

/// Random nonces for sealing many values in a row, read from the operating system
/// a block at a time: one system call per 341 nonces rather than one each, which
/// showed in the profile of bulk loads. Every nonce is still fresh randomness from
/// the operating system, and each is handed out once.
pub(crate) struct Nonces {
    block: [u8; NONCE_LEN * 341],
    next: usize,
}

impl Nonces {
    pub(crate) fn new() -> Self {
        let block = [0u8; NONCE_LEN * 341];
        Self { next: block.len(), block }
    }

    fn take(&mut self) -> [u8; NONCE_LEN] {
        if self.next == self.block.len() {
            random(&mut self.block).expect("random nonces");
            self.next = 0;
        }
        let nonce = self.block[self.next..self.next + NONCE_LEN].try_into().expect("a nonce's length");
        self.next += NONCE_LEN;
        nonce
    }
}

/// The text of a key file for `key`.
fn key_file_text(key: &[u8]) -> String {
    format!(
        "# Wangge encryption key for ID card numbers and phones of residents.\n\
         # Keep it secret and back it up apart from the database: without it the\n\
         # protected fields cannot be read. See docs/security.md.\n\
         {KEY_FILE_TAG} {}\n",
        STANDARD.encode(key)
    )
}

/// The key of a key file: the line `wangge-key-v1 <base64>`; blank lines and lines
/// starting with `#` are ignored.
fn parse_key_file(text: &str) -> Result<Vec<u8>, String> {
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#'));
    let line = lines.next().ok_or("the file holds no key")?;
    if lines.next().is_some() {
        return Err("the file holds more than one key line".into());
    }
    let key = line.strip_prefix(KEY_FILE_TAG).ok_or_else(|| format!("the key line must start with {KEY_FILE_TAG}"))?;
    decode_key(key)
}

/// Base64 of 64 bytes, optionally after the key file's tag.
fn decode_key(text: &str) -> Result<Vec<u8>, String> {
    let text = text.trim();
    let text = text.strip_prefix(KEY_FILE_TAG).unwrap_or(text).trim();
    let key = STANDARD.decode(text).map_err(|_| "the key is not base64".to_owned())?;
    if key.len() != KEY_LEN {
        return Err(format!("the key must be {KEY_LEN} bytes, found {}", key.len()));
    }
    Ok(key)
}

/// A key that others can read is as good as published; say so, but go on, since
/// refusing to start would lock the community out of its own registry.
fn warn_if_readable_by_others(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path)
            && meta.permissions().mode() & 0o077 != 0
        {
            tracing::warn!(
                "key file {} can be read by other users (mode {:o}): run chmod 600 on it",
                path.display(),
                meta.permissions().mode() & 0o777
            );
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_their_key_and_place() {
        let vault = Vault::ephemeral();
        let sealed = vault.seal("370602195510010044", "residents.id_card:1");
        assert!(sealed.starts_with(&format!("v1:{}:", vault.key_id())), "{sealed}");
        assert!(!sealed.contains("370602"));
        assert_eq!(vault.open(&sealed, "residents.id_card:1").unwrap(), "370602195510010044");
        assert_ne!(sealed, vault.seal("370602195510010044", "residents.id_card:1"), "a fresh nonce each time");
        let mut nonces = Nonces::new();
        let from_block: Vec<String> = (0..700).map(|_| vault.seal_from(&mut nonces, "13805351234", "x")).collect();
        assert!(from_block.iter().all(|s| vault.open(s, "x").unwrap() == "13805351234"));
        let distinct: std::collections::HashSet<&String> = from_block.iter().collect();
        assert_eq!(distinct.len(), 700, "a fresh nonce each time, across blocks too");
        assert!(matches!(vault.open(&sealed, "residents.id_card:2"), Err(VaultError::Inauthentic(_))));
        assert!(matches!(vault.open(&sealed, "residents.phone:1"), Err(VaultError::Inauthentic(_))));

        let other = Vault::ephemeral();
        assert!(matches!(other.open(&sealed, "residents.id_card:1"), Err(VaultError::WrongKey { .. })));
        // Even a forged key id does not make another key open it.
        let forged = sealed.replacen(vault.key_id(), other.key_id(), 1);
        assert!(matches!(other.open(&forged, "residents.id_card:1"), Err(VaultError::Inauthentic(_))));
        let mut tampered = sealed.clone();
        tampered.replace_range(tampered.len() - 3..tampered.len() - 2, "A");
        tampered.replace_range(tampered.len() - 2..tampered.len() - 1, "B");
        assert!(vault.open(&tampered, "residents.id_card:1").is_err());
        assert!(matches!(vault.open("1234", ""), Err(VaultError::Malformed(_))));
    }

    #[test]
    fn blind_indexes_depend_on_key_purpose_and_value() {
        let (a, b) = (Vault::ephemeral(), Vault::ephemeral());
        assert_eq!(a.blind("phone_last4", "5678"), a.blind("phone_last4", "5678"));
        assert_ne!(a.blind("phone_last4", "5678"), a.blind("id_last4", "5678"));
        assert_ne!(a.blind("phone_last4", "5678"), a.blind("phone_last4", "5679"));
        assert_ne!(a.blind("phone_last4", "5678"), b.blind("phone_last4", "5678"));
        // The separator keeps ("ab", "c") and ("a", "bc") apart.
        assert_ne!(a.blind("ab", "c"), a.blind("a", "bc"));
        assert_eq!(a.blind("id_card", "x").len(), 22);
    }

    #[test]
    fn key_files_are_created_private_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join(KEY_FILE_NAME);
        let made = Vault::from_file(&path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("wangge-key-v1 "), "{text}");
        let again = Vault::from_file(&path).unwrap();
        assert_eq!(made.key_id(), again.key_id());
        let sealed = made.seal("13805351234", "x");
        assert_eq!(again.open(&sealed, "x").unwrap(), "13805351234");
        assert!(matches!(Vault::create_key_file(&path), Err(VaultError::Io { .. })), "never overwrites a key");

        std::fs::write(&path, "wangge-key-v1 c2hvcnQ=\n").unwrap();
        assert!(matches!(Vault::from_file(&path), Err(VaultError::BadKey(_))));
    }

    #[test]
    fn keys_decode_with_or_without_the_tag() {
        let key = [7u8; KEY_LEN];
        let text = key_file_text(&key);
        assert_eq!(parse_key_file(&text).unwrap(), key);
        assert_eq!(decode_key(&STANDARD.encode(key)).unwrap(), key);
        assert!(decode_key("not base64!").is_err());
        assert!(parse_key_file("# only a comment\n").is_err());
    }
}
