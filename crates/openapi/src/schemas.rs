//! Request bodies and query parameters as the services read them.
//!
//! The services parse their requests with types of their own crates (validated
//! newtypes, filters with `Option<String>` lists); these documentation-only mirrors
//! say what goes on the wire: field names, types, which fields are required, the
//! allowed values. Responses use the `idp_model` types directly, which are what the
//! services serialize.

// Documentation types: never built, only described.
#![allow(dead_code)]

use idp_model::organization::{Auth0ConnectionType, RoleType};
use idp_model::{IdentityId, OrganizationId, RoleId};
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, Type};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

// ---------------------------------------------------------------- paging

/// The paging parameters every collection accepts. Collections answer a JSON array
/// with the total in `X-Total-Count` and `next`/`prev`/`first`/`last` in `Link`; a
/// client that sends `Accept: application/hal+json` gets
/// `{"content": [...], "page": {"size", "totalElements", "totalPages", "number"}}`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Paging {
    /// The page, 0-based (default 0); `page` × `size` must stay below 2^63.
    #[param(minimum = 0)]
    page: Option<u64>,
    /// Items per page (default 100).
    #[param(minimum = 1, maximum = 1000)]
    size: Option<u64>,
    /// `field` or `field,asc|desc`, repeatable; the fields a collection sorts by are
    /// listed on its operation (400 naming `sort` for any other).
    #[param(pattern = r"^[A-Za-z]+(,(asc|desc|ASC|DESC))?$")]
    sort: Option<Vec<String>>,
}

// ---------------------------------------------------------------- identity service

/// `GET /identities`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
pub struct FindIdentities {
    organization_id: Option<Uuid>,
    /// Deprecated alias of `organizationId`.
    tenant_id: Option<Uuid>,
    /// Exact match, case-insensitive.
    email: Option<String>,
    active: Option<bool>,
    /// Include deleted identities (default false).
    include_deleted: Option<bool>,
}

/// `GET /user-identities`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
pub struct FindUserIdentities {
    organization_id: Option<Uuid>,
    /// Deprecated alias of `organizationId`.
    tenant_id: Option<Uuid>,
    /// Users with a mapping to this identity provider.
    identity_provider_id: Option<Uuid>,
    first_name: Option<String>,
    last_name: Option<String>,
    email: Option<String>,
    active: Option<bool>,
    include_deleted: Option<bool>,
}

/// `GET /api-account-identities`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
pub struct FindApiAccountIdentities {
    organization_id: Option<Uuid>,
    /// Deprecated alias of `organizationId`.
    tenant_id: Option<Uuid>,
    name: Option<String>,
    contact_email: Option<String>,
    active: Option<bool>,
    include_deleted: Option<bool>,
    /// `Auth0` or `Cognito` (case-insensitive); no Auth0 clients exist here.
    #[param(value_type = Option<String>, pattern = "^([Aa][Uu][Tt][Hh]0|[Cc][Oo][Gg][Nn][Ii][Tt][Oo])$")]
    provider: Option<String>,
}

/// `POST /user-identities`.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct CreateUserIdentity {
    organization_id: OrganizationId,
    #[schema(min_length = 1, max_length = 255, pattern = r"\S")]
    first_name: String,
    #[schema(min_length = 1, max_length = 255, pattern = r"\S")]
    last_name: String,
    /// Unique among the organization's live user identities (409).
    #[schema(
        min_length = 3,
        max_length = 254,
        pattern = r"^[A-Za-z0-9_%+-]+(\.[A-Za-z0-9_%+-]+)*@[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+$"
    )]
    email: String,
}

/// `PUT /user-identities/{id}`: the fields given replace the identity's.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct UpdateUserIdentity {
    #[schema(min_length = 1, max_length = 255, pattern = r"\S")]
    first_name: Option<String>,
    #[schema(min_length = 1, max_length = 255, pattern = r"\S")]
    last_name: Option<String>,
    #[schema(
        min_length = 3,
        max_length = 254,
        pattern = r"^[A-Za-z0-9_%+-]+(\.[A-Za-z0-9_%+-]+)*@[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+$"
    )]
    email: Option<String>,
}

