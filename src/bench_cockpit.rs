//! `wangge bench cockpit`: the cockpit of a street and of the city — each area's
//! figures and its children's side by side, as the page computes them through the
//! store — a past week's report, and the demand ledger's unfiltered page whose total
//! comes from the summary tables; on a database filled by `wangge generate` with a
//! year of demands added.

use std::time::{Duration, Instant};

use wangge_domain::{AreaLevel, DemandStatus, Role, Vocabulary, now_millis};
use wangge_store::cockpit::report::{ReportKind, ReportPeriod};
use wangge_store::cockpit::{self, FigureQuery, day_of, midnight};
use wangge_store::demands::history::record_history;
use wangge_store::demands::{self, DemandFilter};
use wangge_store::registry::areas::{self, Area, AreaFilter};
use wangge_store::registry::buildings::{self, BuildingFilter};
use wangge_store::security::accounts::{self, NewApiToken};
use wangge_store::{Db, PageRequest};

use crate::DatabaseArg;
use crate::bench::report;
use crate::commands::open;

/// Runs the benchmark on `database` (else a fresh SQLite file with `communities`
/// generated), first adding `items` demands of the past year spread over its
/// buildings (none when 0).
pub async fn run(
    database: Option<DatabaseArg>,
    communities: usize,
    items: usize,
    queries: usize,
) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let db = match database {
        Some(d) => open(&d).await?,
        None => {
            let url = format!("sqlite:{}", dir.path().join("cockpit.db").display());
            let db = open(&DatabaseArg { database_url: url, key_file: None }).await?;
            let started = Instant::now();
            let options = wangge_synth::GenerateOptions { communities, seed: 1 };
            let made = wangge_synth::generate(&db, &options, |_, _| {}).await?;
            println!(
                "  (generated {} communities, {} residents in {:.1} s)",
                made.communities,
                made.residents,
                started.elapsed().as_secs_f64()
            );
            db
        }
    };
    if items > 0 {
        add_items(&db, items).await?;
        // PostgreSQL: what autovacuum does within minutes of a load this size.
        db.settle_after_load().await?;
    }
    // As `serve` does when it starts (and every six hours): the planner learns of
    // the items and of indexes a migration has just made.
    db.refresh_statistics().await?;
    let level = |level| AreaFilter { level: Some(level), ..Default::default() };
    let page = PageRequest::new(Some(1), Some(500));
    let streets = areas::list(&db, &level(AreaLevel::Street), page).await?.items;
    let cities = areas::list(&db, &level(AreaLevel::City), page).await?.items;
    let street =
        streets.first().ok_or_else(|| anyhow::anyhow!("no street: fill the database with `wangge generate`"))?;
    let residents = wangge_store::stats::counts_under(&db, "/").await?.residents;
    let all = DemandFilter::default();
    let total_items = demands::list(&db, &all, PageRequest::new(Some(1), Some(1))).await?.total;
    println!(
        "cockpit benchmark ({:?}): {residents} residents, {total_items} demands, {queries} runs each, through the store",
        db.backend
    );
    let districts = areas::list(&db, &level(AreaLevel::District), page).await?.items;
    // A generated street holds about 33,000 people; its district (10 streets at
    // most) stands in for a street of 100,000 when `--communities` is about 30.
    let mut scopes: Vec<(&str, &Area)> = vec![("street", street)];
    if let Some(district) = districts.iter().find(|d| street.path.starts_with(&d.path)) {
        scopes.push(("district", district));
    }
    if let Some(city) = cities.first() {
        scopes.push(("city", city));
    }
    // As the server's report schedule does within minutes of a period's end: last
    // week's and month's figures of every area above the grids counted and kept
    // (`cockpit::past::warm`), so the server started below does not count them
    // while the pages are timed, and the reports read what an official would read.
    let started = Instant::now();
    let warmed = wangge_store::cockpit::past::warm(&db, now_millis(), started + Duration::from_secs(3600)).await?;
    println!(
        "  (last week's and month's figures of {warmed} areas counted and kept in {:.1} s)",
        started.elapsed().as_secs_f64()
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(wangge_web::serve(listener, wangge_web::AppState::new(db.clone())));
    for (name, area) in scopes {
        let children = areas::children(&db, &area.id).await?;
        let people = wangge_store::stats::counts_under(&db, &area.path).await?.residents;
        let open_items = demands::list(
            &db,
            &DemandFilter { under_path: Some(area.path.clone()), ..Default::default() },
            PageRequest::new(Some(1), Some(1)),
        )
        .await?
        .total;
        println!("  {name} {} ({people} residents, {open_items} items, {} children):", area.name, children.len());
        let now = now_millis();
        let today = day_of(now);
        let (from, to) = (midnight(today.replace_day(1)?), midnight(today + time::Duration::days(1)));
        let month = |path: &str| FigureQuery { path: path.to_owned(), from, to, now, past: false };
        let (mut figures, mut side, mut page_times, mut reports, mut ledger) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let week = ReportPeriod::last_complete(ReportKind::Week, today);
        for _ in 0..queries {
            let started = Instant::now();
            cockpit::figures(&db, &month(&area.path)).await?;
            let own = started.elapsed();
            figures.push(own);
            let started = Instant::now();
            cockpit::figures_each(&db, children.iter().map(|c| month(&c.path)).collect()).await?;
            side.push(started.elapsed());
            page_times.push(own + started.elapsed());
            let started = Instant::now();
            cockpit::figures(&db, &week.query(&area.path, now)).await?;
            cockpit::figures_each(&db, children.iter().map(|c| week.query(&c.path, now)).collect()).await?;
            reports.push(started.elapsed());
            // The ledger's unfiltered page: open items of the last year, first page.
            let ledger_filter = DemandFilter {
                under_path: Some(area.path.clone()),
                status: DemandStatus::open(),
                from: Some(midnight(today - time::Duration::days(365))),
                to: Some(to),
                ..Default::default()
            };
            let started = Instant::now();
            demands::list(&db, &ledger_filter, PageRequest::new(Some(1), Some(30))).await?;
            ledger.push(started.elapsed());
        }
        report("figures", &mut figures);
        report("side by side", &mut side);
        report("cockpit page", &mut page_times);
        report("past week rep.", &mut reports);
        report("ledger page", &mut ledger);
        // The area's own figures by module: where the time goes.
        println!("   the area's figures by module (month; then a past week; then this year):");
        let year_from = midnight(time::Date::from_calendar_date(today.year(), time::Month::January, 1)?);
        let year = FigureQuery { path: area.path.clone(), from: year_from, to, now, past: false };
        for source in cockpit::SOURCES {
            let (mut live, mut past, mut whole_year) = (Vec::new(), Vec::new(), Vec::new());
            for _ in 0..queries {
                let started = Instant::now();
                (source.compute)(&db, &month(&area.path)).await?;
                live.push(started.elapsed());
                let started = Instant::now();
                (source.compute)(&db, &week.query(&area.path, now)).await?;
                past.push(started.elapsed());
                let started = Instant::now();
                (source.compute)(&db, &year).await?;
                whole_year.push(started.elapsed());
            }
            report(&format!("  {}", source.module), &mut live);
            report(&format!("  {} (past)", source.module), &mut past);
            report(&format!("  {} (year)", source.module), &mut whole_year);
        }
        // The page's other parts, and the visits' figures' two statements.
        println!("   the page's other parts:");
        let parts: [(&str, PartFn); 5] = [
            ("trends", |db, path, now| Box::pin(async move { cockpit::trends(db, path, now).await.map(drop) })),
            ("visits trend", |db, path, now| {
                Box::pin(async move {
                    let today = day_of(now);
                    wangge_store::visits::figures::trend(db, path, today, cockpit::COVERAGE_DAYS, 12).await.map(drop)
                })
            }),
            ("pyramid", |db, path, now| {
                Box::pin(async move { cockpit::age_pyramid(db, path, day_of(now)).await.map(drop) })
            }),
            ("coverage", |db, path, now| {
                Box::pin(async move {
                    wangge_store::visits::coverage(db, path, day_of(now), cockpit::COVERAGE_DAYS).await.map(drop)
                })
            }),
            ("tag coverage", |db, path, now| {
                Box::pin(async move {
                    wangge_store::visits::figures::by_tag(db, path, day_of(now), cockpit::COVERAGE_DAYS).await.map(drop)
                })
            }),
        ];
        for (name, part) in parts {
            let mut times = Vec::new();
            for _ in 0..queries {
                let started = Instant::now();
                part(&db, &area.path, now).await?;
                times.push(started.elapsed());
            }
            report(&format!("  {name}"), &mut times);
        }
        pages(&db, &base, area, queries).await?;
    }
    db.close().await;
    Ok(())
}

