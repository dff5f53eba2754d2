//! Serving a document: `GET {base}/openapi.json` (the document) and `GET {base}`
//! (a self-contained page that lists its operations, parameters and schemas; no
//! external assets, the page works without internet).

// The functions with `#[utoipa::path]` stand for operations; only the attribute matters.
#![allow(dead_code)]

use bytes::Bytes;
use utoipa::openapi::OpenApi;

const PAGE: &str = include_str!("page.html");

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The routes that serve `api` under `base` (e.g. `/identity/v1/docs`), both
/// public (no token), the document rendered once, here:
/// `cfg.configure(docs::configure("/identity/v1/docs", &api))`. Mount it at the top
/// level (not inside a scope): the paths are absolute.
pub fn configure(base: &str, api: &OpenApi) -> impl FnOnce(&mut actix_web::web::ServiceConfig) {
    let json = Bytes::from(crate::to_json(api));
    let title = html_escape(&api.info.title);
    let page = Bytes::from(
        PAGE.replace("{{TITLE}}", &title)
            .replace("{{SPEC_URL}}", &format!("{base}/openapi.json")),
    );
    let base = base.to_string();
    move |cfg| {
        let serve = |body: Bytes, content_type: &'static str| {
            move || {
                let body = body.clone();
                async move {
                    actix_web::HttpResponse::Ok()
                        .insert_header(("content-type", content_type))
                        .insert_header(("cache-control", "no-cache"))
                        .body(body)
                }
            }
        };
        cfg.service(
            actix_web::web::resource(format!("{base}/openapi.json"))
                .get(serve(json, "application/json")),
        )
        .service(actix_web::web::resource(base).get(serve(page, "text/html; charset=utf-8")));
    }
}

/// The identity service's `/identity/v1/docs` on actix-web (the merged document).
pub fn identity_docs(cfg: &mut actix_web::web::ServiceConfig) {
    configure("/identity/v1/docs", &crate::public_identity_v1())(cfg)
}

/// The authorization service's `/auth/v1/docs` on actix-web.
pub fn authorization_docs(cfg: &mut actix_web::web::ServiceConfig) {
    configure("/auth/v1/docs", &crate::authorization())(cfg)
}

#[utoipa::path(
    get, path = "/identity/v1/docs/openapi.json", tag = "docs", operation_id = "identityOpenApi",
    summary = "This document (OpenAPI 3.1)",
    description = "The merged `/identity/v1` API: the identity, organization and invitation services.",
    responses((status = 200, description = "The OpenAPI document", body = Object, content_type = "application/json"))
)]
pub(crate) fn identity_document() {}

#[utoipa::path(
    get, path = "/identity/v1/docs", tag = "docs", operation_id = "identityDocsPage",
    summary = "A browsable page of this document",
    responses((status = 200, description = "An HTML page", body = String, content_type = "text/html"))
)]
pub(crate) fn identity_page() {}

#[utoipa::path(
    get, path = "/auth/v1/docs/openapi.json", tag = "docs", operation_id = "authorizationOpenApi",
    summary = "This document (OpenAPI 3.1)",
    responses((status = 200, description = "The OpenAPI document", body = Object, content_type = "application/json"))
)]
pub(crate) fn authorization_document() {}

#[utoipa::path(
    get, path = "/auth/v1/docs", tag = "docs", operation_id = "authorizationDocsPage",
    summary = "A browsable page of this document",
    responses((status = 200, description = "An HTML page", body = String, content_type = "text/html"))
)]
pub(crate) fn authorization_page() {}
