//! B4: CPU per warm authorization decision, in process, over 10,000 identities,
//! 1,000 roles and 100,000 grants: idp-authorization's decision cache
//! (`idp_authorization::decide`) beside the cedar-policy crate answering the same
//! question on the same data.
//!
//! The question: may identity I do action A on resource type T of organization O
//! at path P (the resource's ancestors and its id)? Grants give a role (a set of
//! actions) or one action, organization-wide, narrowed to a path, or platform-wide.
//!
//! The cedar model, as a cedar user would write this RBAC with scopes:
//! - one template per role: `permit(principal == ?principal, action in [the role's
//!   actions], resource in ?resource);` and one per single action
//!   (`action == Action::"type:action"`); each grant links its template with the
//!   identity (`User::"id"`) and its scope: `Platform::"all"` (platform-wide),
//!   `Org::"id"`, or the path node `Node::"org/p1/p2"`;
//! - entities: `Node` → parent node → `Org` → `Platform` (the resource of a check is
//!   the node of its full path, or the organization, or the platform);
//! - actions `Action::"type:action"`.
//!
//! Cedar evaluates every policy of the set it is given, so the main cedar figure
//! gives it only the asking identity's linked policies (the slice a real deployment
//! would load per principal: about 10 policies); the whole 100,000-policy set is
//! measured on a sample too (`cedarWholeSetNsPerCheck`).
//!
//! CPU time: `clock_gettime(CLOCK_THREAD_CPUTIME_ID)` around each side's loop over
//! the same questions (prepared beforehand: request ids and paths built outside the
//! timed loop for both sides). Every answer of both sides is compared; a difference
//! fails the run. Prints one JSON object.
//!
//! Usage: authz-decision-bench [--runs N] [--questions N] [--whole-set-sample N]

use std::collections::{HashMap, HashSet};
use std::hint::black_box;
use std::str::FromStr;
use std::sync::Arc;

use async_trait::async_trait;
use cedar_policy::{
    Authorizer, Context, Decision, Entities, Entity, EntityUid, PolicyId, PolicySet, Request,
    SlotId, Template,
};
use idp_authorization::decide::{Decider, Loader};
use idp_model::authz::EffectivePermission;
use idp_model::{GrantId, IdentityId, OrganizationId, ResourceActionId, RoleId};
use idp_runtime::error::ApiError;
use uuid::Uuid;

const IDENTITIES: usize = 10_000;
const ROLES: usize = 1_000;
const GRANTS: usize = 100_000;
const ORGS: usize = 100;
const PATH_WORDS: usize = 8;

/// splitmix64, seeded: the same data every run.
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
    fn uuid(&mut self) -> Uuid {
        Uuid::from_u128((u128::from(self.next()) << 64) | u128::from(self.next()))
    }
}

#[derive(Clone)]
enum What {
    Role(usize),
    Action(usize),
}

struct GrantRow {
    id: GrantId,
    identity: usize,
    what: What,
    org: Option<usize>,
    path: Vec<String>,
}

struct Data {
    /// (type, action) codes and ids.
    actions: Vec<(String, String, ResourceActionId)>,
    roles: Vec<(RoleId, String, Vec<usize>)>,
    identities: Vec<IdentityId>,
    identity_org: Vec<usize>,
    orgs: Vec<OrganizationId>,
    grants: Vec<GrantRow>,
    by_identity: Vec<Vec<usize>>,
}

fn path_word(rng: &mut Rng) -> String {
    format!("p{}", rng.below(PATH_WORDS))
}

