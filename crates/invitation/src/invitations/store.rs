//! The `invitations` table and its queries. The key itself is never stored, only
//! its SHA-256 (hex, `keys::hash`).

use idp_model::invitation::{Invitation, InvitationState};
use idp_model::{IdentityId, OrganizationId};
use idp_runtime::error::{ApiError, ApiResult};
use sea_orm::entity::prelude::*;
use sea_orm::sea_query::Expr;
use sea_orm::sea_query::{Func, SimpleExpr};
use sea_orm::{Condition, UpdateMany};
use time::OffsetDateTime;

use super::types::Change;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "invitations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub key_hash: String,
    pub from_identity_id: Uuid,
    pub to_organization_id: Uuid,
    pub invited_email_address: String,
    pub invitation_url: Option<String>,
    pub target_user_identity_id: Option<Uuid>,
    pub expiration: TimeDateTimeWithTimeZone,
    pub accepted: Option<bool>,
    pub revoked_at: Option<TimeDateTimeWithTimeZone>,
    pub response_received_at: Option<TimeDateTimeWithTimeZone>,
    pub created_at: TimeDateTimeWithTimeZone,
    /// The user identity the identity service made or mapped for an acceptance
    /// by key (from its identity event naming this invitation).
    pub mapped_identity_id: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// The state of a stored invitation at `now`.
pub fn state_of(m: &Model, now: OffsetDateTime) -> InvitationState {
    InvitationState::of(m.accepted, m.revoked_at.is_some(), m.expiration <= now)
}

/// The invitation as the API shows it.
pub fn view(m: &Model, now: OffsetDateTime) -> Invitation {
    let org = OrganizationId(m.to_organization_id);
    Invitation {
        id: m.id,
        from_identity_id: IdentityId(m.from_identity_id),
        to_organization_id: org,
        invited_email_address: m.invited_email_address.clone(),
        expiration: m.expiration.into(),
        target_user_identity_id: m.target_user_identity_id.map(IdentityId),
        accepted: m.accepted,
        revoked_at: m.revoked_at.map(Into::into),
        response_received_at: m.response_received_at.map(Into::into),
        to_tenant_id: org,
        state: state_of(m, now),
    }
}

/// The SQL condition of one state at `now`.
pub fn state_condition(s: InvitationState, now: OffsetDateTime) -> Condition {
    let live = Condition::all().add(Column::RevokedAt.is_null());
    match s {
        InvitationState::Revoked => Condition::all().add(Column::RevokedAt.is_not_null()),
        InvitationState::Accepted => live.add(Column::Accepted.eq(true)),
        InvitationState::Declined => live.add(Column::Accepted.eq(false)),
        InvitationState::Open => live
            .add(Column::Accepted.is_null())
            .add(Column::Expiration.gt(now)),
        InvitationState::Expired => live
            .add(Column::Accepted.is_null())
            .add(Column::Expiration.lte(now)),
    }
}

/// The invitation `id`: 404 when there is none.
pub async fn load<C: ConnectionTrait>(db: &C, id: Uuid) -> ApiResult<Model> {
    Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| ApiError::not_found("no such invitation"))
}

/// The invitation whose key hashes to `key_hash`, if any.
pub async fn by_key_hash<C: ConnectionTrait>(
    db: &C,
    key_hash: &str,
) -> Result<Option<Model>, DbErr> {
    Entity::find()
        .filter(Column::KeyHash.eq(key_hash))
        .one(db)
        .await
}

pub async fn insert<C: ConnectionTrait>(db: &C, row: Model) -> Result<(), DbErr> {
    Entity::insert(ActiveModel::from(row))
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// The conditional UPDATE of `change` on invitation `id` at `now`: it matches
/// only while the invitation's state permits the change, so that of two racing
/// requests one wins.
pub fn change(id: Uuid, change: Change, now: OffsetDateTime) -> UpdateMany<Entity> {
    let update = Entity::update_many().filter(Column::Id.eq(id));
    match change {
        Change::Accept | Change::Decline => update
            .col_expr(Column::Accepted, Expr::value(change == Change::Accept))
            .col_expr(Column::ResponseReceivedAt, Expr::value(now))
            .filter(state_condition(InvitationState::Open, now)),
        Change::Revoke => {
            // Open, declined and expired invitations can be revoked; accepted and
            // revoked ones cannot (the reference's rules).
            let coalesce: SimpleExpr = Func::coalesce([
                Expr::col(Column::ResponseReceivedAt).into(),
                Expr::value(now),
            ])
            .into();
            update
                .col_expr(Column::RevokedAt, Expr::value(now))
                .col_expr(Column::ResponseReceivedAt, coalesce)
                .filter(Column::RevokedAt.is_null())
                .filter(
                    Condition::any()
                        .add(Column::Accepted.is_null())
                        .add(Column::Accepted.eq(false)),
                )
        }
    }
}

/// Records `identity` as the user identity of the accepted invitation
/// `invitation` (the identity service made or mapped it for an acceptance by key).
pub async fn map_identity<C: ConnectionTrait>(
    db: &C,
    invitation: Uuid,
    identity: Uuid,
) -> Result<(), DbErr> {
    Entity::update_many()
        .col_expr(Column::MappedIdentityId, Expr::value(identity))
        .col_expr(Column::TargetUserIdentityId, Expr::value(identity))
        .filter(Column::Id.eq(invitation))
        .filter(Column::Accepted.eq(true))
        .exec(db)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use time::Duration;

    #[test]
    fn invitation_json_has_the_reference_fields() {
        let org = OrganizationId::new();
        let now = OffsetDateTime::now_utc();
        let m = Model {
            id: Uuid::new_v4(),
            key_hash: super::super::keys::hash("k"),
            from_identity_id: Uuid::new_v4(),
            to_organization_id: org.as_uuid(),
            invited_email_address: "a@b.co".into(),
            invitation_url: None,
            target_user_identity_id: None,
            expiration: now + Duration::days(7),
            accepted: None,
            revoked_at: None,
            response_received_at: None,
            created_at: now,
            mapped_identity_id: None,
        };
        let v = serde_json::to_value(view(&m, now)).unwrap();
        let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "accepted",
                "expiration",
                "fromIdentityId",
                "id",
                "invitedEmailAddress",
                "responseReceivedAt",
                "revokedAt",
                "state",
                "targetUserIdentityId",
                "toOrganizationId",
                "toTenantId"
            ]
        );
        assert_eq!(v["state"], "Open");
        assert!(v["accepted"].is_null());
        assert_eq!(v["toTenantId"], v["toOrganizationId"]);
        // Past its expiration, an open invitation reads as expired.
        assert_eq!(
            state_of(&m, now + Duration::days(8)),
            InvitationState::Expired
        );
    }

    #[test]
    fn state_from_facts() {
        assert_eq!(
            InvitationState::of(None, false, false),
            InvitationState::Open
        );
        assert_eq!(
            InvitationState::of(None, false, true),
            InvitationState::Expired
        );
        assert_eq!(
            InvitationState::of(Some(false), false, true),
            InvitationState::Declined
        );
        assert_eq!(
            InvitationState::of(Some(true), false, false),
            InvitationState::Accepted
        );
        assert_eq!(
            InvitationState::of(None, true, true),
            InvitationState::Revoked
        );
        assert_eq!(
            "Open".parse::<InvitationState>().unwrap(),
            InvitationState::Open
        );
        assert!("open".parse::<InvitationState>().is_err());
    }
}
