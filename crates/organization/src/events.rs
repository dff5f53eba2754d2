//! The events the organization service publishes (through its outbox, in the
//! transaction of the change they report):
//!
//! | type | by | payload |
//! | --- | --- | --- |
//! | `organization.created`, `.activated`, `.deactivated`, `.deleted` | `organizations` | `organizations::store::event_data` |
//! | `identity-provider.created`, `.updated`, `.activated`, `.deactivated`, `.deleted` | `identity_providers`, `organizations` | the identity provider |
//! | `default-role.created`, `.deleted` | `default_roles` | the default role |
//! | `default-role.grant-requested` | `default_roles` | `default_roles::types::GrantRequested` |
//! | `open-id-provider.created`, `.updated`, `.deleted` | `open_id_providers` | the OpenID provider |

use chrono::{DateTime, Utc};
use idp_model::events::Envelope;
use idp_model::OrganizationId;
use idp_runtime::error::{ApiError, ApiResult};
use sea_orm::DatabaseTransaction;
use serde::Serialize;

/// The `source` of every event of this service.
pub const SOURCE: &str = "organization";

/// Writes one event in the caller's transaction (the outbox).
pub async fn enqueue<T: Serialize>(
    txn: &DatabaseTransaction,
    kind: &str,
    org: Option<OrganizationId>,
    data: &T,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let data = serde_json::to_value(data).map_err(ApiError::internal)?;
    let event = Envelope::new(kind, SOURCE, org, data, now);
    idp_runtime::outbox::enqueue(txn, &event)
        .await
        .map_err(ApiError::internal)?;
    Ok(())
}
