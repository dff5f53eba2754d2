//! Outgoing mail through an outbox: a message is written to `mail_outbox` in the
//! transaction of the change it reports (so it is never lost), and the mailer
//! delivers unsent rows and marks them sent (clearing the body, which may hold an
//! invitation key).
//!
//! Delivery is by SMTP (lettre; plain, STARTTLS or TLS with rustls) when
//! `mail.smtp_url` (`SMTP_URL`) is set, else to `{mail.dir}/{id}.eml`, written
//! atomically (temporary file, then rename) and logged by path.
//!
//! - **Never lost**: a failed delivery stays queued and is retried with backoff
//!   (`retry_base_ms`, doubled per failure up to `retry_max_ms`) for as long as it
//!   takes; a message the server refuses for good (5xx) is parked at the longest
//!   backoff and logged, never dropped.
//! - **Never sent twice**: a sender first claims a message with one conditional
//!   UPDATE that sets its `next_attempt_at` to a lease longer than an SMTP
//!   conversation may last, so two senders (replicas, or passes) cannot both hold
//!   it; it is marked sent right after the server accepted it. Only a crash in
//!   between can repeat a message, with the same `Message-ID` (the outbox row's
//!   id) so that the receiving side can tell. A file delivered twice lands in the
//!   same file.
//! - Keys never reach logs: bodies are neither logged nor part of errors.
//!
//! Not a resource: `store` (the outbox table and its queries), `delivery` (the
//! transports, claims and retries), `mailer` (the task that delivers, woken after
//! a commit). A change writes its message with [`enqueue`] in its unit of work
//! and wakes the mailer after the commit (`UnitOfWork::after_commit`).

pub mod delivery;
pub mod mailer;
pub mod store;

use sea_orm::{ConnectionTrait, DbErr};
use time::OffsetDateTime;

pub use delivery::Delivery;
pub use mailer::Mailer;

/// One message to send.
pub struct Message {
    pub recipient: String,
    pub subject: String,
    pub body: String,
}

/// Writes `msg` into the mail outbox (call inside the change's transaction).
pub async fn enqueue<C: ConnectionTrait>(
    conn: &C,
    msg: Message,
    now: OffsetDateTime,
) -> Result<(), DbErr> {
    store::insert(conn, msg, now).await
}

/// An instant as mail headers and texts write it (`Tue, 01 Jul 2003 10:52:37 +0000`).
pub fn rfc2822(at: OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc2822)
        // Only years before 1900 or after 9999 cannot be written so.
        .unwrap_or_else(|_| at.to_string())
}
