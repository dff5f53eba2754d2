//! Signing keys and the JWKS. Tokens are RS256 JWTs signed with an in-memory,
//! already-parsed key (parsing a key per signature would cost as much as signing).
//! The `kid` of a key is its RFC 7638 thumbprint.

use std::path::Path;
use std::sync::Arc;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair as RsaPrivate, KeySize};
use aws_lc_rs::signature::{KeyPair, RsaKeyPair, RSA_PKCS1_SHA256};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use serde::Serialize;

use crate::files;

/// One public key as published in the JWKS.
#[derive(Clone, Debug, Serialize)]
pub struct Jwk {
    pub kty: &'static str,
    #[serde(rename = "use")]
    pub use_: &'static str,
    pub alg: &'static str,
    pub kid: String,
    pub n: String,
    pub e: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

struct SigningKey {
    pair: RsaKeyPair,
    kid: String,
    /// `base64url({"alg":"RS256","typ":"JWT","kid":...})`, computed once.
    header_b64: String,
}

/// The key that signs, plus every key the JWKS publishes.
#[derive(Clone)]
pub struct KeyRing {
    signing: Arc<SigningKey>,
    jwks: Arc<Jwks>,
    jwks_json: Arc<Vec<u8>>,
    rng: SystemRandom,
}

fn jwk_of(pair: &RsaKeyPair) -> Jwk {
    let public = pair.public_key();
    let n = URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero());
    let e = URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero());
    // RFC 7638: the thumbprint input has the required members in lexicographic order.
    let canonical = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, canonical.as_bytes());
    Jwk {
        kty: "RSA",
        use_: "sig",
        alg: "RS256",
        kid: URL_SAFE_NO_PAD.encode(digest.as_ref()),
        n,
        e,
    }
}

/// PEM (PKCS#8 "PRIVATE KEY") to DER.
pub fn pem_to_der(pem: &str) -> anyhow::Result<Vec<u8>> {
    let body: String = pem
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with("-----") && !l.is_empty())
        .collect();
    STANDARD
        .decode(body)
        .map_err(|e| anyhow::anyhow!("signing key is not valid PEM: {e}"))
}

