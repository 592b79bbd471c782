//! `wangge bench campaigns` (issue 20): a campaign started over an area holding at
//! least `--households` households (its targets drawn through
//! `store::campaigns::start`, several fresh campaigns in turn), then its progress
//! (the JSON figures and the page) requested over real HTTP while `--members` grid
//! members submit answers to their own grids' targets as fast as they are answered.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use wangge_domain::campaigns::TargetKind;
use wangge_domain::campaigns::builtin::Builtin;
use wangge_domain::{AreaLevel, Role};
use wangge_store::campaigns::{self, NewCampaign, TargetFilter};
use wangge_store::registry::areas::{self, Area, AreaFilter};
use wangge_store::security::accounts::{self, NewApiToken};
use wangge_store::{Db, PageRequest};

use crate::DatabaseArg;
use crate::bench::report;
use crate::commands::open;

/// What `wangge bench campaigns` is asked to do.
pub struct Options {
    /// The database (default: a fresh SQLite file with `communities` generated).
    pub database: Option<DatabaseArg>,
    pub communities: usize,
    /// The campaign's scope is the first street (else district) holding this many households.
    pub households: u64,
    /// Campaigns started, each timed.
    pub runs: usize,
    pub members: usize,
    /// Length of the run with members submitting.
    pub seconds: u64,
    /// A member's pause between two submissions (0: the next as soon as answered).
    pub pause_ms: u64,
}

pub async fn run(o: Options) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let db = match &o.database {
        Some(d) => open(d).await?,
        None => {
            let url = format!("sqlite:{}", dir.path().join("campaigns.db").display());
            let db = open(&DatabaseArg { database_url: url, key_file: None }).await?;
            let started = Instant::now();
            let options = wangge_synth::GenerateOptions { communities: o.communities, seed: 1 };
            let made = wangge_synth::generate(&db, &options, |_, _| {}).await?;
            println!(
                "  (generated {} communities, {} households, {} residents in {:.1} s)",
                made.communities,
                made.households,
                made.residents,
                started.elapsed().as_secs_f64()
            );
            db
        }
    };
    let (area, households) = scope(&db, o.households).await?;
    println!(
        "campaigns benchmark ({:?}): the gas check over {} {} ({} code {}), {households} households",
        db.backend,
        area.level.as_str(),
        area.name,
        area.level.as_str(),
        area.code
    );
    let campaign = start_runs(&db, &area, o.runs, o.households).await?;
    submit_while_watching(&db, &area, &campaign, &o).await?;
    db.close().await;
    Ok(())
}

/// The first street holding at least `wanted` households, else the first district:
/// a street of 100,000 households is the case in mind, but generated streets hold
/// about 11,000, so on generated data the scope is a district. (Vacant households
/// are no targets: [`start_runs`] checks the targets' count.)
async fn scope(db: &Db, wanted: u64) -> anyhow::Result<(Area, u64)> {
    let mut largest = (String::new(), 0);
    for level in [AreaLevel::Street, AreaLevel::District] {
        let filter = AreaFilter { level: Some(level), ..Default::default() };
        let places = areas::list(db, &filter, PageRequest::new(Some(1), Some(500))).await?.items;
        for area in places {
            let n = wangge_store::stats::counts_under(db, &area.path).await?.households as u64;
            if n >= wanted {
                if level != AreaLevel::Street {
                    println!(
                        "  (no street holds {wanted} households, the largest, {}, holds {}: the campaign is started \
                         over a {})",
                        largest.0,
                        largest.1,
                        level.as_str()
                    );
                }
                return Ok((area, n));
            }
            if level == AreaLevel::Street && n > largest.1 {
                largest = (area.name.clone(), n);
            }
        }
    }
    anyhow::bail!("no street or district holds {wanted} households: generate more communities")
}

fn gas_check(area: &Area, title: String) -> anyhow::Result<NewCampaign> {
    let builtin = Builtin::find("gas_check").ok_or_else(|| anyhow::anyhow!("the gas check form ships"))?;
    let today = campaigns::today();
    Ok(NewCampaign {
        area_id: area.id.clone(),
        title,
        target_kind: TargetKind::Household,
        filter: TargetFilter::default(),
        opens_on: today.to_string(),
        closes_on: (today + time::Duration::days(14)).to_string(),
        retention_days: None,
        form: builtin.form(),
    })
}

