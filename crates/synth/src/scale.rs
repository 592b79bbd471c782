//! Many Tashan-shaped communities under one city, for benchmarks and load tests:
//! Yantai's districts (and made-up ones past them), about 12 streets a district and
//! 10 communities a street, as the 7 million people of a real city would need.
//!
//! Into an SQLite file the work is split over two threads: this one draws each
//! community and seals its residents' ID card numbers and phones, while a writer
//! thread inserts the previous one through the store's SQLite loading connection
//! ([`SqliteBulkWriter`]); into an empty registry (a fresh file) that connection
//! has the file to itself until the load ends. Elsewhere (PostgreSQL) communities
//! are written in turn through the pool's [`BulkLoader`](wangge_store::bulk::BulkLoader).

use std::sync::mpsc::{Receiver, SyncSender, channel, sync_channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use fastrand::Rng;
use sqlx::{Any, Transaction};
use wangge_domain::AreaLevel;
use wangge_store::bulk_sqlite::SqliteBulkWriter;
use wangge_store::registry::tags;
use wangge_store::{Db, StoreResult, Vault, bulk};

use crate::areas::{AreaCache, plan, plan_grids};
use crate::community::{Books, Place, Ready, Rows, Shape, build_rows, write_rows, write_rows_sqlite};
use crate::demo::CITY;
use crate::people::{IdBook, IdOwnership, PhoneBook, TagIds, max_communities};

#[derive(Clone, Debug)]
pub struct GenerateOptions {
    pub communities: usize,
    pub seed: u64,
}

/// What [`generate`] wrote.
#[derive(Clone, Debug, Default)]
pub struct GenerateSummary {
    pub communities: usize,
    pub grids: usize,
    pub buildings: usize,
    pub households: usize,
    pub residents: usize,
    /// Home visits: a year of them, about five per resident.
    pub visits: usize,
    /// All of it, from the first query to the last index built.
    pub elapsed: Duration,
    /// Of which rebuilding the residents' indexes at the end (zero when the registry
    /// was not empty and they were kept up to date instead).
    pub indexing: Duration,
}

const STREETS_PER_DISTRICT: usize = 12;
const COMMUNITIES_PER_STREET: usize = 10;
const COMMUNITIES_PER_DISTRICT: usize = STREETS_PER_DISTRICT * COMMUNITIES_PER_STREET;
/// Communities written per transaction: each commit waits for the disk (about 50 ms
/// here), so 16 communities (about 50,000 residents) share one.
const COMMUNITIES_PER_COMMIT: usize = 16;
/// Communities drawn ahead of the SQLite writer: enough to keep it busy when one
/// community takes longer to draw, few enough to bound memory (about 10 MB each).
const COMMUNITIES_QUEUED: usize = 4;

/// Generates `communities` Tashan-shaped communities under 烟台市, calling
/// `progress(done, total)` after every commit. Each community is drawn from its own
/// generator seeded by `seed` and its index, so it comes out the same however many
/// are generated. ID card and phone numbers stay unique across the database, also
/// alongside the demo; running twice on one database fails on the first community
/// code already taken.
///
/// When the residents table starts empty its indexes are dropped for the load and
/// rebuilt afterwards (also after a failure): building an index once over sorted
/// keys is far cheaper than keeping the unique ID card index up to date row by row.
/// When the whole registry starts empty, an SQLite file is loaded with the file to
/// itself ([`SqliteBulkWriter::take_file`]): the pool is not used until the end, and
/// a crash meanwhile can leave the file damaged, to be generated again.
pub async fn generate(
    db: &Db,
    options: &GenerateOptions,
    mut progress: impl FnMut(usize, usize),
) -> anyhow::Result<GenerateSummary> {
    let started = Instant::now();
    anyhow::ensure!(
        options.communities <= max_communities(),
        "at most {} communities can be generated with distinct ID numbers",
        max_communities()
    );
    let tag_ids = TagIds::from_catalogue(&tags::ensure_standard(db).await?)?;
    let fresh = sqlx::query("SELECT 1 FROM residents LIMIT 1").fetch_optional(&db.pool).await?.is_none();
    let empty = fresh && sqlx::query("SELECT 1 FROM areas LIMIT 1").fetch_optional(&db.pool).await?.is_none();
    if fresh {
        bulk::drop_resident_indexes(db).await?;
    }
    let mut summary = GenerateSummary::default();
    let (outcome, mut writer) = match SqliteBulkWriter::open(db).await {
        Ok(Some(mut writer)) => {
            // An empty registry (a fresh file) is loaded with the file to itself. The
            // pool may not touch the file until the load ends, and need not: there
            // are no areas to look up.
            let taken = if empty { writer.take_file(db).await } else { Ok(false) };
            let mut sink = SqliteSink::start(writer);
            let drawn = match taken {
                Ok(taken) => generate_all(db, options, &tag_ids, !taken, &mut sink, &mut summary, &mut progress).await,
                Err(e) => Err(e.into()),
            };
            let (writer, written) = sink.finish();
            // The writer's error first: when it stops, drawing fails only because
            // nobody takes the next community.
            (written.and(drawn), writer)
        }
        Ok(None) => {
            // PostgreSQL: an empty registry is loaded without the triggers that keep
            // what visits decide and the roll-ups; they are computed once at the end
            // (also after a failure, so the triggers always come back).
            if empty {
                bulk::suspend_upkeep_triggers(db).await?;
            }
            let mut sink = PoolSink { db, tx: None, in_tx: 0, committed: 0 };
            let drawn = generate_all(db, options, &tag_ids, true, &mut sink, &mut summary, &mut progress).await;
            let resumed = if empty { bulk::resume_upkeep_triggers(db).await } else { Ok(()) };
            (drawn.and(resumed.map_err(anyhow::Error::from)), None)
        }
        Err(e) => (Err(e.into()), None),
    };
    let mut rebuilt = Ok(());
    if fresh {
        let indexing = Instant::now();
        rebuilt = match writer.as_mut() {
            Some(writer) => writer.create_resident_indexes(),
            None => bulk::create_resident_indexes(db).await,
        };
        summary.indexing = indexing.elapsed();
    }
    let finished = writer.map_or(Ok(()), SqliteBulkWriter::finish);
    outcome.and(rebuilt.and(finished).map_err(anyhow::Error::from))?;
    summary.elapsed = started.elapsed();
    Ok(summary)
}

/// Draws every community and hands it to `sink`. With `learn`, areas that earlier
/// runs (or the demo) made are looked up in the database first and reused.
async fn generate_all(
    db: &Db,
    options: &GenerateOptions,
    tag_ids: &TagIds,
    learn: bool,
    sink: &mut impl Sink,
    summary: &mut GenerateSummary,
    progress: &mut impl FnMut(usize, usize),
) -> anyhow::Result<()> {
    let total = options.communities;
    let mut cache = AreaCache::default();
    let mut ids = IdBook::new(IdOwnership::demo(0));
    let mut reported = 0;
    let mut report = |sink: &mut _| {
        let committed = Sink::committed(sink);
        if committed > reported {
            reported = committed;
            progress(committed, total);
        }
    };
    let mut done = 0;
    while done < total {
        let batch = done..(done + COMMUNITIES_PER_COMMIT).min(total);
        // Areas made by earlier runs (or the demo) are looked up before the batch's
        // transaction opens, so a one-connection pool does not wait on itself.
        if learn {
            cache.learn(db, CITY.0).await?;
            for index in batch.clone() {
                let at = Location::of(index);
                cache.learn(db, &at.district_code()).await?;
                cache.learn(db, &at.street_code()).await?;
            }
        }
        let today = time::OffsetDateTime::now_utc().to_offset(wangge_domain::demands::CHINA).date();
        let run = Run { seed: options.seed, tag_ids, vault: &db.vault, today };
        for index in batch.clone() {
            let ready = draw_one(&mut cache, &run, index, &mut ids)?;
            summary.add(&ready.rows);
            summary.visits += ready.visits.len();
            sink.write(ready, index + 1 == batch.end).await?;
            report(&mut *sink);
        }
        done = batch.end;
    }
    sink.flush();
    report(sink);
    Ok(())
}

/// What every community shares.
struct Run<'a> {
    seed: u64,
    tag_ids: &'a TagIds,
    /// The database's key, which seals ID card numbers and phones.
    vault: &'a Vault,
    /// The last day of the year of visits.
    today: time::Date,
}

