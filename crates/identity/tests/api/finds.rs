//! `GET /identities` keeps the reference's paging (100 a page by default) and its
//! documented filters find an identity wherever it is in the collection.

use idp_model::ROOT_ORGANIZATION_ID;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;

fn ids(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn filters_of_identities_find_one_beyond_the_first_page() {
    let app = spawn(idp_runtime::testing::TestDatabase::sqlite().unwrap()).await;
    let admin = app.admin_token().await;
    let org = ROOT_ORGANIZATION_ID.as_uuid();
    let mut users = Vec::new();
    for i in 0..150 {
        let (s, v) = app
            .call(
                &admin,
                Method::POST,
                "/user-identities",
                Some(
                    json!({"organizationId": org, "firstName": format!("First{i}"),
                    "lastName": format!("Last{i}"), "email": format!("user{i}@many.test")}),
                ),
            )
            .await;
        assert_eq!(s, 201, "{v}");
        users.push(v["id"].as_str().unwrap().to_string());
    }
    let (s, api) = app
        .call(
            &admin,
            Method::POST,
            "/api-account-identities",
            Some(
                json!({"organizationId": org, "name": "Robot", "contactEmail": "robot@many.test"}),
            ),
        )
        .await;
    assert_eq!(s, 201, "{api}");
    let api_id = api["apiAccountIdentity"]["id"]
        .as_str()
        .unwrap()
        .to_string();

    // The first page (100 by default) does not hold user 130.
    let (s, first) = app.call(&admin, Method::GET, "/identities", None).await;
    assert_eq!(s, 200);
    assert_eq!(first.as_array().unwrap().len(), 100);
    assert!(!ids(&first).contains(&users[130]));

    for (query, want) in [
        ("email=user130@many.test", users[130].clone()),
        ("email=USER130@Many.Test", users[130].clone()),
        ("name=first130%20last130", users[130].clone()),
        ("firstName=First130", users[130].clone()),
        ("lastName=last130", users[130].clone()),
        ("contactEmail=robot@many.test", api_id.clone()),
        ("name=Robot&type=ApiAccountIdentity", api_id.clone()),
        (
            "email=user140@many.test&type=UserIdentity",
            users[140].clone(),
        ),
    ] {
        let (s, v) = app
            .call(&admin, Method::GET, &format!("/identities?{query}"), None)
            .await;
        assert_eq!(s, 200, "{query}: {v}");
        assert_eq!(ids(&v), vec![want], "{query}");
    }
    // A type filter excludes the other type.
    let (s, v) = app
        .call(
            &admin,
            Method::GET,
            "/identities?contactEmail=robot@many.test&type=UserIdentity",
            None,
        )
        .await;
    assert_eq!(s, 200);
    assert!(ids(&v).is_empty(), "{v}");
    let (s, v) = app
        .call(&admin, Method::GET, "/identities?type=Robot", None)
        .await;
    assert_eq!(s, 400, "{v}");
    assert_eq!(v["errors"][0]["field"], "type");
    app.stop().await;
}
