//! The organization service: organizations, identity providers, default roles,
//! OpenID providers, organization preferences, and the login flow's
//! authorize-initiate.

// Each function stands for one operation; only its attribute matters.
#![allow(dead_code)]

use idp_model::organization::{
    AuthorizeInitiate, DefaultRole, IdentityProvider, OpenIdProvider, Organization,
    OrganizationPreference,
};
use utoipa::OpenApi;

use crate::schemas::*;

#[derive(OpenApi)]
#[openapi(
    paths(
        find_organizations,
        create_organization,
        get_organization,
        delete_organization,
        get_organization_by_label,
        organization_activation,
        add_identity_provider,
        authorize_initiate,
        find_identity_providers,
        create_identity_provider,
        get_identity_provider,
        update_identity_provider,
        delete_identity_provider,
        identity_provider_activation,
        find_default_roles,
        create_default_role,
        get_default_role,
        delete_default_role,
        grant_default_role,
        find_open_id_providers,
        create_open_id_provider,
        get_open_id_provider,
        update_open_id_provider,
        delete_open_id_provider,
        find_organization_preferences,
        create_organization_preference,
        get_organization_preference,
        update_organization_preference,
        delete_organization_preference,
    ),
    components(schemas(idp_model::Problem, idp_model::FieldError)),
    tags(
        (name = "organizations", description = "Organizations (formerly tenants)"),
        (name = "identity-providers", description = "An organization's login providers (Auth0 connections)"),
        (name = "default-roles", description = "Roles granted automatically to an organization's identities"),
        (name = "open-id-providers", description = "OpenID providers whose ID tokens the token endpoint exchanges"),
        (name = "organization-preferences", description = "An organization's free-form preferences"),
        (name = "login-flow", description = "Public steps of the interactive login"),
    )
)]
pub struct OrganizationApi;

// ------------------------------------------------------------------ organizations

#[utoipa::path(
    get, path = "/identity/v1/organizations", tag = "organizations", operation_id = "findOrganizations",
    summary = "Find organizations",
    description = "The organizations the caller may read. Sortable by `name`, `label`, `createdAt`, `active`.",
    params(Paging, FindOrganizations),
    responses(
        (status = 200, description = "A page of organizations", body = Vec<Organization>, headers(
            ("X-Total-Count" = u64, description = "Items in the whole collection"),
            ("Link" = String, description = "`next`, `prev`, `first`, `last` pages"))),
        (status = 400, description = "A bad filter or paging parameter (named in `errors`)"),
    ),
    security(("bearer" = []))
)]
fn find_organizations() {}

#[utoipa::path(
    post, path = "/identity/v1/organizations", tag = "organizations", operation_id = "createOrganization",
    summary = "Create an organization",
    description = "Platform-wide `organization:create` is required. With `auth0ConnectionId` and `auth0ConnectionType` the organization gets its first identity provider, named after it.",
    request_body = CreateOrganization,
    responses(
        (status = 201, description = "The new organization", body = Organization),
        (status = 400, description = "A missing or invalid field (named in `errors`)"),
        (status = 403, description = "Not allowed to create organizations"),
        (status = 409, description = "The label is in use"),
    ),
    security(("bearer" = []))
)]
fn create_organization() {}

#[utoipa::path(
    get, path = "/identity/v1/organizations/{id}", tag = "organizations", operation_id = "getOrganization",
    summary = "Get an organization",
    params(("id" = Uuid, Path, description = "Organization id")),
    responses(
        (status = 200, description = "The organization with its active identity providers, default roles and OpenID providers", body = Organization),
        (status = 404, description = "No such organization, or not readable by the caller"),
    ),
    security(("bearer" = []))
)]
fn get_organization() {}

#[utoipa::path(
    delete, path = "/identity/v1/organizations/{id}", tag = "organizations", operation_id = "deleteOrganization",
    summary = "Delete an organization",
    description = "Marks it deleted (its label becomes free); its identities' tokens stop working.",
    params(("id" = Uuid, Path, description = "Organization id")),
    responses(
        (status = 200, description = "The deleted organization", body = Organization),
        (status = 403, description = "Readable but not deletable by the caller"),
        (status = 404, description = "No such organization, or not readable by the caller"),
        (status = 409, description = "Already deleted, or the root organization"),
    ),
    security(("bearer" = []))
)]
fn delete_organization() {}

