//! The invitation service: invitations, the public key-based flow, support requests.

// Each function stands for one operation; only its attribute matters.
#![allow(dead_code)]

use idp_model::invitation::{FlowInitiated, Invitation, InvitationByKey};
use utoipa::OpenApi;

use crate::schemas::*;

#[derive(OpenApi)]
#[openapi(
    paths(
        find_invitations,
        create_invitation,
        get_invitation,
        respond_to_invitation,
        revoke_invitation,
        get_invitation_by_key,
        decline_invitation_by_key,
        accept_initiate,
        accept_complete,
        create_support_request,
    ),
    components(schemas(idp_model::Problem, idp_model::FieldError)),
    tags(
        (name = "invitations", description = "Invitations into organizations"),
        (name = "invitation-flow", description = "The public flow of an invitation's recipient, by the key of the mailed link"),
        (name = "support", description = "Support requests"),
    )
)]
pub struct InvitationApi;

#[utoipa::path(
    get, path = "/identity/v1/invitations", tag = "invitations", operation_id = "findInvitations",
    summary = "Find invitations",
    description = "The invitations of the organizations whose invitations the caller may read; all filters AND'ed. Sortable by `id`, `expiration`, `invitedEmailAddress`, `createdAt`, `responseReceivedAt`.",
    params(Paging, FindInvitations),
    responses(
        (status = 200, description = "A page of invitations", body = Vec<Invitation>, headers(
            ("X-Total-Count" = u64, description = "Items in the whole collection"),
            ("Link" = String, description = "`next`, `prev`, `first`, `last` pages"))),
        (status = 400, description = "A bad filter or paging parameter"),
    ),
    security(("bearer" = []))
)]
fn find_invitations() {}

#[utoipa::path(
    post, path = "/identity/v1/invitations", tag = "invitations", operation_id = "createInvitation",
    summary = "Invite someone into an organization",
    description = "Mails the invitation's link (with its key) to `invitedEmailAddress`. `toOrganizationId` (or the deprecated `toTenantId`) and `invitedEmailAddress` are required.",
    request_body = CreateInvitation,
    responses(
        (status = 201, description = "The new invitation", body = Invitation),
        (status = 400, description = "A missing or invalid field (named in `errors`)"),
        (status = 403, description = "Not allowed to invite into the organization"),
        (status = 409, description = "The organization is not active"),
    ),
    security(("bearer" = []))
)]
fn create_invitation() {}

#[utoipa::path(
    get, path = "/identity/v1/invitations/{id}", tag = "invitations", operation_id = "getInvitation",
    summary = "Get an invitation",
    params(("id" = Uuid, Path, description = "Invitation id")),
    responses(
        (status = 200, description = "The invitation", body = Invitation),
        (status = 404, description = "No such invitation, or not readable by the caller"),
    ),
    security(("bearer" = []))
)]
fn get_invitation() {}

#[utoipa::path(
    put, path = "/identity/v1/invitations/{id}/{action}", tag = "invitations", operation_id = "respondToInvitation",
    summary = "Accept or decline an invitation (plain state update)",
    description = "Not the usual way to accept or decline (see the key-based flow): a straight update of the invitation's state that maps nobody.",
    params(
        ("id" = Uuid, Path, description = "Invitation id"),
        ("action" = String, Path, description = "`accept` or `decline`", pattern = "^(accept|decline)$"),
    ),
    responses(
        (status = 200, description = "The invitation", body = Invitation),
        (status = 403, description = "Readable but not changeable by the caller"),
        (status = 404, description = "No such invitation (or action), or not readable by the caller"),
        (status = 409, description = "The invitation's state forbids it (not open)"),
    ),
    security(("bearer" = []))
)]
fn respond_to_invitation() {}

#[utoipa::path(
    put, path = "/identity/v1/invitations/{id}/revoke", tag = "invitations", operation_id = "revokeInvitation",
    summary = "Revoke an invitation",
    params(("id" = Uuid, Path, description = "Invitation id")),
    responses(
        (status = 200, description = "The revoked invitation", body = Invitation),
        (status = 403, description = "Readable but not changeable by the caller"),
        (status = 404, description = "No such invitation, or not readable by the caller"),
        (status = 409, description = "The invitation's state forbids it (not open)"),
    ),
    security(("bearer" = []))
)]
fn revoke_invitation() {}

