//! Loading many rows at once: the synthetic generator and the importer.
//!
//! Rows go in as multi-row `INSERT … VALUES (…), (…), …` statements inside the
//! caller's transaction. One statement per row would spend most of its time crossing
//! from async Rust to the database driver; a few hundred rows per statement spends it
//! in the engine. Statements are sized to stay under SQLite's 32,766 bound parameters
//! and PostgreSQL's 65,535.
//!
//! On SQLite the placeholders are plain `?`, not `$N`: SQLite (and sqlx's binding of
//! numbered parameters) looks each `$N` up by scanning the ones before it, which
//! makes a statement with thousands of them quadratic — 3,260 residents took 8 s with
//! `$N` and 65 ms with `?`.
//!
//! On an SQLite file, `generate` writes through [`crate::bulk_sqlite`] instead: the
//! same rows, bound straight into prepared statements without sqlx's `Any` layer.

use sqlx::any::{Any, AnyArguments};
use sqlx::query::Query;
use sqlx::{AnyConnection, Executor};
use wangge_domain::{
    BuildingKind, Gender, IdCardNumber, Occupancy, OrganisationKind, Phone, PoliticalStatus, Relation, ResidenceType,
    ResidentStatus, TeamPost, Vocabulary, now_millis,
};

use crate::db::Float;
use crate::registry::areas::{self, Area};
use crate::registry::residents::Protected;
use crate::team::SealedPost;
use crate::vault::{Nonces, Vault};
use crate::{Db, StoreError, StoreResult};

/// Rows one statement inserts. Full chunks share one SQL text, so the statement is
/// prepared once and reused from the connection's cache; a few hundred rows amortise
/// the per-statement cost without making the text long to parse.
const ROWS_PER_STATEMENT: usize = 256;
/// Most parameters one statement binds (below SQLite's 32,766).
const MAX_PARAMS: usize = 30_000;

pub struct BuildingRow {
    pub id: String,
    pub grid_id: String,
    pub community_id: String,
    pub path: String,
    pub number: String,
    pub address: Option<String>,
    pub kind: BuildingKind,
    pub floors: Option<i64>,
    pub units: Option<i64>,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
}

pub struct HouseholdRow {
    pub id: String,
    pub building_id: String,
    pub path: String,
    pub unit: String,
    pub room: String,
    pub occupancy: Occupancy,
    /// The last day someone was met there, and met at the door (`YYYY-MM-DD`), as
    /// the triggers of migration 0035 keep them from the visits: `None` for a
    /// household nobody has visited. A load of past visits that suspends those
    /// triggers (`generate`) brings the days with the rows.
    pub last_met_on: Option<String>,
    pub last_door_on: Option<String>,
}

pub struct ResidentRow {
    pub id: String,
    pub household_id: Option<String>,
    pub path: String,
    pub name: String,
    pub gender: Gender,
    /// `YYYY-MM-DD`
    pub birth_date: String,
    /// In plain text here; the loader seals it and computes its blind indexes.
    pub id_card: Option<IdCardNumber>,
    /// In plain text here, like `id_card`.
    pub phone: Option<Phone>,
    pub residence_type: ResidenceType,
    pub relation: Relation,
    /// The ledger's own word for the relation when it is not the code's label (子, 儿媳).
    pub relation_term: Option<String>,
    pub political_status: PoliticalStatus,
    pub ethnicity: String,
    pub notes: String,
    pub status: ResidentStatus,
    /// Ids of tags from the catalogue.
    pub tag_ids: Vec<String>,
    /// When the person was registered here (`YYYY-MM-DD`): the first entry of
    /// their history.
    pub registered_on: String,
    /// The last day they were met (migration 0040), as [`HouseholdRow::last_met_on`].
    pub last_met_on: Option<String>,
}

/// A post of a grid's "1 + X + N" team ([`crate::team`]). The phone is in plain text
/// here; the loaders seal it ([`crate::team::SealedPost`]).
pub struct GridPostRow {
    /// Chosen by the caller (`new_id()`), so that later rows can name the post.
    pub id: String,
    pub grid_id: String,
    pub post: TeamPost,
    pub person_name: Option<String>,
    pub phone: Option<String>,
    pub duties: String,
    pub resident_id: Option<String>,
    pub building_ids: Vec<String>,
    /// `YYYY-MM-DD`.
    pub starts_on: Option<String>,
}