#[utoipa::path(
    get, path = "/identity/v1/organizations/label/{label}", tag = "organizations", operation_id = "getOrganizationByLabel",
    summary = "Get an organization by label",
    params(("label" = String, Path, description = "The label (case-insensitive)", pattern = "^[-a-zA-Z0-9]{1,63}$")),
    responses(
        (status = 200, description = "The organization", body = Organization),
        (status = 404, description = "No live organization has this label, or not readable by the caller"),
    ),
    security(("bearer" = []))
)]
fn get_organization_by_label() {}

#[utoipa::path(
    put, path = "/identity/v1/organizations/{id}/{action}", tag = "organizations", operation_id = "setOrganizationActive",
    summary = "Activate or deactivate an organization",
    description = "A deactivated organization's identities get no token and their tokens stop working.",
    params(
        ("id" = Uuid, Path, description = "Organization id"),
        ("action" = String, Path, description = "`activate` or `deactivate`", pattern = "^(activate|deactivate)$"),
    ),
    responses(
        (status = 200, description = "The organization", body = Organization),
        (status = 403, description = "Readable but not changeable by the caller"),
        (status = 404, description = "No such organization (or action), or not readable by the caller"),
        (status = 409, description = "Already in that state, deleted, or the root organization (which cannot be deactivated)"),
    ),
    security(("bearer" = []))
)]
fn organization_activation() {}

#[utoipa::path(
    post, path = "/identity/v1/organizations/{id}/identity-providers", tag = "organizations",
    operation_id = "addOrganizationIdentityProvider",
    summary = "Add an identity provider to an organization (deprecated)",
    description = "Deprecated: use `POST /identity-providers`.",
    params(("id" = Uuid, Path, description = "Organization id")),
    request_body = AddIdentityProvider,
    responses(
        (status = 201, description = "The organization with its new identity provider", body = Organization),
        (status = 400, description = "A missing or invalid field"),
        (status = 403, description = "Not allowed to create identity providers in the organization"),
        (status = 404, description = "No such organization, or not readable by the caller"),
        (status = 409, description = "The organization is deleted"),
    ),
    security(("bearer" = []))
)]
fn add_identity_provider() {}

#[utoipa::path(
    post, path = "/identity/v1/organizations/authorize-initiate", tag = "login-flow", operation_id = "authorizeInitiate",
    summary = "Initiate an interactive login (public)",
    description = "For an active organization's label: a flow token (`nfToken`, to pass as `nf_token` to the token exchange) and the organization's active Auth0 connection ids.",
    request_body = AuthorizeInitiateRequest,
    responses(
        (status = 200, description = "The flow token and connections", body = AuthorizeInitiate),
        (status = 400, description = "A missing or invalid field"),
        (status = 404, description = "No active organization has this label"),
        (status = 429, description = "Too many requests from this client (the gateway's per-client limit; `Retry-After` says when to try again)"),
    )
)]
fn authorize_initiate() {}

// ------------------------------------------------------------------ identity providers

#[utoipa::path(
    get, path = "/identity/v1/identity-providers", tag = "identity-providers", operation_id = "findIdentityProviders",
    summary = "Find identity providers",
    description = "Sortable by `name`, `createdAt`, `organizationId`, `auth0ConnectionType`.",
    params(Paging, FindIdentityProviders),
    responses(
        (status = 200, description = "A page of identity providers", body = Vec<IdentityProvider>, headers(
            ("X-Total-Count" = u64, description = "Items in the whole collection"),
            ("Link" = String, description = "`next`, `prev`, `first`, `last` pages"))),
        (status = 400, description = "A bad filter or paging parameter"),
    ),
    security(("bearer" = []))
)]
fn find_identity_providers() {}

#[utoipa::path(
    post, path = "/identity/v1/identity-providers", tag = "identity-providers", operation_id = "createIdentityProvider",
    summary = "Create an identity provider",
    request_body = CreateIdentityProvider,
    responses(
        (status = 201, description = "The new identity provider", body = IdentityProvider),
        (status = 400, description = "A missing or invalid field (also `organizationId` naming no live organization)"),
        (status = 403, description = "Not allowed to create identity providers in the organization"),
        (status = 409, description = "A conflicting identity provider exists"),
    ),
    security(("bearer" = []))
)]
fn create_identity_provider() {}

