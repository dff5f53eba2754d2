//! Timestamps as the organization service answers them.

pub fn ts(dt: chrono::DateTime<chrono::Utc>) -> idp_model::Timestamp {
    dt.into()
}

pub fn ts_opt(dt: Option<chrono::DateTime<chrono::Utc>>) -> Option<idp_model::Timestamp> {
    dt.map(Into::into)
}
