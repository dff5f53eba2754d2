//! The database: connecting (PostgreSQL or SQLite by URL), migrating, and turning
//! constraint violations into conflicts in one place.

use std::path::Path;
use std::time::Duration;

use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr, SqlErr,
    Statement,
};
use sea_orm_migration::MigratorTrait;

use crate::settings::DatabaseSettings;

/// Connects, creating the SQLite file (and its directory) when needed.
pub async fn connect(settings: &DatabaseSettings) -> anyhow::Result<DatabaseConnection> {
    let url = settings.url.expose().clone();
    let url = if let Some(path) = url.strip_prefix("sqlite://") {
        let (file, query) = path.split_once('?').unwrap_or((path, ""));
        if file != ":memory:" {
            if let Some(dir) = Path::new(file).parent() {
                if !dir.as_os_str().is_empty() {
                    std::fs::create_dir_all(dir)?;
                }
            }
        }
        if query.contains("mode=") {
            url
        } else if query.is_empty() {
            format!("sqlite://{file}?mode=rwc")
        } else {
            format!("sqlite://{file}?{query}&mode=rwc")
        }
    } else {
        url
    };
    let mut opts = ConnectOptions::new(url);
    opts.max_connections(settings.max_connections)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(10))
        // No ping before each checkout: it cost a round trip (and database CPU) on
        // the way into every query and transaction. sqlx still pings a connection
        // when it goes back to the pool and drops it when that fails, so one that a
        // database restart broke is not handed out again.
        .test_before_acquire(false)
        .sqlx_logging(false);
    let db = Database::connect(opts).await?;
    if db.get_database_backend() == DbBackend::Sqlite {
        // WAL lets readers proceed while a writer commits; NORMAL sync is durable
        // across process crashes, which is what the embedded default needs.
        for pragma in [
            "PRAGMA journal_mode=WAL",
            "PRAGMA synchronous=NORMAL",
            "PRAGMA foreign_keys=ON",
        ] {
            db.execute(Statement::from_string(DbBackend::Sqlite, pragma))
                .await?;
        }
    }
    Ok(db)
}

/// Connects and, unless turned off, applies the service's migrations.
pub async fn connect_and_migrate<M: MigratorTrait>(
    settings: &DatabaseSettings,
) -> anyhow::Result<DatabaseConnection> {
    let db = connect(settings).await?;
    if settings.run_migrations {
        M::up(&db, None).await?;
    }
    Ok(db)
}

/// A cheap round trip, for readiness.
pub async fn ping(db: &DatabaseConnection) -> bool {
    db.ping().await.is_ok()
}

/// Which constraint a write violated, if it was a uniqueness one.
pub fn unique_violation(err: &DbErr) -> Option<String> {
    match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(msg)) => Some(msg),
        _ => None,
    }
}

/// Whether the error is a transient contention failure worth retrying
/// (PostgreSQL serialization failure / deadlock, SQLite busy).
pub fn is_retryable(err: &DbErr) -> bool {
    let s = err.to_string();
    s.contains("40001")
        || s.contains("40P01")
        || s.contains("database is locked")
        || s.contains("could not serialize")
}
