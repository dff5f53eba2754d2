//! The typed events against the JSON the producers write.

use serde_json::{json, Value};
use uuid::Uuid;

use super::*;
use crate::authorization::Grant;
use crate::ids::*;
use crate::invitation::{Invitation, InvitationState};
use crate::organization::{
    Auth0ConnectionType, DefaultRole, IdentityProvider, MfaProvider, OpenIdProvider, RoleType,
};
use crate::time::Timestamp;

fn ts(s: i64) -> Timestamp {
    Timestamp {
        epoch_second: s,
        nano: 5,
    }
}

fn identity_provider() -> IdentityProvider {
    IdentityProvider {
        id: IdentityProviderId::new(),
        organization_id: OrganizationId::new(),
        auth0_connection_id: "con_1".into(),
        name: "acme".into(),
        auth0_connection_type: Auth0ConnectionType::Enterprise,
        active: true,
        created_at: ts(1),
        updated_at: None,
        deleted_at: Some(ts(2)),
    }
}

fn open_id_provider() -> OpenIdProvider {
    OpenIdProvider {
        id: OpenIdProviderId::new(),
        organization_id: OrganizationId::new(),
        name: "google".into(),
        client_id: "client".into(),
        issuer: "https://accounts.example".into(),
        authorization_endpoint: Some("https://accounts.example/auth".into()),
        token_endpoint: None,
        user_info_endpoint: None,
        jwks_uri: "https://accounts.example/jwks".into(),
        active: true,
        created_by: Some(IdentityId::new()),
        created_at: ts(3),
        deleted_at: None,
        deleted_by: None,
        deleted: false,
    }
}

fn default_role() -> DefaultRole {
    DefaultRole {
        id: DefaultRoleId::new(),
        organization_id: OrganizationId::new(),
        name: "Viewer".into(),
        role_type: RoleType::Standard,
        role_id: RoleId::new(),
        created_by: None,
        created_at: ts(4),
        deleted_at: None,
        deleted_by: None,
        deleted: false,
    }
}

fn invitation() -> Invitation {
    let org = OrganizationId::new();
    Invitation {
        id: Uuid::new_v4(),
        from_identity_id: IdentityId::new(),
        to_organization_id: org,
        invited_email_address: "New.Employee@acme.com".into(),
        expiration: ts(5),
        target_user_identity_id: None,
        accepted: Some(true),
        revoked_at: None,
        response_received_at: Some(ts(6)),
        to_tenant_id: org,
        state: InvitationState::Accepted,
    }
}

fn grant() -> Grant {
    Grant {
        id: GrantId::new(),
        identity_id: IdentityId::new(),
        role_id: Some(RoleId::new()),
        role_name: Some("Viewer".into()),
        resource_action_id: None,
        organization_id: Some(OrganizationId::new()),
        path: vec!["a".into()],
        is_immutable: false,
        created_by: None,
        created_at: ts(7),
        last_modified: ts(8),
    }
}

fn with(mut v: Value, extra: Value) -> Value {
    if let (Some(o), Value::Object(e)) = (v.as_object_mut(), extra) {
        o.extend(e);
    }
    v
}

