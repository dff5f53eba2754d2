//! What a default role needs from the authorization service: that the role exists
//! (and its name), and that the caller may grant it there (the authorization
//! service's one grant rule, asked through `POST /auth/v1/grant-checks`).

use idp_model::organization::RoleType;
use idp_model::Problem;
use idp_model::{OrganizationId, RoleId};
use idp_runtime::auth::Caller;
use idp_runtime::error::{ApiError, ApiResult};
use serde::Deserialize;

use crate::state::AppState;

/// The fields of `GET /auth/v1/roles/{id}` this service reads.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Role {
    pub name: String,
    pub role_type: Option<String>,
    pub organization_id: Option<OrganizationId>,
}

/// The role, read with the caller's token: 400 naming `roleId` when it does not
/// exist (or the caller cannot see it), 503 when the service cannot answer.
pub async fn fetch(s: &AppState, caller: &Caller, role_id: RoleId) -> ApiResult<Role> {
    let url = format!("{}/auth/v1/roles/{role_id}", s.authz_url);
    let res = s
        .http
        .get(&url)
        .bearer_auth(caller.token())
        .send()
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "authorization service unreachable");
            ApiError::from(Problem::service_unavailable(
                "the authorization service is unavailable",
            ))
        })?;
    let status = res.status();
    if status == reqwest::StatusCode::NOT_FOUND
        || status == reqwest::StatusCode::FORBIDDEN
        || status == reqwest::StatusCode::BAD_REQUEST
    {
        return Err(ApiError::invalid("roleId", "no such role"));
    }
    if !status.is_success() {
        tracing::error!(%status, "authorization service refused the role lookup");
        return Err(
            Problem::service_unavailable("the authorization service refused the request").into(),
        );
    }
    res.json::<Role>()
        .await
        .map_err(|e| ApiError::internal(anyhow::anyhow!("bad role answer: {e}")))
}

/// Checks the role against the default role asked for.
pub fn check_role(role: &Role, role_type: RoleType, org: OrganizationId) -> ApiResult<()> {
    if let Some(t) = &role.role_type {
        if t != role_type.as_str() {
            return Err(ApiError::invalid(
                "roleType",
                format!("the role is a {t} role"),
            ));
        }
    }
    if role_type == RoleType::Custom {
        if let Some(o) = role.organization_id {
            if o != org {
                return Err(ApiError::invalid(
                    "roleId",
                    "the custom role belongs to another organization",
                ));
            }
        }
    }
    Ok(())
}

/// 403 naming the role and what the caller lacks, unless the caller may grant
/// `role` in `org` (a default role is granted in the caller's name: to every
/// identity it creates, and to everyone by `POST /default-roles/{id}/grant`).
pub async fn require_may_grant(
    s: &AppState,
    caller: &Caller,
    role: RoleId,
    org: OrganizationId,
) -> ApiResult<()> {
    s.grant_checks
        .require_roles(caller, org, &[role], "you cannot grant this role here")
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_checks() {
        let org = OrganizationId::new();
        let r = Role {
            name: "n".into(),
            role_type: Some("Standard".into()),
            organization_id: None,
        };
        assert!(check_role(&r, RoleType::Standard, org).is_ok());
        assert!(check_role(&r, RoleType::Custom, org).is_err());
        let c = Role {
            name: "n".into(),
            role_type: Some("Custom".into()),
            organization_id: Some(OrganizationId::new()),
        };
        assert!(check_role(&c, RoleType::Custom, org).is_err());
    }
}
