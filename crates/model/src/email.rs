//! An email address that was checked once, where it entered the platform: every
//! service that takes an address parses it into [`Email`] with the same rules, so
//! an address one API refuses cannot enter through another.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A syntactically valid email address, trimmed and lower-cased.
///
/// Deliberately a practical subset of RFC 5321: one `@`, a local part of at most
/// 64 letters, digits and `!#$%&'*+/=?^_`{|}~.-` (no leading, trailing or double
/// dot), a domain of at least two dot-separated labels of letters, digits and
/// hyphens (not at a label's ends, at most 63 each), at most 254 characters in all.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Email(String);

/// Why a text is not an [`Email`]; the message never quotes the text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EmailError {
    Empty,
    TooLong,
    NoAt,
    MoreThanOneAt,
    BadLocalPart,
    DomainWithoutDot,
    BadDomain,
}

impl fmt::Display for EmailError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EmailError::Empty => "empty",
            EmailError::TooLong => "too long",
            EmailError::NoAt => "no @",
            EmailError::MoreThanOneAt => "more than one @",
            EmailError::BadLocalPart => "bad local part",
            EmailError::DomainWithoutDot => "the domain needs a dot",
            EmailError::BadDomain => "bad domain",
        })
    }
}

impl std::error::Error for EmailError {}

impl Email {
    /// Checks `raw` (after trimming and lower-casing it).
    pub fn parse(raw: &str) -> Result<Email, EmailError> {
        let e = raw.trim().to_lowercase();
        if e.is_empty() {
            return Err(EmailError::Empty);
        }
        if e.len() > 254 {
            return Err(EmailError::TooLong);
        }
        let Some((local, domain)) = e.split_once('@') else {
            return Err(EmailError::NoAt);
        };
        if domain.contains('@') {
            return Err(EmailError::MoreThanOneAt);
        }
        const LOCAL_SPECIALS: &str = "!#$%&'*+/=?^_`{|}~.-";
        if local.is_empty()
            || local.len() > 64
            || !local
                .chars()
                .all(|c| c.is_alphanumeric() || LOCAL_SPECIALS.contains(c))
            || local.starts_with('.')
            || local.ends_with('.')
            || local.contains("..")
        {
            return Err(EmailError::BadLocalPart);
        }
        let labels: Vec<&str> = domain.split('.').collect();
        if labels.len() < 2 {
            return Err(EmailError::DomainWithoutDot);
        }
        if labels.iter().any(|l| {
            l.is_empty()
                || l.len() > 63
                || l.starts_with('-')
                || l.ends_with('-')
                || !l.chars().all(|c| c.is_alphanumeric() || c == '-')
        }) {
            return Err(EmailError::BadDomain);
        }
        Ok(Email(e))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }

    /// Whether `other` (e.g. what an OpenID provider vouches for) names this address.
    pub fn is(&self, other: &str) -> bool {
        Email::parse(other).is_ok_and(|o| o == *self)
    }
}

impl FromStr for Email {
    type Err = EmailError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Email::parse(s)
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Email {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Serialize for Email {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Email {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Email::parse(&raw).map_err(|e| {
            serde::de::Error::custom(format_args!("must be a valid email address ({e})"))
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn addresses_are_trimmed_and_lower_cased() {
        assert_eq!(
            Email::parse("  Jane.Doe@ACME.com ").unwrap().as_str(),
            "jane.doe@acme.com"
        );
        assert_eq!(
            Email::parse("a+tag@sub.acme.io").unwrap().as_str(),
            "a+tag@sub.acme.io"
        );
        assert!(Email::parse("jane@acme.com").unwrap().is("JANE@acme.com "));
        assert!(!Email::parse("jane@acme.com").unwrap().is("john@acme.com"));
    }

    #[test]
    fn what_is_not_an_address_is_refused_with_its_reason() {
        for (bad, why) in [
            ("", EmailError::Empty),
            ("plain", EmailError::NoAt),
            ("@acme.com", EmailError::BadLocalPart),
            ("jane@", EmailError::DomainWithoutDot),
            ("jane@acme", EmailError::DomainWithoutDot),
            ("jane@@acme.com", EmailError::MoreThanOneAt),
            ("ja ne@acme.com", EmailError::BadLocalPart),
            ("jane@acme..com", EmailError::BadDomain),
            ("jane@-acme.com", EmailError::BadDomain),
            (".jane@acme.com", EmailError::BadLocalPart),
            ("jane.@acme.com", EmailError::BadLocalPart),
            ("jane@acme.com.", EmailError::BadDomain),
        ] {
            assert_eq!(Email::parse(bad), Err(why), "{bad:?}");
        }
        let long = format!("{}@acme.com", "a".repeat(250));
        assert_eq!(Email::parse(&long), Err(EmailError::TooLong));
    }

    #[test]
    fn json_reads_and_writes_the_address_and_never_quotes_a_refused_one() {
        let e: Email = serde_json::from_str("\"Jane@Acme.com\"").unwrap();
        assert_eq!(serde_json::to_string(&e).unwrap(), "\"jane@acme.com\"");
        let err = serde_json::from_str::<Email>("\"secret-token@@x\"")
            .unwrap_err()
            .to_string();
        assert!(err.contains("must be a valid email address"), "{err}");
        assert!(!err.contains("secret-token"), "{err}");
    }
}