#[utoipa::path(
    get, path = "/identity/v1/invitations/key/{key}", tag = "invitation-flow", operation_id = "getInvitationByKey",
    summary = "Get an invitation by its key (public)",
    params(("key" = String, Path, description = "The key of the mailed link: 36 letters and digits", pattern = "^[A-Za-z0-9]{36}$")),
    responses(
        (status = 200, description = "The invitation as its recipient sees it", body = InvitationByKey),
        (status = 404, description = "No invitation has this key"),
    )
)]
fn get_invitation_by_key() {}

#[utoipa::path(
    put, path = "/identity/v1/invitations/key/{key}/decline", tag = "invitation-flow", operation_id = "declineInvitationByKey",
    summary = "Decline an invitation by its key (public)",
    params(("key" = String, Path, description = "The key of the mailed link", pattern = "^[A-Za-z0-9]{36}$")),
    responses(
        (status = 200, description = "The declined invitation", body = InvitationByKey),
        (status = 404, description = "No invitation has this key"),
        (status = 409, description = "The invitation is not open"),
    )
)]
fn decline_invitation_by_key() {}

#[utoipa::path(
    post, path = "/identity/v1/invitations/key/{key}/accept-initiate", tag = "invitation-flow", operation_id = "acceptInitiate",
    summary = "Initiate accepting an invitation (public)",
    description = "For an open invitation into an active organization: a flow token (`nfToken`) and the organization's active Auth0 connection ids. The body is optional.",
    params(("key" = String, Path, description = "The key of the mailed link", pattern = "^[A-Za-z0-9]{36}$")),
    request_body(content = Option<AcceptInitiate>, description = "Optional"),
    responses(
        (status = 200, description = "The flow token and connections", body = FlowInitiated),
        (status = 400, description = "An invalid field (`intermediateReturnUrl` must be an http(s) URL)"),
        (status = 404, description = "No invitation has this key"),
        (status = 409, description = "The invitation is not open, or its organization is not active"),
    )
)]
fn accept_initiate() {}

#[utoipa::path(
    post, path = "/identity/v1/invitations/key/{key}/accept-complete", tag = "invitation-flow", operation_id = "acceptComplete",
    summary = "Complete accepting an invitation (public)",
    description = "With the `nfToken` of accept-initiate and an ID token of the login at one of the organization's OpenID providers: accepts the invitation and creates (or maps) the user identity in the organization. 202 when the identity is not yet visible (it arrives by event).",
    params(("key" = String, Path, description = "The key of the mailed link", pattern = "^[A-Za-z0-9]{36}$")),
    request_body = AcceptComplete,
    responses(
        (status = 200, description = "The accepted invitation", body = Invitation),
        (status = 202, description = "The accepted invitation; the identity is not yet visible", body = Invitation),
        (status = 400, description = "A missing or invalid field"),
        (status = 401, description = "The flow token or the ID token is invalid or expired"),
        (status = 403, description = "The provider does not vouch for the invited address as the login's verified email (ID token `email` with `email_verified`, or its userinfo endpoint with `accessToken`); nothing changes"),
        (status = 404, description = "No invitation has this key"),
        (status = 409, description = "The invitation is not open, or its organization is not active"),
    )
)]
fn accept_complete() {}

#[utoipa::path(
    post, path = "/identity/v1/nfconsole/support/requests", tag = "support", operation_id = "createSupportRequest",
    summary = "Create a support request (public)",
    description = "`subject` and `comment` are required; without a token, `name` and `email` are too. `type` is one of `problem`, `incident`, `question` (default), `task`; `priority` one of `urgent`, `high`, `normal` (default), `low`; `severity` one of `Severity1`, `Severity2`, `Severity3` (default).",
    request_body = SupportRequest,
    responses(
        (status = 200, description = "Queued for mailing (no body)"),
        (status = 400, description = "A missing or invalid field (named in `errors`)"),
        (status = 401, description = "A bearer token was sent and is invalid"),
    )
)]
fn create_support_request() {}
