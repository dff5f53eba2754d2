//! Flow tokens (`nfToken`): short-lived HS256 JWTs that carry an organization through
//! an interactive flow (login, invitation acceptance) between the organization,
//! identity and invitation services, which share the secret.
//!
//! Claims: `{iss: "organization", aud: "nf-flow", organizationId, purpose, iat, exp,
//! jti}`, plus `sub` when the token is bound to one resource of its flow (the
//! invitation flow binds the invitation's id, so that a token initiated for one
//! invitation cannot complete another). Verification is constant-time on the
//! signature and checks the algorithm, issuer, audience, purpose, expiry and, for a
//! bound token, the subject.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use aws_lc_rs::rand;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use idp_common::Secret;
use idp_model::OrganizationId;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

pub const ISSUER: &str = "organization";
pub const AUDIENCE: &str = "nf-flow";

/// Where the shared secret comes from.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FlowTokenSettings {
    /// The secret itself (e.g. from a Kubernetes Secret). Default empty: use `secret_file`.
    pub secret: Secret<String>,
    /// File holding the secret; generated (32 random bytes, mode 0600) when absent.
    /// Default `./data/flow-token.key`.
    pub secret_file: String,
    /// Lifetime of a flow token in seconds. Default 900.
    pub ttl_secs: u64,
}

