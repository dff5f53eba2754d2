//! The timestamp format of the reference: `{"epochSecond": 1712220972, "nano": 26311000}`.

use ::time::{OffsetDateTime, PrimitiveDateTime};
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
        OffsetDateTime::now_utc().into()
    }

    /// The instant in UTC; one outside what `OffsetDateTime` can hold becomes the
    /// earliest instant it can.
    pub fn to_datetime(self) -> OffsetDateTime {
        let nanos = i128::from(self.epoch_second) * 1_000_000_000 + i128::from(self.nano);
        OffsetDateTime::from_unix_timestamp_nanos(nanos)
            .unwrap_or(PrimitiveDateTime::MIN.assume_utc())
    }
}

impl From<OffsetDateTime> for Timestamp {
    fn from(dt: OffsetDateTime) -> Self {
        Timestamp {
            epoch_second: dt.unix_timestamp(),
            nano: dt.nanosecond(),
        }
    }
}

impl From<Timestamp> for OffsetDateTime {
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
    fn converts_from_and_to_offset_date_time_without_loss() {
        let dt = OffsetDateTime::from_unix_timestamp_nanos(1_712_220_972_026_311_000).unwrap();
        let t: Timestamp = dt.into();
        assert_eq!(
            t,
            Timestamp {
                epoch_second: 1712220972,
                nano: 26311000
            }
        );
        assert_eq!(t.to_datetime(), dt);
        assert_eq!(OffsetDateTime::from(t), dt);
    }

    #[test]
    fn an_instant_before_1970_keeps_a_positive_nano() {
        // 1969-12-31T23:59:59.5Z, half a second before the epoch.
        let dt = OffsetDateTime::from_unix_timestamp_nanos(-500_000_000).unwrap();
        let t: Timestamp = dt.into();
        assert_eq!(
            t,
            Timestamp {
                epoch_second: -1,
                nano: 500_000_000
            }
        );
        assert_eq!(t.to_datetime(), dt);
    }

    #[test]
    fn an_instant_out_of_range_becomes_the_earliest() {
        let t = Timestamp {
            epoch_second: i64::MAX,
            nano: 0,
        };
        assert_eq!(t.to_datetime(), PrimitiveDateTime::MIN.assume_utc());
    }

    #[test]
    fn an_offset_instant_converts_by_its_instant() {
        let utc = OffsetDateTime::from_unix_timestamp(1712220972).unwrap();
        let shifted = utc.to_offset(::time::macros::offset!(+2));
        assert_eq!(Timestamp::from(shifted), Timestamp::from(utc));
    }
}
