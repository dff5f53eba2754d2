//! The mailer: a task that delivers the mail outbox whenever woken (after a
//! commit that wrote a message) and every `mail.poll_ms`, until shutdown.

use std::sync::Arc;
use std::time::Duration;

use idp_runtime::clock::SharedClock;
use idp_runtime::Shutdown;
use sea_orm::DatabaseConnection;
use tokio::sync::Notify;

use super::Delivery;
use crate::settings::MailSettings;

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
    ) -> anyhow::Result<Mailer> {
        let delivery = Delivery::from_settings(settings)?;
        if delivery.is_smtp() {
            tracing::info!("mail is delivered by SMTP");
        } else {
            tracing::info!(dir = %settings.dir, "no SMTP server set: mail is written to files");
        }
        let wake = Arc::new(Notify::new());
        let w = wake.clone();
        let poll = Duration::from_millis(settings.poll_ms.max(10));
        tokio::spawn(async move {
            loop {
                let pass = tokio::select! {
                    r = delivery.deliver_pending(&db, &clock) => r,
                    _ = shutdown.wait() => return,
                };
                match pass {
                    Ok(n) if n > 0 => continue,
                    Ok(_) => {}
                    Err(e) => tracing::debug!(error = %e, "no mail delivered in this pass"),
                }
                tokio::select! {
                    _ = w.notified() => {}
                    _ = tokio::time::sleep(poll) => {}
                    _ = shutdown.wait() => return,
                }
            }
        });
        Ok(Mailer { wake })
    }
}