/// Seals the phones of `rows`, in order, for [`crate::bulk_sqlite::SqliteBulkTx::grid_posts`].
pub fn seal_posts(vault: &Vault, rows: &[GridPostRow]) -> Vec<SealedPost> {
    rows.iter().map(|r| SealedPost::new(vault, &r.id, r.phone.as_deref())).collect()
}

/// The columns a bulk load writes to `grid_posts`.
pub(crate) const GRID_POST_COLUMNS: &str =
    "id, grid_id, post, person_name, phone_enc, phone_hash, duties, resident_id, starts_on, created_at, updated_at";

/// The protected fields of one [`ResidentRow`], sealed and blind-indexed by
/// [`seal_residents`]: the only form in which a loader takes them, so no caller can
/// store an ID card number or phone in clear. Made apart from the insert so that a
/// loader can seal on one thread while another writes.
pub struct SealedResident(pub(crate) Protected);

/// Seals the ID card numbers and phones of `rows`, in order.
pub fn seal_residents(vault: &Vault, rows: &[ResidentRow]) -> Vec<SealedResident> {
    let mut nonces = Nonces::new();
    rows.iter()
        .map(|r| {
            SealedResident(Protected::sealed_from(vault, &mut nonces, &r.id, r.id_card.as_ref(), r.phone.as_ref()))
        })
        .collect()
}

/// Refuses sealed fields that do not belong one to one to the rows.
pub(crate) fn check_sealed(rows: &[ResidentRow], sealed: &[SealedResident]) -> StoreResult<()> {
    if rows.len() == sealed.len() {
        Ok(())
    } else {
        let detail = format!("{} residents but {} sealed records", rows.len(), sealed.len());
        Err(StoreError::Invalid(crate::error::operator(detail)))
    }
}

pub struct OrganisationRow {
    pub id: String,
    pub grid_id: String,
    pub path: String,
    pub name: String,
    pub kind: OrganisationKind,
    pub address: Option<String>,
    pub contact_name: Option<String>,
    pub phone: Option<String>,
}

/// Writes rows through one connection (normally a transaction), sealing protected
/// fields with the database's key (`Db::vault`).
pub struct BulkLoader<'c> {
    conn: &'c mut AnyConnection,
    vault: &'c Vault,
    now: i64,
}

impl<'c> BulkLoader<'c> {
    pub fn new(conn: &'c mut AnyConnection, vault: &'c Vault) -> Self {
        Self { conn, vault, now: now_millis() }
    }

    /// Inserts areas made by [`areas::plan`], parents first.
    pub async fn areas(&mut self, rows: &[Area]) -> StoreResult<()> {
        for area in rows {
            areas::insert_on(self.conn, area).await?;
        }
        Ok(())
    }

    /// Inserts the posts with their phones sealed, and the buildings each looks after.
    pub async fn grid_posts(&mut self, rows: &[GridPostRow]) -> StoreResult<()> {
        let now = self.now;
        let sealed = seal_posts(self.vault, rows);
        let rows: Vec<(&SealedPost, &GridPostRow)> = sealed.iter().zip(rows).collect();
        insert_chunked(self.conn, "grid_posts", GRID_POST_COLUMNS, &rows, |q, (p, r)| {
            q.bind(&r.id)
                .bind(&r.grid_id)
                .bind(r.post.code())
                .bind(&r.person_name)
                .bind(&p.phone_enc)
                .bind(&p.phone_hash)
                .bind(&r.duties)
                .bind(&r.resident_id)
                .bind(&r.starts_on)
                .bind(now)
                .bind(now)
        })
        .await?;
        let links: Vec<(&String, &String)> =
            rows.iter().flat_map(|(_, r)| r.building_ids.iter().map(move |b| (&r.id, b))).collect();
        insert_chunked(self.conn, "grid_post_buildings", "post_id, building_id", &links, |q, (p, b)| {
            q.bind(*p).bind(*b)
        })
        .await
    }