/// `POST /user-identities/{id}/mapping`.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct CreateIdentityMapping {
    /// The subject at the identity provider.
    #[schema(min_length = 1, max_length = 255, pattern = r"\S")]
    auth0_user_id: String,
    /// An identity provider of the identity's organization.
    identity_provider_id: Uuid,
}

/// `POST /api-account-identities`.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct CreateApiAccountIdentity {
    organization_id: OrganizationId,
    #[schema(min_length = 1, max_length = 255, pattern = r"\S")]
    name: String,
    #[schema(
        max_length = 254,
        pattern = r"^[A-Za-z0-9_%+-]+(\.[A-Za-z0-9_%+-]+)*@[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+$"
    )]
    contact_email: Option<String>,
    #[schema(max_length = 4000)]
    description: Option<String>,
    /// Grant the organization's default roles (also done when the account is
    /// created without explicit permissions).
    grant_default_roles: Option<bool>,
    /// `Cognito` (default) or `Auth0`.
    provider: Option<String>,
}

/// `PUT /api-account-identities/{id}`: the fields given replace the account's.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct UpdateApiAccountIdentity {
    #[schema(min_length = 1, max_length = 255, pattern = r"\S")]
    name: Option<String>,
    #[schema(
        max_length = 254,
        pattern = r"^[A-Za-z0-9_%+-]+(\.[A-Za-z0-9_%+-]+)*@[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+$"
    )]
    contact_email: Option<String>,
    #[schema(max_length = 4000)]
    description: Option<String>,
}

/// `POST /identity-preferences`.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct CreateIdentityPreference {
    /// Left out or null: the caller's own identity.
    user_identity_id: Option<Uuid>,
    /// A JSON object.
    #[schema(value_type = Object)]
    preferences: serde_json::Value,
}

/// `PUT /identity-preferences/{id}`.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct UpdateIdentityPreference {
    /// A JSON object.
    #[schema(value_type = Object)]
    preferences: serde_json::Value,
}

/// The form of `POST /oauth/token` (`application/x-www-form-urlencoded`).
#[derive(ToSchema)]
pub struct TokenRequest {
    /// `client_credentials` or `urn:ietf:params:oauth:grant-type:token-exchange`.
    grant_type: String,
    /// With `client_secret`, instead of HTTP Basic.
    client_id: Option<String>,
    client_secret: Option<String>,
    /// Token exchange: an ID token of one of an organization's OpenID providers.
    subject_token: Option<String>,
    /// Token exchange: `urn:ietf:params:oauth:token-type:id_token` or `…:jwt`.
    subject_token_type: Option<String>,
    /// Token exchange: the `nfToken` of authorize-initiate, binding the login to
    /// its organization.
    nf_token: Option<String>,
}

/// One key of the JWKS (RSA public key).
#[derive(ToSchema)]
pub struct Jwk {
    kty: String,
    kid: String,
    #[schema(rename = "use")]
    use_: String,
    alg: String,
    n: String,
    e: String,
}

/// `/.well-known/jwks.json`.
#[derive(ToSchema)]
pub struct JwkSet {
    keys: Vec<Jwk>,
}

/// `/identity/v1/.well-known/openid-configuration` (OpenID Connect Discovery 1.0).
#[derive(ToSchema)]
pub struct OpenIdConfiguration {
    issuer: String,
    token_endpoint: String,
    jwks_uri: String,
    grant_types_supported: Vec<String>,
    token_endpoint_auth_methods_supported: Vec<String>,
    id_token_signing_alg_values_supported: Vec<String>,
    /// Empty: there is no authorization endpoint.
    response_types_supported: Vec<String>,
    subject_types_supported: Vec<String>,
}

/// RFC 8414 authorization-server metadata.
#[derive(ToSchema)]
pub struct AuthorizationServerMetadata {
    issuer: String,
    token_endpoint: String,
    jwks_uri: String,
    grant_types_supported: Vec<String>,
    token_endpoint_auth_methods_supported: Vec<String>,
    /// Empty: there is no authorization endpoint.
    response_types_supported: Vec<String>,
}

// ---------------------------------------------------------------- organization service

