//! The token-exchange grant (RFC 8693): an ID token from one of an organization's
//! active OpenID providers, verified by the shared [`idp_bearer::oidc`] verifier
//! (JWKS fetched and cached, algorithm, issuer, audience = the provider's client
//! id, expiry), then mapped through identity mappings (external subject + OpenID
//! provider id) to an active user identity of the provider's organization.
//! Nothing is created here.

use idp_bearer::oidc::{self, OpenIdProvider};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::state::AppState;
use crate::store::{identity, mapping, open_id_provider_seen, organization_seen};

/// The OpenID providers' key sets (shared verifier; one per process).
pub type JwksCache = oidc::IdTokenVerifier;

/// The active OpenID providers with `issuer` (of `bound` only, when given), as the
/// verifier needs them.
async fn providers_with_issuer(
    st: &AppState,
    issuer: &str,
    bound: Option<idp_model::OrganizationId>,
) -> Result<Vec<OpenIdProvider>, String> {
    let rows = open_id_provider_seen::Entity::find()
        .filter(open_id_provider_seen::Column::Issuer.eq(issuer))
        .filter(open_id_provider_seen::Column::Active.eq(true))
        .filter(open_id_provider_seen::Column::Deleted.eq(false))
        .all(&st.db)
        .await
        .map_err(|e| format!("provider lookup failed: {e}"))?;
    Ok(rows
        .into_iter()
        .filter(|p| bound.is_none_or(|o| o.as_uuid() == p.organization_id))
        .filter_map(|p| {
            Some(OpenIdProvider {
                id: p.id,
                organization_id: p.organization_id,
                issuer: p.issuer?,
                client_id: p.client_id?,
                jwks_uri: p.jwks_uri?,
            })
        })
        .collect())
}

/// The user identity an ID token stands for, or why it stands for none (the
/// reason is logged, never told to the client beyond `invalid_grant`).
/// `bound`: the organization an `nfToken` bound the login to; only its providers count.
pub async fn subject_identity(
    st: &AppState,
    token: &str,
    bound: Option<idp_model::OrganizationId>,
) -> Result<identity::Model, String> {
    let iss = oidc::unverified_issuer(token).map_err(|e| e.to_string())?;
    let providers = providers_with_issuer(st, &iss, bound).await?;
    if providers.is_empty() {
        return Err(format!(
            "no active OpenID provider with issuer {iss} (in the bound organization)"
        ));
    }
    let (p, claims) = st
        .jwks
        .verify(token, &providers)
        .await
        .map_err(|e| e.to_string())?;
    map_subject(st, p, &claims.sub).await
}

async fn map_subject(
    st: &AppState,
    p: &OpenIdProvider,
    sub: &str,
) -> Result<identity::Model, String> {
    let db_err = |e: sea_orm::DbErr| format!("lookup failed: {e}");
    let org = organization_seen::Entity::find_by_id(p.organization_id)
        .one(&st.db)
        .await
        .map_err(db_err)?;
    if org.is_some_and(|o| !o.active || o.deleted) {
        return Err("the provider's organization is not active".into());
    }
    let m = mapping::Entity::find()
        .filter(mapping::Column::ExternalSubject.eq(sub))
        .filter(mapping::Column::IdentityProviderId.eq(p.id))
        .one(&st.db)
        .await
        .map_err(db_err)?
        .ok_or_else(|| format!("no identity mapped to subject {sub} of provider {}", p.id))?;
    let ident = identity::Entity::find_by_id(m.identity_id)
        .one(&st.db)
        .await
        .map_err(db_err)?
        .ok_or("the mapped identity is gone")?;
    if !ident.active
        || ident.deleted_at.is_some()
        || ident.organization_id != p.organization_id
        || ident.kind != idp_model::token::IdentityType::UserIdentity.as_str()
    {
        return Err("the mapped identity may not sign in".into());
    }
    Ok(ident)
}
