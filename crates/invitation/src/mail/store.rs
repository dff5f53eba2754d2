//! `mail_outbox`: messages written in the transaction of the change they report,
//! delivered by the mailer, marked sent (and their body cleared).

use sea_orm::entity::prelude::*;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, Condition, QueryOrder, QuerySelect};
use time::OffsetDateTime;

use super::Message;

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
    /// Not before then: the backoff after a failure, or the lease of the sender
    /// trying it now. `NULL`: due.
    pub next_attempt_at: Option<TimeDateTimeWithTimeZone>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// Writes `msg` as a new, unsent row.
pub async fn insert<C: ConnectionTrait>(
    conn: &C,
    msg: Message,
    now: OffsetDateTime,
) -> Result<(), DbErr> {
    Entity::insert(ActiveModel {
        id: Set(Uuid::now_v7()),
        recipient: Set(msg.recipient),
        subject: Set(msg.subject),
        body: Set(msg.body),
        created_at: Set(now),
        sent_at: Set(None),
        attempts: Set(0),
        last_error: Set(None),
        next_attempt_at: Set(None),
    })
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

/// Unsent rows whose backoff or lease is over.
fn due(now: OffsetDateTime) -> Condition {
    Condition::any()
        .add(Column::NextAttemptAt.is_null())
        .add(Column::NextAttemptAt.lte(now))
}

/// Up to `limit` unsent, due messages, oldest first.
pub async fn due_rows<C: ConnectionTrait>(
    db: &C,
    now: OffsetDateTime,
    limit: u64,
) -> Result<Vec<Model>, DbErr> {
    Entity::find()
        .filter(Column::SentAt.is_null())
        .filter(due(now))
        .order_by_asc(Column::CreatedAt)
        .order_by_asc(Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// Claims message `id` until `until` (one conditional UPDATE): whether this
/// sender holds it now (it was unsent and due).
pub async fn claim<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    now: OffsetDateTime,
    until: OffsetDateTime,
) -> Result<bool, DbErr> {
    let claimed = Entity::update_many()
        .col_expr(Column::NextAttemptAt, Expr::value(until))
        .filter(Column::Id.eq(id))
        .filter(Column::SentAt.is_null())
        .filter(due(now))
        .exec(db)
        .await?;
    Ok(claimed.rows_affected == 1)
}

/// Marks a delivered message sent and clears its body (it may hold a key).
pub async fn mark_sent<C: ConnectionTrait>(
    db: &C,
    row: &Model,
    at: OffsetDateTime,
) -> Result<(), DbErr> {
    Entity::update_many()
        .col_expr(Column::SentAt, Expr::value(at))
        .col_expr(Column::Body, Expr::value(String::new()))
        .col_expr(Column::Attempts, Expr::value(row.attempts + 1))
        .col_expr(
            Column::NextAttemptAt,
            Expr::value(Option::<OffsetDateTime>::None),
        )
        .filter(Column::Id.eq(row.id))
        .filter(Column::SentAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Records a failed attempt: its count, its reason, and when to try again.
pub async fn mark_failed<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    attempts: i32,
    reason: &str,
    next: OffsetDateTime,
) -> Result<(), DbErr> {
    Entity::update_many()
        .col_expr(Column::Attempts, Expr::value(attempts))
        .col_expr(Column::LastError, Expr::value(reason.to_string()))
        .col_expr(Column::NextAttemptAt, Expr::value(next))
        .filter(Column::Id.eq(id))
        .filter(Column::SentAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}
