//! The one error type handlers return, mapped to `application/problem+json` in one
//! place. Unexpected errors answer an opaque 500 and log their whole cause chain.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use idp_model::problem::PROBLEM_CONTENT_TYPE;
use idp_model::Problem;
use sea_orm::DbErr;

#[derive(Debug)]
pub enum ApiError {
    /// A problem meant for the client (4xx, or a 503 with a reason).
    Problem(Box<Problem>),
    /// Authentication failed: 401 with this `WWW-Authenticate` challenge.
    Unauthenticated { challenge: String, detail: String },
    /// Anything unexpected: 500, cause logged, never shown.
    Internal(anyhow::Error),
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Problem::bad_request(detail).into()
    }
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Problem::invalid_field(field, message).into()
    }
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Problem::forbidden(detail).into()
    }
    pub fn not_found(detail: impl Into<String>) -> Self {
        Problem::not_found(detail).into()
    }
    pub fn conflict(detail: impl Into<String>) -> Self {
        Problem::conflict(detail).into()
    }
    pub fn internal(err: impl Into<anyhow::Error>) -> Self {
        ApiError::Internal(err.into())
    }
    /// A unique-constraint violation becomes a 409 with `detail`; any other database
    /// error stays internal.
    pub fn from_db_conflict(err: DbErr, detail: impl Into<String>) -> Self {
        if crate::db::unique_violation(&err).is_some() {
            ApiError::conflict(detail)
        } else {
            ApiError::Internal(err.into())
        }
    }
}

impl From<Problem> for ApiError {
    fn from(p: Problem) -> Self {
        ApiError::Problem(Box::new(p))
    }
}

impl From<DbErr> for ApiError {
    fn from(err: DbErr) -> Self {
        if let Some(c) = crate::db::unique_violation(&err) {
            tracing::debug!(constraint = %c, "unique violation");
            return ApiError::conflict("a resource with the same unique values already exists");
        }
        ApiError::Internal(err.into())
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(err: anyhow::Error) -> Self {
        ApiError::Internal(err)
    }
}

/// Renders a problem body with its status and content type.
pub fn problem_response(p: &Problem) -> Response {
    let status = StatusCode::from_u16(p.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::to_vec(p).unwrap_or_default();
    let mut res = (status, body).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(PROBLEM_CONTENT_TYPE),
    );
    res
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::Problem(p) => problem_response(&p),
            ApiError::Unauthenticated { challenge, detail } => {
                let mut res = problem_response(&Problem::unauthorized(detail));
                if let Ok(v) = HeaderValue::from_str(&challenge) {
                    res.headers_mut().insert(header::WWW_AUTHENTICATE, v);
                }
                res
            }
            ApiError::Internal(err) => {
                tracing::error!(error = ?err, "unexpected error");
                problem_response(&Problem::internal())
            }
        }
    }
}