fn dataset() -> Data {
    let mut rng = Rng(0x1d9_b4);
    let actions: Vec<(String, String, ResourceActionId)> =
        idp_authorization::catalog::seeded_actions()
            .into_iter()
            .map(|(t, a)| {
                (
                    t.to_string(),
                    a.to_string(),
                    ResourceActionId(idp_authorization::catalog::action_id(t, a)),
                )
            })
            .collect();
    let mut roles = Vec::with_capacity(ROLES);
    // Role 0: every action (a Super Admin); the others 3..=20 random actions.
    roles.push((
        idp_model::authorization::standard_roles::SUPER_ADMIN,
        "Super Admin".to_string(),
        (0..actions.len()).collect(),
    ));
    for i in 1..ROLES {
        let n = 3 + rng.below(18);
        let mut a: Vec<usize> = (0..n).map(|_| rng.below(actions.len())).collect();
        a.sort_unstable();
        a.dedup();
        roles.push((RoleId(rng.uuid()), format!("role {i}"), a));
    }
    let orgs: Vec<OrganizationId> = (0..ORGS).map(|_| OrganizationId(rng.uuid())).collect();
    let identities: Vec<IdentityId> = (0..IDENTITIES).map(|_| IdentityId(rng.uuid())).collect();
    let identity_org: Vec<usize> = (0..IDENTITIES).map(|i| i % ORGS).collect();
    let mut grants = Vec::with_capacity(GRANTS);
    let mut by_identity = vec![Vec::new(); IDENTITIES];
    // Identity 0 is a platform-wide super admin.
    grants.push(GrantRow {
        id: GrantId(rng.uuid()),
        identity: 0,
        what: What::Role(0),
        org: None,
        path: Vec::new(),
    });
    by_identity[0].push(0);
    while grants.len() < GRANTS {
        let who = rng.below(IDENTITIES);
        let what = if rng.below(10) < 7 {
            What::Role(1 + rng.below(ROLES - 1))
        } else {
            What::Action(rng.below(actions.len()))
        };
        let (org, path) = match rng.below(100) {
            0 => (None, Vec::new()),
            1..=5 => (Some(rng.below(ORGS)), Vec::new()),
            6..=60 => (Some(identity_org[who]), Vec::new()),
            _ => {
                let depth = 1 + rng.below(2);
                (
                    Some(identity_org[who]),
                    (0..depth).map(|_| path_word(&mut rng)).collect(),
                )
            }
        };
        by_identity[who].push(grants.len());
        grants.push(GrantRow {
            id: GrantId(rng.uuid()),
            identity: who,
            what,
            org,
            path,
        });
    }
    Data {
        actions,
        roles,
        identities,
        identity_org,
        orgs,
        grants,
        by_identity,
    }
}

/// One identity's effective permissions, as the store path expands them (grants in
/// order, each role's actions in order).
fn effective(d: &Data, who: usize) -> Vec<EffectivePermission> {
    let mut out = Vec::new();
    for &gi in &d.by_identity[who] {
        let g = &d.grants[gi];
        let (acts, role): (Vec<usize>, Option<usize>) = match g.what {
            What::Role(r) => (d.roles[r].2.clone(), Some(r)),
            What::Action(a) => (vec![a], None),
        };
        for a in acts {
            let (t, c, id) = &d.actions[a];
            out.push(EffectivePermission {
                identity_id: d.identities[who],
                resource_type: t.clone(),
                action: c.clone(),
                resource_action_id: *id,
                organization_id: g.org.map(|o| d.orgs[o]),
                path: g.path.clone(),
                grant_id: g.id,
                role_id: role.map(|r| d.roles[r].0),
                role_name: role.map(|r| d.roles[r].1.clone()),
            });
        }
    }
    out
}

struct MemLoader {
    data: Arc<Data>,
    index: HashMap<IdentityId, usize>,
}

#[async_trait]
impl Loader for MemLoader {
    async fn load(&self, identity: IdentityId) -> Result<Vec<EffectivePermission>, ApiError> {
        Ok(self
            .index
            .get(&identity)
            .map(|&i| effective(&self.data, i))
            .unwrap_or_default())
    }
}

struct Question {
    who: usize,
    action: usize,
    org: Option<usize>,
    path: Vec<String>,
}

