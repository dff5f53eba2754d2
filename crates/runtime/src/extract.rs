//! The extractors' parsing: a JSON body, query parameters, path ids and
//! `/{id}/{action}` segments, turned into a 400 (or 404) problem naming the field.
//! The actix-web `FromRequest` impls are in `crate::web::extract`.

use std::str::FromStr;

use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// A JSON body. Malformed JSON, a wrong type or a missing field is a 400 naming the
/// field (`serde_path_to_error` gives its path); unknown fields are ignored. As an
/// answer (actix-web), a 200 with the value as JSON.
#[derive(Debug)]
pub struct Json<T>(pub T);

/// A raw body, read within the body limit (413 problem beyond it).
#[derive(Debug)]
pub struct Body(pub bytes::Bytes);

impl Body {
    /// The body as JSON into `T`, or `T::default()` when the body is empty or only
    /// whitespace (bodies that are optional).
    pub fn json_or_default<T: DeserializeOwned + Default>(&self) -> Result<T, ApiError> {
        if self.0.iter().all(u8::is_ascii_whitespace) {
            Ok(T::default())
        } else {
            parse_json(&self.0)
        }
    }
}

/// Whether a `Content-Type` value is JSON (`application/json`, `…+json`).
pub fn is_json_content_type(ct: Option<&str>) -> bool {
    ct.map(|ct| {
        let ct = ct.to_ascii_lowercase();
        ct.starts_with("application/json") || ct.contains("+json")
    })
    .unwrap_or(false)
}

/// The 415 of a body that is not JSON.
pub fn not_json() -> ApiError {
    ApiError::Problem(Box::new(idp_model::Problem::new(
        415,
        "unsupported-media-type",
        "Unsupported Media Type",
        "the body must be JSON (Content-Type: application/json)",
    )))
}

/// The 413 of a body over the limit.
pub fn too_large() -> ApiError {
    idp_model::Problem::payload_too_large("the request body is larger than allowed").into()
}

/// The longest string (value or object key) any JSON body may hold, in characters.
/// Fields have smaller documented maximums, checked by the services; this bound
/// holds for every field of every body, also those without one of their own (the
/// values inside preference objects, say).
pub const MAX_JSON_STRING: usize = 20_000;

/// Parses JSON bytes into `T`, mapping errors to a problem that names the field and
/// the expected type, never quoting the refused value. Refused besides what `T`
/// refuses: a string holding U+0000 (PostgreSQL cannot store it in text), a string
/// longer than [`MAX_JSON_STRING`], and an array where `T` is a struct or map (serde
/// would read a struct from a JSON array of its fields in order).
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let may_hold_nul = body.windows(5).any(|w| w.eq_ignore_ascii_case(b"u0000"));
    if may_hold_nul || body.len() > MAX_JSON_STRING {
        if let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) {
            if let Some((path, why)) = bad_string(&v, String::new()) {
                let field = if path.is_empty() { "." } else { path.as_str() };
                return Err(ApiError::invalid(field, why));
            }
        }
    }
    if wants_object::<T>() && first_byte(body) == Some(b'[') {
        return Err(ApiError::bad_request("the body must be a JSON object"));
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
            ApiError::bad_request(format!("the body {}", without_value(&msg)))
        } else {
            ApiError::invalid(&path, without_value(&msg))
        }
    })
}

fn first_byte(body: &[u8]) -> Option<u8> {
    body.iter().copied().find(|b| !b.is_ascii_whitespace())
}

/// Rewrites a deserialization error so that it says what was expected and never
/// quotes the value: serde's `invalid type: string "…", expected a boolean`
/// becomes `expected a boolean`. Messages of the platform's own types (which do
/// not quote values) stay; a long one of some other type becomes a generic one.
fn without_value(msg: &str) -> String {
    const QUOTING: [&str; 4] = [
        "invalid type:",
        "invalid value:",
        "invalid length",
        "unknown variant",
    ];
    if QUOTING.iter().any(|p| msg.starts_with(p)) {
        // The value comes first, what was expected last.
        if let Some(i) = msg.rfind(", expected ") {
            return msg[i + 2..].to_string();
        }
        return "has a value of the wrong type".into();
    }
    if msg.starts_with("unknown field") {
        return match msg.rfind(", expected ") {
            Some(i) => format!("holds an unknown field; {}", &msg[i + 2..]),
            None => "holds an unknown field".into(),
        };
    }
    if msg.starts_with("UUID parsing failed") || msg.contains("UUID") {
        return "expected a UUID".into();
    }
    if msg.contains('"') || msg.contains('`') || msg.contains('\'') || msg.chars().count() > 200 {
        return "has an invalid value".into();
    }
    msg.to_string()
}