/// One part of the page, timed on its own.
type PartFn =
    for<'a> fn(
        &'a Db,
        &'a str,
        i64,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = wangge_store::StoreResult<()>> + Send + 'a>>;

/// The pages themselves over HTTP on 127.0.0.1, as the area's official asks for
/// them (a bearer token of their role and scope): everything a page computes —
/// figures, children, trends, charts, the map's shapes — and renders.
async fn pages(db: &Db, base: &str, area: &Area, queries: usize) -> anyhow::Result<()> {
    let role = match area.level {
        AreaLevel::City => Role::CityOfficial,
        AreaLevel::District => Role::DistrictOfficial,
        AreaLevel::Street => Role::StreetOfficial,
        other => anyhow::bail!("no official's cockpit at a {}", other.as_str()),
    };
    let token =
        NewApiToken { name: format!("bench-{}", area.code), role, scope: area.code.clone(), expires_in_days: None };
    let token = accounts::issue_token(db, token, None).await?.1;
    let id = &area.id;
    let urls = [
        ("GET /cockpit", format!("{base}/cockpit?area={id}")),
        ("  ?period=year", format!("{base}/cockpit?area={id}&period=year")),
        ("  ?screen=1", format!("{base}/cockpit?area={id}&screen=1")),
        ("GET map", format!("{base}/cockpit/map?area={id}")),
        ("GET report wk", format!("{base}/cockpit/report?area={id}&period=week")),
        ("GET report mo", format!("{base}/cockpit/report?area={id}&period=month")),
        ("GET /demands", format!("{base}/demands")),
    ];
    let rounds = queries.clamp(5, 50);
    let times = tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<(&str, Vec<Duration>)>> {
        let agent = ureq::Agent::config_builder().http_status_as_error(false).max_redirects(0).build().new_agent();
        let mut out = Vec::new();
        for (name, url) in urls {
            let mut times = Vec::new();
            // One warm-up round, not counted.
            for round in 0..=rounds {
                let started = Instant::now();
                let mut response = agent.get(&url).header("authorization", &format!("Bearer {token}")).call()?;
                let body = response.body_mut().with_config().limit(50_000_000).read_to_string()?;
                anyhow::ensure!(response.status().as_u16() == 200, "GET {url} answered {}", response.status());
                anyhow::ensure!(body.contains("</html>"), "GET {url}: a whole page");
                if round > 0 {
                    times.push(started.elapsed());
                }
            }
            out.push((name, times));
        }
        Ok(out)
    })
    .await??;
    println!("   over HTTP ({rounds} rounds each, as the {}):", role.code());
    for (name, mut t) in times {
        report(name, &mut t);
    }
    Ok(())
}