/// Draws community `index` and seals its residents' protected fields.
fn draw_one(cache: &mut AreaCache, run: &Run<'_>, index: usize, ids: &mut IdBook) -> anyhow::Result<Ready> {
    let Run { seed, tag_ids, vault, .. } = *run;
    let at = Location::of(index);
    let mut areas = Vec::new();
    let city = cache.ensure(AreaLevel::City, CITY.0, CITY.1, None, &mut areas)?;
    let district =
        cache.ensure(AreaLevel::District, &at.district_code(), &at.district_name(), Some(&city), &mut areas)?;
    let street = cache.ensure(AreaLevel::Street, &at.street_code(), &at.street_name(), Some(&district), &mut areas)?;
    let mut rng = Rng::with_seed(community_seed(seed, index));
    let shape = Shape::like_tashan(&mut rng);
    let stem = at.community_stem();
    let name = format!("{stem}社区");
    let mut community = plan(AreaLevel::Community, &at.community_code(), &name, Some(&street))?;
    let mut grids = plan_grids(&community, &stem, shape.grids)?;
    crate::community::set_boundaries(&mut community, &mut grids, at.centre());

    let address_prefix = format!("{}{}{name}", district.name, street.name);
    let place = Place {
        community: &community,
        grids: &grids,
        address_prefix: &address_prefix,
        stem: &stem,
        centre: at.centre(),
    };
    ids.reset(IdOwnership::generated(at.district_region(), at.index_in_district(), index)?);
    // Phone serial 0 is the demo's.
    let mut books = Books { ids, phones: PhoneBook::for_community(index as u64 + 1), tag_ids };
    let rows = build_rows(&mut rng, &shape, &place, &mut books)?;
    let mut rows = rows;
    let visits =
        crate::visits::year_at_scale(&mut rng, &grids, &rows.households, &rows.residents, &rows.posts, run.today);
    crate::visits::set_last_met(&mut rows.households, &mut rows.residents, &visits);
    areas.push(community);
    areas.extend(grids);
    Ok(Ready::new(vault, areas, rows).with_visits(vault, visits))
}

