//! The authorization service (`/auth/v1`): resource types and actions, roles,
//! grants, checks, effective permissions, the ACL, and its served documents.

// Each function stands for one operation; only its attribute matters.
#![allow(dead_code)]

use idp_model::authorization::{
    AclEntry, Grant, GrantCheck, GrantCheckAllowed, ResourceAction, ResourceType, Role,
    RoleGrantReplacement,
};
use idp_model::authz::EffectivePermission;
use utoipa::OpenApi;

use crate::schemas::*;

#[derive(OpenApi)]
#[openapi(
    paths(
        find_resource_types,
        create_resource_type,
        get_resource_type,
        find_resource_actions,
        create_resource_action,
        get_resource_action,
        find_roles,
        create_role,
        get_role,
        update_role,
        delete_role,
        find_role_grants,
        create_role_grant,
        get_role_grant,
        replace_role_grant,
        delete_role_grant,
        find_action_grants,
        create_action_grant,
        get_action_grant,
        delete_action_grant,
        find_grants,
        get_grant,
        check,
        permissions,
        acl,
        grant_check,
        crate::docs::authorization_document,
        crate::docs::authorization_page,
    ),
    components(schemas(idp_model::Problem, idp_model::FieldError)),
    tags(
        (name = "resource-types", description = "Kinds of resources, registered by the services that own them"),
        (name = "resource-actions", description = "What can be done to a resource type"),
        (name = "roles", description = "Standard (seeded, immutable) and custom roles: sets of resource actions"),
        (name = "identity-roles", description = "Grants of a role to an identity"),
        (name = "identity-resource-actions", description = "Grants of a single resource action to an identity"),
        (name = "grants", description = "Every grant, of roles and of actions"),
        (name = "checks", description = "Permission checks, effective permissions, who has access"),
        (name = "docs", description = "These documents"),
    )
)]
pub struct AuthorizationApi;

// ------------------------------------------------------------------ catalog

#[utoipa::path(
    get, path = "/auth/v1/resource-types", tag = "resource-types", operation_id = "findResourceTypes",
    summary = "Find resource types",
    description = "Sortable by `code`, `name`, `createdAt`.",
    params(Paging, FindResourceTypes),
    responses(
        (status = 200, description = "A page of resource types", body = Vec<ResourceType>, headers(
            ("X-Total-Count" = u64, description = "Items in the whole collection"),
            ("Link" = String, description = "`next`, `prev`, `first`, `last` pages"))),
        (status = 400, description = "A bad filter or paging parameter"),
        (status = 403, description = "Not allowed to read resource types"),
    ),
    security(("bearer" = []))
)]
fn find_resource_types() {}

#[utoipa::path(
    post, path = "/auth/v1/resource-types", tag = "resource-types", operation_id = "createResourceType",
    summary = "Register a resource type",
    request_body = NewResourceType,
    responses(
        (status = 201, description = "The new resource type", body = ResourceType),
        (status = 400, description = "A missing or invalid field (`code`: lowercase letters, digits and dashes)"),
        (status = 403, description = "Not allowed to register resource types"),
        (status = 409, description = "The code is taken"),
    ),
    security(("bearer" = []))
)]
fn create_resource_type() {}

#[utoipa::path(
    get, path = "/auth/v1/resource-types/{id}", tag = "resource-types", operation_id = "getResourceType",
    summary = "Get a resource type",
    params(("id" = Uuid, Path, description = "Resource type id")),
    responses(
        (status = 200, description = "The resource type", body = ResourceType),
        (status = 404, description = "No such resource type, or not readable by the caller"),
    ),
    security(("bearer" = []))
)]
fn get_resource_type() {}

#[utoipa::path(
    get, path = "/auth/v1/resource-actions", tag = "resource-actions", operation_id = "findResourceActions",
    summary = "Find resource actions",
    description = "Sortable by `code`, `name`, `resourceTypeId`, `resourceTypeCode`, `createdAt`.",
    params(Paging, FindResourceActions),
    responses(
        (status = 200, description = "A page of resource actions", body = Vec<ResourceAction>, headers(
            ("X-Total-Count" = u64, description = "Items in the whole collection"),
            ("Link" = String, description = "`next`, `prev`, `first`, `last` pages"))),
        (status = 400, description = "A bad filter or paging parameter"),
        (status = 403, description = "Not allowed to read resource types"),
    ),
    security(("bearer" = []))
)]
fn find_resource_actions() {}

