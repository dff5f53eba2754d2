//! Request bodies, filters and path segments of the invitation routes (the
//! invitation itself and the bodies shared with clients are `idp_model::invitation`).

use std::convert::Infallible;
use std::str::FromStr;

use idp_model::events::{Event, InvitationData};
use idp_model::invitation::Invitation;
use idp_runtime::error::{ApiError, ApiResult};
use serde::Deserialize;
use uuid::Uuid;

/// The filters of `GET /invitations` (all AND'ed).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FindInvitations {
    pub from_identity_id: Option<Uuid>,
    pub to_organization_id: Option<Uuid>,
    /// Deprecated alias of `toOrganizationId`.
    pub to_tenant_id: Option<Uuid>,
    pub invited_email_address: Option<String>,
    pub target_identity_id: Option<Uuid>,
    /// A comma-separated list of states.
    pub states: Option<String>,
}

/// The `{id}` segment of `/invitations/{id}[/{action}]`: an invitation id, or
/// `None` for a segment that cannot be one. Such a segment names no invitation,
/// which the service answers as it answers an unknown id (404 "no such
/// invitation"); so the segment itself never fails to parse.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvitationRef(pub Option<Uuid>);

impl InvitationRef {
    /// The id, or the 404 of an invitation that does not exist.
    pub fn id(self) -> ApiResult<Uuid> {
        self.0
            .ok_or_else(|| ApiError::not_found("no such invitation"))
    }
}

impl FromStr for InvitationRef {
    type Err = Infallible;
    fn from_str(s: &str) -> Result<Self, Infallible> {
        Ok(InvitationRef(Uuid::parse_str(s).ok()))
    }
}

/// A change of an invitation's state: the `{action}` of
/// `PUT /invitations/{id}/{action}` (`accept`, `decline`, `revoke`), and what the
/// key-based flow does (decline, accept-complete).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    Accept,
    Decline,
    Revoke,
}

impl Change {
    /// The event the change emits.
    pub fn event(self) -> fn(InvitationData) -> Event {
        match self {
            Change::Accept => Event::InvitationAccepted,
            Change::Decline => Event::InvitationDeclined,
            Change::Revoke => Event::InvitationRevoked,
        }
    }

    /// What the invitation "cannot be" when its state forbids the change.
    pub fn past_participle(self) -> &'static str {
        match self {
            Change::Accept => "accepted",
            Change::Decline => "declined",
            Change::Revoke => "revoked",
        }
    }
}

impl FromStr for Change {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "accept" => Ok(Change::Accept),
            "decline" => Ok(Change::Decline),
            "revoke" => Ok(Change::Revoke),
            _ => Err(()),
        }
    }
}

/// The body of `accept-complete` (`nfToken` and `idToken` required).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AcceptComplete {
    pub nf_token: Option<String>,
    pub id_token: Option<String>,
    /// The login's access token at the provider, for its userinfo endpoint when
    /// the ID token does not carry a verified email (optional).
    pub access_token: Option<String>,
}

/// How an acceptance by key ended: the user identity is known (200), or the
/// identity service did not report it within the wait (202).
#[derive(Debug)]
pub enum Completion {
    Mapped(Invitation),
    Pending(Invitation),
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn actions_and_ids_parse() {
        assert_eq!("accept".parse::<Change>(), Ok(Change::Accept));
        assert_eq!("decline".parse::<Change>(), Ok(Change::Decline));
        assert_eq!("revoke".parse::<Change>(), Ok(Change::Revoke));
        assert!("frobnicate".parse::<Change>().is_err());
        assert!("Accept".parse::<Change>().is_err());
        let id = Uuid::new_v4();
        assert_eq!(
            id.to_string()
                .parse::<InvitationRef>()
                .unwrap()
                .id()
                .unwrap(),
            id
        );
        let none = "not-a-uuid".parse::<InvitationRef>().unwrap();
        assert!(
            matches!(none.id(), Err(ApiError::Problem(p)) if p.status == 404
            && p.detail.as_deref() == Some("no such invitation"))
        );
    }
}