impl GenerateSummary {
    fn add(&mut self, rows: &Rows) {
        self.communities += 1;
        self.grids += rows.grids;
        self.buildings += rows.buildings.len();
        self.households += rows.households.len();
        self.residents += rows.residents.len();
    }
}

// -- where drawn communities are written ------------------------------------------------------

/// Takes the communities as they are drawn and writes them, committing after those
/// marked so.
trait Sink {
    async fn write(&mut self, community: Ready, commit: bool) -> anyhow::Result<()>;
    /// Waits until everything handed over is written (or the writing failed, which
    /// the caller learns from the sink afterwards).
    fn flush(&mut self);
    /// How many communities are committed so far.
    fn committed(&mut self) -> usize;
}

/// Writes through the pool, one transaction per batch.
struct PoolSink<'a> {
    db: &'a Db,
    tx: Option<Transaction<'static, Any>>,
    in_tx: usize,
    committed: usize,
}

impl Sink for PoolSink<'_> {
    async fn write(&mut self, community: Ready, commit: bool) -> anyhow::Result<()> {
        let tx = match &mut self.tx {
            Some(tx) => tx,
            None => self.tx.insert(self.db.pool.begin().await?),
        };
        write_rows(tx, &self.db.vault, &community).await?;
        self.in_tx += 1;
        if commit && let Some(tx) = self.tx.take() {
            tx.commit().await?;
            self.committed += std::mem::take(&mut self.in_tx);
        }
        Ok(())
    }

    fn flush(&mut self) {}

    fn committed(&mut self) -> usize {
        self.committed
    }
}

/// Hands communities to a writer thread that inserts them through an SQLite file's
/// loading connection, so that drawing and sealing (this thread) and inserting (the
/// writer) use both cores.
///
/// `write` blocks this thread while the queue is full. That is meant: `generate` is a
/// batch job, and the writer thread needs no async runtime to make room.
struct SqliteSink {
    jobs: Option<SyncSender<(Ready, bool)>>,
    reports: Receiver<Report>,
    writer: Option<JoinHandle<(SqliteBulkWriter, StoreResult<()>)>>,
    committed: usize,
}

impl SqliteSink {
    fn start(mut writer: SqliteBulkWriter) -> Self {
        let (jobs, inbox) = sync_channel(COMMUNITIES_QUEUED);
        let (report, reports) = channel();
        let thread = std::thread::Builder::new()
            .name("generate-writer".into())
            .spawn(move || {
                let written = write_all(&mut writer, inbox, report);
                (writer, written)
            })
            .expect("starting the writer thread");
        Self { jobs: Some(jobs), reports, writer: Some(thread), committed: 0 }
    }

    /// Closes the queue and waits for the writer: it writes what is queued, rolls
    /// back a batch left uncommitted, and gives back its connection (`None` if it
    /// panicked) and how the writing went.
    fn finish(mut self) -> (Option<SqliteBulkWriter>, anyhow::Result<()>) {
        self.jobs = None;
        match self.writer.take().map(JoinHandle::join) {
            Some(Ok((writer, written))) => (Some(writer), written.map_err(anyhow::Error::from)),
            Some(Err(_)) => (None, Err(anyhow::anyhow!("the writer thread of generate panicked"))),
            None => (None, Ok(())),
        }
    }
}

