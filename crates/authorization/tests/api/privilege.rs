//! Nobody may cause a grant they could not make directly: the grant rule on every
//! path that makes, changes or revokes a grant (the API, the grant check other
//! services ask, and grants made by events), as a matrix of
//! (requester's grants) × (path) × (same or other organization).

use idp_model::authorization::standard_roles as sr;
use idp_model::events::{types, Envelope};
use idp_model::{IdentityId, OrganizationId};
use reqwest::Method;
use serde_json::{json, Value};

use crate::harness::{both, json, token, Harness};
use crate::scenarios::{action_id, grant_role};

both!(
    events_grant_only_what_the_requester_may_on_sqlite,
    events_grant_only_what_the_requester_may_on_postgres,
    events_grant_only_what_the_requester_may
);
both!(
    the_api_takes_away_only_what_the_caller_holds_on_sqlite,
    the_api_takes_away_only_what_the_caller_holds_on_postgres,
    the_api_takes_away_only_what_the_caller_holds
);
both!(
    grants_name_live_identities_of_their_organization_on_sqlite,
    grants_name_live_identities_of_their_organization_on_postgres,
    grants_name_live_identities_of_their_organization
);
both!(
    a_role_loses_only_actions_its_editor_holds_on_sqlite,
    a_role_loses_only_actions_its_editor_holds_on_postgres,
    a_role_loses_only_actions_its_editor_holds
);
both!(
    grant_checks_answer_by_the_rule_on_sqlite,
    grant_checks_answer_by_the_rule_on_postgres,
    grant_checks_answer_by_the_rule
);

/// Gives `who` exactly these single actions in `org` (as the super admin).
async fn give_actions(h: &Harness, who: IdentityId, org: OrganizationId, actions: &[(&str, &str)]) {
    for (t, a) in actions {
        let id = action_id(h, t, a).await;
        json(
            h.admin(
                Method::POST,
                "/auth/v1/identity-resource-actions",
                Some(json!({"identityId": who, "resourceActionId": id, "organizationId": org, "path": []})),
            )
            .await,
            201,
        )
        .await;
    }
}

/// The role ids `who` holds (live role grants), sorted.
async fn roles_of(h: &Harness, who: IdentityId) -> Vec<String> {
    let g = json(
        h.admin(
            Method::GET,
            &format!("/auth/v1/identity-roles?identityId={who}"),
            None,
        )
        .await,
        200,
    )
    .await;
    let mut v: Vec<String> = g
        .as_array()
        .unwrap()
        .iter()
        .map(|x| format!("{}@{}", x["roleId"].as_str().unwrap(), x["organizationId"]))
        .collect();
    v.sort();
    v
}

fn at(role: impl std::fmt::Display, org: OrganizationId) -> String {
    format!("{role}@\"{org}\"")
}

async fn publish(h: &Harness, kind: &str, org: OrganizationId, data: Value) {
    let e = Envelope::new(
        kind,
        "organization",
        Some(org),
        data,
        time::OffsetDateTime::now_utc(),
    );
    h.bus.publish(&e).await.unwrap();
}

async fn identity_created(
    h: &Harness,
    org: OrganizationId,
    created_by: Option<IdentityId>,
) -> IdentityId {
    let id = IdentityId::new();
    let e = Envelope::new(
        types::IDENTITY_CREATED,
        "identity",
        Some(org),
        json!({"identityId": id, "organizationId": org, "type": "ApiAccountIdentity",
               "grantDefaultRoles": true, "createdBy": created_by}),
        time::OffsetDateTime::now_utc(),
    );
    h.bus.publish(&e).await.unwrap();
    id
}

