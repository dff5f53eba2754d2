//! The organization service against a fake of the rest of the platform: a JWKS
//! with a key the test signs tokens with, and an authorization service whose
//! permissions and roles the test sets.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair as RsaPrivate, KeySize};
use aws_lc_rs::signature::{KeyPair, RsaKeyPair, RSA_PKCS1_SHA256};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use idp_model::authz::EffectivePermission;
use idp_model::token::{AccessClaims, IdentityType};
use idp_model::{GrantId, IdentityId, OrganizationId, ResourceActionId, RoleId};
use idp_runtime::testing::{spawn_service, SpawnedService, TestDatabase};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

pub const ISSUER: &str = "https://issuer.test/identity/v1";
pub const RESOURCES: [&str; 5] = [
    "organization",
    "identity-provider",
    "default-role",
    "open-id-provider",
    "organization-preference",
];
pub const ACTIONS: [&str; 4] = ["create", "read", "update", "delete"];

#[derive(Default)]
pub struct Fake {
    pub perms: Mutex<HashMap<IdentityId, Vec<EffectivePermission>>>,
    pub roles: Mutex<HashMap<RoleId, serde_json::Value>>,
    jwks: serde_json::Value,
}

pub struct Harness {
    pub svc: SpawnedService,
    pub fake: Arc<Fake>,
    pub db: sea_orm::DatabaseConnection,
    pub admin: String,
    pair: Arc<RsaKeyPair>,
    kid: String,
    _fake_server: MockServer,
    _db: TestDatabase,
}

/// The id in the `n`-th segment of the request's path.
fn id_at<T: std::str::FromStr>(req: &Request, n: usize) -> Option<T> {
    req.url
        .path()
        .split('/')
        .nth(n)
        .and_then(|s| s.parse().ok())
}

fn permissions(f: &Fake, req: &Request) -> ResponseTemplate {
    let p = id_at::<IdentityId>(req, 4)
        .and_then(|id| f.perms.lock().unwrap().get(&id).cloned())
        .unwrap_or_default();
    ResponseTemplate::new(200).set_body_json(p)
}

fn role(f: &Fake, req: &Request) -> ResponseTemplate {
    match id_at::<RoleId>(req, 4).and_then(|id| f.roles.lock().unwrap().get(&id).cloned()) {
        Some(r) => ResponseTemplate::new(200).set_body_json(r),
        None => ResponseTemplate::new(404),
    }
}

/// `POST /auth/v1/grant-checks` of the stand-in: allowed when the caller holds
/// `grant:create` platform-wide or a permission that comes from each role named
/// (a stand-in; the real rule is the authorization service's, tested there and
/// end to end through the gateway).
fn grant_checks(f: &Fake, req: &Request) -> ResponseTemplate {
    let body: serde_json::Value = serde_json::from_slice(&req.body).unwrap_or_default();
    let caller = req
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .and_then(|t| t.split('.').nth(1))
        .and_then(|p| URL_SAFE_NO_PAD.decode(p).ok())
        .and_then(|p| serde_json::from_slice::<serde_json::Value>(&p).ok())
        .and_then(|c| c["sub"].as_str().and_then(|s| s.parse::<IdentityId>().ok()));
    let perms = caller
        .and_then(|c| f.perms.lock().unwrap().get(&c).cloned())
        .unwrap_or_default();
    let roles: Vec<RoleId> = serde_json::from_value(body["roleIds"].clone()).unwrap_or_default();
    let allowed = roles.iter().all(|r| {
        perms.iter().any(|p| {
            p.role_id == Some(*r)
                || (p.resource_type == "grant"
                    && p.action == "create"
                    && p.organization_id.is_none())
        })
    });
    if allowed {
        ResponseTemplate::new(200)
            .set_body_json(serde_json::json!({"allowed": true, "roleIds": roles}))
    } else {
        ResponseTemplate::new(403).set_body_json(
            serde_json::json!({"type": "urn:problem:forbidden", "title": "Forbidden",
            "status": 403, "detail": "the stand-in says: you do not hold the role"}),
        )
    }
}

