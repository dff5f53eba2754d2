//! Delivery of the mail outbox's messages: by SMTP or to files, claimed first,
//! marked sent after, retried with backoff (see the module `crate::mail`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use idp_runtime::clock::SharedClock;
use lettre::message::SinglePart;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use sea_orm::DatabaseConnection;

use super::rfc2822;
use super::store::{self, Model};
use crate::settings::MailSettings;

/// Where messages go.
#[derive(Clone)]
enum Transport {
    Files(PathBuf),
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
}

/// Why one delivery failed: `permanent` when trying again cannot help.
struct Failure {
    permanent: bool,
    reason: String,
}

/// How messages are delivered: the transport, the sender, the retry policy.
#[derive(Clone)]
pub struct Delivery {
    transport: Transport,
    from: String,
    retry_base: Duration,
    retry_max: Duration,
    /// How long a claimed message is held by its sender.
    lease: Duration,
}

impl Delivery {
    /// By SMTP when `smtp_url` is set, else to files in `dir`.
    pub fn from_settings(s: &MailSettings) -> anyhow::Result<Delivery> {
        let timeout = Duration::from_millis(s.smtp_timeout_ms.max(100));
        let transport = if s.smtp_url.expose().trim().is_empty() {
            Transport::Files(PathBuf::from(&s.dir))
        } else {
            // The URL may hold credentials: errors name neither it nor them.
            let t = AsyncSmtpTransport::<Tokio1Executor>::from_url(s.smtp_url.expose().trim())
                .map_err(|_| anyhow::anyhow!("mail.smtp_url (SMTP_URL) is not a valid SMTP URL"))?
                .timeout(Some(timeout))
                .build();
            Transport::Smtp(t)
        };
        Ok(Delivery {
            transport,
            from: s.from.clone(),
            retry_base: Duration::from_millis(s.retry_base_ms.max(1)),
            retry_max: Duration::from_millis(s.retry_max_ms.max(s.retry_base_ms).max(1)),
            lease: timeout * 2 + Duration::from_secs(30),
        })
    }

    /// Whether messages go out by SMTP.
    pub fn is_smtp(&self) -> bool {
        matches!(self.transport, Transport::Smtp(_))
    }

    /// The wait after the `attempts`-th failure of a message.
    fn backoff(&self, attempts: i32) -> Duration {
        let exp = u32::try_from(attempts.clamp(1, 30) - 1).unwrap_or(0);
        self.retry_base
            .checked_mul(1u32 << exp.min(20))
            .unwrap_or(self.retry_max)
            .min(self.retry_max)
    }

    async fn send(&self, m: &Model) -> Result<(), Failure> {
        match &self.transport {
            Transport::Files(dir) => {
                let path = write_file(dir, &self.from, m).map_err(|e| Failure {
                    permanent: false,
                    reason: e.to_string(),
                })?;
                tracing::info!(mail_id = %m.id, path = %path.display(), "mail written to a file");
                Ok(())
            }
            Transport::Smtp(t) => {
                let email = build_message(&self.from, m).map_err(|reason| Failure {
                    permanent: true,
                    reason,
                })?;
                t.send(email).await.map_err(|e| Failure {
                    permanent: e.is_permanent(),
                    reason: smtp_reason(&e),
                })?;
                tracing::info!(mail_id = %m.id, "mail delivered by SMTP");
                Ok(())
            }
        }
    }

    /// Delivers up to 50 due messages, one at a time; answers how many were
    /// delivered. A message that fails waits its backoff and is tried on a later
    /// pass; the first failure of a pass is returned when nothing was delivered.
    pub async fn deliver_pending(
        &self,
        db: &DatabaseConnection,
        clock: &SharedClock,
    ) -> anyhow::Result<usize> {
        let rows = store::due_rows(db, clock.now(), 50).await?;
        let mut delivered = 0;
        let mut failure = None;
        for row in rows {
            // Claim it: only one sender holds a message at a time.
            let now = clock.now();
            let lease = time::Duration::try_from(self.lease).unwrap_or(time::Duration::MAX);
            if !store::claim(db, row.id, now, now.saturating_add(lease)).await? {
                continue;
            }
            match self.send(&row).await {
                Ok(()) => {
                    store::mark_sent(db, &row, clock.now()).await?;
                    delivered += 1;
                }
                Err(f) => {
                    let attempts = row.attempts + 1;
                    let wait = if f.permanent {
                        tracing::error!(mail_id = %row.id, attempts, error = %f.reason,
                            "a message was refused for good; parked in the outbox for an operator");
                        self.retry_max
                    } else {
                        tracing::warn!(mail_id = %row.id, attempts, error = %f.reason,
                            "mail delivery failed; will retry");
                        self.backoff(attempts)
                    };
                    let next = clock.now().saturating_add(
                        time::Duration::try_from(wait).unwrap_or(time::Duration::MAX),
                    );
                    store::mark_failed(db, row.id, attempts, &f.reason, next).await?;
                    failure.get_or_insert(f.reason);
                }
            }
        }
        match failure {
            Some(e) if delivered == 0 => Err(anyhow::anyhow!(e)),
            _ => Ok(delivered),
        }
    }
}

