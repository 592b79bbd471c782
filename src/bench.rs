//! `wangge bench`: figures for the docs, measured on the machine at hand.
//!
//! Benchmarks are commands rather than timed tests: timings depend on the machine,
//! so they are printed for people to read and record, never asserted.

use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Subcommand;
use wangge_domain::{AreaLevel, IdCardNumber};
use wangge_ledger::import::{ImportOptions, import_residents};
use wangge_ledger::table::read_table;
use wangge_ledger::xlsx_out::write_ledger_xlsx;
use wangge_store::registry::areas::{self, AreaFilter, NewArea};
use wangge_store::registry::residents::{self, ResidentFilter};
use wangge_store::{Db, PageRequest};

use crate::DatabaseArg;
use crate::commands::open;

#[derive(Subcommand)]
pub enum BenchWhat {
    /// Resident search within one community (name, phone suffix, ID suffix), as the
    /// registry page runs it: first page of 20 and the total count. Run it on a
    /// database filled by `wangge generate`.
    Search {
        #[command(flatten)]
        database: DatabaseArg,
        /// Searches of each kind.
        #[arg(long, default_value_t = 300)]
        queries: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Import of a synthetic ledger of `--rows` residents from CSV and from .xlsx, end
    /// to end (reading the file, checking every row, writing), each into a fresh
    /// SQLite database in a temporary directory.
    Import {
        #[arg(long, default_value_t = 100_000)]
        rows: usize,
    },
    /// Update import against a fresh import of the same ledger: `--rows` residents
    /// imported into a fresh SQLite database (timed: the fresh import), then the
    /// ledger again with `--changed` percent of its people given a new phone,
    /// imported with `update` into a second database already holding the first
    /// version (timed: the update). From .xlsx and from CSV.
    Update {
        #[arg(long, default_value_t = 30_000)]
        rows: usize,
        #[arg(long, default_value_t = 10)]
        changed: usize,
    },
    /// Demands: intake through the JSON API over real HTTP (sustained items/s with
    /// `--clients` concurrent clients, then latency at a fixed `--rate`), and the
    /// ledger of one community with `--items` more items (list and filter), each on
    /// a fresh SQLite database holding the Tashan demo in a temporary directory, or
    /// with `--postgres` on a fresh PostgreSQL database.
    Demands {
        #[arg(long, default_value_t = 8)]
        clients: usize,
        /// Length of each intake run.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Requests per second of the fixed-rate run.
        #[arg(long, default_value_t = 500)]
        rate: u64,
        #[arg(long, default_value_t = 100_000)]
        items: usize,
        #[arg(long)]
        intake_only: bool,
        #[arg(long)]
        ledger_only: bool,
        /// Intake without the cockpit's summaries of demands: the triggers keeping
        /// `demand_counts`, `demand_days` and `demand_rate_days` (on PostgreSQL the
        /// one queueing new items for them and for `demand_open_days`) are dropped
        /// first, to measure what their upkeep costs.
        #[arg(long)]
        without_summaries: bool,
        /// A PostgreSQL server to measure instead of SQLite: the URL of a database
        /// there (`postgres://USER@HOST:PORT/postgres`) whose user may create
        /// databases; each half runs on a fresh one, dropped afterwards.
        #[arg(long)]
        postgres: Option<String>,
        /// Keep the PostgreSQL databases the bench made (their names are printed),
        /// to look into them or to time statements against them with `pgbench`.
        #[arg(long, requires = "postgres")]
        keep: bool,
    },
    /// Home visits: a grid member's due list for every grid in turn, and the 90-day
    /// coverage of every community and street, on `--database-url` (a database with
    /// visits), or else on a fresh SQLite database holding the Tashan demo (a year of
    /// visits) in a temporary directory.
    Visits {
        /// The database URL (default: a fresh demo).
        #[arg(long)]
        database_url: Option<String>,
        #[arg(long, default_value_t = 200)]
        queries: usize,
    },
    /// The cockpit (issue 18): a street's and the city's figures, their children
    /// side by side (the page's work, through the store), a past week's report, and
    /// the demand ledger's unfiltered page (its total from the summary tables). On
    /// `--database-url` (filled by `wangge generate`), else on a fresh SQLite
    /// database with `--communities` generated; `--items` demands of the past year
    /// are added first.
    Cockpit {
        /// The database URL (default: a fresh generated one).
        #[arg(long)]
        database_url: Option<String>,
        #[arg(long, default_value_t = 10)]
        communities: usize,
        #[arg(long, default_value_t = 20_000)]
        items: usize,
        #[arg(long, default_value_t = 30)]
        queries: usize,
    },
    /// Campaigns (issue 20): `store::campaigns::start` of the gas check over the
    /// first street (else district) holding `--households` occupied households,
    /// `--runs` fresh campaigns each timed; then, over real HTTP, the last one's
    /// progress (the JSON figures and the page, in turn, as its official sees them)
    /// alone and while `--members` grid members submit answers in their grids. On
    /// `--database-url` (filled by `wangge generate`), else on a fresh SQLite database
    /// with `--communities` generated (90: about 100,000 households).
    Campaigns {
        /// The database URL (default: a fresh generated one).
        #[arg(long)]
        database_url: Option<String>,
        #[arg(long, default_value_t = 90)]
        communities: usize,
        #[arg(long, default_value_t = 100_000)]
        households: u64,
        #[arg(long, default_value_t = 5)]
        runs: usize,
        #[arg(long, default_value_t = 20)]
        members: usize,
        /// Length of the run with members submitting.
        #[arg(long, default_value_t = 20)]
        seconds: u64,
        /// A member's pause between two answers (0: the next as soon as answered).
        #[arg(long, default_value_t = 0)]
        pause_ms: u64,
    },
}

/// A grid member's due list (every grid of every community) and the coverage of
/// every community and street, timed `queries` times each on `db`.
async fn visits(database: Option<&DatabaseArg>, queries: usize) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let db = match database {
        Some(d) => open(d).await?,
        None => {
            let url = format!("sqlite:{}", dir.path().join("visits.db").display());
            let db = open(&DatabaseArg { database_url: url, key_file: None }).await?;
            let summary = wangge_synth::load_demo(&db).await?;
            println!("  (the demo: {} residents, {} visits)", summary.residents, summary.visits);
            db
        }
    };
    let level = |level| AreaFilter { level: Some(level), ..Default::default() };
    let page = PageRequest::new(Some(1), Some(500));
    let grids = areas::list(&db, &level(AreaLevel::Grid), page).await?.items;
    let communities = areas::list(&db, &level(AreaLevel::Community), page).await?.items;
    let streets = areas::list(&db, &level(AreaLevel::Street), page).await?.items;
    let districts = areas::list(&db, &level(AreaLevel::District), page).await?.items;
    anyhow::ensure!(!grids.is_empty(), "no grids: fill the database first");
    let visits = wangge_store::visits::count(&db).await?;
    println!(
        "visits benchmark: {visits} visits, {} grids, {} communities, {} streets, {queries} runs each",
        grids.len(),
        communities.len(),
        streets.len()
    );
    let today = time::OffsetDateTime::now_utc().to_offset(wangge_domain::demands::CHINA).date();
    // A community's first read of its cadences writes the defaults: done before the
    // clock starts, as it is once in a community's life.
    let mut of_grid = Vec::with_capacity(queries);
    for i in 0..queries {
        let grid = &grids[i % grids.len()];
        let community = grid.path.split('/').filter(|s| !s.is_empty()).nth(3).context("a grid in a community")?;
        let community = areas::community_by_code(&db, community).await?;
        wangge_store::visits::cadences(&db, &community.id).await?;
        of_grid.push(community);
    }
    let mut due = Vec::new();
    let mut longest = 0;
    for (i, community) in of_grid.iter().enumerate() {
        let grid = &grids[i % grids.len()];
        let started = Instant::now();
        let list = wangge_store::visits::due(&db, &grid.path, &community.id, today).await?;
        due.push(started.elapsed());
        longest = longest.max(list.len());
    }
    println!("  a grid's due list (longest {longest} entries):");
    report("due list", &mut due);
    // Generated streets hold about 33,000 people; a district (about 390,000 in the
    // first ones; 100,000 when 30 communities are generated, the target's street)
    // bounds the target's street of 100,000 from above. Each level at least 30
    // times (or `queries`, if fewer), so that one district has a p95 of its own.
    for (name, places) in [("community", &communities), ("street", &streets), ("district", &districts)] {
        let mut times = Vec::new();
        for i in 0..queries.min(places.len() * 10).max(queries.min(30)).max(1) {
            let place = &places[i % places.len()];
            let started = Instant::now();
            wangge_store::visits::coverage(&db, &place.path, today, 90).await?;
            times.push(started.elapsed());
        }
        report(&format!("coverage {name}"), &mut times);
    }
    Ok(())
}