impl Harness {
    pub async fn start(db: TestDatabase) -> Harness {
        let der = RsaPrivate::generate(KeySize::Rsa2048)
            .unwrap()
            .as_der()
            .unwrap();
        let pair = RsaKeyPair::from_pkcs8(der.as_ref()).unwrap();
        let public = pair.public_key();
        let n = URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero());
        let e = URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero());
        let kid = "test-key".to_string();
        let fake = Arc::new(Fake {
            jwks: serde_json::json!({"keys": [{"kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid, "n": n, "e": e}]}),
            ..Default::default()
        });
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/jwks"))
            .respond_with(ResponseTemplate::new(200).set_body_json(fake.jwks.clone()))
            .mount(&server)
            .await;
        let f = fake.clone();
        Mock::given(method("GET"))
            .and(path_regex(r"^/auth/v1/identities/[^/]+/permissions$"))
            .respond_with(move |req: &Request| permissions(&f, req))
            .mount(&server)
            .await;
        let f = fake.clone();
        Mock::given(method("GET"))
            .and(path_regex(r"^/auth/v1/roles/[^/]+$"))
            .respond_with(move |req: &Request| role(&f, req))
            .mount(&server)
            .await;
        let f = fake.clone();
        Mock::given(method("POST"))
            .and(path("/auth/v1/grant-checks"))
            .respond_with(move |req: &Request| grant_checks(&f, req))
            .mount(&server)
            .await;
        let fake_url = server.uri();

        let mut settings = idp_organization::Settings::default();
        settings.common.database = db.settings.clone();
        settings.common.verifier.issuer = ISSUER.into();
        settings.common.verifier.jwks_url = format!("{fake_url}/jwks");
        settings.common.verifier.cache_capacity = 0;
        settings.common.authz.url = fake_url.clone();
        settings.common.authz.cache_ttl_ms = 0;
        settings.flow_tokens.secret = idp_runtime::Secret::new("flow-secret".into());
        settings.open_id_providers.allow_http_loopback = false;
        let svc = spawn_service(|deps| idp_organization::build(settings.clone(), deps))
            .await
            .unwrap();
        let conn = idp_runtime::db::connect(&settings.common.database)
            .await
            .unwrap();
        let mut h = Harness {
            svc,
            fake,
            db: conn,
            admin: String::new(),
            pair: Arc::new(pair),
            kid,
            _fake_server: server,
            _db: db,
        };
        let admin = IdentityId::new();
        for rt in RESOURCES {
            for a in ACTIONS {
                h.grant(admin, rt, a, None, None);
            }
        }
        h.grant(admin, "grant", "create", None, None);
        h.admin = h.token(admin, idp_model::ROOT_ORGANIZATION_ID);
        h
    }

    /// A bearer token for `sub` in `org`.
    pub fn token(&self, sub: IdentityId, org: OrganizationId) -> String {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let claims = AccessClaims {
            iss: ISSUER.into(),
            sub,
            aud: "platform".into(),
            iat: now,
            nbf: None,
            exp: now + 600,
            jti: uuid::Uuid::new_v4().to_string(),
            organization_id: org,
            identity_type: IdentityType::ApiAccountIdentity,
        };
        let header = serde_json::json!({"alg": "RS256", "typ": "JWT", "kid": self.kid});
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).unwrap()),
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap())
        );
        let mut sig = vec![0u8; self.pair.public_modulus_len()];
        self.pair
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                input.as_bytes(),
                &mut sig,
            )
            .unwrap();
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(&sig))
    }

    /// Gives `who` the permission `resource_type:action` in `org` (None: platform-wide),
    /// coming from `role` when given.
    pub fn grant(
        &self,
        who: IdentityId,
        resource_type: &str,
        action: &str,
        org: Option<OrganizationId>,
        role: Option<RoleId>,
    ) {
        self.fake
            .perms
            .lock()
            .unwrap()
            .entry(who)
            .or_default()
            .push(EffectivePermission {
                identity_id: who,
                resource_type: resource_type.into(),
                action: action.into(),
                resource_action_id: ResourceActionId::new(),
                organization_id: org,
                path: vec![],
                grant_id: GrantId::new(),
                role_id: role,
                role_name: None,
            });
    }

    /// A role the fake authorization service knows.
    pub fn add_role(&self, name: &str, role_type: &str, org: Option<OrganizationId>) -> RoleId {
        let id = RoleId::new();
        self.fake.roles.lock().unwrap().insert(
            id,
            serde_json::json!({"id": id, "name": name, "roleType": role_type, "organizationId": org}),
        );
        id
    }

    pub fn req(&self, method: reqwest::Method, path: &str, token: &str) -> reqwest::RequestBuilder {
        self.svc
            .client
            .request(method, self.svc.url(&format!("/identity/v1{path}")))
            .bearer_auth(token)
    }

    pub fn admin_req(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.req(method, path, &self.admin)
    }

    /// Events of `kind` in the outbox, oldest first, as their `data`.
    pub async fn events(&self, kind: &str) -> Vec<serde_json::Value> {
        use sea_orm::{ConnectionTrait, Statement};
        let b = self.db.get_database_backend();
        let rows = self
            .db
            .query_all(Statement::from_string(
                b,
                format!("SELECT payload FROM outbox WHERE event_type = '{kind}' ORDER BY seq"),
            ))
            .await
            .unwrap();
        rows.iter()
            .map(|r| {
                let p: String = r.try_get("", "payload").unwrap();
                let v: serde_json::Value = serde_json::from_str(&p).unwrap();
                v["data"].clone()
            })
            .collect()
    }

    pub async fn stop(self) {
        self.svc.stop().await.unwrap();
    }
}

/// Sends and returns (status, JSON body or Null).
pub async fn send(rb: reqwest::RequestBuilder) -> (u16, serde_json::Value) {
    let res = rb.send().await.unwrap();
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
    )
}

/// The field a 400 problem names.
pub fn field(body: &serde_json::Value) -> String {
    body["errors"][0]["field"]
        .as_str()
        .unwrap_or("")
        .to_string()
}