/// An SMTP error for the logs and the outbox: its kind and the server's code
/// (never the message, which the server might have echoed).
fn smtp_reason(e: &lettre::transport::smtp::Error) -> String {
    let kind = if e.is_timeout() {
        "timeout"
    } else if e.is_permanent() {
        "permanent refusal"
    } else if e.is_transient() {
        "transient refusal"
    } else if e.is_client() {
        "client error"
    } else {
        "connection failed"
    };
    match e.status() {
        Some(code) => format!("SMTP {kind} ({code})"),
        None => format!("SMTP {kind}"),
    }
}

fn build_message(from: &str, m: &Model) -> Result<lettre::Message, String> {
    let from = from
        .parse()
        .map_err(|_| "mail.from is not an email address".to_string())?;
    let to = m
        .recipient
        .parse()
        .map_err(|_| "the recipient is not an email address".to_string())?;
    let date: std::time::SystemTime = m.created_at.into();
    lettre::Message::builder()
        .from(from)
        .to(to)
        .subject(header(&m.subject))
        .date(date)
        .message_id(Some(format!("<{}@idp.invitation>", m.id)))
        // A MIME body (not `.body()`, which writes a bare RFC 5322 message
        // without `MIME-Version`, so readers need not honour its Content-Type
        // and charset): `MIME-Version: 1.0`, text/plain in UTF-8, and the
        // transfer encoding lettre picks for the text.
        .singlepart(SinglePart::plain(m.body.clone()))
        .map_err(|_| "the message could not be built".to_string())
}

/// A header value without line breaks (no header injection).
fn header(v: &str) -> String {
    v.chars()
        .map(|c| if c == '\r' || c == '\n' { ' ' } else { c })
        .collect()
}

fn write_file(dir: &Path, from: &str, m: &Model) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let text = format!(
        "From: {}\r\nTo: {}\r\nSubject: {}\r\nDate: {}\r\nMessage-ID: <{}@idp.invitation>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{}\r\n",
        header(from),
        header(&m.recipient),
        header(&m.subject),
        rfc2822(m.created_at),
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
    Ok(path)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use idp_common::Secret;
    use time::OffsetDateTime;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let d = Delivery::from_settings(&MailSettings {
            retry_base_ms: 100,
            retry_max_ms: 1000,
            ..Default::default()
        })
        .unwrap();
        let ms: Vec<u128> = (1..=6).map(|a| d.backoff(a).as_millis()).collect();
        assert_eq!(ms, [100, 200, 400, 800, 1000, 1000]);
        assert!(!d.is_smtp());
    }

    #[test]
    fn smtp_urls_are_parsed_without_echoing_them() {
        let s = MailSettings {
            smtp_url: Secret::new("smtp://user:hunter2@127.0.0.1:2525".into()),
            ..Default::default()
        };
        assert!(Delivery::from_settings(&s).unwrap().is_smtp());
        let bad = MailSettings {
            smtp_url: Secret::new("gopher://user:hunter2@x".into()),
            ..Default::default()
        };
        let err = Delivery::from_settings(&bad).err().unwrap().to_string();
        assert!(!err.contains("hunter2"), "{err}");
    }

    #[test]
    fn dates_are_written_as_rfc2822() {
        let at = OffsetDateTime::from_unix_timestamp(1_057_056_757).unwrap();
        assert_eq!(rfc2822(at), "Tue, 01 Jul 2003 10:52:37 +0000");
    }

    #[test]
    fn a_message_file_has_a_date_header_of_its_creation() {
        let dir = tempfile::tempdir().unwrap();
        let m = Model {
            id: uuid::Uuid::now_v7(),
            recipient: "a@b.co".into(),
            subject: "Hi".into(),
            body: "Hello".into(),
            created_at: OffsetDateTime::from_unix_timestamp(1_057_056_757).unwrap(),
            sent_at: None,
            attempts: 0,
            last_error: None,
            next_attempt_at: None,
        };
        let path = write_file(dir.path(), "idp@acme.test", &m).unwrap();
        let text = std::fs::read_to_string(path).unwrap();
        assert!(
            text.contains("\r\nDate: Tue, 01 Jul 2003 10:52:37 +0000\r\n"),
            "{text}"
        );
    }
}
