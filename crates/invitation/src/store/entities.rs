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
        pub expiration: DateTimeUtc,
        pub accepted: Option<bool>,
        pub revoked_at: Option<DateTimeUtc>,
        pub response_received_at: Option<DateTimeUtc>,
        pub created_at: DateTimeUtc,
        /// The user identity the identity service made or mapped for an acceptance
        /// by key (from its identity event naming this invitation).
        pub mapped_identity_id: Option<Uuid>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod organization_seen {
    //! `organizations_seen`: organizations as `organization.*` events describe them.
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "organizations_seen")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub name: Option<String>,
        pub label: Option<String>,
        pub active: bool,
        pub deleted: bool,
        pub updated_at: DateTimeUtc,
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
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod provider_seen {
    //! `identity_providers_seen`: identity providers as `identity-provider.*` events
    //! describe them (their Auth0 connection ids answer `accept-initiate`).
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "identity_providers_seen")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub organization_id: Uuid,
        pub auth0_connection_id: Option<String>,
        pub active: bool,
        pub deleted: bool,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod open_id_provider_seen {
    //! `open_id_providers_seen`: OpenID providers as `open-id-provider.*` events
    //! describe them (their ID tokens prove the login that completes an acceptance).
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "open_id_providers_seen")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub organization_id: Uuid,
        pub client_id: Option<String>,
        pub issuer: Option<String>,
        pub jwks_uri: Option<String>,
        pub active: bool,
        pub deleted: bool,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

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
        pub created_at: DateTimeUtc,
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
        pub created_at: DateTimeUtc,
        pub sent_at: Option<DateTimeUtc>,
        pub attempts: i32,
        pub last_error: Option<String>,
        /// Not before then: the backoff after a failure, or the lease of the
        /// sender trying it now. `NULL`: due.
        pub next_attempt_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
