//! The request body of the support-request route: the platform's wire type, with
//! the allowed values of its `type`, `priority` and `severity`.

pub use idp_model::invitation::{
    SupportRequest, SUPPORT_PRIORITIES, SUPPORT_SEVERITIES, SUPPORT_TYPES,
};