#[utoipa::path(
    get, path = "/identity/v1/identity-providers/{id}", tag = "identity-providers", operation_id = "getIdentityProvider",
    summary = "Get an identity provider",
    params(("id" = Uuid, Path, description = "Identity provider id")),
    responses(
        (status = 200, description = "The identity provider", body = IdentityProvider),
        (status = 404, description = "No such identity provider, or not readable by the caller"),
    ),
    security(("bearer" = []))
)]
fn get_identity_provider() {}

#[utoipa::path(
    put, path = "/identity/v1/identity-providers/{id}", tag = "identity-providers", operation_id = "updateIdentityProvider",
    summary = "Rename an identity provider",
    params(("id" = Uuid, Path, description = "Identity provider id")),
    request_body = UpdateIdentityProvider,
    responses(
        (status = 200, description = "The updated identity provider", body = IdentityProvider),
        (status = 400, description = "A missing or invalid field"),
        (status = 403, description = "Readable but not changeable by the caller"),
        (status = 404, description = "No such identity provider, or not readable by the caller"),
        (status = 409, description = "The identity provider is deleted"),
    ),
    security(("bearer" = []))
)]
fn update_identity_provider() {}

#[utoipa::path(
    delete, path = "/identity/v1/identity-providers/{id}", tag = "identity-providers", operation_id = "deleteIdentityProvider",
    summary = "Delete an identity provider",
    params(("id" = Uuid, Path, description = "Identity provider id")),
    responses(
        (status = 200, description = "The deleted identity provider", body = IdentityProvider),
        (status = 403, description = "Readable but not deletable by the caller"),
        (status = 404, description = "No such identity provider, or not readable by the caller"),
        (status = 409, description = "Already deleted"),
    ),
    security(("bearer" = []))
)]
fn delete_identity_provider() {}

#[utoipa::path(
    put, path = "/identity/v1/identity-providers/{id}/{action}", tag = "identity-providers",
    operation_id = "setIdentityProviderActive",
    summary = "Activate or deactivate an identity provider",
    params(
        ("id" = Uuid, Path, description = "Identity provider id"),
        ("action" = String, Path, description = "`activate` or `deactivate`", pattern = "^(activate|deactivate)$"),
    ),
    responses(
        (status = 200, description = "The identity provider", body = IdentityProvider),
        (status = 403, description = "Readable but not changeable by the caller"),
        (status = 404, description = "No such identity provider (or action), or not readable by the caller"),
        (status = 409, description = "Already in that state, or deleted"),
    ),
    security(("bearer" = []))
)]
fn identity_provider_activation() {}

// ------------------------------------------------------------------ default roles

#[utoipa::path(
    get, path = "/identity/v1/default-roles", tag = "default-roles", operation_id = "findDefaultRoles",
    summary = "Find default roles",
    description = "Sortable by `name`, `createdAt`, `organizationId`, `roleType`.",
    params(Paging, FindDefaultRoles),
    responses(
        (status = 200, description = "A page of default roles", body = Vec<DefaultRole>, headers(
            ("X-Total-Count" = u64, description = "Items in the whole collection"),
            ("Link" = String, description = "`next`, `prev`, `first`, `last` pages"))),
        (status = 400, description = "A bad filter or paging parameter"),
    ),
    security(("bearer" = []))
)]
fn find_default_roles() {}

#[utoipa::path(
    post, path = "/identity/v1/default-roles", tag = "default-roles", operation_id = "createDefaultRole",
    summary = "Create a default role",
    description = "The role must exist in the authorization service, be of `roleType`, belong to the organization (custom roles), and be one the caller may grant. New identities of the organization get it.",
    request_body = CreateDefaultRole,
    responses(
        (status = 201, description = "The new default role", body = DefaultRole),
        (status = 400, description = "A missing or invalid field (no such organization or role, wrong role type)"),
        (status = 403, description = "Not allowed to create default roles in the organization, or to grant the role"),
        (status = 409, description = "The organization already has this default role"),
        (status = 503, description = "The authorization service could not be asked about the role"),
    ),
    security(("bearer" = []))
)]
fn create_default_role() {}