/// Starts `runs` campaigns over `area` (each a fresh campaign, all kept) and prints
/// each start's time, then the least and the median. Returns the last campaign's id.
async fn start_runs(db: &Db, area: &Area, runs: usize, wanted: u64) -> anyhow::Result<String> {
    let mut times = Vec::new();
    let mut last = String::new();
    for run in 1..=runs.max(1) {
        let new = gas_check(area, format!("燃气安全排查 {run}"))?;
        let started = Instant::now();
        let campaign = campaigns::start(db, new, None, "bench").await?;
        let elapsed = started.elapsed();
        let targets = campaigns::progress(db, &campaign.id, &campaign.path).await?.pop().unwrap_or_default().expected;
        anyhow::ensure!(targets >= wanted, "{targets} targets, fewer than {wanted}: generate more communities");
        println!("  start {run}: {targets} targets in {:.3} s", elapsed.as_secs_f64());
        times.push(elapsed);
        last = campaign.id;
    }
    times.sort();
    println!(
        "  campaigns::start, {} runs: min {:.3} s   median {:.3} s   max {:.3} s",
        times.len(),
        times[0].as_secs_f64(),
        times[times.len() / 2].as_secs_f64(),
        times[times.len() - 1].as_secs_f64()
    );
    Ok(last)
}

/// The official who watches the campaign: their scope is its area.
fn watcher_role(level: AreaLevel) -> anyhow::Result<Role> {
    match level {
        AreaLevel::Street => Ok(Role::StreetOfficial),
        AreaLevel::District => Ok(Role::DistrictOfficial),
        other => anyhow::bail!("no official watches a campaign over a {}", other.as_str()),
    }
}

/// `count` grids of the campaign spread evenly over its area (by code), each with
/// its targets: one grid member's each.
async fn member_grids(db: &Db, area: &Area, count: usize) -> anyhow::Result<Vec<String>> {
    let filter = AreaFilter { level: Some(AreaLevel::Grid), under_path: Some(area.path.clone()), ..Default::default() };
    let mut codes = Vec::new();
    for page in 1.. {
        let request = PageRequest::new(Some(page), Some(PageRequest::MAX_PER_PAGE));
        let found = areas::list(db, &filter, request).await?.items;
        if found.is_empty() {
            break;
        }
        codes.extend(found.into_iter().map(|a| a.code));
    }
    codes.sort();
    anyhow::ensure!(codes.len() >= count, "{} grids in the area, fewer than {count} members", codes.len());
    Ok((0..count).map(|i| codes[i * codes.len() / count].clone()).collect())
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder().http_status_as_error(false).max_redirects(0).build().new_agent()
}

/// A GET that must answer 200; its body.
fn get(agent: &ureq::Agent, url: &str, token: &str) -> anyhow::Result<String> {
    let mut response = agent.get(url).header("authorization", &format!("Bearer {token}")).call()?;
    let body = response.body_mut().with_config().limit(50_000_000).read_to_string()?;
    anyhow::ensure!(response.status().as_u16() == 200, "GET {url} answered {}: {body}", response.status());
    Ok(body)
}

/// One household's answers to the gas check: most use gas (checked today, a day
/// written back to the registry), some have a hazard.
fn answers(rng: &mut fastrand::Rng, version: i64) -> String {
    let answers = if rng.u8(0..10) < 2 {
        serde_json::json!({"uses_gas": "no"})
    } else {
        let hose_age = rng.u8(0..8);
        let alarm = if rng.bool() { "yes" } else { "no" };
        let mut a = serde_json::json!({
            "uses_gas": "yes", "kinds": "stove water_heater", "hose_age": hose_age.to_string(), "alarm": alarm,
            "checked_on": wangge_store::campaigns::today().to_string(),
        });
        if hose_age > 2 || alarm == "no" {
            a["problem"] = "软管老化".into();
        }
        a
    };
    serde_json::json!({"version": version, "answers": answers}).to_string()
}

/// The progress, by the JSON API and by the page, as the watcher asks it.
struct Watched {
    api: Vec<Duration>,
    page: Vec<Duration>,
}

/// Asks for the progress (`/api/v1/campaigns/{id}/progress`, then the page
/// `/campaigns/{id}`) one request after the other until `stop`, or `rounds` times.
fn watch(base: &str, campaign: &str, token: &str, stop: &AtomicBool, rounds: usize) -> anyhow::Result<Watched> {
    let agent = agent();
    let (api_url, page_url) =
        (format!("{base}/api/v1/campaigns/{campaign}/progress"), format!("{base}/campaigns/{campaign}"));
    let mut w = Watched { api: Vec::new(), page: Vec::new() };
    for _ in 0..rounds {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let started = Instant::now();
        let figures = get(&agent, &api_url, token)?;
        w.api.push(started.elapsed());
        anyhow::ensure!(figures.contains("\"expected\""), "the progress holds figures: {figures}");
        let started = Instant::now();
        let page = get(&agent, &page_url, token)?;
        w.page.push(started.elapsed());
        anyhow::ensure!(page.contains(campaign), "the page is the campaign's");
    }
    Ok(w)
}

