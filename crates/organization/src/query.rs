//! Timestamps as the organization service answers them.

pub fn ts(dt: time::OffsetDateTime) -> idp_model::Timestamp {
    dt.into()
}

pub fn ts_opt(dt: Option<time::OffsetDateTime>) -> Option<idp_model::Timestamp> {
    dt.map(Into::into)
}