impl SqliteSink {
    fn take(&mut self, report: Report) {
        match report {
            // Freed here: this thread has time to spare while the writer works, and
            // freeing a community's hundred thousand strings took a tenth of the
            // writer's time.
            Report::Written(community) => drop(community),
            Report::Committed(n) => self.committed = n,
        }
    }
}

/// What the writer thread sends back.
enum Report {
    /// A community inserted, for the drawing thread to free.
    Written(Box<Ready>),
    /// How many communities are committed so far, after each commit.
    Committed(usize),
}

impl Sink for SqliteSink {
    async fn write(&mut self, community: Ready, commit: bool) -> anyhow::Result<()> {
        let jobs = self.jobs.as_ref().expect("the queue is open until flushed");
        // Fails only when the writer has stopped on an error, which `finish` reports.
        jobs.send((community, commit)).map_err(|_| anyhow::anyhow!("the writer of generate stopped"))
    }

    fn flush(&mut self) {
        // Closing the queue ends the writer's loop; its reports end when it does.
        self.jobs = None;
        while let Ok(report) = self.reports.recv() {
            self.take(report);
        }
    }

    fn committed(&mut self) -> usize {
        while let Ok(report) = self.reports.try_recv() {
            self.take(report);
        }
        self.committed
    }
}

/// The writer thread: inserts the communities it is given, each batch in one
/// transaction, and reports back (to nobody, harmlessly, once drawing has failed).
fn write_all(
    writer: &mut SqliteBulkWriter,
    inbox: Receiver<(Ready, bool)>,
    report: std::sync::mpsc::Sender<Report>,
) -> StoreResult<()> {
    let mut written = 0;
    // Each turn of the outer loop is one transaction; the queue closing before a
    // community marked for commit (drawing failed) drops it, which rolls it back.
    while let Ok(mut job) = inbox.recv() {
        let tx = writer.begin()?;
        loop {
            let (community, commit) = job;
            write_rows_sqlite(&tx, &community)?;
            let _ = report.send(Report::Written(Box::new(community)));
            written += 1;
            if commit {
                break;
            }
            match inbox.recv() {
                Ok(next) => job = next,
                Err(_) => return Ok(()),
            }
        }
        tx.commit()?;
        let _ = report.send(Report::Committed(written));
    }
    Ok(())
}

