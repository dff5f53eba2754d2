//! `/identity/v1/.well-known/**` and the RFC 8414 path outside the issuer's.

use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use actix_web::{web, HttpResponse};
use idp_runtime::web::{Data, Json, ServiceConfig};
use serde_json::Value;

use super::service;
use crate::state::AppState;

/// Below the `/identity/v1` scope.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(web::resource("/.well-known/jwks.json").get(jwks))
        .service(web::resource("/.well-known/openid-configuration").get(openid_configuration))
        .service(
            web::resource("/.well-known/oauth-authorization-server").get(authorization_server),
        );
}

/// At the top level: the RFC 8414 metadata at `rfc8414_path` (the issuer's path
/// after the well-known suffix).
pub fn configure_rfc8414(rfc8414_path: String) -> impl FnOnce(&mut ServiceConfig) {
    move |cfg| {
        cfg.service(web::resource(rfc8414_path).get(authorization_server));
    }
}

async fn jwks(s: Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "application/json"))
        .insert_header((CACHE_CONTROL, "public, max-age=300"))
        .body((*s.keys.jwks_json()).clone())
}

async fn openid_configuration(s: Data<AppState>) -> Json<Value> {
    Json(service::openid_configuration(&s))
}

async fn authorization_server(s: Data<AppState>) -> Json<Value> {
    Json(service::authorization_server(&s))
}
