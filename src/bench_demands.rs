//! `wangge bench demands`: intake through the JSON API over real HTTP, and the
//! ledger of one community holding 100,000 items.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use wangge_domain::{Channel, DemandKind, DemandStatus, HandlerKind, Role, Step, new_id, now_millis};
use wangge_store::demands::history::{PastDemand, PastStep, record_history};
use wangge_store::demands::{self, Actor, DemandFilter, StepInput};
use wangge_store::registry::areas;
use wangge_store::registry::buildings::{self, BuildingFilter};
use wangge_store::security::accounts::{self, NewApiToken};
use wangge_store::{Db, DbOptions, KeySource, PageRequest};

use crate::DatabaseArg;
use crate::bench::report;
use crate::commands::open;

/// An hour in milliseconds.
pub(crate) const HOUR: i64 = 3_600_000;

const CATEGORIES: [&str; 8] = [
    "environment",
    "public_facilities",
    "neighbour_dispute",
    "property",
    "safety_hazard",
    "elderly_disabled",
    "social_security",
    "other",
];

/// Where the bench's databases live: SQLite files in a temporary directory, or
/// fresh databases on a PostgreSQL server (`--postgres`, the URL of a database
/// there whose user may create others), dropped when the bench is done with them
/// unless `keep` (`--keep`).
enum Place<'a> {
    Sqlite(&'a std::path::Path),
    Postgres { server: &'a str, keep: bool },
}

impl Place<'_> {
    fn engine(&self) -> &'static str {
        match self {
            Place::Sqlite(_) => "SQLite",
            Place::Postgres { .. } => "PostgreSQL",
        }
    }

    /// A fresh database holding the Tashan demo, and the name to drop it by.
    async fn demo_db(&self, name: &str) -> anyhow::Result<(Db, Option<String>)> {
        let (db, dropped) = match self {
            Place::Sqlite(dir) => {
                let url = format!("sqlite:{}", dir.join(format!("{name}.db")).display());
                (open(&DatabaseArg { database_url: url, key_file: None }).await?, None)
            }
            Place::Postgres { server, .. } => {
                let database = format!("wangge_bench_{name}_{}", fastrand::u64(..));
                let url = wangge_store::create_postgres_database(server, &database).await?;
                let db = Db::connect(&url, DbOptions { key: KeySource::Ephemeral, ..DbOptions::default() }).await?;
                db.migrate().await?;
                (db, Some(database))
            }
        };
        let started = Instant::now();
        let summary = wangge_synth::load_demo(&db).await?;
        println!("  (the demo, with {} demands, loaded in {:.2} s)", summary.demands, started.elapsed().as_secs_f64());
        Ok((db, dropped))
    }

    /// Closes `db` and drops it if it was made on a PostgreSQL server, unless kept.
    async fn done(&self, db: Db, dropped: Option<String>) -> anyhow::Result<()> {
        db.close().await;
        match (self, dropped) {
            (Place::Postgres { keep: true, .. }, Some(database)) => println!("  (kept the database {database})"),
            (Place::Postgres { server, .. }, Some(database)) => {
                wangge_store::drop_postgres_database(server, &database).await?
            }
            _ => {}
        }
        Ok(())
    }
}

async fn building_places(db: &Db) -> anyhow::Result<Vec<(String, String, String)>> {
    let page = PageRequest::new(Some(1), Some(500));
    let found = buildings::list(db, &BuildingFilter::default(), page).await?.items;
    Ok(found.into_iter().map(|b| (b.id, b.grid_id, b.path)).collect())
}

pub async fn run(
    clients: usize,
    seconds: u64,
    rate: u64,
    items: usize,
    (intake_only, ledger_only): (bool, bool),
    without_summaries: bool,
    (postgres, keep): (Option<String>, bool),
) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let place = match &postgres {
        Some(server) => Place::Postgres { server, keep },
        None => Place::Sqlite(dir.path()),
    };
    if !ledger_only {
        intake(&place, clients, seconds, rate, without_summaries).await?;
    }
    if !intake_only {
        ledger(&place, items).await?;
    }
    Ok(())
}

