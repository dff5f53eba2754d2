//! What actix-web handlers answer: [`Json`] (200), [`Created`] (201), [`Paged`]
//! (a page with `X-Total-Count` and `Link`, or the HAL envelope), and every error
//! as [`ApiError`], rendered as `application/problem+json`.

use actix_web::body::BoxBody;
use actix_web::http::header::{HeaderName, HeaderValue, CONTENT_TYPE, WWW_AUTHENTICATE};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, Responder, ResponseError};
use idp_model::problem::PROBLEM_CONTENT_TYPE;
use idp_model::Problem;
use serde::Serialize;

use crate::error::ApiError;
use crate::extract::Json;
use crate::paging::Paged;

/// Renders a problem body with its status and content type.
pub fn problem_response(p: &Problem) -> HttpResponse {
    let status = StatusCode::from_u16(p.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    HttpResponse::build(status)
        .insert_header((CONTENT_TYPE, PROBLEM_CONTENT_TYPE))
        .body(serde_json::to_vec(p).unwrap_or_default())
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let (problem, challenge) = self.to_problem();
        let mut res = problem_response(&problem);
        if let Some(v) = challenge.and_then(|c| HeaderValue::from_str(c).ok()) {
            res.headers_mut().insert(WWW_AUTHENTICATE, v);
        }
        res
    }
}

fn json_response<T: Serialize>(status: StatusCode, value: &T) -> HttpResponse {
    match serde_json::to_vec(value) {
        Ok(body) => HttpResponse::build(status)
            .insert_header((CONTENT_TYPE, "application/json"))
            .body(body),
        Err(e) => ApiError::internal(e).error_response(),
    }
}

/// A 200 with the value as JSON.
impl<T: Serialize> Responder for Json<T> {
    type Body = BoxBody;

    fn respond_to(self, _: &HttpRequest) -> HttpResponse {
        json_response(StatusCode::OK, &self.0)
    }
}

/// A 201 with the created resource as JSON.
#[derive(Debug)]
pub struct Created<T>(pub T);

impl<T: Serialize> Responder for Created<T> {
    type Body = BoxBody;

    fn respond_to(self, _: &HttpRequest) -> HttpResponse {
        json_response(StatusCode::CREATED, &self.0)
    }
}

impl<T: Serialize> Responder for Paged<T> {
    type Body = BoxBody;

    fn respond_to(self, _: &HttpRequest) -> HttpResponse {
        let (headers, body) = self.into_parts();
        let mut res = HttpResponse::Ok().body(body);
        for (name, value) in headers {
            if let Ok(v) = HeaderValue::from_str(&value) {
                res.headers_mut().insert(HeaderName::from_static(name), v);
            }
        }
        res
    }
}
