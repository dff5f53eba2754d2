//! Settings of the identity service. Every field has a documented default; the
//! environment overrides them with the `IDENTITY__` prefix (e.g.
//! `IDENTITY__TOKEN__LIFETIME_SECS=600`), plus `DATABASE_URL` and `AMQP_URL`.

use serde::{Deserialize, Serialize};

use idp_common::Secret;
use idp_runtime::settings::CommonSettings;

// No `deny_unknown_fields` here: serde cannot combine it with `flatten`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct IdentitySettings {
    #[serde(flatten)]
    pub common: CommonSettings,
    pub token: TokenSettings,
    pub secrets: SecretSettings,
    pub bootstrap: BootstrapSettings,
    /// Key of the `nfToken` flow tokens (shared with the organization service, which
    /// signs them in authorize-initiate); a token exchange that presents one is bound
    /// to its organization.
    pub flow_tokens: idp_runtime::flow_token::FlowTokenSettings,
    /// How the token exchange reaches OpenID providers (extra trusted CAs).
    pub open_id_providers: idp_bearer::oidc::OpenIdClientSettings,
}

impl Default for IdentitySettings {
    fn default() -> Self {
        let mut common = CommonSettings::for_service("identity", "127.0.0.1:8081");
        // Empty: verify tokens against this service's own JWKS endpoint.
        common.verifier.jwks_url = String::new();
        IdentitySettings {
            common,
            token: TokenSettings::default(),
            secrets: SecretSettings::default(),
            bootstrap: BootstrapSettings::default(),
            flow_tokens: Default::default(),
            open_id_providers: Default::default(),
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TokenSettings {
    /// The public base URL of the platform (the gateway). The token endpoint's public
    /// URL (`authenticationUrl`) and the issuer derive from it. Default `http://127.0.0.1:8080`.
    pub public_url: String,
    /// The `iss` of issued tokens. Default: `{public_url}/identity/v1`.
    pub issuer: String,
    /// The `aud` of issued tokens. Default `platform`.
    pub audience: String,
    /// Access-token lifetime in seconds. Default 3600.
    pub lifetime_secs: u64,
    /// PEM (PKCS#8) RSA private key used to sign, given inline (e.g. from a Kubernetes
    /// Secret). Default empty: use `key_file`.
    pub signing_key_pem: Secret<String>,
    /// Where the signing key lives; generated (RSA 2048) and written with mode 0600
    /// on first start when absent. Default `./data/identity-signing-key.pem`.
    pub key_file: String,
    /// Further PEM private keys whose public halves are published in the JWKS but
    /// which do not sign: the next key before a rotation, the previous one after it.
    /// Default none.
    pub published_key_files: Vec<String>,
}

impl Default for TokenSettings {
    fn default() -> Self {
        TokenSettings {
            public_url: "http://127.0.0.1:8080".into(),
            issuer: String::new(),
            audience: "platform".into(),
            lifetime_secs: 3600,
            signing_key_pem: Secret::new(String::new()),
            key_file: "./data/identity-signing-key.pem".into(),
            published_key_files: Vec::new(),
        }
    }
}

impl TokenSettings {
    pub fn issuer(&self) -> String {
        if self.issuer.is_empty() {
            format!("{}/identity/v1", self.public_url.trim_end_matches('/'))
        } else {
            self.issuer.clone()
        }
    }

    pub fn token_endpoint(&self) -> String {
        format!(
            "{}/identity/v1/oauth/token",
            self.public_url.trim_end_matches('/')
        )
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SecretSettings {
    /// The server-side pepper (key of the HMAC-SHA-256 under which API-account secrets
    /// are stored), inline. Default empty: use `pepper_file`.
    pub pepper: Secret<String>,
    /// Where the pepper lives; generated (32 random bytes) with mode 0600 on first
    /// start when absent. Default `./data/identity-pepper.key`.
    pub pepper_file: String,
}

impl Default for SecretSettings {
    fn default() -> Self {
        SecretSettings {
            pepper: Secret::new(String::new()),
            pepper_file: "./data/identity-pepper.key".into(),
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BootstrapSettings {
    /// Create the super-admin API account on first start. Default true.
    pub enabled: bool,
    /// Where its credentials are written (mode 0600). Default `./data/bootstrap-credentials.json`.
    pub credentials_file: String,
    /// The account's name. Default `Platform Super Admin`.
    pub admin_name: String,
}

impl Default for BootstrapSettings {
    fn default() -> Self {
        BootstrapSettings {
            enabled: true,
            credentials_file: "./data/bootstrap-credentials.json".into(),
            admin_name: "Platform Super Admin".into(),
        }
    }
}

/// Loads the settings: defaults, then `identity.toml` (or `IDENTITY_CONFIG`), then env.
pub fn load() -> anyhow::Result<IdentitySettings> {
    idp_runtime::settings::load("IDENTITY", "identity")
}
