//! The platform's OpenAPI 3.1 documents, generated from code.
//!
//! Every operation is declared once, with `#[utoipa::path]`, in the module of its
//! service; bodies are the `idp_model` types the services serialize (and, for
//! requests, documentation mirrors in [`schemas`]). The documents:
//!
//! | function | what | checked in as |
//! | --- | --- | --- |
//! | [`identity()`] | the identity service | `proto-docs/openapi/identity.json` |
//! | [`organization()`] | the organization service | `organization.json` |
//! | [`invitation()`] | the invitation service | `invitation.json` |
//! | [`authorization()`] | the authorization service (`/auth/v1`), served at `/auth/v1/docs/openapi.json` | `authorization.json` |
//! | [`public_identity_v1()`] | `/identity/v1`: identity + organization + invitation, served at `/identity/v1/docs/openapi.json` | `public-identity-v1.json` |
//! | [`gateway()`] | everything the gateway answers: both APIs, `/.well-known/*`, health, metrics | `gateway.json` |
//!
//! What every operation shares is added in one place ([`finish`]): a 401 problem
//! on every operation that needs a bearer token, a 415 on every JSON body, and the
//! `application/problem+json` body of every 4xx/5xx answer declared without a body.
//! `make openapi` rewrites the checked-in files; a test fails when they drift.

pub mod docs;
pub mod schemas;

mod authorization;
mod gateway;
mod identity;
mod invitation;
mod organization;

use utoipa::openapi::content::Content;
use utoipa::openapi::path::Operation;
use utoipa::openapi::response::Response;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{InfoBuilder, OpenApi, Ref, RefOr};
use utoipa::OpenApi as _;

pub use utoipa::openapi::OpenApi as Document;

/// The name of the bearer-token security scheme.
pub const BEARER: &str = "bearer";
pub const PROBLEM_CONTENT_TYPE: &str = idp_model::problem::PROBLEM_CONTENT_TYPE;

/// The identity service's own document.
pub fn identity() -> OpenApi {
    finish(
        identity::IdentityApi::openapi(),
        "Identity service",
        "Identities (user identities and API accounts), identity preferences, and the platform's token issuer (token endpoint, JWKS, OpenID discovery).",
    )
}

/// The organization service's own document.
pub fn organization() -> OpenApi {
    finish(
        organization::OrganizationApi::openapi(),
        "Organization service",
        "Organizations and what belongs to them: identity providers, default roles, OpenID providers, preferences; the login flow's authorize-initiate.",
    )
}

/// The invitation service's own document.
pub fn invitation() -> OpenApi {
    finish(
        invitation::InvitationApi::openapi(),
        "Invitation service",
        "Invitations into organizations (and the public key-based flow) and support requests.",
    )
}

/// The authorization service (`/auth/v1`).
pub fn authorization() -> OpenApi {
    finish(
        authorization::AuthorizationApi::openapi(),
        "Authorization API (/auth/v1)",
        "Resource types and actions, roles, grants of roles and of single actions, permission checks, effective permissions and the ACL. Every endpoint needs a bearer token; reads of what the caller may not read answer 404, changes it may not make 403.",
    )
}

/// Everything under `/identity/v1`, as the gateway routes it to the identity,
/// organization and invitation services.
pub fn public_identity_v1() -> OpenApi {
    let mut api = identity::IdentityApi::openapi();
    api.merge(organization::OrganizationApi::openapi());
    api.merge(invitation::InvitationApi::openapi());
    finish(
        api,
        "Identity API (/identity/v1)",
        "Organizations, identities, invitations and the token issuer. Obtain a token with `POST /identity/v1/oauth/token` and send it as `Authorization: Bearer …`. Reads of what the caller may not read answer 404 (existence does not leak), changes it may not make 403, and lists contain only what the caller may read.",
    )
}

/// The gateway's whole public surface.
pub fn gateway() -> OpenApi {
    let mut api = identity::IdentityApi::openapi();
    api.merge(organization::OrganizationApi::openapi());
    api.merge(invitation::InvitationApi::openapi());
    api.merge(authorization::AuthorizationApi::openapi());
    api.merge(gateway::GatewayApi::openapi());
    finish(
        api,
        "Identity and access platform (gateway)",
        "Everything the gateway answers: `/identity/v1/**` (identity, organization, invitation services), `/auth/v1/**` (authorization service), `/.well-known/*`, and its own health and metrics. The gateway validates bearer tokens before forwarding (401 with `WWW-Authenticate: Bearer error=\"invalid_token\"`), bounds bodies (413) and answers 502/503/504 problems when a service is down or slow.",
    )
}

/// Every document with the stem of its checked-in file (`proto-docs/openapi/{stem}.json`).
pub fn documents() -> Vec<(&'static str, OpenApi)> {
    vec![
        ("identity", identity()),
        ("organization", organization()),
        ("invitation", invitation()),
        ("authorization", authorization()),
        ("public-identity-v1", public_identity_v1()),
        ("gateway", gateway()),
    ]
}

/// A document as its checked-in file holds it: pretty JSON, stable order, a final newline.
pub fn to_json(api: &OpenApi) -> String {
    let mut s = serde_json::to_string_pretty(api).unwrap_or_default();
    s.push('\n');
    s
}

/// Adds what every operation shares (see the crate docs), the info, and the bearer
/// security scheme.
pub fn finish(mut api: OpenApi, title: &str, description: &str) -> OpenApi {
    api.info = InfoBuilder::new()
        .title(title)
        .version(env!("CARGO_PKG_VERSION"))
        .description(Some(description))
        .build();
    let components = api.components.get_or_insert_with(Default::default);
    components.security_schemes.insert(
        BEARER.to_string(),
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .description(Some(
                    "An access token of the platform's token endpoint (RS256 JWT)",
                ))
                .build(),
        ),
    );
    for item in api.paths.paths.values_mut() {
        for op in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
        {
            complete(op);
        }
    }
    api
}

fn problem_response(description: &str) -> Response {
    let mut r = Response::new(description);
    r.content.insert(
        PROBLEM_CONTENT_TYPE.to_string(),
        Content::new(Some(RefOr::Ref(Ref::from_schema_name("Problem")))),
    );
    r
}

fn complete(op: &mut Operation) {
    let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
    let responses = &mut op.responses.responses;
    if secured && !responses.contains_key("401") {
        responses.insert(
            "401".into(),
            RefOr::T(problem_response(
                "No bearer token, or an invalid, expired or revoked one",
            )),
        );
    }
    let json_body = op
        .request_body
        .as_ref()
        .is_some_and(|b| b.content.contains_key("application/json"));
    if json_body && !responses.contains_key("415") {
        responses.insert(
            "415".into(),
            RefOr::T(problem_response("The body is not `application/json`")),
        );
    }
    for (status, response) in responses.iter_mut() {
        let error = status.starts_with('4') || status.starts_with('5');
        if let RefOr::T(r) = response {
            if error && r.content.is_empty() {
                r.content.insert(
                    PROBLEM_CONTENT_TYPE.to_string(),
                    Content::new(Some(RefOr::Ref(Ref::from_schema_name("Problem")))),
                );
            }
        }
    }
}
