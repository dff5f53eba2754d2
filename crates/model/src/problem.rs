//! The error body of every service: `application/problem+json` (RFC 9457).

use serde::{Deserialize, Serialize};

pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

/// One invalid field of a request: which one, and what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// A problem body. `type` is a stable URI-ish tag for the kind of problem, `title`
/// its short human name, `detail` what went wrong with this request; validation
/// problems list the offending fields in `errors`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    #[serde(default, rename = "requestId", skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

impl Problem {
    pub fn new(status: u16, kind: &str, title: &str, detail: impl Into<String>) -> Self {
        Problem {
            kind: format!("urn:problem:{kind}"),
            title: title.to_string(),
            status,
            detail: Some(detail.into()),
            instance: None,
            errors: Vec::new(),
            request_id: None,
        }
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(400, "bad-request", "Bad Request", detail)
    }

    /// A validation failure naming the field.
    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        let mut p = Self::new(
            400,
            "validation",
            "Bad Request",
            format!("{field}: {message}"),
        );
        p.errors.push(FieldError {
            field: field.to_string(),
            message,
        });
        p
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(401, "unauthorized", "Unauthorized", detail)
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(403, "forbidden", "Forbidden", detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(404, "not-found", "Not Found", detail)
    }

    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(409, "conflict", "Conflict", detail)
    }

    pub fn payload_too_large(detail: impl Into<String>) -> Self {
        Self::new(413, "payload-too-large", "Payload Too Large", detail)
    }

    pub fn too_many_requests(detail: impl Into<String>) -> Self {
        Self::new(429, "too-many-requests", "Too Many Requests", detail)
    }

    /// An unexpected failure. The detail never carries the cause: that goes to the log.
    pub fn internal() -> Self {
        Self::new(
            500,
            "internal",
            "Internal Server Error",
            "an unexpected error occurred; the request id identifies it in the logs",
        )
    }

    pub fn bad_gateway(detail: impl Into<String>) -> Self {
        Self::new(502, "bad-gateway", "Bad Gateway", detail)
    }

    pub fn service_unavailable(detail: impl Into<String>) -> Self {
        Self::new(503, "service-unavailable", "Service Unavailable", detail)
    }

    pub fn gateway_timeout(detail: impl Into<String>) -> Self {
        Self::new(504, "gateway-timeout", "Gateway Timeout", detail)
    }

    pub fn with_request_id(mut self, id: impl Into<String>) -> Self {
        self.request_id = Some(id.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_problem_names_the_field() {
        let p = Problem::invalid_field("label", "must contain only letters, digits and dashes");
        let v = serde_json::to_value(&p).unwrap();
        assert_eq!(v["status"], 400);
        assert_eq!(v["type"], "urn:problem:validation");
        assert_eq!(v["errors"][0]["field"], "label");
    }
}
