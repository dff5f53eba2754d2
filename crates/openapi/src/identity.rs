//! The identity service: identities, user and API-account identities, identity
//! preferences, the token endpoint, JWKS and discovery, and its served documents.

// Each function stands for one operation; only its attribute matters.
#![allow(dead_code)]

use idp_model::identity::{
    AnyIdentity, ApiAccountIdentity, CreatedApiAccount, IdentityPreference, UserIdentity,
};
use idp_model::token::{OAuthError, TokenResponse};
use utoipa::OpenApi;

use crate::schemas::*;

#[derive(OpenApi)]
#[openapi(
    paths(
        find_identities,
        get_self,
        get_identity,
        find_user_identities,
        create_user_identity,
        get_user_identity,
        update_user_identity,
        delete_user_identity,
        get_user_identity_by_mapping,
        user_identity_activation,
        reset_mfa,
        create_mapping,
        find_api_account_identities,
        create_api_account_identity,
        get_api_account_identity,
        update_api_account_identity,
        delete_api_account_identity,
        get_api_account_identity_by_mapping,
        api_account_identity_activation,
        find_identity_preferences,
        create_identity_preference,
        get_identity_preference,
        update_identity_preference,
        delete_identity_preference,
        token,
        jwks,
        openid_configuration,
        oauth_authorization_server,
        crate::docs::identity_document,
        crate::docs::identity_page,
    ),
    components(schemas(idp_model::Problem, idp_model::FieldError)),
    tags(
        (name = "identities", description = "Every identity, whatever its type"),
        (name = "user-identities", description = "People's identities and their logins at identity providers"),
        (name = "api-account-identities", description = "Machine credentials: OAuth 2.0 clients of the token endpoint"),
        (name = "identity-preferences", description = "An identity's free-form preferences"),
        (name = "tokens", description = "The platform's token issuer: token endpoint, JWKS, discovery"),
        (name = "docs", description = "These documents"),
    )
)]
pub struct IdentityApi;

// ------------------------------------------------------------------ identities

#[utoipa::path(
    get, path = "/identity/v1/identities", tag = "identities", operation_id = "findIdentities",
    summary = "Find identities",
    description = "Every identity the caller may read (user identities and API accounts), each in its own type's representation. Sortable by `id`, `name`, `firstName`, `lastName`, `email`, `contactEmail`, `active`, `createdAt`, `updatedAt`, `organizationId`, `tenantId`, `type`.",
    params(Paging, FindIdentities),
    responses(
        (status = 200, description = "A page of identities", body = Vec<AnyIdentity>, headers(
            ("X-Total-Count" = u64, description = "Items in the whole collection"),
            ("Link" = String, description = "`next`, `prev`, `first`, `last` pages"))),
        (status = 400, description = "A bad filter or paging parameter (named in `errors`)"),
    ),
    security(("bearer" = []))
)]
fn find_identities() {}

#[utoipa::path(
    get, path = "/identity/v1/identities/self", tag = "identities", operation_id = "getSelf",
    summary = "Get the caller's identity",
    responses(
        (status = 200, description = "The caller, a user identity or an API account", body = AnyIdentity),
        (status = 404, description = "The caller's identity no longer exists"),
    ),
    security(("bearer" = []))
)]
fn get_self() {}

#[utoipa::path(
    get, path = "/identity/v1/identities/{id}", tag = "identities", operation_id = "getIdentity",
    summary = "Get an identity by id",
    params(("id" = Uuid, Path, description = "Identity id")),
    responses(
        (status = 200, description = "The identity, in its own type's representation", body = AnyIdentity),
        (status = 404, description = "No such identity, or not readable by the caller"),
    ),
    security(("bearer" = []))
)]
fn get_identity() {}

// ------------------------------------------------------------------ user identities

