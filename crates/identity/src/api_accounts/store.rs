//! The queries of the API-account routes (rows of `identities` of type
//! `ApiAccountIdentity`).

use idp_model::token::IdentityType;
use idp_runtime::error::ApiResult;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::store::identity;

pub const KIND: IdentityType = IdentityType::ApiAccountIdentity;

/// The API account with OAuth client id `client_id`.
pub async fn by_client_id<C: ConnectionTrait>(
    db: &C,
    client_id: &str,
) -> ApiResult<Option<identity::Model>> {
    Ok(identity::Entity::find()
        .filter(identity::Column::ClientId.eq(client_id))
        .filter(identity::Column::Kind.eq(KIND.as_str()))
        .one(db)
        .await?)
}
