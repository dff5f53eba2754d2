//! An organization the read model does not know yet is asked of its owner (the
//! organization service) with the caller's token before "no such organization";
//! the owner's answer is not written into the read model.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use reqwest::Method;
use serde_json::json;
use uuid::Uuid;
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::*;
use crate::identities::field_of;

type Known = Arc<Mutex<HashMap<Uuid, (bool, bool)>>>;

/// A stand-in organization service: `GET /identity/v1/organizations/{id}` answers
/// the organizations it was told of (active, deleted), 404 otherwise, and keeps the
/// tokens it was called with.
struct OwnerStub {
    url: String,
    known: Known,
    tokens: Arc<Mutex<Vec<String>>>,
    /// Serves as long as the stub lives.
    _server: MockServer,
}

async fn owner_stub() -> OwnerStub {
    let known: Known = Default::default();
    let tokens: Arc<Mutex<Vec<String>>> = Default::default();
    let (k, t) = (known.clone(), tokens.clone());
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path_regex(r"^/identity/v1/organizations/[^/]+$"))
        .respond_with(move |req: &wiremock::Request| {
            let Some(Ok(id)) = req.url.path().rsplit('/').next().map(|s| s.parse::<Uuid>()) else {
                return ResponseTemplate::new(400);
            };
            let auth = req
                .headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            t.lock().unwrap().push(auth);
            match k.lock().unwrap().get(&id) {
                Some((active, deleted)) => ResponseTemplate::new(200).set_body_json(json!({
                    "id": id, "name": "Fresh", "label": "fresh", "active": active,
                    "deleted": deleted, "identityProviders": [], "defaultRoles": []
                })),
                None => ResponseTemplate::new(404),
            }
        })
        .mount(&server)
        .await;
    OwnerStub {
        url: server.uri(),
        known,
        tokens,
        _server: server,
    }
}

async fn create_user(app: &TestApp, token: &str, org: Uuid) -> (u16, serde_json::Value) {
    app.call(
        token,
        Method::POST,
        "/user-identities",
        Some(
            json!({"organizationId": org, "firstName": "Ada", "lastName": "First",
            "email": format!("{}@fresh.test", Uuid::new_v4())}),
        ),
    )
    .await
}

async fn create_api(app: &TestApp, token: &str, org: Uuid) -> (u16, serde_json::Value) {
    app.call(
        token,
        Method::POST,
        "/api-account-identities",
        Some(json!({"organizationId": org, "name": "svc"})),
    )
    .await
}

#[tokio::test]
async fn an_organization_not_seen_yet_is_asked_of_its_owner() {
    let owner = owner_stub().await;
    let database = idp_runtime::testing::TestDatabase::sqlite().unwrap();
    let dir = Arc::new(tempfile::tempdir().unwrap());
    let mut settings = settings_for(&database, dir.path());
    settings.common.organizations.url = owner.url.clone();
    let app = spawn_with(settings, Arc::new(database), dir).await;
    let admin = app.admin_token().await;

    // Created a moment ago: the owner knows it, the read model not yet.
    let fresh = Uuid::new_v4();
    owner.known.lock().unwrap().insert(fresh, (true, false));
    let (s, v) = create_user(&app, &admin, fresh).await;
    assert_eq!(s, 201, "{v}");
    let (s, v) = create_api(&app, &admin, fresh).await;
    assert_eq!(s, 201, "{v}");
    assert!(owner
        .tokens
        .lock()
        .unwrap()
        .iter()
        .all(|t| *t == format!("Bearer {admin}")));
    // Events stay the read model's only writer.
    app.wait_count_with(
        "SELECT COUNT(*) FROM organizations_seen WHERE id = ?",
        vec![fresh.into()],
        0,
    )
    .await;

    // Unknown to the owner, or deleted there: no such organization.
    let deleted = Uuid::new_v4();
    owner.known.lock().unwrap().insert(deleted, (true, true));
    for org in [Uuid::new_v4(), deleted] {
        let (s, v) = create_user(&app, &admin, org).await;
        assert_eq!(s, 400, "{v}");
        assert_eq!(field_of(&v), "organizationId");
        let (s, v) = create_api(&app, &admin, org).await;
        assert_eq!(s, 400, "{v}");
        assert_eq!(field_of(&v), "organizationId");
    }
    app.stop().await;
}

#[tokio::test]
async fn an_unreachable_owner_is_a_503_not_a_400() {
    let database = idp_runtime::testing::TestDatabase::sqlite().unwrap();
    let dir = Arc::new(tempfile::tempdir().unwrap());
    let mut settings = settings_for(&database, dir.path());
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    settings.common.organizations.url = format!("http://127.0.0.1:{port}");
    let app = spawn_with(settings, Arc::new(database), dir).await;
    let admin = app.admin_token().await;
    let (s, v) = create_user(&app, &admin, Uuid::new_v4()).await;
    assert_eq!(s, 503, "{v}");
    // The root organization needs no owner.
    let (s, v) = create_api(&app, &admin, idp_model::ROOT_ORGANIZATION_ID.as_uuid()).await;
    assert_eq!(s, 201, "{v}");
    app.stop().await;
}
