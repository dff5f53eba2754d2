//! Catalog, roles, grants, checks, ACL and tenant isolation, on SQLite and
//! PostgreSQL.

use idp_model::authorization::standard_roles as sr;
use idp_model::events::{types, Envelope};
use idp_model::{IdentityId, OrganizationId, ROOT_ORGANIZATION_ID};
use reqwest::Method;
use serde_json::{json, Value};

use crate::harness::{both, json, token, Harness};

both!(catalog_on_sqlite, catalog_on_postgres, catalog);
both!(roles_on_sqlite, roles_on_postgres, roles);
both!(isolation_on_sqlite, isolation_on_postgres, isolation);
both!(grants_on_sqlite, grants_on_postgres, grants_and_checks);
both!(
    default_roles_on_sqlite,
    default_roles_on_postgres,
    default_roles_by_events
);

pub(crate) async fn action_id(h: &Harness, ty: &str, action: &str) -> String {
    let t = json(
        h.admin(
            Method::GET,
            &format!("/auth/v1/resource-types?code={ty}"),
            None,
        )
        .await,
        200,
    )
    .await;
    let tid = t[0]["id"].as_str().unwrap().to_string();
    let a = json(
        h.admin(
            Method::GET,
            &format!("/auth/v1/resource-actions?resourceTypeId={tid}&code={action}"),
            None,
        )
        .await,
        200,
    )
    .await;
    a[0]["id"].as_str().unwrap().to_string()
}