/// `GET /organizations`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
pub struct FindOrganizations {
    /// Exact name.
    name: Option<String>,
    active: Option<bool>,
    /// One or more of `None`, `GoogleAuthenticator`, comma-separated.
    mfa_providers: Option<String>,
    /// Include deleted organizations (default false).
    include_deleted: Option<bool>,
}

/// `POST /organizations`. With `auth0ConnectionId` and `auth0ConnectionType` it
/// also creates the organization's first identity provider.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct CreateOrganization {
    #[schema(min_length = 1, max_length = 255)]
    name: String,
    /// Letters, digits and dashes; unique among live organizations (409).
    #[schema(pattern = "^[-a-zA-Z0-9]{1,63}$")]
    label: String,
    #[schema(min_length = 1, max_length = 255)]
    auth0_connection_id: Option<String>,
    #[schema(min_length = 1, max_length = 255)]
    identity_provider_name: Option<String>,
    auth0_connection_type: Option<Auth0ConnectionType>,
}

/// `POST /organizations/{id}/identity-providers` (deprecated).
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct AddIdentityProvider {
    #[schema(min_length = 1, max_length = 255)]
    auth0_connection_id: String,
    #[schema(min_length = 1, max_length = 255)]
    identity_provider_name: Option<String>,
    auth0_connection_type: Auth0ConnectionType,
}

/// `POST /organizations/authorize-initiate`.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct AuthorizeInitiateRequest {
    /// The organization's label.
    #[schema(pattern = "^[-a-zA-Z0-9]{1,63}$")]
    label: String,
    #[schema(max_length = 2048)]
    intermediate_return_url: Option<String>,
}

/// `GET /identity-providers`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
pub struct FindIdentityProviders {
    name: Option<String>,
    organization_id: Option<Uuid>,
    /// One or more, comma-separated.
    auth0_connection_id: Option<String>,
    /// One or more of `Database`, `Social`, `Enterprise`, `Passwordless`, comma-separated.
    auth0_connection_type: Option<String>,
    active: Option<bool>,
    /// `true`, `false` (default) or `true,false`.
    #[param(pattern = "^(true|false|true,false|false,true)$")]
    deleted: Option<String>,
}

/// `POST /identity-providers`.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct CreateIdentityProvider {
    organization_id: OrganizationId,
    #[schema(min_length = 1, max_length = 255)]
    auth0_connection_id: String,
    #[schema(min_length = 1, max_length = 255)]
    name: String,
    auth0_connection_type: Auth0ConnectionType,
}

/// `PUT /identity-providers/{id}`.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct UpdateIdentityProvider {
    #[schema(min_length = 1, max_length = 255)]
    name: String,
}

/// `GET /default-roles`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
pub struct FindDefaultRoles {
    organization_id: Option<Uuid>,
    role_id: Option<Uuid>,
    /// One or more of `Standard`, `Custom`, comma-separated.
    role_type: Option<String>,
    name: Option<String>,
    /// `true`, `false` (default) or `true,false`.
    #[param(pattern = "^(true|false|true,false|false,true)$")]
    deleted: Option<String>,
}

/// `POST /default-roles`.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct CreateDefaultRole {
    organization_id: OrganizationId,
    role_type: RoleType,
    /// A role of the authorization service.
    role_id: RoleId,
}

/// Optional body of `POST /default-roles/{id}/grant`: narrows who gets the role.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct GrantDefaultRole {
    /// Only these identities.
    include_identity_ids: Option<Vec<IdentityId>>,
    /// Never these identities.
    exclude_identity_ids: Option<Vec<IdentityId>>,
}

/// `GET /open-id-providers`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
pub struct FindOpenIdProviders {
    organization_id: Option<Uuid>,
    name: Option<String>,
    issuer: Option<String>,
    client_id: Option<String>,
    active: Option<bool>,
    /// `true`, `false` (default) or `true,false`.
    #[param(pattern = "^(true|false|true,false|false,true)$")]
    deleted: Option<String>,
}