async fn submit_while_watching(db: &Db, area: &Area, campaign: &str, o: &Options) -> anyhow::Result<()> {
    let version = campaigns::get(db, campaign).await?.form_version;
    let watcher = NewApiToken {
        name: "bench-watcher".into(),
        role: watcher_role(area.level)?,
        scope: area.code.clone(),
        expires_in_days: None,
    };
    let watcher = Arc::new(accounts::issue_token(db, watcher, None).await?.1);
    let mut members = Vec::new();
    for (i, grid) in member_grids(db, area, o.members).await?.into_iter().enumerate() {
        let new = NewApiToken {
            name: format!("bench-member-{i}"),
            role: Role::GridMember,
            scope: grid,
            expires_in_days: None,
        };
        members.push(accounts::issue_token(db, new, None).await?.1);
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = Arc::new(format!("http://{}", listener.local_addr()?));
    tokio::spawn(wangge_web::serve(listener, wangge_web::AppState::new(db.clone())));
    let campaign = Arc::new(campaign.to_owned());
    println!("  over HTTP on 127.0.0.1: GET /api/v1/campaigns/{{id}}/progress and GET /campaigns/{{id}} in turn");

    // Alone first: what the progress costs with nobody writing (the first rounds
    // warm the caches and the connection).
    let never = AtomicBool::new(false);
    let (b, c, t) = (base.clone(), campaign.clone(), watcher.clone());
    let mut quiet = tokio::task::spawn_blocking(move || watch(&b, &c, &t, &never, 60)).await??;
    quiet.api.drain(..10);
    quiet.page.drain(..10);
    println!("  nobody submitting ({} rounds):", quiet.api.len());
    report("progress API", &mut quiet.api);
    report("progress page", &mut quiet.page);

    // Each member lists their grid's open targets (their 200 first) and answers them
    // in walking order, starting again at the top when the list is done (answering
    // a done target again is an edit, the same write).
    let stop = Arc::new(AtomicBool::new(false));
    let submitted = Arc::new(AtomicU64::new(0));
    let pause = Duration::from_millis(o.pause_ms);
    let threads: Vec<_> = members
        .into_iter()
        .enumerate()
        .map(|(i, token)| {
            let (base, campaign, stop, submitted) = (base.clone(), campaign.clone(), stop.clone(), submitted.clone());
            std::thread::spawn(move || -> anyhow::Result<Vec<Duration>> {
                let (agent, mut rng) = (agent(), fastrand::Rng::with_seed(i as u64));
                let list = get(&agent, &format!("{base}/api/v1/campaigns/{campaign}/targets"), &token)?;
                let list: Vec<serde_json::Value> = serde_json::from_str(&list)?;
                let ids: Vec<String> = list.iter().filter_map(|t| t["id"].as_str().map(str::to_owned)).collect();
                anyhow::ensure!(!ids.is_empty(), "member {i} has targets");
                let mut times = Vec::new();
                for id in ids.iter().cycle() {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let url = format!("{base}/api/v1/campaign-targets/{id}/answers");
                    let started = Instant::now();
                    let mut response = agent
                        .post(&url)
                        .header("authorization", &format!("Bearer {token}"))
                        .header("content-type", "application/json")
                        .send(answers(&mut rng, version))?;
                    let body = response.body_mut().read_to_string()?;
                    anyhow::ensure!(response.status().as_u16() == 200, "answers: {} {body}", response.status());
                    times.push(started.elapsed());
                    submitted.fetch_add(1, Ordering::Relaxed);
                    if !pause.is_zero() {
                        std::thread::sleep(pause);
                    }
                }
                Ok(times)
            })
        })
        .collect();
    // Let every member get their list and start before the watch begins.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let from = submitted.load(Ordering::Relaxed);
    let started = Instant::now();
    let (b, c, t, s) = (base.clone(), campaign.clone(), watcher.clone(), stop.clone());
    let watching = tokio::task::spawn_blocking(move || watch(&b, &c, &t, &s, usize::MAX));
    tokio::time::sleep(Duration::from_secs(o.seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let mut busy = watching.await??;
    let elapsed = started.elapsed().as_secs_f64();
    let during = submitted.load(Ordering::Relaxed) - from;
    let mut submit_times = Vec::new();
    for t in threads {
        submit_times.extend(t.join().map_err(|_| anyhow::anyhow!("a member's client panicked"))??);
    }
    let total = campaigns::progress(db, &campaign, &area.path).await?.pop().unwrap_or_default();
    println!(
        "  {} members submitting{} for {elapsed:.1} s: {during} answers = {:.0} answers/s ({} targets done)",
        o.members,
        if pause.is_zero() { " flat out".to_owned() } else { format!(", {} ms apart", o.pause_ms) },
        during as f64 / elapsed,
        total.done
    );
    report("submit", &mut submit_times);
    println!("  while they submit ({} rounds):", busy.api.len());
    report("progress API", &mut busy.api);
    report("progress page", &mut busy.page);
    Ok(())
}