/// The data each producer writes today, by type (copied from the producers).
fn producer_samples() -> Vec<(&'static str, Value)> {
    let identity = json!({
        // identity::events::emit
        "identityId": IdentityId::new(),
        "organizationId": OrganizationId::new(),
        "type": "UserIdentity",
        "name": "Ann",
        "email": "ann@acme.com",
        "createdBy": IdentityId::new(),
    });
    let org = OrganizationId::new();
    let organization = json!({
        // organizations::store::event_data
        "id": org,
        "organizationId": org,
        "name": "Acme",
        "label": "acme",
        "active": true,
        "mfaProvider": null,
        "deleted": false,
    });
    let inv = serde_json::to_value(invitation()).unwrap_or_default();
    let grant = serde_json::to_value(grant()).unwrap_or_default();
    vec![
        (
            types::IDENTITY_CREATED,
            with(identity.clone(), json!({"grantDefaultRoles": true})),
        ),
        (
            // identity::bootstrap
            types::IDENTITY_CREATED,
            with(
                identity.clone(),
                json!({"createdBy": null, "grantDefaultRoles": false, "bootstrapSuperAdmin": true}),
            ),
        ),
        (
            types::IDENTITY_UPDATED,
            with(
                identity.clone(),
                json!({"mfaReset": true, "mfaResetBy": IdentityId::new()}),
            ),
        ),
        (
            types::IDENTITY_UPDATED,
            with(
                identity.clone(),
                json!({"invitationId": Uuid::new_v4(), "mappingAdded": {
                    "id": Uuid::new_v4(), "auth0UserId": "sub-1", "identityProviderId": Uuid::new_v4()}}),
            ),
        ),
        (
            types::IDENTITY_UPDATED,
            with(identity.clone(), json!({"email": null})),
        ),
        (types::IDENTITY_ACTIVATED, identity.clone()),
        (types::IDENTITY_DEACTIVATED, identity.clone()),
        (types::IDENTITY_DELETED, identity),
        (types::ORGANIZATION_CREATED, organization.clone()),
        (
            types::ORGANIZATION_ACTIVATED,
            with(
                organization.clone(),
                json!({"mfaProvider": "GoogleAuthenticator"}),
            ),
        ),
        (types::ORGANIZATION_DEACTIVATED, organization.clone()),
        (
            types::ORGANIZATION_DELETED,
            with(organization, json!({"deleted": true, "label": "x_acme"})),
        ),
        (
            types::IDENTITY_PROVIDER_UPDATED,
            serde_json::to_value(identity_provider()).unwrap_or_default(),
        ),
        (
            types::OPEN_ID_PROVIDER_CREATED,
            serde_json::to_value(open_id_provider()).unwrap_or_default(),
        ),
        (
            types::DEFAULT_ROLE_CREATED,
            serde_json::to_value(default_role()).unwrap_or_default(),
        ),
        (
            // default_roles::types::GrantRequested
            types::DEFAULT_ROLE_GRANT_REQUESTED,
            json!({
                "defaultRoleId": DefaultRoleId::new(),
                "organizationId": OrganizationId::new(),
                "roleId": RoleId::new(),
                "roleType": "Custom",
                "requestedBy": IdentityId::new(),
                "includeIdentityIds": null,
                "excludeIdentityIds": [IdentityId::new()],
            }),
        ),
        (types::INVITATION_CREATED, inv.clone()),
        (
            types::INVITATION_DECLINED,
            with(inv.clone(), json!({"via": "api"})),
        ),
        (
            // invitations::by_key, accept-complete
            types::INVITATION_ACCEPTED,
            with(
                inv.clone(),
                json!({"via": "key", "invitationId": inv["id"], "organizationId": inv["toOrganizationId"],
                    "email": "new.employee@acme.com", "openIdProviderId": OpenIdProviderId::new(),
                    "subject": "sub-1", "givenName": "New"}),
            ),
        ),
        (types::GRANT_CREATED, grant.clone()),
        (
            types::GRANT_REVOKED,
            with(grant, json!({"revokedAt": ts(9)})),
        ),
        (
            // authorization::domain::role_updated
            types::ROLE_UPDATED,
            json!({"id": RoleId::new(), "organizationId": null}),
        ),
        (
            types::ROLE_UPDATED,
            json!({"id": RoleId::new(), "organizationId": OrganizationId::new(),
                "resourceActionIds": [ResourceActionId::new()]}),
        ),
    ]
}

#[test]
fn producers_json_parses_into_the_right_variant_and_back_unchanged() {
    for (kind, data) in producer_samples() {
        let e = Event::from_envelope(kind, &data).unwrap_or_else(|e| panic!("{kind}: {e}"));
        assert_eq!(e.type_name(), kind);
        assert!(!matches!(e, Event::Unknown { .. }), "{kind}");
        // The typed payload writes exactly what the producer wrote.
        assert_eq!(e.to_data().unwrap(), data, "{kind}");
    }
}

