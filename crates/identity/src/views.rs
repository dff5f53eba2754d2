//! From stored rows to the reference's representations.

use idp_model::identity::{
    AnyIdentity, ApiAccountIdentity, Identity, IdentityMapping, IdentityPreference, UserIdentity,
};
use idp_model::token::IdentityType;
use idp_model::{IdentityId, OrganizationId, Timestamp};

use crate::store::identity::Model;

pub fn kind_of(m: &Model) -> IdentityType {
    IdentityType::parse(&m.kind).unwrap_or(IdentityType::UserIdentity)
}

pub fn identity(m: &Model) -> Identity {
    Identity {
        id: IdentityId(m.id),
        organization_id: OrganizationId(m.organization_id),
        tenant_id: OrganizationId(m.organization_id),
        name: m.name.clone(),
        email: m.email.clone(),
        kind: kind_of(m),
        active: m.active,
        created_at: m.created_at.into(),
        deleted_at: m.deleted_at.map(Timestamp::from),
    }
}

pub fn api_account(m: &Model, authentication_url: &str) -> ApiAccountIdentity {
    ApiAccountIdentity {
        id: IdentityId(m.id),
        organization_id: OrganizationId(m.organization_id),
        auth0_client_id: None,
        aws_cognito_client_id: m.client_id.clone(),
        authentication_url: authentication_url.to_string(),
        name: m.name.clone(),
        contact_email: m.email.clone(),
        description: m.description.clone(),
        active: m.active,
        created_at: m.created_at.into(),
        updated_at: m.updated_at.map(Timestamp::from),
        deleted_at: m.deleted_at.map(Timestamp::from),
        tenant_id: OrganizationId(m.organization_id),
        email: m.email.clone(),
        kind: IdentityType::ApiAccountIdentity,
    }
}

pub fn user(m: &Model) -> UserIdentity {
    user_with(m, Vec::new())
}

/// A user identity with its mappings.
pub fn user_with(m: &Model, identity_mappings: Vec<IdentityMapping>) -> UserIdentity {
    UserIdentity {
        id: IdentityId(m.id),
        organization_id: OrganizationId(m.organization_id),
        first_name: m.first_name.clone().unwrap_or_default(),
        last_name: m.last_name.clone().unwrap_or_default(),
        email: m.email.clone().unwrap_or_default(),
        identity_mappings,
        active: m.active,
        created_at: m.created_at.into(),
        deleted_at: m.deleted_at.map(Timestamp::from),
        tenant_id: OrganizationId(m.organization_id),
        name: m.name.clone(),
        kind: IdentityType::UserIdentity,
    }
}

/// The full representation of an identity of either type.
pub fn any(m: &Model, authentication_url: &str) -> AnyIdentity {
    match kind_of(m) {
        IdentityType::ApiAccountIdentity => {
            AnyIdentity::ApiAccount(api_account(m, authentication_url))
        }
        IdentityType::UserIdentity => AnyIdentity::User(user(m)),
    }
}

/// The full representation with the user's mappings.
pub fn any_with(
    m: &Model,
    authentication_url: &str,
    identity_mappings: Vec<IdentityMapping>,
) -> AnyIdentity {
    match kind_of(m) {
        IdentityType::ApiAccountIdentity => {
            AnyIdentity::ApiAccount(api_account(m, authentication_url))
        }
        IdentityType::UserIdentity => AnyIdentity::User(user_with(m, identity_mappings)),
    }
}

pub fn preference(p: &crate::store::preference::Model) -> IdentityPreference {
    IdentityPreference {
        id: p.id,
        user_identity_id: IdentityId(p.identity_id),
        preferences: serde_json::from_str(&p.preferences)
            .unwrap_or_else(|_| serde_json::Value::Object(Default::default())),
        created_by: p.created_by.map(IdentityId),
        created_at: p.created_at.into(),
        updated_at: p.updated_at.map(Timestamp::from),
        deleted_by: p.deleted_by.map(IdentityId),
        deleted_at: p.deleted_at.map(Timestamp::from),
    }
}