/// Half drawn from what the identity holds (usually allowed), half at random
/// (usually denied).
fn questions(d: &Data, n: usize) -> Vec<Question> {
    let mut rng = Rng(0x9_0e57);
    (0..n)
        .map(|_| {
            let who = rng.below(IDENTITIES);
            let mine = &d.by_identity[who];
            if rng.below(2) == 0 && !mine.is_empty() {
                let g = &d.grants[mine[rng.below(mine.len())]];
                let action = match g.what {
                    What::Role(r) => d.roles[r].2[rng.below(d.roles[r].2.len())],
                    What::Action(a) => a,
                };
                let org = g.org.or(Some(rng.below(ORGS)));
                let mut path = g.path.clone();
                for _ in 0..rng.below(3) {
                    path.push(path_word(&mut rng));
                }
                Question {
                    who,
                    action,
                    org,
                    path,
                }
            } else {
                let org = match rng.below(10) {
                    0 => None,
                    1..=6 => Some(d.identity_org[who]),
                    _ => Some(rng.below(ORGS)),
                };
                let depth = if org.is_some() { rng.below(4) } else { 0 };
                Question {
                    who,
                    action: rng.below(d.actions.len()),
                    org,
                    path: (0..depth).map(|_| path_word(&mut rng)).collect(),
                }
            }
        })
        .collect()
}

fn cpu_ns() -> u128 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec we own.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    (ts.tv_sec as u128) * 1_000_000_000 + ts.tv_nsec as u128
}

fn uid(ty: &str, id: &str) -> EntityUid {
    EntityUid::from_str(&format!(
        "{ty}::{}",
        serde_json::Value::String(id.to_string())
    ))
    .unwrap_or_else(|e| fail(&format!("bad entity uid {ty}::{id}: {e}")))
}

fn fail(msg: &str) -> ! {
    eprintln!("authz-decision-bench: {msg}");
    std::process::exit(1)
}

fn scope_uid(d: &Data, org: Option<usize>, path: &[String]) -> EntityUid {
    match org {
        None => uid("Platform", "all"),
        Some(o) if path.is_empty() => uid("Org", &d.orgs[o].to_string()),
        Some(o) => uid("Node", &format!("{}/{}", d.orgs[o], path.join("/"))),
    }
}

/// Every scope entity (with its parents) that `org`/`path` needs.
fn add_scope(
    d: &Data,
    org: Option<usize>,
    path: &[String],
    out: &mut HashMap<EntityUid, HashSet<EntityUid>>,
) {
    out.entry(uid("Platform", "all")).or_default();
    let Some(o) = org else { return };
    out.entry(uid("Org", &d.orgs[o].to_string()))
        .or_default()
        .insert(uid("Platform", "all"));
    for i in 1..=path.len() {
        let me = scope_uid(d, org, &path[..i]);
        let parent = scope_uid(d, org, &path[..i - 1]);
        out.entry(me).or_default().insert(parent);
    }
}

struct Cedar {
    templates: Vec<Template>,
    /// Per identity: its linked policies (templates included).
    slices: Vec<PolicySet>,
    whole: PolicySet,
    entities: Entities,
    action_uids: Vec<EntityUid>,
    user_uids: Vec<EntityUid>,
}