#[utoipa::path(
    get, path = "/identity/v1/user-identities", tag = "user-identities", operation_id = "findUserIdentities",
    summary = "Find user identities",
    description = "Sortable by `id`, `name`, `firstName`, `lastName`, `email`, `contactEmail`, `active`, `createdAt`, `updatedAt`, `organizationId`, `tenantId`, `type`.",
    params(Paging, FindUserIdentities),
    responses(
        (status = 200, description = "A page of user identities", body = Vec<UserIdentity>, headers(
            ("X-Total-Count" = u64, description = "Items in the whole collection"),
            ("Link" = String, description = "`next`, `prev`, `first`, `last` pages"))),
        (status = 400, description = "A bad filter or paging parameter"),
    ),
    security(("bearer" = []))
)]
fn find_user_identities() {}

#[utoipa::path(
    post, path = "/identity/v1/user-identities", tag = "user-identities", operation_id = "createUserIdentity",
    summary = "Create a user identity",
    description = "Created without explicit permissions: the organization's default roles are granted to it (by event).",
    request_body = CreateUserIdentity,
    responses(
        (status = 201, description = "The new user identity", body = UserIdentity),
        (status = 400, description = "A missing or invalid field (named in `errors`; `organizationId` naming no live organization)"),
        (status = 403, description = "Not allowed to create user identities in the organization"),
        (status = 409, description = "The email is taken in the organization"),
    ),
    security(("bearer" = []))
)]
fn create_user_identity() {}

#[utoipa::path(
    get, path = "/identity/v1/user-identities/{id}", tag = "user-identities", operation_id = "getUserIdentity",
    summary = "Get a user identity",
    params(("id" = Uuid, Path, description = "User identity id")),
    responses(
        (status = 200, description = "The user identity with its mappings", body = UserIdentity),
        (status = 404, description = "No such user identity, or not readable by the caller"),
    ),
    security(("bearer" = []))
)]
fn get_user_identity() {}

#[utoipa::path(
    put, path = "/identity/v1/user-identities/{id}", tag = "user-identities", operation_id = "updateUserIdentity",
    summary = "Update a user identity",
    params(("id" = Uuid, Path, description = "User identity id")),
    request_body = UpdateUserIdentity,
    responses(
        (status = 200, description = "The updated user identity", body = UserIdentity),
        (status = 400, description = "An invalid field"),
        (status = 403, description = "Readable but not changeable by the caller"),
        (status = 404, description = "No such user identity, deleted, or not readable by the caller"),
        (status = 409, description = "The email is taken in the organization"),
    ),
    security(("bearer" = []))
)]
fn update_user_identity() {}

#[utoipa::path(
    delete, path = "/identity/v1/user-identities/{id}", tag = "user-identities", operation_id = "deleteUserIdentity",
    summary = "Delete a user identity",
    description = "Marks it deleted and inactive; its tokens stop working.",
    params(("id" = Uuid, Path, description = "User identity id")),
    responses(
        (status = 200, description = "The deleted user identity", body = UserIdentity),
        (status = 403, description = "Readable but not deletable by the caller"),
        (status = 404, description = "No such user identity, already deleted, or not readable by the caller"),
    ),
    security(("bearer" = []))
)]
fn delete_user_identity() {}

#[utoipa::path(
    get, path = "/identity/v1/user-identities/mapping/{auth0UserId}/{identityProviderId}", tag = "user-identities",
    operation_id = "getUserIdentityByMapping",
    summary = "Get a user identity by its mapping",
    params(
        ("auth0UserId" = String, Path, description = "The subject at the identity provider"),
        ("identityProviderId" = Uuid, Path, description = "Identity provider id"),
    ),
    responses(
        (status = 200, description = "The mapped user identity", body = UserIdentity),
        (status = 404, description = "No such mapping, or not readable by the caller"),
    ),
    security(("bearer" = []))
)]
fn get_user_identity_by_mapping() {}

