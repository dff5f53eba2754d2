//! Asking the organization service, the owner of organizations, about one of them.
//!
//! The identity and the invitation service learn of organizations from
//! `organization.*` events (the read model `organizations_seen`). An organization
//! created a moment ago may not have reached that read model yet; a client that
//! creates an organization and then its first member must not be told "no such
//! organization". So a service that does not know an organization asks its owner
//! (`GET /identity/v1/organizations/{id}` with the caller's own token) before
//! refusing. The answer is used for that one request only: it is never written
//! into the read model, whose only writer stays the events.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::Caller;
use crate::error::ApiError;

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OrganizationsSettings {
    /// Base URL of the organization service. Default `http://127.0.0.1:8082`;
    /// empty: never ask (only the read model answers).
    pub url: String,
    /// Timeout of one call to the organization service. Default 2000 ms.
    pub timeout_ms: u64,
}

impl Default for OrganizationsSettings {
    fn default() -> Self {
        OrganizationsSettings {
            url: "http://127.0.0.1:8082".into(),
            timeout_ms: 2000,
        }
    }
}

/// What the owner says of an organization.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OwnerAnswer {
    pub active: bool,
    #[serde(default)]
    pub deleted: bool,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub label: Option<String>,
}

/// The client of the owner: cheap to clone.
/// The owner of a resource, asked over HTTP with the caller's own token when a
/// read model has not seen the resource yet (`GET {base}{path}`): the answer, or
/// `None` when the owner does not know it or the caller may not read it (the same
/// answer, so existence does not leak); 503 when the owner cannot answer. Used
/// for organizations here and for identities by the authorization service.
#[derive(Clone, Debug)]
pub struct Owner {
    /// What the owner is called in messages and logs.
    name: &'static str,
    /// `None`: never ask (only what the events told).
    base: Option<String>,
    http: reqwest::Client,
}

impl Owner {
    pub fn new(name: &'static str, base: &str, timeout: Duration) -> anyhow::Result<Self> {
        let base = base.trim().trim_end_matches('/');
        Ok(Owner {
            name,
            base: (!base.is_empty()).then(|| base.to_string()),
            http: reqwest::Client::builder()
                .no_proxy()
                .timeout(timeout)
                .build()?,
        })
    }

    pub async fn get<T: serde::de::DeserializeOwned>(
        &self,
        caller: &Caller,
        path: &str,
    ) -> Result<Option<T>, ApiError> {
        let Some(base) = &self.base else {
            return Ok(None);
        };
        let name = self.name;
        let unavailable = || {
            ApiError::Problem(Box::new(idp_model::Problem::service_unavailable(format!(
                "the {name} service is unavailable"
            ))))
        };
        let res = self
            .http
            .get(format!("{base}{path}"))
            .bearer_auth(caller.token())
            .send()
            .await
            .map_err(|e| {
                tracing::error!(error = %e, service = name, "owner unreachable");
                unavailable()
            })?;
        let status = res.status();
        if status.is_success() {
            return res.json::<T>().await.map(Some).map_err(|e| {
                tracing::error!(error = %e, service = name, "bad answer of the owner");
                unavailable()
            });
        }
        match status.as_u16() {
            400 | 401 | 403 | 404 => Ok(None),
            _ => {
                tracing::error!(%status, service = name, "the owner refused the lookup");
                Err(unavailable())
            }
        }
    }
}

/// The organization service, asked about organizations not seen yet.
#[derive(Clone, Debug)]
pub struct OrganizationOwner(Owner);

impl OrganizationOwner {
    pub fn new(settings: &OrganizationsSettings) -> anyhow::Result<Self> {
        Ok(OrganizationOwner(Owner::new(
            "organization",
            &settings.url,
            Duration::from_millis(settings.timeout_ms),
        )?))
    }

    pub async fn lookup(&self, caller: &Caller, id: Uuid) -> Result<Option<OwnerAnswer>, ApiError> {
        self.0
            .get(caller, &format!("/identity/v1/organizations/{id}"))
            .await
    }
}
