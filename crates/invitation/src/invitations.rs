//! The authenticated invitation API: find, read, create, respond (the plain state
//! update) and revoke.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use idp_model::events::types;
use idp_model::invitation::{CreateInvitation, Invitation, InvitationState};
use idp_model::paging::Direction;
use idp_model::{IdentityId, OrganizationId};
use idp_runtime::auth::Caller;
use idp_runtime::authz::Scope;
use idp_runtime::error::{ApiError, ApiResult};
use idp_runtime::extract::{Json, Query};
use idp_runtime::organizations::OwnerAnswer;
use idp_runtime::paging::{PageParams, Paged};
use sea_orm::sea_query::{Expr, Func, SimpleExpr};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, Order, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, TransactionTrait,
};
use serde::Deserialize;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::keys;
use crate::mail::{self, Message};
use crate::state::AppState;
use crate::store::{identity_seen, invitation, organization_seen};

use invitation::Column as C;

/// The state of a stored invitation at `now`.
pub fn state_of(m: &invitation::Model, now: OffsetDateTime) -> InvitationState {
    InvitationState::of(m.accepted, m.revoked_at.is_some(), m.expiration <= now)
}

/// The invitation as the API shows it.
pub fn view(m: &invitation::Model, now: OffsetDateTime) -> Invitation {
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
fn state_condition(s: InvitationState, now: OffsetDateTime) -> Condition {
    let live = Condition::all().add(C::RevokedAt.is_null());
    match s {
        InvitationState::Revoked => Condition::all().add(C::RevokedAt.is_not_null()),
        InvitationState::Accepted => live.add(C::Accepted.eq(true)),
        InvitationState::Declined => live.add(C::Accepted.eq(false)),
        InvitationState::Open => live.add(C::Accepted.is_null()).add(C::Expiration.gt(now)),
        InvitationState::Expired => live.add(C::Accepted.is_null()).add(C::Expiration.lte(now)),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FindParams {
    pub from_identity_id: Option<Uuid>,
    pub to_organization_id: Option<Uuid>,
    /// Deprecated alias of `toOrganizationId`.
    pub to_tenant_id: Option<Uuid>,
    pub invited_email_address: Option<String>,
    pub target_identity_id: Option<Uuid>,
    pub states: Option<String>,
}

const SORTS: &[(&str, C)] = &[
    ("id", C::Id),
    ("expiration", C::Expiration),
    ("invitedEmailAddress", C::InvitedEmailAddress),
    ("createdAt", C::CreatedAt),
    ("responseReceivedAt", C::ResponseReceivedAt),
];

/// `GET /invitations`: the invitations of the organizations whose invitations the
/// caller may read, filtered (all filters AND'ed; `states` is a comma-separated list).
pub async fn find(
    State(st): State<AppState>,
    caller: Caller,
    params: PageParams,
    Query(q): Query<FindParams>,
) -> ApiResult<Paged<Invitation>> {
    let now = st.now();
    let names: Vec<&str> = SORTS.iter().map(|(n, _)| *n).collect();
    params.allow_sort(&names)?;
    let mut select = invitation::Entity::find();
    match st.authz.scope(&caller, "invitation", "read").await? {
        Scope::All => {}
        Scope::Organizations(set) if set.is_empty() => {
            return Ok(Paged::new(Vec::new(), 0, params));
        }
        Scope::Organizations(set) => {
            let ids: Vec<Uuid> = set.iter().map(|o| o.as_uuid()).collect();
            select = select.filter(C::ToOrganizationId.is_in(ids));
        }
    }
    if let Some(v) = q.from_identity_id {
        select = select.filter(C::FromIdentityId.eq(v));
    }
    if let Some(v) = q.to_organization_id {
        select = select.filter(C::ToOrganizationId.eq(v));
    }
    if let Some(v) = q.to_tenant_id {
        select = select.filter(C::ToOrganizationId.eq(v));
    }
    if let Some(v) = q.invited_email_address.as_deref() {
        select = select.filter(C::InvitedEmailAddress.eq(v.trim().to_lowercase()));
    }
    if let Some(v) = q.target_identity_id {
        select = select.filter(C::TargetUserIdentityId.eq(v));
    }
    if let Some(raw) = q.states.as_deref() {
        let states = idp_model::organization::parse_list::<InvitationState>(raw)
            .map_err(|m| ApiError::invalid("states", m))?;
        if !states.is_empty() {
            let mut any = Condition::any();
            for s in states {
                any = any.add(state_condition(s, now));
            }
            select = select.filter(any);
        }
    }
    if params.request.sort.is_empty() {
        select = select.order_by(C::CreatedAt, Order::Asc);
    }
    for s in &params.request.sort {
        if let Some((_, col)) = SORTS.iter().find(|(n, _)| *n == s.field) {
            let order = match s.direction {
                Direction::Asc => Order::Asc,
                Direction::Desc => Order::Desc,
            };
            select = select.order_by(*col, order);
        }
    }
    select = select.order_by(C::Id, Order::Asc);
    let total = select.clone().count(&st.db).await?;
    let size = params.request.size;
    let rows = select
        .offset(params.request.page.saturating_mul(size))
        .limit(size)
        .all(&st.db)
        .await?;
    let items = rows.iter().map(|m| view(m, now)).collect();
    Ok(Paged::new(items, total, params))
}

fn parse_id(raw: &str) -> ApiResult<Uuid> {
    Uuid::parse_str(raw).map_err(|_| ApiError::not_found("no such invitation"))
}

async fn load<C2: ConnectionTrait>(db: &C2, id: Uuid) -> ApiResult<invitation::Model> {
    invitation::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| ApiError::not_found("no such invitation"))
}

/// `GET /invitations/{id}`.
pub async fn get(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Invitation>> {
    let m = load(&st.db, parse_id(&id)?).await?;
    st.authz
        .require_visible(
            &caller,
            "invitation",
            "read",
            Some(OrganizationId(m.to_organization_id)),
        )
        .await?;
    Ok(axum::Json(view(&m, st.now())))
}

fn valid_email(e: &str) -> bool {
    let Some((local, domain)) = e.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && e.len() <= 254
        && !e.chars().any(|c| c.is_whitespace() || c.is_control())
}

fn valid_url(u: &str) -> bool {
    (u.starts_with("https://") || u.starts_with("http://"))
        && u.len() <= 2048
        && !u.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// The link in the email: `{key}` in the URL is replaced, else `key=` is appended.
pub fn invitation_link(base: &str, key: &str) -> String {
    if base.contains("{key}") {
        base.replace("{key}", key)
    } else if base.contains('?') {
        format!("{base}&key={key}")
    } else {
        format!("{base}?key={key}")
    }
}

/// `POST /invitations`: needs `invitation:create` in the target organization, which
/// must exist and be active; a target identity must be a live user identity of it.
pub async fn create(
    State(st): State<AppState>,
    caller: Caller,
    Json(body): Json<CreateInvitation>,
) -> ApiResult<(StatusCode, axum::Json<Invitation>)> {
    let org = body
        .to_organization_id
        .or(body.to_tenant_id)
        .ok_or_else(|| ApiError::invalid("toOrganizationId", "is required"))?;
    // Stored lower-cased: the address is matched case-insensitively (filters, the
    // email of the login that accepts).
    let email = body
        .invited_email_address
        .as_deref()
        .map(|e| e.trim().to_lowercase())
        .unwrap_or_default();
    let email = email.as_str();
    if email.is_empty() {
        return Err(ApiError::invalid("invitedEmailAddress", "is required"));
    }
    if !valid_email(email) {
        return Err(ApiError::invalid(
            "invitedEmailAddress",
            "is not an email address",
        ));
    }
    let url = match body.invitation_url.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(u) if valid_url(u) => Some(u.to_string()),
        Some(_) => return Err(ApiError::invalid("invitationUrl", "must be an http(s) URL")),
    };
    st.authz
        .require(&caller, "invitation", "create", Some(org))
        .await?;
    if body.target_user_identity_id.is_none() {
        // The invited person becomes a user with the organization's default
        // roles, granted in the inviter's name: it must be able to grant them.
        st.grant_checks
            .require_default_roles(
                &caller,
                org,
                "the invited person would get the organization's default roles and you cannot grant them",
            )
            .await?;
    }
    // An organization the read model does not know yet (its event may still be on
    // its way) is asked of its owner with the caller's token; the answer is not
    // stored (events stay the read model's only writer).
    let organization = match organization_seen::Entity::find_by_id(org.as_uuid())
        .one(&st.db)
        .await?
    {
        Some(seen) => Some(OwnerAnswer {
            active: seen.active,
            deleted: seen.deleted,
            name: seen.name,
            label: seen.label,
        }),
        None => st.organizations.lookup(&caller, org.as_uuid()).await?,
    }
    .filter(|o| !o.deleted)
    .ok_or_else(|| ApiError::invalid("toOrganizationId", "no such organization"))?;
    if !organization.active {
        return Err(ApiError::invalid(
            "toOrganizationId",
            "the organization is deactivated",
        ));
    }
    if let Some(target) = body.target_user_identity_id {
        let ok = identity_seen::Entity::find_by_id(target.as_uuid())
            .one(&st.db)
            .await?
            .is_some_and(|i| {
                !i.deleted
                    && i.organization_id == org.as_uuid()
                    && i.kind.as_deref().unwrap_or("UserIdentity") == "UserIdentity"
            });
        if !ok {
            return Err(ApiError::invalid(
                "targetUserIdentityId",
                "no such user identity in the organization",
            ));
        }
    }
    let inviter = identity_seen::Entity::find_by_id(caller.identity_id().as_uuid())
        .one(&st.db)
        .await?;
    let now = st.now();
    let key = keys::generate().map_err(ApiError::internal)?;
    let expiry_days = i64::from(st.invitations.expiry_days.max(1));
    let row = invitation::Model {
        id: Uuid::now_v7(),
        key_hash: keys::hash(&key),
        from_identity_id: caller.identity_id().as_uuid(),
        to_organization_id: org.as_uuid(),
        invited_email_address: email.to_string(),
        invitation_url: url.clone(),
        target_user_identity_id: body.target_user_identity_id.map(|i| i.as_uuid()),
        expiration: now.saturating_add(Duration::days(expiry_days)),
        accepted: None,
        revoked_at: None,
        response_received_at: None,
        created_at: now,
        mapped_identity_id: None,
    };
    let inv = view(&row, now);
    let link = invitation_link(url.as_deref().unwrap_or(&st.invitations.default_url), &key);
    let org_name = organization.name.clone().unwrap_or_default();
    let org_label = organization.label.clone().unwrap_or_default();
    let inviter_text = match inviter {
        Some(i) => match (i.name, i.email) {
            (Some(n), Some(e)) => format!("{n} <{e}>"),
            (Some(n), None) => n,
            (None, Some(e)) => e,
            (None, None) => "Someone".to_string(),
        },
        None => "Someone".to_string(),
    };
    let message = Message {
        recipient: email.to_string(),
        subject: format!("You are invited to join {org_name}"),
        body: format!(
            "{inviter_text} invited you to join the organization {org_name} ({org_label}).\r\n\r\n\
             To accept or decline, open:\r\n{link}\r\n\r\n\
             The invitation expires on {}.\r\n",
            crate::mail::rfc2822(row.expiration)
        ),
    };
    let txn = st.db.begin().await?;
    invitation::Entity::insert(invitation::ActiveModel::from(row))
        .exec_without_returning(&txn)
        .await?;
    st.enqueue(&txn, types::INVITATION_CREATED, org, &inv)
        .await?;
    mail::enqueue(&txn, message, now).await?;
    txn.commit().await?;
    st.wake();
    tracing::info!(invitation_id = %inv.id, organization_id = %org, "invitation created");
    Ok((StatusCode::CREATED, axum::Json(inv)))
}

/// The outcome of a conditional state change.
pub enum Change {
    Accept,
    Decline,
    Revoke,
}

/// Applies `change` if the invitation's state at `now` permits it (one conditional
/// UPDATE, so that two racing requests cannot both win), emits the event in the
/// same transaction, and answers the invitation after it. 409 when the state
/// forbids it.
pub async fn apply_change(
    st: &AppState,
    id: Uuid,
    change: Change,
    via: &str,
) -> ApiResult<invitation::Model> {
    apply_change_with(st, id, change, via, serde_json::Map::new()).await
}

/// [`apply_change`] whose event also carries `extra` (the login that accepted).
pub async fn apply_change_with(
    st: &AppState,
    id: Uuid,
    change: Change,
    via: &str,
    extra: serde_json::Map<String, serde_json::Value>,
) -> ApiResult<invitation::Model> {
    let now = st.now();
    let txn = st.db.begin().await?;
    let mut update = invitation::Entity::update_many().filter(C::Id.eq(id));
    let kind = match change {
        Change::Accept | Change::Decline => {
            let accepted = matches!(change, Change::Accept);
            update = update
                .col_expr(C::Accepted, Expr::value(accepted))
                .col_expr(C::ResponseReceivedAt, Expr::value(now))
                .filter(state_condition(InvitationState::Open, now));
            if accepted {
                types::INVITATION_ACCEPTED
            } else {
                types::INVITATION_DECLINED
            }
        }
        Change::Revoke => {
            // Open, declined and expired invitations can be revoked; accepted and
            // revoked ones cannot (the reference's rules).
            let coalesce: SimpleExpr =
                Func::coalesce([Expr::col(C::ResponseReceivedAt).into(), Expr::value(now)]).into();
            update = update
                .col_expr(C::RevokedAt, Expr::value(now))
                .col_expr(C::ResponseReceivedAt, coalesce)
                .filter(C::RevokedAt.is_null())
                .filter(
                    Condition::any()
                        .add(C::Accepted.is_null())
                        .add(C::Accepted.eq(false)),
                );
            types::INVITATION_REVOKED
        }
    };
    let res = update.exec(&txn).await?;
    let m = load(&txn, id).await?;
    if res.rows_affected == 0 {
        let verb = match change {
            Change::Accept => "accepted",
            Change::Decline => "declined",
            Change::Revoke => "revoked",
        };
        return Err(ApiError::conflict(format!(
            "the invitation is {} and cannot be {verb}",
            state_of(&m, now)
        )));
    }
    let mut data = serde_json::to_value(view(&m, now)).map_err(ApiError::internal)?;
    if let Some(o) = data.as_object_mut() {
        o.insert("via".into(), serde_json::Value::from(via));
        o.extend(extra);
    }
    st.enqueue(&txn, kind, OrganizationId(m.to_organization_id), &data)
        .await?;
    txn.commit().await?;
    st.wake();
    Ok(m)
}

/// `PUT /invitations/{id}/{accept|decline|revoke}`: the plain state update (it
/// maps nobody); needs `invitation:update` in the invitation's organization.
pub async fn respond(
    State(st): State<AppState>,
    caller: Caller,
    Path((id, action)): Path<(String, String)>,
) -> ApiResult<axum::Json<Invitation>> {
    let change = match action.as_str() {
        "accept" => Change::Accept,
        "decline" => Change::Decline,
        "revoke" => Change::Revoke,
        _ => return Err(ApiError::not_found("no such resource")),
    };
    let id = parse_id(&id)?;
    let m = load(&st.db, id).await?;
    st.authz
        .require_change(
            &caller,
            "invitation",
            "update",
            Some(OrganizationId(m.to_organization_id)),
        )
        .await?;
    let m = apply_change(&st, id, change, "api").await?;
    Ok(axum::Json(view(&m, st.now())))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn links_carry_the_key() {
        assert_eq!(invitation_link("https://x/i", "K"), "https://x/i?key=K");
        assert_eq!(
            invitation_link("https://x/i?a=1", "K"),
            "https://x/i?a=1&key=K"
        );
        assert_eq!(invitation_link("https://x/i/{key}", "K"), "https://x/i/K");
    }

    #[test]
    fn emails_and_urls() {
        assert!(valid_email("new.employee@acme.com"));
        assert!(!valid_email("nope"));
        assert!(!valid_email("a@b"));
        assert!(!valid_email("a b@c.d"));
        assert!(valid_url("http://acme.console.netfoundry.io/invitation"));
        assert!(!valid_url("javascript:alert(1)"));
    }

    #[test]
    fn invitation_json_has_the_reference_fields() {
        let org = OrganizationId::new();
        let now = OffsetDateTime::now_utc();
        let m = invitation::Model {
            id: Uuid::new_v4(),
            key_hash: keys::hash("k"),
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
