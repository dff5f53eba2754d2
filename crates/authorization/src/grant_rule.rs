//! The one rule for every grant that comes into being, changes or goes away:
//! nobody may cause a grant they could not make directly.
//!
//! - A grant is made, changed or revoked on behalf of a *requester*: the caller of
//!   the grant API, the creator of an identity (its organization's default roles),
//!   the caller who asked for a default role to be granted to everyone, the
//!   inviter of an accepted invitation.
//! - Platform-wide grants (no organization) are a super admin's alone.
//! - In an organization (optionally narrowed by a path), giving needs `grant:create`
//!   and taking away (revoke, or the old side of a replacement) needs
//!   `grant:delete` over that scope; and either way the requester must itself hold,
//!   in that scope, every action the grant gives (a narrow grant manager can neither
//!   hand out nor take away more than it has).
//!
//! The API routes apply it to the caller's permissions at the time of the request;
//! the event consumer applies it again to the requester's permissions when the
//! event arrives, so a grant made by event never exceeds what its requester holds
//! at either time. [`check`] is the only place the rule is written.

use std::collections::HashMap;

use idp_model::authz::EffectivePermission;
use idp_model::{IdentityId, OrganizationId};
use idp_runtime::error::{ApiError, ApiResult};
use sea_orm::{ConnectionTrait, DbErr};
use uuid::Uuid;

use crate::domain::{actions_with_types, effective_permissions, holds, is_super_admin};
use idp_model::catalog::action;

/// Whether a grant is given or taken away.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    Give,
    Take,
}

impl Change {
    fn grant_action(self) -> &'static str {
        match self {
            Change::Give => action::CREATE,
            Change::Take => action::DELETE,
        }
    }
}

/// What a grant gives: its role (named, for messages) or one action, as the
/// `(resource type, action)` codes it carries.
#[derive(Clone, Debug)]
pub struct Gives {
    pub role_name: Option<String>,
    pub actions: Vec<(String, String)>,
}

/// The rule, applied to the requester's effective permissions: `Ok` when it may
/// make `change` of a grant that `gives`, in `org` at `path`; else 403 saying what
/// it lacks.
pub fn check(
    perms: &[EffectivePermission],
    change: Change,
    org: Option<OrganizationId>,
    path: &[String],
    gives: &Gives,
) -> ApiResult<()> {
    if is_super_admin(perms) {
        return Ok(());
    }
    if org.is_none() {
        return Err(ApiError::forbidden(
            "only a super admin may grant or revoke platform-wide",
        ));
    }
    let act = change.grant_action();
    let verb = match change {
        Change::Give => "grant",
        Change::Take => "change or revoke",
    };
    let what = match &gives.role_name {
        Some(n) => format!("the role '{n}'"),
        None => "this grant".to_string(),
    };
    if !holds(perms, idp_model::catalog::GRANT.code, act, org, path) {
        return Err(ApiError::forbidden(format!(
            "you may not {verb} {what} here: that needs grant:{act} in that scope, which you do not hold"
        )));
    }
    if let Some((t, a)) = gives
        .actions
        .iter()
        .find(|(t, a)| !holds(perms, t, a, org, path))
    {
        return Err(ApiError::forbidden(format!(
            "you may not {verb} {what} here: you can only {verb} what you hold in that scope, \
             and it gives {t}:{a}, which you do not hold"
        )));
    }
    Ok(())
}

/// What a role gives (`role_id` must exist; a role without actions gives nothing).
pub async fn role_gives<C: ConnectionTrait>(
    db: &C,
    role_id: Uuid,
    role_name: &str,
) -> Result<Gives, DbErr> {
    let ids = crate::domain::role_action_ids(db, &[role_id])
        .await?
        .remove(&role_id)
        .unwrap_or_default();
    Ok(Gives {
        role_name: Some(role_name.to_string()),
        actions: actions_with_types(db, &ids)
            .await?
            .into_values()
            .map(|(a, t)| (t, a.code))
            .collect(),
    })
}

/// What one resource action gives (`None` when it does not exist).
pub async fn action_gives<C: ConnectionTrait>(
    db: &C,
    action_id: Uuid,
) -> Result<Option<Gives>, DbErr> {
    Ok(actions_with_types(db, &[action_id])
        .await?
        .remove(&action_id)
        .map(|(a, t)| Gives {
            role_name: None,
            actions: vec![(t, a.code)],
        }))
}

/// The rule for grants made by events: whether `requester` (read from the store
/// in the consumer's transaction) may give the role in `org`. `None` (nobody asked:
/// no requester known) never may. Memoizes each requester's permissions.
pub struct EventRequesters {
    perms: HashMap<Uuid, Vec<EffectivePermission>>,
}

impl EventRequesters {
    pub fn new() -> Self {
        EventRequesters {
            perms: HashMap::new(),
        }
    }

    pub async fn may_give<C: ConnectionTrait>(
        &mut self,
        txn: &C,
        requester: Option<Uuid>,
        org: Uuid,
        gives: &Gives,
    ) -> ApiResult<bool> {
        let Some(r) = requester else {
            return Ok(false);
        };
        if let std::collections::hash_map::Entry::Vacant(e) = self.perms.entry(r) {
            e.insert(effective_permissions(txn, IdentityId(r)).await?);
        }
        let perms = self.perms.get(&r).map(Vec::as_slice).unwrap_or_default();
        Ok(check(perms, Change::Give, Some(OrganizationId(org)), &[], gives).is_ok())
    }
}

