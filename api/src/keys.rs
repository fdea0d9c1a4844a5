//! Ed25519 signing keys on disk: `<kid>.key` (PKCS#8 PEM, private, mode 0600) and `<kid>.pub`
//! (SPKI PEM, public). A directory holds the current key and, during a rotation, the previous
//! key's public half so its tokens keep verifying until it is removed.

use std::{collections::BTreeMap, path::Path};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use ed25519_dalek::{
    SigningKey, VerifyingKey,
    pkcs8::{
        DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, KeypairBytes,
        spki::der::pem::LineEnding,
    },
};
use rand::RngCore;

/// A private Ed25519 key.
#[derive(Clone)]
pub struct PrivateKey {
    pub kid: String,
    key: SigningKey,
}

/// A public Ed25519 key.
#[derive(Clone)]
pub struct PublicKey {
    pub kid: String,
    key: VerifyingKey,
}

impl PrivateKey {
    /// The key as PKCS#8 v1 (the seed only), the form OpenSSL writes and reads.
    fn pkcs8(&self) -> KeypairBytes {
        KeypairBytes { secret_key: self.key.to_bytes(), public_key: None }
    }

    /// The PKCS#8 DER encoding jsonwebtoken signs with.
    pub fn pkcs8_der(&self) -> Vec<u8> {
        self.pkcs8().to_pkcs8_der().map(|doc| doc.as_bytes().to_vec()).unwrap_or_default()
    }

    /// The matching public key.
    pub fn public(&self) -> PublicKey {
        PublicKey { kid: self.kid.clone(), key: self.key.verifying_key() }
    }
}

impl PublicKey {
    /// The JWK `x` member: the raw key, base64url.
    pub fn x(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.key.to_bytes())
    }
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
    let key = PrivateKey { kid: kid.to_owned(), key: SigningKey::from_bytes(&seed) };
    let public = key.public();
    let private_pem = key.pkcs8().to_pkcs8_pem(LineEnding::LF).map_err(|e| e.to_string())?;
    std::fs::write(&private_path, private_pem.as_bytes()).map_err(|e| e.to_string())?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&private_path, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| e.to_string())?;
    }
    let public_pem = public.key.to_public_key_pem(LineEnding::LF).map_err(|e| e.to_string())?;
    std::fs::write(dir.join(format!("{kid}.pub")), public_pem).map_err(|e| e.to_string())?;
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
                let key = SigningKey::from_pkcs8_pem(&text).map_err(|_| bad())?;
                set.private.insert(kid.to_owned(), PrivateKey { kid: kid.to_owned(), key });
            } else {
                let key = VerifyingKey::from_public_key_pem(&text).map_err(|_| bad())?;
                set.public.insert(kid.to_owned(), PublicKey { kid: kid.to_owned(), key });
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Written by `openssl genpkey -algorithm ed25519` and `openssl pkey -pubout`.
    const OPENSSL_KEY: &str = "-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIBRkwArU9+Y8bgz2z3nqRLusRby1PBd/+olj+V8tmW9B
-----END PRIVATE KEY-----
";

    #[test]
    fn keys_round_trip_and_read_what_openssl_writes() {
        let dir = std::env::temp_dir().join(format!("sinergi-keys-{}", uuid::Uuid::now_v7()));
        let created = generate(&dir, "2026-11").unwrap_or_else(|e| panic!("{e}"));
        let private = std::fs::read_to_string(dir.join("2026-11.key")).unwrap_or_default();
        assert!(private.starts_with("-----BEGIN PRIVATE KEY-----\n"), "{private}");
        let der = KeySet::load(&dir).ok().and_then(|s| s.private("2026-11").map(PrivateKey::pkcs8_der));
        assert_eq!(der.map(|d| d.len()), Some(48), "PKCS#8 v1: the seed only");
        assert!(generate(&dir, "2026-11").is_err(), "an existing kid is not overwritten");

        std::fs::write(dir.join("openssl.key"), OPENSSL_KEY).unwrap_or_default();
        std::fs::write(
            dir.join("broken.pub"),
            "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
        )
        .unwrap_or_default();
        let refused = KeySet::load(&dir).err().unwrap_or_default();
        assert!(refused.contains("broken.pub is not an Ed25519 public key"), "{refused}");
        std::fs::remove_file(dir.join("broken.pub")).unwrap_or_default();
        let set = KeySet::load(&dir).unwrap_or_else(|e| panic!("{e}"));
        let xs: Vec<String> = set.public_keys().iter().map(PublicKey::x).collect();
        assert_eq!(xs.len(), 2);
        assert!(xs.contains(&created.x()));
        assert!(
            xs.contains(&"Tnoqg8Gsx8ADtJdaD66vEacezaNJ6dgNMuR-U9AUjxA".to_owned()),
            "the OpenSSL key's public half"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
