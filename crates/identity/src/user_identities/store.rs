//! The queries of the user-identity routes (rows of `identities` of type
//! `UserIdentity`, and their `identity_mappings`).

use idp_model::token::IdentityType;
use idp_runtime::error::{ApiError, ApiResult};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::store::{identity, mapping, open_id_provider_seen, provider_seen};

pub const KIND: IdentityType = IdentityType::UserIdentity;
pub const EMAIL_TAKEN: &str = "a user identity with this email already exists in the organization";

/// 409 when another live user identity of `org` has `email`.
pub async fn ensure_email_free<C: ConnectionTrait>(
    db: &C,
    org: Uuid,
    email: &str,
    except: Option<Uuid>,
) -> ApiResult<()> {
    let mut q = identity::Entity::find()
        .filter(identity::Column::Kind.eq(KIND.as_str()))
        .filter(identity::Column::OrganizationId.eq(org))
        .filter(identity::Column::Email.eq(email))
        .filter(identity::Column::DeletedAt.is_null());
    if let Some(id) = except {
        q = q.filter(identity::Column::Id.ne(id));
    }
    if q.one(db).await?.is_some() {
        return Err(ApiError::conflict(EMAIL_TAKEN));
    }
    Ok(())
}

/// The mapping of a login (external subject at a provider).
pub async fn mapping_of<C: ConnectionTrait>(
    db: &C,
    subject: &str,
    provider: Uuid,
) -> ApiResult<Option<mapping::Model>> {
    Ok(mapping::Entity::find()
        .filter(mapping::Column::ExternalSubject.eq(subject))
        .filter(mapping::Column::IdentityProviderId.eq(provider))
        .one(db)
        .await?)
}

/// The organization of a live identity provider, or of a live OpenID provider
/// (whose ID tokens the token-exchange grant maps through identity mappings).
pub async fn organization_of_provider<C: ConnectionTrait>(
    db: &C,
    provider: Uuid,
) -> ApiResult<Option<Uuid>> {
    Ok(
        match provider_seen::Entity::find_by_id(provider).one(db).await? {
            Some(p) if !p.deleted => Some(p.organization_id),
            Some(_) => None,
            None => open_id_provider_seen::Entity::find_by_id(provider)
                .one(db)
                .await?
                .filter(|p| !p.deleted)
                .map(|p| p.organization_id),
        },
    )
}