pub async fn run(what: BenchWhat) -> anyhow::Result<()> {
    match what {
        BenchWhat::Search { database, queries, seed } => search(&database, queries, seed).await,
        BenchWhat::Import { rows } => import(rows).await,
        BenchWhat::Update { rows, changed } => update(rows, changed).await,
        BenchWhat::Demands {
            clients,
            seconds,
            rate,
            items,
            intake_only,
            ledger_only,
            without_summaries,
            postgres,
            keep,
        } => {
            let only = (intake_only, ledger_only);
            crate::bench_demands::run(clients, seconds, rate, items, only, without_summaries, (postgres, keep)).await
        }
        BenchWhat::Visits { database_url, queries } => {
            let database = database_url.map(|database_url| DatabaseArg { database_url, key_file: None });
            visits(database.as_ref(), queries).await
        }
        BenchWhat::Cockpit { database_url, communities, items, queries } => {
            let database = database_url.map(|database_url| DatabaseArg { database_url, key_file: None });
            crate::bench_cockpit::run(database, communities, items, queries).await
        }
        BenchWhat::Campaigns { database_url, communities, households, runs, members, seconds, pause_ms } => {
            let database = database_url.map(|database_url| DatabaseArg { database_url, key_file: None });
            let options =
                crate::bench_campaigns::Options { database, communities, households, runs, members, seconds, pause_ms };
            crate::bench_campaigns::run(options).await
        }
    }
}

