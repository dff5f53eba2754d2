//! The token endpoint's query: an API account by client id, with its organization.

use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, JoinType, QueryFilter, QuerySelect, RelationDef,
};

use crate::store::{identity, organization_seen};

/// The API account of `client_id` and the organization it belongs to (when this
/// service has seen it), in one query (a LEFT JOIN: an organization not seen yet
/// does not refuse the client).
pub async fn client_with_organization<C: ConnectionTrait>(
    db: &C,
    client_id: &str,
) -> Result<Option<(identity::Model, Option<organization_seen::Model>)>, sea_orm::DbErr> {
    let org: RelationDef = identity::Entity::belongs_to(organization_seen::Entity)
        .from(identity::Column::OrganizationId)
        .to(organization_seen::Column::Id)
        .into();
    identity::Entity::find()
        .filter(identity::Column::ClientId.eq(client_id))
        .select_also(organization_seen::Entity)
        .join(JoinType::LeftJoin, org)
        .one(db)
        .await
}
