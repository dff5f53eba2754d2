//! What only the gateway answers: the root `/.well-known/*` (forwarded to the
//! identity service), its health, readiness and metrics.

// Each function stands for one operation; only its attribute matters.
#![allow(dead_code)]

use utoipa::OpenApi;

use crate::schemas::{AuthorizationServerMetadata, Health, JwkSet};

#[derive(OpenApi)]
#[openapi(
    paths(root_jwks, root_oauth_authorization_server, healthz, readyz, metrics),
    components(schemas(idp_model::Problem, idp_model::FieldError)),
    tags((name = "gateway", description = "The gateway's own endpoints"))
)]
pub struct GatewayApi;

#[utoipa::path(
    get, path = "/.well-known/jwks.json", tag = "tokens", operation_id = "rootJwks",
    summary = "The token signing keys (JWKS), at the root",
    responses((status = 200, description = "As `/identity/v1/.well-known/jwks.json`", body = JwkSet))
)]
fn root_jwks() {}

#[utoipa::path(
    get, path = "/.well-known/oauth-authorization-server/identity/v1", tag = "tokens", operation_id = "rootOauthAuthorizationServer",
    summary = "RFC 8414 metadata of the issuer `/identity/v1` (§3 location)",
    description = "The OpenID discovery document is under the issuer's path only (`/identity/v1/.well-known/openid-configuration`); the root `/.well-known/openid-configuration` is 404.",
    responses((status = 200, description = "As `/identity/v1/.well-known/oauth-authorization-server`", body = AuthorizationServerMetadata))
)]
fn root_oauth_authorization_server() {}

#[utoipa::path(
    get, path = "/healthz", tag = "gateway", operation_id = "healthz",
    summary = "The gateway process is alive",
    responses((status = 200, description = "`{\"status\": \"ok\"}`", body = Health))
)]
fn healthz() {}

#[utoipa::path(
    get, path = "/readyz", tag = "gateway", operation_id = "readyz",
    summary = "The gateway can serve: every upstream and the event bus answer",
    responses(
        (status = 200, description = "`{\"status\": \"ready\"}`", body = Health),
        (status = 503, description = "Not ready; `detail` names what fails"),
    )
)]
fn readyz() {}

#[utoipa::path(
    get, path = "/metrics", tag = "gateway", operation_id = "metrics",
    summary = "Prometheus metrics",
    responses((status = 200, description = "Prometheus text format 0.0.4", body = String, content_type = "text/plain"))
)]
fn metrics() {}
