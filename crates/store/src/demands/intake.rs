//! Group commit of new items: one writer, many reporters.
//!
//! Every acknowledged item must survive a power cut, so every commit is durable
//! (`synchronous=FULL` on SQLite: an fsync of the write-ahead log, about a
//! millisecond on the development machine; a WAL flush on PostgreSQL). One commit per
//! item would cap intake at about a thousand items a second whatever else is done.
//! So items are checked, priced and built in the request's own task
//! ([`super::prepare`]), then handed to the writer of their [`Db`]: a task that takes
//! every item waiting, writes them — the items, their first timeline entries and
//! their audit entries — in one transaction, commits once, and only then answers each
//! request through its own oneshot. Items that arrive while a batch commits form
//! the next batch; nobody waits for a timer, so a lone item is written at once.
//!
//! **Failures stay with their item.** Everything that depends on the request alone
//! is checked before an item joins a batch. If a batch still fails (a constraint
//! broken meanwhile, a lost connection), it is rolled back and each of its items is
//! written again in a transaction of its own, so the others are kept and each gets
//! its own error. Ids are made before the first attempt, so an item whose commit
//! was in doubt cannot be written twice.
//!
//! The writer task exists only while items are waiting: the first item of a quiet
//! moment spawns it on the current runtime, and it ends when the queue is empty.
//! Several processes on one database (PostgreSQL) each have their own writer; the
//! engine orders their commits as before.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use sqlx::{AnyConnection, Connection};
use tokio::sync::oneshot;

use super::DemandEvent;
use super::builder::{self, Row};
use crate::bulk::insert_batch;
use crate::{Db, StoreError, StoreResult, audit};

/// An item ready to be written: the row, its sealed phone, its first timeline entry
/// and its audit entry (ids and times already given).
#[derive(Debug)]
pub(crate) struct Prepared {
    pub row: Row,
    pub event: DemandEvent,
    pub audit: Option<audit::Entry>,
    /// The item's tracking number, claimed until the item is written or dropped
    /// (held, never read: dropping it frees the number).
    pub _claim: Claim,
}

/// A tracking number drawn for an item of this process that is not committed yet
/// ([`crate::demands::tracking::fresh`]): until the item is written or dropped no
/// other item of the process may draw it, as the stored rows do not show it yet.
#[derive(Debug)]
pub(crate) struct Claim {
    writer: Arc<Writer>,
    number: String,
}

impl Claim {
    /// Claims `number` for `db`'s next items; `None` if an item waiting already holds it.
    pub(crate) fn new(db: &Db, number: String) -> Option<Claim> {
        let fresh = db.intake.claims().insert(number.clone());
        fresh.then(|| Claim { writer: Arc::clone(&db.intake), number })
    }

    pub(crate) fn number(&self) -> &str {
        &self.number
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        self.writer.claims().remove(&self.number);
    }
}

type Reply = oneshot::Sender<StoreResult<()>>;

/// The queue of one database's writer.
#[derive(Debug, Default)]
pub(crate) struct Writer {
    queue: Mutex<Queue>,
    /// Tracking numbers of items prepared and not yet written ([`Claim`]).
    claimed: Mutex<HashSet<String>>,
    /// Transactions committed and items they held (for `wangge bench`).
    commits: AtomicU64,
    items: AtomicU64,
}

#[derive(Debug, Default)]
struct Queue {
    waiting: Vec<(Prepared, Reply)>,
    /// Whether a writer task is running (it empties `waiting` before it ends).
    running: bool,
}