#[utoipa::path(
    get, path = "/identity/v1/default-roles/{id}", tag = "default-roles", operation_id = "getDefaultRole",
    summary = "Get a default role",
    params(("id" = Uuid, Path, description = "Default role id")),
    responses(
        (status = 200, description = "The default role", body = DefaultRole),
        (status = 404, description = "No such default role, or not readable by the caller"),
    ),
    security(("bearer" = []))
)]
fn get_default_role() {}

#[utoipa::path(
    delete, path = "/identity/v1/default-roles/{id}", tag = "default-roles", operation_id = "deleteDefaultRole",
    summary = "Delete a default role",
    params(("id" = Uuid, Path, description = "Default role id")),
    responses(
        (status = 200, description = "The deleted default role", body = DefaultRole),
        (status = 403, description = "Readable but not deletable by the caller"),
        (status = 404, description = "No such default role, or not readable by the caller"),
        (status = 409, description = "Already deleted"),
    ),
    security(("bearer" = []))
)]
fn delete_default_role() {}

#[utoipa::path(
    post, path = "/identity/v1/default-roles/{id}/grant", tag = "default-roles", operation_id = "grantDefaultRole",
    summary = "Grant a default role to the organization's identities",
    description = "Every identity of the organization that lacks the role gets it, once (asynchronously, by event). The optional body narrows who.",
    params(("id" = Uuid, Path, description = "Default role id")),
    request_body(content = Option<GrantDefaultRole>, description = "Optional"),
    responses(
        (status = 200, description = "Requested. The map has the identity ids of `includeIdentityIds` (less the excluded ones) with `true`; it is empty when the grant is not narrowed", body = GrantOutcome),
        (status = 400, description = "An invalid field"),
        (status = 403, description = "Readable but not changeable by the caller"),
        (status = 404, description = "No such default role, or not readable by the caller"),
        (status = 409, description = "The default role is deleted"),
    ),
    security(("bearer" = []))
)]
fn grant_default_role() {}

// ------------------------------------------------------------------ OpenID providers

#[utoipa::path(
    get, path = "/identity/v1/open-id-providers", tag = "open-id-providers", operation_id = "findOpenIdProviders",
    summary = "Find OpenID providers",
    description = "Sortable by `name`, `createdAt`, `organizationId`, `issuer`.",
    params(Paging, FindOpenIdProviders),
    responses(
        (status = 200, description = "A page of OpenID providers", body = Vec<OpenIdProvider>, headers(
            ("X-Total-Count" = u64, description = "Items in the whole collection"),
            ("Link" = String, description = "`next`, `prev`, `first`, `last` pages"))),
        (status = 400, description = "A bad filter or paging parameter"),
    ),
    security(("bearer" = []))
)]
fn find_open_id_providers() {}

#[utoipa::path(
    post, path = "/identity/v1/open-id-providers", tag = "open-id-providers", operation_id = "createOpenIdProvider",
    summary = "Create an OpenID provider",
    request_body = CreateOpenIdProvider,
    responses(
        (status = 201, description = "The new OpenID provider", body = OpenIdProvider),
        (status = 400, description = "A missing or invalid field (URLs must be https)"),
        (status = 403, description = "Not allowed to create OpenID providers in the organization"),
        (status = 409, description = "A conflicting OpenID provider exists"),
    ),
    security(("bearer" = []))
)]
fn create_open_id_provider() {}

#[utoipa::path(
    get, path = "/identity/v1/open-id-providers/{id}", tag = "open-id-providers", operation_id = "getOpenIdProvider",
    summary = "Get an OpenID provider",
    params(("id" = Uuid, Path, description = "OpenID provider id")),
    responses(
        (status = 200, description = "The OpenID provider", body = OpenIdProvider),
        (status = 404, description = "No such OpenID provider, or not readable by the caller"),
    ),
    security(("bearer" = []))
)]
fn get_open_id_provider() {}