#[utoipa::path(
    post, path = "/auth/v1/resource-actions", tag = "resource-actions", operation_id = "createResourceAction",
    summary = "Register a resource action",
    request_body = NewResourceAction,
    responses(
        (status = 201, description = "The new resource action", body = ResourceAction),
        (status = 400, description = "A missing or invalid field (also `resourceTypeId` naming no resource type)"),
        (status = 403, description = "Not allowed to register resource actions"),
        (status = 409, description = "The code is taken within the resource type"),
    ),
    security(("bearer" = []))
)]
fn create_resource_action() {}

#[utoipa::path(
    get, path = "/auth/v1/resource-actions/{id}", tag = "resource-actions", operation_id = "getResourceAction",
    summary = "Get a resource action",
    params(("id" = Uuid, Path, description = "Resource action id")),
    responses(
        (status = 200, description = "The resource action", body = ResourceAction),
        (status = 404, description = "No such resource action, or not readable by the caller"),
    ),
    security(("bearer" = []))
)]
fn get_resource_action() {}

// ------------------------------------------------------------------ roles

#[utoipa::path(
    get, path = "/auth/v1/roles", tag = "roles", operation_id = "findRoles",
    summary = "Find roles",
    description = "Standard roles and the custom roles of the organizations the caller may read roles in. Sortable by `name`, `roleType`, `organizationId`, `createdAt`, `lastModified`.",
    params(Paging, FindRoles),
    responses(
        (status = 200, description = "A page of roles", body = Vec<Role>, headers(
            ("X-Total-Count" = u64, description = "Items in the whole collection"),
            ("Link" = String, description = "`next`, `prev`, `first`, `last` pages"))),
        (status = 400, description = "A bad filter or paging parameter"),
        (status = 403, description = "Not allowed to read roles anywhere"),
    ),
    security(("bearer" = []))
)]
fn find_roles() {}

#[utoipa::path(
    post, path = "/auth/v1/roles", tag = "roles", operation_id = "createRole",
    summary = "Create a custom role",
    description = "A custom role of an organization (default: the caller's), optionally starting from a base role's actions.",
    request_body = NewRole,
    responses(
        (status = 201, description = "The new role", body = Role),
        (status = 400, description = "A missing or invalid field (unknown base role or action ids)"),
        (status = 403, description = "Not allowed to create roles in the organization, or to give one of the actions"),
        (status = 409, description = "The name is taken in the organization"),
    ),
    security(("bearer" = []))
)]
fn create_role() {}

#[utoipa::path(
    get, path = "/auth/v1/roles/{id}", tag = "roles", operation_id = "getRole",
    summary = "Get a role",
    params(("id" = Uuid, Path, description = "Role id")),
    responses(
        (status = 200, description = "The role", body = Role),
        (status = 404, description = "No such role, or not readable by the caller"),
    ),
    security(("bearer" = []))
)]
fn get_role() {}

#[utoipa::path(
    put, path = "/auth/v1/roles/{id}", tag = "roles", operation_id = "updateRole",
    summary = "Update a custom role",
    description = "The fields given replace the role's.",
    params(("id" = Uuid, Path, description = "Role id")),
    request_body = RoleUpdate,
    responses(
        (status = 200, description = "The updated role", body = Role),
        (status = 400, description = "An invalid field"),
        (status = 403, description = "Not allowed to update roles in the role's organization"),
        (status = 404, description = "No such role, or not readable by the caller"),
        (status = 409, description = "A standard role, or the name is taken"),
    ),
    security(("bearer" = []))
)]
fn update_role() {}

#[utoipa::path(
    delete, path = "/auth/v1/roles/{id}", tag = "roles", operation_id = "deleteRole",
    summary = "Delete a custom role",
    params(("id" = Uuid, Path, description = "Role id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Not allowed to delete roles in the role's organization"),
        (status = 404, description = "No such role, or not readable by the caller"),
        (status = 409, description = "A standard role, or a role still granted"),
    ),
    security(("bearer" = []))
)]
fn delete_role() {}

// ------------------------------------------------------------------ role grants

#[utoipa::path(
    get, path = "/auth/v1/identity-roles", tag = "identity-roles", operation_id = "findRoleGrants",
    summary = "Find role grants",
    description = "Live role grants the caller may read. Sortable by `identityId`, `roleId`, `roleName`, `resourceActionId`, `organizationId`, `createdAt`, `lastModified`.",
    params(Paging, FindGrants),
    responses(
        (status = 200, description = "A page of grants", body = Vec<Grant>, headers(
            ("X-Total-Count" = u64, description = "Items in the whole collection"),
            ("Link" = String, description = "`next`, `prev`, `first`, `last` pages"))),
        (status = 400, description = "A bad filter or paging parameter"),
    ),
    security(("bearer" = []))
)]
fn find_role_grants() {}

