//! Events: what this service emits (through the outbox, in the transaction of the
//! change) and what it consumes (read models of the organization service's
//! organizations, identity providers and OpenID providers).
//!
//! Emitted (`source: "identity"`, envelope `organizationId` = the identity's):
//! - `identity.created`: `identityId`, `organizationId`, `type`, `name`, `email`,
//!   `createdBy` (the requester of its default roles), `grantDefaultRoles`
//! - `identity.updated`, `identity.activated`, `identity.deactivated`,
//!   `identity.deleted`: `identityId`, `organizationId`, `type`, `name`, `email`
//!   (`identity.updated` for a reset of the second factor also carries
//!   `mfaReset: true`).
//!
//! Consumed (queue `{exchange}.identity`): `organization.*`, `identity-provider.*`,
//! `open-id-provider.*` (read models), and `invitation.accepted`: an invitation
//! accepted by key with a login (`openIdProviderId` + `subject`) makes the invited
//! person a user identity of the organization, mapped to that login (see
//! [`on_invitation_accepted`]). Every known type is read into its
//! `idp_model::events::Event` variant; data that does not parse is dead-lettered.

use std::sync::Arc;

use idp_bus::EventBus;
use idp_model::events::{types, Envelope, Event, IdentityData, InvitationData, MappingAdded};
use idp_model::{IdentityId, OrganizationId};
use idp_runtime::outbox::{self, ConsumerOptions};
use idp_runtime::Shutdown;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait,
    IntoActiveModel, QueryFilter,
};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::settings::IdentitySettings;
use crate::state::AppState;
use crate::store::{
    identity, invitation_acceptance, mapping, open_id_provider_seen, organization_seen,
    provider_seen,
};

/// The `source` of every event of this service (`AppState::work` writes it).
pub const SOURCE: &str = "identity";

/// The payload of an identity event about `m` (the fields every `identity.*`
/// event carries; a change sets its own ones with struct update syntax).
pub fn identity(m: &identity::Model) -> IdentityData {
    IdentityData {
        identity_id: IdentityId(m.id),
        organization_id: Some(OrganizationId(m.organization_id)),
        kind: Some(m.kind.clone()),
        name: Some(m.name.clone()),
        email: m.email.clone(),
        created_by: m.created_by.map(IdentityId),
        ..IdentityData::default()
    }
}

/// Writes an identity event into the outbox within the event consumer's
/// transaction (which wakes the relay after its commit); changes of the HTTP
/// endpoints enqueue through their unit of work instead.
async fn emit<C: ConnectionTrait>(
    conn: &C,
    event: &Event,
    org: OrganizationId,
    now: OffsetDateTime,
) -> anyhow::Result<()> {
    let envelope = event.envelope(SOURCE, Some(org), now)?;
    Ok(outbox::enqueue(conn, &envelope).await?)
}

pub async fn spawn_consumers(
    st: &AppState,
    settings: &IdentitySettings,
    bus: Arc<dyn EventBus>,
    shutdown: Shutdown,
) -> anyhow::Result<()> {
    let st2 = st.clone();
    let h = outbox::handler(move |event, txn| {
        let st = st2.clone();
        Box::pin(async move { on_event(&st, event, txn).await })
    });
    // Bindings: `organization.*`, `identity-provider.*`, `open-id-provider.*`,
    // `invitation.accepted` (the platform topology's list for `identity`).
    outbox::spawn_consumer(
        st.db.clone(),
        bus,
        ConsumerOptions::for_service(&settings.common.bus.exchange, "identity")?
            .wake_after_commit(st.relay.clone()),
        h,
        shutdown,
    )
    .await?;
    Ok(())
}

pub async fn on_event(
    st: &AppState,
    event: Envelope,
    txn: &DatabaseTransaction,
) -> anyhow::Result<()> {
    let (family, action) = event
        .kind
        .split_once('.')
        .unwrap_or((event.kind.as_str(), ""));
    let now = event.occurred_at;
    match family {
        "organization" => on_organization(st, &event, action, txn, now).await,
        "identity-provider" => provider_seen::apply(&event, action, txn, now).await,
        "open-id-provider" => open_id_provider_seen::apply(&event, action, txn, now).await,
        // The identity events it writes go out right after the commit (the
        // consumer wakes the relay).
        "invitation" if event.kind == types::INVITATION_ACCEPTED => match Event::of(&event)? {
            Event::InvitationAccepted(d) => on_invitation_accepted(st, &d, txn).await,
            _ => Ok(()),
        },
        _ => Ok(()),
    }
}

