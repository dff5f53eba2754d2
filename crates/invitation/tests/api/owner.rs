//! An organization the read model does not know yet is asked of its owner (the
//! organization service) with the caller's token before "no such organization".

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::response::IntoResponse;
use serde_json::json;
use uuid::Uuid;

use crate::support::*;

type Known = Arc<Mutex<HashMap<Uuid, (bool, bool)>>>;

/// A stand-in organization service answering the organizations it was told of.
async fn owner_stub() -> (String, Known) {
    let known: Known = Default::default();
    let k = known.clone();
    let app = axum::Router::new().route(
        "/identity/v1/organizations/{id}",
        axum::routing::get(
            move |axum::extract::Path(id): axum::extract::Path<Uuid>,
                  headers: axum::http::HeaderMap| {
                let k = k.clone();
                async move {
                    if headers.get("authorization").is_none() {
                        return axum::http::StatusCode::UNAUTHORIZED.into_response();
                    }
                    match k.lock().unwrap().get(&id) {
                        Some((active, deleted)) => axum::Json(json!({
                            "id": id, "name": "Fresh Corp", "label": "fresh",
                            "active": active, "deleted": deleted
                        }))
                        .into_response(),
                        None => axum::http::StatusCode::NOT_FOUND.into_response(),
                    }
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, known)
}

#[tokio::test]
async fn an_invitation_to_an_organization_not_seen_yet_asks_its_owner() {
    let (url, known) = owner_stub().await;
    let app = spawn(idp_runtime::testing::TestDatabase::sqlite().unwrap(), |s| {
        s.common.organizations.url = url.clone();
    })
    .await;
    let me = Uuid::new_v4();
    let fresh = Uuid::new_v4();
    let inactive = Uuid::new_v4();
    let deleted = Uuid::new_v4();
    {
        let mut k = known.lock().unwrap();
        k.insert(fresh, (true, false));
        k.insert(inactive, (false, false));
        k.insert(deleted, (true, true));
    }
    let invite = |org: Uuid| {
        app.client
            .post(app.url("/invitations"))
            .bearer_auth(app.token(me, fresh))
            .json(&json!({"toOrganizationId": org,
                "invitedEmailAddress": format!("{}@fresh.test", Uuid::new_v4())}))
    };
    let (st, v) = app.send(invite(fresh)).await;
    assert_eq!(st, 201, "{v}");
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM organizations_seen WHERE id = ?",
            vec![fresh.into()]
        )
        .await,
        0,
        "the owner's answer is not written into the read model"
    );
    let (st, v) = app.send(invite(inactive)).await;
    assert_eq!(st, 400, "{v}");
    assert!(v.to_string().contains("deactivated"), "{v}");
    for org in [deleted, Uuid::new_v4()] {
        let (st, v) = app.send(invite(org)).await;
        assert_eq!(st, 400, "{v}");
        assert_eq!(v["errors"][0]["field"], "toOrganizationId", "{v}");
    }
    app.stop().await;
}