/// Default roles by `identity.created`, `default-role.created` (identities created
/// before the role's event arrived) and `default-role.grant-requested`: each grant
/// only when its requester may give the role in that organization, and only to
/// live identities of that organization.
async fn events_grant_only_what_the_requester_may(h: Harness) {
    let (a, b) = (OrganizationId::new(), OrganizationId::new());
    // Organization A's default role is the Organization Admin role.
    publish(
        &h,
        types::DEFAULT_ROLE_CREATED,
        a,
        json!({"id": uuid::Uuid::new_v4(), "organizationId": a, "roleId": sr::ORGANIZATION_ADMIN, "roleType": "Standard"}),
    )
    .await;
    // A creator that may only create API accounts in A; an admin of A.
    let creator = h.identity(a).await;
    give_actions(&h, creator, a, &[("api-account-identity", "create")]).await;
    let admin_a = h.identity(a).await;
    grant_role(&h, admin_a, sr::ORGANIZATION_ADMIN, a).await;
    // A manager of default roles only.
    let dr_manager = h.identity(a).await;
    give_actions(
        &h,
        dr_manager,
        a,
        &[("default-role", "update"), ("default-role", "read")],
    )
    .await;

    // (requester) × identity.created in A.
    let by_creator = identity_created(&h, a, Some(creator)).await;
    let by_nobody = identity_created(&h, a, None).await;
    let by_admin = identity_created(&h, a, Some(admin_a)).await;
    let by_super = identity_created(&h, a, Some(h.admin)).await;
    assert_eq!(
        roles_of(&h, by_creator).await,
        Vec::<String>::new(),
        "creator-only requester"
    );
    assert_eq!(
        roles_of(&h, by_nobody).await,
        Vec::<String>::new(),
        "no requester"
    );
    assert_eq!(
        roles_of(&h, by_admin).await,
        vec![at(sr::ORGANIZATION_ADMIN, a)]
    );
    assert_eq!(
        roles_of(&h, by_super).await,
        vec![at(sr::ORGANIZATION_ADMIN, a)]
    );
    // An admin of A creating in B (its event names B): nothing in B.
    publish(
        &h,
        types::DEFAULT_ROLE_CREATED,
        b,
        json!({"id": uuid::Uuid::new_v4(), "organizationId": b, "roleId": sr::ORGANIZATION_READ_ONLY, "roleType": "Standard"}),
    )
    .await;
    let admin_in_b = identity_created(&h, b, Some(admin_a)).await;
    assert_eq!(
        roles_of(&h, admin_in_b).await,
        Vec::<String>::new(),
        "A's admin in B"
    );
    let super_in_b = identity_created(&h, b, Some(h.admin)).await;
    assert_eq!(
        roles_of(&h, super_in_b).await,
        vec![at(sr::ORGANIZATION_READ_ONLY, b)]
    );
    // A default role whose event arrives after the identities' (created after
    // the role): checked against each identity's own creator.
    let c = OrganizationId::new();
    let role_at = time::OffsetDateTime::now_utc() - time::Duration::seconds(1);
    let late_by_creator = identity_created(&h, c, Some(creator)).await;
    let late_by_super = identity_created(&h, c, Some(h.admin)).await;
    h.bus
        .publish(&Envelope::new(
            types::DEFAULT_ROLE_CREATED,
            "organization",
            Some(c),
            json!({"id": uuid::Uuid::new_v4(), "organizationId": c, "roleId": sr::ORGANIZATION_ADMIN, "roleType": "Standard"}),
            role_at,
        ))
        .await
        .unwrap();
    assert_eq!(
        roles_of(&h, late_by_creator).await,
        Vec::<String>::new(),
        "late role, narrow creator"
    );
    assert_eq!(
        roles_of(&h, late_by_super).await,
        vec![at(sr::ORGANIZATION_ADMIN, c)]
    );

    // default-role.grant-requested naming the requester itself, an identity of
    // B, and an unknown id: the default-role manager gets nothing; an identity of
    // B or an unknown id never gets A's role, whoever asks.
    let in_b = h.identity(b).await;
    let unknown = IdentityId::new();
    for requester in [dr_manager, h.admin] {
        publish(
            &h,
            types::DEFAULT_ROLE_GRANT_REQUESTED,
            a,
            json!({"defaultRoleId": uuid::Uuid::new_v4(), "organizationId": a, "roleId": sr::ORGANIZATION_ADMIN,
                   "roleType": "Standard", "requestedBy": requester,
                   "includeIdentityIds": [dr_manager, in_b, unknown]}),
        )
        .await;
        let want = if requester == h.admin {
            vec![at(sr::ORGANIZATION_ADMIN, a)]
        } else {
            Vec::new()
        };
        assert_eq!(
            roles_of(&h, dr_manager).await,
            want,
            "requested by {requester}"
        );
        assert_eq!(roles_of(&h, in_b).await, Vec::<String>::new());
        assert_eq!(roles_of(&h, unknown).await, Vec::<String>::new());
    }
    // To everyone, asked by someone who may not: nobody gets it.
    let plain = h.identity(a).await;
    publish(
        &h,
        types::DEFAULT_ROLE_GRANT_REQUESTED,
        a,
        json!({"defaultRoleId": uuid::Uuid::new_v4(), "organizationId": a, "roleId": sr::ORGANIZATION_ADMIN,
               "roleType": "Standard", "requestedBy": creator}),
    )
    .await;
    assert_eq!(roles_of(&h, plain).await, Vec::<String>::new());
    assert_eq!(roles_of(&h, creator).await, Vec::<String>::new());
    h.stop().await;
}