pub fn der_to_pem(der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = String::from("-----BEGIN PRIVATE KEY-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str("-----END PRIVATE KEY-----\n");
    out
}

fn parse_private(pem: &str) -> anyhow::Result<RsaKeyPair> {
    let der = pem_to_der(pem)?;
    RsaKeyPair::from_pkcs8(&der)
        .map_err(|e| anyhow::anyhow!("signing key is not a PKCS#8 RSA key: {e}"))
}

/// A new RSA 2048 key as PKCS#8 PEM.
pub fn generate_pem() -> anyhow::Result<String> {
    let key = RsaPrivate::generate(KeySize::Rsa2048)
        .map_err(|_| anyhow::anyhow!("RSA key generation failed"))?;
    let der = key
        .as_der()
        .map_err(|_| anyhow::anyhow!("RSA key export failed"))?;
    Ok(der_to_pem(der.as_ref()))
}

impl KeyRing {
    /// The signing key from inline PEM, else from `key_file`, else generated and
    /// written to `key_file`; plus the published-only keys.
    pub fn load_or_create(
        inline_pem: &str,
        key_file: &str,
        published_files: &[String],
    ) -> anyhow::Result<KeyRing> {
        let pem = if !inline_pem.is_empty() {
            inline_pem.to_string()
        } else if Path::new(key_file).exists() {
            std::fs::read_to_string(key_file)?
        } else {
            let pem = generate_pem()?;
            files::write_private(Path::new(key_file), pem.as_bytes())?;
            tracing::info!(path = key_file, "generated a new signing key");
            pem
        };
        let mut published = Vec::new();
        for f in published_files {
            published.push(parse_private(&std::fs::read_to_string(f)?)?);
        }
        Self::from_pairs(parse_private(&pem)?, published)
    }

    pub fn from_pem(pem: &str) -> anyhow::Result<KeyRing> {
        Self::from_pairs(parse_private(pem)?, Vec::new())
    }

    fn from_pairs(signing: RsaKeyPair, published: Vec<RsaKeyPair>) -> anyhow::Result<KeyRing> {
        let jwk = jwk_of(&signing);
        let header = serde_json::json!({"alg": "RS256", "typ": "JWT", "kid": jwk.kid});
        let header_b64 = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header)?);
        let mut keys = vec![jwk.clone()];
        for p in &published {
            let j = jwk_of(p);
            if !keys.iter().any(|k| k.kid == j.kid) {
                keys.push(j);
            }
        }
        let jwks = Jwks { keys };
        let jwks_json = serde_json::to_vec(&jwks)?;
        Ok(KeyRing {
            signing: Arc::new(SigningKey {
                pair: signing,
                kid: jwk.kid,
                header_b64,
            }),
            jwks: Arc::new(jwks),
            jwks_json: Arc::new(jwks_json),
            rng: SystemRandom::new(),
        })
    }

    pub fn kid(&self) -> &str {
        &self.signing.kid
    }

    pub fn jwks(&self) -> &Jwks {
        &self.jwks
    }

    pub fn jwks_json(&self) -> Arc<Vec<u8>> {
        self.jwks_json.clone()
    }

    /// Signs `claims` as a compact RS256 JWS.
    pub fn sign<T: Serialize>(&self, claims: &T) -> anyhow::Result<String> {
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims)?);
        let mut token = String::with_capacity(self.signing.header_b64.len() + payload.len() + 400);
        token.push_str(&self.signing.header_b64);
        token.push('.');
        token.push_str(&payload);
        let mut sig = vec![0u8; self.signing.pair.public_modulus_len()];
        self.signing
            .pair
            .sign(&RSA_PKCS1_SHA256, &self.rng, token.as_bytes(), &mut sig)
            .map_err(|_| anyhow::anyhow!("signing failed"))?;
        token.push('.');
        token.push_str(&URL_SAFE_NO_PAD.encode(&sig));
        Ok(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};

    #[test]
    fn signed_tokens_verify_with_the_published_key() {
        let ring = KeyRing::from_pem(&generate_pem().unwrap()).unwrap();
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let claims =
            serde_json::json!({"sub": "x", "iat": now, "exp": now + 60, "aud": "a", "iss": "i"});
        let token = ring.sign(&claims).unwrap();
        let header = decode_header(&token).unwrap();
        assert_eq!(header.kid.as_deref(), Some(ring.kid()));
        assert_eq!(header.alg, Algorithm::RS256);
        let jwk = &ring.jwks().keys[0];
        let key = DecodingKey::from_rsa_components(&jwk.n, &jwk.e).unwrap();
        let mut v = Validation::new(Algorithm::RS256);
        v.set_audience(&["a"]);
        v.set_issuer(&["i"]);
        let data = decode::<serde_json::Value>(&token, &key, &v).unwrap();
        assert_eq!(data.claims["sub"], "x");
    }

    #[test]
    fn key_file_is_generated_once_then_reused() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("k.pem");
        let f = f.to_str().unwrap();
        let a = KeyRing::load_or_create("", f, &[]).unwrap();
        let b = KeyRing::load_or_create("", f, &[]).unwrap();
        assert_eq!(a.kid(), b.kid());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(f).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn published_keys_appear_in_the_jwks_but_do_not_sign() {
        let dir = tempfile::tempdir().unwrap();
        let next = dir.path().join("next.pem");
        std::fs::write(&next, generate_pem().unwrap()).unwrap();
        let ring = KeyRing::load_or_create(
            &generate_pem().unwrap(),
            "unused",
            &[next.to_str().unwrap().to_string()],
        )
        .unwrap();
        assert_eq!(ring.jwks().keys.len(), 2);
        assert_eq!(ring.jwks().keys[0].kid, ring.kid());
    }
}
