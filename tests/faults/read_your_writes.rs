//! Every service its own process, on PostgreSQL and RabbitMQ: an organization
//! takes its first user, API account and invitation right after its 201, before
//! its `organization.created` event has reached the identity and invitation
//! services (they ask the organization service).

use reqwest::Method;
use serde_json::json;

use crate::deploy::{Deployment, Options};
use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_organization_then_use_it_at_once_as_processes() {
    let Some((_pg, amqp)) = servers().await else {
        return;
    };
    let d = Deployment::start(Options {
        amqp_url: amqp.clone(),
        broker_url: amqp.clone(),
        extra: vec![],
    })
    .await;
    let api = &d.api;
    for i in 0..30 {
        let t = tag();
        let (st, org) = api
            .call(
                Method::POST,
                "/identity/v1/organizations",
                Some(json!({"name": format!("Fresh {t}"), "label": format!("fresh-{t}")})),
            )
            .await;
        assert_eq!(st, 201, "{org}");
        let org = org["id"].as_str().unwrap().to_string();
        let (st, v) = api
            .call(
                Method::POST,
                "/identity/v1/user-identities",
                Some(
                    json!({"organizationId": org, "firstName": "First", "lastName": t,
                    "email": format!("first-{t}@fresh.test")}),
                ),
            )
            .await;
        assert_eq!(st, 201, "iteration {i}: user: {v}");
        let (st, v) = api
            .call(
                Method::POST,
                "/identity/v1/api-account-identities",
                Some(json!({"organizationId": org, "name": format!("svc {t}")})),
            )
            .await;
        assert_eq!(st, 201, "iteration {i}: API account: {v}");
        let (st, v) = api
            .call(
                Method::POST,
                "/identity/v1/invitations",
                Some(json!({"toOrganizationId": org,
                    "invitedEmailAddress": format!("invitee-{t}@fresh.test")})),
            )
            .await;
        assert_eq!(st, 201, "iteration {i}: invitation: {v}");
    }
    d.stop().await;
}