#[utoipa::path(
    post, path = "/auth/v1/identity-roles", tag = "identity-roles", operation_id = "createRoleGrant",
    summary = "Grant a role to an identity",
    description = "`organizationId` left out: the identity's organization; `null`: platform-wide (super admins only). The caller must hold every action the role gives in that scope.",
    request_body = NewRoleGrant,
    responses(
        (status = 201, description = "The new grant", body = Grant),
        (status = 400, description = "A missing or invalid field (unknown role, a role of another organization)"),
        (status = 403, description = "Not allowed to grant here, or the caller lacks an action the role gives"),
        (status = 409, description = "The identity already has this grant"),
    ),
    security(("bearer" = []))
)]
fn create_role_grant() {}

#[utoipa::path(
    get, path = "/auth/v1/identity-roles/{id}", tag = "identity-roles", operation_id = "getRoleGrant",
    summary = "Get a role grant",
    params(("id" = Uuid, Path, description = "Grant id")),
    responses(
        (status = 200, description = "The grant", body = Grant),
        (status = 404, description = "No such role grant, or not readable by the caller"),
    ),
    security(("bearer" = []))
)]
fn get_role_grant() {}

#[utoipa::path(
    put, path = "/auth/v1/identity-roles/{id}", tag = "identity-roles", operation_id = "replaceRoleGrant",
    summary = "Replace a grant's role",
    description = "Revokes the grant and grants the new role in the same scope, in one step.",
    params(("id" = Uuid, Path, description = "Grant id")),
    request_body = RoleGrantReplacement,
    responses(
        (status = 200, description = "The new grant", body = Grant),
        (status = 400, description = "A missing or invalid field (unknown role)"),
        (status = 403, description = "Not allowed to change grants here"),
        (status = 404, description = "No such role grant, or not readable by the caller"),
        (status = 409, description = "An immutable grant, the same role, or a duplicate grant"),
    ),
    security(("bearer" = []))
)]
fn replace_role_grant() {}

#[utoipa::path(
    delete, path = "/auth/v1/identity-roles/{id}", tag = "identity-roles", operation_id = "revokeRoleGrant",
    summary = "Revoke a role grant",
    params(("id" = Uuid, Path, description = "Grant id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 403, description = "Not allowed to revoke grants here"),
        (status = 404, description = "No such role grant, or not readable by the caller"),
        (status = 409, description = "An immutable grant"),
    ),
    security(("bearer" = []))
)]
fn delete_role_grant() {}

// ------------------------------------------------------------------ action grants

#[utoipa::path(
    get, path = "/auth/v1/identity-resource-actions", tag = "identity-resource-actions", operation_id = "findActionGrants",
    summary = "Find single-action grants",
    description = "Sortable by `identityId`, `roleId`, `roleName`, `resourceActionId`, `organizationId`, `createdAt`, `lastModified`.",
    params(Paging, FindGrants),
    responses(
        (status = 200, description = "A page of grants", body = Vec<Grant>, headers(
            ("X-Total-Count" = u64, description = "Items in the whole collection"),
            ("Link" = String, description = "`next`, `prev`, `first`, `last` pages"))),
        (status = 400, description = "A bad filter or paging parameter"),
    ),
    security(("bearer" = []))
)]
fn find_action_grants() {}

#[utoipa::path(
    post, path = "/auth/v1/identity-resource-actions", tag = "identity-resource-actions", operation_id = "createActionGrant",
    summary = "Grant a single resource action to an identity",
    description = "As the guide does: `{identityId, resourceActionId, path: []}`. Scope as for role grants.",
    request_body = NewActionGrant,
    responses(
        (status = 201, description = "The new grant", body = Grant),
        (status = 400, description = "A missing or invalid field (unknown resource action)"),
        (status = 403, description = "Not allowed to grant here, or the caller lacks the action"),
        (status = 409, description = "The identity already has this grant"),
    ),
    security(("bearer" = []))
)]
fn create_action_grant() {}

#[utoipa::path(
    get, path = "/auth/v1/identity-resource-actions/{id}", tag = "identity-resource-actions", operation_id = "getActionGrant",
    summary = "Get a single-action grant",
    params(("id" = Uuid, Path, description = "Grant id")),
    responses(
        (status = 200, description = "The grant", body = Grant),
        (status = 404, description = "No such action grant, or not readable by the caller"),
    ),
    security(("bearer" = []))
)]
fn get_action_grant() {}

