//! Asks the authorization service whether the caller may give roles in an
//! organization (`POST /auth/v1/grant-checks`, with the caller's own token), before
//! a change whose grants the authorization service makes later by event: a new
//! identity's default roles, a default role granted to everyone. The rule itself
//! lives in the authorization service alone; this is its client.
//!
//! An allowed answer is kept for the permission cache's lifetime
//! (`authz.cache_ttl_ms`), so the check costs no round trip per create and keeps
//! answering while the authorization service restarts. That is safe: the
//! authorization service applies the rule again to the requester when the event
//! that grants arrives, so a stale "allowed" can never grant more than the
//! requester then holds.

use std::time::Duration;

use idp_model::authorization::GrantCheck;
use idp_model::{IdentityId, OrganizationId, Problem, RoleId};

use crate::auth::Caller;
use crate::authz::AuthzSettings;
use crate::error::{ApiError, ApiResult};

/// Who asked about what: the caller, the organization, the roles (sorted), and
/// whether the default roles were included.
type CheckKey = (IdentityId, OrganizationId, Vec<RoleId>, bool);

#[derive(Clone)]
pub struct GrantChecks {
    url: String,
    http: reqwest::Client,
    /// Allowed answers; `None` when the lifetime is zero.
    allowed: Option<moka::future::Cache<CheckKey, ()>>,
}

impl GrantChecks {
    pub fn new(settings: &AuthzSettings) -> anyhow::Result<Self> {
        Ok(GrantChecks {
            url: format!(
                "{}/auth/v1/grant-checks",
                settings.url.trim_end_matches('/')
            ),
            http: reqwest::Client::builder()
                .no_proxy()
                .timeout(Duration::from_millis(settings.timeout_ms))
                .build()?,
            allowed: (settings.cache_ttl_ms > 0).then(|| {
                moka::future::Cache::builder()
                    .max_capacity(50_000)
                    .time_to_live(Duration::from_millis(settings.cache_ttl_ms))
                    .build()
            }),
        })
    }

    /// `Ok` when the caller may give the organization's default roles there;
    /// else the authorization service's 403 (it names the role and what the
    /// caller lacks), prefixed by `context`.
    pub async fn require_default_roles(
        &self,
        caller: &Caller,
        org: OrganizationId,
        context: &str,
    ) -> ApiResult<()> {
        self.require(
            caller,
            &GrantCheck {
                organization_id: org,
                role_ids: Vec::new(),
                default_roles: true,
            },
            context,
        )
        .await
    }

    /// `Ok` when the caller may give `roles` in `org`.
    pub async fn require_roles(
        &self,
        caller: &Caller,
        org: OrganizationId,
        roles: &[RoleId],
        context: &str,
    ) -> ApiResult<()> {
        self.require(
            caller,
            &GrantCheck {
                organization_id: org,
                role_ids: roles.to_vec(),
                default_roles: false,
            },
            context,
        )
        .await
    }

    async fn require(&self, caller: &Caller, check: &GrantCheck, context: &str) -> ApiResult<()> {
        let mut roles = check.role_ids.clone();
        roles.sort();
        let key: CheckKey = (
            caller.identity_id(),
            check.organization_id,
            roles,
            check.default_roles,
        );
        if let Some(c) = &self.allowed {
            if c.get(&key).await.is_some() {
                return Ok(());
            }
        }
        self.ask(caller, check, context).await?;
        if let Some(c) = &self.allowed {
            c.insert(key, ()).await;
        }
        Ok(())
    }