/// Writes `count` items of the past year over the database's buildings, drawn at
/// random, as `bench demands` writes its history: the oldest first, a week at a
/// time, each week's in the order they came in, so that the roll-ups' rows lie
/// on disk as a live deployment's do (a day's rows together, the days in turn;
/// the year written in random order scattered an area's days over the tables of
/// PostgreSQL, which keeps rows in the order written: docs/benchmarks.md).
async fn add_items(db: &Db, count: usize) -> anyhow::Result<()> {
    let mut places = Vec::new();
    for page in 1.. {
        let request = PageRequest::new(Some(page), Some(PageRequest::MAX_PER_PAGE));
        let found = buildings::list(db, &BuildingFilter::default(), request).await?.items;
        if found.is_empty() {
            break;
        }
        places.extend(found.into_iter().map(|b| (b.id, b.grid_id, b.path)));
    }
    anyhow::ensure!(!places.is_empty(), "no buildings: fill the database with `wangge generate` first");
    let mut rng = fastrand::Rng::with_seed(18);
    let (categories, calendar) = (demands::categories(db).await?, demands::calendar(db).await?);
    let started = Instant::now();
    const WEEKS: i64 = 52;
    const WEEK: i64 = 7 * 24 * crate::bench_demands::HOUR;
    let mut done = 0;
    for week in (0..WEEKS).rev() {
        let n = (count - done) / (week as usize + 1);
        // The last week's end is an hour ago, as the items' of `bench demands`.
        let ago = (week * WEEK).max(crate::bench_demands::HOUR)..(week + 1) * WEEK;
        let mut items = crate::bench_demands::past_items(&mut rng, &places, n, ("", ""), ago);
        items.sort_by_key(|item| item.created_at);
        for chunk in items.chunks(20_000) {
            let mut tx = db.pool.begin().await?;
            record_history(&mut tx, &db.vault, &categories, &calendar, chunk).await?;
            tx.commit().await?;
        }
        done += n;
    }
    println!("  ({count} items of the past year written in {:.1} s)", started.elapsed().as_secs_f64());
    Ok(())
}