    pub async fn buildings(&mut self, rows: &[BuildingRow]) -> StoreResult<()> {
        const COLS: &str =
            "id, grid_id, community_id, path, number, address, kind, floors, units, lat, lng, created_at, updated_at";
        let now = self.now;
        insert_chunked(self.conn, "buildings", COLS, rows, |q, r| {
            q.bind(&r.id)
                .bind(&r.grid_id)
                .bind(&r.community_id)
                .bind(&r.path)
                .bind(&r.number)
                .bind(&r.address)
                .bind(r.kind.code())
                .bind(r.floors)
                .bind(r.units)
                .bind(Float(r.lat))
                .bind(Float(r.lng))
                .bind(now)
                .bind(now)
        })
        .await
    }

    pub async fn households(&mut self, rows: &[HouseholdRow]) -> StoreResult<()> {
        const COLS: &str =
            "id, building_id, path, unit, room, occupancy, last_met_on, last_door_on, created_at, updated_at";
        let now = self.now;
        insert_chunked(self.conn, "households", COLS, rows, |q, r| {
            q.bind(&r.id)
                .bind(&r.building_id)
                .bind(&r.path)
                .bind(&r.unit)
                .bind(&r.room)
                .bind(r.occupancy.code())
                .bind(&r.last_met_on)
                .bind(&r.last_door_on)
                .bind(now)
                .bind(now)
        })
        .await
    }

    /// Inserts residents and their tags. Registration is the first entry of a
    /// person's history and is kept on the row (`registered_on`). ID card numbers and
    /// phones are sealed and blind-indexed here, so no caller can store them in clear.
    pub async fn residents(&mut self, rows: &[ResidentRow]) -> StoreResult<()> {
        let sealed = seal_residents(self.vault, rows);
        self.sealed_residents(rows, &sealed).await
    }

    /// [`BulkLoader::residents`] with the protected fields sealed beforehand.
    pub async fn sealed_residents(&mut self, rows: &[ResidentRow], sealed: &[SealedResident]) -> StoreResult<()> {
        check_sealed(rows, sealed)?;
        const COLS: &str = "id, household_id, path, name, gender, birth_date, id_card_enc, id_card_hash, \
            id_last4_hash, phone_enc, phone_hash, phone_last4_hash, residence_type, relation, relation_term, \
            political_status, ethnicity, notes, status, registered_on, last_met_on, created_at, updated_at";
        let now = self.now;
        let protected: Vec<(&ResidentRow, &Protected)> = rows.iter().zip(sealed.iter().map(|s| &s.0)).collect();
        insert_chunked(self.conn, "residents", COLS, &protected, |q, (r, p)| {
            q.bind(&r.id)
                .bind(&r.household_id)
                .bind(&r.path)
                .bind(&r.name)
                .bind(r.gender.code())
                .bind(&r.birth_date)
                .bind(&p.id_card_enc)
                .bind(&p.id_card_hash)
                .bind(&p.id_last4_hash)
                .bind(&p.phone_enc)
                .bind(&p.phone_hash)
                .bind(&p.phone_last4_hash)
                .bind(r.residence_type.code())
                .bind(r.relation.code())
                .bind(&r.relation_term)
                .bind(r.political_status.code())
                .bind(&r.ethnicity)
                .bind(&r.notes)
                .bind(r.status.code())
                .bind(&r.registered_on)
                .bind(&r.last_met_on)
                .bind(now)
                .bind(now)
        })
        .await?;

        let tags: Vec<(&str, &str)> =
            rows.iter().flat_map(|r| r.tag_ids.iter().map(move |t| (r.id.as_str(), t.as_str()))).collect();
        insert_chunked(self.conn, "resident_tags", "resident_id, tag_id", &tags, |q, (r, t)| q.bind(*r).bind(*t)).await
    }

