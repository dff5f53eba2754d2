//! Organizations through the service's HTTP API (SQLite and PostgreSQL).

use idp_model::{IdentityId, OrganizationId};
use idp_runtime::testing::TestDatabase;
use reqwest::Method;
use serde_json::json;

use crate::harness::{field, send, Harness};

async fn create(h: &Harness, body: serde_json::Value) -> (u16, serde_json::Value) {
    send(h.admin_req(Method::POST, "/organizations").json(&body)).await
}

async fn organizations_on(db: TestDatabase) {
    let h = Harness::start(db).await;
    let tag = &uuid::Uuid::new_v4().simple().to_string()[..8];
    let label = format!("BEST-{tag}");

    // Create with a first identity provider: 201 and the reference's shape.
    let (st, org) = create(
        &h,
        json!({"name": "Best Corp.", "label": label, "auth0ConnectionId": "auth0-opaque-connection",
               "identityProviderName": "Corp SAML", "auth0ConnectionType": "Enterprise"}),
    )
    .await;
    assert_eq!(st, 201, "{org}");
    for f in [
        "id",
        "name",
        "label",
        "identityProviders",
        "defaultRoles",
        "openIdProviders",
        "active",
        "mfaProvider",
        "createdAt",
        "updatedAt",
        "deletedAt",
        "deleted",
    ] {
        assert!(org.get(f).is_some(), "missing {f}: {org}");
    }
    assert_eq!(org["label"], label.as_str());
    assert_eq!(org["active"], true);
    assert_eq!(org["deleted"], false);
    assert!(org["mfaProvider"].is_null());
    assert!(org["createdAt"]["epochSecond"].is_i64());
    let ip = &org["identityProviders"][0];
    assert_eq!(ip["auth0ConnectionId"], "auth0-opaque-connection");
    assert_eq!(ip["auth0ConnectionType"], "Enterprise");
    assert_eq!(ip["organizationId"], org["id"]);
    assert_eq!(org["defaultRoles"], json!([]));
    let id = org["id"].as_str().unwrap().to_string();
    let created = h.events("organization.created").await;
    assert!(created
        .iter()
        .any(|e| e["id"] == id.as_str() && e["label"] == label.as_str()));

    // Labels are unique among live organizations, case-insensitively.
    let (st, p) = create(&h, json!({"name": "Other", "label": label.to_lowercase()})).await;
    assert_eq!(st, 409, "{p}");

    // Bad input: each a 400 naming the field, nothing created.
    let long = "x".repeat(256);
    for (body, f) in [
        (json!({"name": "A", "label": "has space"}), "label"),
        (json!({"name": "A", "label": ""}), "label"),
        (json!({"name": "A", "label": "x".repeat(64)}), "label"),
        (json!({"name": "", "label": "ok-1"}), "name"),
        (json!({"name": long, "label": "ok-1"}), "name"),
        (json!({"name": 5, "label": "ok-1"}), "name"),
        (json!({"label": "ok-1"}), "name"),
        (
            json!({"name": "A", "label": "ok-1", "auth0ConnectionId": "c", "auth0ConnectionType": "Ldap"}),
            "auth0ConnectionType",
        ),
        (
            json!({"name": "A", "label": "ok-1", "auth0ConnectionId": "c"}),
            "auth0ConnectionType",
        ),
    ] {
        let (st, p) = create(&h, body.clone()).await;
        assert_eq!(st, 400, "{body} -> {p}");
        assert_eq!(field(&p), f, "{body} -> {p}");
    }
    let (st, p) = create(&h, json!({"name": "A", "label": "ok-1", "auth0ConnectionId": "c", "auth0ConnectionType": "Ldap"})).await;
    assert!(
        p["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("Passwordless"),
        "{st} {p}"
    );
    let (st, _) = send(
        h.admin_req(Method::POST, "/organizations")
            .header("content-type", "application/json")
            .body("{not json"),
    )
    .await;
    assert_eq!(st, 400);
    let (_, found) = send(h.admin_req(Method::GET, "/organizations?name=A")).await;
    assert_eq!(found, json!([]), "nothing was created by bad input");

    // Get by id and by label (any case); unknown and non-UUID ids are 404.
    let (st, got) = send(h.admin_req(Method::GET, &format!("/organizations/{id}"))).await;
    assert_eq!((st, &got["id"]), (200, &org["id"]));
    let (st, got) = send(h.admin_req(
        Method::GET,
        &format!("/organizations/label/{}", label.to_lowercase()),
    ))
    .await;
    assert_eq!((st, &got["id"]), (200, &org["id"]));
    for p in [
        format!("/organizations/{}", uuid::Uuid::new_v4()),
        "/organizations/not-a-uuid".into(),
        "/organizations/label/nope-nope-nope".into(),
    ] {
        assert_eq!(send(h.admin_req(Method::GET, &p)).await.0, 404, "{p}");
    }

    // Public authorize-initiate: a flow token and the active connections.
    let (st, ai) = send(
        h.svc
            .client
            .post(h.svc.url("/identity/v1/organizations/authorize-initiate"))
            .json(&json!({"label": label, "intermediateReturnUrl": "http://x"})),
    )
    .await;
    assert_eq!(st, 200, "{ai}");
    assert_eq!(ai["auth0ConnectionIds"], json!(["auth0-opaque-connection"]));
    // The return URL is bounded (2048 characters), and a refused one is not echoed.
    let long = format!("https://x.example/{}", "u".repeat(2048));
    let (st, bad) = send(
        h.svc
            .client
            .post(h.svc.url("/identity/v1/organizations/authorize-initiate"))
            .json(&json!({"label": label, "intermediateReturnUrl": long})),
    )
    .await;
    assert_eq!(st, 400, "{bad}");
    assert_eq!(bad["errors"][0]["field"], "intermediateReturnUrl");
    assert!(!bad.to_string().contains("uuuuuuuu"), "{bad}");
    let tokens = idp_runtime::flow_token::FlowTokens::new(
        b"flow-secret",
        std::time::Duration::from_secs(60),
    );
    assert_eq!(
        tokens
            .verify(ai["nfToken"].as_str().unwrap(), "login")
            .unwrap()
            .to_string(),
        id
    );

    // Deactivate: 200, event, and a second time 409; authorize-initiate then 404.
    let path = format!("/organizations/{id}/deactivate");
    let (st, d) = send(h.admin_req(Method::PUT, &path)).await;
    assert_eq!((st, &d["active"]), (200, &json!(false)), "{d}");
    assert!(d["updatedAt"]["epochSecond"].is_i64());
    assert_eq!(send(h.admin_req(Method::PUT, &path)).await.0, 409);
    let ev = h.events("organization.deactivated").await;
    assert!(ev
        .iter()
        .any(|e| e["id"] == id.as_str() && e["active"] == false));
    let ai = |l: String| {
        h.svc
            .client
            .post(h.svc.url("/identity/v1/organizations/authorize-initiate"))
            .json(&json!({"label": l}))
    };
    assert_eq!(send(ai(label.clone())).await.0, 404);
    assert_eq!(send(ai("no-such-label-xyz".into())).await.0, 404);
    assert_eq!(send(ai("bad label".into())).await.0, 400);
    let (st, _) = send(h.admin_req(Method::PUT, &format!("/organizations/{id}/activate"))).await;
    assert_eq!(st, 200);
    assert_eq!(
        send(h.admin_req(Method::PUT, &format!("/organizations/{id}/explode")))
            .await
            .0,
        404
    );

    // Deprecated add-identity-provider still works.
    let (st, o2) = send(
        h.admin_req(Method::POST, &format!("/organizations/{id}/identity-providers"))
            .json(&json!({"auth0ConnectionId": "conn-2", "identityProviderName": "Corp SAML", "auth0ConnectionType": "Database"})),
    )
    .await;
    assert_eq!(st, 201, "{o2}");
    assert_eq!(o2["identityProviders"].as_array().unwrap().len(), 2);

    // Filters and paging.
    for i in 0..3 {
        let (st, _) = create(
            &h,
            json!({"name": format!("Page {tag}"), "label": format!("pg-{tag}-{i}")}),
        )
        .await;
        assert_eq!(st, 201);
    }
    let res = h
        .admin_req(
            Method::GET,
            &format!("/organizations?name=Page%20{tag}&size=2&page=0"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-total-count"], "3");
    assert!(res.headers()["link"]
        .to_str()
        .unwrap()
        .contains("rel=\"next\""));
    let page: serde_json::Value = res.json().await.unwrap();
    assert_eq!(page.as_array().unwrap().len(), 2);
    let (_, page1) = send(h.admin_req(
        Method::GET,
        &format!("/organizations?name=Page%20{tag}&size=2&page=1"),
    ))
    .await;
    assert_eq!(page1.as_array().unwrap().len(), 1);
    let (_, inactive) = send(h.admin_req(Method::GET, "/organizations?active=false")).await;
    assert!(inactive
        .as_array()
        .unwrap()
        .iter()
        .all(|o| o["active"] == false));
    let (st, p) = send(h.admin_req(Method::GET, "/organizations?active=maybe")).await;
    assert_eq!((st, field(&p)), (400, "active".to_string()));
    let (st, p) = send(h.admin_req(Method::GET, "/organizations?mfaProviders=Sms")).await;
    assert_eq!((st, field(&p)), (400, "mfaProviders".to_string()));
    let (_, mfa) = send(h.admin_req(Method::GET, "/organizations?mfaProviders=None")).await;
    assert!(mfa.as_array().unwrap().len() >= 5);
    let (st, p) = send(h.admin_req(Method::GET, "/organizations?sort=bogus,asc")).await;
    assert_eq!((st, field(&p)), (400, "sort".to_string()));

    // Delete frees the label; deleted ones only with includeDeleted.
    let (st, del) = send(h.admin_req(Method::DELETE, &format!("/organizations/{id}"))).await;
    assert_eq!((st, &del["deleted"]), (200, &json!(true)), "{del}");
    assert!(del["label"].as_str().unwrap().contains(&id));
    assert_eq!(
        send(h.admin_req(Method::DELETE, &format!("/organizations/{id}")))
            .await
            .0,
        409
    );
    let (_, live) = send(h.admin_req(Method::GET, "/organizations?size=1000")).await;
    assert!(!live
        .as_array()
        .unwrap()
        .iter()
        .any(|o| o["id"] == id.as_str()));
    let (_, all) =
        send(h.admin_req(Method::GET, "/organizations?includeDeleted=true&size=1000")).await;
    assert!(all
        .as_array()
        .unwrap()
        .iter()
        .any(|o| o["id"] == id.as_str()));
    let (st, _) = create(&h, json!({"name": "Reborn", "label": label})).await;
    assert_eq!(st, 201, "the label is free again");
    h.stop().await;
}

#[tokio::test]
async fn organizations_on_sqlite() {
    organizations_on(TestDatabase::sqlite().unwrap()).await;
}

#[tokio::test]
async fn organizations_on_postgres() {
    if let Some(db) = TestDatabase::postgres().await {
        organizations_on(db).await;
    }
}

async fn concurrent_label_on(db: TestDatabase) {
    let h = Harness::start(db).await;
    let label = format!("race-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let mut tasks = Vec::new();
    for i in 0..8 {
        let rb = h
            .admin_req(Method::POST, "/organizations")
            .json(&json!({"name": format!("Racer {i}"), "label": label}));
        tasks.push(tokio::spawn(async move {
            rb.send().await.unwrap().status().as_u16()
        }));
    }
    let mut codes = Vec::new();
    for t in tasks {
        codes.push(t.await.unwrap());
    }
    codes.sort();
    assert_eq!(codes.iter().filter(|c| **c == 201).count(), 1, "{codes:?}");
    assert!(codes.iter().all(|c| *c == 201 || *c == 409), "{codes:?}");
    h.stop().await;
}

#[tokio::test]
async fn concurrent_duplicate_label_on_sqlite() {
    concurrent_label_on(TestDatabase::sqlite().unwrap()).await;
}

#[tokio::test]
async fn concurrent_duplicate_label_on_postgres() {
    if let Some(db) = TestDatabase::postgres().await {
        concurrent_label_on(db).await;
    }
}

#[tokio::test]
async fn enforcement_limits_reads_and_changes_to_granted_organizations() {
    let h = Harness::start(TestDatabase::sqlite().unwrap()).await;
    let mut ids = Vec::new();
    for i in 0..2 {
        let (st, o) = create(
            &h,
            json!({"name": "Scoped", "label": format!("scoped-{i}")}),
        )
        .await;
        assert_eq!(st, 201);
        ids.push(o["id"].as_str().unwrap().parse::<OrganizationId>().unwrap());
    }
    let reader = IdentityId::new();
    h.grant(reader, "organization", "read", Some(ids[0]), None);
    let tok = h.token(reader, ids[0]);
    let res = h
        .req(Method::GET, "/organizations?name=Scoped", &tok)
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-total-count"], "1");
    let list: serde_json::Value = res.json().await.unwrap();
    assert_eq!(list[0]["id"], ids[0].to_string());
    assert_eq!(
        send(h.req(Method::GET, &format!("/organizations/{}", ids[0]), &tok))
            .await
            .0,
        200
    );
    assert_eq!(
        send(h.req(Method::GET, &format!("/organizations/{}", ids[1]), &tok))
            .await
            .0,
        404
    );
    assert_eq!(
        send(h.req(Method::GET, "/organizations/label/scoped-1", &tok))
            .await
            .0,
        404
    );
    // Readable but not updatable: 403; not readable: 404.
    assert_eq!(
        send(h.req(
            Method::PUT,
            &format!("/organizations/{}/deactivate", ids[0]),
            &tok
        ))
        .await
        .0,
        403
    );
    assert_eq!(
        send(h.req(
            Method::PUT,
            &format!("/organizations/{}/deactivate", ids[1]),
            &tok
        ))
        .await
        .0,
        404
    );
    let (st, _) = send(
        h.req(Method::POST, "/organizations", &tok)
            .json(&json!({"name": "x", "label": "x-1"})),
    )
    .await;
    assert_eq!(st, 403);
    // Nobody without a grant sees anything; no token is 401.
    let nobody = h.token(IdentityId::new(), ids[0]);
    let res = h
        .req(Method::GET, "/organizations", &nobody)
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-total-count"], "0");
    let res = h
        .svc
        .client
        .get(h.svc.url("/identity/v1/organizations"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    h.stop().await;
}