/// A seed per community from the run's seed and the community's index (SplitMix64's
/// finaliser), so neighbouring indexes give unrelated sequences.
fn community_seed(seed: u64, index: usize) -> u64 {
    let mut z = seed ^ (index as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

// -- where community `index` lies -----------------------------------------------------------

/// Yantai's county-level divisions with their division codes.
const DISTRICTS: [(u32, &str); 13] = [
    (370602, "芝罘区"),
    (370611, "福山区"),
    (370612, "牟平区"),
    (370613, "莱山区"),
    (370614, "蓬莱区"),
    (370671, "烟台经济技术开发区"),
    (370672, "烟台高新技术产业开发区"),
    (370681, "龙口市"),
    (370682, "莱阳市"),
    (370683, "莱州市"),
    (370685, "招远市"),
    (370686, "栖霞市"),
    (370687, "海阳市"),
];
/// Past Yantai's real districts: made-up ones, coded 370621 upwards (unused codes).
const EXTRA_DISTRICT_STEMS: [&str; 12] =
    ["东城", "西城", "南山", "北海", "滨海", "新城", "港城", "金山", "银湖", "松岭", "昆嵛", "养马岛"];
const FIRST_EXTRA_DISTRICT: u32 = 370621;

/// Street names; the demo's 岐山 is fourth, as its code 370602004 says.
const STREET_STEMS: [&str; 48] = [
    "向阳",
    "东山",
    "毓璜顶",
    "岐山",
    "通伸",
    "凤凰台",
    "奇山",
    "白石",
    "芝罘岛",
    "幸福",
    "世回尧",
    "黄务",
    "清洋",
    "门楼",
    "高疃",
    "福新",
    "东厅",
    "回里",
    "大季家",
    "古现",
    "八角",
    "潮水",
    "刘家沟",
    "解宋",
    "北沟",
    "北马",
    "南山",
    "徐福",
    "兰高",
    "新嘉",
    "东江",
    "诸由观",
    "城厢",
    "文昌",
    "沙河",
    "朱桥",
    "金城",
    "罗峰",
    "温泉",
    "龙港",
    "梦芝",
    "泉山",
    "翠屏",
    "庄园",
    "松山",
    "蛇窝泊",
    "凤城",
    "方圆",
];
const COMMUNITY_FIRST: [&str; 23] = [
    "东", "西", "南", "北", "新", "福", "安", "康", "和", "华", "金", "青", "松", "柳", "桃", "杏", "槐", "枣", "兴",
    "裕", "平", "文", "胜",
];
const COMMUNITY_SECOND: [&str; 17] =
    ["山", "海", "港", "湾", "河", "泉", "园", "林", "苑", "庄", "村", "城", "岭", "坊", "里", "台", "峰"];

struct Location {
    index: usize,
    district: usize,
    street: usize,
    community: usize,
}

impl Location {
    fn of(index: usize) -> Self {
        Self {
            index,
            district: index / COMMUNITIES_PER_DISTRICT,
            street: index % COMMUNITIES_PER_DISTRICT / COMMUNITIES_PER_STREET,
            community: index % COMMUNITIES_PER_STREET,
        }
    }

    fn district_region(&self) -> u32 {
        match DISTRICTS.get(self.district) {
            Some((code, _)) => *code,
            None => FIRST_EXTRA_DISTRICT + (self.district - DISTRICTS.len()) as u32,
        }
    }

    fn district_name(&self) -> String {
        match DISTRICTS.get(self.district) {
            Some((_, name)) => (*name).to_owned(),
            None => {
                let extra = self.district - DISTRICTS.len();
                let stem = EXTRA_DISTRICT_STEMS[extra % EXTRA_DISTRICT_STEMS.len()];
                let round = extra / EXTRA_DISTRICT_STEMS.len();
                if round == 0 {
                    format!("{stem}区")
                } else {
                    format!("{stem}{}区", crate::areas::chinese_numeral(round + 1))
                }
            }
        }
    }

    fn index_in_district(&self) -> usize {
        self.index % COMMUNITIES_PER_DISTRICT
    }

    fn district_code(&self) -> String {
        format!("{}000000", self.district_region())
    }

    fn street_code(&self) -> String {
        format!("{}{:03}000", self.district_region(), self.street + 1)
    }

    fn street_name(&self) -> String {
        let stem = STREET_STEMS[(self.district * STREETS_PER_DISTRICT + self.street) % STREET_STEMS.len()];
        format!("{stem}街道")
    }

    /// Community numbers 001–010 of each street: the demo's 011 is never taken.
    fn community_code(&self) -> String {
        format!("{}{:03}{:03}", self.district_region(), self.street + 1, self.community + 1)
    }

    fn community_stem(&self) -> String {
        let i = self.index;
        let first = COMMUNITY_FIRST[i % COMMUNITY_FIRST.len()];
        let second = COMMUNITY_SECOND[i / COMMUNITY_FIRST.len() % COMMUNITY_SECOND.len()];
        format!("{first}{second}")
    }

    /// Districts spread over the Yantai coast, streets and communities a kilometre or so apart.
    fn centre(&self) -> (f64, f64) {
        let lat = 37.40
            + (self.district % 4) as f64 * 0.06
            + (self.street % 4) as f64 * 0.012
            + (self.community % 3) as f64 * 0.004;
        let lng = 121.00
            + (self.district / 4) as f64 * 0.10
            + (self.street / 4) as f64 * 0.015
            + (self.community / 3) as f64 * 0.005;
        (lat, lng)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wangge_domain::AreaCode;

    #[test]
    fn locations_nest_and_stay_clear_of_the_demo() {
        let mut codes = std::collections::HashSet::new();
        for index in [0, 1, 9, 10, 119, 120, 1_559, 1_560, 3_000] {
            let at = Location::of(index);
            let district = AreaCode::parse(&at.district_code(), AreaLevel::District).unwrap();
            let street = AreaCode::parse(&at.street_code(), AreaLevel::Street).unwrap();
            let community = AreaCode::parse(&at.community_code(), AreaLevel::Community).unwrap();
            street.check_under(AreaLevel::Street, &district).unwrap();
            community.check_under(AreaLevel::Community, &street).unwrap();
            assert_ne!(community.as_str(), crate::DEMO_COMMUNITY_CODE);
            assert!(codes.insert(community.as_str().to_owned()));
        }
        assert_eq!(Location::of(3).street_code(), "370602001000");
        assert_eq!(Location::of(30).street_name(), "岐山街道");
        assert_eq!(Location::of(30).street_code(), "370602004000");
    }
}