    pub async fn organisations(&mut self, rows: &[OrganisationRow]) -> StoreResult<()> {
        const COLS: &str = "id, grid_id, path, name, kind, address, contact_name, phone, created_at, updated_at";
        let now = self.now;
        insert_chunked(self.conn, "organisations", COLS, rows, |q, r| {
            q.bind(&r.id)
                .bind(&r.grid_id)
                .bind(&r.path)
                .bind(&r.name)
                .bind(r.kind.code())
                .bind(&r.address)
                .bind(&r.contact_name)
                .bind(&r.phone)
                .bind(now)
                .bind(now)
        })
        .await
    }
}

pub(crate) async fn insert_chunked<'q, T>(
    conn: &mut AnyConnection,
    table: &str,
    columns: &str,
    rows: &'q [T],
    bind: impl Fn(Query<'q, Any, AnyArguments>, &'q T) -> Query<'q, Any, AnyArguments>,
) -> StoreResult<()> {
    let per_statement = (MAX_PARAMS / width(columns)).clamp(1, ROWS_PER_STATEMENT);
    let numbered = conn.backend_name() != "SQLite";
    for chunk in rows.chunks(per_statement) {
        let sql = values_sql(table, columns, chunk.len(), numbered);
        // Only full chunks repeat; caching the one-off remainder would push useful
        // statements out of the cache.
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).persistent(chunk.len() == per_statement);
        for row in chunk {
            query = bind(query, row);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Most rows one statement of [`insert_batch`] carries.
const BATCH_MAX_ROWS: usize = 64;

/// Batches of up to this many rows go in one statement of exactly their size.
const BATCH_EXACT_ROWS: usize = 16;

/// Inserts a batch written often (`demands::intake`'s group commits) in few
/// statements whose texts stay prepared in each connection's cache, where
/// [`insert_chunked`]'s one-off remainders would each be a new statement: up to
/// [`BATCH_EXACT_ROWS`] rows in one statement of their number, more as chunks of a
/// power of two rows and then the rest (a batch of 37 is 32 + 5, at most
/// [`BATCH_MAX_ROWS`] a statement): 18 statement texts a table. One statement for
/// the usual batch matters beyond its round trip: a table's statement triggers
/// (PostgreSQL's demand summaries, migration 0073) then sum the batch once.
pub(crate) async fn insert_batch<'q, T>(
    conn: &mut AnyConnection,
    table: &str,
    columns: &str,
    rows: &'q [T],
    bind: impl Fn(Query<'q, Any, AnyArguments>, &'q T) -> Query<'q, Any, AnyArguments>,
) -> StoreResult<()> {
    // `?` on SQLite: numbered placeholders are looked up by scanning (store::bulk).
    let numbered = conn.backend_name() != "SQLite";
    let mut rest = rows;
    while !rest.is_empty() {
        let (chunk, tail) = rest.split_at(batch_chunk(rest.len()));
        let sql = values_sql(table, columns, chunk.len(), numbered);
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for row in chunk {
            query = bind(query, row);
        }
        query.execute(&mut *conn).await?;
        rest = tail;
    }
    Ok(())
}

/// The rows of the next statement of [`insert_batch`] when `left` rows are left.
fn batch_chunk(left: usize) -> usize {
    let n = left.min(BATCH_MAX_ROWS);
    if n <= BATCH_EXACT_ROWS { n } else { 1 << n.ilog2() }
}

/// How many values a row of `columns` (a comma-separated list) takes: every insert
/// takes its width from its column list, so the two cannot disagree.
pub(crate) const fn width(columns: &str) -> usize {
    let bytes = columns.as_bytes();
    let (mut i, mut commas) = (0, 0);
    while i < bytes.len() {
        if bytes[i] == b',' {
            commas += 1;
        }
        i += 1;
    }
    commas + 1
}

/// `INSERT INTO t (cols) VALUES ($1, $2), ($3, $4), …`, or with `?` when not `numbered`.
pub(crate) fn values_sql(table: &str, columns: &str, rows: usize, numbered: bool) -> String {
    let width = width(columns);
    let mut sql = String::with_capacity(40 + columns.len() + rows * width * 7);
    sql.push_str("INSERT INTO ");
    sql.push_str(table);
    sql.push_str(" (");
    sql.push_str(columns);
    sql.push_str(") VALUES ");
    let mut n = 0;
    for r in 0..rows {
        sql.push_str(if r == 0 { "(" } else { ", (" });
        for c in 0..width {
            n += 1;
            if c > 0 {
                sql.push_str(", ");
            }
            if numbered {
                sql.push('$');
                sql.push_str(&n.to_string());
            } else {
                sql.push('?');
            }
        }
        sql.push(')');
    }
    sql
}

/// The secondary indexes of `residents` and the tables that grow with it, as created
/// by the migrations. A large load into an empty table is much faster with these
/// dropped and built afterwards.
pub(crate) const RESIDENT_INDEXES: [(&str, &str); 8] = [
    ("residents_id_card", "CREATE UNIQUE INDEX residents_id_card ON residents(id_card_hash)"),
    ("residents_household", "CREATE INDEX residents_household ON residents(household_id)"),
    ("residents_path_name", "CREATE INDEX residents_path_name ON residents(path, name)"),
    ("residents_phone", "CREATE INDEX residents_phone ON residents(phone_hash)"),
    ("residents_phone_last4", "CREATE INDEX residents_phone_last4 ON residents(phone_last4_hash, path)"),
    ("residents_id_last4", "CREATE INDEX residents_id_last4 ON residents(id_last4_hash, path)"),
    ("resident_tags_tag", "CREATE INDEX resident_tags_tag ON resident_tags(tag_id)"),
    (
        "residents_born",
        "CREATE INDEX residents_born ON residents(birth_date, path, gender, status) WHERE status = 'active'",
    ),
];

pub async fn drop_resident_indexes(db: &Db) -> StoreResult<()> {
    drop_resident_indexes_on(&mut *db.pool.acquire().await?).await
}

/// [`drop_resident_indexes`] on one connection, e.g. inside the load's transaction,
/// so that no other writer ever sees the table without its unique index.
pub async fn drop_resident_indexes_on(conn: &mut AnyConnection) -> StoreResult<()> {
    for (name, _) in RESIDENT_INDEXES {
        conn.execute(sqlx::AssertSqlSafe(format!("DROP INDEX IF EXISTS {name}"))).await?;
    }
    Ok(())
}

/// Rebuilds what [`drop_resident_indexes`] dropped. Fails (and leaves the unique
/// index missing) if the load put the same ID card number in twice: that is a bug in
/// the loader, not a data error, because loaders check uniqueness first.
pub async fn create_resident_indexes(db: &Db) -> StoreResult<()> {
    create_resident_indexes_on(&mut *db.pool.acquire().await?).await
}

/// [`create_resident_indexes`] on one connection.
pub async fn create_resident_indexes_on(conn: &mut AnyConnection) -> StoreResult<()> {
    for (name, create) in RESIDENT_INDEXES {
        let sql = create.replacen("INDEX ", "INDEX IF NOT EXISTS ", 1);
        conn.execute(sqlx::AssertSqlSafe(sql)).await.map_err(|e| {
            tracing::error!("rebuilding index {name}: {e}");
            e
        })?;
    }
    // Fresh statistics, so the planner uses the new indexes for scoped searches.
    conn.execute("ANALYZE").await?;
    Ok(())
}

/// The triggers keeping the roll-ups (migrations 0062, 0067, 0068), suspended on one
/// connection for a large load into an empty registry (a first ledger import) and
/// put back by [`resume_rollups_on`], which counts the roll-ups from the rows once:
/// per row they wrote a row for each ancestor, a fifth of the import's time.
/// Within the load's transaction on both engines, so no other writer ever sees
/// the registry without them.
pub struct SuspendedRollups {
    /// SQLite: the triggers' own SQL, to create them again. PostgreSQL: empty (they
    /// are disabled, not dropped).
    sqlite: Vec<String>,
}

const PG_ROLLUP_TRIGGERS: [&str; 16] = [
    "ALTER TABLE residents {} TRIGGER area_rollup_births_insert",
    "ALTER TABLE residents {} TRIGGER area_rollup_births_update",
    "ALTER TABLE residents {} TRIGGER area_rollup_births_delete",
    "ALTER TABLE residents {} TRIGGER area_rollup_tags_resident",
    "ALTER TABLE residents {} TRIGGER area_rollup_tags_resident_delete",
    "ALTER TABLE resident_tags {} TRIGGER area_rollup_tags_insert",
    "ALTER TABLE resident_tags {} TRIGGER area_rollup_tags_delete",
    "ALTER TABLE households {} TRIGGER area_rollup_households_insert",
    "ALTER TABLE households {} TRIGGER area_rollup_households_update",
    "ALTER TABLE households {} TRIGGER area_rollup_households_delete",
    "ALTER TABLE resident_counts {} TRIGGER area_rollup_resident_counts",
    "ALTER TABLE resident_tag_counts {} TRIGGER area_rollup_resident_tag_counts",
    "ALTER TABLE place_counts {} TRIGGER area_rollup_place_counts",
    "ALTER TABLE grid_posts {} TRIGGER area_rollup_posts_insert",
    "ALTER TABLE grid_posts {} TRIGGER area_rollup_posts_update",
    "ALTER TABLE grid_posts {} TRIGGER area_rollup_posts_delete",
];

/// PostgreSQL's triggers dropping the past figures kept (migration 0065) that a
/// registry's rows fire: suspended with the roll-ups (each would raise the epoch,
/// one row, for every household, resident and tag loaded); the load then drops
/// every kept row once.
const PG_PAST_TRIGGERS: [&str; 7] = [
    "ALTER TABLE households {} TRIGGER past_figures_household_insert",
    "ALTER TABLE households {} TRIGGER past_figures_household_delete",
    "ALTER TABLE households {} TRIGGER past_figures_household_update",
    "ALTER TABLE residents {} TRIGGER past_figures_resident_update",
    "ALTER TABLE residents {} TRIGGER past_figures_resident_delete",
    "ALTER TABLE resident_tags {} TRIGGER past_figures_resident_tag_insert",
    "ALTER TABLE resident_tags {} TRIGGER past_figures_resident_tag_delete",
];

/// What a load that suspended the triggers of [`PG_PAST_TRIGGERS`] (or SQLite's
/// `past_figures_*`) runs before putting them back: no kept past figure survives it.
pub(crate) const PAST_FIGURES_DROP: &str =
    "DELETE FROM past_figures; UPDATE past_figures_epoch SET n = n + 1 WHERE id = 1";

/// Suspends the people's roll-up triggers on `conn` (see [`SuspendedRollups`]).
pub async fn suspend_rollups_on(conn: &mut AnyConnection, backend: crate::Backend) -> StoreResult<SuspendedRollups> {
    let mut sqlite = Vec::new();
    if backend == crate::Backend::Postgres {
        for sql in PG_ROLLUP_TRIGGERS.into_iter().chain(PG_PAST_TRIGGERS) {
            conn.execute(sqlx::AssertSqlSafe(sql.replace("{}", "DISABLE"))).await?;
        }
    } else {
        let triggers: Vec<(String, String)> = sqlx::query_as(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'
             AND (name LIKE 'area_rollup%' OR (name LIKE 'past_figures%' AND tbl_name IN ('households', 'residents', 'resident_tags')))
             ORDER BY name",
        )
        .fetch_all(&mut *conn)
        .await?;
        for (name, sql) in triggers {
            conn.execute(sqlx::AssertSqlSafe(format!("DROP TRIGGER \"{name}\""))).await?;
            sqlite.push(sql);
        }
    }
    Ok(SuspendedRollups { sqlite })
}

/// Counts the people's roll-ups from the rows and puts their triggers back, on the
/// connection that suspended them.
pub async fn resume_rollups_on(
    conn: &mut AnyConnection,
    backend: crate::Backend,
    suspended: SuspendedRollups,
) -> StoreResult<()> {
    for statement in crate::summaries::ROLLUPS_RECOUNT.split(';').chain(PAST_FIGURES_DROP.split(';')) {
        if statement.trim().is_empty() {
            continue;
        }
        conn.execute(sqlx::AssertSqlSafe(statement.to_owned())).await?;
    }
    if backend == crate::Backend::Postgres {
        for sql in PG_ROLLUP_TRIGGERS.into_iter().chain(PG_PAST_TRIGGERS) {
            conn.execute(sqlx::AssertSqlSafe(sql.replace("{}", "ENABLE"))).await?;
        }
    }
    for sql in suspended.sqlite {
        conn.execute(sqlx::AssertSqlSafe(sql)).await?;
    }
    Ok(())
}

/// PostgreSQL's triggers keeping what the visits decide: each household's and
/// resident's last day met (migrations 0035, 0040) and the coverage versions (0061).
const PG_VISIT_TRIGGERS: [&str; 3] = [
    "ALTER TABLE visits {} TRIGGER USER",
    "ALTER TABLE residents {} TRIGGER residents_last_met_added",
    "ALTER TABLE residents {} TRIGGER residents_last_met_moved",
];

/// [`PG_VISIT_TRIGGERS`] and the roll-ups' ([`PG_ROLLUP_TRIGGERS`]). A load into an
/// empty registry (`generate`) suspends them: fired by each of hundreds of
/// thousands of generated visits and people they made the load several times
/// slower (docs/benchmarks.md). SQLite's loader does the same on its own
/// connection (`bulk_sqlite`).
fn pg_upkeep_triggers() -> impl Iterator<Item = &'static str> {
    PG_VISIT_TRIGGERS.into_iter().chain(PG_ROLLUP_TRIGGERS).chain(PG_PAST_TRIGGERS)
}

