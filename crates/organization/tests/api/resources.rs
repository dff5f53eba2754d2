//! Identity providers, default roles, OpenID providers and preferences through the
//! service's HTTP API (SQLite and PostgreSQL).

use idp_model::{IdentityId, OrganizationId};
use idp_runtime::testing::TestDatabase;
use reqwest::Method;
use serde_json::json;

use crate::harness::{field, send, Harness};

async fn new_org(h: &Harness) -> String {
    let label = format!("o-{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
    let (st, o) = send(
        h.admin_req(Method::POST, "/organizations")
            .json(&json!({"name": "Res", "label": label})),
    )
    .await;
    assert_eq!(st, 201, "{o}");
    o["id"].as_str().unwrap().to_string()
}

async fn identity_providers(h: &Harness, org: &str) {
    let body = json!({"organizationId": org, "auth0ConnectionId": "auth0-opaque-connection", "name": "Corp SAML", "auth0ConnectionType": "Enterprise"});
    let (st, ip) = send(h.admin_req(Method::POST, "/identity-providers").json(&body)).await;
    assert_eq!(st, 201, "{ip}");
    let mut keys: Vec<_> = ip.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "active",
            "auth0ConnectionId",
            "auth0ConnectionType",
            "createdAt",
            "deletedAt",
            "id",
            "name",
            "organizationId",
            "updatedAt"
        ]
    );
    let id = ip["id"].as_str().unwrap().to_string();
    for (b, f) in [
        (
            json!({"organizationId": org, "auth0ConnectionId": "c", "name": "n", "auth0ConnectionType": "Ldap"}),
            "auth0ConnectionType",
        ),
        (
            json!({"organizationId": org, "auth0ConnectionId": "c", "name": "", "auth0ConnectionType": "Social"}),
            "name",
        ),
        (
            json!({"organizationId": "nope", "auth0ConnectionId": "c", "name": "n", "auth0ConnectionType": "Social"}),
            "organizationId",
        ),
        (
            json!({"organizationId": uuid::Uuid::new_v4(), "auth0ConnectionId": "c", "name": "n", "auth0ConnectionType": "Social"}),
            "organizationId",
        ),
    ] {
        let (st, p) = send(h.admin_req(Method::POST, "/identity-providers").json(&b)).await;
        assert_eq!((st, field(&p)), (400, f.to_string()), "{b} {p}");
    }
    let q =
        format!("/identity-providers?organizationId={org}&auth0ConnectionType=Enterprise,Social");
    let res = h.admin_req(Method::GET, &q).send().await.unwrap();
    assert_eq!(res.headers()["x-total-count"], "1");
    let (st, p) =
        send(h.admin_req(Method::GET, "/identity-providers?auth0ConnectionType=Ldap")).await;
    assert_eq!((st, field(&p)), (400, "auth0ConnectionType".to_string()));
    let (st, p) = send(h.admin_req(Method::GET, "/identity-providers?deleted=perhaps")).await;
    assert_eq!((st, field(&p)), (400, "deleted".to_string()));
    let path = format!("/identity-providers/{id}");
    let (st, up) = send(
        h.admin_req(Method::PUT, &path)
            .json(&json!({"name": "Renamed"})),
    )
    .await;
    assert_eq!((st, &up["name"]), (200, &json!("Renamed")));
    assert!(up["updatedAt"]["epochSecond"].is_i64());
    let (st, p) = send(h.admin_req(Method::PUT, &path).json(&json!({"name": " "}))).await;
    assert_eq!((st, field(&p)), (400, "name".to_string()));
    assert_eq!(
        send(h.admin_req(Method::PUT, &format!("{path}/activate")))
            .await
            .0,
        409
    );
    assert_eq!(
        send(h.admin_req(Method::PUT, &format!("{path}/deactivate")))
            .await
            .0,
        200
    );
    assert_eq!(
        send(h.admin_req(Method::PUT, &format!("{path}/deactivate")))
            .await
            .0,
        409
    );
    // An inactive provider is not embedded in its organization.
    let (_, o) = send(h.admin_req(Method::GET, &format!("/organizations/{org}"))).await;
    assert_eq!(o["identityProviders"], json!([]));
    let (st, d) = send(h.admin_req(Method::DELETE, &path)).await;
    assert_eq!(st, 200);
    assert!(d["deletedAt"]["epochSecond"].is_i64());
    assert_eq!(send(h.admin_req(Method::DELETE, &path)).await.0, 409);
    let res = h
        .admin_req(
            Method::GET,
            &format!("/identity-providers?organizationId={org}"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-total-count"], "0");
    let res = h
        .admin_req(
            Method::GET,
            &format!("/identity-providers?organizationId={org}&deleted=true,false"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-total-count"], "1");
    assert_eq!(
        send(h.admin_req(Method::GET, "/identity-providers/xyz"))
            .await
            .0,
        404
    );
    for kind in ["created", "updated", "deactivated", "deleted"] {
        let ev = h.events(&format!("identity-provider.{kind}")).await;
        assert!(ev.iter().any(|e| e["id"] == id.as_str()), "{kind}");
    }
}

async fn default_roles(h: &Harness, org: &str) {
    let org_id: OrganizationId = org.parse().unwrap();
    let role = h.add_role("Network Group Admin", "Standard", None);
    let body = json!({"organizationId": org, "roleType": "Standard", "roleId": role});
    let (st, dr) = send(h.admin_req(Method::POST, "/default-roles").json(&body)).await;
    assert_eq!(st, 201, "{dr}");
    assert_eq!(dr["name"], "Network Group Admin");
    assert_eq!(dr["deleted"], false);
    assert!(dr["createdBy"].is_string());
    let id = dr["id"].as_str().unwrap().to_string();
    assert_eq!(
        send(h.admin_req(Method::POST, "/default-roles").json(&body))
            .await
            .0,
        409
    );
    // Bad input.
    for (b, f) in [
        (
            json!({"organizationId": org, "roleType": "Standard", "roleId": uuid::Uuid::new_v4()}),
            "roleId",
        ),
        (
            json!({"organizationId": org, "roleType": "Weird", "roleId": role}),
            "roleType",
        ),
        (
            json!({"organizationId": org, "roleType": "Custom", "roleId": role}),
            "roleType",
        ),
        (
            json!({"organizationId": org, "roleType": "Standard", "roleId": "nope"}),
            "roleId",
        ),
    ] {
        let (st, p) = send(h.admin_req(Method::POST, "/default-roles").json(&b)).await;
        assert_eq!((st, field(&p)), (400, f.to_string()), "{b} {p}");
    }
    // A caller allowed to create default roles but not to grant this role: 403.
    let limited = IdentityId::new();
    h.grant(limited, "default-role", "create", Some(org_id), None);
    let other = h.add_role("Other", "Standard", None);
    let tok = h.token(limited, org_id);
    let b = json!({"organizationId": org, "roleType": "Standard", "roleId": other});
    assert_eq!(
        send(h.req(Method::POST, "/default-roles", &tok).json(&b))
            .await
            .0,
        403
    );
    // Holding the role makes it grantable.
    h.grant(limited, "network-group", "read", Some(org_id), Some(other));
    assert_eq!(
        send(h.req(Method::POST, "/default-roles", &tok).json(&b))
            .await
            .0,
        201
    );
    // Embedded in the organization; filtered finds.
    let (_, o) = send(h.admin_req(Method::GET, &format!("/organizations/{org}"))).await;
    assert_eq!(o["defaultRoles"].as_array().unwrap().len(), 2);
    let res = h
        .admin_req(
            Method::GET,
            &format!("/default-roles?organizationId={org}&roleType=Standard&size=1"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-total-count"], "2");
    // Grant: 200 (an empty map: the whole organization) and an event.
    let (st, granted) =
        send(h.admin_req(Method::POST, &format!("/default-roles/{id}/grant"))).await;
    assert_eq!((st, granted), (200, json!({})));
    let ev = h.events("default-role.grant-requested").await;
    assert!(ev.iter().any(|e| e["defaultRoleId"] == id.as_str()
        && e["organizationId"] == org
        && e["roleId"] == role.to_string()));
    // Delete; a deleted one is hidden, can't be granted, and frees the slot.
    let (st, d) = send(h.admin_req(Method::DELETE, &format!("/default-roles/{id}"))).await;
    assert_eq!((st, &d["deleted"]), (200, &json!(true)));
    assert!(d["deletedBy"].is_string());
    assert_eq!(
        send(h.admin_req(Method::DELETE, &format!("/default-roles/{id}")))
            .await
            .0,
        409
    );
    assert_eq!(
        send(h.admin_req(Method::POST, &format!("/default-roles/{id}/grant")))
            .await
            .0,
        409
    );
    let res = h
        .admin_req(
            Method::GET,
            &format!("/default-roles?organizationId={org}&deleted=true"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-total-count"], "1");
    assert_eq!(h.events("default-role.deleted").await.len(), 1);
    // Racing creates of the same default role: exactly one wins.
    let mut tasks = Vec::new();
    for _ in 0..6 {
        let rb = h.admin_req(Method::POST, "/default-roles").json(&body);
        tasks.push(tokio::spawn(async move {
            rb.send().await.unwrap().status().as_u16()
        }));
    }
    let mut codes = Vec::new();
    for t in tasks {
        codes.push(t.await.unwrap());
    }
    assert_eq!(codes.iter().filter(|c| **c == 201).count(), 1, "{codes:?}");
    assert!(codes.iter().all(|c| *c == 201 || *c == 409), "{codes:?}");
}

async fn open_id_providers(h: &Harness, org: &str) {
    let body = json!({"organizationId": org, "name": "ACME OIDC", "clientId": "clientId2", "issuer": "https://auth.example.com/",
        "authorizationEndpoint": "https://token", "tokenEndpoint": "https://user", "userInfoEndpoint": "https://jwks", "jwksUri": "https://iss", "active": true});
    let (st, op) = send(h.admin_req(Method::POST, "/open-id-providers").json(&body)).await;
    assert_eq!(st, 201, "{op}");
    assert_eq!(
        op["issuer"], "https://auth.example.com/",
        "issuer kept exactly"
    );
    for f in [
        "id",
        "organizationId",
        "name",
        "clientId",
        "issuer",
        "authorizationEndpoint",
        "tokenEndpoint",
        "userInfoEndpoint",
        "jwksUri",
        "active",
        "createdBy",
        "createdAt",
        "deletedAt",
        "deletedBy",
        "deleted",
    ] {
        assert!(op.get(f).is_some(), "missing {f}");
    }
    let id = op["id"].as_str().unwrap().to_string();
    for (k, v) in [
        ("issuer", "http://auth.example.com"),
        ("jwksUri", "not a url"),
        ("tokenEndpoint", "http://127.0.0.1/x"),
    ] {
        let mut b = body.clone();
        b[k] = json!(v);
        let (st, p) = send(h.admin_req(Method::POST, "/open-id-providers").json(&b)).await;
        assert_eq!((st, field(&p)), (400, k.to_string()), "{p}");
    }
    let path = format!("/open-id-providers/{id}");
    let (st, p) = send(h.admin_req(Method::PATCH, &path).json(&json!({}))).await;
    assert_eq!((st, field(&p)), (400, "name".to_string()));
    let (st, p) = send(
        h.admin_req(Method::PATCH, &path)
            .json(&json!({"name": null, "active": false, "empty": false})),
    )
    .await;
    assert_eq!((st, &p["active"]), (200, &json!(false)), "{p}");
    let (_, o) = send(h.admin_req(Method::GET, &format!("/organizations/{org}"))).await;
    assert_eq!(o["openIdProviders"][0]["id"], id.as_str());
    let (st, d) = send(h.admin_req(Method::DELETE, &path)).await;
    assert_eq!((st, &d["deleted"]), (200, &json!(true)));
    assert_eq!(
        send(
            h.admin_req(Method::PATCH, &path)
                .json(&json!({"active": true}))
        )
        .await
        .0,
        409
    );
    let res = h
        .admin_req(
            Method::GET,
            &format!("/open-id-providers?organizationId={org}"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-total-count"], "0");
    let ev = h.events("open-id-provider.created").await;
    assert!(ev
        .iter()
        .any(|e| e["id"] == id.as_str() && e["jwksUri"] == "https://iss"));
    assert_eq!(h.events("open-id-provider.deleted").await.len(), 1);
}

async fn preferences(h: &Harness, org: &str) {
    let (st, p) =
        send(h.admin_req(Method::POST, "/organization-preferences").json(
            &json!({"organizationId": org, "preferences": {"first": "my first preference."}}),
        ))
        .await;
    assert_eq!(st, 201, "{p}");
    assert_eq!(p["preferences"]["first"], "my first preference.");
    let id = p["id"].as_str().unwrap().to_string();
    let (st, p2) = send(
        h.admin_req(Method::POST, "/organization-preferences")
            .json(&json!({"organizationId": org, "preferences": {}})),
    )
    .await;
    assert_eq!(st, 409, "{p2}");
    let (st, p2) = send(
        h.admin_req(Method::POST, "/organization-preferences")
            .json(&json!({"organizationId": org, "preferences": "x"})),
    )
    .await;
    assert_eq!((st, field(&p2)), (400, "preferences".to_string()));
    let path = format!("/organization-preferences/{id}");
    let (st, u) = send(
        h.admin_req(Method::PUT, &path)
            .json(&json!({"preferences": {"updated": "second"}})),
    )
    .await;
    assert_eq!(
        (st, &u["preferences"]),
        (200, &json!({"updated": "second"}))
    );
    let res = h
        .admin_req(
            Method::GET,
            &format!("/organization-preferences?organizationId={org}"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-total-count"], "1");
    let (st, d) = send(h.admin_req(Method::DELETE, &path)).await;
    assert_eq!(st, 200);
    assert!(d["deletedAt"]["epochSecond"].is_i64());
    assert_eq!(
        send(h.admin_req(Method::GET, "/organization-preferences/nope"))
            .await
            .0,
        404
    );
}

async fn resources_on(db: TestDatabase) {
    let h = Harness::start(db).await;
    let org = new_org(&h).await;
    identity_providers(&h, &org).await;
    default_roles(&h, &org).await;
    open_id_providers(&h, &org).await;
    preferences(&h, &org).await;
    // A caller without read access sees none of it.
    let nobody = h.token(IdentityId::new(), org.parse().unwrap());
    for p in [
        "/identity-providers",
        "/default-roles",
        "/open-id-providers",
        "/organization-preferences",
    ] {
        let res = h.req(Method::GET, p, &nobody).send().await.unwrap();
        assert_eq!(res.headers()["x-total-count"], "0", "{p}");
    }
    h.stop().await;
}

#[tokio::test]
async fn resources_on_sqlite() {
    resources_on(TestDatabase::sqlite().unwrap()).await;
}

#[tokio::test]
async fn resources_on_postgres() {
    if let Some(db) = TestDatabase::postgres().await {
        resources_on(db).await;
    }
}
