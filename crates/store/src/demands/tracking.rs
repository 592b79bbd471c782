//! Following a report without an account: the tracking number every item gets
//! ([`wangge_domain::TrackingNumber`]), the private link that opens its page, and
//! the public page's check of a number against the last four digits of the
//! reporter's phone, throttled per address and per number so that the four digits
//! cannot be guessed (10,000 possibilities against [`MAX_FAILURES_PER_NUMBER`] tries a
//! day).

use std::collections::HashSet;

use sqlx::AnyConnection;
use wangge_domain::{TrackingNumber, now_millis};

use super::intake::Claim;
use super::{Demand, PHONE_LAST4_PURPOSE, SELECT, from_row};
use crate::security::sessions::{over_limit, record_failures};
use crate::{Db, StoreResult};

/// Wrong phone digits allowed per number within the window, from anywhere…
pub const MAX_FAILURES_PER_NUMBER: i64 = 6;
/// …and per address, across numbers (someone walking numbers).
pub const MAX_FAILURES_PER_ADDRESS: i64 = 20;
/// A day: at six tries a day, guessing four digits takes years.
pub const FAILURE_WINDOW_MS: i64 = 24 * 3600 * 1000;

fn random_body() -> u32 {
    let mut bytes = [0u8; 4];
    getrandom::fill(&mut bytes).expect("the operating system provides randomness");
    u32::from_le_bytes(bytes) % TrackingNumber::SPACE
}

/// A tracking number no item has yet, claimed for the item being prepared. Numbers
/// are random rather than counted, so that one number says nothing about the next
/// (nobody finds a neighbour's report by adding one). A number drawn by an item of
/// this process still waiting for its group commit is not in the table yet: the
/// claim keeps two such items apart (two did draw the same number once under
/// `bench demands`; the batch failed and one reporter was answered 500). Processes
/// sharing a PostgreSQL database could still meet at the UNIQUE index; with 10
/// million numbers that is left to chance.
pub(crate) async fn fresh(db: &Db) -> StoreResult<Claim> {
    loop {
        let Some(claim) = Claim::new(db, TrackingNumber::from_body(random_body()).to_string()) else {
            continue;
        };
        let taken: Option<i64> = sqlx::query_scalar("SELECT 1 FROM demands WHERE tracking_no = $1")
            .bind(claim.number())
            .fetch_optional(&db.pool)
            .await?;
        if taken.is_none() {
            return Ok(claim);
        }
    }
}

/// `n` tracking numbers, distinct from each other and from every stored one, for
/// a bulk write on `conn` ([`super::history`]).
pub(crate) async fn allocate(conn: &mut AnyConnection, n: usize) -> StoreResult<Vec<String>> {
    let mut chosen: HashSet<String> = HashSet::with_capacity(n);
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let mut batch = Vec::new();
        while batch.len() < (n - out.len()) {
            let candidate = TrackingNumber::from_body(random_body()).to_string();
            if chosen.insert(candidate.clone()) {
                batch.push(candidate);
            }
        }
        for chunk in batch.chunks(500) {
            let mut c = crate::conditions::Conditions::default();
            let list: Vec<String> = chunk.iter().map(|t| c.text(t.clone())).collect();
            let sql = format!("SELECT tracking_no FROM demands WHERE tracking_no IN ({})", list.join(", "));
            let taken: HashSet<String> = c
                .query(sql)
                .fetch_all(&mut *conn)
                .await?
                .iter()
                .map(|r| sqlx::Row::try_get::<String, _>(r, "tracking_no"))
                .collect::<Result<_, _>>()?;
            out.extend(chunk.iter().filter(|t| !taken.contains(*t)).cloned());
        }
    }
    Ok(out)
}

/// The item with this tracking number.
pub async fn find(db: &Db, number: &TrackingNumber) -> StoreResult<Option<Demand>> {
    let sql = format!("{SELECT} WHERE tracking_no = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(number.as_str()).fetch_optional(&db.pool).await?;
    row.map(|r| from_row(&r, &db.vault, now_millis())).transpose()
}

/// The key of an item's private tracking link: the number alone does not open the
/// page (numbers could be walked), the number with its key does — for a reporter
/// who left no phone, or who does not want to type one.
pub fn link_key(db: &Db, number: &str) -> String {
    db.vault.blind("tracking_link", number).chars().take(16).collect()
}

/// The item of `number` when the reporter's phone ends in `last4`; `None` for an
/// unknown number, an item without a phone, or other digits — one answer for all
/// three, so that the page does not tell which numbers exist.
pub async fn check(db: &Db, number: &TrackingNumber, last4: &str) -> StoreResult<Option<Demand>> {
    let last4: String = last4.chars().map(wangge_domain::text::fold_width).filter(|c| c.is_ascii_digit()).collect();
    if last4.len() != 4 {
        return Ok(None);
    }
    let hash = db.vault.blind(PHONE_LAST4_PURPOSE, &last4);
    let stored: Option<Option<String>> =
        sqlx::query_scalar("SELECT reporter_phone_last4_hash FROM demands WHERE tracking_no = $1")
            .bind(number.as_str())
            .fetch_optional(&db.pool)
            .await?;
    match stored.flatten() {
        Some(h) if h == hash => find(db, number).await,
        _ => Ok(None),
    }
}

fn number_key(number: &str) -> String {
    format!("number:{number}")
}

fn address_key(address: &str) -> String {
    format!("address:{address}")
}

/// Whether the tracking page is throttled for `number` or from `address`; if so,
/// for how many more minutes.
pub async fn throttled(db: &Db, number: &str, address: &str) -> StoreResult<Option<i64>> {
    let keys = [(number_key(number), MAX_FAILURES_PER_NUMBER), (address_key(address), MAX_FAILURES_PER_ADDRESS)];
    over_limit(db, "tracking_failures", &keys, FAILURE_WINDOW_MS).await
}

/// A wrong number or wrong phone digits from `address`.
pub async fn record_failure(db: &Db, number: &str, address: &str) -> StoreResult<()> {
    record_failures(db, "tracking_failures", &[number_key(number), address_key(address)], FAILURE_WINDOW_MS).await
}

/// Up to `limit` tracking numbers of stored items, for benchmarks and tests.
pub async fn some_numbers(db: &Db, limit: i64) -> StoreResult<Vec<String>> {
    Ok(sqlx::query_scalar("SELECT tracking_no FROM demands WHERE tracking_no IS NOT NULL ORDER BY id LIMIT $1")
        .bind(limit)
        .fetch_all(&db.pool)
        .await?)
}