#[test]
fn what_earlier_versions_wrote_still_parses() {
    let org = OrganizationId::new();
    // organization::store::bootstrap of earlier versions (the root organization).
    let e = Event::from_envelope(
        types::ORGANIZATION_CREATED,
        &json!({"organizationId": org, "name": "Root", "label": "root"}),
    )
    .unwrap();
    let Event::OrganizationCreated(d) = e else {
        panic!("not organization.created")
    };
    assert_eq!((d.id, d.organization_id, d.active), (None, Some(org), None));
    assert_eq!(d.organization(), Some(org));
}

#[test]
fn samples_cover_every_type_but_the_identity_provider_and_invitation_siblings() {
    let covered: std::collections::BTreeSet<_> =
        producer_samples().into_iter().map(|(k, _)| k).collect();
    for t in Event::TYPES {
        let sibling = t.starts_with("identity-provider.")
            || t.starts_with("open-id-provider.")
            || t.starts_with("invitation.")
            || t.starts_with("default-role.");
        assert!(covered.contains(t) || sibling, "no producer sample of {t}");
    }
}

#[test]
fn dto_conversions_write_what_the_dto_writes() {
    let p = identity_provider();
    assert_eq!(
        serde_json::to_value(IdentityProviderData::from(&p)).unwrap(),
        serde_json::to_value(&p).unwrap()
    );
    let p = open_id_provider();
    assert_eq!(
        serde_json::to_value(OpenIdProviderData::from(&p)).unwrap(),
        serde_json::to_value(&p).unwrap()
    );
    let r = default_role();
    assert_eq!(
        serde_json::to_value(DefaultRoleData::from(&r)).unwrap(),
        serde_json::to_value(&r).unwrap()
    );
    let i = invitation();
    assert_eq!(
        serde_json::to_value(InvitationData::from(&i)).unwrap(),
        serde_json::to_value(&i).unwrap()
    );
    let g = grant();
    assert_eq!(
        serde_json::to_value(GrantData::from(&g)).unwrap(),
        serde_json::to_value(&g).unwrap()
    );
}

#[test]
fn each_variant_round_trips_through_type_and_data() {
    let samples = producer_samples();
    for kind in Event::TYPES {
        // A sample of the same payload struct, under this type.
        let (_, data) = samples
            .iter()
            .find(|(k, _)| Event::fields(k) == Event::fields(kind))
            .unwrap_or_else(|| panic!("no sample for {kind}"));
        let e = Event::from_envelope(kind, data).unwrap();
        assert_eq!(e.type_name(), *kind);
        let wire = serde_json::to_value(&e).unwrap();
        assert_eq!(wire, json!({"type": kind, "data": data}));
        let back: Event = serde_json::from_value(wire).unwrap();
        assert_eq!(back, e);
    }
}

#[test]
fn an_envelope_parses_into_its_event() {
    let g = grant();
    let e = Event::GrantCreated(GrantData::from(&g));
    let env = e.envelope(
        "authorization",
        g.organization_id,
        time::OffsetDateTime::now_utc(),
    );
    let env = env.unwrap();
    assert_eq!(env.kind, "grant.created");
    assert_eq!(Event::of(&env).unwrap(), e);
}

#[test]
fn an_unknown_type_is_kept_as_is() {
    let data = json!({"anything": [1, 2]});
    let e = Event::from_envelope("widget.created", &data).unwrap();
    assert_eq!(
        e,
        Event::Unknown {
            type_name: "widget.created".into(),
            data: data.clone()
        }
    );
    assert_eq!(e.type_name(), "widget.created");
    assert_eq!(e.to_data().unwrap(), data);
    let back: Event =
        serde_json::from_value(json!({"type": "widget.created", "data": data})).unwrap();
    assert_eq!(back, e);
    assert_eq!(Event::fields("widget.created"), None);
}

#[test]
fn a_known_type_with_broken_data_is_an_error() {
    for (kind, data) in [
        (types::IDENTITY_DELETED, json!({})),
        (types::IDENTITY_DELETED, json!({"identityId": "not a uuid"})),
        (types::GRANT_CREATED, json!({"id": GrantId::new()})),
        (types::ORGANIZATION_CREATED, json!(null)),
        (types::ROLE_UPDATED, json!("role")),
        (
            types::DEFAULT_ROLE_GRANT_REQUESTED,
            json!({"organizationId": OrganizationId::new()}),
        ),
    ] {
        let err = Event::from_envelope(kind, &data).unwrap_err();
        assert_eq!(err.type_name, kind);
        assert!(serde_json::from_value::<Event>(json!({"type": kind, "data": data})).is_err());
    }
}