async fn search(database: &DatabaseArg, queries: usize, seed: u64) -> anyhow::Result<()> {
    let db = open(database).await?;
    let filter = AreaFilter { level: Some(AreaLevel::Community), ..Default::default() };
    let communities = areas::list(&db, &filter, PageRequest::new(Some(1), Some(500))).await?.items;
    anyhow::ensure!(!communities.is_empty(), "no communities: fill the database with `wangge generate` first");
    let total = residents::list(&db, &ResidentFilter::default(), PageRequest::new(Some(1), Some(1))).await?.total;
    println!(
        "search benchmark: {total} residents, {} communities sampled, {queries} queries per kind",
        communities.len()
    );
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut samples: [Vec<Duration>; 3] = Default::default();
    for _ in 0..queries {
        let community = &communities[rng.usize(..communities.len())];
        let scope = ResidentFilter { under_path: Some(community.path.clone()), ..Default::default() };
        let page = rng.u32(1..=20);
        let someone = residents::list(&db, &scope, PageRequest::new(Some(page), Some(1))).await?.items;
        let Some(person) = someone.into_iter().next() else { continue };
        let name_part: String = person.name.chars().skip(1).collect();
        let phone = person.phone.clone().unwrap_or_else(|| "0000".into());
        let id = person.id_card.clone().unwrap_or_default();
        let terms = [name_part, phone[phone.len() - 4..].to_owned(), id[id.len().saturating_sub(4)..].to_owned()];
        for (kind, term) in terms.into_iter().enumerate() {
            let filter = ResidentFilter { q: Some(term), ..scope.clone() };
            let started = Instant::now();
            residents::list(&db, &filter, PageRequest::new(Some(1), Some(20))).await?;
            samples[kind].push(started.elapsed());
        }
    }
    for (kind, times) in ["name", "phone suffix", "ID suffix"].iter().zip(samples.iter_mut()) {
        report(kind, times);
    }
    Ok(())
}

pub(crate) fn report(kind: &str, times: &mut [Duration]) {
    if times.is_empty() {
        return;
    }
    times.sort();
    let at = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)].as_secs_f64() * 1000.0;
    println!(
        "  {kind:<13} p50 {:6.2} ms   p95 {:6.2} ms   p99 {:6.2} ms   max {:6.2} ms",
        at(0.50),
        at(0.95),
        at(0.99),
        at(1.0)
    );
}

const HEADERS: [&str; 8] = ["姓名", "身份证号", "联系电话", "楼栋", "单元", "房号", "人员类型", "网格"];
const GRID_CODE: &str = "370602004011001";

/// Rows of a ledger: 40 people to a building, 4 to a household.
fn ledger_rows(rows: usize) -> impl Iterator<Item = Vec<String>> {
    let birth = time::Date::from_calendar_date(1960, time::Month::January, 1).unwrap();
    (0..rows).map(move |i| {
        let day = birth + time::Duration::days((i / 1000) as i64);
        let id = IdCardNumber::compose(370602, day, (i % 1000) as u16);
        vec![
            format!("居民{i}"),
            id.as_str().to_owned(),
            format!("138{:08}", i),
            format!("{}", i / 40 + 1),
            format!("{}", (i / 20) % 2 + 1),
            format!("{}", 100 + (i / 4) % 5),
            "户籍".into(),
            GRID_CODE.into(),
        ]
    })
}

async fn fresh_community(dir: &std::path::Path, name: &str) -> anyhow::Result<Db> {
    let url = format!("sqlite:{}", dir.join(format!("{name}.db")).display());
    let db = open(&DatabaseArg { database_url: url, key_file: None }).await?;
    let mut parent = None;
    for (level, code) in [
        (AreaLevel::City, "370600000000"),
        (AreaLevel::District, "370602000000"),
        (AreaLevel::Street, "370602004000"),
        (AreaLevel::Community, "370602004011"),
        (AreaLevel::Grid, GRID_CODE),
    ] {
        let new = NewArea { parent_id: parent, level, code: code.into(), name: code.into(), boundary: None };
        parent = Some(areas::create(&db, new).await?.id);
    }
    Ok(db)
}

