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
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InvitationSettings {
    /// Days until a new invitation expires. Default 7.
    pub expiry_days: u32,
    /// The invitation page used in the email when the request names no
    /// `invitationUrl`. The key is appended as `key=…` (or replaces `{key}`).
    pub default_url: String,
}

impl Default for InvitationSettings {
    fn default() -> Self {
        InvitationSettings {
            expiry_days: 7,
            default_url: "http://127.0.0.1:8080/invitation".into(),
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MailSettings {
    /// Where messages are written as `.eml` files. Default `./data/mail`.
    pub dir: String,
    /// SMTP server (`SMTP_URL`). Delivery over SMTP is not implemented yet: while
    /// it is not, messages are written to `dir` even when this is set.
    pub smtp_url: Secret<String>,
    /// The sender of every message. Default `no-reply@localhost`.
    pub from: String,
    /// Where support requests go. Default `support@localhost`.
    pub support_to: String,
    /// How often the mail outbox is polled when not woken, in ms. Default 1000.
    pub poll_ms: u64,
}

impl Default for MailSettings {
    fn default() -> Self {
        MailSettings {
            dir: "./data/mail".into(),
            smtp_url: Secret::new(String::new()),
            from: "no-reply@localhost".into(),
            support_to: "support@localhost".into(),
            poll_ms: 1000,
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