/// Changing (PUT) or revoking (DELETE) a grant needs `grant:delete` and every
/// action of the grant in its scope: a narrow grant manager can neither
/// downgrade nor revoke a stronger admin; an admin can.
async fn the_api_takes_away_only_what_the_caller_holds(h: Harness) {
    let a = OrganizationId::new();
    let manager = h.identity(a).await;
    give_actions(
        &h,
        manager,
        a,
        &[
            ("grant", "create"),
            ("grant", "read"),
            ("grant", "update"),
            ("grant", "delete"),
        ],
    )
    .await;
    // It holds everything the weaker role gives, so the replacement's new side
    // is its to give; the old side (Organization Admin) is not its to take.
    grant_role(&h, manager, sr::ORGANIZATION_READ_ONLY, a).await;
    let manager_tok = token(manager, a);
    let strong = h.identity(a).await;
    let g = grant_role(&h, strong, sr::ORGANIZATION_ADMIN, a).await;
    let gid = g["id"].as_str().unwrap();
    let before = roles_of(&h, strong).await;
    let res = h
        .call(
            Method::PUT,
            &format!("/auth/v1/identity-roles/{gid}"),
            &manager_tok,
            Some(json!({"roleId": sr::ORGANIZATION_READ_ONLY})),
        )
        .await;
    let body = json(res, 403).await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("Organization Admin"),
        "{body}"
    );
    let res = h
        .call(
            Method::DELETE,
            &format!("/auth/v1/identity-roles/{gid}"),
            &manager_tok,
            None,
        )
        .await;
    json(res, 403).await;
    assert_eq!(roles_of(&h, strong).await, before, "nothing changed");
    // An admin of A may do both.
    let admin = h.identity(a).await;
    grant_role(&h, admin, sr::ORGANIZATION_ADMIN, a).await;
    let admin_tok = token(admin, a);
    let replaced = json(
        h.call(
            Method::PUT,
            &format!("/auth/v1/identity-roles/{gid}"),
            &admin_tok,
            Some(json!({"roleId": sr::ORGANIZATION_READ_ONLY})),
        )
        .await,
        200,
    )
    .await;
    let rid = replaced["id"].as_str().unwrap();
    let res = h
        .call(
            Method::DELETE,
            &format!("/auth/v1/identity-roles/{rid}"),
            &admin_tok,
            None,
        )
        .await;
    assert_eq!(res.status(), 204);
    assert_eq!(roles_of(&h, strong).await, Vec::<String>::new());
    // Single actions likewise: the manager cannot revoke an action it lacks.
    let other = h.identity(a).await;
    give_actions(&h, other, a, &[("organization", "delete")]).await;
    let grants = json(
        h.admin(
            Method::GET,
            &format!("/auth/v1/identity-resource-actions?identityId={other}"),
            None,
        )
        .await,
        200,
    )
    .await;
    let aid = grants[0]["id"].as_str().unwrap();
    let res = h
        .call(
            Method::DELETE,
            &format!("/auth/v1/identity-resource-actions/{aid}"),
            &manager_tok,
            None,
        )
        .await;
    json(res, 403).await;
    h.stop().await;
}

/// A grant names a live identity of its organization: unknown, deleted and other
/// organizations' identities are the same 400 naming `identityId`, and nothing is
/// granted.
async fn grants_name_live_identities_of_their_organization(h: Harness) {
    let (a, b) = (OrganizationId::new(), OrganizationId::new());
    let admin = h.identity(a).await;
    grant_role(&h, admin, sr::ORGANIZATION_ADMIN, a).await;
    let tok = token(admin, a);
    let in_a = h.identity(a).await;
    let in_b = h.identity(b).await;
    let deleted = h.identity(a).await;
    h.bus
        .publish(&Envelope::new(
            types::IDENTITY_DELETED,
            "identity",
            Some(a),
            json!({"identityId": deleted}),
            time::OffsetDateTime::now_utc(),
        ))
        .await
        .unwrap();
    let read = action_id(&h, "user-identity", "read").await;
    let mut messages = Vec::new();
    for (who, org) in [
        (IdentityId::new(), Some(a)),
        (in_b, Some(a)),
        (deleted, Some(a)),
        (IdentityId::new(), None),
        (in_b, None),
    ] {
        for (path, body) in [
            (
                "/auth/v1/identity-roles",
                json!({"identityId": who, "roleId": sr::ORGANIZATION_READ_ONLY}),
            ),
            (
                "/auth/v1/identity-resource-actions",
                json!({"identityId": who, "resourceActionId": read, "path": []}),
            ),
        ] {
            let mut body = body;
            if let Some(o) = org {
                body["organizationId"] = json!(o);
            }
            let p = json(h.call(Method::POST, path, &tok, Some(body)).await, 400).await;
            assert_eq!(p["errors"][0]["field"], "identityId", "{p}");
            messages.push(p["errors"][0]["message"].clone());
        }
        assert_eq!(roles_of(&h, who).await, Vec::<String>::new());
    }
    // One answer for all: existence in B does not leak.
    messages.dedup();
    assert_eq!(messages.len(), 1, "{messages:?}");
    // The live identity of A: granted.
    json(
        h.call(
            Method::POST,
            "/auth/v1/identity-roles",
            &tok,
            Some(json!({"identityId": in_a, "roleId": sr::ORGANIZATION_READ_ONLY})),
        )
        .await,
        201,
    )
    .await;
    // A super admin's platform-wide grant may name an identity of any organization.
    json(
        h.admin(
            Method::POST,
            "/auth/v1/identity-resource-actions",
            Some(json!({"identityId": in_b, "resourceActionId": read, "organizationId": null, "path": []})),
        )
        .await,
        201,
    )
    .await;
    h.stop().await;
}