#[utoipa::path(
    put, path = "/identity/v1/user-identities/{id}/{action}", tag = "user-identities",
    operation_id = "setUserIdentityActive",
    summary = "Activate or deactivate a user identity",
    description = "Idempotent. A deactivated identity's tokens stop working.",
    params(
        ("id" = Uuid, Path, description = "User identity id"),
        ("action" = String, Path, description = "`activate` or `deactivate`", pattern = "^(activate|deactivate)$"),
    ),
    responses(
        (status = 200, description = "The user identity", body = UserIdentity),
        (status = 403, description = "Readable but not changeable by the caller"),
        (status = 404, description = "No such user identity (or action), deleted, or not readable by the caller"),
    ),
    security(("bearer" = []))
)]
fn user_identity_activation() {}

#[utoipa::path(
    put, path = "/identity/v1/user-identities/{id}/reset-mfa", tag = "user-identities", operation_id = "resetMfa",
    summary = "Reset a user identity's MFA",
    params(("id" = Uuid, Path, description = "User identity id")),
    responses(
        (status = 200, description = "Reset (no body)"),
        (status = 403, description = "Readable but not changeable by the caller"),
        (status = 404, description = "No such user identity, deleted, or not readable by the caller"),
    ),
    security(("bearer" = []))
)]
fn reset_mfa() {}

#[utoipa::path(
    post, path = "/identity/v1/user-identities/{id}/mapping", tag = "user-identities", operation_id = "createMapping",
    summary = "Map a login at an identity provider to a user identity",
    description = "One mapping per external subject and provider.",
    params(("id" = Uuid, Path, description = "User identity id")),
    request_body = CreateIdentityMapping,
    responses(
        (status = 200, description = "Mapped (no body)"),
        (status = 400, description = "A missing or invalid field; `identityProviderId` must be an identity or OpenID provider of the identity's organization"),
        (status = 403, description = "Readable but not changeable by the caller"),
        (status = 404, description = "No such user identity, deleted, or not readable by the caller"),
        (status = 409, description = "The subject is already mapped at this provider"),
    ),
    security(("bearer" = []))
)]
fn create_mapping() {}

// ------------------------------------------------------------------ API accounts

#[utoipa::path(
    get, path = "/identity/v1/api-account-identities", tag = "api-account-identities",
    operation_id = "findApiAccountIdentities",
    summary = "Find API-account identities",
    description = "Sortable by `id`, `name`, `firstName`, `lastName`, `email`, `contactEmail`, `active`, `createdAt`, `updatedAt`, `organizationId`, `tenantId`, `type`.",
    params(Paging, FindApiAccountIdentities),
    responses(
        (status = 200, description = "A page of API accounts", body = Vec<ApiAccountIdentity>, headers(
            ("X-Total-Count" = u64, description = "Items in the whole collection"),
            ("Link" = String, description = "`next`, `prev`, `first`, `last` pages"))),
        (status = 400, description = "A bad filter or paging parameter"),
    ),
    security(("bearer" = []))
)]
fn find_api_account_identities() {}

#[utoipa::path(
    post, path = "/identity/v1/api-account-identities", tag = "api-account-identities",
    operation_id = "createApiAccountIdentity",
    summary = "Create an API-account identity",
    description = "Answers the account, its `clientId`, its one-time `password` (the secret; shown only here) and the token endpoint's URL.",
    request_body = CreateApiAccountIdentity,
    responses(
        (status = 201, description = "The new account and its credentials", body = CreatedApiAccount),
        (status = 400, description = "A missing or invalid field (`organizationId` naming no live organization; `provider` other than `Cognito`)"),
        (status = 403, description = "Not allowed to create API accounts in the organization"),
    ),
    security(("bearer" = []))
)]
fn create_api_account_identity() {}

#[utoipa::path(
    get, path = "/identity/v1/api-account-identities/{id}", tag = "api-account-identities",
    operation_id = "getApiAccountIdentity",
    summary = "Get an API-account identity",
    params(("id" = Uuid, Path, description = "API-account identity id")),
    responses(
        (status = 200, description = "The API account", body = ApiAccountIdentity),
        (status = 404, description = "No such API account, or not readable by the caller"),
    ),
    security(("bearer" = []))
)]
fn get_api_account_identity() {}

