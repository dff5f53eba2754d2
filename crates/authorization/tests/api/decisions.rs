//! The decision cache (`idp_authorization::decide`): the same answers as the store
//! path it replaces over random grants, and invalidation (a revoked grant is refused
//! on the very next check, here and on another replica).

use std::time::{Duration, Instant};

use idp_authorization::decide::Decider;
use idp_authorization::domain::{self, insert_grant, NewGrant, Target};
use idp_authorization::store::{self, grant, resource_action, resource_type, role, role_action};
use idp_model::authorization::standard_roles as sr;
use idp_model::{IdentityId, OrganizationId};
use idp_runtime::testing::TestDatabase;
use reqwest::Method;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait};
use serde_json::{json, Value};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::harness::{json, token, Harness};

/// splitmix64: a small deterministic generator (the seed is printed on failure).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
}

fn random_path(rng: &mut Rng, max: usize) -> Vec<String> {
    let n = rng.below(max + 1);
    (0..n)
        .map(|_| ["a", "b", "c"][rng.below(3)].to_string())
        .collect()
}

/// Random role and action grants (organization-wide, path-scoped, platform-wide,
/// custom roles, one super admin) straight into a migrated store; then the decider
/// and the old path (`effective_permissions` + `covers`) answer the same questions
/// with the same grant, before and after revoking half of the grants.
async fn same_answers_as_the_store_path(db: TestDatabase) {
    let conn = idp_runtime::db::connect_and_migrate::<store::Migrator>(&db.settings)
        .await
        .unwrap();
    idp_authorization::catalog::seed(&conn, OffsetDateTime::now_utc())
        .await
        .unwrap();
    let seed = OffsetDateTime::now_utc().unix_timestamp_nanos() as u64;
    let mut rng = Rng(seed);
    let types: Vec<(Uuid, String)> = resource_type::Entity::find()
        .all(&conn)
        .await
        .unwrap()
        .into_iter()
        .map(|t| (t.id, t.code))
        .collect();
    let actions: Vec<resource_action::Model> =
        resource_action::Entity::find().all(&conn).await.unwrap();
    let code_of = |a: &resource_action::Model| {
        let t = &types
            .iter()
            .find(|(id, _)| *id == a.resource_type_id)
            .unwrap()
            .1;
        (t.clone(), a.code.clone())
    };
    let orgs: Vec<OrganizationId> = (0..3).map(|_| OrganizationId::new()).collect();
    // Custom roles of random actions, in the first organization.
    let mut roles: Vec<(Uuid, Option<OrganizationId>)> = vec![
        (sr::ORGANIZATION_ADMIN.0, None),
        (sr::ORGANIZATION_READ_ONLY.0, None),
    ];
    for i in 0..4 {
        let id = Uuid::now_v7();
        role::ActiveModel {
            id: Set(id),
            name: Set(format!("custom {i}")),
            role_type: Set("Custom".into()),
            organization_id: Set(Some(orgs[0].as_uuid())),
            base_role_id: Set(None),
            description: Set(None),
            created_by: Set(None),
            created_at: Set(OffsetDateTime::now_utc()),
            last_modified: Set(None),
            deleted_at: Set(None),
        }
        .insert(&conn)
        .await
        .unwrap();
        let mut ids: Vec<Uuid> = (0..6).map(|_| rng.pick(&actions).id).collect();
        ids.sort();
        ids.dedup();
        for a in ids {
            role_action::ActiveModel {
                role_id: Set(id),
                resource_action_id: Set(a),
            }
            .insert(&conn)
            .await
            .unwrap();
        }
        roles.push((id, Some(orgs[0])));
    }
    let identities: Vec<IdentityId> = (0..12).map(|_| IdentityId::new()).collect();
    let super_admin = identities[0];
    insert_grant(
        &conn,
        NewGrant {
            identity: super_admin.as_uuid(),
            target: Target::Role(sr::SUPER_ADMIN.0),
            organization: None,
            path: Vec::new(),
            immutable: true,
            created_by: None,
        },
        None,
        OffsetDateTime::now_utc(),
    )
    .await
    .unwrap();
    let mut made = 0;
    while made < 120 {
        let who = *rng.pick(&identities[1..]);
        let (target, org) = if rng.below(2) == 0 {
            let (r, owner) = *rng.pick(&roles);
            (Target::Role(r), owner.or(Some(*rng.pick(&orgs))))
        } else {
            let org = match rng.below(6) {
                0 => None,
                _ => Some(*rng.pick(&orgs)),
            };
            (Target::Action(rng.pick(&actions).id), org)
        };
        let path = if org.is_some() {
            random_path(&mut rng, 2)
        } else {
            Vec::new()
        };
        let new = NewGrant {
            identity: who.as_uuid(),
            target,
            organization: org.map(|o| o.as_uuid()),
            path,
            immutable: false,
            created_by: None,
        };
        // The same grant twice in one scope is a unique violation: skip it.
        if insert_grant(&conn, new, None, OffsetDateTime::now_utc())
            .await
            .is_ok()
        {
            made += 1;
        }
    }

    let decider = Decider::over_store(conn.clone());
    let world = World {
        conn: conn.clone(),
        decider: decider.clone(),
        actions: actions.iter().map(code_of).collect(),
        orgs: orgs.clone(),
        identities: identities.clone(),
        super_admin,
        seed,
    };
    let allowed = world.compare(&mut rng, "before revocations").await;
    assert!(allowed > 0, "seed {seed}: no question was allowed");

    // Revoke half of the grants (not the super admin's); the decider is told, as
    // the routes tell it after their commit.
    let live: Vec<grant::Model> = grant::Entity::find().all(&conn).await.unwrap();
    for g in live.into_iter().filter(|g| !g.is_immutable) {
        if rng.below(2) == 0 {
            let who = IdentityId(g.identity_id);
            domain::revoke(&conn, g, OffsetDateTime::now_utc())
                .await
                .unwrap();
            decider.invalidate(who);
        }
    }
    world.compare(&mut rng, "after revocations").await;
}

