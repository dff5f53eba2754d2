//! The served documents and pages.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

async fn actix_get(
    configure: fn(&mut actix_web::web::ServiceConfig),
    path: &str,
) -> (u16, String, String) {
    let app = actix_web::test::init_service(actix_web::App::new().configure(configure)).await;
    let res = actix_web::test::call_service(
        &app,
        actix_web::test::TestRequest::get().uri(path).to_request(),
    )
    .await;
    let status = res.status().as_u16();
    let ct = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let body = actix_web::test::read_body(res).await;
    (status, ct, String::from_utf8(body.to_vec()).unwrap())
}

#[actix_web::test]
async fn the_actix_docs_serve_the_same_documents_and_pages() {
    let (status, ct, body) = actix_get(
        idp_openapi::docs::identity_docs,
        "/identity/v1/docs/openapi.json",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(ct, "application/json");
    assert_eq!(
        body,
        idp_openapi::to_json(&idp_openapi::public_identity_v1())
    );
    let (status, ct, page) = actix_get(idp_openapi::docs::identity_docs, "/identity/v1/docs").await;
    assert_eq!(status, 200);
    assert!(ct.starts_with("text/html"), "{ct}");
    assert!(
        page.contains("href=\"/identity/v1/docs/openapi.json\""),
        "the page loads its document"
    );
    assert!(page.contains("<title>Identity API (/identity/v1)</title>"));
    // Self-contained: nothing is loaded from another host.
    assert!(
        !page.contains("http://") && !page.contains("https://"),
        "external reference in the page"
    );
    assert!(!page.contains("{{"), "a placeholder was left in the page");

    let (status, _, body) = actix_get(
        idp_openapi::docs::authorization_docs,
        "/auth/v1/docs/openapi.json",
    )
    .await;
    assert_eq!(status, 200);
    let doc: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(doc["paths"]["/auth/v1/checks"]["post"].is_object());
    assert!(doc["paths"].get("/identity/v1/organizations").is_none());
    let (status, _, page) = actix_get(idp_openapi::docs::authorization_docs, "/auth/v1/docs").await;
    assert_eq!(status, 200);
    assert!(page.contains("/auth/v1/docs/openapi.json"));
}
