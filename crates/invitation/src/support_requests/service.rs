//! What `POST /nfconsole/support/requests` (public) does (its handler in `routes`
//! calls this): a support request, validated, stored, and mailed to `mail.support_to` through the mail outbox. With a valid
//! token the caller's identity and organization are attached, and its own name and
//! email (the read model of identities) replace the body's; without one, the body's
//! name and email are what the answer goes to and `selectedOrganizationId` is
//! ignored (anyone may claim any organization).

use idp_runtime::auth::Caller;
use idp_runtime::error::{ApiError, ApiResult};
use sea_orm::EntityTrait;

use super::store;
use super::types::{SupportRequest, SUPPORT_PRIORITIES, SUPPORT_SEVERITIES, SUPPORT_TYPES};
use crate::mail::{self, Message};
use crate::state::AppState;
use crate::store::identity_seen;

fn required(v: Option<&str>, field: &str, max: usize) -> ApiResult<String> {
    let v = v.map(str::trim).unwrap_or("");
    if v.is_empty() {
        return Err(ApiError::invalid(field, "is required and cannot be empty"));
    }
    if v.chars().count() > max {
        return Err(ApiError::invalid(
            field,
            format!("at most {max} characters"),
        ));
    }
    Ok(v.to_string())
}

fn one_of(v: Option<&str>, field: &str, allowed: &[&str], default: &str) -> ApiResult<String> {
    match v.map(str::trim) {
        None | Some("") => Ok(default.to_string()),
        Some(s) if allowed.contains(&s) => Ok(s.to_string()),
        Some(s) => Err(ApiError::invalid(
            field,
            format!(
                "'{s}' is not allowed; must be one of [{}]",
                allowed.join(", ")
            ),
        )),
    }
}

fn optional(v: Option<&str>, field: &str, max: usize) -> ApiResult<Option<String>> {
    match v.map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) if s.chars().count() > max => Err(ApiError::invalid(
            field,
            format!("at most {max} characters"),
        )),
        Some(s) => Ok(Some(s.to_string())),
    }
}

/// Validates, stores and mails a support request from `caller` (`None`: without
/// a token), in one unit of work; the mailer is woken after the commit.
pub async fn create(st: &AppState, caller: Option<&Caller>, body: SupportRequest) -> ApiResult<()> {
    let subject = required(body.subject.as_deref(), "subject", 500)?;
    let comment = required(body.comment.as_deref(), "comment", 20_000)?;
    let kind = one_of(body.kind.as_deref(), "type", SUPPORT_TYPES, "question")?;
    let priority = one_of(
        body.priority.as_deref(),
        "priority",
        SUPPORT_PRIORITIES,
        "normal",
    )?;
    let severity = one_of(
        body.severity.as_deref(),
        "severity",
        SUPPORT_SEVERITIES,
        "Severity3",
    )?;
    let body_name = optional(body.name.as_deref(), "name", 200)?;
    let body_email = optional(body.email.as_deref(), "email", 254)?;
    let selected_org = optional(
        body.selected_organization_id.as_deref(),
        "selectedOrganizationId",
        64,
    )?;
    let selected_net = optional(body.selected_network_id.as_deref(), "selectedNetworkId", 64)?;
    let errors = body.recent_error_messages.unwrap_or_default();
    if errors.len() > 50 {
        return Err(ApiError::invalid(
            "recentErrorMessages",
            "at most 50 messages",
        ));
    }
    if let Some(i) = errors.iter().position(|e| e.chars().count() > 4000) {
        return Err(ApiError::invalid(
            &format!("recentErrorMessages[{i}]"),
            "at most 4000 characters",
        ));
    }
    let (identity_id, organization_id, name, email, selected_org) = match caller {
        Some(c) => {
            // The token says who asks: its identity's own name and email (as the
            // identity service's events describe it), never what the body claims.
            let (name, email) = identity_seen::Entity::find_by_id(c.identity_id().as_uuid())
                .one(&st.db)
                .await?
                .map(|i| (i.name, i.email))
                .unwrap_or_default();
            (
                Some(c.identity_id().as_uuid()),
                Some(c.organization_id().as_uuid()),
                name,
                email,
                selected_org,
            )
        }
        None => {
            // Unauthenticated: name and email are what the ticket is answered to.
            let Some(name) = body_name else {
                return Err(ApiError::invalid("name", "is required without a token"));
            };
            match body_email.as_deref() {
                None => return Err(ApiError::invalid("email", "is required without a token")),
                Some(e) if !e.contains('@') => {
                    return Err(ApiError::invalid("email", "is not an email address"))
                }
                Some(_) => {}
            }
            // Anyone can claim an organization; without a token none is attached.
            (None, None, Some(name), body_email, None)
        }
    };
    let now = st.now();
    let id = uuid::Uuid::now_v7();
    let recent = if errors.is_empty() {
        None
    } else {
        Some(serde_json::to_string(&errors).map_err(ApiError::internal)?)
    };
    let text = format!(
        "Support request {id}\r\n\
         From: {} <{}>\r\nIdentity: {}\r\nOrganization: {}\r\n\
         Selected organization: {}\r\nSelected network: {}\r\n\
         Type: {kind}\r\nPriority: {priority}\r\nSeverity: {severity}\r\n\r\n{comment}\r\n{}",
        name.as_deref().unwrap_or("-"),
        email.as_deref().unwrap_or("-"),
        identity_id
            .map(|i| i.to_string())
            .unwrap_or_else(|| "-".into()),
        organization_id
            .map(|i| i.to_string())
            .unwrap_or_else(|| "-".into()),
        selected_org.as_deref().unwrap_or("-"),
        selected_net.as_deref().unwrap_or("-"),
        if errors.is_empty() {
            String::new()
        } else {
            format!("\r\nRecent errors:\r\n{}\r\n", errors.join("\r\n"))
        }
    );
    let message = Message {
        recipient: st.mail.support_to.clone(),
        subject: format!("[support/{kind}/{priority}/{severity}] {subject}"),
        body: text,
    };
    let mut w = st.work.begin().await?;
    store::insert(
        w.txn(),
        store::Model {
            id,
            identity_id,
            organization_id,
            name,
            email,
            selected_organization_id: selected_org,
            selected_network_id: selected_net,
            subject,
            comment,
            kind,
            priority,
            severity,
            recent_error_messages: recent,
            created_at: now,
        },
    )
    .await?;
    mail::enqueue(w.txn(), message, now).await?;
    let mailer = st.mailer.clone();
    w.after_commit(move || mailer.wake());
    w.commit().await?;
    tracing::info!(support_request_id = %id, "support request received");
    Ok(())
}