/// Suspends [`pg_upkeep_triggers`] on PostgreSQL (nothing on SQLite). Only for a
/// load nobody else writes beside; [`resume_upkeep_triggers`] must follow, also
/// after a failure.
pub async fn suspend_upkeep_triggers(db: &Db) -> StoreResult<()> {
    if db.backend != crate::Backend::Postgres {
        return Ok(());
    }
    for sql in pg_upkeep_triggers() {
        sqlx::query(sqlx::AssertSqlSafe(sql.replace("{}", "DISABLE"))).execute(&db.pool).await?;
    }
    Ok(())
}

/// Drops kept coverage counts, counts the roll-ups again, and puts the triggers
/// back, in one transaction (PostgreSQL's `ALTER TABLE` is transactional). The
/// households' and residents' last met days come with the rows
/// ([`HouseholdRow::last_met_on`]): computing them here from the visits rewrote
/// every row of both tables, leaving PostgreSQL a dead copy of each
/// (docs/benchmarks.md).
pub async fn resume_upkeep_triggers(db: &Db) -> StoreResult<()> {
    if db.backend != crate::Backend::Postgres {
        return Ok(());
    }
    let mut tx = db.pool.begin().await?;
    sqlx::query("DELETE FROM coverage_month_ends").execute(&mut *tx).await?;
    for statement in crate::summaries::ROLLUPS_RECOUNT.split(';').chain(PAST_FIGURES_DROP.split(';')) {
        if statement.trim().is_empty() {
            continue;
        }
        sqlx::query(sqlx::AssertSqlSafe(statement.to_owned())).execute(&mut *tx).await?;
    }
    for sql in pg_upkeep_triggers() {
        sqlx::query(sqlx::AssertSqlSafe(sql.replace("{}", "ENABLE"))).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn values_sql_numbers_placeholders_in_order() {
        assert_eq!(super::values_sql("t", "a, b", 2, true), "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4)");
        assert_eq!(super::values_sql("t", "a, b", 2, false), "INSERT INTO t (a, b) VALUES (?, ?), (?, ?)");
    }

    #[test]
    fn a_batch_is_one_statement_up_to_sixteen_rows_then_powers_of_two_and_the_rest() {
        let chunks = |mut left: usize| {
            let mut out = Vec::new();
            while left > 0 {
                let n = super::batch_chunk(left);
                out.push(n);
                left -= n;
            }
            out
        };
        assert_eq!(chunks(1), [1]);
        assert_eq!(chunks(7), [7], "a usual group commit: one statement, its triggers fire once");
        assert_eq!(chunks(16), [16]);
        assert_eq!(chunks(17), [16, 1]);
        assert_eq!(chunks(37), [32, 5]);
        assert_eq!(chunks(200), [64, 64, 64, 8]);
        assert_eq!(chunks(512).len(), 8);
    }
}
