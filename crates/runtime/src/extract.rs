//! Extractors that turn bad input into a 400 (or 404) problem naming the field,
//! instead of axum's plain-text rejections.

use std::str::FromStr;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use bytes::Bytes;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// A JSON body. Malformed JSON, a wrong type or a missing field is a 400 naming the
/// field (`serde_path_to_error` gives its path); unknown fields are ignored.
pub struct Json<T>(pub T);

impl<S, T> FromRequest<S> for Json<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|ct| {
                let ct = ct.to_ascii_lowercase();
                ct.starts_with("application/json") || ct.contains("+json")
            })
            .unwrap_or(false);
        let body = Bytes::from_request(req, state)
            .await
            .map_err(|e| ApiError::bad_request(format!("could not read the body: {e}")))?;
        if !is_json {
            return Err(ApiError::Problem(Box::new(idp_model::Problem::new(
                415,
                "unsupported-media-type",
                "Unsupported Media Type",
                "the body must be JSON (Content-Type: application/json)",
            ))));
        }
        parse_json(&body).map(Json)
    }
}

/// Parses JSON bytes into `T`, mapping errors to a problem that names the field.
/// A string holding U+0000 is refused (PostgreSQL cannot store it in text).
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    if body.windows(5).any(|w| w.eq_ignore_ascii_case(b"u0000")) {
        if let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) {
            if let Some(path) = nul_in(&v, String::new()) {
                let field = if path.is_empty() { "." } else { path.as_str() };
                return Err(ApiError::invalid(field, "must not contain U+0000"));
            }
        }
    }
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let msg = strip_position(&inner.to_string());
        if inner.is_syntax() || inner.is_eof() {
            ApiError::bad_request(format!("malformed JSON: {msg}"))
        } else if let Some(field) = missing_field(&msg) {
            let field = if path == "." || path.is_empty() {
                field
            } else {
                format!("{path}.{field}")
            };
            ApiError::invalid(&field, "is required")
        } else if path == "." || path.is_empty() {
            ApiError::bad_request(msg)
        } else {
            ApiError::invalid(&path, msg)
        }
    })
}

/// The path of the first string (value or key) of `v` that holds U+0000.
fn nul_in(v: &serde_json::Value, path: String) -> Option<String> {
    let join = |k: &str| {
        if path.is_empty() {
            k.to_string()
        } else {
            format!("{path}.{k}")
        }
    };
    match v {
        serde_json::Value::String(s) if s.contains('\0') => Some(path),
        serde_json::Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, x)| nul_in(x, format!("{path}[{i}]"))),
        serde_json::Value::Object(map) => map.iter().find_map(|(k, x)| {
            if k.contains('\0') {
                Some(join(k))
            } else {
                nul_in(x, join(k))
            }
        }),
        _ => None,
    }
}

fn strip_position(msg: &str) -> String {
    match msg.find(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

fn missing_field(msg: &str) -> Option<String> {
    let rest = msg.strip_prefix("missing field `")?;
    Some(rest.split('`').next()?.to_string())
}

/// Query parameters into `T` (single-valued), with a 400 naming the parameter.
pub struct Query<T>(pub T);

impl<S, T> FromRequestParts<S> for Query<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let q = parts.uri.query().unwrap_or("");
        // Paging parameters are read by `PageParams`; drop them here so that strict
        // filter types need not list them.
        let pairs: Vec<(String, String)> = form_urlencoded::parse(q.as_bytes())
            .into_owned()
            .filter(|(k, _)| !matches!(k.as_str(), "page" | "size" | "sort"))
            .collect();
        // PostgreSQL cannot compare text with U+0000: refuse it here, naming the parameter.
        if let Some((k, _)) = pairs
            .iter()
            .find(|(k, v)| k.contains('\0') || v.contains('\0'))
        {
            return Err(ApiError::invalid(k, "must not contain U+0000"));
        }
        let encoded = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(encoded.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(Query)
            .map_err(|e| {
                let path = e.path().to_string();
                let msg = e.into_inner().to_string();
                if let Some(field) = missing_field(&msg) {
                    ApiError::invalid(&field, "is required")
                } else if path == "." || path.is_empty() {
                    ApiError::bad_request(msg)
                } else {
                    ApiError::invalid(&path, msg)
                }
            })
    }
}

/// A path segment parsed as `T` (an ID newtype); one that does not parse is a 404,
/// as the reference's UUID route patterns imply.
pub struct PathId<T>(pub T);

impl<S, T> FromRequestParts<S> for PathId<T>
where
    S: Send + Sync,
    T: FromStr + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Path(raw) =
            axum::extract::Path::<String>::from_request_parts(parts, state)
                .await
                .map_err(|_| ApiError::not_found("no such resource"))?;
        raw.parse::<T>()
            .map(PathId)
            .map_err(|_| ApiError::not_found("no such resource"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "camelCase")]
    #[allow(dead_code)]
    struct Body {
        organization_id: uuid::Uuid,
        name: String,
        inner: Option<Inner>,
    }
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Inner {
        flag: bool,
    }

    fn field_of(r: Result<Body, ApiError>) -> String {
        match r {
            Err(ApiError::Problem(p)) => p
                .errors
                .first()
                .map(|e| e.field.clone())
                .unwrap_or_else(|| format!("<none: {:?}>", p.detail)),
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn errors_name_the_field() {
        let id = uuid::Uuid::new_v4();
        assert_eq!(
            field_of(parse_json(
                format!(r#"{{"organizationId":"{id}"}}"#).as_bytes()
            )),
            "name"
        );
        assert_eq!(
            field_of(parse_json(
                format!(r#"{{"organizationId":"{id}","name":1}}"#).as_bytes()
            )),
            "name"
        );
        assert_eq!(
            field_of(parse_json(
                format!(r#"{{"organizationId":"{id}","name":"x","inner":{{"flag":"no"}}}}"#)
                    .as_bytes()
            )),
            "inner.flag"
        );
        assert_eq!(
            field_of(parse_json(br#"{"organizationId":"nope","name":"x"}"#)),
            "organizationId"
        );
        assert!(matches!(
            parse_json::<Body>(b"{not json"),
            Err(ApiError::Problem(p)) if p.status == 400
        ));
        let ok: Body = parse_json(
            format!(r#"{{"organizationId":"{id}","name":"x","unknown":true}}"#).as_bytes(),
        )
        .unwrap();
        assert_eq!(ok.name, "x");
    }

    #[test]
    fn strings_with_nul_are_refused_naming_the_field() {
        let id = uuid::Uuid::new_v4();
        let body = format!(r#"{{"organizationId":"{id}","name":"a\u0000b"}}"#);
        assert_eq!(field_of(parse_json(body.as_bytes())), "name");
        let body = format!(r#"{{"organizationId":"{id}","name":"x","inner":{{"k\u0000":1}}}}"#);
        assert_eq!(field_of(parse_json(body.as_bytes())), "inner.k\u{0}");
        // A literal backslash followed by u0000 is no NUL.
        let body = format!(r#"{{"organizationId":"{id}","name":"\\u0000"}}"#);
        assert_eq!(parse_json::<Body>(body.as_bytes()).unwrap().name, "\\u0000");
    }
}