/// `invitation.accepted` of a completion by key (the invitation, plus its
/// `invitationId`, `openIdProviderId` and `subject`, optionally `name`,
/// `givenName`, `familyName`; the organization is `toOrganizationId`, the address
/// `invitedEmailAddress`):
/// the user identity of the invited person, mapped to the login, chosen as
///
/// 1. the identity the login is already mapped to (the person is already a
///    member: nothing new is mapped);
/// 2. else the invitation's live `targetUserIdentityId` of the organization;
/// 3. else the organization's live user identity with the invited email;
/// 4. else a new user identity with that email (`identity.created` with
///    `grantDefaultRoles: true`, so the authorization service grants the
///    organization's default roles).
///
/// Emits `identity.created` (4) or `identity.updated` (1-3), both with
/// `invitationId`. Applied once per invitation id (`invitation_acceptances`),
/// whatever the number of deliveries. An acceptance without a login (the plain
/// `PUT /invitations/{id}/accept`) maps nobody and is ignored.
pub async fn on_invitation_accepted(
    st: &AppState,
    d: &InvitationData,
    txn: &DatabaseTransaction,
) -> anyhow::Result<()> {
    let (Some(invitation_id), Some(provider_id), Some(subject)) = (
        d.invitation_id,
        d.open_id_provider_id.map(|p| p.0),
        d.subject.clone().filter(|s| !s.is_empty()),
    ) else {
        return Ok(());
    };
    let org = d.to_organization_id.0;
    if invitation_acceptance::Entity::find_by_id(invitation_id)
        .one(txn)
        .await?
        .is_some()
    {
        return Ok(());
    }
    let email = Some(d.invited_email_address.trim().to_lowercase()).filter(|e| !e.is_empty());
    let user = idp_model::token::IdentityType::UserIdentity.as_str();
    let live_user =
        |m: &identity::Model| m.kind == user && m.organization_id == org && m.deleted_at.is_none();
    let now = st.now();
    let existing_mapping = mapping::Entity::find()
        .filter(mapping::Column::ExternalSubject.eq(subject.as_str()))
        .filter(mapping::Column::IdentityProviderId.eq(provider_id))
        .one(txn)
        .await?;
    let mut chosen: Option<identity::Model> = None;
    let mut mapped_before = false;
    if let Some(m) = &existing_mapping {
        chosen = identity::Entity::find_by_id(m.identity_id).one(txn).await?;
        mapped_before = chosen.is_some();
    }
    if chosen.is_none() {
        if let Some(t) = d.target_user_identity_id.map(|t| t.as_uuid()) {
            chosen = identity::Entity::find_by_id(t)
                .one(txn)
                .await?
                .filter(|m| live_user(m));
        }
    }
    if chosen.is_none() {
        if let Some(e) = email.as_deref() {
            chosen = identity::Entity::find()
                .filter(identity::Column::Kind.eq(user))
                .filter(identity::Column::OrganizationId.eq(org))
                .filter(identity::Column::Email.eq(e))
                .filter(identity::Column::DeletedAt.is_null())
                .one(txn)
                .await?;
        }
    }
    let created = chosen.is_none();
    let ident = match chosen {
        Some(m) => m,
        None => {
            let Some(email) = email.clone() else {
                tracing::warn!(%invitation_id, "invitation.accepted without an email; ignored");
                return Ok(());
            };
            let first = d.given_name.clone().filter(|s| !s.trim().is_empty());
            let last = d.family_name.clone().filter(|s| !s.trim().is_empty());
            let name = d
                .name
                .clone()
                .filter(|s| !s.trim().is_empty())
                .or_else(|| match (&first, &last) {
                    (None, None) => None,
                    (f, l) => Some(crate::user_identities::service::full_name(
                        f.as_deref().unwrap_or(""),
                        l.as_deref().unwrap_or(""),
                    )),
                })
                .unwrap_or_else(|| email.clone());
            let m = identity::Model {
                id: idp_model::IdentityId::new().as_uuid(),
                organization_id: org,
                kind: user.into(),
                name,
                first_name: first,
                last_name: last,
                email: Some(email),
                description: None,
                client_id: None,
                secret_hash: None,
                active: true,
                created_at: now,
                updated_at: None,
                deleted_at: None,
                created_by: Some(d.from_identity_id.as_uuid()),
                mfa_enrolled: false,
                mfa_reset_at: None,
                mfa_reset_by: None,
            };
            identity::Entity::insert(m.clone().into_active_model())
                .exec_without_returning(txn)
                .await?;
            m
        }
    };
    let mut data = IdentityData {
        invitation_id: Some(invitation_id),
        ..identity(&ident)
    };
    if mapped_before {
        let target = d.target_user_identity_id.map(|t| t.as_uuid());
        if target.is_some_and(|t| t != ident.id) || !live_user(&ident) {
            tracing::warn!(%invitation_id, identity_id = %ident.id,
                "the login of an accepted invitation was already mapped to another or a retired identity; nothing new mapped");
        }
    } else {
        let map = mapping::Model {
            id: Uuid::new_v4(),
            identity_id: ident.id,
            external_subject: subject.clone(),
            identity_provider_id: provider_id,
            created_at: now,
            created_by: Some(d.from_identity_id.as_uuid()),
        };
        mapping::Entity::insert(map.clone().into_active_model())
            .exec_without_returning(txn)
            .await?;
        data.mapping_added = Some(MappingAdded {
            id: map.id,
            auth0_user_id: map.external_subject,
            identity_provider_id: map.identity_provider_id,
        });
    }
    invitation_acceptance::Entity::insert(invitation_acceptance::ActiveModel {
        invitation_id: Set(invitation_id),
        identity_id: Set(ident.id),
        created: Set(created),
        created_at: Set(now),
    })
    .exec_without_returning(txn)
    .await?;
    let org = OrganizationId(ident.organization_id);
    if created {
        data.grant_default_roles = Some(true);
        emit(txn, &Event::IdentityCreated(data), org, now).await?;
    } else {
        emit(txn, &Event::IdentityUpdated(data), org, now).await?;
    }
    tracing::info!(%invitation_id, identity_id = %ident.id, created, "invitation accepted: user identity mapped");
    Ok(())
}

async fn on_organization(
    st: &AppState,
    event: &Envelope,
    action: &str,
    txn: &DatabaseTransaction,
    now: OffsetDateTime,
) -> anyhow::Result<()> {
    let Some(id) = organization_seen::apply(event, action, txn, now).await? else {
        return Ok(());
    };
    // The token endpoint reads its clients' organization again (a read racing this
    // transaction's commit is remembered for the rest of its second at most).
    st.clients.forget_all();
    if event.kind == types::ORGANIZATION_DEACTIVATED || action == "deleted" {
        // Tokens of the organization's identities stop working here at once.
        st.verifier
            .revoke_organization(OrganizationId(id), st.clock.now().unix_timestamp());
    }
    Ok(())
}