/// The seconds of CPU time all cores have spent busy since boot (Linux's
/// `/proc/stat`: user, nice, system, irq and softirq; not idle, waiting on the disk,
/// or stolen by the host of a virtual machine), or `None` where there is no such file.
fn machine_busy() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let ticks: Vec<u64> = stat.lines().next()?.split_whitespace().skip(1).filter_map(|t| t.parse().ok()).collect();
    let busy: u64 = [0, 1, 2, 5, 6].iter().filter_map(|&i| ticks.get(i)).sum();
    // USER_HZ: 100 on every Linux architecture the project builds for.
    Some(busy as f64 / 100.0)
}

/// One intake request body.
fn body(rng: &mut fastrand::Rng, buildings: &[(String, String, String)]) -> String {
    let building = &buildings[rng.usize(..buildings.len())].0;
    let category = CATEGORIES[rng.usize(..CATEGORIES.len())];
    serde_json::json!({
        "building_id": building, "category": category, "channel": "phone",
        "title": "楼道灯不亮", "description": "二单元三楼，晚上看不见", "reporter_name": "刘一",
        "reporter_phone": format!("138{:08}", rng.u32(0..100_000_000)),
    })
    .to_string()
}

fn post(agent: &ureq::Agent, url: &str, token: &str, body: String) -> anyhow::Result<()> {
    let mut response = agent
        .post(url)
        .header("authorization", &format!("Bearer {token}"))
        .header("content-type", "application/json")
        .send(body)?;
    anyhow::ensure!(response.status().as_u16() == 201, "intake answered {}", response.status());
    // Read the answer (the new item), as a client does: a connection whose answer
    // was left unread is closed instead of being kept for the next request.
    response.body_mut().read_to_string()?;
    Ok(())
}

