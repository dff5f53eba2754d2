//! The mail outbox over SMTP: support requests go to the support address; while
//! the SMTP server is down a message stays queued (retried with backoff) and it
//! arrives once, and only once, when the server comes up.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::smtp::{decoded, free_port, SmtpServer};
use crate::support::*;

#[tokio::test]
async fn a_message_waits_for_the_smtp_server_and_arrives_exactly_once() {
    on_each_backend(|db| async move {
        let addr = free_port().await;
        let app = spawn(db, |s| {
            s.mail.smtp_url = idp_common::Secret::new(format!("smtp://{addr}"));
            s.mail.support_to = "help@platform.test".into();
            s.mail.retry_base_ms = 50;
            s.mail.retry_max_ms = 200;
            s.mail.smtp_timeout_ms = 2000;
        })
        .await;
        let (st, body) = app
            .send(app.client.post(app.url("/nfconsole/support/requests")).json(&json!({
                "name": "Curious George", "email": "george@curious.test",
                "subject": "Sales Contact Request", "comment": "Please call me.",
                "type": "question", "priority": "high", "severity": "Severity3"})))
            .await;
        assert_eq!(st, 200, "{body}");
        // The server is down: the message stays queued while the mailer retries.
        app.wait_count(
            "SELECT COUNT(*) FROM mail_outbox WHERE sent_at IS NULL AND attempts >= 2 AND last_error IS NOT NULL",
            vec![],
            1,
        )
        .await;
        // It comes up: the message arrives, to the support address.
        let smtp = SmtpServer::start(&addr.to_string()).await;
        let m = smtp.wait_for("help@platform.test").await;
        let text = decoded(&m.data);
        assert!(m.data.contains("Sales Contact Request"), "{}", m.data);
        assert!(text.contains("george@curious.test"), "{text}");
        assert!(text.contains("Please call me."), "{text}");
        app.wait_count(
            "SELECT COUNT(*) FROM mail_outbox WHERE sent_at IS NOT NULL",
            vec![],
            1,
        )
        .await;
        // Several more polls of the mailer later, still exactly one message.
        let until = Instant::now() + Duration::from_millis(500);
        while Instant::now() < until {
            app.client
                .get(format!("http://{}/healthz", app.addr))
                .send()
                .await
                .unwrap();
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(smtp.received().len(), 1, "{:?}", smtp.received());
        app.stop().await;
    })
    .await;
}

/// The file transport (no SMTP server set): each message is written once, the
/// stored body (which may hold a key) is cleared after delivery, and a header
/// cannot be injected through the subject.
#[tokio::test]
async fn mail_outbox_delivers_once_to_files_and_forgets_the_body() {
    use sea_orm::EntityTrait;
    let db = idp_runtime::testing::TestDatabase::sqlite().unwrap();
    let conn =
        idp_runtime::db::connect_and_migrate::<idp_invitation::store::Migrator>(&db.settings)
            .await
            .unwrap();
    let clock = idp_runtime::clock::system();
    idp_invitation::mail::enqueue(
        &conn,
        idp_invitation::mail::Message {
            recipient: "a@b.co".into(),
            subject: "Hello\r\nBcc: evil@x.y".into(),
            body: "secret-link".into(),
        },
        clock.now(),
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let delivery =
        idp_invitation::mail::Delivery::from_settings(&idp_invitation::settings::MailSettings {
            dir: dir.path().display().to_string(),
            from: "from@x.y".into(),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(delivery.deliver_pending(&conn, &clock).await.unwrap(), 1);
    assert_eq!(delivery.deliver_pending(&conn, &clock).await.unwrap(), 0);
    let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().collect();
    assert_eq!(files.len(), 1);
    let text = std::fs::read_to_string(files[0].path()).unwrap();
    assert!(text.contains("To: a@b.co\r\n"));
    assert!(text.contains("secret-link"));
    assert!(!text.contains("\r\nBcc:"), "no header injection: {text}");
    let rows = idp_invitation::mail::store::Entity::find()
        .all(&conn)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert!(rows[0].sent_at.is_some());
    assert!(rows[0].body.is_empty());
}

/// Two senders (two replicas of the service on one database) never both send a
/// message: each claims it first.
#[tokio::test]
async fn two_senders_deliver_each_message_once() {
    let db = idp_runtime::testing::TestDatabase::sqlite().unwrap();
    let conn =
        idp_runtime::db::connect_and_migrate::<idp_invitation::store::Migrator>(&db.settings)
            .await
            .unwrap();
    let clock = idp_runtime::clock::system();
    for i in 0..20 {
        idp_invitation::mail::enqueue(
            &conn,
            idp_invitation::mail::Message {
                recipient: format!("r{i}@b.co"),
                subject: format!("n{i}"),
                body: "b".into(),
            },
            clock.now(),
        )
        .await
        .unwrap();
    }
    let smtp = SmtpServer::start("127.0.0.1:0").await;
    let settings = idp_invitation::settings::MailSettings {
        smtp_url: idp_common::Secret::new(smtp.url()),
        ..Default::default()
    };
    let a = idp_invitation::mail::Delivery::from_settings(&settings).unwrap();
    let b = idp_invitation::mail::Delivery::from_settings(&settings).unwrap();
    let (x, y) = tokio::join!(
        a.deliver_pending(&conn, &clock),
        b.deliver_pending(&conn, &clock)
    );
    assert_eq!(x.unwrap() + y.unwrap(), 20);
    let mut to: Vec<String> = smtp.received().into_iter().flat_map(|m| m.to).collect();
    to.sort();
    to.dedup();
    assert_eq!(to.len(), 20);
    assert_eq!(smtp.received().len(), 20);
}

/// A message delivered by SMTP is a MIME message: `MIME-Version: 1.0` and a
/// UTF-8 text/plain body with a transfer encoding, so that readers honour the
/// charset (a message without `MIME-Version` is plain RFC 5322 text, whose
/// Content-Type readers may ignore).
#[tokio::test]
async fn smtp_messages_are_mime_with_a_utf8_text_body() {
    let db = idp_runtime::testing::TestDatabase::sqlite().unwrap();
    let conn =
        idp_runtime::db::connect_and_migrate::<idp_invitation::store::Migrator>(&db.settings)
            .await
            .unwrap();
    let clock = idp_runtime::clock::system();
    idp_invitation::mail::enqueue(
        &conn,
        idp_invitation::mail::Message {
            recipient: "zoe@b.co".into(),
            subject: "Invitation".into(),
            body: "Grüße from Zoë".into(),
        },
        clock.now(),
    )
    .await
    .unwrap();
    let smtp = SmtpServer::start("127.0.0.1:0").await;
    let delivery =
        idp_invitation::mail::Delivery::from_settings(&idp_invitation::settings::MailSettings {
            smtp_url: idp_common::Secret::new(smtp.url()),
            from: "from@x.y".into(),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(delivery.deliver_pending(&conn, &clock).await.unwrap(), 1);
    let m = smtp.wait_for("zoe@b.co").await;
    let (head, _) = m.data.split_once("\r\n\r\n").unwrap();
    let headers: Vec<(String, String)> = head
        .split("\r\n")
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let get = |name: &str| -> Vec<&str> {
        headers
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    };
    assert_eq!(get("mime-version"), ["1.0"], "{}", m.data);
    let ct = get("content-type");
    assert_eq!(ct.len(), 1, "{}", m.data);
    let ct = ct[0].to_ascii_lowercase().replace(' ', "");
    assert!(ct.starts_with("text/plain;charset=utf-8"), "{}", m.data);
    assert_eq!(get("content-transfer-encoding").len(), 1, "{}", m.data);
}
