//! Invitation keys: 36 letters and digits from the system CSPRNG. Only their
//! SHA-256 is stored; a key is looked up by its hash (an index look-up on a hash
//! reveals nothing about the key through timing). Keys are never logged.

use aws_lc_rs::{digest, rand};

pub const KEY_LEN: usize = 36;
const ALPHABET: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// A new key (rejection sampling: bytes ≥ 248 are dropped so that each of the 62
/// characters is equally likely).
pub fn generate() -> anyhow::Result<String> {
    let mut out = String::with_capacity(KEY_LEN);
    let mut buf = [0u8; 64];
    while out.len() < KEY_LEN {
        rand::fill(&mut buf).map_err(|_| anyhow::anyhow!("no randomness for an invitation key"))?;
        for b in buf {
            if out.len() == KEY_LEN {
                break;
            }
            if b < 248 {
                out.push(char::from(ALPHABET[usize::from(b % 62)]));
            }
        }
    }
    Ok(out)
}

/// Whether `key` has the shape of a key (the route's `[\p{Alnum}]{36}`).
pub fn is_well_formed(key: &str) -> bool {
    key.len() == KEY_LEN && key.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// The stored form of a key: hex SHA-256.
pub fn hash(key: &str) -> String {
    hex::encode(digest::digest(&digest::SHA256, key.as_bytes()).as_ref())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn keys_are_36_alphanumerics_and_distinct() {
        let a = generate().unwrap();
        let b = generate().unwrap();
        assert_eq!(a.len(), 36);
        assert!(is_well_formed(&a));
        assert_ne!(a, b);
        assert_eq!(hash(&a).len(), 64);
        assert_ne!(hash(&a), hash(&b));
        assert!(!is_well_formed("short"));
        assert!(!is_well_formed(&format!("{}-", &a[..35])));
        assert!(!is_well_formed(&format!("{a}x")));
    }
}
