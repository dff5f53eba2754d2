//! SQLite keeps timestamps as text, in whatever form the writing version's sqlx
//! encoding gave them. Versions before `time` wrote chrono's form
//! (`to_rfc3339_opts(SecondsFormat::AutoSi, false)`: 0, 3, 6 or 9 digits of fraction
//! and `+00:00`); this one writes `time`'s RFC 3339 (`Z`, the fraction without its
//! trailing zeros). A `./data` made by an earlier version must still read.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use idp_runtime::testing::TestDatabase;
use sea_orm::sea_query::{Alias, Expr, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait,
    IntoActiveModel, QueryFilter, QueryOrder, Set,
};
use time::OffsetDateTime;
use uuid::Uuid;

use super::identity;
use super::migrations::Migrator;
use super::organization_seen;

fn at(nanos: i128) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(nanos).unwrap()
}

/// 2024-04-04T08:56:12Z, the second the texts below start with.
const SECOND: i128 = 1_712_220_972_000_000_000;

async fn sqlite() -> (TestDatabase, DatabaseConnection) {
    let tdb = TestDatabase::sqlite().unwrap();
    let db = idp_runtime::db::connect_and_migrate::<Migrator>(&tdb.settings)
        .await
        .unwrap();
    assert_eq!(db.get_database_backend(), DbBackend::Sqlite);
    (tdb, db)
}

async fn new_identity(db: &DatabaseConnection, created_at: OffsetDateTime) -> Uuid {
    let id = Uuid::now_v7();
    identity::ActiveModel {
        id: Set(id),
        organization_id: Set(Uuid::now_v7()),
        kind: Set("UserIdentity".into()),
        name: Set("Ada".into()),
        first_name: Set(None),
        last_name: Set(None),
        email: Set(Some(format!("{id}@acme.test"))),
        description: Set(None),
        client_id: Set(None),
        secret_hash: Set(None),
        active: Set(true),
        created_at: Set(created_at),
        updated_at: Set(None),
        deleted_at: Set(None),
        created_by: Set(None),
        mfa_enrolled: Set(false),
        mfa_reset_at: Set(None),
        mfa_reset_by: Set(None),
    }
    .insert(db)
    .await
    .unwrap();
    id
}

/// Overwrites one text column of a row with `text`, as an earlier version left it.
async fn store_text(db: &DatabaseConnection, table: &str, column: &str, id: Uuid, text: &str) {
    let mut update = Query::update();
    update
        .table(Alias::new(table))
        .value(Alias::new(column), text)
        .and_where(Expr::col(Alias::new("id")).eq(id));
    let done = db
        .execute(db.get_database_backend().build(&update))
        .await
        .unwrap();
    assert_eq!(done.rows_affected(), 1);
}

async fn stored_text(db: &DatabaseConnection, table: &str, column: &str, id: Uuid) -> String {
    let mut select = Query::select();
    select
        .column(Alias::new(column))
        .from(Alias::new(table))
        .and_where(Expr::col(Alias::new("id")).eq(id));
    let row = db
        .query_one(db.get_database_backend().build(&select))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<String>("", column).unwrap()
}

#[tokio::test]
async fn rows_written_in_the_chrono_text_form_read_as_the_same_instants() {
    let (_tdb, db) = sqlite().await;
    let cases = [
        ("2024-04-04T08:56:12+00:00", SECOND),
        ("2024-04-04T08:56:12.026+00:00", SECOND + 26_000_000),
        ("2024-04-04T08:56:12.026311+00:00", SECOND + 26_311_000),
        ("2024-04-04T08:56:12.026311123+00:00", SECOND + 26_311_123),
    ];
    for (text, nanos) in cases {
        let id = new_identity(&db, OffsetDateTime::now_utc()).await;
        for column in ["created_at", "updated_at", "deleted_at", "mfa_reset_at"] {
            store_text(&db, "identities", column, id, text).await;
        }
        let row = identity::Entity::find_by_id(id)
            .one(&db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.created_at, at(nanos), "{text}");
        assert_eq!(row.updated_at, Some(at(nanos)), "{text}");
        assert_eq!(row.deleted_at, Some(at(nanos)), "{text}");
        assert_eq!(row.mfa_reset_at, Some(at(nanos)), "{text}");
        assert_eq!(row.created_at.offset(), time::UtcOffset::UTC);
        // Such a row can be changed and read again.
        let mut am = row.into_active_model();
        am.name = Set("Grace".into());
        let changed = am.update(&db).await.unwrap();
        assert_eq!(changed.created_at, at(nanos), "{text}");
    }

    // A read model of another crate's entity, the same way.
    let id = Uuid::now_v7();
    organization_seen::ActiveModel {
        id: Set(id),
        name: Set(Some("acme".into())),
        label: Set(None),
        active: Set(true),
        deleted: Set(false),
        updated_at: Set(OffsetDateTime::now_utc()),
    }
    .insert(&db)
    .await
    .unwrap();
    store_text(
        &db,
        "organizations_seen",
        "updated_at",
        id,
        "2024-04-04T08:56:12.026311+00:00",
    )
    .await;
    let row = organization_seen::Entity::find_by_id(id)
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.updated_at, at(SECOND + 26_311_000));
}

#[tokio::test]
async fn old_and_new_rows_filter_and_sort_together_by_time() {
    let (_tdb, db) = sqlite().await;
    // One row of an earlier version a second before, one written now in the new
    // form a second after.
    let old = new_identity(&db, OffsetDateTime::now_utc()).await;
    store_text(
        &db,
        "identities",
        "created_at",
        old,
        "2024-04-04T08:56:11.5+00:00",
    )
    .await;
    let new = new_identity(&db, at(SECOND + 1_026_311_000)).await;
    assert_eq!(
        stored_text(&db, "identities", "created_at", new).await,
        "2024-04-04T08:56:13.026311Z"
    );
    let sorted: Vec<Uuid> = identity::Entity::find()
        .order_by_asc(identity::Column::CreatedAt)
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(sorted, [old, new]);
    let before: Vec<Uuid> = identity::Entity::find()
        .filter(identity::Column::CreatedAt.lt(at(SECOND)))
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(before, [old]);
    let after: Vec<Uuid> = identity::Entity::find()
        .filter(identity::Column::CreatedAt.gte(at(SECOND)))
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(after, [new]);
}