struct World {
    conn: sea_orm::DatabaseConnection,
    decider: Decider,
    /// (type, action) codes of the catalog.
    actions: Vec<(String, String)>,
    orgs: Vec<OrganizationId>,
    identities: Vec<IdentityId>,
    super_admin: IdentityId,
    seed: u64,
}

impl World {
    /// 400 random questions; returns how many were allowed.
    async fn compare(&self, rng: &mut Rng, round: &str) -> usize {
        let seed = self.seed;
        let mut allowed = 0;
        for _ in 0..400 {
            let org = match rng.below(5) {
                0 => None,
                _ => Some(*rng.pick(&self.orgs)),
            };
            let who = *rng.pick(&self.identities);
            let (t, a) = rng.pick(&self.actions).clone();
            let path = random_path(rng, 3);
            let old = domain::effective_permissions(&self.conn, who)
                .await
                .unwrap();
            let want = old.iter().find(|p| p.covers(&t, &a, org, &path));
            let got = self.decider.decide(who, &t, &a, org, &path).await.unwrap();
            assert_eq!(
                want.map(|p| (p.grant_id, p.role_id)),
                got.as_ref().map(|g| (g.grant_id, g.role_id)),
                "{round}: seed {seed}: {who} {t}:{a} in {org:?} at {path:?}"
            );
            allowed += usize::from(got.is_some());
            // The listing is the old path's, in the same order.
            assert_eq!(self.decider.snapshot(who).await.unwrap().permissions(), old);
        }
        // The super admin is allowed everything in the catalog, anywhere.
        for (t, a) in &self.actions {
            let by = self
                .decider
                .decide(self.super_admin, t, a, Some(self.orgs[1]), &["x".into()])
                .await
                .unwrap();
            assert_eq!(by.and_then(|b| b.role_id), Some(sr::SUPER_ADMIN), "{t}:{a}");
        }
        allowed
    }
}

#[tokio::test]
async fn decisions_match_the_store_path_on_sqlite() {
    same_answers_as_the_store_path(TestDatabase::sqlite().unwrap()).await;
}

