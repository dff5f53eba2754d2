//! Settings of the organization service: defaults, then `organization.toml` (or `ORGANIZATION_CONFIG`),
//! then `ORGANIZATION__…` variables (plus `DATABASE_URL`, `AMQP_URL`).

use serde::{Deserialize, Serialize};

use idp_runtime::flow_token::FlowTokenSettings;
use idp_runtime::settings::CommonSettings;

// No `deny_unknown_fields` here: serde cannot combine it with `flatten`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    #[serde(flatten)]
    pub common: CommonSettings,
    /// The secret of the `nfToken` flow tokens (shared with identity and invitation).
    pub flow_tokens: FlowTokenSettings,
    pub open_id_providers: OpenIdProviderSettings,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OpenIdProviderSettings {
    /// Accept `http://` URLs on loopback hosts (127.0.0.1, ::1, localhost) for the
    /// provider's issuer and endpoints; tests only. Default false: https only.
    pub allow_http_loopback: bool,
}

impl Default for Settings {
    fn default() -> Self {
        let mut common = CommonSettings::for_service("organization", "127.0.0.1:8082");
        common.verifier.jwks_url = "http://127.0.0.1:8081/identity/v1/.well-known/jwks.json".into();
        Settings {
            common,
            flow_tokens: FlowTokenSettings::default(),
            open_id_providers: OpenIdProviderSettings::default(),
        }
    }
}

pub fn load() -> anyhow::Result<Settings> {
    idp_runtime::settings::load("ORGANIZATION", "organization")
}
