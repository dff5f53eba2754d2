//! Validation of request values, each failure a 400 naming the field.

use idp_runtime::error::ApiError;

/// A valid email address ([`idp_model::Email`]: the one set of rules of every
/// service), trimmed and lower-cased.
pub fn email(field: &str, raw: &str) -> Result<String, ApiError> {
    idp_model::Email::parse(raw)
        .map(idp_model::Email::into_string)
        .map_err(|why| ApiError::invalid(field, format!("must be a valid email address ({why})")))
}

/// A required, trimmed, non-empty text of at most `max` characters.
pub fn text(field: &str, raw: &str, max: usize) -> Result<String, ApiError> {
    let t = raw.trim();
    if t.is_empty() {
        return Err(ApiError::invalid(field, "must not be empty"));
    }
    if t.chars().count() > max {
        return Err(ApiError::invalid(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    Ok(t.to_string())
}

/// An optional text: `None` or blank stays/becomes `None`.
pub fn optional_text(
    field: &str,
    raw: Option<&str>,
    max: usize,
) -> Result<Option<String>, ApiError> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(t) => text(field, t, max).map(Some),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(r: Result<String, ApiError>) -> String {
        match r {
            Err(ApiError::Problem(p)) => {
                assert_eq!(p.status, 400);
                p.errors
                    .first()
                    .map(|e| e.field.clone())
                    .unwrap_or_default()
            }
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn emails_are_trimmed_and_lower_cased() {
        assert_eq!(
            email("email", "  Jane.Doe@ACME.com ").unwrap(),
            "jane.doe@acme.com"
        );
        assert_eq!(
            email("email", "a+tag@sub.acme.io").unwrap(),
            "a+tag@sub.acme.io"
        );
    }

    #[test]
    fn bad_emails_name_the_field() {
        for bad in [
            "",
            "plain",
            "@acme.com",
            "jane@",
            "jane@acme",
            "jane@@acme.com",
            "ja ne@acme.com",
            "jane@acme..com",
            "jane@-acme.com",
            ".jane@acme.com",
            "jane.@acme.com",
            "jane@acme.com.",
        ] {
            assert_eq!(field_of(email("email", bad)), "email", "{bad:?} accepted");
        }
        let long = format!("{}@acme.com", "a".repeat(250));
        assert_eq!(field_of(email("contactEmail", &long)), "contactEmail");
    }

    #[test]
    fn texts_are_trimmed_and_bounded() {
        assert_eq!(text("name", " x ", 10).unwrap(), "x");
        assert_eq!(field_of(text("name", "   ", 10)), "name");
        assert_eq!(field_of(text("name", "abcdef", 5)), "name");
        assert_eq!(optional_text("d", Some("  "), 5).unwrap(), None);
        assert_eq!(optional_text("d", None, 5).unwrap(), None);
    }
}
