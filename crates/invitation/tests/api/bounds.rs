//! Bounds of request bodies: a too-long value is a 400 naming the field, without
//! the value.

use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn long_values_are_refused_naming_the_field() {
    on_each_backend(|db| async move {
        let app = spawn(db, |_| {}).await;
        let long = "e".repeat(4001);
        let (st, body) = app
            .send(
                app.client
                    .post(app.url("/nfconsole/support/requests"))
                    .json(&json!({
                "name": "George", "email": "george@curious.test",
                "subject": "S", "comment": "C", "recentErrorMessages": ["ok", long]})),
            )
            .await;
        assert_eq!(st, 400, "{body}");
        assert_eq!(body["errors"][0]["field"], "recentErrorMessages[1]");
        assert!(!body.to_string().contains("eeeeeeee"), "{body}");
        // A value of the wrong type is not echoed either.
        let (st, body) = app
            .send(
                app.client
                    .post(app.url("/nfconsole/support/requests"))
                    .json(&json!({
                "name": "George", "email": "george@curious.test",
                "subject": "S", "comment": "C", "recentErrorMessages": "sekrit-token-value"})),
            )
            .await;
        assert_eq!(st, 400, "{body}");
        assert_eq!(body["errors"][0]["field"], "recentErrorMessages");
        assert!(!body.to_string().contains("sekrit"), "{body}");
        app.stop().await;
    })
    .await;
}