impl Writer {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn claims(&self) -> MutexGuard<'_, HashSet<String>> {
        self.claimed.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Most items one transaction writes; more wait for the next.
const MAX_BATCH: usize = 512;

/// Writes `item` with the next batch; returns once it is durably committed (or has
/// failed on its own).
pub(crate) async fn submit(db: &Db, item: Prepared) -> StoreResult<()> {
    let (reply, answer) = oneshot::channel();
    let start = {
        let mut queue = db.intake.lock();
        queue.waiting.push((item, reply));
        !std::mem::replace(&mut queue.running, true)
    };
    if start {
        tokio::spawn(run(db.clone()));
    }
    // The sender is only dropped unanswered when the writer task died (a panic, or
    // its runtime shutting down).
    answer.await.unwrap_or(Err(StoreError::Database(sqlx::Error::WorkerCrashed)))
}

/// Marks the writer stopped if its task ends abnormally (panic, cancellation), and
/// drops what was waiting so that those requests fail instead of hanging.
struct Running {
    writer: Arc<Writer>,
    finished: bool,
}

impl Drop for Running {
    fn drop(&mut self) {
        if !self.finished {
            let mut queue = self.writer.lock();
            queue.running = false;
            queue.waiting.clear();
        }
    }
}

async fn run(db: Db) {
    let mut running = Running { writer: Arc::clone(&db.intake), finished: false };
    // One connection for the whole run, not one acquired per batch.
    let mut conn = None;
    loop {
        let batch: Vec<(Prepared, Reply)> = {
            let mut queue = db.intake.lock();
            if queue.waiting.is_empty() {
                queue.running = false;
                running.finished = true;
                return;
            }
            let n = queue.waiting.len().min(MAX_BATCH);
            queue.waiting.drain(..n).collect()
        };
        let (items, replies): (Vec<Prepared>, Vec<Reply>) = batch.into_iter().unzip();
        if conn.is_none() {
            conn = db.pool.acquire().await.ok();
        }
        let first = match conn.as_mut() {
            Some(c) => write(&db, c, &items).await,
            None => Err(StoreError::Database(sqlx::Error::PoolTimedOut)),
        };
        if first.is_err() {
            // Perhaps the connection itself: the retries take a fresh one.
            conn = None;
        }
        match first {
            Ok(()) => {
                for reply in replies {
                    let _ = reply.send(Ok(()));
                }
            }
            Err(e) if items.len() == 1 => {
                let _ = replies.into_iter().next().map(|r| r.send(Err(explained(e, &items[0]))));
            }
            Err(e) => {
                tracing::warn!("a batch of {} new items failed ({e}); writing them one by one", items.len());
                for (item, reply) in items.iter().zip(replies) {
                    let one = write_alone(&db, item).await;
                    let _ = reply.send(one.map_err(|e| explained(e, item)));
                }
            }
        }
    }
}

/// Writes one item in a transaction of its own, on a fresh connection.
async fn write_alone(db: &Db, item: &Prepared) -> StoreResult<()> {
    let mut conn = db.pool.acquire().await?;
    write(db, &mut conn, std::slice::from_ref(item)).await
}

/// Writes `items` with their timeline and audit entries in one transaction.
async fn write(db: &Db, conn: &mut AnyConnection, items: &[Prepared]) -> StoreResult<()> {
    let mut tx = conn.begin().await?;
    let rows: Vec<&Row> = items.iter().map(|p| &p.row).collect();
    insert_batch(&mut tx, "demands", builder::COLUMNS, &rows, |q, r| builder::bind(q, r)).await?;
    let events: Vec<&DemandEvent> = items.iter().map(|p| &p.event).collect();
    insert_batch(&mut tx, "demand_events", builder::EVENT_COLUMNS, &events, |q, e| builder::bind_event(q, e)).await?;
    let entries: Vec<&audit::Entry> = items.iter().filter_map(|p| p.audit.as_ref()).collect();
    insert_batch(&mut tx, "audit_log", audit::COLUMNS, &entries, |q, e| audit::bind(q, e)).await?;
    tx.commit().await?;
    db.intake.commits.fetch_add(1, Ordering::Relaxed);
    db.intake.items.fetch_add(items.len() as u64, Ordering::Relaxed);
    Ok(())
}

/// An item's own failure in words: the place and category were checked before, so a
/// reference that does not hold is the resident named (or a record removed meanwhile).
fn explained(err: StoreError, item: &Prepared) -> StoreError {
    match &err {
        StoreError::Database(sqlx::Error::Database(e)) if e.is_foreign_key_violation() => {
            StoreError::Invalid(match &item.row.demand.resident_id {
                Some(r) => wangge_domain::msg!("demands.error.no_resident", id = r).field("resident_id"),
                None => wangge_domain::msg!("demands.error.place_gone"),
            })
        }
        _ => err,
    }
}

/// How many transactions the intake writer of `db` has committed, and how many items
/// they held (for benchmarks: the average batch).
pub fn stats(db: &Db) -> (u64, u64) {
    (db.intake.commits.load(Ordering::Relaxed), db.intake.items.load(Ordering::Relaxed))
}

#[cfg(test)]
mod tests {
    use super::Claim;

    #[tokio::test]
    async fn a_tracking_number_claimed_by_an_item_waiting_is_not_drawn_again() {
        let t = crate::testing::sqlite().await;
        let claim = Claim::new(&t.db, "12345678".into()).expect("nobody holds it");
        assert_eq!(claim.number(), "12345678");
        assert!(Claim::new(&t.db, "12345678".into()).is_none(), "held by an item waiting for its commit");
        assert!(Claim::new(&t.db, "87654321".into()).is_some(), "another number is free");
        drop(claim);
        assert!(Claim::new(&t.db, "12345678".into()).is_some(), "free again once its item is written or dropped");
    }
}