/// `POST /auth/v1/grant-checks` answers by the same rule: 200 when the caller may
/// give the organization's default roles (or the roles named), 403 naming the
/// role otherwise, 404 for an organization the caller has no say in.
async fn grant_checks_answer_by_the_rule(h: Harness) {
    let (a, b) = (OrganizationId::new(), OrganizationId::new());
    publish(
        &h,
        types::DEFAULT_ROLE_CREATED,
        a,
        json!({"id": uuid::Uuid::new_v4(), "organizationId": a, "roleId": sr::ORGANIZATION_ADMIN, "roleType": "Standard"}),
    )
    .await;
    let creator = h.identity(a).await;
    give_actions(
        &h,
        creator,
        a,
        &[("api-account-identity", "create"), ("grant", "create")],
    )
    .await;
    let admin = h.identity(a).await;
    grant_role(&h, admin, sr::ORGANIZATION_ADMIN, a).await;
    let check = |who: IdentityId, body: Value| {
        let h = &h;
        async move {
            h.call(
                Method::POST,
                "/auth/v1/grant-checks",
                &token(who, a),
                Some(body),
            )
            .await
        }
    };
    let p = json(
        check(creator, json!({"organizationId": a, "defaultRoles": true})).await,
        403,
    )
    .await;
    let detail = p["detail"].as_str().unwrap();
    assert!(detail.contains("Organization Admin"), "{detail}");
    let ok = json(
        check(admin, json!({"organizationId": a, "defaultRoles": true})).await,
        200,
    )
    .await;
    assert_eq!(ok["roleIds"], json!([sr::ORGANIZATION_ADMIN]));
    json(
        check(
            creator,
            json!({"organizationId": a, "roleIds": [sr::ORGANIZATION_ADMIN]}),
        )
        .await,
        403,
    )
    .await;
    json(
        check(creator, json!({"organizationId": a, "roleIds": []})).await,
        200,
    )
    .await;
    json(
        check(creator, json!({"organizationId": b, "defaultRoles": true})).await,
        404,
    )
    .await;
    json(
        check(
            admin,
            json!({"organizationId": a, "roleIds": [uuid::Uuid::new_v4()]}),
        )
        .await,
        400,
    )
    .await;
    json(
        check(admin, json!({"organizationId": "not-a-uuid"})).await,
        400,
    )
    .await;
    h.stop().await;
}

/// Changing a custom role's actions changes every holder's grants: a role editor
/// may put in only what it holds (checked before), and take out only what it
/// holds, so a narrow editor cannot strip a stronger holder's actions.
async fn a_role_loses_only_actions_its_editor_holds(h: Harness) {
    let a = OrganizationId::new();
    let read = action_id(&h, "user-identity", "read").await;
    let delete = action_id(&h, "organization", "delete").await;
    let role = json(
        h.admin(
            Method::POST,
            "/auth/v1/roles",
            Some(
                json!({"name": "Strong", "organizationId": a, "resourceActionIds": [read, delete]}),
            ),
        )
        .await,
        201,
    )
    .await;
    let rid = role["id"].as_str().unwrap();
    let editor = h.identity(a).await;
    give_actions(
        &h,
        editor,
        a,
        &[
            ("role", "read"),
            ("role", "update"),
            ("user-identity", "read"),
        ],
    )
    .await;
    let res = h
        .call(
            Method::PUT,
            &format!("/auth/v1/roles/{rid}"),
            &token(editor, a),
            Some(json!({"resourceActionIds": [read]})),
        )
        .await;
    let p = json(res, 403).await;
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("organization:delete"),
        "{p}"
    );
    let now = json(
        h.admin(Method::GET, &format!("/auth/v1/roles/{rid}"), None)
            .await,
        200,
    )
    .await;
    let mut ids: Vec<String> = serde_json::from_value(now["resourceActionIds"].clone()).unwrap();
    ids.sort();
    let mut want = vec![read.clone(), delete.clone()];
    want.sort();
    assert_eq!(ids, want, "unchanged");
    // Its own actions it may keep and rename around.
    let res = h
        .call(
            Method::PUT,
            &format!("/auth/v1/roles/{rid}"),
            &token(editor, a),
            Some(json!({"name": "Strong 2"})),
        )
        .await;
    json(res, 200).await;
    h.stop().await;
}
