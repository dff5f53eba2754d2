//! An organization the read model does not know yet is asked of its owner (the
//! organization service) with the caller's token before "no such organization".

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::json;
use uuid::Uuid;
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::support::*;

type Known = Arc<Mutex<HashMap<Uuid, (bool, bool)>>>;

/// A stand-in organization service answering the organizations it was told of
/// (401 without a token, 404 for one it was not told of).
async fn owner_stub() -> (MockServer, Known) {
    let known: Known = Default::default();
    let k = known.clone();
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path_regex(r"^/identity/v1/organizations/[^/]+$"))
        .respond_with(move |req: &Request| {
            if !req.headers.contains_key("authorization") {
                return ResponseTemplate::new(401);
            }
            let segment = req.url.path_segments().and_then(|mut s| s.nth(3));
            let Some(id) = segment.and_then(|s| Uuid::parse_str(s).ok()) else {
                return ResponseTemplate::new(400);
            };
            match k.lock().unwrap().get(&id) {
                Some((active, deleted)) => ResponseTemplate::new(200).set_body_json(json!({
                    "id": id, "name": "Fresh Corp", "label": "fresh",
                    "active": active, "deleted": deleted
                })),
                None => ResponseTemplate::new(404),
            }
        })
        .mount(&server)
        .await;
    (server, known)
}

#[tokio::test]
async fn an_invitation_to_an_organization_not_seen_yet_asks_its_owner() {
    let (owner, known) = owner_stub().await;
    let url = owner.uri();
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