fn template_of(d: &Data, what: &What) -> (usize, String) {
    let act = |a: usize| {
        let (t, c, _) = &d.actions[a];
        format!("Action::{}", serde_json::Value::String(format!("{t}:{c}")))
    };
    match *what {
        What::Role(r) => (
            r,
            format!(
                "permit(principal == ?principal, action in [{}], resource in ?resource);",
                d.roles[r]
                    .2
                    .iter()
                    .map(|&a| act(a))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
        What::Action(a) => (
            ROLES + a,
            format!(
                "permit(principal == ?principal, action == {}, resource in ?resource);",
                act(a)
            ),
        ),
    }
}

fn build_cedar(d: &Data, qs: &[Question]) -> Cedar {
    let mut templates = Vec::with_capacity(ROLES + d.actions.len());
    for r in 0..ROLES {
        let (i, src) = template_of(d, &What::Role(r));
        templates.push(
            Template::parse(Some(PolicyId::new(format!("t{i}"))), src)
                .unwrap_or_else(|e| fail(&format!("template: {e}"))),
        );
    }
    for a in 0..d.actions.len() {
        let (i, src) = template_of(d, &What::Action(a));
        templates.push(
            Template::parse(Some(PolicyId::new(format!("t{i}"))), src)
                .unwrap_or_else(|e| fail(&format!("template: {e}"))),
        );
    }
    let user_uids: Vec<EntityUid> = d
        .identities
        .iter()
        .map(|i| uid("User", &i.to_string()))
        .collect();
    let mut scopes: HashMap<EntityUid, HashSet<EntityUid>> = HashMap::new();
    let link = |set: &mut PolicySet, gi: usize| {
        let g = &d.grants[gi];
        let (t, _) = template_of(d, &g.what);
        let tid = PolicyId::new(format!("t{t}"));
        if set.template(&tid).is_none() {
            set.add_template(templates[t].clone())
                .unwrap_or_else(|e| fail(&format!("add template: {e}")));
        }
        let vals = HashMap::from([
            (SlotId::principal(), user_uids[g.identity].clone()),
            (SlotId::resource(), scope_uid(d, g.org, &g.path)),
        ]);
        set.link(tid, PolicyId::new(format!("g{gi}")), vals)
            .unwrap_or_else(|e| fail(&format!("link: {e}")));
    };
    let mut slices = Vec::with_capacity(IDENTITIES);
    for who in 0..IDENTITIES {
        let mut set = PolicySet::new();
        for &gi in &d.by_identity[who] {
            link(&mut set, gi);
        }
        slices.push(set);
    }
    let mut whole = PolicySet::new();
    for gi in 0..d.grants.len() {
        link(&mut whole, gi);
        let g = &d.grants[gi];
        add_scope(d, g.org, &g.path, &mut scopes);
    }
    for q in qs {
        add_scope(d, q.org, &q.path, &mut scopes);
    }
    let entities = Entities::from_entities(
        scopes
            .into_iter()
            .map(|(u, parents)| Entity::new_no_attrs(u, parents)),
        None,
    )
    .unwrap_or_else(|e| fail(&format!("entities: {e}")));
    let action_uids = d
        .actions
        .iter()
        .map(|(t, c, _)| uid("Action", &format!("{t}:{c}")))
        .collect();
    Cedar {
        templates,
        slices,
        whole,
        entities,
        action_uids,
        user_uids,
    }
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let runs = arg("--runs", 3).max(1);
    let n = arg("--questions", 200_000).max(1);
    let whole_n = arg("--whole-set-sample", 200);
    let t0 = std::time::Instant::now();
    let data = Arc::new(dataset());
    let qs = questions(&data, n);
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap_or_else(|e| fail(&format!("runtime: {e}")));
    let index: HashMap<IdentityId, usize> = data
        .identities
        .iter()
        .enumerate()
        .map(|(i, id)| (*id, i))
        .collect();
    let decider = Decider::new(
        Arc::new(MemLoader {
            data: data.clone(),
            index,
        }),
        IDENTITIES * 2,
    );
    // Warm: every identity loaded once.
    let load_t = cpu_ns();
    let mut perms_total = 0usize;
    for id in &data.identities {
        let s = rt
            .block_on(decider.snapshot(*id))
            .unwrap_or_else(|e| fail(&format!("load: {e:?}")));
        perms_total += s.len();
    }
    let load_ns = (cpu_ns() - load_t) as f64 / IDENTITIES as f64;
    let cedar = build_cedar(&data, &qs);
    let setup_s = t0.elapsed().as_secs_f64();
    // Prepared per question, outside the timed loops.
    let prepared: Vec<(IdentityId, &str, &str, Option<OrganizationId>, EntityUid)> = qs
        .iter()
        .map(|q| {
            let (t, c, _) = &data.actions[q.action];
            (
                data.identities[q.who],
                t.as_str(),
                c.as_str(),
                q.org.map(|o| data.orgs[o]),
                scope_uid(&data, q.org, &q.path),
            )
        })
        .collect();

    let ours_once = || -> (f64, Vec<bool>) {
        let mut answers = Vec::with_capacity(n);
        let start = cpu_ns();
        for (q, (id, t, a, org, _)) in qs.iter().zip(&prepared) {
            let allowed = match decider.cached(*id) {
                Some(s) => s.allows(t, a, *org, &q.path),
                None => fail("a snapshot was not cached"),
            };
            answers.push(black_box(allowed));
        }
        ((cpu_ns() - start) as f64 / n as f64, answers)
    };
    let authorizer = Authorizer::new();
    let cedar_once = |whole: bool, m: usize| -> (f64, Vec<bool>) {
        let mut answers = Vec::with_capacity(m);
        let start = cpu_ns();
        for (q, (_, _, _, _, resource)) in qs.iter().zip(&prepared).take(m) {
            let req = Request::new(
                cedar.user_uids[q.who].clone(),
                cedar.action_uids[q.action].clone(),
                resource.clone(),
                Context::empty(),
                None,
            )
            .unwrap_or_else(|e| fail(&format!("request: {e}")));
            let set = if whole {
                &cedar.whole
            } else {
                &cedar.slices[q.who]
            };
            let r = authorizer.is_authorized(&req, set, &cedar.entities);
            answers.push(black_box(r.decision() == Decision::Allow));
        }
        ((cpu_ns() - start) as f64 / m.max(1) as f64, answers)
    };

    let mut ours = Vec::new();
    let mut theirs = Vec::new();
    let mut allowed = 0usize;
    for _ in 0..runs {
        let (ns, a) = ours_once();
        ours.push(ns);
        let (cns, c) = cedar_once(false, n);
        theirs.push(cns);
        if let Some(i) = a.iter().zip(&c).position(|(x, y)| x != y) {
            let q = &qs[i];
            fail(&format!(
                "answers differ on question {i}: ours {} cedar {} (identity {}, {}:{}, org {:?}, path {:?})",
                a[i], c[i], q.who, data.actions[q.action].0, data.actions[q.action].1,
                q.org, q.path
            ));
        }
        allowed = a.iter().filter(|x| **x).count();
    }
    let whole_n = whole_n.min(n);
    let (whole_ns, whole_answers) = cedar_once(true, whole_n);
    let (_, ours_sample) = ours_once();
    if whole_answers.iter().zip(&ours_sample).any(|(x, y)| x != y) {
        fail("the whole-set cedar answers differ from ours");
    }
    let ours_med = median(ours.clone());
    let cedar_med = median(theirs.clone());
    let out = serde_json::json!({
        "oursNsPerCheck": ours_med,
        "cedarNsPerCheck": cedar_med,
        "ratio": cedar_med / ours_med,
        "oursRuns": ours,
        "cedarRuns": theirs,
        "cedarWholeSetNsPerCheck": whole_ns,
        "cedarWholeSetSample": whole_n,
        "questions": n,
        "allowedFraction": allowed as f64 / n as f64,
        "runs": runs,
        "identities": IDENTITIES,
        "roles": ROLES,
        "grants": data.grants.len(),
        "effectivePermissions": perms_total,
        "cedarTemplates": cedar.templates.len(),
        "cedarPoliciesPerSliceMean": GRANTS as f64 / IDENTITIES as f64,
        "oursColdLoadNsPerIdentity": load_ns,
        "setupSeconds": setup_s,
    });
    println!("{out}");
}
