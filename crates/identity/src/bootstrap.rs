//! First start: the super-admin API account of the root organization, with its
//! credentials written to a file only its owner can read. A second start finds the
//! record and creates nothing.

use std::path::{Path, PathBuf};

use idp_model::events::{Event, IdentityData};
use idp_model::identity::BootstrapCredentials;
use idp_model::token::IdentityType;
use idp_model::{IdentityId, ROOT_ORGANIZATION_ID};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use sea_orm::{EntityTrait, IntoActiveModel};

use crate::events;
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
    let mut w = st.work.begin().await?;
    let now = w.now();
    // Shown wherever the account is named (e.g. as the inviter in invitation
    // mails): never blank.
    let name = match settings.admin_name.trim() {
        "" => BootstrapSettings::default().admin_name,
        n => n.to_string(),
    };
    let admin = identity::Model {
        id: id.as_uuid(),
        organization_id: ROOT_ORGANIZATION_ID.as_uuid(),
        kind: IdentityType::ApiAccountIdentity.as_str().into(),
        name,
        first_name: None,
        last_name: None,
        email: None,
        description: Some("created on first start; holds the Super Admin role".into()),
        client_id: Some(client_id),
        secret_hash: Some(st.hasher.hash(&secret)),
        active: true,
        created_at: now,
        updated_at: None,
        deleted_at: None,
        created_by: None,
        mfa_enrolled: false,
        mfa_reset_at: None,
        mfa_reset_by: None,
    };
    identity::Entity::insert(admin.clone().into_active_model())
        .exec_without_returning(w.txn())
        .await?;
    w.txn()
        .execute(Statement::from_sql_and_values(
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
    // The event every other account's creation sends (identity id, organization,
    // type, name, email) plus the bootstrap flag: its consumers learn the name
    // (the inviter in invitation mails and views) like any other.
    w.enqueue_event(
        Some(ROOT_ORGANIZATION_ID),
        &Event::IdentityCreated(IdentityData {
            grant_default_roles: Some(false),
            bootstrap_super_admin: Some(true),
            ..events::identity(&admin)
        }),
    )?;
    if let Err(e) = w.commit().await {
        let _ = std::fs::remove_file(&pending);
        return Err(e.into());
    }
    std::fs::rename(&pending, path)?;
    tracing::info!(
        path = %path.display(),
        identity_id = %id,
        "created the super-admin API account; its credentials are in this file"
    );
    Ok(())
}
