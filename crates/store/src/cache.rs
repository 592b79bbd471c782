//! What the store keeps in memory between requests: the demand category catalogue,
//! the holiday calendar and recently verified API tokens. Each lives in [`Caches`],
//! one per [`Db`](crate::Db) (clones share it).
//!
//! **Invalidation.** Every change made through the store in this process empties
//! the matching cache at once (`save_category`, `set_holiday`, `revoke_token`,
//! `grants::create`, `grants::expire`). Other processes on the same database (several
//! app servers on one PostgreSQL, or a `wangge` command run beside the server) are
//! not told: for them every entry expires after a short time to live, so a change
//! made elsewhere takes effect within that bound:
//!
//! - catalogue and calendar: [`CATALOGUE_TTL`] (10 s): a category retired or a
//!   holiday added elsewhere may still be used for new items for up to 10 s;
//! - a verified token with its grants: [`TOKEN_TTL`] (2 s): a token revoked, or a
//!   grant ended, by *another* process still works for at most 2 s. In this
//!   process revocation is immediate. Expiry times (of the token and of each grant)
//!   are checked against the clock on every use, so they are never overstayed.
//!
//! A TTL was chosen over a version check because a version check costs a round
//! trip per request, the very cost the cache removes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use wangge_domain::BusinessCalendar;

use crate::demands::Category;
use crate::security::accounts::ApiToken;

/// How long the catalogue and calendar are trusted without reading them again.
pub const CATALOGUE_TTL: Duration = Duration::from_secs(10);
/// How long a verified token (and its grants) is trusted without reading it again.
pub const TOKEN_TTL: Duration = Duration::from_secs(2);
/// Most tokens remembered at once; only tokens that were found are remembered, so
/// random secrets cannot fill it, but a bound keeps it small anyway.
const MAX_TOKENS: usize = 10_000;

/// A value with the time it was read.
struct Timed<T> {
    at: Instant,
    value: T,
}

/// What a cache holds, and how many times it was invalidated: a value read before
/// an invalidation (perhaps before the change it announces) is not put back after it.
struct Guarded<T> {
    value: T,
    generation: u64,
}

/// One cached value with a time to live.
struct Slot<T>(Mutex<Guarded<Option<Timed<T>>>>);

impl<T: Clone> Slot<T> {
    fn new() -> Self {
        Self(Mutex::new(Guarded { value: None, generation: 0 }))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Guarded<Option<Timed<T>>>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The value if fresh; else the generation to pass to [`Slot::put`] after reading it.
    fn get(&self, ttl: Duration) -> Result<T, u64> {
        let slot = self.lock();
        slot.value.as_ref().filter(|t| t.at.elapsed() < ttl).map(|t| t.value.clone()).ok_or(slot.generation)
    }

    fn put(&self, generation: u64, read_at: Instant, value: T) {
        let mut slot = self.lock();
        if slot.generation == generation {
            slot.value = Some(Timed { at: read_at, value });
        }
    }

    fn clear(&self) {
        let mut slot = self.lock();
        slot.generation += 1;
        slot.value = None;
    }
}

/// A verified API token and the grants of its holder, with their expiry times.
#[derive(Clone, Debug)]
pub(crate) struct TokenEntry {
    pub token: ApiToken,
    /// `(path, expires_at)` of each grant that was live when read.
    pub grants: Vec<(String, i64)>,
}

pub(crate) struct Caches {
    categories: Slot<Arc<HashMap<String, Category>>>,
    calendar: Slot<Arc<BusinessCalendar>>,
    /// By the token's secret hash (never the secret itself).
    tokens: Mutex<Guarded<HashMap<String, Timed<TokenEntry>>>>,
}

impl Caches {
    pub fn new() -> Self {
        Self {
            categories: Slot::new(),
            calendar: Slot::new(),
            tokens: Mutex::new(Guarded { value: HashMap::new(), generation: 0 }),
        }
    }

    /// The catalogue by code, or the generation to store a fresh read under.
    pub fn categories(&self) -> Result<Arc<HashMap<String, Category>>, u64> {
        self.categories.get(CATALOGUE_TTL)
    }

    pub fn put_categories(&self, generation: u64, read_at: Instant, value: Arc<HashMap<String, Category>>) {
        self.categories.put(generation, read_at, value);
    }

    pub fn forget_categories(&self) {
        self.categories.clear();
    }

    pub fn calendar(&self) -> Result<Arc<BusinessCalendar>, u64> {
        self.calendar.get(CATALOGUE_TTL)
    }

    pub fn put_calendar(&self, generation: u64, read_at: Instant, value: Arc<BusinessCalendar>) {
        self.calendar.put(generation, read_at, value);
    }

    pub fn forget_calendar(&self) {
        self.calendar.clear();
    }

    fn tokens(&self) -> std::sync::MutexGuard<'_, Guarded<HashMap<String, Timed<TokenEntry>>>> {
        self.tokens.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The token with this secret hash if fresh, else the generation to pass to
    /// [`Caches::put_token`] after reading it.
    pub fn token(&self, hash: &str) -> Result<TokenEntry, u64> {
        let tokens = self.tokens();
        tokens.value.get(hash).filter(|t| t.at.elapsed() < TOKEN_TTL).map(|t| t.value.clone()).ok_or(tokens.generation)
    }

    /// Remembers a token read at `read_at`, unless tokens were invalidated since
    /// `generation` was taken (the read may have seen the token before its revocation).
    pub fn put_token(&self, generation: u64, read_at: Instant, hash: String, entry: TokenEntry) {
        let mut tokens = self.tokens();
        if tokens.generation != generation {
            return;
        }
        if tokens.value.len() >= MAX_TOKENS {
            tokens.value.retain(|_, t| t.at.elapsed() < TOKEN_TTL);
            if tokens.value.len() >= MAX_TOKENS {
                tokens.value.clear();
            }
        }
        tokens.value.insert(hash, Timed { at: read_at, value: entry });
    }

    /// Forgets every token (a revocation, a grant given or ended).
    pub fn forget_tokens(&self) {
        let mut tokens = self.tokens();
        tokens.generation += 1;
        tokens.value.clear();
    }
}

impl std::fmt::Debug for Caches {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Caches").finish_non_exhaustive()
    }
}
