//! The timestamp format of the reference: `{"epochSecond": 1712220972, "nano": 26311000}`.

use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};

/// An instant on the wire. Serializes as the reference shows; `Option<Timestamp>`
/// serializes as `null` when unset.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "camelCase")]
pub struct Timestamp {
    pub epoch_second: i64,
    pub nano: u32,
}

impl Timestamp {
    pub fn now() -> Self {
        Utc::now().into()
    }

    pub fn to_datetime(self) -> DateTime<Utc> {
        Utc.timestamp_opt(self.epoch_second, self.nano)
            .single()
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
    }
}

impl From<DateTime<Utc>> for Timestamp {
    fn from(dt: DateTime<Utc>) -> Self {
        Timestamp {
            epoch_second: dt.timestamp(),
            nano: dt.timestamp_subsec_nanos(),
        }
    }
}

impl From<Timestamp> for DateTime<Utc> {
    fn from(t: Timestamp) -> Self {
        t.to_datetime()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializes_as_epoch_second_and_nano() {
        let t = Timestamp {
            epoch_second: 1712220972,
            nano: 26311000,
        };
        let v = serde_json::to_value(t).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"epochSecond": 1712220972, "nano": 26311000})
        );
        let none: Option<Timestamp> = None;
        assert_eq!(serde_json::to_string(&none).unwrap(), "null");
    }

    #[test]
    fn converts_from_and_to_chrono_without_loss() {
        let dt = Utc.timestamp_opt(1712220972, 26311000).unwrap();
        let t: Timestamp = dt.into();
        assert_eq!(t.to_datetime(), dt);
    }
}
