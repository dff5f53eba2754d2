//! Settings of the authorization service: defaults, then `authorization.toml` (or `AUTHORIZATION_CONFIG`),
//! then `AUTHORIZATION__…` variables (plus `DATABASE_URL`, `AMQP_URL`).

use serde::{Deserialize, Serialize};

use idp_runtime::settings::CommonSettings;

// No `deny_unknown_fields` here: serde cannot combine it with `flatten`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    #[serde(flatten)]
    pub common: CommonSettings,
    /// Base URL of the identity service, asked about an identity that a grant
    /// names before its `identity.created` arrived. Default
    /// `http://127.0.0.1:8081`; empty: only identities known from events.
    pub identity_url: String,
}

impl Default for Settings {
    fn default() -> Self {
        let mut common = CommonSettings::for_service("authorization", "127.0.0.1:8084");
        common.verifier.jwks_url = "http://127.0.0.1:8081/identity/v1/.well-known/jwks.json".into();
        Settings {
            common,
            identity_url: "http://127.0.0.1:8081".into(),
        }
    }
}

pub fn load() -> anyhow::Result<Settings> {
    idp_runtime::settings::load("AUTHORIZATION", "authorization")
}
