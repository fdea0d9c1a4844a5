//! Ed25519 signing keys on disk: `<kid>.key` (PKCS#8 PEM, private, mode 0600) and `<kid>.pub`
//! (SPKI PEM, public). A directory holds the current key and, during a rotation, the previous
//! key's public half so its tokens keep verifying until it is removed.

use std::{collections::BTreeMap, path::Path};

use base64::{
    Engine,
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
};
use rand::RngCore;

const PKCS8_PREFIX: [u8; 16] =
    [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20];
const SPKI_PREFIX: [u8; 12] = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00];

/// A private Ed25519 key.
#[derive(Clone)]
pub struct PrivateKey {
    pub kid: String,
    seed: [u8; 32],
}

/// A public Ed25519 key.
#[derive(Clone)]
pub struct PublicKey {
    pub kid: String,
    bytes: [u8; 32],
}

impl PrivateKey {
    /// The PKCS#8 DER encoding jsonwebtoken signs with.
    pub fn pkcs8_der(&self) -> Vec<u8> {
        [PKCS8_PREFIX.as_slice(), self.seed.as_slice()].concat()
    }

    /// The matching public key.
    pub fn public(&self) -> PublicKey {
        let bytes = ed25519_dalek::SigningKey::from_bytes(&self.seed).verifying_key().to_bytes();
        PublicKey { kid: self.kid.clone(), bytes }
    }
}

impl PublicKey {
    /// The JWK `x` member: the raw key, base64url.
    pub fn x(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.bytes)
    }
}

fn pem(label: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let lines: Vec<&str> = body.as_bytes().chunks(64).filter_map(|c| std::str::from_utf8(c).ok()).collect();
    format!("-----BEGIN {label}-----\n{}\n-----END {label}-----\n", lines.join("\n"))
}

fn unpem(label: &str, text: &str) -> Option<Vec<u8>> {
    let body = text
        .trim()
        .strip_prefix(&format!("-----BEGIN {label}-----"))?
        .strip_suffix(&format!("-----END {label}-----"))?;
    let joined: String = body.split_whitespace().collect();
    STANDARD.decode(joined).ok()
}

fn valid_kid(kid: &str) -> bool {
    !kid.is_empty()
        && kid.len() <= 64
        && kid.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
}

/// Creates a new key pair `<kid>.key` / `<kid>.pub` in `dir`; refuses to overwrite.
pub fn generate(dir: &Path, kid: &str) -> Result<PublicKey, String> {
    if !valid_kid(kid) {
        return Err(format!("kid `{kid}` must be 1–64 letters, digits, `-`, `_` or `.`"));
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let private_path = dir.join(format!("{kid}.key"));
    if private_path.exists() {
        return Err(format!("{} exists; choose a new kid", private_path.display()));
    }
    let mut seed = [0u8; 32];
    rand::rng().fill_bytes(&mut seed);
    let key = PrivateKey { kid: kid.to_owned(), seed };
    let public = key.public();
    std::fs::write(&private_path, pem("PRIVATE KEY", &key.pkcs8_der())).map_err(|e| e.to_string())?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&private_path, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| e.to_string())?;
    }
    let spki = [SPKI_PREFIX.as_slice(), public.bytes.as_slice()].concat();
    std::fs::write(dir.join(format!("{kid}.pub")), pem("PUBLIC KEY", &spki)).map_err(|e| e.to_string())?;
    Ok(public)
}

/// The keys found in a directory.
#[derive(Default)]
pub struct KeySet {
    private: BTreeMap<String, PrivateKey>,
    public: BTreeMap<String, PublicKey>,
}

impl KeySet {
    /// Reads every `*.key` and `*.pub` in `dir`.
    pub fn load(dir: &Path) -> Result<Self, String> {
        let mut set = Self::default();
        let entries = std::fs::read_dir(dir)
            .map_err(|e| format!("cannot read key directory {}: {e}", dir.display()))?;
        for entry in entries.flatten() {
            let path = entry.path();
            let (Some(kid), Some(ext)) =
                (path.file_stem().and_then(|s| s.to_str()), path.extension().and_then(|s| s.to_str()))
            else {
                continue;
            };
            if !valid_kid(kid) || !matches!(ext, "key" | "pub") {
                continue;
            }
            let text =
                std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            let bad = || {
                format!(
                    "{} is not an Ed25519 {} key in PEM",
                    path.display(),
                    if ext == "key" { "private" } else { "public" }
                )
            };
            if ext == "key" {
                let der = unpem("PRIVATE KEY", &text)
                    .filter(|d| d.len() == 48 && d[..16] == PKCS8_PREFIX)
                    .ok_or_else(bad)?;
                let mut seed = [0u8; 32];
                seed.copy_from_slice(&der[16..]);
                set.private.insert(kid.to_owned(), PrivateKey { kid: kid.to_owned(), seed });
            } else {
                let der = unpem("PUBLIC KEY", &text)
                    .filter(|d| d.len() == 44 && d[..12] == SPKI_PREFIX)
                    .ok_or_else(bad)?;
                let mut bytes = [0u8; 32];
                bytes.copy_from_slice(&der[12..]);
                set.public.insert(kid.to_owned(), PublicKey { kid: kid.to_owned(), bytes });
            }
        }
        Ok(set)
    }

    /// The private key `kid`.
    pub fn private(&self, kid: &str) -> Option<&PrivateKey> {
        self.private.get(kid)
    }

    /// Every verification key: the public half of each private key, and each public-only key.
    pub fn public_keys(&self) -> Vec<PublicKey> {
        let mut keys: BTreeMap<String, PublicKey> = self.public.clone();
        for key in self.private.values() {
            keys.insert(key.kid.clone(), key.public());
        }
        keys.into_values().collect()
    }
}
