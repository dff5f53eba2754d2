//! JWKS and discovery: what OAuth 2.0 / OIDC clients and token verifiers read.
//!
//! Two metadata documents describe the issuer `{public_url}/identity/v1`:
//!
//! - OpenID Connect Discovery at `{issuer}/.well-known/openid-configuration` (the
//!   only place: OpenID Discovery §4 puts it under the issuer's path, so the root
//!   `/.well-known/openid-configuration` would describe the issuer `{public_url}`,
//!   which is not this one; the gateway serves none there);
//! - RFC 8414 authorization-server metadata at
//!   `/.well-known/oauth-authorization-server{issuer path}` (§3: the well-known
//!   suffix inserted before the issuer's path) and, for clients that append it to
//!   the issuer as for OpenID, at `{issuer}/.well-known/oauth-authorization-server`.
//!
//! Both advertise what the token endpoint really does: the `client_credentials`
//! and token-exchange grants, client secrets by Basic or form fields. There is no
//! authorization endpoint, so `response_types_supported` is empty; no scopes, no
//! ID tokens or userinfo of the platform's own (the OpenID document still names
//! RS256 and `public` subjects, which OpenID Discovery requires and which are what
//! the access tokens are).
//!
//! `routes` (the paths and answers), `service` (the documents).

pub mod routes;
pub mod service;