/// `POST /open-id-providers`. URLs must be https (http on a loopback host only
/// where the deployment allows it), at most 2048 characters.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct CreateOpenIdProvider {
    organization_id: OrganizationId,
    #[schema(min_length = 1, max_length = 255)]
    name: String,
    #[schema(min_length = 1, max_length = 255)]
    client_id: String,
    /// Compared byte for byte with the `iss` of ID tokens.
    #[schema(max_length = 2048)]
    issuer: String,
    #[schema(max_length = 2048)]
    authorization_endpoint: Option<String>,
    #[schema(max_length = 2048)]
    token_endpoint: Option<String>,
    #[schema(max_length = 2048)]
    user_info_endpoint: Option<String>,
    #[schema(max_length = 2048)]
    jwks_uri: String,
    /// Default true.
    active: Option<bool>,
}

/// `PATCH /open-id-providers/{id}`: the fields given change (at least one).
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct UpdateOpenIdProvider {
    #[schema(min_length = 1, max_length = 255)]
    name: Option<String>,
    active: Option<bool>,
}

/// `GET /organization-preferences` and `GET /identity-preferences`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
pub struct FindOrganizationPreferences {
    organization_id: Option<Uuid>,
    /// `true`, `false` (default) or `true,false`.
    #[param(pattern = "^(true|false|true,false|false,true)$")]
    deleted: Option<String>,
}

/// `POST /organization-preferences`.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct CreateOrganizationPreference {
    organization_id: OrganizationId,
    /// A JSON object.
    #[schema(value_type = Object)]
    preferences: serde_json::Value,
}

/// `PUT /organization-preferences/{id}`.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct UpdateOrganizationPreference {
    /// A JSON object.
    #[schema(value_type = Object)]
    preferences: serde_json::Value,
}

// ---------------------------------------------------------------- invitation service

/// `GET /invitations` (all filters AND'ed).
#[derive(IntoParams)]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
pub struct FindInvitations {
    from_identity_id: Option<Uuid>,
    to_organization_id: Option<Uuid>,
    /// Deprecated alias of `toOrganizationId`.
    to_tenant_id: Option<Uuid>,
    invited_email_address: Option<String>,
    target_identity_id: Option<Uuid>,
    /// One or more of `Open`, `Accepted`, `Declined`, `Expired`, `Revoked`, comma-separated.
    states: Option<String>,
}

/// `POST /invitations/key/{key}/accept-complete`: the flow token of accept-initiate
/// and the ID token of the login at the organization's OpenID provider.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct AcceptComplete {
    #[schema(min_length = 1, max_length = 20000)]
    nf_token: String,
    #[schema(min_length = 1, max_length = 20000)]
    id_token: String,
    /// The login's access token at the provider: its userinfo endpoint then vouches
    /// for the verified email when the ID token carries none.
    access_token: Option<String>,
}

/// `POST /invitations`.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct CreateInvitation {
    to_organization_id: Option<OrganizationId>,
    /// Deprecated alias of `toOrganizationId`.
    to_tenant_id: Option<OrganizationId>,
    #[schema(
        min_length = 3,
        max_length = 254,
        pattern = r"^[A-Za-z0-9_%+-]+(\.[A-Za-z0-9_%+-]+)*@[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+$"
    )]
    invited_email_address: String,
    /// The link of the email: `{key}` is replaced by the invitation's key (else
    /// `key=` is appended).
    #[schema(max_length = 2048, pattern = r"^https?://[!-~]*$")]
    invitation_url: Option<String>,
    target_user_identity_id: Option<IdentityId>,
}

/// `POST /invitations/key/{key}/accept-initiate`.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct AcceptInitiate {
    #[schema(max_length = 2048, pattern = "^(https?://.*)?$")]
    intermediate_return_url: Option<String>,
}

