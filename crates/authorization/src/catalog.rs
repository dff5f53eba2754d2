//! The seeded, immutable catalog: the platform's resource types and actions, and the
//! standard roles. Seeding is idempotent and race-safe (insert, ignoring rows that
//! exist), with deterministic ids so every deployment agrees.

use idp_model::authorization::{seeded_id, standard_roles as sr, RoleType};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait, TransactionTrait};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::store::{resource_action, resource_type, role, role_action};

/// The platform's resource types: code and display name (from the one typed list,
/// `idp_model::catalog`).
pub fn resource_types() -> impl Iterator<Item = (&'static str, &'static str)> {
    idp_model::catalog::RESOURCE_TYPES
        .iter()
        .map(|t| (t.code, t.name))
}

/// Every seeded action as (type code, action code).
pub fn seeded_actions() -> Vec<(&'static str, &'static str)> {
    idp_model::catalog::permissions()
        .into_iter()
        .map(|p| (p.resource.code, p.action))
        .collect()
}

pub fn type_id(code: &str) -> Uuid {
    seeded_id(code)
}

pub fn action_id(type_code: &str, action_code: &str) -> Uuid {
    seeded_id(&format!("{type_code}:{action_code}"))
}

fn title(code: &str) -> String {
    code.split('-')
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether a standard role carries `type:action` (also applied to actions
/// registered later, so Super Admin keeps every action).
pub fn standard_role_has(role: Uuid, type_code: &str, action_code: &str) -> bool {
    let role = idp_model::RoleId(role);
    use idp_model::catalog::{self as c, action};
    if role == sr::SUPER_ADMIN {
        true
    } else if role == sr::ORGANIZATION_ADMIN {
        !(type_code == c::RESOURCE_TYPE.code && action_code != action::READ)
    } else if role == sr::ORGANIZATION_READ_ONLY {
        action_code == action::READ
    } else if role == sr::IDENTITY_ADMIN {
        [
            c::USER_IDENTITY,
            c::API_ACCOUNT_IDENTITY,
            c::IDENTITY_PREFERENCE,
            c::INVITATION,
        ]
        .iter()
        .any(|t| t.code == type_code)
    } else if role == sr::NETWORK_GROUP_ADMIN {
        type_code == c::NETWORK_GROUP.code
    } else {
        false
    }
}

pub fn standard_roles() -> [(Uuid, &'static str, &'static str); 5] {
    [
        (
            sr::SUPER_ADMIN.0,
            sr::SUPER_ADMIN_NAME,
            "Every action on every resource",
        ),
        (
            sr::ORGANIZATION_ADMIN.0,
            sr::ORGANIZATION_ADMIN_NAME,
            "Every action except changing the resource-type catalog",
        ),
        (
            sr::ORGANIZATION_READ_ONLY.0,
            sr::ORGANIZATION_READ_ONLY_NAME,
            "Every read action",
        ),
        (
            sr::IDENTITY_ADMIN.0,
            sr::IDENTITY_ADMIN_NAME,
            "Manage user and API-account identities, their preferences and invitations",
        ),
        (
            sr::NETWORK_GROUP_ADMIN.0,
            sr::NETWORK_GROUP_ADMIN_NAME,
            "Manage network groups",
        ),
    ]
}

/// Inserts whatever of the catalog is missing.
pub async fn seed<C>(db: &C, now: OffsetDateTime) -> Result<(), DbErr>
where
    C: ConnectionTrait + TransactionTrait,
{
    let txn = db.begin().await?;
    let types: Vec<resource_type::ActiveModel> = resource_types()
        .map(|(code, name)| resource_type::ActiveModel {
            id: Set(type_id(code)),
            code: Set(code.into()),
            name: Set(name.into()),
            description: Set(Some(format!("{name} resources of the platform"))),
            is_system: Set(true),
            created_at: Set(now),
        })
        .collect();
    resource_type::Entity::insert_many(types)
        .on_conflict(OnConflict::new().do_nothing().to_owned())
        .do_nothing()
        .exec(&txn)
        .await?;
    let actions = seeded_actions();
    let rows: Vec<resource_action::ActiveModel> = actions
        .iter()
        .map(|(t, a)| resource_action::ActiveModel {
            id: Set(action_id(t, a)),
            resource_type_id: Set(type_id(t)),
            code: Set((*a).into()),
            name: Set(format!("{} {}", title(a), title(t))),
            description: Set(None),
            is_system: Set(true),
            created_at: Set(now),
        })
        .collect();
    resource_action::Entity::insert_many(rows)
        .on_conflict(OnConflict::new().do_nothing().to_owned())
        .do_nothing()
        .exec(&txn)
        .await?;
    let roles: Vec<role::ActiveModel> = standard_roles()
        .iter()
        .map(|(id, name, desc)| role::ActiveModel {
            id: Set(*id),
            name: Set((*name).into()),
            role_type: Set(RoleType::Standard.as_str().into()),
            organization_id: Set(None),
            base_role_id: Set(None),
            description: Set(Some((*desc).into())),
            created_by: Set(None),
            created_at: Set(now),
            last_modified: Set(None),
            deleted_at: Set(None),
        })
        .collect();
    role::Entity::insert_many(roles)
        .on_conflict(OnConflict::new().do_nothing().to_owned())
        .do_nothing()
        .exec(&txn)
        .await?;
    let mut links = Vec::new();
    for (rid, _, _) in standard_roles() {
        for (t, a) in &actions {
            if standard_role_has(rid, t, a) {
                links.push(role_action::ActiveModel {
                    role_id: Set(rid),
                    resource_action_id: Set(action_id(t, a)),
                });
            }
        }
    }
    role_action::Entity::insert_many(links)
        .on_conflict(OnConflict::new().do_nothing().to_owned())
        .do_nothing()
        .exec(&txn)
        .await?;
    txn.commit().await
}