#[test]
fn unknown_fields_are_ignored_and_absent_options_default() {
    let id = IdentityId::new();
    let e = Event::from_envelope(
        types::IDENTITY_DELETED,
        &json!({"identityId": id, "someday": 1}),
    )
    .unwrap();
    let Event::IdentityDeleted(d) = e else {
        panic!("not identity.deleted")
    };
    assert_eq!(d.identity_id, id);
    assert_eq!(d.organization_id, None);
}

#[test]
fn the_type_constants_are_the_enums_types() {
    let constants = [
        types::IDENTITY_CREATED,
        types::IDENTITY_UPDATED,
        types::IDENTITY_ACTIVATED,
        types::IDENTITY_DEACTIVATED,
        types::IDENTITY_DELETED,
        types::ORGANIZATION_CREATED,
        types::ORGANIZATION_ACTIVATED,
        types::ORGANIZATION_DEACTIVATED,
        types::ORGANIZATION_DELETED,
        types::IDENTITY_PROVIDER_CREATED,
        types::IDENTITY_PROVIDER_UPDATED,
        types::IDENTITY_PROVIDER_ACTIVATED,
        types::IDENTITY_PROVIDER_DEACTIVATED,
        types::IDENTITY_PROVIDER_DELETED,
        types::OPEN_ID_PROVIDER_CREATED,
        types::OPEN_ID_PROVIDER_UPDATED,
        types::OPEN_ID_PROVIDER_DELETED,
        types::DEFAULT_ROLE_CREATED,
        types::DEFAULT_ROLE_DELETED,
        types::DEFAULT_ROLE_GRANT_REQUESTED,
        types::INVITATION_CREATED,
        types::INVITATION_ACCEPTED,
        types::INVITATION_DECLINED,
        types::INVITATION_REVOKED,
        types::GRANT_CREATED,
        types::GRANT_REVOKED,
        types::ROLE_UPDATED,
    ];
    assert_eq!(types::ALL, constants);
    let unique: std::collections::BTreeSet<_> = types::ALL.iter().collect();
    assert_eq!(unique.len(), types::ALL.len());
}

#[test]
fn effects_are_per_type() {
    let revoking: Vec<_> = Event::revoking_types().collect();
    assert_eq!(
        revoking,
        [
            types::IDENTITY_DEACTIVATED,
            types::IDENTITY_DELETED,
            types::ORGANIZATION_DEACTIVATED,
            types::ORGANIZATION_DELETED
        ]
    );
    let caches: Vec<_> = Event::permission_cache_types().collect();
    assert_eq!(
        caches,
        [
            types::GRANT_CREATED,
            types::GRANT_REVOKED,
            types::ROLE_UPDATED
        ]
    );
    assert!(!Event::revokes_tokens("widget.created"));
}

#[test]
fn consumers_are_per_type() {
    assert_eq!(
        Event::consumers(types::IDENTITY_CREATED),
        ["invitation", "authorization"]
    );
    assert_eq!(Event::consumers(types::INVITATION_ACCEPTED), ["identity"]);
    assert!(Event::consumers(types::GRANT_CREATED).is_empty());
    assert!(Event::consumers("widget.created").is_empty());
}

#[test]
fn fields_are_the_wire_names() {
    assert_eq!(
        Event::fields(types::ROLE_UPDATED),
        Some(&["id", "organizationId", "resourceActionIds"][..])
    );
    let identity = Event::fields(types::IDENTITY_CREATED).unwrap();
    assert!(identity.contains(&"type") && identity.contains(&"identityId"));
    for t in Event::TYPES {
        assert!(!Event::fields(t).unwrap().is_empty(), "{t}");
    }
    let _ = MfaProvider::GoogleAuthenticator;
}
