//! First start: the super-admin API account of the root organization, with its
//! credentials written to a file only its owner can read. A second start finds the
//! record and creates nothing.

use std::path::{Path, PathBuf};

use idp_model::events::{types, Envelope};
use idp_model::identity::BootstrapCredentials;
use idp_model::token::IdentityType;
use idp_model::{IdentityId, ROOT_ORGANIZATION_ID};
use sea_orm::{ActiveValue::Set, EntityTrait};
use sea_orm::{ConnectionTrait, DbBackend, Statement, TransactionTrait};

use crate::files;
use crate::secrets;
use crate::settings::BootstrapSettings;
use crate::state::AppState;
use crate::store::identity;

const SUPER_ADMIN: &str = "super-admin";

fn pending_path(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(".pending");
    PathBuf::from(p)
}

pub async fn ensure_super_admin(st: &AppState, settings: &BootstrapSettings) -> anyhow::Result<()> {
    let path = Path::new(&settings.credentials_file);
    let pending = pending_path(path);
    let backend = st.db.get_database_backend();
    let existing = st
        .db
        .query_one(Statement::from_sql_and_values(
            backend,
            match backend {
                DbBackend::Postgres => "SELECT identity_id FROM bootstrap WHERE name = $1",
                _ => "SELECT identity_id FROM bootstrap WHERE name = ?",
            },
            [SUPER_ADMIN.into()],
        ))
        .await?;
    if existing.is_some() {
        // A start that died between committing and publishing the file left it pending.
        if !path.exists() && pending.exists() {
            std::fs::rename(&pending, path)?;
        }
        tracing::info!(path = %path.display(), "bootstrap already done; super-admin credentials file");
        return Ok(());
    }

    let client_id = secrets::new_client_id()?;
    let secret = secrets::new_secret()?;
    let creds = BootstrapCredentials {
        client_id: client_id.clone(),
        password: secret.clone(),
        authentication_url: st.token.token_endpoint(),
    };
    // Written before the commit (so a committed admin always has its credentials
    // somewhere), published by rename after it.
    files::write_private(&pending, &serde_json::to_vec_pretty(&creds)?)?;

    let id = IdentityId::new();
    let now = st.clock.now();
    let txn = st.db.begin().await?;
    identity::Entity::insert(identity::ActiveModel {
        id: Set(id.as_uuid()),
        organization_id: Set(ROOT_ORGANIZATION_ID.as_uuid()),
        kind: Set(IdentityType::ApiAccountIdentity.as_str().into()),
        name: Set(settings.admin_name.clone()),
        first_name: Set(None),
        last_name: Set(None),
        email: Set(None),
        description: Set(Some(
            "created on first start; holds the Super Admin role".into(),
        )),
        client_id: Set(Some(client_id)),
        secret_hash: Set(Some(st.hasher.hash(&secret))),
        active: Set(true),
        created_at: Set(now),
        updated_at: Set(None),
        deleted_at: Set(None),
        created_by: Set(None),
        mfa_enrolled: Set(false),
        mfa_reset_at: Set(None),
        mfa_reset_by: Set(None),
    })
    .exec_without_returning(&txn)
    .await?;
    txn.execute(Statement::from_sql_and_values(
        backend,
        match backend {
            DbBackend::Postgres => {
                "INSERT INTO bootstrap (name, identity_id, created_at) VALUES ($1, $2, $3)"
            }
            _ => "INSERT INTO bootstrap (name, identity_id, created_at) VALUES (?, ?, ?)",
        },
        [SUPER_ADMIN.into(), id.as_uuid().into(), now.into()],
    ))
    .await?;
    let event = Envelope::new(
        types::IDENTITY_CREATED,
        "identity",
        Some(ROOT_ORGANIZATION_ID),
        serde_json::json!({
            "identityId": id,
            "organizationId": ROOT_ORGANIZATION_ID,
            "type": IdentityType::ApiAccountIdentity,
            "grantDefaultRoles": false,
            "bootstrapSuperAdmin": true,
        }),
        now,
    );
    idp_runtime::outbox::enqueue(&txn, &event).await?;
    if let Err(e) = txn.commit().await {
        let _ = std::fs::remove_file(&pending);
        return Err(e.into());
    }
    std::fs::rename(&pending, path)?;
    st.relay.wake();
    tracing::info!(
        path = %path.display(),
        identity_id = %id,
        "created the super-admin API account; its credentials are in this file"
    );
    Ok(())
}
