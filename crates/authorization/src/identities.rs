//! Which identities exist, and in which organization: what a grant may name.
//!
//! This service learns of identities from `identity.created` / `identity.deleted`
//! (`known_identities`). An identity created a moment ago may not have arrived yet,
//! so a miss asks the owner, the identity service (`GET
//! /identity/v1/identities/{id}` with the caller's own token), before it is
//! refused: a client that creates an identity and grants it at once never sees
//! "no such identity". The answer is used for this request only; the events stay
//! the only writer of `known_identities`.

use std::time::Duration;

use idp_runtime::auth::Caller;
use idp_runtime::error::ApiResult;
use idp_runtime::organizations::Owner;
use sea_orm::{ConnectionTrait, EntityTrait};
use serde::Deserialize;
use uuid::Uuid;

use crate::store::known_identity;

/// An identity as far as grants care.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Grantee {
    pub organization_id: Uuid,
    pub live: bool,
}

#[derive(Clone)]
pub struct IdentityLookup {
    /// The identity service; it never asks when its URL is empty.
    owner: Owner,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct IdentityAnswer {
    organization_id: Uuid,
    #[serde(default)]
    deleted_at: Option<serde_json::Value>,
}

impl IdentityLookup {
    pub fn new(base: &str, timeout: Duration) -> anyhow::Result<Self> {
        Ok(IdentityLookup {
            owner: Owner::new("identity", base, timeout)?,
        })
    }

    /// The identity, from the events or else from its owner; `None` when neither
    /// knows it (or the caller may not read it there: the same answer, so
    /// existence does not leak). 503 when the owner cannot answer.
    pub async fn find<C: ConnectionTrait>(
        &self,
        db: &C,
        caller: &Caller,
        id: Uuid,
    ) -> ApiResult<Option<Grantee>> {
        if let Some(k) = known_identity::Entity::find_by_id(id).one(db).await? {
            return Ok(Some(Grantee {
                organization_id: k.organization_id,
                live: !k.deleted,
            }));
        }
        let answer: Option<IdentityAnswer> = self
            .owner
            .get(caller, &format!("/identity/v1/identities/{id}"))
            .await?;
        Ok(answer.map(|a| Grantee {
            organization_id: a.organization_id,
            live: a.deleted_at.is_none_or(|d| d.is_null()),
        }))
    }
}
