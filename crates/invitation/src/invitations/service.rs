//! What the authenticated `/identity/v1/invitations/**` endpoints do (their
//! handlers in `routes` call these): find, read, create, respond (the plain state
//! update) and revoke; access checks, the change, its events and its mail in one
//! unit of work.

use idp_model::events::{Event, InvitationData};
use idp_model::invitation::{CreateInvitation, Invitation, InvitationState};
use idp_model::paging::Direction;
use idp_model::OrganizationId;
use idp_runtime::auth::Caller;
use idp_runtime::authz::Scope;
use idp_runtime::error::{ApiError, ApiResult};
use idp_runtime::organizations::OwnerAnswer;
use idp_runtime::paging::{PageParams, Paged};
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, Order, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use time::Duration;
use uuid::Uuid;

use super::keys;
use super::store::{self, state_of, view, Column as C, Entity};
use super::types::{Change, FindInvitations, InvitationRef};
use crate::mail::{self, Message};
use crate::state::AppState;
use crate::store::{identity_seen, organization_seen};
use idp_model::catalog::action;

pub const RESOURCE: &str = idp_model::catalog::INVITATION.code;

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
    s: &AppState,
    caller: &Caller,
    params: PageParams,
    q: FindInvitations,
) -> ApiResult<Paged<Invitation>> {
    let now = s.now();
    let names: Vec<&str> = SORTS.iter().map(|(n, _)| *n).collect();
    params.allow_sort(&names)?;
    let mut select = Entity::find();
    match s.authz.scope(caller, RESOURCE, action::READ).await? {
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
            for st in states {
                any = any.add(store::state_condition(st, now));
            }
            select = select.filter(any);
        }
    }
    if params.request.sort.is_empty() {
        select = select.order_by(C::CreatedAt, Order::Asc);
    }
    for sort in &params.request.sort {
        if let Some((_, col)) = SORTS.iter().find(|(n, _)| *n == sort.field) {
            let order = match sort.direction {
                Direction::Asc => Order::Asc,
                Direction::Desc => Order::Desc,
            };
            select = select.order_by(*col, order);
        }
    }
    select = select.order_by(C::Id, Order::Asc);
    let total = select.clone().count(&s.db).await?;
    let size = params.request.size;
    let rows = select
        .offset(params.request.page.saturating_mul(size))
        .limit(size)
        .all(&s.db)
        .await?;
    let items = rows.iter().map(|m| view(m, now)).collect();
    Ok(Paged::new(items, total, params))
}