    async fn ask(&self, caller: &Caller, check: &GrantCheck, context: &str) -> ApiResult<()> {
        let unavailable = || {
            ApiError::from(Problem::service_unavailable(
                "the authorization service is unavailable",
            ))
        };
        let res = self
            .http
            .post(&self.url)
            .bearer_auth(caller.token())
            .json(check)
            .send()
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "authorization service unreachable (grant check)");
                unavailable()
            })?;
        let status = res.status();
        if status.is_success() {
            return Ok(());
        }
        let problem: Option<Problem> = res.json().await.ok();
        match status {
            reqwest::StatusCode::FORBIDDEN => {
                let why = problem.and_then(|p| p.detail).unwrap_or_default();
                Err(ApiError::forbidden(format!("{context}: {why}")))
            }
            // The caller has no say in that organization at all.
            reqwest::StatusCode::NOT_FOUND => Err(ApiError::forbidden(format!(
                "{context}: you may not grant roles in this organization"
            ))),
            reqwest::StatusCode::BAD_REQUEST => Err(ApiError::invalid(
                "roleId",
                problem
                    .and_then(|p| p.detail)
                    .unwrap_or_else(|| "no such role".into()),
            )),
            _ => {
                tracing::error!(%status, "authorization service refused a grant check");
                Err(unavailable())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use std::sync::Arc;

    use super::*;

    /// A stand-in answering every grant check with `status`; it counts the calls.
    struct StandIn(wiremock::MockServer);

    impl StandIn {
        async fn calls(&self) -> usize {
            self.0.received_requests().await.unwrap().len()
        }
        fn url(&self) -> String {
            self.0.uri()
        }
    }

    async fn stand_in(status: u16) -> StandIn {
        let server = wiremock::MockServer::start().await;
        let body = if status == 200 {
            serde_json::json!({"allowed": true, "roleIds": []})
        } else {
            serde_json::json!({"type": "urn:problem:forbidden", "title": "Forbidden",
                               "status": status, "detail": "the role 'R' gives x:y"})
        };
        wiremock::Mock::given(wiremock::matchers::method("POST"))
            .and(wiremock::matchers::path("/auth/v1/grant-checks"))
            .respond_with(wiremock::ResponseTemplate::new(status).set_body_json(body))
            .mount(&server)
            .await;
        StandIn(server)
    }

    fn caller() -> Caller {
        Caller::new(
            Arc::new(idp_model::token::AccessClaims {
                iss: "test".into(),
                sub: IdentityId::new(),
                aud: "platform".into(),
                iat: 0,
                nbf: None,
                exp: i64::MAX,
                jti: "j".into(),
                organization_id: OrganizationId::new(),
                identity_type: idp_model::token::IdentityType::ApiAccountIdentity,
            }),
            "token",
        )
    }

    fn checks(url: &str, ttl_ms: u64) -> GrantChecks {
        GrantChecks::new(&AuthzSettings {
            url: url.into(),
            cache_ttl_ms: ttl_ms,
            timeout_ms: 2000,
        })
        .unwrap()
    }

    #[tokio::test]
    async fn an_allowed_answer_is_kept_for_the_cache_lifetime_and_a_refusal_never() {
        let me = caller();
        let org = OrganizationId::new();
        let ok = stand_in(200).await;
        let kept = checks(&ok.url(), 60_000);
        for _ in 0..3 {
            kept.require_default_roles(&me, org, "ctx").await.unwrap();
        }
        assert_eq!(ok.calls().await, 1, "kept");
        // Another organization or other roles are other questions.
        kept.require_default_roles(&me, OrganizationId::new(), "ctx")
            .await
            .unwrap();
        kept.require_roles(&me, org, &[RoleId::new()], "ctx")
            .await
            .unwrap();
        assert_eq!(ok.calls().await, 3);
        // No lifetime, nothing kept.
        let always = stand_in(200).await;
        let fresh = checks(&always.url(), 0);
        fresh.require_default_roles(&me, org, "ctx").await.unwrap();
        fresh.require_default_roles(&me, org, "ctx").await.unwrap();
        assert_eq!(always.calls().await, 2);
        // A refusal is the service's 403 with its reason, asked again each time.
        let refuser = stand_in(403).await;
        let refusing = checks(&refuser.url(), 60_000);
        for _ in 0..2 {
            match refusing.require_default_roles(&me, org, "ctx").await {
                Err(ApiError::Problem(p)) => {
                    assert_eq!(p.status, 403);
                    let d = p.detail.unwrap_or_default();
                    assert!(d.starts_with("ctx: ") && d.contains("'R'"), "{d}");
                }
                _ => panic!("a refusal"),
            }
        }
        assert_eq!(refuser.calls().await, 2);
    }
}
