//! The routes over HTTP: every path with its methods (another method is a 405
//! problem, an unknown path a 404 problem), ids and actions that name nothing
//! (404), the plain state updates of the authenticated API and their conflicts,
//! and the empty 200 of a support request.

use serde_json::{json, Value};
use uuid::Uuid;

use crate::support::*;

const PROBLEM: &str = "application/problem+json";

async fn raw(req: reqwest::RequestBuilder) -> (u16, String, String) {
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let ct = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, ct, res.text().await.unwrap())
}

#[tokio::test]
async fn methods_paths_ids_and_actions_answer_problems() {
    let app = spawn(
        idp_runtime::testing::TestDatabase::sqlite().unwrap(),
        |_| {},
    )
    .await;
    let me = Uuid::new_v4();
    let org = Uuid::new_v4();
    let token = app.token(me, org);
    let id = Uuid::new_v4();
    let key = "A".repeat(36);
    let m = |s: &str| reqwest::Method::from_bytes(s.as_bytes()).unwrap();

    // A known path without the method: 405 problem.
    for (method, path) in [
        ("DELETE", "/invitations".to_string()),
        ("PUT", format!("/invitations/{id}")),
        ("DELETE", format!("/invitations/{id}")),
        ("GET", format!("/invitations/{id}/accept")),
        ("POST", format!("/invitations/{id}/revoke")),
        ("POST", format!("/invitations/key/{key}")),
        ("PUT", format!("/invitations/key/{key}")),
        ("GET", format!("/invitations/key/{key}/decline")),
        ("GET", format!("/invitations/key/{key}/accept-initiate")),
        ("PUT", format!("/invitations/key/{key}/accept-complete")),
        ("GET", "/nfconsole/support/requests".to_string()),
    ] {
        let (st, ct, body) = raw(app
            .client
            .request(m(method), app.url(&path))
            .bearer_auth(&token))
        .await;
        assert_eq!((st, ct.as_str()), (405, PROBLEM), "{method} {path}: {body}");
        assert!(
            body.contains("method-not-allowed"),
            "{method} {path}: {body}"
        );
    }

    // An unknown path: 404 problem.
    for path in [
        "/nope".to_string(),
        format!("/invitations/{id}/accept/more"),
        format!("/invitations/key/{key}/frobnicate"),
        "/nfconsole/support".to_string(),
    ] {
        let (st, ct, body) = raw(app.client.get(app.url(&path)).bearer_auth(&token)).await;
        assert_eq!((st, ct.as_str()), (404, PROBLEM), "{path}: {body}");
    }

    // Ids that name no invitation, and actions that are none: 404.
    let detail = |body: &str| -> String {
        let v: Value = serde_json::from_str(body).unwrap();
        v["detail"].as_str().unwrap_or_default().to_string()
    };
    for (method, path, want) in [
        (
            "GET",
            "/invitations/not-a-uuid".to_string(),
            "no such invitation",
        ),
        ("GET", format!("/invitations/{id}"), "no such invitation"),
        ("GET", "/invitations/key".to_string(), "no such invitation"),
        (
            "PUT",
            "/invitations/not-a-uuid/accept".to_string(),
            "no such invitation",
        ),
        (
            "PUT",
            format!("/invitations/{id}/revoke"),
            "no such invitation",
        ),
        (
            "PUT",
            format!("/invitations/{id}/frobnicate"),
            "no such resource",
        ),
        (
            "PUT",
            "/invitations/not-a-uuid/frobnicate".to_string(),
            "no such resource",
        ),
        (
            "GET",
            "/invitations/key/short".to_string(),
            "no such invitation",
        ),
        (
            "GET",
            format!("/invitations/key/{key}"),
            "no such invitation",
        ),
        (
            "PUT",
            format!("/invitations/key/{key}/decline"),
            "no such invitation",
        ),
        (
            "POST",
            format!("/invitations/key/{key}/accept-initiate"),
            "no such invitation",
        ),
        (
            "POST",
            format!("/invitations/key/{key}/accept-complete"),
            "no such invitation",
        ),
    ] {
        let (st, ct, body) = raw(app
            .client
            .request(m(method), app.url(&path))
            .bearer_auth(&token))
        .await;
        assert_eq!((st, ct.as_str()), (404, PROBLEM), "{method} {path}: {body}");
        assert_eq!(detail(&body), want, "{method} {path}: {body}");
    }

    // The authenticated API without a token: 401 with the challenge.
    for (method, path) in [
        ("GET", "/invitations".to_string()),
        ("POST", "/invitations".to_string()),
        ("GET", format!("/invitations/{id}")),
        ("PUT", format!("/invitations/{id}/revoke")),
    ] {
        let res = app
            .client
            .request(m(method), app.url(&path))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 401, "{method} {path}");
        assert!(
            res.headers().contains_key("www-authenticate"),
            "{method} {path}"
        );
    }

    // A support request answers 200 with no body.
    let (st, _, body) = raw(app
        .client
        .post(app.url("/nfconsole/support/requests"))
        .json(&json!({"name": "George", "email": "george@curious.test",
                "subject": "S", "comment": "C"})))
    .await;
    assert_eq!((st, body.as_str()), (200, ""));
    app.stop().await;
}

