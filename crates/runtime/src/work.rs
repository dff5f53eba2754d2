//! The unit of work: one change of a service — its rows, the events that report it
//! (the outbox, same transaction) and what must happen once it is committed (drop
//! a cache, revoke tokens) — committed in one call, which also wakes the outbox
//! relay. No handler commits, enqueues or wakes the relay by hand:
//!
//! ```ignore
//! let mut w = s.work.begin().await?;
//! Entity::insert(row).exec_without_returning(w.txn()).await?;
//! w.enqueue_event(Some(org), &Event::OrganizationCreated(data))?;
//! w.after_commit(move || cache.forget(org));
//! w.commit().await?;
//! ```
//!
//! Dropped without `commit` (an error returned with `?`), the transaction rolls
//! back and nothing is published or run.

use std::sync::Arc;

use idp_model::events::{Envelope, Event};
use idp_model::OrganizationId;
use sea_orm::{
    DatabaseConnection, DatabaseTransaction, EntityTrait, PrimaryKeyTrait, TransactionTrait,
    UpdateMany,
};
use time::OffsetDateTime;

use crate::clock::SharedClock;
use crate::error::{ApiError, ApiResult};
use crate::outbox::RelayHandle;

/// Where a service's units of work come from: its database, its outbox relay, its
/// clock and the `source` its events carry. Cheap to clone; part of a service's
/// state.
#[derive(Clone)]
pub struct Work {
    db: DatabaseConnection,
    relay: RelayHandle,
    clock: SharedClock,
    source: Arc<str>,
}

impl Work {
    pub fn new(
        db: DatabaseConnection,
        relay: RelayHandle,
        clock: SharedClock,
        source: &str,
    ) -> Work {
        Work {
            db,
            relay,
            clock,
            source: Arc::from(source),
        }
    }

    /// "Now" at database precision (see [`crate::clock::now_at_db_precision`]).
    pub fn now(&self) -> OffsetDateTime {
        crate::clock::now_at_db_precision(&*self.clock)
    }

    /// Starts a change: a transaction, and "now" fixed for all of it.
    pub async fn begin(&self) -> ApiResult<UnitOfWork> {
        Ok(UnitOfWork {
            txn: self.db.begin().await?,
            now: self.now(),
            source: self.source.clone(),
            relay: self.relay.clone(),
            events: Vec::new(),
            after_commit: Vec::new(),
        })
    }
}

type Effect = Box<dyn FnOnce() + Send>;

/// One change in progress (see the module docs).
#[must_use = "a unit of work does nothing until it is committed"]
pub struct UnitOfWork {
    txn: DatabaseTransaction,
    now: OffsetDateTime,
    source: Arc<str>,
    relay: RelayHandle,
    events: Vec<Envelope>,
    after_commit: Vec<Effect>,
}

impl UnitOfWork {
    /// The transaction, for the change's queries.
    pub fn txn(&self) -> &DatabaseTransaction {
        &self.txn
    }

    /// "Now" of this change, at database precision: every timestamp it writes.
    pub fn now(&self) -> OffsetDateTime {
        self.now
    }

    /// Adds `event` about `org`: it is written to the outbox with the change, and
    /// published after the commit.
    pub fn enqueue_event(&mut self, org: Option<OrganizationId>, event: &Event) -> ApiResult<()> {
        let e = event
            .envelope(&self.source, org, self.now)
            .map_err(ApiError::internal)?;
        self.events.push(e);
        Ok(())
    }

    /// Runs `effect` once the change is committed (not when it rolls back).
    pub fn after_commit(&mut self, effect: impl FnOnce() + Send + 'static) {
        self.after_commit.push(Box::new(effect));
    }

    /// A state transition of one row: `update` (filtered on the row's id and on
    /// the state it must be in) changes it, or nothing matched and the answer is a
    /// 409 with `conflict`. Answers the row as it is now.
    pub async fn transition<E>(
        &self,
        update: UpdateMany<E>,
        id: <E::PrimaryKey as PrimaryKeyTrait>::ValueType,
        conflict: &str,
    ) -> ApiResult<E::Model>
    where
        E: EntityTrait,
    {
        let res = update.exec(&self.txn).await?;
        if res.rows_affected == 0 {
            return Err(ApiError::conflict(conflict.to_string()));
        }
        E::find_by_id(id)
            .one(&self.txn)
            .await?
            .ok_or_else(|| ApiError::internal(anyhow::anyhow!("the changed row vanished")))
    }

    /// Writes the events, commits, wakes the relay and runs the after-commit
    /// effects, in that order.
    pub async fn commit(self) -> ApiResult<()> {
        crate::outbox::enqueue_all(&self.txn, &self.events)
            .await
            .map_err(ApiError::internal)?;
        self.txn.commit().await?;
        if !self.events.is_empty() {
            self.relay.wake();
        }
        for effect in self.after_commit {
            effect();
        }
        Ok(())
    }
}