/// Whether `T` deserializes as a struct or map (then a JSON array is refused).
fn wants_object<T: DeserializeOwned>() -> bool {
    matches!(T::deserialize(Probe), Err(Probed::Object))
}

/// A deserializer that answers only which kind of value `T` asked for.
struct Probe;

#[derive(Debug)]
enum Probed {
    Object,
    Other,
}

impl std::fmt::Display for Probed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("probed")
    }
}

impl std::error::Error for Probed {}

impl serde::de::Error for Probed {
    fn custom<M: std::fmt::Display>(_msg: M) -> Self {
        Probed::Other
    }
}

impl<'de> serde::Deserializer<'de> for Probe {
    type Error = Probed;

    fn deserialize_any<V: serde::de::Visitor<'de>>(self, _v: V) -> Result<V::Value, Probed> {
        Err(Probed::Other)
    }

    fn deserialize_struct<V: serde::de::Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        _v: V,
    ) -> Result<V::Value, Probed> {
        Err(Probed::Object)
    }

    fn deserialize_map<V: serde::de::Visitor<'de>>(self, _v: V) -> Result<V::Value, Probed> {
        Err(Probed::Object)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct enum identifier ignored_any
    }
}

/// The path of the first string (value or key) of `v` that holds U+0000 or is
/// longer than [`MAX_JSON_STRING`], with what is wrong with it.
fn bad_string(v: &serde_json::Value, path: String) -> Option<(String, String)> {
    let why = |s: &str| {
        if s.contains('\0') {
            Some("must not contain U+0000".to_string())
        } else if s.len() > MAX_JSON_STRING && s.chars().count() > MAX_JSON_STRING {
            Some(format!("must be at most {MAX_JSON_STRING} characters"))
        } else {
            None
        }
    };
    let join = |k: &str| {
        if path.is_empty() {
            k.to_string()
        } else {
            format!("{path}.{k}")
        }
    };
    match v {
        serde_json::Value::String(s) => why(s).map(|w| (path, w)),
        serde_json::Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, x)| bad_string(x, format!("{path}[{i}]"))),
        serde_json::Value::Object(map) => map.iter().find_map(|(k, x)| {
            if k.chars().count() > MAX_JSON_STRING {
                // Too long to be a field's name: the object holding it is named.
                let at = if path.is_empty() { "." } else { path.as_str() };
                Some((
                    at.to_string(),
                    format!("holds a key longer than {MAX_JSON_STRING} characters"),
                ))
            } else if let Some(w) = why(k) {
                Some((join(k), w))
            } else {
                bad_string(x, join(k))
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
#[derive(Debug)]
pub struct Query<T>(pub T);

/// Parses a query string into `T`. The paging parameters (`page`, `size`, `sort`)
/// are left out ([`crate::paging::PageParams`] reads them), so that strict filter
/// types need not list them.
pub fn parse_query<T: DeserializeOwned>(q: &str) -> Result<T, ApiError> {
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
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let msg = e.into_inner().to_string();
        if let Some(field) = missing_field(&msg) {
            ApiError::invalid(&field, "is required")
        } else if path == "." || path.is_empty() {
            ApiError::bad_request(format!("the query {}", without_value(&msg)))
        } else {
            ApiError::invalid(&path, without_value(&msg))
        }
    })
}

/// A path segment parsed as `T` (an ID newtype); one that does not parse is a 404,
/// as the reference's UUID route patterns imply. With actix-web it is the segment
/// named `{id}` (or the route's only one).
#[derive(Debug)]
pub struct PathId<T>(pub T);

/// The 404 of a path that names nothing.
pub fn no_such_resource() -> ApiError {
    ApiError::not_found("no such resource")
}

/// Parses a path id: a 404 when it does not parse.
pub fn parse_path_id<T: FromStr>(raw: &str) -> Result<T, ApiError> {
    raw.parse::<T>().map_err(|_| no_such_resource())
}

/// `/{id}/{action}`: the id parsed as `T`, the action as `A` (a closed set of
/// names, such as [`Activation`]); either one unknown is a 404. The one place the
/// switch on the action's name lives: a handler matches on `A`.
#[derive(Debug)]
pub struct IdAction<T, A>(pub T, pub A);

/// `activate` / `deactivate`: the action of `PUT /{id}/{action}` on resources that
/// can be switched on and off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    Activate,
    Deactivate,
}

impl Activation {
    /// Whether the resource is active after the action.
    pub fn active(self) -> bool {
        self == Activation::Activate
    }
}