#[tokio::test]
async fn the_plain_updates_change_the_state_once() {
    on_each_backend(|db| async move {
        let app = spawn(db, |_| {}).await;
        let org = Uuid::new_v4();
        let me = Uuid::new_v4();
        app.publish(
            "organization.created",
            "organization",
            org,
            json!({"id": org, "name": "Acme Corp", "label": "acme", "active": true}),
        )
        .await;
        app.wait_count(
            "SELECT COUNT(*) FROM organizations_seen WHERE id = ?",
            vec![org.into()],
            1,
        )
        .await;
        let token = app.token(me, org);
        let invite = |email: &str| {
            app.client
                .post(app.url("/invitations"))
                .bearer_auth(&token)
                .json(&json!({"toOrganizationId": org, "invitedEmailAddress": email}))
        };
        let put = |id: &str, action: &str| {
            app.client
                .put(app.url(&format!("/invitations/{id}/{action}")))
                .bearer_auth(&token)
        };

        // Revoke an open invitation; then nothing else.
        let (st, inv) = app.send(invite("one@acme.test")).await;
        assert_eq!(st, 201, "{inv}");
        assert_eq!(inv["state"], "Open");
        let id = inv["id"].as_str().unwrap().to_string();
        let (st, rev) = app.send(put(&id, "revoke")).await;
        assert_eq!(st, 200, "{rev}");
        assert_eq!(rev["state"], "Revoked");
        assert!(rev["revokedAt"].is_object() && rev["responseReceivedAt"].is_object());
        for (action, verb) in [
            ("revoke", "revoked"),
            ("accept", "accepted"),
            ("decline", "declined"),
        ] {
            let (st, p) = app.send(put(&id, action)).await;
            assert_eq!(st, 409, "{action}: {p}");
            assert_eq!(
                p["detail"],
                format!("the invitation is Revoked and cannot be {verb}"),
                "{p}"
            );
        }
        let (st, got) = app
            .send(
                app.client
                    .get(app.url(&format!("/invitations/{id}")))
                    .bearer_auth(&token),
            )
            .await;
        assert_eq!(st, 200);
        assert_eq!(got, rev);

        // Accept another; it can be neither declined nor revoked then.
        let (_, inv) = app.send(invite("two@acme.test")).await;
        let id2 = inv["id"].as_str().unwrap().to_string();
        let (st, acc) = app.send(put(&id2, "accept")).await;
        assert_eq!(st, 200, "{acc}");
        assert_eq!(
            (acc["state"].clone(), acc["accepted"].clone()),
            (json!("Accepted"), json!(true))
        );
        for (action, verb) in [("decline", "declined"), ("revoke", "revoked")] {
            let (st, p) = app.send(put(&id2, action)).await;
            assert_eq!(st, 409, "{action}: {p}");
            assert_eq!(
                p["detail"],
                format!("the invitation is Accepted and cannot be {verb}"),
                "{p}"
            );
        }

        // One event per change, in the outbox with the change, `via` the API.
        for (kind, of) in [
            ("invitation.created", 2),
            ("invitation.revoked", 1),
            ("invitation.accepted", 1),
            ("invitation.declined", 0),
        ] {
            let events = app.outbox(kind).await;
            assert_eq!(events.len(), of, "{kind}: {events:?}");
            for e in &events {
                assert_eq!(e["source"], "invitation", "{e}");
                assert_eq!(e["organizationId"], org.to_string(), "{e}");
                if kind != "invitation.created" {
                    assert_eq!(e["data"]["via"], "api", "{e}");
                }
            }
        }
        // Both mails are queued (and go out).
        app.wait_count(
            "SELECT COUNT(*) FROM mail_outbox WHERE sent_at IS NOT NULL",
            vec![],
            2,
        )
        .await;
        // A list sorted by an unknown field is a 400 naming `sort`.
        let (st, p) = app
            .send(
                app.client
                    .get(app.url("/invitations?sort=nope,asc"))
                    .bearer_auth(&token),
            )
            .await;
        assert_eq!(st, 400, "{p}");
        let (st, list) = app
            .send(
                app.client
                    .get(app.url(&format!(
                        "/invitations?toOrganizationId={org}&states=Revoked"
                    )))
                    .bearer_auth(&token),
            )
            .await;
        assert_eq!(st, 200);
        assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
        app.stop().await;
    })
    .await;
}
