//! The sea-orm entities of the service's tables (see `m0100` for the schema).

pub mod invitation {
    //! `invitations`: the key itself is never stored, only its SHA-256 (hex).
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "invitations")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub key_hash: String,
        pub from_identity_id: Uuid,
        pub to_organization_id: Uuid,
        pub invited_email_address: String,
        pub invitation_url: Option<String>,
        pub target_user_identity_id: Option<Uuid>,
        pub expiration: TimeDateTimeWithTimeZone,
        pub accepted: Option<bool>,
        pub revoked_at: Option<TimeDateTimeWithTimeZone>,
        pub response_received_at: Option<TimeDateTimeWithTimeZone>,
        pub created_at: TimeDateTimeWithTimeZone,
        /// The user identity the identity service made or mapped for an acceptance
        /// by key (from its identity event naming this invitation).
        pub mapped_identity_id: Option<Uuid>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

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

pub mod support_request {
    //! `support_requests`.
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "support_requests")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub identity_id: Option<Uuid>,
        pub organization_id: Option<Uuid>,
        pub name: Option<String>,
        pub email: Option<String>,
        pub selected_organization_id: Option<String>,
        pub selected_network_id: Option<String>,
        pub subject: String,
        pub comment: String,
        pub kind: String,
        pub priority: String,
        pub severity: String,
        /// JSON array of strings.
        pub recent_error_messages: Option<String>,
        pub created_at: TimeDateTimeWithTimeZone,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod mail {
    //! `mail_outbox`: messages written in the transaction of the change they
    //! report, delivered by the mailer, marked sent (and their body cleared).
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "mail_outbox")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub recipient: String,
        pub subject: String,
        pub body: String,
        pub created_at: TimeDateTimeWithTimeZone,
        pub sent_at: Option<TimeDateTimeWithTimeZone>,
        pub attempts: i32,
        pub last_error: Option<String>,
        /// Not before then: the backoff after a failure, or the lease of the
        /// sender trying it now. `NULL`: due.
        pub next_attempt_at: Option<TimeDateTimeWithTimeZone>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
