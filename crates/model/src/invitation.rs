//! Invitations into organizations (and the key-based flow) and support requests,
//! with the reference's JSON names.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::ids::{IdentityId, OrganizationId};
use crate::time::Timestamp;

/// The state of an invitation. `Expired` is computed: an open invitation past its
/// expiration reads as expired.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub enum InvitationState {
    Open,
    Accepted,
    Declined,
    Expired,
    Revoked,
}

impl InvitationState {
    pub const ALL: &'static [InvitationState] = &[
        InvitationState::Open,
        InvitationState::Accepted,
        InvitationState::Declined,
        InvitationState::Expired,
        InvitationState::Revoked,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            InvitationState::Open => "Open",
            InvitationState::Accepted => "Accepted",
            InvitationState::Declined => "Declined",
            InvitationState::Expired => "Expired",
            InvitationState::Revoked => "Revoked",
        }
    }

    /// The state of an invitation from its stored facts.
    pub fn of(accepted: Option<bool>, revoked: bool, expired: bool) -> InvitationState {
        match (revoked, accepted) {
            (true, _) => InvitationState::Revoked,
            (false, Some(true)) => InvitationState::Accepted,
            (false, Some(false)) => InvitationState::Declined,
            (false, None) if expired => InvitationState::Expired,
            (false, None) => InvitationState::Open,
        }
    }
}

impl fmt::Display for InvitationState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for InvitationState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .iter()
            .copied()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| {
                format!("'{s}' is not allowed; must be one of [Open, Accepted, Declined, Expired, Revoked]")
            })
    }
}

/// An invitation as the authenticated API shows it (never with its key).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Invitation {
    pub id: uuid::Uuid,
    pub from_identity_id: IdentityId,
    pub to_organization_id: OrganizationId,
    pub invited_email_address: String,
    pub expiration: Timestamp,
    pub target_user_identity_id: Option<IdentityId>,
    pub accepted: Option<bool>,
    pub revoked_at: Option<Timestamp>,
    pub response_received_at: Option<Timestamp>,
    /// Deprecated: the same as `toOrganizationId`.
    pub to_tenant_id: OrganizationId,
    pub state: InvitationState,
}

/// `POST /invitations`. Fields are optional here so that the service can answer a
/// 400 naming the missing one.
#[derive(Clone, Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateInvitation {
    pub to_organization_id: Option<OrganizationId>,
    /// Deprecated alias of `toOrganizationId`.
    pub to_tenant_id: Option<OrganizationId>,
    pub invited_email_address: Option<String>,
    pub invitation_url: Option<String>,
    pub target_user_identity_id: Option<IdentityId>,
}

/// A name and an email, as the key-based view shows the identities involved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NamedIdentity {
    pub name: Option<String>,
    pub email: Option<String>,
}

/// An invitation as the public, key-based flow shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InvitationByKey {
    pub from_identity: Option<NamedIdentity>,
    pub target_identity: Option<NamedIdentity>,
    pub invited_email_address: String,
    pub to_organization_name: Option<String>,
    pub to_organization_label: Option<String>,
    pub expiration: Timestamp,
    pub accepted: Option<bool>,
    pub state: InvitationState,
    /// Deprecated: the same as `toOrganizationName`.
    pub to_tenant_name: Option<String>,
    /// Deprecated: the same as `toOrganizationLabel`.
    pub to_tenant_label: Option<String>,
}

/// `POST /invitations/key/{key}/accept-initiate`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AcceptInitiate {
    pub intermediate_return_url: Option<String>,
}

/// The answer of `accept-initiate` (and of the login flow's `authorize-initiate`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FlowInitiated {
    pub nf_token: String,
    pub auth0_connection_ids: Vec<String>,
}

/// `POST /nfconsole/support/requests`. Enumerated fields are plain strings here;
/// the service validates them (400 naming the field).
#[derive(Clone, Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SupportRequest {
    pub name: Option<String>,
    pub email: Option<String>,
    pub selected_organization_id: Option<String>,
    pub selected_network_id: Option<String>,
    pub subject: Option<String>,
    pub comment: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub priority: Option<String>,
    pub severity: Option<String>,
    pub recent_error_messages: Option<Vec<String>>,
}

/// Allowed `type` values of a support request (default `question`).
pub const SUPPORT_TYPES: &[&str] = &["problem", "incident", "question", "task"];
/// Allowed `priority` values (default `normal`).
pub const SUPPORT_PRIORITIES: &[&str] = &["urgent", "high", "normal", "low"];
/// Allowed `severity` values (default `Severity3`).
pub const SUPPORT_SEVERITIES: &[&str] = &["Severity1", "Severity2", "Severity3"];