#[tokio::test]
async fn decisions_match_the_store_path_on_postgres() {
    if let Some(db) = TestDatabase::postgres().await {
        same_answers_as_the_store_path(db).await;
    }
}

async fn check(h: &Harness, base: &str, tok: &str, body: Value) -> bool {
    let res = h
        .client
        .post(format!("{base}/auth/v1/checks"))
        .bearer_auth(tok)
        .json(&body)
        .send()
        .await
        .unwrap();
    json(res, 200).await["allowed"].as_bool().unwrap()
}

/// Grant, check allowed (cached), revoke, the very next check refused; on a second
/// replica (same store, same bus) the refusal arrives by `grant.revoked`, and a
/// role's changed actions by `role.updated`.
async fn revocation_is_seen_at_once(h: Harness) {
    let replica = h.replica().await;
    let org = OrganizationId::new();
    let bob = h.identity(org).await;
    let bob_tok = token(bob, org);
    let read = crate::scenarios::action_id(&h, "user-identity", "read").await;
    let q = json!({"identityId": bob, "action": "read", "resourceType": "user-identity",
                   "organizationId": org, "resourceId": "u1"});
    assert!(!check(&h, &h.base, &bob_tok, q.clone()).await);
    let g = json(
        h.admin(
            Method::POST,
            "/auth/v1/identity-resource-actions",
            Some(json!({"identityId": bob, "resourceActionId": read, "organizationId": org, "path": []})),
        )
        .await,
        201,
    )
    .await;
    // The refusal above was cached; the grant dropped it.
    assert!(check(&h, &h.base, &bob_tok, q.clone()).await);
    assert!(check(&h, &h.base, &bob_tok, q.clone()).await);
    // The replica learns the grant from `grant.created`.
    wait_until(&h, &replica, &bob_tok, &q, true).await;
    assert!(check(&h, &replica, &bob_tok, q.clone()).await);

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
    assert!(!check(&h, &h.base, &bob_tok, q.clone()).await);
    wait_until(&h, &replica, &bob_tok, &q, false).await;

    // A custom role granted to bob; the role loses the action on this replica;
    // the other one learns it from `role.updated`.
    let role = json(
        h.admin(
            Method::POST,
            "/auth/v1/roles",
            Some(json!({"name": "readers", "organizationId": org, "resourceActionIds": [read]})),
        )
        .await,
        201,
    )
    .await;
    json(
        h.admin(
            Method::POST,
            "/auth/v1/identity-roles",
            Some(json!({"identityId": bob, "roleId": role["id"], "organizationId": org})),
        )
        .await,
        201,
    )
    .await;
    assert!(check(&h, &h.base, &bob_tok, q.clone()).await);
    wait_until(&h, &replica, &bob_tok, &q, true).await;
    let update = crate::scenarios::action_id(&h, "user-identity", "update").await;
    json(
        h.admin(
            Method::PUT,
            &format!("/auth/v1/roles/{}", role["id"].as_str().unwrap()),
            Some(json!({"resourceActionIds": [update]})),
        )
        .await,
        200,
    )
    .await;
    assert!(!check(&h, &h.base, &bob_tok, q.clone()).await);
    wait_until(&h, &replica, &bob_tok, &q, false).await;
    // The replica's own permissions listing agrees.
    let perms = json(
        h.client
            .get(format!("{replica}/auth/v1/identities/{bob}/permissions"))
            .bearer_auth(&bob_tok)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    let codes: Vec<&str> = perms
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["action"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["update"]);
    h.stop().await;
}

/// Polls the replica until its answer is `want` (the event is on its way).
async fn wait_until(h: &Harness, base: &str, tok: &str, q: &Value, want: bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while check(h, base, tok, q.clone()).await != want {
        assert!(
            Instant::now() < deadline,
            "the replica never answered {want}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn revocation_is_seen_at_once_on_sqlite() {
    revocation_is_seen_at_once(Harness::start(TestDatabase::sqlite().unwrap()).await).await;
}

#[tokio::test]
async fn revocation_is_seen_at_once_on_postgres() {
    if let Some(db) = TestDatabase::postgres().await {
        revocation_is_seen_at_once(Harness::start(db).await).await;
    }
}
