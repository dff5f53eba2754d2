//! A thousand identities created concurrently across two organizations with
//! default roles: exactly the expected grants, no more, no fewer.

use std::time::Duration;

use futures::StreamExt;
use idp_model::authorization::standard_roles as sr;

use crate::support::*;

const USERS_IN_A: usize = 500;
const ACCOUNTS_IN_B: usize = 400;
const PLAIN_ACCOUNTS_IN_B: usize = 100;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_identities_get_exactly_their_default_roles() {
    let Some((pg, amqp)) = servers().await else {
        return;
    };
    let p = Embedded::start(&pg, &amqp, &amqp).await;
    let roles_a = [sr::ORGANIZATION_READ_ONLY];
    let roles_b = [sr::ORGANIZATION_READ_ONLY, sr::IDENTITY_ADMIN];
    let org_a = p.api.organization_with_default_roles(&roles_a).await;
    let org_b = p.api.organization_with_default_roles(&roles_b).await;
    // Both organizations known to the identity service before the rush.
    let first_a = p.api.create_user(&org_a).await;
    let first_b = p.api.create_user(&org_b).await;

    enum Kind {
        User,
        Account(bool),
    }
    let work = (0..USERS_IN_A)
        .map(|_| (org_a.clone(), Kind::User))
        .chain((0..ACCOUNTS_IN_B).map(|_| (org_b.clone(), Kind::Account(true))))
        .chain((0..PLAIN_ACCOUNTS_IN_B).map(|_| (org_b.clone(), Kind::Account(false))));
    let api = &p.api;
    let created: Vec<(String, String, bool)> = futures::stream::iter(work)
        .map(|(org, kind)| async move {
            match kind {
                Kind::User => (org.clone(), api.create_user(&org).await, true),
                Kind::Account(g) => (org.clone(), api.create_api_account(&org, g).await.0, g),
            }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    assert_eq!(created.len(), 1000);
    let mut in_a = vec![first_a];
    let mut in_b = vec![first_b];
    for (org, id, gets_roles) in created {
        if !gets_roles {
            continue;
        }
        if org == org_a {
            in_a.push(id);
        } else {
            in_b.push(id);
        }
    }
    assert_eq!(in_a.len(), USERS_IN_A + 1);
    assert_eq!(in_b.len(), ACCOUNTS_IN_B + 1);

    p.api
        .wait_for_default_grants(&org_a, &roles_a, &in_a, Duration::from_secs(90))
        .await;
    p.api
        .wait_for_default_grants(&org_b, &roles_b, &in_b, Duration::from_secs(90))
        .await;
    p.events.wait_quiet(Duration::from_secs(60)).await;
    p.api.assert_exact_grants(&org_a, &roles_a, &in_a).await;
    p.api.assert_exact_grants(&org_b, &roles_b, &in_b).await;
    // Nothing of organization B's second role leaked into A.
    assert!(p
        .api
        .role_grants(&org_a, sr::IDENTITY_ADMIN)
        .await
        .is_empty());
    p.stop().await;
}