#[utoipa::path(
    delete, path = "/auth/v1/identity-resource-actions/{id}", tag = "identity-resource-actions", operation_id = "revokeActionGrant",
    summary = "Revoke a single-action grant",
    params(("id" = Uuid, Path, description = "Grant id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 403, description = "Not allowed to revoke grants here"),
        (status = 404, description = "No such action grant, or not readable by the caller"),
        (status = 409, description = "An immutable grant"),
    ),
    security(("bearer" = []))
)]
fn delete_action_grant() {}

// ------------------------------------------------------------------ grants

#[utoipa::path(
    get, path = "/auth/v1/grants", tag = "grants", operation_id = "findGrants",
    summary = "Find grants of roles and of actions",
    description = "With `resourceActionId` also the role grants whose role carries the action (the guide's verification step). Sortable by `identityId`, `roleId`, `roleName`, `resourceActionId`, `organizationId`, `createdAt`, `lastModified`.",
    params(Paging, FindGrants),
    responses(
        (status = 200, description = "A page of grants", body = Vec<Grant>, headers(
            ("X-Total-Count" = u64, description = "Items in the whole collection"),
            ("Link" = String, description = "`next`, `prev`, `first`, `last` pages"))),
        (status = 400, description = "A bad filter or paging parameter"),
    ),
    security(("bearer" = []))
)]
fn find_grants() {}

#[utoipa::path(
    get, path = "/auth/v1/grants/{id}", tag = "grants", operation_id = "getGrant",
    summary = "Get a grant",
    params(("id" = Uuid, Path, description = "Grant id")),
    responses(
        (status = 200, description = "The grant", body = Grant),
        (status = 404, description = "No such grant, or not readable by the caller"),
    ),
    security(("bearer" = []))
)]
fn get_grant() {}

// ------------------------------------------------------------------ checks

#[utoipa::path(
    post, path = "/auth/v1/checks", tag = "checks", operation_id = "check",
    summary = "Check permissions",
    description = "One check (an object) answers one result; a batch (an array, or `{\"checks\": [...]}`, at most 1000) answers the results in the same order and shape. Checking another identity needs `grant:read` over the resource's scope.",
    request_body = CheckInput,
    responses(
        (status = 200, description = "Allowed or not, and the grant and role that allow it", body = CheckOutput),
        (status = 400, description = "A missing or invalid field, or too many checks"),
        (status = 403, description = "Not allowed to check another identity there"),
    ),
    security(("bearer" = []))
)]
fn check() {}

#[utoipa::path(
    get, path = "/auth/v1/identities/{id}/permissions", tag = "checks", operation_id = "getPermissions",
    summary = "An identity's effective permissions",
    description = "Each permission names the grant and role it comes from. Always allowed for one's own; for another identity, the permissions in the scopes where the caller holds `grant:read`.",
    params(("id" = Uuid, Path, description = "Identity id")),
    responses(
        (status = 200, description = "The permissions", body = Vec<EffectivePermission>),
        (status = 404, description = "Not readable by the caller"),
    ),
    security(("bearer" = []))
)]
fn permissions() {}

#[utoipa::path(
    get, path = "/auth/v1/acl", tag = "checks", operation_id = "getAcl",
    summary = "Who may do what on a resource",
    description = "Needs `grant:read` over the resource's scope. Sortable by `identityId`, `action`, `organizationId`, `roleName`.",
    params(Paging, AclQuery),
    responses(
        (status = 200, description = "A page of ACL entries", body = Vec<AclEntry>, headers(
            ("X-Total-Count" = u64, description = "Items in the whole collection"),
            ("Link" = String, description = "`next`, `prev`, `first`, `last` pages"))),
        (status = 400, description = "A missing or invalid parameter (`resourceType` is required)"),
        (status = 404, description = "Not readable by the caller"),
    ),
    security(("bearer" = []))
)]
fn acl() {}

#[utoipa::path(
    post, path = "/auth/v1/grant-checks", tag = "checks", operation_id = "grantCheck",
    summary = "May the caller give these roles in an organization?",
    description = "By the grant rule (`crates/authorization/ENDPOINT_ACTIONS.md`): giving needs `grant:create` and every action of the role in the organization. `defaultRoles: true` adds the organization's live default roles. The other services ask it before a change whose grants follow by event (a new identity's default roles, a default role granted to everyone).",
    request_body = GrantCheck,
    responses(
        (status = 200, description = "Allowed: the roles checked", body = GrantCheckAllowed),
        (status = 400, description = "A missing or invalid field, an unknown role, or more than 100 roles"),
        (status = 403, description = "Not allowed: names the role and what the caller lacks"),
        (status = 404, description = "An organization where the caller holds nothing"),
    ),
    security(("bearer" = []))
)]
fn grant_check() {}