async fn import(rows: usize) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let csv_path = dir.path().join("ledger.csv");
    let mut csv = String::with_capacity(rows * 80);
    csv.push_str(&HEADERS.join(","));
    csv.push('\n');
    for row in ledger_rows(rows) {
        csv.push_str(&row.join(","));
        csv.push('\n');
    }
    std::fs::write(&csv_path, csv)?;
    let xlsx_path = dir.path().join("ledger.xlsx");
    write_ledger_xlsx(&xlsx_path, "居民", None, &HEADERS, ledger_rows(rows))?;
    println!("import benchmark: {rows} residents (CSV and .xlsx), into fresh SQLite databases");
    for (kind, path) in [("CSV", &csv_path), ("xlsx", &xlsx_path)] {
        let db = fresh_community(dir.path(), kind).await?;
        let started = Instant::now();
        let table = read_table(path).with_context(|| format!("reading {}", path.display()))?;
        let read = started.elapsed();
        let options = ImportOptions { community_code: "370602004011".into(), ..Default::default() };
        let report = import_residents(&db, &table, &options, |_| {}).await?;
        let elapsed = started.elapsed();
        anyhow::ensure!(report.committed, "the benchmark ledger did not import: {:?}", report.errors.first());
        println!(
            "  {kind:<5} {:8.0} residents/s   ({:.2} s in all, of which reading the file {:.2} s)",
            rows as f64 / elapsed.as_secs_f64(),
            elapsed.as_secs_f64(),
            read.as_secs_f64()
        );
        db.close().await;
    }
    Ok(())
}

/// The ledger of [`ledger_rows`] with every `(100 / percent)`-th person's phone changed.
fn changed_rows(rows: usize, percent: usize) -> impl Iterator<Item = Vec<String>> {
    let every = (100 / percent.clamp(1, 100)).max(1);
    ledger_rows(rows).enumerate().map(move |(i, mut row)| {
        if i % every == 0 {
            row[2] = format!("139{:08}", i);
        }
        row
    })
}

fn write_csv(path: &std::path::Path, rows: impl Iterator<Item = Vec<String>>) -> anyhow::Result<()> {
    let mut csv = HEADERS.join(",");
    csv.push('\n');
    for row in rows {
        csv.push_str(&row.join(","));
        csv.push('\n');
    }
    Ok(std::fs::write(path, csv)?)
}

async fn update(rows: usize, percent: usize) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let first_csv = dir.path().join("first.csv");
    let next_csv = dir.path().join("next.csv");
    write_csv(&first_csv, ledger_rows(rows))?;
    write_csv(&next_csv, changed_rows(rows, percent))?;
    let first_xlsx = dir.path().join("first.xlsx");
    let next_xlsx = dir.path().join("next.xlsx");
    write_ledger_xlsx(&first_xlsx, "居民", None, &HEADERS, ledger_rows(rows))?;
    write_ledger_xlsx(&next_xlsx, "居民", None, &HEADERS, changed_rows(rows, percent))?;
    println!("update benchmark: {rows} residents, {percent}% changed, against a fresh import of the same file");
    let timed = |db: Db, path: std::path::PathBuf, update: bool| async move {
        let started = Instant::now();
        let table = read_table(&path)?;
        let options = ImportOptions { community_code: "370602004011".into(), update, ..Default::default() };
        let report = import_residents(&db, &table, &options, |_| {}).await?;
        let elapsed = started.elapsed();
        anyhow::ensure!(report.committed, "the benchmark ledger did not import: {:?}", report.errors.first());
        db.close().await;
        Ok::<_, anyhow::Error>((elapsed, report))
    };
    for (kind, first, next) in [("xlsx", &first_xlsx, &next_xlsx), ("CSV", &first_csv, &next_csv)] {
        let fresh_db = fresh_community(dir.path(), &format!("{kind}-fresh")).await?;
        let (fresh, _) = timed(fresh_db, next.clone(), false).await?;
        let db = fresh_community(dir.path(), &format!("{kind}-update")).await?;
        let table = read_table(first)?;
        let options = ImportOptions { community_code: "370602004011".into(), ..Default::default() };
        import_residents(&db, &table, &options, |_| {}).await?;
        let (updated, report) = timed(db, next.clone(), true).await?;
        println!(
            "  {kind:<5} fresh {:.2} s   update {:.2} s ({} changed, {} unchanged)   update/fresh {:.2}",
            fresh.as_secs_f64(),
            updated.as_secs_f64(),
            report.changed.len(),
            report.unchanged,
            updated.as_secs_f64() / fresh.as_secs_f64()
        );
    }
    Ok(())
}
