//! The one error type handlers return, mapped to `application/problem+json` in one
//! place (`crate::web`). Unexpected
//! errors answer an opaque 500 and log their whole cause chain.

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

/// What the answer says, for logs of the framework (never a secret: problems carry
/// no values, and the cause of an internal error is logged where it is answered).
impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiError::Problem(p) => write!(
                f,
                "{} {}",
                p.status,
                p.detail.as_deref().unwrap_or(&p.title)
            ),
            ApiError::Unauthenticated { detail, .. } => write!(f, "401 {detail}"),
            ApiError::Internal(_) => f.write_str("500 unexpected error"),
        }
    }
}

impl std::error::Error for ApiError {}

impl ApiError {
    /// The problem this error answers, and the `WWW-Authenticate` challenge of a
    /// 401. An internal error logs its cause here and answers the opaque 500.
    pub fn to_problem(&self) -> (Problem, Option<&str>) {
        match self {
            ApiError::Problem(p) => ((**p).clone(), None),
            ApiError::Unauthenticated { challenge, detail } => (
                Problem::unauthorized(detail.clone()),
                Some(challenge.as_str()),
            ),
            ApiError::Internal(err) => {
                tracing::error!(error = ?err, "unexpected error");
                (Problem::internal(), None)
            }
        }
    }

    /// The HTTP status this error answers.
    pub fn status(&self) -> u16 {
        match self {
            ApiError::Problem(p) => p.status,
            ApiError::Unauthenticated { .. } => 401,
            ApiError::Internal(_) => 500,
        }
    }
}
