//! Outgoing mail through an outbox: a message is written to `mail_outbox` in the
//! transaction of the change it reports (so it is never lost), and the mailer
//! delivers unsent rows and marks them sent (clearing the body, which may hold an
//! invitation key). Delivery writes `{mail.dir}/{id}.eml` atomically (temporary
//! file, then rename): a message delivered twice after a crash between writing and
//! marking lands in the same file, so the recipient never gets it twice.
//!
//! SMTP delivery (lettre) is not implemented yet; until it is, messages go to files
//! even when `mail.smtp_url` (`SMTP_URL`) is set.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use idp_runtime::clock::SharedClock;
use idp_runtime::Shutdown;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use tokio::sync::Notify;

use crate::settings::MailSettings;
use crate::store::mail;

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
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    mail::Entity::insert(mail::ActiveModel {
        id: Set(uuid::Uuid::now_v7()),
        recipient: Set(msg.recipient),
        subject: Set(msg.subject),
        body: Set(msg.body),
        created_at: Set(now),
        sent_at: Set(None),
        attempts: Set(0),
        last_error: Set(None),
    })
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

/// Wakes the mailer after a commit.
#[derive(Clone)]
pub struct Mailer {
    wake: Arc<Notify>,
}

impl Mailer {
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Starts the mailer task: delivers whenever woken and every `poll_ms`, until
    /// shutdown.
    pub fn spawn(
        db: DatabaseConnection,
        settings: &MailSettings,
        clock: SharedClock,
        shutdown: Shutdown,
    ) -> Mailer {
        if !settings.smtp_url.expose().is_empty() {
            tracing::warn!("SMTP delivery is not implemented yet; mail is written to files");
        }
        let wake = Arc::new(Notify::new());
        let w = wake.clone();
        let dir = PathBuf::from(&settings.dir);
        let from = settings.from.clone();
        let poll = Duration::from_millis(settings.poll_ms.max(10));
        tokio::spawn(async move {
            loop {
                match deliver_pending(&db, &dir, &from, &clock).await {
                    Ok(n) if n > 0 => continue,
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "mail delivery failed; will retry"),
                }
                tokio::select! {
                    _ = w.notified() => {}
                    _ = tokio::time::sleep(poll) => {}
                    _ = shutdown.wait() => return,
                }
            }
        });
        Mailer { wake }
    }
}

/// Failed deliveries of one message before the mailer stops trying it (it stays in
/// the outbox with its last error, for an operator).
pub const MAX_ATTEMPTS: i32 = 20;

/// Delivers up to 50 unsent messages; answers how many were delivered. A message
/// that fails is retried on later passes (up to [`MAX_ATTEMPTS`]); the first
/// failure of a pass is returned after the others were tried.
pub async fn deliver_pending(
    db: &DatabaseConnection,
    dir: &Path,
    from: &str,
    clock: &SharedClock,
) -> anyhow::Result<usize> {
    let rows = mail::Entity::find()
        .filter(mail::Column::SentAt.is_null())
        .filter(mail::Column::Attempts.lt(MAX_ATTEMPTS))
        .order_by_asc(mail::Column::CreatedAt)
        .order_by_asc(mail::Column::Id)
        .limit(50)
        .all(db)
        .await?;
    let mut delivered = 0;
    let mut failure = None;
    for row in rows {
        match write_file(dir, from, &row) {
            Ok(()) => {
                mail::Entity::update_many()
                    .col_expr(mail::Column::SentAt, Expr::value(clock.now()))
                    .col_expr(mail::Column::Body, Expr::value(String::new()))
                    .col_expr(mail::Column::Attempts, Expr::value(row.attempts + 1))
                    .filter(mail::Column::Id.eq(row.id))
                    .filter(mail::Column::SentAt.is_null())
                    .exec(db)
                    .await?;
                delivered += 1;
            }
            Err(e) => {
                mail::Entity::update_many()
                    .col_expr(mail::Column::Attempts, Expr::value(row.attempts + 1))
                    .col_expr(mail::Column::LastError, Expr::value(e.to_string()))
                    .filter(mail::Column::Id.eq(row.id))
                    .exec(db)
                    .await?;
                if row.attempts + 1 >= MAX_ATTEMPTS {
                    tracing::error!(mail_id = %row.id, error = %e, "giving up on a message");
                }
                failure.get_or_insert(e);
            }
        }
    }
    match failure {
        Some(e) if delivered == 0 => Err(e),
        _ => Ok(delivered),
    }
}

/// A header value without line breaks (no header injection).
fn header(v: &str) -> String {
    v.chars()
        .map(|c| if c == '\r' || c == '\n' { ' ' } else { c })
        .collect()
}

fn write_file(dir: &Path, from: &str, m: &mail::Model) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    let text = format!(
        "From: {}\r\nTo: {}\r\nSubject: {}\r\nDate: {}\r\nMessage-ID: <{}@idp.invitation>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{}\r\n",
        header(from),
        header(&m.recipient),
        header(&m.subject),
        m.created_at.to_rfc2822(),
        m.id,
        m.body
    );
    let path = dir.join(format!("{}.eml", m.id));
    let tmp = dir.join(format!(".{}.eml.tmp", m.id));
    {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        // Messages may carry invitation keys: readable by the owner only.
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, &path)?;
    Ok(())
}
