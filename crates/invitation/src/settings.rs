//! Settings of the invitation service: defaults, then `invitation.toml` (or `INVITATION_CONFIG`),
//! then `INVITATION__…` variables (plus `DATABASE_URL`, `AMQP_URL`, `SMTP_URL`).

use serde::{Deserialize, Serialize};

use idp_common::Secret;
use idp_runtime::flow_token::FlowTokenSettings;
use idp_runtime::settings::CommonSettings;

// No `deny_unknown_fields` here: serde cannot combine it with `flatten`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    #[serde(flatten)]
    pub common: CommonSettings,
    /// The secret of the `nfToken` flow tokens (shared with organization and identity).
    pub flow_tokens: FlowTokenSettings,
    pub invitations: InvitationSettings,
    pub mail: MailSettings,
    /// How accept-complete reaches OpenID providers (extra trusted CAs).
    pub open_id_providers: idp_bearer::oidc::OpenIdClientSettings,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InvitationSettings {
    /// Days until a new invitation expires. Default 7.
    pub expiry_days: u32,
    /// The invitation page used in the email when the request names no
    /// `invitationUrl`. The key is appended as `key=…` (or replaces `{key}`).
    pub default_url: String,
    /// How long `accept-complete` waits for the identity service to report the
    /// user identity of the acceptance before it answers 202, in ms. Default 5000.
    pub accept_wait_ms: u64,
}

impl Default for InvitationSettings {
    fn default() -> Self {
        InvitationSettings {
            expiry_days: 7,
            default_url: "http://127.0.0.1:8080/invitation".into(),
            accept_wait_ms: 5000,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MailSettings {
    /// Where messages are written as `.eml` files when no SMTP server is set.
    /// Default `./data/mail`.
    pub dir: String,
    /// SMTP server (`SMTP_URL`), e.g. `smtp://127.0.0.1:2525` (plain),
    /// `smtp://user:pass@host:587?tls=required` (STARTTLS) or `smtps://host:465`
    /// (TLS). Default empty: messages are written to `dir`.
    pub smtp_url: Secret<String>,
    /// The sender of every message. Default `no-reply@localhost`.
    pub from: String,
    /// Where support requests go. Default `support@localhost`.
    pub support_to: String,
    /// How often the mail outbox is polled when not woken, in ms. Default 1000.
    pub poll_ms: u64,
    /// The first wait after a failed delivery, in ms; doubled after each further
    /// failure of the same message, up to `retry_max_ms`. Default 1000.
    pub retry_base_ms: u64,
    /// The longest wait between two attempts of one message, in ms. Default 300000.
    pub retry_max_ms: u64,
    /// Timeout of one SMTP conversation, in ms. Default 30000.
    pub smtp_timeout_ms: u64,
}

impl Default for MailSettings {
    fn default() -> Self {
        MailSettings {
            dir: "./data/mail".into(),
            smtp_url: Secret::new(String::new()),
            from: "no-reply@localhost".into(),
            support_to: "support@localhost".into(),
            poll_ms: 1000,
            retry_base_ms: 1000,
            retry_max_ms: 300_000,
            smtp_timeout_ms: 30_000,
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        let mut common = CommonSettings::for_service("invitation", "127.0.0.1:8083");
        common.verifier.jwks_url = "http://127.0.0.1:8081/identity/v1/.well-known/jwks.json".into();
        Settings {
            common,
            flow_tokens: FlowTokenSettings::default(),
            invitations: InvitationSettings::default(),
            mail: MailSettings::default(),
            open_id_providers: Default::default(),
        }
    }
}

pub fn load() -> anyhow::Result<Settings> {
    let file = std::env::var("INVITATION_CONFIG").unwrap_or_else(|_| "invitation.toml".to_string());
    Ok(idp_common::settings::Layers::new("INVITATION")
        .file(file)
        .alias("DATABASE_URL", "database.url")
        .alias("AMQP_URL", "bus.amqp_url")
        .alias("SMTP_URL", "mail.smtp_url")
        .load()?)
}
