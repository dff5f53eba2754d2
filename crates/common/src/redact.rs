//! Paths as logs may show them: secrets that travel in a path (the invitation key of
//! `/invitations/key/{key}/…`) are replaced by `***`.

use std::borrow::Cow;

/// Path segments after which the next segment is a secret.
const SECRET_AFTER: &[&str] = &["/invitations/key/"];

pub fn path(p: &str) -> Cow<'_, str> {
    for marker in SECRET_AFTER {
        if let Some(i) = p.find(marker) {
            let start = i + marker.len();
            let end = p[start..].find('/').map(|j| start + j).unwrap_or(p.len());
            if end > start {
                return Cow::Owned(format!("{}***{}", &p[..start], &p[end..]));
            }
        }
    }
    Cow::Borrowed(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invitation_keys_are_redacted_and_other_paths_kept() {
        assert_eq!(
            path("/identity/v1/invitations/key/AbC123xyz/decline"),
            "/identity/v1/invitations/key/***/decline"
        );
        assert_eq!(
            path("/identity/v1/invitations/key/AbC123xyz"),
            "/identity/v1/invitations/key/***"
        );
        assert_eq!(
            path("/identity/v1/invitations/123"),
            "/identity/v1/invitations/123"
        );
        assert!(matches!(path("/healthz"), Cow::Borrowed(_)));
    }
}