async fn catalog(h: Harness) {
    let res = h.admin(Method::GET, "/auth/v1/resource-types", None).await;
    assert_eq!(res.headers()["x-total-count"], "13");
    let types = json(res, 200).await;
    let codes: Vec<&str> = types
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["code"].as_str().unwrap())
        .collect();
    for c in [
        "organization",
        "user-identity",
        "grant",
        "resource-type",
        "network-group",
    ] {
        assert!(codes.contains(&c), "{c} missing");
    }
    let res = h
        .admin(
            Method::GET,
            "/auth/v1/resource-actions?size=10&page=1",
            None,
        )
        .await;
    assert_eq!(res.headers()["x-total-count"], "53");
    assert!(res.headers()["link"]
        .to_str()
        .unwrap()
        .contains("rel=\"next\""));
    assert_eq!(json(res, 200).await.as_array().unwrap().len(), 10);
    let ui = json(
        h.admin(
            Method::GET,
            "/auth/v1/resource-types?code=user-identity",
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(ui.as_array().unwrap().len(), 1);
    let id = ui[0]["id"].as_str().unwrap();
    let one = json(
        h.admin(Method::GET, &format!("/auth/v1/resource-types/{id}"), None)
            .await,
        200,
    )
    .await;
    assert_eq!(one["code"], "user-identity");
    assert_eq!(one["isSystem"], true);
    let res = h
        .admin(Method::GET, "/auth/v1/resource-types/not-a-uuid", None)
        .await;
    assert_eq!(res.status(), 404);
    // Deterministic ids: every deployment agrees.
    assert_eq!(
        id,
        idp_model::authorization::seeded_id("user-identity").to_string()
    );
    let acts = json(
        h.admin(
            Method::GET,
            &format!("/auth/v1/resource-actions?resourceTypeId={id}"),
            None,
        )
        .await,
        200,
    )
    .await;
    let mut codes: Vec<&str> = acts
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["code"].as_str().unwrap())
        .collect();
    codes.sort();
    assert_eq!(
        codes,
        ["create", "delete", "read", "update", "update-reset-mfa"]
    );

    // Another team registers its own type and action; the seeded ones are immutable.
    let sys = acts[0]["resourceTypeId"].as_str().unwrap();
    let res = h
        .admin(
            Method::POST,
            "/auth/v1/resource-actions",
            Some(json!({"resourceTypeId": sys, "code": "approve", "name": "Approve"})),
        )
        .await;
    assert_eq!(res.status(), 409);
    let t = json(
        h.admin(
            Method::POST,
            "/auth/v1/resource-types",
            Some(json!({"code": "report", "name": "Report", "description": "reports"})),
        )
        .await,
        201,
    )
    .await;
    let res = h
        .admin(
            Method::POST,
            "/auth/v1/resource-types",
            Some(json!({"code": "report", "name": "Report again"})),
        )
        .await;
    assert_eq!(res.status(), 409);
    let res = h
        .admin(
            Method::POST,
            "/auth/v1/resource-types",
            Some(json!({"code": "Bad Code!", "name": "x"})),
        )
        .await;
    let p = json(res, 400).await;
    assert_eq!(p["errors"][0]["field"], "code");
    let res = h
        .admin(
            Method::POST,
            "/auth/v1/resource-types",
            Some(json!({"name": "x"})),
        )
        .await;
    assert_eq!(res.status(), 400);
    let a = json(
        h.admin(
            Method::POST,
            "/auth/v1/resource-actions",
            Some(json!({"resourceTypeId": t["id"], "code": "publish", "name": "Publish"})),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(a["resourceTypeCode"], "report");
    // Super Admin holds actions registered later.
    let c = json(
        h.admin(
            Method::POST,
            "/auth/v1/checks",
            Some(json!({"identityId": h.admin, "action": "publish", "resourceType": "report"})),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(c["allowed"], true, "{c}");
    assert_eq!(c["roleName"], "Super Admin");

    // Without a grant, nothing of the catalog is readable or writable.
    let nobody = token(IdentityId::new(), OrganizationId::new());
    let res = h
        .call(Method::GET, "/auth/v1/resource-types", &nobody, None)
        .await;
    assert_eq!(res.status(), 403);
    let res = h
        .call(
            Method::POST,
            "/auth/v1/resource-types",
            &nobody,
            Some(json!({"code": "x", "name": "x"})),
        )
        .await;
    assert_eq!(res.status(), 403);
    h.stop().await;
}

async fn roles(h: Harness) {
    let res = h
        .admin(Method::GET, "/auth/v1/roles?roleType=Standard", None)
        .await;
    let roles = json(res, 200).await;
    let names: Vec<&str> = roles
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    for n in [
        "Super Admin",
        "Organization Admin",
        "Organization Read Only",
        "Identity Admin",
        "Network Group Admin",
    ] {
        assert!(names.contains(&n), "{n} missing from {names:?}");
    }
    let sa = sr::SUPER_ADMIN;
    let one = json(
        h.admin(Method::GET, &format!("/auth/v1/roles/{sa}"), None)
            .await,
        200,
    )
    .await;
    assert_eq!(one["resourceActionIds"].as_array().unwrap().len(), 53);
    assert_eq!(one["roleType"], "Standard");
    let ro = sr::ORGANIZATION_READ_ONLY;
    let ro_role = json(
        h.admin(Method::GET, &format!("/auth/v1/roles/{ro}"), None)
            .await,
        200,
    )
    .await;
    assert_eq!(ro_role["resourceActionIds"].as_array().unwrap().len(), 13);
    let oa = json(
        h.admin(
            Method::GET,
            &format!("/auth/v1/roles/{}", sr::ORGANIZATION_ADMIN),
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(oa["resourceActionIds"].as_array().unwrap().len(), 50);
    let named = json(
        h.admin(Method::GET, "/auth/v1/roles?name=identity%20admin", None)
            .await,
        200,
    )
    .await;
    assert_eq!(named.as_array().unwrap().len(), 1);

    // Standard roles are immutable.
    let res = h
        .admin(
            Method::PUT,
            &format!("/auth/v1/roles/{sa}"),
            Some(json!({"name": "x"})),
        )
        .await;
    assert_eq!(res.status(), 409);
    let res = h
        .admin(Method::DELETE, &format!("/auth/v1/roles/{sa}"), None)
        .await;
    assert_eq!(res.status(), 409);

    // A custom role of an organization, from a standard role plus one action.
    let org = OrganizationId::new();
    let mfa = action_id(&h, "user-identity", "update-reset-mfa").await;
    let custom = json(
        h.admin(
            Method::POST,
            "/auth/v1/roles",
            Some(json!({"name": "Helpdesk", "organizationId": org, "baseRoleId": ro, "resourceActionIds": [mfa]})),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(custom["roleType"], "Custom");
    assert_eq!(custom["organizationId"], json!(org));
    assert_eq!(custom["baseRoleId"], json!(ro));
    assert_eq!(custom["resourceActionIds"].as_array().unwrap().len(), 14);
    let cid = custom["id"].as_str().unwrap();
    let res = h
        .admin(
            Method::POST,
            "/auth/v1/roles",
            Some(json!({"name": "helpdesk", "organizationId": org})),
        )
        .await;
    assert_eq!(res.status(), 409, "duplicate name in the organization");
    let res = h
        .admin(Method::POST, "/auth/v1/roles", Some(json!({"name": "X", "organizationId": org, "resourceActionIds": [uuid::Uuid::new_v4()]})))
        .await;
    assert_eq!(
        json(res, 400).await["errors"][0]["field"],
        "resourceActionIds"
    );
    let listed = json(
        h.admin(
            Method::GET,
            &format!("/auth/v1/roles?organizationId={org}&roleType=Custom"),
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    let updated = json(
        h.admin(
            Method::PUT,
            &format!("/auth/v1/roles/{cid}"),
            Some(json!({"name": "Helpdesk 2", "resourceActionIds": [mfa]})),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(updated["name"], "Helpdesk 2");
    assert_eq!(updated["resourceActionIds"], json!([mfa]));
    // Granted, it cannot be deleted; revoked, it can.
    let g = json(
        h.admin(
            Method::POST,
            "/auth/v1/identity-roles",
            Some(
                json!({"identityId": h.identity(org).await, "roleId": cid, "organizationId": org}),
            ),
        )
        .await,
        201,
    )
    .await;
    let res = h
        .admin(Method::DELETE, &format!("/auth/v1/roles/{cid}"), None)
        .await;
    assert_eq!(res.status(), 409);
    let gid = g["id"].as_str().unwrap();
    let res = h
        .admin(
            Method::DELETE,
            &format!("/auth/v1/identity-roles/{gid}"),
            None,
        )
        .await;
    assert_eq!(res.status(), 204);
    let res = h
        .admin(Method::DELETE, &format!("/auth/v1/roles/{cid}"), None)
        .await;
    assert_eq!(res.status(), 204);
    let res = h
        .admin(Method::GET, &format!("/auth/v1/roles/{cid}"), None)
        .await;
    assert_eq!(res.status(), 404);
    h.stop().await;
}

pub(crate) async fn grant_role(
    h: &Harness,
    who: IdentityId,
    role: impl serde::Serialize,
    org: OrganizationId,
) -> Value {
    json(
        h.admin(
            Method::POST,
            "/auth/v1/identity-roles",
            Some(json!({"identityId": who, "roleId": role, "organizationId": org})),
        )
        .await,
        201,
    )
    .await
}

async fn isolation(h: Harness) {
    let (a, b) = (OrganizationId::new(), OrganizationId::new());
    let alice = h.identity(a).await;
    let alice_tok = token(alice, a);
    grant_role(&h, alice, sr::ORGANIZATION_ADMIN, a).await;
    // Something in B, granted by the super admin.
    let bob = h.identity(b).await;
    let in_b = grant_role(&h, bob, sr::ORGANIZATION_READ_ONLY, b).await;
    let b_grant = in_b["id"].as_str().unwrap();

    // Reads of B: not found / filtered out.
    let res = h
        .call(
            Method::GET,
            &format!("/auth/v1/identity-roles/{b_grant}"),
            &alice_tok,
            None,
        )
        .await;
    assert_eq!(res.status(), 404);
    let res = h
        .call(
            Method::GET,
            &format!("/auth/v1/grants/{b_grant}"),
            &alice_tok,
            None,
        )
        .await;
    assert_eq!(res.status(), 404);
    let listed = json(
        h.call(
            Method::GET,
            &format!("/auth/v1/grants?organizationId={b}"),
            &alice_tok,
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(listed, json!([]));
    let all = json(
        h.call(Method::GET, "/auth/v1/grants", &alice_tok, None)
            .await,
        200,
    )
    .await;
    assert!(
        all.as_array()
            .unwrap()
            .iter()
            .all(|g| g["organizationId"] == json!(a)),
        "{all}"
    );
    let res = h
        .call(
            Method::GET,
            &format!("/auth/v1/acl?resourceType=organization&resourceId={b}&organizationId={b}"),
            &alice_tok,
            None,
        )
        .await;
    assert_eq!(res.status(), 404);
    let perms = json(
        h.call(
            Method::GET,
            &format!("/auth/v1/identities/{bob}/permissions"),
            &alice_tok,
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(
        perms,
        json!([]),
        "bob's permissions in B are not alice's to read"
    );

    // Changes in B: forbidden (or not found).
    let res = h
        .call(
            Method::DELETE,
            &format!("/auth/v1/identity-roles/{b_grant}"),
            &alice_tok,
            None,
        )
        .await;
    assert_eq!(res.status(), 404);
    let res = h
        .call(Method::POST, "/auth/v1/identity-roles", &alice_tok,
              Some(json!({"identityId": IdentityId::new(), "roleId": sr::ORGANIZATION_READ_ONLY, "organizationId": b})))
        .await;
    assert_eq!(res.status(), 403);
    let res = h
        .call(
            Method::POST,
            "/auth/v1/roles",
            &alice_tok,
            Some(json!({"name": "Mine", "organizationId": b})),
        )
        .await;
    assert_eq!(res.status(), 403);
    // Checks against B.
    let res = h
        .call(Method::POST, "/auth/v1/checks", &alice_tok,
              Some(json!({"identityId": bob, "action": "read", "resourceType": "organization", "organizationId": b})))
        .await;
    assert_eq!(res.status(), 403);
    // Platform-wide: super admins only; and only what one holds.
    let res = h
        .call(Method::POST, "/auth/v1/identity-roles", &alice_tok,
              Some(json!({"identityId": IdentityId::new(), "roleId": sr::ORGANIZATION_READ_ONLY, "organizationId": null})))
        .await;
    assert_eq!(res.status(), 403);
    let rt_create = action_id(&h, "resource-type", "create").await;
    let res = h
        .call(Method::POST, "/auth/v1/identity-resource-actions", &alice_tok,
              Some(json!({"identityId": IdentityId::new(), "resourceActionId": rt_create, "organizationId": a, "path": []})))
        .await;
    assert_eq!(
        res.status(),
        403,
        "alice does not hold resource-type:create"
    );
    let res = h
        .call(
            Method::POST,
            "/auth/v1/roles",
            &alice_tok,
            Some(json!({"name": "Sneaky", "resourceActionIds": [rt_create]})),
        )
        .await;
    assert_eq!(
        res.status(),
        403,
        "a role carries only what its author holds"
    );
    let res = h
        .call(Method::POST, "/auth/v1/identity-roles", &alice_tok,
              Some(json!({"identityId": IdentityId::new(), "roleId": sr::SUPER_ADMIN, "organizationId": a})))
        .await;
    assert_eq!(
        res.status(),
        403,
        "alice does not hold the whole Super Admin role"
    );
    // Within A, alice manages grants (organization defaults to her own).
    let carol = h.identity(a).await;
    let g = json(
        h.call(
            Method::POST,
            "/auth/v1/identity-roles",
            &alice_tok,
            Some(json!({"identityId": carol, "roleId": sr::ORGANIZATION_READ_ONLY})),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(g["organizationId"], json!(a));
    assert_eq!(g["createdBy"], json!(alice));

    // A custom role of A cannot be granted in B, even by a super admin.
    let custom = json(
        h.call(
            Method::POST,
            "/auth/v1/roles",
            &alice_tok,
            Some(json!({"name": "A only", "baseRoleId": sr::ORGANIZATION_READ_ONLY})),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(custom["organizationId"], json!(a));
    let res = h
        .admin(
            Method::POST,
            "/auth/v1/identity-roles",
            Some(json!({"identityId": carol, "roleId": custom["id"], "organizationId": b})),
        )
        .await;
    assert_eq!(json(res, 400).await["errors"][0]["field"], "roleId");
    let res = h
        .call(
            Method::GET,
            &format!("/auth/v1/roles/{}", custom["id"].as_str().unwrap()),
            &token(bob, b),
            None,
        )
        .await;
    assert_eq!(res.status(), 404, "B cannot see A's custom role");
    h.stop().await;
}

async fn grants_and_checks(h: Harness) {
    let org = OrganizationId::new();
    let bob = h.identity(org).await;
    let bob_tok = token(bob, org);
    let read = action_id(&h, "user-identity", "read").await;

    // A path-scoped grant covers its path and below, nothing else.
    let g = json(
        h.admin(
            Method::POST,
            "/auth/v1/identity-resource-actions",
            Some(json!({"identityId": bob, "resourceActionId": read, "organizationId": org, "path": ["x"]})),
        )
        .await,
        201,
    )
    .await;
    let check = |path: Value, resource: Value| {
        json!({"identityId": bob, "action": "read", "resourceType": "user-identity",
               "organizationId": org, "path": path, "resourceId": resource})
    };
    let batch = json(
        h.call(
            Method::POST,
            "/auth/v1/checks",
            &bob_tok,
            Some(json!([
                check(json!(["x"]), json!("y")),
                check(json!([]), json!("z")),
                check(json!([]), json!("x")),
                check(json!([]), Value::Null),
            ])),
        )
        .await,
        200,
    )
    .await;
    let allowed: Vec<bool> = batch
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["allowed"].as_bool().unwrap())
        .collect();
    assert_eq!(allowed, [true, false, true, false]);
    assert_eq!(batch[0]["grantId"], g["id"]);
    assert_eq!(batch[0]["roleId"], Value::Null);
    let wrapped = json(
        h.call(
            Method::POST,
            "/auth/v1/checks",
            &bob_tok,
            Some(
                json!({"checks": [check(json!([]), json!("z")), check(json!(["x"]), Value::Null)]}),
            ),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(wrapped["checks"][0]["allowed"], false);
    assert_eq!(wrapped["checks"][1]["allowed"], true);
    // Bob may not check others.
    let res = h
        .call(
            Method::POST,
            "/auth/v1/checks",
            &bob_tok,
            Some(json!({"identityId": h.admin, "action": "read", "resourceType": "organization"})),
        )
        .await;
    assert_eq!(res.status(), 403);
    let res = h
        .call(
            Method::POST,
            "/auth/v1/checks",
            &bob_tok,
            Some(json!({"identityId": bob})),
        )
        .await;
    assert_eq!(res.status(), 400);

    // The ACL of x: bob (directly) and the super admin (through its role).
    let acl = json(
        h.admin(Method::GET, &format!("/auth/v1/acl?resourceType=user-identity&resourceId=x&organizationId={org}&action=read"), None)
            .await,
        200,
    )
    .await;
    let who: Vec<&str> = acl
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["identityId"].as_str().unwrap())
        .collect();
    assert!(who.contains(&bob.to_string().as_str()), "{acl}");
    assert!(who.contains(&h.admin.to_string().as_str()), "{acl}");
    let acl_z = json(
        h.admin(Method::GET, &format!("/auth/v1/acl?resourceType=user-identity&resourceId=z&organizationId={org}&action=read"), None)
            .await,
        200,
    )
    .await;
    assert!(acl_z
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["identityId"] != json!(bob)));
    // The ACL of one principal: `identityId` keeps that identity's entries only.
    for who in [bob, h.admin] {
        let acl_of = json(
            h.admin(Method::GET, &format!("/auth/v1/acl?resourceType=user-identity&resourceId=x&organizationId={org}&action=read&identityId={who}"), None)
                .await,
            200,
        )
        .await;
        let rows = acl_of.as_array().unwrap();
        assert!(!rows.is_empty(), "{acl_of}");
        assert!(
            rows.iter().all(|e| e["identityId"] == json!(who)),
            "{acl_of}"
        );
    }
    let res = h
        .admin(
            Method::GET,
            "/auth/v1/acl?resourceType=user-identity&identityId=nope",
            None,
        )
        .await;
    assert_eq!(res.status(), 400);

    // Effective permissions name the grant; revoking stops it on the next request.
    let mut perms = json(
        h.call(
            Method::GET,
            &format!("/auth/v1/identities/{bob}/permissions"),
            &bob_tok,
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(perms[0]["grantId"], g["id"]);
    let ro = grant_role(&h, bob, sr::ORGANIZATION_READ_ONLY, org).await;
    let res = h.call(Method::GET, "/auth/v1/roles", &bob_tok, None).await;
    assert_eq!(res.status(), 200);
    let res = h
        .admin(
            Method::DELETE,
            &format!("/auth/v1/identity-roles/{}", ro["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(res.status(), 204);
    let res = h.call(Method::GET, "/auth/v1/roles", &bob_tok, None).await;
    assert_eq!(
        res.status(),
        403,
        "a revoked grant stops working on the next request"
    );
    let res = h
        .admin(
            Method::DELETE,
            &format!("/auth/v1/identity-roles/{}", ro["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(res.status(), 404);

    // Replace a role by another in one call.
    let first = grant_role(&h, bob, sr::IDENTITY_ADMIN, org).await;
    let replaced = json(
        h.admin(
            Method::PUT,
            &format!("/auth/v1/identity-roles/{}", first["id"].as_str().unwrap()),
            Some(json!({"roleId": sr::NETWORK_GROUP_ADMIN})),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(replaced["roleId"], json!(sr::NETWORK_GROUP_ADMIN));
    assert_eq!(replaced["organizationId"], json!(org));
    let roles = json(
        h.admin(
            Method::GET,
            &format!("/auth/v1/identity-roles?identityId={bob}"),
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(roles.as_array().unwrap().len(), 1);
    assert_eq!(roles[0]["roleName"], "Network Group Admin");
    let actions = json(
        h.admin(
            Method::GET,
            &format!("/auth/v1/identity-resource-actions?identityId={bob}"),
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(actions.as_array().unwrap().len(), 1);
    // /grants by role.
    let by_role = json(
        h.admin(
            Method::GET,
            &format!(
                "/auth/v1/grants?roleId={}&identityId={bob}",
                sr::NETWORK_GROUP_ADMIN
            ),
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(by_role.as_array().unwrap().len(), 1);
    for f in [
        "id",
        "identityId",
        "roleId",
        "resourceActionId",
        "organizationId",
        "path",
        "isImmutable",
        "createdBy",
        "createdAt",
        "lastModified",
    ] {
        assert!(by_role[0].get(f).is_some(), "{f} missing");
    }
    perms = json(
        h.call(
            Method::GET,
            &format!("/auth/v1/identities/{bob}/permissions"),
            &bob_tok,
            None,
        )
        .await,
        200,
    )
    .await;
    assert!(perms
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["resourceType"] == "network-group" && p["roleName"] == "Network Group Admin"));
    let res = h
        .admin(
            Method::DELETE,
            &format!(
                "/auth/v1/identity-resource-actions/{}",
                g["id"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert_eq!(res.status(), 204);

    // Events: identity.created is applied once, default roles granted once.
    let dave = IdentityId::new();
    let e = Envelope::new(
        types::IDENTITY_CREATED,
        "identity",
        Some(org),
        json!({"identityId": dave, "organizationId": org, "type": "UserIdentity",
               "grantDefaultRoles": true, "bootstrapSuperAdmin": false,
               "defaultRoleIds": [sr::ORGANIZATION_READ_ONLY], "createdBy": h.admin}),
        time::OffsetDateTime::now_utc(),
    );
    h.bus.publish(&e).await.unwrap();
    h.bus.publish(&e).await.unwrap();
    let req = Envelope::new(
        types::DEFAULT_ROLE_GRANT_REQUESTED,
        "organization",
        Some(org),
        json!({"defaultRoleId": uuid::Uuid::new_v4(), "roleId": sr::ORGANIZATION_READ_ONLY, "organizationId": org, "includeIdentityIds": [dave, bob],
               "requestedBy": h.admin}),
        time::OffsetDateTime::now_utc(),
    );
    h.bus.publish(&req).await.unwrap();
    let dave_perms = h.wait_for_permissions(dave, &token(dave, org)).await;
    assert!(dave_perms
        .iter()
        .all(|p| p["roleName"] == "Organization Read Only"));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let g = json(
            h.admin(
                Method::GET,
                &format!(
                    "/auth/v1/identity-roles?roleId={}&organizationId={org}",
                    sr::ORGANIZATION_READ_ONLY
                ),
                None,
            )
            .await,
            200,
        )
        .await;
        let n = g.as_array().unwrap().len();
        if n == 2 {
            break;
        }
        assert!(n < 2 && std::time::Instant::now() < deadline, "{g}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // Granting without an organization defaults to the identity's (known from its event).
    let g = json(
        h.admin(
            Method::POST,
            "/auth/v1/identity-resource-actions",
            Some(json!({"identityId": dave, "resourceActionId": read, "path": []})),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(g["organizationId"], json!(org));
    let _ = ROOT_ORGANIZATION_ID;
    h.stop().await;
}

/// Identities holding `role` in `org`, as `GET /identity-roles` lists them.
async fn holders(h: &Harness, role: uuid::Uuid, org: OrganizationId) -> Vec<String> {
    let g = json(
        h.admin(
            Method::GET,
            &format!("/auth/v1/identity-roles?roleId={role}&organizationId={org}"),
            None,
        )
        .await,
        200,
    )
    .await;
    let mut ids: Vec<String> = g
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["identityId"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

/// The organization's default roles reach new identities that ask for them, once;
/// `default-role.grant-requested` gives the role to every live identity, once.
async fn default_roles_by_events(h: Harness) {
    let org = OrganizationId::new();
    let publish = |kind: &'static str, source: &'static str, data: Value| {
        let e = Envelope::new(
            kind,
            source,
            Some(org),
            data,
            time::OffsetDateTime::now_utc(),
        );
        let bus = h.bus.clone();
        async move { bus.publish(&e).await.unwrap() }
    };
    let default_role = uuid::Uuid::new_v4();
    publish(
        types::DEFAULT_ROLE_CREATED,
        "organization",
        json!({"id": default_role, "organizationId": org, "roleId": sr::ORGANIZATION_READ_ONLY, "roleType": "Standard"}),
    )
    .await;
    let admin = h.admin;
    let created = |id: IdentityId, grant: bool| json!({"identityId": id, "organizationId": org, "type": "UserIdentity", "grantDefaultRoles": grant, "createdBy": admin});
    let (alice, carl, dave) = (IdentityId::new(), IdentityId::new(), IdentityId::new());
    // Redelivered events change nothing (the second publish is a new event id on
    // purpose: the grant itself is unique too).
    publish(types::IDENTITY_CREATED, "identity", created(alice, true)).await;
    publish(types::IDENTITY_CREATED, "identity", created(alice, true)).await;
    publish(types::IDENTITY_CREATED, "identity", created(carl, false)).await;
    publish(types::IDENTITY_CREATED, "identity", created(dave, false)).await;
    assert_eq!(
        holders(&h, sr::ORGANIZATION_READ_ONLY.0, org).await,
        vec![alice.to_string()]
    );

    publish(
        types::IDENTITY_DELETED,
        "identity",
        json!({"identityId": dave}),
    )
    .await;
    let request = json!({"defaultRoleId": uuid::Uuid::new_v4(), "organizationId": org, "roleId": sr::NETWORK_GROUP_ADMIN, "requestedBy": admin});
    publish(
        types::DEFAULT_ROLE_GRANT_REQUESTED,
        "organization",
        request.clone(),
    )
    .await;
    publish(types::DEFAULT_ROLE_GRANT_REQUESTED, "organization", request).await;
    let mut expected = vec![alice.to_string(), carl.to_string()];
    expected.sort();
    assert_eq!(holders(&h, sr::NETWORK_GROUP_ADMIN.0, org).await, expected);

    // A default role whose event arrives after the event of an identity created
    // later still reaches that identity (the two services' events have no order).
    let late_role = uuid::Uuid::new_v4();
    let frank = IdentityId::new();
    let role_created_at = time::OffsetDateTime::now_utc();
    let frank_event = Envelope::new(
        types::IDENTITY_CREATED,
        "identity",
        Some(org),
        created(frank, true),
        role_created_at + time::Duration::milliseconds(5),
    );
    h.bus.publish(&frank_event).await.unwrap();
    let role_event = Envelope::new(
        types::DEFAULT_ROLE_CREATED,
        "organization",
        Some(org),
        json!({"id": late_role, "organizationId": org, "roleId": sr::IDENTITY_ADMIN, "roleType": "Standard"}),
        role_created_at,
    );
    h.bus.publish(&role_event).await.unwrap();
    assert_eq!(
        holders(&h, sr::IDENTITY_ADMIN.0, org).await,
        vec![frank.to_string()]
    );

    // A deleted default role is no longer given.
    publish(
        types::DEFAULT_ROLE_DELETED,
        "organization",
        json!({"id": default_role, "organizationId": org, "roleId": sr::ORGANIZATION_READ_ONLY}),
    )
    .await;
    let erin = IdentityId::new();
    publish(types::IDENTITY_CREATED, "identity", created(erin, true)).await;
    // Alice and Frank got it while it was live; Erin, created after, does not.
    let mut expected = vec![alice.to_string(), frank.to_string()];
    expected.sort();
    assert_eq!(
        holders(&h, sr::ORGANIZATION_READ_ONLY.0, org).await,
        expected
    );
    h.stop().await;
}