impl FromStr for Activation {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "activate" => Ok(Activation::Activate),
            "deactivate" => Ok(Activation::Deactivate),
            _ => Err(()),
        }
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

    fn problem_of<T: std::fmt::Debug>(r: Result<T, ApiError>) -> idp_model::Problem {
        match r {
            Err(ApiError::Problem(p)) => *p,
            other => panic!("not a problem: {other:?}"),
        }
    }

    #[test]
    fn a_wrong_typed_value_is_not_echoed() {
        let id = uuid::Uuid::new_v4();
        let secret = format!("eyJhbGciOiJSUzI1NiJ9.{}.sig", "c2VjcmV0".repeat(40));
        for (body, field) in [
            (
                format!(r#"{{"organizationId":"{id}","name":"x","inner":{{"flag":"{secret}"}}}}"#),
                "inner.flag",
            ),
            (
                format!(r#"{{"organizationId":"{secret}","name":"x"}}"#),
                "organizationId",
            ),
            (
                format!(r#"{{"organizationId":"{id}","name":["{secret}"]}}"#),
                "name",
            ),
        ] {
            let p = problem_of(parse_json::<Body>(body.as_bytes()));
            assert_eq!(p.status, 400);
            let text = serde_json::to_string(&p).unwrap();
            assert!(!text.contains("c2VjcmV0"), "the value is echoed: {text}");
            assert_eq!(p.errors[0].field, field, "{text}");
        }
        let p = problem_of(parse_json::<Body>(
            format!(r#"{{"organizationId":"{id}","name":"x","inner":{{"flag":"{secret}"}}}}"#)
                .as_bytes(),
        ));
        assert_eq!(p.errors[0].message, "expected a boolean");
        // An enum: what is allowed, not what was sent.
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct E {
            kind: Kind,
        }
        #[derive(Debug, Deserialize)]
        enum Kind {
            A,
            B,
        }
        let p = problem_of(parse_json::<E>(
            format!(r#"{{"kind":"{secret}"}}"#).as_bytes(),
        ));
        assert!(!serde_json::to_string(&p).unwrap().contains("c2VjcmV0"));
        assert_eq!(p.errors[0].field, "kind");
        assert!(p.errors[0].message.contains("`A`"), "{:?}", p.errors);
        let _ = (Kind::A, Kind::B);
    }

    #[test]
    fn a_query_value_of_the_wrong_type_is_not_echoed() {
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct F {
            active: Option<bool>,
            id: Option<uuid::Uuid>,
        }
        for (q, field) in [
            ("active=sekrit-value-123", "active"),
            ("id=sekrit-value-123", "id"),
        ] {
            let r = parse_query::<F>(q);
            let p = problem_of(r);
            assert_eq!(p.errors[0].field, field);
            assert!(
                !serde_json::to_string(&p).unwrap().contains("sekrit"),
                "{p:?}"
            );
        }
    }

    #[test]
    fn an_array_is_no_struct() {
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct Update {
            name: Option<String>,
            description: Option<String>,
        }
        let p = problem_of(parse_json::<Update>(br#"["x", "y"]"#));
        assert_eq!(p.status, 400);
        assert!(parse_json::<Update>(br#"{"name":"x"}"#).is_ok());
        // Where an array is what is asked for, it still is one.
        assert_eq!(parse_json::<Vec<u8>>(b" [1, 2]").unwrap(), vec![1, 2]);
        assert!(parse_json::<serde_json::Value>(b"[1]").is_ok());
    }

    #[test]
    fn no_string_is_longer_than_the_bound() {
        let id = uuid::Uuid::new_v4();
        let long = "x".repeat(MAX_JSON_STRING + 1);
        let p = problem_of(parse_json::<Body>(
            format!(r#"{{"organizationId":"{id}","name":"{long}"}}"#).as_bytes(),
        ));
        assert_eq!(p.errors[0].field, "name");
        assert!(!serde_json::to_string(&p).unwrap().contains(&long[..100]));
        // Inside a free-form object too, and keys.
        let p = problem_of(parse_json::<serde_json::Value>(
            format!(r#"{{"prefs":{{"a":["{long}"]}}}}"#).as_bytes(),
        ));
        assert_eq!(p.errors[0].field, "prefs.a[0]");
        let p = problem_of(parse_json::<serde_json::Value>(
            format!(r#"{{"prefs":{{"{long}":1}}}}"#).as_bytes(),
        ));
        assert_eq!(p.errors[0].field, "prefs");
        // At the bound, and multi-byte characters count as one.
        let at = "é".repeat(MAX_JSON_STRING);
        let ok: Body =
            parse_json(format!(r#"{{"organizationId":"{id}","name":"{at}"}}"#).as_bytes()).unwrap();
        assert_eq!(ok.name.chars().count(), MAX_JSON_STRING);
    }
}
