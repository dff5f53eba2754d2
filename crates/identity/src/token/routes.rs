//! `/identity/v1/oauth/token`: form-encoded requests, OAuth answers (never
//! cached; an `invalid_client` with its `WWW-Authenticate: Basic` challenge).

use actix_web::http::header::{
    HeaderValue, AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, PRAGMA, WWW_AUTHENTICATE,
};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use idp_runtime::web::{Body, Data, ServiceConfig};
use serde::Serialize;

use super::service::{self, Failure, TokenRequest};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(web::resource("/oauth/token").post(issue));
}

async fn issue(s: Data<AppState>, req: HttpRequest, Body(body): Body) -> HttpResponse {
    let header = |name| {
        req.headers()
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    let request = TokenRequest {
        content_type: header(CONTENT_TYPE),
        authorization: header(AUTHORIZATION),
        body: &body,
    };
    match service::issue(&s, request).await {
        Ok(token) => no_store(StatusCode::OK, &token),
        Err(f) => failure(&f),
    }
}

/// A JSON answer that no one caches (RFC 6749 §5.1).
fn no_store<T: Serialize>(status: StatusCode, body: &T) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((CONTENT_TYPE, "application/json"))
        .insert_header((CACHE_CONTROL, "no-store"))
        .insert_header((PRAGMA, "no-cache"))
        .body(serde_json::to_vec(body).unwrap_or_default())
}

/// The OAuth error body (RFC 6749 §5.2), with a Basic challenge on a 401.
fn failure(f: &Failure) -> HttpResponse {
    let status = StatusCode::from_u16(f.error.status()).unwrap_or(StatusCode::BAD_REQUEST);
    let mut res = no_store(status, &f.error);
    if status == StatusCode::UNAUTHORIZED {
        let challenge = if f.basic {
            r#"Basic realm="identity", charset="UTF-8""#
        } else {
            r#"Basic realm="identity""#
        };
        res.headers_mut()
            .insert(WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
    }
    res
}