#[utoipa::path(
    patch, path = "/identity/v1/open-id-providers/{id}", tag = "open-id-providers", operation_id = "updateOpenIdProvider",
    summary = "Change an OpenID provider's name or active flag",
    params(("id" = Uuid, Path, description = "OpenID provider id")),
    request_body = UpdateOpenIdProvider,
    responses(
        (status = 200, description = "The updated OpenID provider", body = OpenIdProvider),
        (status = 400, description = "No field given, or an invalid one"),
        (status = 403, description = "Readable but not changeable by the caller"),
        (status = 404, description = "No such OpenID provider, or not readable by the caller"),
        (status = 409, description = "The OpenID provider is deleted"),
    ),
    security(("bearer" = []))
)]
fn update_open_id_provider() {}

#[utoipa::path(
    delete, path = "/identity/v1/open-id-providers/{id}", tag = "open-id-providers", operation_id = "deleteOpenIdProvider",
    summary = "Delete an OpenID provider",
    params(("id" = Uuid, Path, description = "OpenID provider id")),
    responses(
        (status = 200, description = "The deleted OpenID provider", body = OpenIdProvider),
        (status = 403, description = "Readable but not deletable by the caller"),
        (status = 404, description = "No such OpenID provider, or not readable by the caller"),
        (status = 409, description = "Already deleted"),
    ),
    security(("bearer" = []))
)]
fn delete_open_id_provider() {}

// ------------------------------------------------------------------ preferences

#[utoipa::path(
    get, path = "/identity/v1/organization-preferences", tag = "organization-preferences",
    operation_id = "findOrganizationPreferences",
    summary = "Find organization preferences",
    description = "Sortable by `createdAt`, `updatedAt`, `organizationId`.",
    params(Paging, FindOrganizationPreferences),
    responses(
        (status = 200, description = "A page of preferences", body = Vec<OrganizationPreference>, headers(
            ("X-Total-Count" = u64, description = "Items in the whole collection"),
            ("Link" = String, description = "`next`, `prev`, `first`, `last` pages"))),
        (status = 400, description = "A bad filter or paging parameter"),
    ),
    security(("bearer" = []))
)]
fn find_organization_preferences() {}

#[utoipa::path(
    post, path = "/identity/v1/organization-preferences", tag = "organization-preferences",
    operation_id = "createOrganizationPreference",
    summary = "Create organization preferences",
    request_body = CreateOrganizationPreference,
    responses(
        (status = 201, description = "The new preferences", body = OrganizationPreference),
        (status = 400, description = "A missing or invalid field (`preferences` must be an object)"),
        (status = 403, description = "Not allowed to create preferences in the organization"),
        (status = 409, description = "The organization already has preferences"),
    ),
    security(("bearer" = []))
)]
fn create_organization_preference() {}

#[utoipa::path(
    get, path = "/identity/v1/organization-preferences/{id}", tag = "organization-preferences",
    operation_id = "getOrganizationPreference",
    summary = "Get organization preferences",
    params(("id" = Uuid, Path, description = "Preference id")),
    responses(
        (status = 200, description = "The preferences", body = OrganizationPreference),
        (status = 404, description = "No such preferences, or not readable by the caller"),
    ),
    security(("bearer" = []))
)]
fn get_organization_preference() {}

#[utoipa::path(
    put, path = "/identity/v1/organization-preferences/{id}", tag = "organization-preferences",
    operation_id = "updateOrganizationPreference",
    summary = "Replace organization preferences",
    params(("id" = Uuid, Path, description = "Preference id")),
    request_body = UpdateOrganizationPreference,
    responses(
        (status = 200, description = "The updated preferences", body = OrganizationPreference),
        (status = 400, description = "`preferences` missing or not an object"),
        (status = 403, description = "Readable but not changeable by the caller"),
        (status = 404, description = "No such preferences, or not readable by the caller"),
        (status = 409, description = "The preferences are deleted"),
    ),
    security(("bearer" = []))
)]
fn update_organization_preference() {}

#[utoipa::path(
    delete, path = "/identity/v1/organization-preferences/{id}", tag = "organization-preferences",
    operation_id = "deleteOrganizationPreference",
    summary = "Delete organization preferences",
    params(("id" = Uuid, Path, description = "Preference id")),
    responses(
        (status = 200, description = "The deleted preferences", body = OrganizationPreference),
        (status = 403, description = "Readable but not deletable by the caller"),
        (status = 404, description = "No such preferences, or not readable by the caller"),
        (status = 409, description = "Already deleted"),
    ),
    security(("bearer" = []))
)]
fn delete_organization_preference() {}
