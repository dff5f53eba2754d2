//! The bearer-token extractor ([`Caller`]; its actix-web impl is in `crate::web`).
//! Services verify tokens themselves even behind the
//! gateway (defence in depth: a service reachable inside the cluster must not
//! trust the network).

use std::sync::Arc;

use idp_bearer::{bearer_token, TokenError, Verifier};
use idp_model::token::{AccessClaims, IdentityType};
use idp_model::{IdentityId, OrganizationId};

use crate::error::ApiError;
use crate::request_id::RequestContext;

/// The authenticated caller of a request. Its `Debug` never shows the token.
#[derive(Clone)]
pub struct Caller {
    pub claims: Arc<AccessClaims>,
    /// The bearer token itself, to call other services on the caller's behalf.
    token: Arc<str>,
}

impl std::fmt::Debug for Caller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Caller")
            .field("claims", &self.claims)
            .field("token", &"***")
            .finish()
    }
}

impl Caller {
    pub fn new(claims: Arc<AccessClaims>, token: &str) -> Self {
        Caller {
            claims,
            token: Arc::from(token),
        }
    }
    pub fn token(&self) -> &str {
        &self.token
    }
    pub fn identity_id(&self) -> IdentityId {
        self.claims.sub
    }
    pub fn organization_id(&self) -> OrganizationId {
        self.claims.organization_id
    }
    pub fn identity_type(&self) -> IdentityType {
        self.claims.identity_type
    }
}

fn unauthenticated(err: &TokenError) -> ApiError {
    if *err == TokenError::RevocationsUnavailable {
        // Not the token's fault (the revocations are not known yet): retry later.
        return ApiError::Problem(Box::new(idp_model::problem::Problem::service_unavailable(
            err.to_string(),
        )));
    }
    ApiError::Unauthenticated {
        challenge: err.www_authenticate(),
        detail: err.to_string(),
    }
}

impl Caller {
    /// Verifies the `Authorization` header's bearer token: the caller, or a 401
    /// (503 while the revocations are not known yet). Counts the outcome in the
    /// request's metrics and tells the access log (and the request's span) who
    /// called. Both frameworks' extractors end here.
    pub async fn authenticate(
        verifier: &Verifier,
        header: Option<&str>,
        ctx: Option<&RequestContext>,
        span: &tracing::Span,
    ) -> Result<Caller, ApiError> {
        let refuse = |e: TokenError| {
            if let Some(ctx) = ctx {
                ctx.metrics.record_token(Err(e));
            }
            unauthenticated(&e)
        };
        let header = header.ok_or_else(|| refuse(TokenError::Missing))?;
        let token = bearer_token(header).ok_or_else(|| refuse(TokenError::Malformed))?;
        let claims = verifier.verify(token).await.map_err(refuse)?;
        if let Some(ctx) = ctx {
            ctx.metrics.record_token(Ok(()));
            ctx.set_caller(claims.sub, claims.organization_id);
        }
        span.record("identity_id", tracing::field::display(claims.sub));
        span.record(
            "organization_id",
            tracing::field::display(claims.organization_id),
        );
        Ok(Caller::new(claims, token))
    }
}

/// A caller when a token is present and valid, `None` when there is none (public
/// routes that attach the caller when they can). An invalid token is still a 401.
pub struct MaybeCaller(pub Option<Caller>);
