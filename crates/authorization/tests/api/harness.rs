//! The service on a free port with its own in-process bus, and tokens minted by a
//! test issuer (a JWKS served by the test) for any identity and organization.

use std::sync::Arc;
use std::time::{Duration, Instant};

use idp_bus::EventBus;
use idp_model::events::{types, Envelope};
use idp_model::{IdentityId, OrganizationId, ROOT_ORGANIZATION_ID};
use idp_runtime::testing::TestDatabase;
use idp_runtime::Shutdown;
use jsonwebtoken::{encode, EncodingKey, Header};
use reqwest::{Method, RequestBuilder, Response};
use serde_json::{json, Value};

const KEY: &str = include_str!("../../../bearer/testdata/a.pem");
const N: &str = include_str!("../../../bearer/testdata/a.n");
const ISS: &str = "http://issuer.test/identity/v1";
const KID: &str = "test-key";

pub struct Harness {
    pub base: String,
    pub client: reqwest::Client,
    pub bus: Arc<dyn EventBus>,
    pub admin: IdentityId,
    pub admin_token: String,
    shutdown: Shutdown,
    handle: tokio::task::JoinHandle<anyhow::Result<()>>,
    replicas: std::sync::Mutex<Vec<tokio::task::JoinHandle<anyhow::Result<()>>>>,
    settings: idp_authorization::Settings,
    _jwks: wiremock::MockServer,
    _db: TestDatabase,
}

/// The test issuer's JWKS, served by a stand-in at `{uri}/jwks.json` for as long
/// as the server is kept.
async fn jwks_server() -> wiremock::MockServer {
    let doc = json!({"keys": [{"kty": "RSA", "kid": KID, "use": "sig", "alg": "RS256", "n": N.trim(), "e": "AQAB"}]});
    let server = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::method("GET"))
        .and(wiremock::matchers::path("/jwks.json"))
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_json(doc))
        .mount(&server)
        .await;
    server
}

pub fn token(identity: IdentityId, org: OrganizationId) -> String {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let claims = json!({
        "iss": ISS, "sub": identity, "aud": "platform", "iat": now, "exp": now + 600,
        "jti": uuid::Uuid::new_v4().to_string(), "organizationId": org,
        "identityType": "ApiAccountIdentity",
    });
    let mut header = Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some(KID.into());
    encode(
        &header,
        &claims,
        &EncodingKey::from_rsa_pem(KEY.as_bytes()).unwrap(),
    )
    .unwrap()
}

impl Harness {
    /// Starts the service and makes a super admin through `identity.created`.
    pub async fn start(db: TestDatabase) -> Harness {
        idp_common::telemetry::init_for_tests();
        let mut settings = idp_authorization::Settings::default();
        settings.common.database = db.settings.clone();
        settings.common.verifier.issuer = ISS.into();
        let jwks = jwks_server().await;
        settings.common.verifier.jwks_url = format!("{}/jwks.json", jwks.uri());
        // No identity service here: grants name identities made with `identity()`.
        settings.identity_url = String::new();
        let bus = idp_bus::connect("", "test", 8).await.unwrap();
        let shutdown = Shutdown::new();
        let listener = idp_runtime::server::bind("127.0.0.1:0").await.unwrap();
        let app = idp_authorization::build(
            settings.clone(),
            idp_runtime::server::Deps {
                bus: bus.clone(),
                clock: idp_runtime::clock::system(),
                shutdown: shutdown.clone(),
                listener: Some(listener),
                start: idp_common::shutdown::Gate::opened(),
            },
        )
        .await
        .unwrap();
        let base = format!("http://{}", app.local_addr());
        let handle = tokio::spawn(app.run());
        let admin = IdentityId::new();
        let h = Harness {
            base,
            client: reqwest::Client::builder().no_proxy().build().unwrap(),
            bus,
            admin,
            admin_token: token(admin, ROOT_ORGANIZATION_ID),
            shutdown,
            handle,
            replicas: std::sync::Mutex::new(Vec::new()),
            settings,
            _jwks: jwks,
            _db: db,
        };
        h.identity_created(admin, ROOT_ORGANIZATION_ID, true).await;
        h.wait_for_permissions(admin, &h.admin_token).await;
        h
    }