/// `POST /nfconsole/support/requests`.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct SupportRequest {
    /// Required without a token.
    #[schema(max_length = 200)]
    name: Option<String>,
    /// Required without a token.
    #[schema(max_length = 254)]
    email: Option<String>,
    #[schema(max_length = 64)]
    selected_organization_id: Option<String>,
    #[schema(max_length = 64)]
    selected_network_id: Option<String>,
    #[schema(min_length = 1, max_length = 500, pattern = r"\S")]
    subject: String,
    #[schema(min_length = 1, max_length = 20000, pattern = r"\S")]
    comment: String,
    /// Default `question`.
    #[schema(rename = "type", pattern = "^(problem|incident|question|task)$")]
    kind: Option<String>,
    /// Default `normal`.
    #[schema(pattern = "^(urgent|high|normal|low)$")]
    priority: Option<String>,
    /// Default `Severity3`.
    #[schema(pattern = "^(Severity1|Severity2|Severity3)$")]
    severity: Option<String>,
    #[schema(max_items = 50)]
    recent_error_messages: Option<Vec<ErrorMessage>>,
}

/// One of a support request's recent error messages: at most 4000 characters.
pub struct ErrorMessage;

impl utoipa::PartialSchema for ErrorMessage {
    fn schema() -> RefOr<Schema> {
        bounded_string(0, 4000, None)
    }
}

impl ToSchema for ErrorMessage {}

/// A string schema of `min`..=`max` characters, matching `pattern` when given.
fn bounded_string(min: usize, max: usize, pattern: Option<&str>) -> RefOr<Schema> {
    let mut b = ObjectBuilder::new()
        .schema_type(Type::String)
        .max_length(Some(max))
        .pattern(pattern);
    if min > 0 {
        b = b.min_length(Some(min));
    }
    RefOr::T(Schema::Object(b.build()))
}

// ---------------------------------------------------------------- authorization service

/// `GET /resource-types`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
pub struct FindResourceTypes {
    code: Option<String>,
}

/// `GET /resource-actions`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
pub struct FindResourceActions {
    resource_type_id: Option<Uuid>,
    code: Option<String>,
}

/// `GET /roles`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
pub struct FindRoles {
    organization_id: Option<Uuid>,
    role_type: Option<idp_model::authorization::RoleType>,
    name: Option<String>,
}

/// `GET /grants`, `GET /identity-roles`, `GET /identity-resource-actions`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
pub struct FindGrants {
    identity_id: Option<Uuid>,
    role_id: Option<Uuid>,
    /// On `/grants` also finds the role grants whose role carries the action.
    resource_action_id: Option<Uuid>,
    organization_id: Option<Uuid>,
}

/// `GET /acl`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
pub struct AclQuery {
    /// Resource type code, e.g. `user-identity`.
    resource_type: String,
    resource_id: Option<String>,
    organization_id: Option<Uuid>,
    /// Comma-separated resource ids above the resource, outermost first.
    path: Option<String>,
    /// Only this action code.
    action: Option<String>,
    /// Only this principal's entries: the ACL of one identity on the resource.
    identity_id: Option<Uuid>,
}

/// A resource id, as an element of a path: 1-200 characters, not blank.
#[derive(serde::Serialize)]
pub struct ResourceId;

impl utoipa::PartialSchema for ResourceId {
    fn schema() -> RefOr<Schema> {
        bounded_string(1, 200, Some(r"\S"))
    }
}

impl ToSchema for ResourceId {}

/// A batch of checks given as an array: at most 1000.
#[derive(serde::Serialize)]
pub struct CheckList;

impl utoipa::PartialSchema for CheckList {
    fn schema() -> RefOr<Schema> {
        RefOr::T(Schema::Array(
            ArrayBuilder::new()
                .items(Ref::from_schema_name("CheckRequest"))
                .max_items(Some(1000))
                .build(),
        ))
    }
}

impl ToSchema for CheckList {}

/// `POST /resource-types`.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct NewResourceType {
    /// Lower-case letters, digits, `-`, `_`, `.`; unique (409).
    #[schema(pattern = "^[a-z0-9][a-z0-9._-]{0,99}$")]
    code: String,
    #[schema(min_length = 1, max_length = 255, pattern = r"\S")]
    name: String,
    #[schema(max_length = 4000)]
    description: Option<String>,
}

/// `POST /resource-actions`.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct NewResourceAction {
    resource_type_id: idp_model::ResourceTypeId,
    /// Lower-case letters, digits, `-`, `_`, `.`; unique within the resource type (409).
    #[schema(pattern = "^[a-z0-9][a-z0-9._-]{0,99}$")]
    code: String,
    #[schema(min_length = 1, max_length = 255, pattern = r"\S")]
    name: String,
    #[schema(max_length = 4000)]
    description: Option<String>,
}

