//! The events the organization service publishes (through its outbox, in the
//! transaction of the change they report):
//!
//! | type | by | payload |
//! | --- | --- | --- |
//! | `organization.created`, `.activated`, `.deactivated`, `.deleted` | `organizations` | `idp_model::events::OrganizationData` (`organizations::store::event_data`) |
//! | `identity-provider.created`, `.updated`, `.activated`, `.deactivated`, `.deleted` | `identity_providers`, `organizations` | the identity provider |
//! | `default-role.created`, `.deleted` | `default_roles` | the default role |
//! | `default-role.grant-requested` | `default_roles` | `idp_model::events::GrantRequestedData` |
//! | `open-id-provider.created`, `.updated`, `.deleted` | `open_id_providers` | the OpenID provider |

/// The `source` of every event of this service (`AppState::work` writes it).
pub const SOURCE: &str = "organization";