    /// A second replica of the service: same store, same bus; its base URL.
    pub async fn replica(&self) -> String {
        let listener = idp_runtime::server::bind("127.0.0.1:0").await.unwrap();
        let app = idp_authorization::build(
            self.settings.clone(),
            idp_runtime::server::Deps {
                bus: self.bus.clone(),
                clock: idp_runtime::clock::system(),
                shutdown: self.shutdown.clone(),
                listener: Some(listener),
                start: idp_common::shutdown::Gate::opened(),
            },
        )
        .await
        .unwrap();
        let base = format!("http://{}", app.local_addr());
        self.replicas.lock().unwrap().push(tokio::spawn(app.run()));
        base
    }

    pub async fn identity_created(&self, id: IdentityId, org: OrganizationId, bootstrap: bool) {
        let e = Envelope::new(
            types::IDENTITY_CREATED,
            "identity",
            Some(org),
            json!({"identityId": id, "organizationId": org, "type": "ApiAccountIdentity",
                   "grantDefaultRoles": false, "bootstrapSuperAdmin": bootstrap}),
            time::OffsetDateTime::now_utc(),
        );
        self.bus.publish(&e).await.unwrap();
    }

    /// A new live identity of `org`, created by the super admin (its
    /// `identity.created` applied: the in-process bus returns once the consumer
    /// acknowledged it).
    pub async fn identity(&self, org: OrganizationId) -> IdentityId {
        let id = IdentityId::new();
        let e = Envelope::new(
            types::IDENTITY_CREATED,
            "identity",
            Some(org),
            json!({"identityId": id, "organizationId": org, "type": "UserIdentity",
                   "grantDefaultRoles": false, "createdBy": self.admin}),
            time::OffsetDateTime::now_utc(),
        );
        self.bus.publish(&e).await.unwrap();
        id
    }

    pub async fn wait_for_permissions(&self, id: IdentityId, token: &str) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let res = self
                .req(
                    Method::GET,
                    &format!("/auth/v1/identities/{id}/permissions"),
                    token,
                )
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 200);
            let v: Vec<Value> = res.json().await.unwrap();
            if !v.is_empty() {
                return v;
            }
            assert!(Instant::now() < deadline, "no permissions for {id}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn req(&self, method: Method, path: &str, token: &str) -> RequestBuilder {
        self.client
            .request(method, format!("{}{}", self.base, path))
            .bearer_auth(token)
    }

    pub async fn admin(&self, method: Method, path: &str, body: Option<Value>) -> Response {
        let tok = self.admin_token.clone();
        self.call(method, path, &tok, body).await
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> Response {
        let mut r = self.req(method, path, token);
        if let Some(b) = body {
            r = r.json(&b);
        }
        r.send().await.unwrap()
    }

    pub async fn stop(self) {
        self.shutdown.trigger();
        let _ = self.handle.await;
        let replicas = std::mem::take(&mut *self.replicas.lock().unwrap());
        for r in replicas {
            let _ = r.await;
        }
    }
}

pub async fn json(res: Response, status: u16) -> Value {
    let s = res.status().as_u16();
    let body = res.text().await.unwrap();
    assert_eq!(s, status, "body: {body}");
    if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&body).unwrap()
    }
}

/// A test on SQLite and one on PostgreSQL (skipped without it outside CI).
macro_rules! both {
    ($name:ident, $pg:ident, $body:ident) => {
        #[tokio::test]
        async fn $name() {
            $body(
                $crate::harness::Harness::start(
                    ::idp_runtime::testing::TestDatabase::sqlite().unwrap(),
                )
                .await,
            )
            .await;
        }
        #[tokio::test]
        async fn $pg() {
            if let Some(db) = ::idp_runtime::testing::TestDatabase::postgres().await {
                $body($crate::harness::Harness::start(db).await).await;
            }
        }
    };
}
pub(crate) use both;
