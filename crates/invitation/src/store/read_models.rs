//! The read models of other services' state, written only by their events
//! (`crate::events`; see `m0100` for the schema).

pub mod identity_seen {
    //! `identities_seen`: identities as `identity.*` events describe them.
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "identities_seen")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub organization_id: Uuid,
        pub name: Option<String>,
        pub email: Option<String>,
        /// `UserIdentity` or `ApiAccountIdentity`.
        pub kind: Option<String>,
        pub deleted: bool,
        pub updated_at: TimeDateTimeWithTimeZone,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub use idp_runtime::read_models::identity_provider_seen as provider_seen;
pub use idp_runtime::read_models::{open_id_provider_seen, organization_seen};
