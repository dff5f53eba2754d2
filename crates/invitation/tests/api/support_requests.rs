//! Support requests: who the request comes from is what the token says, never what
//! the body claims; without a token, no organization is attached.

use serde_json::json;
use uuid::Uuid;

use crate::support::*;

fn request(extra: serde_json::Value) -> serde_json::Value {
    let mut v = json!({"subject": "Help", "comment": "It broke.", "type": "question"});
    for (k, x) in extra.as_object().unwrap() {
        v[k] = x.clone();
    }
    v
}

/// Every delivered mail (the file transport), once `n` are sent.
async fn delivered(app: &TestApp, n: i64) -> String {
    app.wait_count(
        "SELECT COUNT(*) FROM mail_outbox WHERE sent_at IS NOT NULL",
        vec![],
        n,
    )
    .await;
    let mut all = String::new();
    for e in std::fs::read_dir(&app.settings.mail.dir).unwrap() {
        let path = e.unwrap().path();
        if path.is_file() {
            all.push_str(&std::fs::read_to_string(path).unwrap_or_default());
        }
    }
    all
}

#[tokio::test]
async fn the_token_says_who_asks_and_anonymous_requests_name_no_organization() {
    on_each_backend(|db| async move {
        let app = spawn(db, |_| {}).await;
        let org = Uuid::new_v4();
        let me = Uuid::new_v4();
        app.publish(
            "identity.created",
            "identity",
            org,
            json!({"identityId": me, "organizationId": org, "type": "UserIdentity",
                "name": "Ada Admin", "email": "ada@acme.com"}),
        )
        .await;
        app.wait_count(
            "SELECT COUNT(*) FROM identities_seen WHERE id = ?",
            vec![me.into()],
            1,
        )
        .await;

        // With a token: the caller's own name and email replace the body's.
        let (st, body) = app
            .send(
                app.client
                    .post(app.url("/nfconsole/support/requests"))
                    .bearer_auth(app.token(me, org))
                    .json(&request(
                        json!({"name": "Mallory", "email": "mallory@evil.test",
                        "selectedOrganizationId": "picked-by-the-console"}),
                    )),
            )
            .await;
        assert_eq!(st, 200, "{body}");
        app.wait_count(
            "SELECT COUNT(*) FROM support_requests WHERE identity_id = ? AND name = 'Ada Admin' \
             AND email = 'ada@acme.com' AND selected_organization_id = 'picked-by-the-console'",
            vec![me.into()],
            1,
        )
        .await;
        let mail = delivered(&app, 1).await;
        assert!(mail.contains("ada@acme.com"), "{mail}");
        assert!(!mail.to_lowercase().contains("mallory"), "{mail}");

        // Without a token: the body's name and email, and no selected organization.
        let claimed = Uuid::new_v4();
        let (st, body) = app
            .send(
                app.client
                    .post(app.url("/nfconsole/support/requests"))
                    .json(&request(
                        json!({"name": "Curious George", "email": "george@curious.test",
                        "selectedOrganizationId": claimed.to_string()}),
                    )),
            )
            .await;
        assert_eq!(st, 200, "{body}");
        app.wait_count(
            "SELECT COUNT(*) FROM support_requests WHERE identity_id IS NULL \
             AND name = 'Curious George' AND selected_organization_id IS NULL",
            vec![],
            1,
        )
        .await;
        let mail = delivered(&app, 2).await;
        assert!(mail.contains("george@curious.test"), "{mail}");
        assert!(!mail.contains(&claimed.to_string()), "{mail}");
        assert_eq!(
            app.count(
                "SELECT COUNT(*) FROM support_requests WHERE selected_organization_id = ?",
                vec![claimed.to_string().into()]
            )
            .await,
            0
        );
        app.stop().await;
    })
    .await;
}