#[utoipa::path(
    put, path = "/identity/v1/api-account-identities/{id}", tag = "api-account-identities",
    operation_id = "updateApiAccountIdentity",
    summary = "Update an API-account identity",
    params(("id" = Uuid, Path, description = "API-account identity id")),
    request_body = UpdateApiAccountIdentity,
    responses(
        (status = 200, description = "The updated API account", body = ApiAccountIdentity),
        (status = 400, description = "An invalid field"),
        (status = 403, description = "Readable but not changeable by the caller"),
        (status = 404, description = "No such API account, deleted, or not readable by the caller"),
    ),
    security(("bearer" = []))
)]
fn update_api_account_identity() {}

#[utoipa::path(
    delete, path = "/identity/v1/api-account-identities/{id}", tag = "api-account-identities",
    operation_id = "deleteApiAccountIdentity",
    summary = "Delete an API-account identity",
    description = "Marks it deleted and inactive; its tokens stop working.",
    params(("id" = Uuid, Path, description = "API-account identity id")),
    responses(
        (status = 200, description = "The deleted API account", body = ApiAccountIdentity),
        (status = 403, description = "Readable but not deletable by the caller"),
        (status = 404, description = "No such API account, already deleted, or not readable by the caller"),
    ),
    security(("bearer" = []))
)]
fn delete_api_account_identity() {}

#[utoipa::path(
    get, path = "/identity/v1/api-account-identities/mapping/{clientId}", tag = "api-account-identities",
    operation_id = "getApiAccountIdentityByMapping",
    summary = "Get an API-account identity by its client id",
    params(("clientId" = String, Path, description = "The account's OAuth 2.0 client id")),
    responses(
        (status = 200, description = "The API account", body = ApiAccountIdentity),
        (status = 404, description = "No such client, or not readable by the caller"),
    ),
    security(("bearer" = []))
)]
fn get_api_account_identity_by_mapping() {}

#[utoipa::path(
    put, path = "/identity/v1/api-account-identities/{id}/{action}", tag = "api-account-identities",
    operation_id = "setApiAccountIdentityActive",
    summary = "Activate or deactivate an API-account identity",
    description = "Idempotent. A deactivated account gets no token and its tokens stop working.",
    params(
        ("id" = Uuid, Path, description = "API-account identity id"),
        ("action" = String, Path, description = "`activate` or `deactivate`", pattern = "^(activate|deactivate)$"),
    ),
    responses(
        (status = 200, description = "The API account", body = ApiAccountIdentity),
        (status = 403, description = "Readable but not changeable by the caller"),
        (status = 404, description = "No such API account (or action), deleted, or not readable by the caller"),
    ),
    security(("bearer" = []))
)]
fn api_account_identity_activation() {}

// ------------------------------------------------------------------ preferences

#[utoipa::path(
    get, path = "/identity/v1/identity-preferences", tag = "identity-preferences",
    operation_id = "findIdentityPreferences",
    summary = "Find identity preferences",
    description = "The caller's own and those it may read. Sortable by `createdAt`, `updatedAt`, `id`.",
    params(Paging),
    responses(
        (status = 200, description = "A page of preferences", body = Vec<IdentityPreference>, headers(
            ("X-Total-Count" = u64, description = "Items in the whole collection"),
            ("Link" = String, description = "`next`, `prev`, `first`, `last` pages"))),
        (status = 400, description = "A bad paging parameter"),
    ),
    security(("bearer" = []))
)]
fn find_identity_preferences() {}