/// `POST /roles`: a custom role of an organization.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct NewRole {
    /// Trimmed; unique in the organization, case-insensitively (409).
    #[schema(min_length = 1, max_length = 255, pattern = r"\S")]
    name: String,
    /// Default: the caller's organization.
    organization_id: Option<OrganizationId>,
    /// Start from this role's actions (usually a standard role).
    base_role_id: Option<RoleId>,
    #[schema(max_length = 4000)]
    description: Option<String>,
    /// Added to the base role's actions.
    #[schema(required = false)]
    resource_action_ids: Vec<idp_model::ResourceActionId>,
}

/// `PUT /roles/{id}`: fields given replace the role's.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct RoleUpdate {
    #[schema(min_length = 1, max_length = 255, pattern = r"\S")]
    name: Option<String>,
    #[schema(max_length = 4000)]
    description: Option<String>,
    resource_action_ids: Option<Vec<idp_model::ResourceActionId>>,
}

/// `POST /identity-roles`.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct NewRoleGrant {
    identity_id: IdentityId,
    role_id: RoleId,
    /// Left out: the identity's organization (or the caller's when unknown);
    /// `null`: platform-wide (super admins only).
    organization_id: Option<OrganizationId>,
    /// Resource ids narrowing the scope, outermost first.
    #[schema(max_items = 32)]
    path: Option<Vec<ResourceId>>,
}

/// `POST /identity-resource-actions`.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct NewActionGrant {
    identity_id: IdentityId,
    resource_action_id: idp_model::ResourceActionId,
    /// As for `NewRoleGrant.organizationId`.
    organization_id: Option<OrganizationId>,
    #[schema(max_items = 32)]
    path: Option<Vec<ResourceId>>,
}

/// One permission check.
#[derive(ToSchema, serde::Serialize)]
#[schema(rename_all = "camelCase")]
pub struct CheckRequest {
    identity_id: IdentityId,
    /// Action code, e.g. `read`.
    #[schema(min_length = 1, max_length = 100)]
    action: String,
    /// Resource type code, e.g. `user-identity`.
    #[schema(min_length = 1, max_length = 100)]
    resource_type: String,
    /// None: a platform-level resource.
    organization_id: Option<OrganizationId>,
    #[schema(min_length = 1, max_length = 200)]
    resource_id: Option<String>,
    /// Where the resource sits inside its organization (resource ids, outermost first).
    #[schema(max_items = 32, required = false)]
    path: Vec<ResourceId>,
}

/// A batch of checks: `{"checks": [...]}`.
#[derive(ToSchema, serde::Serialize)]
pub struct CheckBatchRequest {
    #[schema(max_items = 1000)]
    checks: Vec<CheckRequest>,
}

/// The answer to a batch given as `{"checks": [...]}`, in the same order.
#[derive(ToSchema, serde::Serialize)]
pub struct CheckBatchResult {
    checks: Vec<idp_model::authorization::CheckResult>,
}

/// `POST /checks`: one check (an object), a batch (an array), or a batch wrapped as
/// `{"checks": [...]}`.
#[derive(ToSchema, serde::Serialize)]
#[serde(untagged)]
pub enum CheckInput {
    One(CheckRequest),
    Many(CheckList),
    Wrapped(CheckBatchRequest),
}

/// What `POST /checks` answers, in the shape of its input.
#[derive(ToSchema, serde::Serialize)]
#[serde(untagged)]
pub enum CheckOutput {
    One(idp_model::authorization::CheckResult),
    Many(Vec<idp_model::authorization::CheckResult>),
    Wrapped(CheckBatchResult),
}

/// `POST /default-roles/{id}/grant` answers, per identity id, whether it got the role.
#[derive(ToSchema)]
pub struct GrantOutcome(std::collections::BTreeMap<String, bool>);

/// `{"status": "ok"}` or `{"status": "ready"}`.
#[derive(ToSchema)]
pub struct Health {
    status: String,
}