async fn intake(
    place: &Place<'_>,
    clients: usize,
    seconds: u64,
    rate: u64,
    without_summaries: bool,
) -> anyhow::Result<()> {
    println!("demand intake: POST /api/v1/demands over HTTP on 127.0.0.1, {}, the Tashan demo", place.engine());
    let (db, dropped) = place.demo_db("intake").await?;
    if without_summaries {
        // What the cockpit's summaries cost intake (issue 18: under 10 %): the same
        // run without the triggers named `demand_counts…`, which keep
        // `demand_counts` (0028), `demand_days` (0063) and `demand_rate_days` (0064);
        // on PostgreSQL the one queueing new items for them (0073, 0074), whose
        // fold the server still runs every second over an empty queue.
        let triggers = wangge_store::summaries::drop_triggers(&db, "demands", "demand_counts").await?;
        anyhow::ensure!(!triggers.is_empty(), "no trigger keeps demand_counts");
        println!("  without the summary: dropped {}", triggers.join(", "));
    }
    let places = Arc::new(building_places(&db).await?);
    let new = NewApiToken {
        name: "bench".into(),
        role: Role::CommunitySecretary,
        scope: wangge_synth::DEMO_COMMUNITY_CODE.into(),
        expires_in_days: None,
    };
    let token = Arc::new(accounts::issue_token(&db, new, None).await?.1);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = Arc::new(format!("http://{}/api/v1/demands", listener.local_addr()?));
    tokio::spawn(wangge_web::serve(listener, wangge_web::AppState::new(db.clone())));
    let agent = || ureq::Agent::config_builder().http_status_as_error(false).build().new_agent();

    // Sustained: every client sends its next item as soon as the last is answered.
    let before = demands::intake_stats(&db);
    let done = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let (started, busy) = (Instant::now(), machine_busy());
    let threads: Vec<_> = (0..clients)
        .map(|c| {
            let (done, stop, places, token, url) =
                (done.clone(), stop.clone(), places.clone(), token.clone(), url.clone());
            std::thread::spawn(move || -> anyhow::Result<()> {
                let (agent, mut rng) = (agent(), fastrand::Rng::with_seed(c as u64));
                while !stop.load(Ordering::Relaxed) {
                    post(&agent, &url, &token, body(&mut rng, &places))?;
                    done.fetch_add(1, Ordering::Relaxed);
                }
                Ok(())
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().map_err(|_| anyhow::anyhow!("a client panicked"))??;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let n = done.load(Ordering::Relaxed);
    println!("  sustained, {clients} clients: {n} items in {elapsed:.1} s = {:.0} items/s", n as f64 / elapsed);
    if let (Some(before), Some(after)) = (busy, machine_busy()) {
        // The rate moves with whatever else the cores do (±15 % between runs on a
        // virtual machine with busy neighbours); the CPU time the whole machine
        // spent per item (server, database, clients) moves less, and says what a
        // change costs when the cores are the limit.
        let busy = after - before;
        println!(
            "    (the machine busy {busy:.1} of {:.1} core-seconds: {:.3} ms of CPU per item)",
            elapsed * std::thread::available_parallelism().map_or(1, |n| n.get()) as f64,
            busy * 1000.0 / n.max(1) as f64
        );
    }
    let batches = |since: (u64, u64)| {
        let (commits, items) = demands::intake_stats(&db);
        let (commits, items) = (commits - since.0, items - since.1);
        println!("    ({commits} commits, {:.1} items per commit)", items as f64 / commits.max(1) as f64);
        demands::intake_stats(&db)
    };
    let since = batches(before);

    // A fixed rate: each request has its appointed time, and its latency counts from
    // then, so a server falling behind shows in the figures (no coordinated omission).
    let total = rate * seconds;
    let senders = clients.max(16);
    let interval = Duration::from_secs_f64(1.0 / rate as f64);
    let origin = Instant::now() + Duration::from_millis(100);
    let threads: Vec<_> = (0..senders)
        .map(|c| {
            let (places, token, url) = (places.clone(), token.clone(), url.clone());
            std::thread::spawn(move || -> anyhow::Result<Vec<Duration>> {
                let (agent, mut rng) = (agent(), fastrand::Rng::with_seed(1000 + c as u64));
                let mut times = Vec::new();
                let mut i = c as u64;
                while i < total {
                    let due = origin + interval * i as u32;
                    if let Some(wait) = due.checked_duration_since(Instant::now()) {
                        std::thread::sleep(wait);
                    }
                    post(&agent, &url, &token, body(&mut rng, &places))?;
                    times.push(due.elapsed());
                    i += senders as u64;
                }
                Ok(times)
            })
        })
        .collect();
    let mut times = Vec::new();
    for t in threads {
        times.extend(t.join().map_err(|_| anyhow::anyhow!("a client panicked"))??);
    }
    let elapsed = origin.elapsed().as_secs_f64();
    println!("  at {rate}/s for {seconds} s ({} items in {elapsed:.1} s):", times.len());
    report("latency", &mut times);
    batches(since);
    place.done(db, dropped).await
}

fn actor(name: &str, role: Role) -> Actor {
    Actor { id: None, name: name.into(), role }
}

/// `count` past items in the demo community, created `ago` (a range of
/// milliseconds before now): 30 % consultations answered, the rest worked to
/// closure and mostly rated, one in ten still open (some overdue).
pub(crate) fn past_items(
    rng: &mut fastrand::Rng,
    places: &[(String, String, String)],
    count: usize,
    (member_grid, member_id): (&str, &str),
    ago: std::ops::Range<i64>,
) -> Vec<PastDemand> {
    let now = now_millis();
    let (member, secretary) = (actor("网格员", Role::GridMember), actor("书记", Role::CommunitySecretary));
    (0..count)
        .map(|i| {
            let (building, grid, path) = &places[rng.usize(..places.len())];
            let created = now - rng.i64(ago.clone());
            let mut at = created;
            let mut next = |rng: &mut fastrand::Rng, hours: i64| {
                at = (at + rng.i64(HOUR / 6..hours * HOUR)).min(now - 1000);
                at
            };
            let mut steps = Vec::new();
            let mut push = |step, at, by: &Actor, input| steps.push(PastStep { step, at, by: by.clone(), input });
            let consultation = i % 10 < 3;
            let open = i % 10 == 9;
            let category = if consultation { "policy" } else { CATEGORIES[rng.usize(..CATEGORIES.len())] };
            let note = |t: &str| StepInput { note: t.into(), ..Default::default() };
            if consultation {
                push(Step::Answer, next(rng, 8), &secretary, note("已电话答复"));
            } else {
                let stop = if open { rng.usize(0..5) } else { 7 };
                let plan = [
                    (Step::Accept, &member, StepInput::default()),
                    (
                        Step::Dispatch,
                        &secretary,
                        StepInput {
                            handler_kind: Some(HandlerKind::GridMember),
                            handler_name: Some("网格员".into()),
                            // The measured grid member's 今日 holds their grid's items.
                            handler_id: (grid.as_str() == member_grid).then(|| member_id.to_owned()),
                            ..Default::default()
                        },
                    ),
                    (Step::Start, &member, StepInput::default()),
                    (Step::ReportDone, &member, note("已处理")),
                    (Step::Verify, &member, StepInput::default()),
                    (Step::Close, &secretary, StepInput::default()),
                ];
                for (step, by, input) in plan.into_iter().take(stop) {
                    push(step, next(rng, 30), by, input);
                }
                if !open && rng.u32(0..10) < 6 {
                    let score = StepInput { score: Some(rng.u8(4..=5)), ..Default::default() };
                    push(Step::Rate, next(rng, 48), &actor("居民", Role::Resident), score);
                }
            }
            PastDemand {
                id: new_id(),
                path: path.clone(),
                area_id: grid.clone(),
                building_id: Some(building.clone()),
                household_id: None,
                resident_id: None,
                category: category.into(),
                kind: if consultation { DemandKind::Consultation } else { DemandKind::Report },
                channel: Channel::Phone,
                title: "楼道灯不亮".into(),
                description: "二单元三楼".into(),
                address: None,
                reporter_name: Some("刘一".into()),
                reporter_phone: Some(format!("138{:08}", i)),
                created_at: created,
                submitted_by: secretary.clone(),
                steps,
            }
        })
        .collect()
}

/// Draws the filter of one query.
type MakeFilter<'a> = dyn Fn(&mut fastrand::Rng) -> DemandFilter + 'a;

async fn ledger(place: &Place<'_>, count: usize) -> anyhow::Result<()> {
    println!(
        "demand ledger: one community with {count} more items, first page of 20 and the total, through the store \
         (searches included), {}",
        place.engine()
    );
    let (db, dropped) = place.demo_db("ledger").await?;
    let places = building_places(&db).await?;
    let mut rng = fastrand::Rng::with_seed(5);
    let member = bench_member(&db, &places).await?;
    let items = past_items(&mut rng, &places, count, (&places[0].1, &member), HOUR..365 * 24 * HOUR);
    let (categories, calendar) = (demands::categories(&db).await?, demands::calendar(&db).await?);
    let started = Instant::now();
    let mut tx = db.pool.begin().await?;
    record_history(&mut tx, &db.vault, &categories, &calendar, &items).await?;
    tx.commit().await?;
    println!("  (written in {:.1} s)", started.elapsed().as_secs_f64());
    drop(items);
    let community = areas::get_by_code(&db, wangge_synth::DEMO_COMMUNITY_CODE).await?;
    let scope = DemandFilter { under_path: Some(community.path.clone()), ..Default::default() };
    let total = demands::list(&db, &scope, PageRequest::new(Some(1), Some(1))).await?.total;
    println!("  {total} items in the community's ledger");
    let now = now_millis();
    let day = 86_400_000;
    // Search (issue 16): numbers of stored items, and the last four digits of the
    // phones the items were given (`138` + the item's index).
    let numbers = demands::tracking::some_numbers(&db, 2000).await?;
    anyhow::ensure!(!numbers.is_empty(), "the items have tracking numbers");
    let searched = |typed: String| {
        let mut f = scope.clone();
        demands::search::Query::read(&typed).expect("something typed").apply(&db, &mut f);
        f
    };
    let kinds: [(&str, &MakeFilter); 9] = [
        ("search: tracking number", &|r| searched(numbers[r.usize(..numbers.len())].clone())),
        ("search: phone suffix", &|r| searched(format!("{:04}", r.usize(..count.clamp(1, 10_000))))),
        ("everything", &|_| scope.clone()),
        ("status=open", &|_| DemandFilter { status: DemandStatus::open(), ..scope.clone() }),
        ("category", &|r| DemandFilter { category: Some(CATEGORIES[r.usize(..8)].into()), ..scope.clone() }),
        ("overdue", &|_| DemandFilter { overdue: true, ..scope.clone() }),
        ("30-day range", &|r| {
            let from = now - r.i64(30..365) * day;
            DemandFilter { from: Some(from), to: Some(from + 30 * day), ..scope.clone() }
        }),
        ("status+category", &|r| DemandFilter {
            status: vec![DemandStatus::Rated],
            category: Some(CATEGORIES[r.usize(..8)].into()),
            ..scope.clone()
        }),
        ("grid", &|r| DemandFilter { under_path: Some(places[r.usize(..places.len())].2.clone()), ..scope.clone() }),
    ];
    for (name, filter) in kinds {
        let mut times = Vec::new();
        for _ in 0..200 {
            let f = filter(&mut rng);
            let page = rng.u32(1..=5);
            let started = Instant::now();
            demands::list(&db, &f, PageRequest::new(Some(page), Some(20))).await?;
            times.push(started.elapsed());
        }
        report(name, &mut times);
    }
    today(&db, &places, &member).await?;
    place.done(db, dropped).await
}

const BENCH_PASSWORD: &str = "bench-password-1";

/// The grid member whose 今日 is measured: the items of the first building's grid
/// are dispatched to them ([`past_items`]).
async fn bench_member(db: &Db, places: &[(String, String, String)]) -> anyhow::Result<String> {
    let grid = areas::get(db, &places[0].1).await?;
    let new = accounts::NewAccount {
        username: "bench-member".into(),
        display_name: "网格员".into(),
        role: Role::GridMember,
        scopes: vec![grid.code.clone()],
        password: BENCH_PASSWORD.into(),
    };
    let member = accounts::create(db, new).await?;
    accounts::set_password(db, &member.id, BENCH_PASSWORD, false).await?;
    Ok(member.id)
}

/// 今日 of a grid member of the community holding the items, over real HTTP: their
/// open items of one grid dispatched to them, the grid's items waiting for
/// verification and its new reports, each section sorted by deadline.
async fn today(db: &Db, places: &[(String, String, String)], member: &str) -> anyhow::Result<()> {
    let grid_path = &places[0].2;
    let password = BENCH_PASSWORD;
    let mine =
        DemandFilter { handler_ids: vec![member.to_owned()], status: DemandStatus::open(), ..Default::default() };
    let theirs = demands::list(db, &mine, PageRequest::new(Some(1), Some(1))).await?.total;
    let in_grid = DemandFilter { under_path: Some(grid_path.clone()), ..Default::default() };
    let grid_items = demands::list(db, &in_grid, PageRequest::new(Some(1), Some(1))).await?.total;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(wangge_web::serve(listener, wangge_web::AppState::new(db.clone())));
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).max_redirects(0).build().into();
    let body = serde_json::json!({"username": "bench-member", "password": password});
    let response = agent.post(&format!("{base}/api/v1/session")).send_json(&body)?;
    let cookie = response
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("no session cookie"))?;
    println!("今日 (GET /today over HTTP): a grid member of a grid of {grid_items} items, {theirs} open ones theirs");
    let mut times = Vec::new();
    for i in 0..220 {
        let started = Instant::now();
        let mut page = agent.get(&format!("{base}/today")).header("cookie", &cookie).call()?;
        let html = page.body_mut().read_to_string()?;
        anyhow::ensure!(
            page.status().as_u16() == 200 && html.contains("today-mine"),
            "今日 answered {}",
            page.status()
        );
        // The first few warm the caches and the connection.
        if i >= 20 {
            times.push(started.elapsed());
        }
    }
    report("today", &mut times);
    Ok(())
}