#[utoipa::path(
    post, path = "/identity/v1/identity-preferences", tag = "identity-preferences",
    operation_id = "createIdentityPreference",
    summary = "Create identity preferences",
    request_body = CreateIdentityPreference,
    responses(
        (status = 201, description = "The new preferences", body = IdentityPreference),
        (status = 400, description = "A missing or invalid field (`preferences` must be an object; `userIdentityId` must exist)"),
        (status = 403, description = "Not allowed to create preferences for that identity"),
    ),
    security(("bearer" = []))
)]
fn create_identity_preference() {}

#[utoipa::path(
    get, path = "/identity/v1/identity-preferences/{id}", tag = "identity-preferences",
    operation_id = "getIdentityPreference",
    summary = "Get identity preferences",
    params(("id" = Uuid, Path, description = "Preference id")),
    responses(
        (status = 200, description = "The preferences", body = IdentityPreference),
        (status = 404, description = "No such preferences, or not readable by the caller"),
    ),
    security(("bearer" = []))
)]
fn get_identity_preference() {}

#[utoipa::path(
    put, path = "/identity/v1/identity-preferences/{id}", tag = "identity-preferences",
    operation_id = "updateIdentityPreference",
    summary = "Replace identity preferences",
    params(("id" = Uuid, Path, description = "Preference id")),
    request_body = UpdateIdentityPreference,
    responses(
        (status = 200, description = "The updated preferences", body = IdentityPreference),
        (status = 400, description = "`preferences` missing or not an object"),
        (status = 403, description = "Readable but not changeable by the caller"),
        (status = 404, description = "No such preferences, deleted, or not readable by the caller"),
    ),
    security(("bearer" = []))
)]
fn update_identity_preference() {}

#[utoipa::path(
    delete, path = "/identity/v1/identity-preferences/{id}", tag = "identity-preferences",
    operation_id = "deleteIdentityPreference",
    summary = "Delete identity preferences",
    params(("id" = Uuid, Path, description = "Preference id")),
    responses(
        (status = 200, description = "The deleted preferences", body = IdentityPreference),
        (status = 403, description = "Readable but not deletable by the caller"),
        (status = 404, description = "No such preferences, or not readable by the caller"),
    ),
    security(("bearer" = []))
)]
fn delete_identity_preference() {}

// ------------------------------------------------------------------ tokens

#[utoipa::path(
    post, path = "/identity/v1/oauth/token", tag = "tokens", operation_id = "issueToken",
    summary = "Issue an access token (OAuth 2.0)",
    description = "`client_credentials` with HTTP Basic (or `client_id`/`client_secret` fields) for API accounts; RFC 8693 token exchange of an OpenID provider's ID token for user identities. Errors are OAuth bodies. Rate-limited per client address at the gateway (429).",
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "An RS256 access token", body = TokenResponse),
        (status = 400, description = "`invalid_request`, `invalid_grant`, `unsupported_grant_type`", body = OAuthError),
        (status = 401, description = "`invalid_client`: client authentication failed", body = OAuthError),
        (status = 429, description = "Too many token requests from this client address (gateway)"),
    )
)]
fn token() {}

#[utoipa::path(
    get, path = "/identity/v1/.well-known/jwks.json", tag = "tokens", operation_id = "jwks",
    summary = "The token signing keys (JWKS)",
    responses((status = 200, description = "Every key still inside its validity window", body = JwkSet))
)]
fn jwks() {}

#[utoipa::path(
    get, path = "/identity/v1/.well-known/openid-configuration", tag = "tokens", operation_id = "openidConfiguration",
    summary = "OpenID discovery",
    responses((status = 200, description = "The issuer's metadata", body = OpenIdConfiguration))
)]
fn openid_configuration() {}

#[utoipa::path(
    get, path = "/identity/v1/.well-known/oauth-authorization-server", tag = "tokens", operation_id = "oauthAuthorizationServer",
    summary = "RFC 8414 authorization-server metadata",
    description = "Also at `/.well-known/oauth-authorization-server/identity/v1` (RFC 8414 §3), through the gateway.",
    responses((status = 200, description = "The issuer's metadata", body = AuthorizationServerMetadata))
)]
fn oauth_authorization_server() {}