/// `GET /invitations/{id}`: 404 unless the caller may read the invitations of its
/// organization.
pub async fn get(s: &AppState, caller: &Caller, id: InvitationRef) -> ApiResult<Invitation> {
    let m = store::load(&s.db, id.id()?).await?;
    s.authz
        .require_visible(
            caller,
            RESOURCE,
            action::READ,
            Some(OrganizationId(m.to_organization_id)),
        )
        .await?;
    Ok(view(&m, s.now()))
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
/// The invitation, its `invitation.created` event and its mail are one change.
pub async fn create(
    s: &AppState,
    caller: &Caller,
    body: CreateInvitation,
) -> ApiResult<Invitation> {
    let org = body
        .to_organization_id
        .or(body.to_tenant_id)
        .ok_or_else(|| ApiError::invalid("toOrganizationId", "is required"))?;
    // Parsed by the rules every service uses (`idp_model::Email`), stored
    // lower-cased: the address is matched case-insensitively (filters, the email of
    // the login that accepts), and the identity made from it must be one the
    // identity API would accept.
    let email = match body.invited_email_address.as_deref().map(str::trim) {
        None | Some("") => return Err(ApiError::invalid("invitedEmailAddress", "is required")),
        Some(raw) => idp_model::Email::parse(raw).map_err(|why| {
            ApiError::invalid(
                "invitedEmailAddress",
                format!("is not an email address ({why})"),
            )
        })?,
    };
    let email = email.as_str();
    let url = match body.invitation_url.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(u) if valid_url(u) => Some(u.to_string()),
        Some(_) => return Err(ApiError::invalid("invitationUrl", "must be an http(s) URL")),
    };
    s.authz
        .require(caller, RESOURCE, action::CREATE, Some(org))
        .await?;
    if body.target_user_identity_id.is_none() {
        // The invited person becomes a user with the organization's default
        // roles, granted in the inviter's name: it must be able to grant them.
        s.grant_checks
            .require_default_roles(
                caller,
                org,
                "the invited person would get the organization's default roles and you cannot grant them",
            )
            .await?;
    }
    // An organization the read model does not know yet (its event may still be on
    // its way) is asked of its owner with the caller's token; the answer is not
    // stored (events stay the read model's only writer).
    let organization = match organization_seen::Entity::find_by_id(org.as_uuid())
        .one(&s.db)
        .await?
    {
        Some(seen) => Some(OwnerAnswer {
            active: seen.active,
            deleted: seen.deleted,
            name: seen.name,
            label: seen.label,
        }),
        None => s.organizations.lookup(caller, org.as_uuid()).await?,
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
            .one(&s.db)
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
        .one(&s.db)
        .await?;
    let now = s.now();
    let key = keys::generate().map_err(ApiError::internal)?;
    let expiry_days = i64::from(s.invitations.expiry_days.max(1));
    let row = store::Model {
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
    let link = invitation_link(url.as_deref().unwrap_or(&s.invitations.default_url), &key);
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
            mail::rfc2822(row.expiration)
        ),
    };
    let mut w = s.work.begin().await?;
    store::insert(w.txn(), row).await?;
    w.enqueue_event(Some(org), &Event::InvitationCreated((&inv).into()))?;
    mail::enqueue(w.txn(), message, now).await?;
    let mailer = s.mailer.clone();
    w.after_commit(move || mailer.wake());
    w.commit().await?;
    tracing::info!(invitation_id = %inv.id, organization_id = %org, "invitation created");
    Ok(inv)
}

/// `PUT /invitations/{id}/{accept|decline|revoke}`: the plain state update (it
/// maps nobody); needs `invitation:update` in the invitation's organization.
pub async fn respond(
    s: &AppState,
    caller: &Caller,
    id: InvitationRef,
    change: Change,
) -> ApiResult<Invitation> {
    let id = id.id()?;
    let m = store::load(&s.db, id).await?;
    s.authz
        .require_change(
            caller,
            RESOURCE,
            action::UPDATE,
            Some(OrganizationId(m.to_organization_id)),
        )
        .await?;
    let m = apply_change(s, id, change, "api", |_| ()).await?;
    Ok(view(&m, s.now()))
}

/// Applies `change` if the invitation's state permits it (one conditional UPDATE,
/// so that two racing requests cannot both win), emits its event (the invitation,
/// plus `via` and what `login` adds) in the same unit of work, and answers the invitation
/// after it. 409 naming the state when the state forbids it.
pub async fn apply_change(
    s: &AppState,
    id: Uuid,
    change: Change,
    via: &str,
    login: impl FnOnce(&mut InvitationData),
) -> ApiResult<store::Model> {
    let mut w = s.work.begin().await?;
    let now = w.now();
    let m = match w
        .transition(store::change(id, change, now), id, "the state forbids it")
        .await
    {
        Ok(m) => m,
        // What the state is now (in the same transaction) says why.
        Err(ApiError::Problem(p)) if p.status == 409 => {
            let m = store::load(w.txn(), id).await?;
            return Err(ApiError::conflict(format!(
                "the invitation is {} and cannot be {}",
                state_of(&m, now),
                change.past_participle()
            )));
        }
        Err(e) => return Err(e),
    };
    let mut data = InvitationData::from(&view(&m, now));
    data.via = Some(via.to_string());
    login(&mut data);
    w.enqueue_event(
        Some(OrganizationId(m.to_organization_id)),
        &change.event()(data),
    )?;
    w.commit().await?;
    Ok(m)
}

#[cfg(test)]
mod tests {
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
    fn urls() {
        assert!(valid_url("http://acme.console.netfoundry.io/invitation"));
        assert!(!valid_url("javascript:alert(1)"));
    }
}