impl Default for EventRequesters {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use idp_model::authorization::standard_roles;
    use idp_model::{GrantId, ResourceActionId};

    fn perm(t: &str, a: &str, org: Option<OrganizationId>, path: &[&str]) -> EffectivePermission {
        EffectivePermission {
            identity_id: IdentityId::new(),
            resource_type: t.into(),
            action: a.into(),
            resource_action_id: ResourceActionId::new(),
            organization_id: org,
            path: path.iter().map(|s| s.to_string()).collect(),
            grant_id: GrantId::new(),
            role_id: None,
            role_name: None,
        }
    }

    fn gives(actions: &[(&str, &str)]) -> Gives {
        Gives {
            role_name: Some("Strong".into()),
            actions: actions
                .iter()
                .map(|(t, a)| (t.to_string(), a.to_string()))
                .collect(),
        }
    }

    /// (requester's permissions) × (give, take) × (same organization, other
    /// organization, platform-wide): allowed only where it holds the grant action
    /// and everything the grant gives, in that scope.
    #[test]
    fn the_rule_as_a_matrix() {
        let a = OrganizationId::new();
        let b = OrganizationId::new();
        let strong = gives(&[("organization", "delete"), ("user-identity", "read")]);
        let weak = gives(&[("user-identity", "read")]);
        let mut super_admin = perm("grant", "create", None, &[]);
        super_admin.role_id = Some(standard_roles::SUPER_ADMIN);
        let manager = vec![
            perm("grant", "create", Some(a), &[]),
            perm("grant", "delete", Some(a), &[]),
            perm("user-identity", "read", Some(a), &[]),
        ];
        let admin = vec![
            perm("grant", "create", Some(a), &[]),
            perm("grant", "delete", Some(a), &[]),
            perm("user-identity", "read", Some(a), &[]),
            perm("organization", "delete", Some(a), &[]),
        ];
        let creator_only = vec![perm("api-account-identity", "create", Some(a), &[])];
        let narrowed = vec![
            perm("grant", "create", Some(a), &["x"]),
            perm("user-identity", "read", Some(a), &["x"]),
        ];
        type Case<'a> = (
            &'a str,
            &'a [EffectivePermission],
            Change,
            Option<OrganizationId>,
            &'a [String],
            &'a Gives,
            bool,
        );
        let x = vec!["x".to_string()];
        let none: Vec<String> = vec![];
        let cases: Vec<Case> = vec![
            (
                "manager gives weak in A",
                &manager,
                Change::Give,
                Some(a),
                &none,
                &weak,
                true,
            ),
            (
                "manager gives strong in A",
                &manager,
                Change::Give,
                Some(a),
                &none,
                &strong,
                false,
            ),
            (
                "manager takes weak in A",
                &manager,
                Change::Take,
                Some(a),
                &none,
                &weak,
                true,
            ),
            (
                "manager takes strong in A",
                &manager,
                Change::Take,
                Some(a),
                &none,
                &strong,
                false,
            ),
            (
                "manager gives weak in B",
                &manager,
                Change::Give,
                Some(b),
                &none,
                &weak,
                false,
            ),
            (
                "manager takes weak in B",
                &manager,
                Change::Take,
                Some(b),
                &none,
                &weak,
                false,
            ),
            (
                "manager gives platform-wide",
                &manager,
                Change::Give,
                None,
                &none,
                &weak,
                false,
            ),
            (
                "admin gives strong in A",
                &admin,
                Change::Give,
                Some(a),
                &none,
                &strong,
                true,
            ),
            (
                "admin takes strong in A",
                &admin,
                Change::Take,
                Some(a),
                &none,
                &strong,
                true,
            ),
            (
                "admin gives strong in B",
                &admin,
                Change::Give,
                Some(b),
                &none,
                &strong,
                false,
            ),
            (
                "creator gives weak in A",
                &creator_only,
                Change::Give,
                Some(a),
                &none,
                &weak,
                false,
            ),
            (
                "narrowed gives weak at x",
                &narrowed,
                Change::Give,
                Some(a),
                &x,
                &weak,
                true,
            ),
            (
                "narrowed gives weak in all A",
                &narrowed,
                Change::Give,
                Some(a),
                &none,
                &weak,
                false,
            ),
            (
                "nobody gives weak in A",
                &[],
                Change::Give,
                Some(a),
                &none,
                &weak,
                false,
            ),
        ];
        for (name, perms, change, org, path, g, want) in cases {
            assert_eq!(check(perms, change, org, path, g).is_ok(), want, "{name}");
        }
        let sa = [super_admin];
        for org in [Some(a), Some(b), None] {
            for change in [Change::Give, Change::Take] {
                assert!(check(&sa, change, org, &none, &strong).is_ok());
            }
        }
    }

    #[test]
    fn a_refusal_names_the_role_and_what_is_missing() {
        let a = OrganizationId::new();
        let manager = vec![perm("grant", "create", Some(a), &[])];
        let e = check(
            &manager,
            Change::Give,
            Some(a),
            &[],
            &gives(&[("organization", "delete")]),
        )
        .unwrap_err();
        let body = format!("{e:?}");
        assert!(body.contains("Strong"), "{body}");
        assert!(body.contains("organization:delete"), "{body}");
    }
}