impl Default for FlowTokenSettings {
    fn default() -> Self {
        FlowTokenSettings {
            secret: Secret::new(String::new()),
            secret_file: "./data/flow-token.key".into(),
            ttl_secs: 900,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FlowTokenError {
    #[error("the flow token is malformed")]
    Malformed,
    #[error("the flow token's signature is invalid")]
    BadSignature,
    #[error("the flow token has expired")]
    Expired,
    #[error("the flow token is not meant for this use")]
    WrongAudience,
    #[error("the flow token is for another purpose")]
    WrongPurpose,
    #[error("the flow token was issued for another subject")]
    WrongSubject,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Claims {
    iss: String,
    aud: String,
    organization_id: OrganizationId,
    purpose: String,
    /// What the flow is about (e.g. an invitation id); absent for the login flow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sub: Option<String>,
    iat: i64,
    exp: i64,
    jti: String,
}

/// Signs and verifies flow tokens. Cheap to clone.
#[derive(Clone)]
pub struct FlowTokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl: Duration,
}

impl FlowTokens {
    pub fn new(secret: &[u8], ttl: Duration) -> Self {
        // Only HS256, our issuer and audience. Expiry is checked against the
        // caller's clock in `verify_claims` (so that tests can pass their own).
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["iss", "aud", "exp"]);
        validation.validate_exp = false;
        validation.leeway = 0;
        FlowTokens {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            ttl,
        }
    }

    /// The secret from the settings, else from the file, else a new one written there.
    pub fn from_settings(s: &FlowTokenSettings) -> anyhow::Result<Self> {
        let ttl = Duration::from_secs(s.ttl_secs.max(1));
        if !s.secret.expose().is_empty() {
            return Ok(Self::new(s.secret.expose().as_bytes(), ttl));
        }
        let path = Path::new(&s.secret_file);
        if path.exists() {
            let bytes = std::fs::read(path)?;
            let trimmed = String::from_utf8_lossy(&bytes).trim().to_string();
            if trimmed.is_empty() {
                anyhow::bail!("the flow-token secret file {} is empty", path.display());
            }
            return Ok(Self::new(trimmed.as_bytes(), ttl));
        }
        let mut raw = [0u8; 32];
        rand::fill(&mut raw).map_err(|_| anyhow::anyhow!("no randomness for the flow secret"))?;
        let encoded = URL_SAFE_NO_PAD.encode(raw);
        write_private(path, encoded.as_bytes())?;
        tracing::info!(path = %path.display(), "generated a new flow-token secret");
        Ok(Self::new(encoded.as_bytes(), ttl))
    }

    pub fn sign(&self, organization_id: OrganizationId, purpose: &str) -> String {
        self.sign_at(organization_id, purpose, now_secs())
    }

    pub fn sign_at(&self, organization_id: OrganizationId, purpose: &str, now: i64) -> String {
        self.sign_claims(organization_id, purpose, None, now)
    }

    /// A token bound to `subject` (e.g. an invitation id): only
    /// [`FlowTokens::verify_bound`] with the same subject accepts it.
    pub fn sign_bound(
        &self,
        organization_id: OrganizationId,
        purpose: &str,
        subject: &str,
    ) -> String {
        self.sign_claims(organization_id, purpose, Some(subject), now_secs())
    }

    pub fn sign_bound_at(
        &self,
        organization_id: OrganizationId,
        purpose: &str,
        subject: &str,
        now: i64,
    ) -> String {
        self.sign_claims(organization_id, purpose, Some(subject), now)
    }

    fn sign_claims(
        &self,
        organization_id: OrganizationId,
        purpose: &str,
        subject: Option<&str>,
        now: i64,
    ) -> String {
        let claims = Claims {
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            organization_id,
            purpose: purpose.into(),
            sub: subject.map(str::to_string),
            iat: now,
            exp: now + self.ttl.as_secs() as i64,
            jti: uuid::Uuid::new_v4().to_string(),
        };
        // HS256 over claims that always serialize: signing cannot fail.
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .unwrap_or_default()
    }

    pub fn verify(&self, token: &str, purpose: &str) -> Result<OrganizationId, FlowTokenError> {
        self.verify_at(token, purpose, now_secs())
    }

    pub fn verify_at(
        &self,
        token: &str,
        purpose: &str,
        now: i64,
    ) -> Result<OrganizationId, FlowTokenError> {
        self.verify_claims(token, purpose, now)
            .map(|c| c.organization_id)
    }

    /// Verifies a token made by [`FlowTokens::sign_bound`] for `subject`: a token
    /// bound to another subject, or to none, is [`FlowTokenError::WrongSubject`].
    pub fn verify_bound(
        &self,
        token: &str,
        purpose: &str,
        subject: &str,
    ) -> Result<OrganizationId, FlowTokenError> {
        self.verify_bound_at(token, purpose, subject, now_secs())
    }

    pub fn verify_bound_at(
        &self,
        token: &str,
        purpose: &str,
        subject: &str,
        now: i64,
    ) -> Result<OrganizationId, FlowTokenError> {
        let claims = self.verify_claims(token, purpose, now)?;
        match claims.sub.as_deref() {
            Some(s) if s == subject => Ok(claims.organization_id),
            _ => Err(FlowTokenError::WrongSubject),
        }
    }

    fn verify_claims(
        &self,
        token: &str,
        purpose: &str,
        now: i64,
    ) -> Result<Claims, FlowTokenError> {
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|e| match e.kind() {
                ErrorKind::InvalidSignature | ErrorKind::InvalidAlgorithm => {
                    FlowTokenError::BadSignature
                }
                ErrorKind::InvalidIssuer | ErrorKind::InvalidAudience => {
                    FlowTokenError::WrongAudience
                }
                _ => FlowTokenError::Malformed,
            })?
            .claims;
        if claims.purpose != purpose {
            return Err(FlowTokenError::WrongPurpose);
        }
        if claims.exp <= now {
            return Err(FlowTokenError::Expired);
        }
        Ok(claims)
    }
}

fn now_secs() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn write_private(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        if !dir.as_os_str().is_empty() {
            std::fs::create_dir_all(dir)?;
        }
    }
    let tmp = path.with_extension("tmp");
    {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(&tmp)?;
        f.write_all(contents)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_refusals() {
        let t = FlowTokens::new(b"secret", Duration::from_secs(60));
        let org = OrganizationId::new();
        let tok = t.sign_at(org, "login", 1000);
        assert_eq!(t.verify_at(&tok, "login", 1001), Ok(org));
        assert_eq!(
            t.verify_at(&tok, "invitation", 1001),
            Err(FlowTokenError::WrongPurpose)
        );
        assert_eq!(
            t.verify_at(&tok, "login", 1060),
            Err(FlowTokenError::Expired)
        );
        let other = FlowTokens::new(b"other", Duration::from_secs(60));
        assert_eq!(
            other.verify_at(&tok, "login", 1001),
            Err(FlowTokenError::BadSignature)
        );
        // A tampered payload fails the signature.
        let parts: Vec<&str> = tok.split('.').collect();
        let forged = format!(
            "{}.{}.{}",
            parts[0],
            URL_SAFE_NO_PAD.encode(
                format!(r#"{{"iss":"organization","aud":"nf-flow","organizationId":"{}","purpose":"login","iat":1,"exp":99999999999,"jti":"x"}}"#, OrganizationId::new())
            ),
            parts[2]
        );
        assert_eq!(
            t.verify_at(&forged, "login", 1001),
            Err(FlowTokenError::BadSignature)
        );
        // alg=none is refused.
        let none = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#),
            parts[1]
        );
        assert!(t.verify_at(&none, "login", 1001).is_err());
        assert_eq!(
            t.verify_at("a.b", "login", 1),
            Err(FlowTokenError::Malformed)
        );
        assert_eq!(t.verify_at("", "login", 1), Err(FlowTokenError::Malformed));
    }

    #[test]
    fn other_algorithms_issuers_and_audiences_are_refused() {
        let t = FlowTokens::new(b"secret", Duration::from_secs(60));
        let claims = |iss: &str, aud: &str| Claims {
            iss: iss.into(),
            aud: aud.into(),
            organization_id: OrganizationId::new(),
            purpose: "login".into(),
            sub: None,
            iat: 1000,
            exp: 2000,
            jti: "j".into(),
        };
        let key = EncodingKey::from_secret(b"secret");
        let sign = |alg, c: &Claims| jsonwebtoken::encode(&Header::new(alg), c, &key).unwrap();
        // The same secret under another HMAC algorithm is not a flow token.
        let hs512 = sign(Algorithm::HS512, &claims(ISSUER, AUDIENCE));
        assert_eq!(
            t.verify_at(&hs512, "login", 1001),
            Err(FlowTokenError::BadSignature)
        );
        let hs256 = sign(Algorithm::HS256, &claims(ISSUER, AUDIENCE));
        assert!(t.verify_at(&hs256, "login", 1001).is_ok());
        for (iss, aud) in [("identity", AUDIENCE), (ISSUER, "other")] {
            let tok = sign(Algorithm::HS256, &claims(iss, aud));
            assert_eq!(
                t.verify_at(&tok, "login", 1001),
                Err(FlowTokenError::WrongAudience),
                "{iss} {aud}"
            );
        }
    }

    #[test]
    fn bound_tokens_only_verify_for_their_subject() {
        let t = FlowTokens::new(b"secret", Duration::from_secs(60));
        let org = OrganizationId::new();
        let tok = t.sign_bound_at(org, "invitation", "inv-1", 1000);
        assert_eq!(
            t.verify_bound_at(&tok, "invitation", "inv-1", 1001),
            Ok(org)
        );
        assert_eq!(
            t.verify_bound_at(&tok, "invitation", "inv-2", 1001),
            Err(FlowTokenError::WrongSubject)
        );
        assert_eq!(
            t.verify_bound_at(&tok, "login", "inv-1", 1001),
            Err(FlowTokenError::WrongPurpose)
        );
        assert_eq!(
            t.verify_bound_at(&tok, "invitation", "inv-1", 1060),
            Err(FlowTokenError::Expired)
        );
        // An unbound token (the login flow's) completes no bound flow.
        let unbound = t.sign_at(org, "invitation", 1000);
        assert_eq!(
            t.verify_bound_at(&unbound, "invitation", "inv-1", 1001),
            Err(FlowTokenError::WrongSubject)
        );
        // Unbound verification still accepts a bound token (its organization holds).
        assert_eq!(t.verify_at(&tok, "invitation", 1001), Ok(org));
        let payload = tok.split('.').nth(1).unwrap();
        let v: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
        assert_eq!(v["sub"], "inv-1");
        let payload = unbound.split('.').nth(1).unwrap();
        let v: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
        assert!(v.get("sub").is_none(), "login tokens carry no subject: {v}");
    }

    #[test]
    fn claims_are_the_documented_ones() {
        let t = FlowTokens::new(b"k", Duration::from_secs(60));
        let tok = t.sign_at(OrganizationId::new(), "login", 5);
        let payload = tok.split('.').nth(1).unwrap();
        let v: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
        for f in [
            "iss",
            "aud",
            "organizationId",
            "purpose",
            "iat",
            "exp",
            "jti",
        ] {
            assert!(v.get(f).is_some(), "missing {f}");
        }
        assert_eq!(v["exp"], 65);
    }

    #[test]
    fn secret_file_is_created_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let settings = FlowTokenSettings {
            secret_file: dir.path().join("k/flow.key").display().to_string(),
            ..Default::default()
        };
        let a = FlowTokens::from_settings(&settings).unwrap();
        let b = FlowTokens::from_settings(&settings).unwrap();
        let org = OrganizationId::new();
        assert_eq!(b.verify(&a.sign(org, "login"), "login"), Ok(org));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&settings.secret_file)
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let inline = FlowTokenSettings {
            secret: Secret::new("shared".into()),
            ..settings
        };
        let c = FlowTokens::from_settings(&inline).unwrap();
        assert_eq!(
            FlowTokens::new(b"shared", Duration::from_secs(5)).verify(&c.sign(org, "x"), "x"),
            Ok(org)
        );
    }
}
