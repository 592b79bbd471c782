//! What each subcommand does. Each opens the database itself, so a command that
//! fails early leaves nothing open.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use wangge_domain::{AuditAction, Role, Vocabulary};
use wangge_ledger::columns::{Field, parse_mapping};
use wangge_ledger::import::{Actor, ImportOptions, Progress, Stage};
use wangge_store::{AppliedMigration, Db, DbOptions, KeySource, Vault};

use crate::DatabaseArg;

/// Opens and migrates the database; creates the directory of an SQLite file. The key
/// of the protected fields comes from WANGGE_KEY, else `--key-file`, else the key file
/// beside an SQLite database (see `KeySource::Auto`); a missing key file is created.
pub async fn open(database: &DatabaseArg) -> anyhow::Result<Db> {
    Ok(open_and_migrate(database).await?.0)
}

/// [`open`], answering also the migrations it applied.
async fn open_and_migrate(database: &DatabaseArg) -> anyhow::Result<(Db, Vec<AppliedMigration>)> {
    let url = database.database_url.as_str();
    if let Some(path) = url.strip_prefix("sqlite:").map(|p| p.trim_start_matches("//")) {
        let path = Path::new(path.split('?').next().unwrap_or(path));
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
    }
    let key = database.key_file.clone().map_or(KeySource::Auto, KeySource::FromEnvOrFile);
    let db = Db::connect(url, DbOptions { key, ..DbOptions::default() })
        .await
        .with_context(|| format!("opening {}", redact(url)))?;
    let applied = db.migrate().await.context("migrating the database")?;
    if let (Some(first), Some(last)) = (applied.first(), applied.last()) {
        tracing::debug!("applied {} migration(s), {:04} to {:04}", applied.len(), first.version, last.version);
    }
    tracing::debug!("ID card numbers and phones sealed with key {} from {}", db.vault.key_id(), db.vault.origin());
    Ok((db, applied))
}

/// Hides the password of a database URL before it is printed.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

pub async fn demo(listen: SocketAddr, data_dir: &Path) -> anyhow::Result<()> {
    let file = data_dir.join("wangge.db");
    std::fs::create_dir_all(data_dir).with_context(|| format!("creating {}", data_dir.display()))?;
    let _lock = lock_database(&format!("sqlite:{}", file.display()))?;
    let db = open(&DatabaseArg { database_url: format!("sqlite:{}", file.display()), key_file: None }).await?;
    let empty = wangge_store::registry::areas::list(&db, &Default::default(), Default::default()).await?.total == 0;
    if empty {
        eprintln!("Creating the demo community (塔山社区) in {} …", file.display());
        let summary = wangge_synth::load_demo(&db).await?;
        eprintln!(
            "  {} grids, {} buildings, {} households, {} residents, {} organisations, {} demands and {} visits (a year), {} campaigns, {} instructions",
            summary.grids,
            summary.buildings,
            summary.households,
            summary.residents,
            summary.organisations,
            summary.demands,
            summary.visits,
            summary.campaigns,
            summary.instructions
        );
    } else {
        eprintln!("Using the existing demo data in {}", file.display());
    }
    let logins = demo_logins(&db).await?;
    let listener = bind(listen).await?;
    let community = wangge_synth::DEMO_COMMUNITY_CODE;
    println!();
    println!("  Wangge 网格 — demo community 塔山社区 ({community})");
    println!();
    println!("  Open      http://{listen}/   (log in with an account below)");
    println!("  API       http://{listen}/api/v1/residents?area={community}");
    println!("  OpenAPI   http://{listen}/api/openapi.json");
    println!("  Database  {}", file.display());
    println!("  Key       {} (encrypts ID numbers and phones: back it up)", db.vault.origin());
    println!();
    println!("  Log in    (every demo account's password: {DEMO_PASSWORD})");
    for (username, role, scope) in &logins {
        println!("    {username:<12} {role:<34} {scope}");
    }
    println!();
    println!("  For example:");
    println!("    curl -c jar -H 'content-type: application/json' \\");
    println!(
        "         -d '{{\"username\":\"gridmember\",\"password\":\"{DEMO_PASSWORD}\"}}' http://{listen}/api/v1/session"
    );
    println!("    curl -b jar 'http://{listen}/api/v1/residents?q=5678'");
    println!();
    println!("  The demo listens on this machine only. Stop with Ctrl-C.");
    println!();
    wangge_web::serve(listener, wangge_web::AppState::new(db)).await?;
    Ok(())
}

/// The password of every demo account: the demo holds synthetic people only.
pub const DEMO_PASSWORD: &str = "tashan-demo";

/// One account per role, each scoped where that role works in the demo community.
const DEMO_ACCOUNTS: [(&str, Role, &str); 12] = [
    ("admin", Role::PlatformAdmin, ""),
    ("city", Role::CityOfficial, "370600000000"),
    ("district", Role::DistrictOfficial, "370602000000"),
    ("street", Role::StreetOfficial, "370602004000"),
    ("secretary", Role::CommunitySecretary, "370602004011"),
    ("staff", Role::CommunityStaff, "370602004011"),
    ("gridleader", Role::GridLeader, "370602004011001"),
    ("gridmember", Role::GridMember, "370602004011001"),
    ("buildinghead", Role::Auxiliary, "370602004011001"),
    ("party", Role::PartySecretary, "370602004011"),
    ("resident", Role::Resident, "370602004011"),
    ("partymember", Role::Resident, "370602004011"),
];

/// Creates the demo accounts that are missing (no forced password change: these
/// are for trying the system); returns (user name, role, scope) for the banner.
async fn demo_logins(db: &Db) -> anyhow::Result<Vec<(String, String, String)>> {
    let mut out = Vec::new();
    let mut resident_created = false;
    for (username, role, scope) in DEMO_ACCOUNTS {
        if wangge_store::security::accounts::get_by_username(db, username).await.is_err() {
            // `partymember` is one of the demo's in-service Party members, at home.
            let member = if username == "partymember" { a_party_member(db).await? } else { None };
            let new = wangge_store::security::accounts::NewAccount {
                username: username.into(),
                display_name: member.as_ref().map_or_else(|| format!("演示{}", role.label_zh()), |m| m.0.name.clone()),
                role,
                scopes: if scope.is_empty() { vec![] } else { vec![scope.into()] },
                password: DEMO_PASSWORD.into(),
            };
            let account = wangge_store::security::accounts::create(db, new).await?;
            wangge_store::security::accounts::set_password(db, &account.id, DEMO_PASSWORD, false).await?;
            if let Some((member, household)) = &member {
                wangge_store::security::accounts::bind_household(db, &account.id, household).await?;
                wangge_store::party::set_account(db, &member.id, &account.id).await?;
            } else if role == Role::Resident {
                bind_to_a_household(db, &account.id).await?;
                resident_created = true;
            }
        }
        let role_text = format!("{} {}", role.label_zh(), role.label_en());
        out.push((
            username.to_owned(),
            role_text,
            if scope.is_empty() { "everything".into() } else { scope.to_owned() },
        ));
    }
    if resident_created {
        let staff = staff_the_roster(db).await?;
        hand_items_to_demo_logins(db).await?;
        give_demo_units(db).await?;
        if let (Some(first), Some(last)) = (staff.first(), staff.last()) {
            let role = format!("{} {}", Role::GridMember.label_zh(), Role::GridMember.label_en());
            out.push((format!("{first}…{last}"), role, format!("{} accounts of the grid teams", staff.len())));
        }
    }
    Ok(out)
}

/// Gives the grid leaders and grid members of the demo's roster (`wangge_store::team`)
/// accounts, scoped to their grid: grid 001's are `gridleader` and `gridmember`, the
/// others `gridleader<n>`, `gridmember<n>` and `gridmember<n>b`. Returns the user names
/// created.
async fn staff_the_roster(db: &Db) -> anyhow::Result<Vec<String>> {
    use wangge_domain::TeamPost;
    use wangge_store::security::accounts;
    use wangge_store::team::{self, Phones};
    let community = wangge_store::registry::areas::get_by_code(db, wangge_synth::DEMO_COMMUNITY_CODE).await?;
    let mut created = Vec::new();
    for (n, grid) in wangge_store::registry::areas::children(db, &community.id).await?.iter().enumerate() {
        let n = n + 1;
        let roster = team::roster(db, &grid.id, Phones::Hidden, false).await?;
        let mut members = 0;
        for post in roster {
            let (username, role) = match (post.post, n) {
                (TeamPost::Leader, 1) => ("gridleader".to_owned(), Role::GridLeader),
                (TeamPost::Leader, _) => (format!("gridleader{n}"), Role::GridLeader),
                (TeamPost::Member, 1) if members == 0 => ("gridmember".to_owned(), Role::GridMember),
                (TeamPost::Member, _) if members == 0 => (format!("gridmember{n}"), Role::GridMember),
                (TeamPost::Member, _) => (format!("gridmember{n}b"), Role::GridMember),
                _ => continue,
            };
            if post.post == TeamPost::Member {
                members += 1;
            }
            let account = match accounts::get_by_username(db, &username).await {
                Ok(account) => account,
                Err(_) => {
                    let new = accounts::NewAccount {
                        username: username.clone(),
                        display_name: post.person_name.clone().unwrap_or_else(|| username.clone()),
                        role,
                        scopes: vec![grid.code.clone()],
                        password: DEMO_PASSWORD.into(),
                    };
                    let account = accounts::create(db, new).await?;
                    accounts::set_password(db, &account.id, DEMO_PASSWORD, false).await?;
                    created.push(username);
                    account
                }
            };
            team::link_account(db, &post.id, Some(&account.id)).await?;
        }
    }
    Ok(created)
}

/// The demo's year of demands was written before its accounts existed: hand a few of
/// grid 001's items to `resident` as their own reports, and every grid member's
/// items to the member who looks after the building, so that "my items" and the
/// portal's requests are not empty, and not all one person's, on first start.
async fn hand_items_to_demo_logins(db: &Db) -> anyhow::Result<()> {
    use wangge_store::demands::history::{Adopter, adopt};
    let member = wangge_store::security::accounts::get_by_username(db, "gridmember").await?;
    let resident = wangge_store::security::accounts::get_by_username(db, "resident").await?;
    let Some(home) = resident.household_id.as_deref() else { return Ok(()) };
    let grid = wangge_store::registry::areas::get_by_code(db, "370602004011001").await?;
    let member = Adopter { account_id: &member.id, name: &member.display_name };
    let reporter = Adopter { account_id: &resident.id, name: &resident.display_name };
    adopt(db, &grid.path, member, reporter, home).await?;
    // Then every grid member's items are their own, by the buildings they look after
    // (adopt gave all of grid 001's to `gridmember`).
    let community = wangge_store::registry::areas::get_by_code(db, wangge_synth::DEMO_COMMUNITY_CODE).await?;
    wangge_store::demands::history::spread_to_team(db, &community.path).await?;
    // The `gridmember` login is the one people try first: its 我的待办 is not empty.
    wangge_store::demands::history::give_an_open_item(db, &grid.path, member.account_id, &community.path).await?;
    Ok(())
}

/// `buildinghead` (property staff) joins the demo's property company (its roles and
/// people are the demo's own, `wangge_synth::load_demo`), so that a dispatch to it
/// reaches someone with an account on first start.
async fn give_demo_units(db: &Db) -> anyhow::Result<()> {
    use wangge_domain::OrganisationKind as Kind;
    use wangge_store::units::{self, NewMember};
    let community = wangge_store::registry::areas::get_by_code(db, wangge_synth::DEMO_COMMUNITY_CODE).await?;
    let filter = wangge_store::registry::organisations::OrganisationFilter {
        under_path: Some(community.path.clone()),
        ..Default::default()
    };
    let page = wangge_store::PageRequest { page: 1, per_page: 500 };
    let organisations = wangge_store::registry::organisations::list(db, &filter, page).await?.items;
    let staff = wangge_store::security::accounts::get_by_username(db, "buildinghead").await?;
    if let Some(org) = organisations.iter().find(|o| o.kind == Kind::PropertyCompany) {
        let me =
            NewMember {
                account_id: Some(staff.id.clone()), name: staff.display_name.clone(), duty: "物业服务".into()
            };
        units::join(db, &org.id, me).await?;
    }
    Ok(())
}

/// The demo resident lives in the first household of grid 001, as if their grid
/// member had confirmed them, so that the portal shows a household and takes reports.
async fn bind_to_a_household(db: &Db, account_id: &str) -> anyhow::Result<()> {
    let grid = wangge_store::registry::areas::get_by_code(db, "370602004011001").await?;
    let filter =
        wangge_store::registry::households::HouseholdFilter { under_path: Some(grid.path), ..Default::default() };
    let homes =
        wangge_store::registry::households::list(db, &filter, wangge_store::PageRequest::new(Some(1), Some(1))).await?;
    if let Some(home) = homes.items.first() {
        wangge_store::security::accounts::bind_household(db, account_id, &home.id).await?;
    }
    Ok(())
}

/// The in-service Party member of grid 001 with the most service (a unit's member
/// living there), and their household: the `partymember` login claims needs and
/// records service as them.
async fn a_party_member(db: &Db) -> anyhow::Result<Option<(wangge_store::party::Member, String)>> {
    use wangge_domain::party::{MemberKind, MemberStatus};
    let grid = wangge_store::registry::areas::get_by_code(db, "370602004011001").await?;
    let filter = wangge_store::party::MemberFilter {
        kind: Some(MemberKind::InService),
        status: Some(MemberStatus::Active),
        ..Default::default()
    };
    let mut best = None;
    for member in wangge_store::party::members_under(db, &grid.path, &filter).await? {
        let Some(resident) = &member.resident_id else { continue };
        let resident = wangge_store::registry::residents::get(db, resident).await?;
        let served = wangge_store::party::service::services_of(db, &member.id).await?.len();
        if let (Some(household), None) = (resident.household_id.clone(), &member.account_id)
            && best.as_ref().is_none_or(|(n, _, _)| served > *n)
        {
            best = Some((served, member, household));
        }
    }
    Ok(best.map(|(_, member, household)| (member, household)))
}

async fn bind(listen: SocketAddr) -> anyhow::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(listen).await.with_context(|| {
        format!("cannot listen on {listen}: is another program using it? Choose another with --listen")
    })
}

/// Backups made by `serve` itself (`--backup-every`).
pub struct BackupSchedule {
    pub every: Duration,
    pub keep: usize,
    pub to: Option<PathBuf>,
}

/// `1d`, `12h`, `30m`, `45s` (or a bare number of seconds).
pub fn parse_interval(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = text.split_at(text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len()));
    let n: u64 = number.parse().map_err(|_| format!("'{text}': write an interval as 1d, 12h, 30m or 45s"))?;
    let seconds = match unit {
        "d" => n * 86_400,
        "h" => n * 3_600,
        "m" => n * 60,
        "s" | "" => n,
        _ => return Err(format!("'{text}': the unit is d, h, m or s (1d, 12h, 30m, 45s)")),
    };
    if seconds == 0 {
        return Err("the interval must be longer than zero".into());
    }
    Ok(Duration::from_secs(seconds))
}

/// Holds the lock beside an SQLite database for as long as the server runs, so that
/// `wangge restore` cannot replace the file under it; refuses to start when another
/// server holds it. `None` for PostgreSQL and in-memory databases.
fn lock_database(url: &str) -> anyhow::Result<Option<wangge_store::backup::ServeLock>> {
    let Some(file) = wangge_store::sqlite_file(url) else { return Ok(None) };
    match wangge_store::backup::ServeLock::acquire(&file) {
        Ok(Ok(lock)) => Ok(Some(lock)),
        Ok(Err(holder)) => bail!(
            "another server is already using {} (it holds {}{holder}): stop it first, or serve another database",
            file.display(),
            wangge_store::backup::lock_file(&file).display()
        ),
        Err(e) => Err(e).with_context(|| format!("opening {}", wangge_store::backup::lock_file(&file).display())),
    }
}

/// Backs up on a schedule for as long as the server runs; failures are logged and
/// tried again at the next turn.
fn schedule_backups(db: &Db, url: &str, schedule: BackupSchedule) -> anyhow::Result<()> {
    let Some(file) = wangge_store::sqlite_file(url) else {
        bail!(
            "--backup-every copies SQLite databases only: back PostgreSQL up with pg_dump (docs/security.md); the              key is {}",
            wangge_store::backup::key_location(&db.vault)
        );
    };
    let db = db.clone();
    let options =
        wangge_store::backup::BackupOptions { to: schedule.to, keep: Some(schedule.keep), ..Default::default() };
    tracing::info!(
        "backing up every {} s into {}, keeping {}",
        schedule.every.as_secs(),
        options.to.clone().unwrap_or_else(|| file.with_file_name("backups")).display(),
        schedule.keep
    );
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + schedule.every, schedule.every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            match wangge_store::backup::backup(&db, &file, &options).await {
                Ok(report) => tracing::info!("scheduled backup: {report}"),
                Err(e) => tracing::error!("scheduled backup failed: {e}"),
            }
        }
    });
    Ok(())
}

/// `wangge backup`.
pub async fn backup(database: &DatabaseArg, options: &wangge_store::backup::BackupOptions) -> anyhow::Result<()> {
    let url = database.database_url.as_str();
    if let Some(file) = wangge_store::sqlite_file(url)
        && !file.is_file()
    {
        bail!("there is no database at {}: nothing to back up", file.display());
    }
    let db = open(database).await?;
    let Some(file) = wangge_store::sqlite_file(url) else {
        let error = wangge_store::backup::backup(&db, Path::new(""), options).await.err();
        bail!("{}", error.map(|e| e.to_string()).unwrap_or_else(|| "an in-memory database cannot be backed up".into()));
    };
    let report = wangge_store::backup::backup(&db, &file, options).await;
    db.close().await;
    let report = report?;
    println!("{}: {report}", file.display());
    for old in &report.removed {
        println!("  removed {}", old.display());
    }
    Ok(())
}

/// `wangge restore FILE`.
pub fn restore(database: &DatabaseArg, from: &Path) -> anyhow::Result<()> {
    let url = database.database_url.as_str();
    let Some(file) = wangge_store::sqlite_file(url) else {
        bail!("wangge restore replaces SQLite databases only: restore PostgreSQL with pg_restore (docs/security.md)");
    };
    if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let vault = wangge_store::backup::key_for_restore(&file, database.key_file.as_deref())?;
    let report = wangge_store::backup::restore(&file, from, &vault)?;
    println!(
        "Restored {} from {} (integrity ok, key {} at {}).",
        file.display(),
        from.display(),
        vault.key_id(),
        report.key
    );
    match &report.replaced {
        Some(aside) => println!("The database it replaced is kept as {}.", aside.display()),
        None => println!("There was no database there before."),
    }
    let counts: Vec<String> = report.counts.iter().map(|(table, n)| format!("{table} {n}")).collect();
    println!("It holds: {}.", counts.join(", "));
    Ok(())
}

pub async fn serve(
    database: &DatabaseArg,
    listen: SocketAddr,
    backups: Option<BackupSchedule>,
    site: wangge_web::Site,
) -> anyhow::Result<()> {
    let url = database.database_url.as_str();
    let _lock = lock_database(url)?;
    let db = open(database).await?;
    if let Some(schedule) = backups {
        schedule_backups(&db, url, schedule)?;
    }
    if !listen.ip().is_loopback() {
        tracing::warn!(
            "listening on {listen}, beyond this machine, and accounts do not exist yet: anyone who reaches it can read the registry"
        );
    }
    let listener = bind(listen).await?;
    match site.public_url() {
        Some(public) => println!("Wangge serving on http://{listen}/, reached at {public}/ ({})", redact(url)),
        None => println!("Wangge serving on http://{listen}/ ({})", redact(url)),
    }
    wangge_web::serve(listener, wangge_web::AppState::new(db).with_site(site)).await?;
    Ok(())
}

/// Says what an upgrade changed: each migration applied (a fresh database's
/// first and last), or that there was nothing to apply.
pub async fn migrate(database: &DatabaseArg) -> anyhow::Result<()> {
    let (_, applied) = open_and_migrate(database).await?;
    let url = redact(&database.database_url);
    let name = |m: &AppliedMigration| format!("{:04} {}", m.version, m.description);
    match applied.as_slice() {
        [] => println!("The database schema was already up to date ({url})."),
        [first, .., last] if applied.len() > 10 => println!(
            "Applied {} migrations, {} to {}: the database schema is up to date ({url}).",
            applied.len(),
            name(first),
            name(last)
        ),
        _ => {
            println!("Applied {} migration(s): the database schema is up to date ({url}).", applied.len());
            for m in &applied {
                println!("  {}", name(m));
            }
        }
    }
    Ok(())
}

/// How `import residents` runs: check only, and/or update the registered.
#[derive(Clone, Copy, Debug, Default)]
pub struct ImportHow {
    pub dry_run: bool,
    pub update: bool,
}

/// An error said in the language of the command line (`LANG`/`LC_ALL`).
fn said(message: &wangge_domain::Message) -> anyhow::Error {
    anyhow::anyhow!(wangge_web::say(message, wangge_web::cli_lang()))
}

pub async fn import_residents(
    database: &DatabaseArg,
    file: &Path,
    community: &str,
    how: ImportHow,
    mapping: &[String],
) -> anyhow::Result<()> {
    use wangge_domain::{Explain, msg};
    let lang = wangge_web::cli_lang();
    let say = |m: wangge_domain::Message| wangge_web::say(&m, lang);
    let pairs = mapping
        .iter()
        .map(|m| {
            m.split_once('=')
                .map(|(h, f)| (h.trim().to_owned(), f.trim().to_owned()))
                .with_context(|| format!("--map {m}: write it as HEADER=FIELD, e.g. 户主楼号=building"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mapping: Vec<(String, Field)> = parse_mapping(&pairs).map_err(|e| said(&e.message()))?;
    let started = std::time::Instant::now();
    let table = wangge_ledger::table::read_table(file)
        .map_err(|e| said(&e.message()))
        .with_context(|| file.display().to_string())?;
    let db = open(database).await?;
    let actor = Actor { actor_id: None, actor_name: cli_actor(), address: Some("command line".into()) };
    let options = ImportOptions {
        community_code: community.to_owned(),
        dry_run: how.dry_run,
        mapping,
        update: how.update,
        actor: Some(actor),
    };
    let report = wangge_ledger::import::import_residents(&db, &table, &options, show_progress)
        .await
        .map_err(|e| said(&e.message()))
        .with_context(|| file.display().to_string())?;
    eprintln!();
    if !report.errors.is_empty() {
        let count = report.errors.len();
        eprintln!("{}", say(msg!("import.cli.problems", count = count, file = file.display())));
        for e in &report.errors {
            eprintln!("  {}", say(e.message()));
        }
        bail!(say(msg!("import.cli.fix", count = count)));
    }
    let key = match (how.dry_run, how.update) {
        (false, false) => "import.cli.imported",
        (true, false) => "import.cli.would_import",
        (false, true) => "import.cli.updated",
        (true, true) => "import.cli.would_update",
    };
    println!(
        "{}",
        say(msg!(
            key,
            file = file.display(),
            residents = report.residents,
            row = report.header_row,
            blank = report.blank_rows,
            households = report.households_created,
            buildings = report.buildings_created,
            changed = report.changed.len(),
            unchanged = report.unchanged,
            missing = report.missing.len(),
            seconds = format!("{:.1}", started.elapsed().as_secs_f64()),
        ))
    );
    for c in &report.changed {
        for f in &c.changes {
            let field = if lang == "en" { f.field.header_en() } else { f.field.header_zh() };
            let line = msg!(
                "import.cli.change",
                row = c.row,
                name = &c.name,
                field = field,
                before = &f.before,
                after = &f.after
            );
            println!("  {}", say(line));
        }
    }
    for m in &report.missing {
        println!("  {}", say(msg!("import.cli.missing", name = &m.name, id_card = &m.id_card, home = &m.home)));
    }
    if how.dry_run {
        println!("{}", say(msg!("import.cli.dry_run")));
    } else {
        let detail = if how.update {
            format!(
                "update from {}: {} new, {} changed, {} unchanged, {} missing from the ledger",
                file.display(),
                report.residents,
                report.changed.len(),
                report.unchanged,
                report.missing.len()
            )
        } else {
            format!("{} residents from {}", report.residents, file.display())
        };
        audit_cli(&db, AuditAction::ImportResidents, community, &detail).await?;
    }
    Ok(())
}

/// `wangge import template`: the ledger template, to fill in.
pub fn import_template(output: &Path) -> anyhow::Result<()> {
    let bytes = wangge_ledger::template::template_xlsx_bytes()?;
    std::fs::write(output, bytes).with_context(|| format!("writing {}", output.display()))?;
    println!("{}", output.display());
    Ok(())
}

/// Who runs a command, as the audit log names them.
/// `wangge import roster`: a grid team roster into a grid or a community, all or
/// nothing (`wangge_ledger::roster`).
pub async fn import_roster(database: &DatabaseArg, file: &Path, area: &str) -> anyhow::Result<()> {
    use wangge_domain::{Explain, msg};
    let lang = wangge_web::cli_lang();
    let say = |m: wangge_domain::Message| wangge_web::say(&m, lang);
    let table = wangge_ledger::table::read_table(file)
        .map_err(|e| said(&e.message()))
        .with_context(|| file.display().to_string())?;
    let db = open(database).await?;
    let place = wangge_store::registry::areas::get_by_code(&db, area).await?;
    let report = wangge_ledger::roster::import_roster(&db, &table, &place)
        .await
        .map_err(|e| said(&e.message()))
        .with_context(|| file.display().to_string())?;
    if !report.errors.is_empty() {
        let count = report.errors.len();
        eprintln!("{}", say(msg!("import.cli.problems", count = count, file = file.display())));
        for e in &report.errors {
            eprintln!("  {}", say(e.message()));
        }
        bail!(say(msg!("import.cli.fix", count = count)));
    }
    for post in &report.added {
        let grid = wangge_store::registry::areas::get(&db, &post.grid_id).await?;
        let entry = wangge_store::audit::Entry {
            actor_name: cli_actor(),
            address: Some("command line".into()),
            action: AuditAction::TeamAdd.code().into(),
            target_kind: Some("team_post".into()),
            target_id: Some(post.id.clone()),
            path: Some(grid.path),
            reason: Some(format!("roster {}", file.display())),
            ..Default::default()
        };
        wangge_store::audit::record(&db, entry).await?;
    }
    println!("{}", say(msg!("roster.import.done", added = report.added.len(), already = report.already)));
    Ok(())
}

fn cli_actor() -> String {
    format!("cli:{}", std::env::var("USER").unwrap_or_else(|_| "unknown".into()))
}

/// Records an import or export run from the command line in the audit log, with the
/// community it touched, so that it is scoped like the data.
async fn audit_cli(db: &Db, action: AuditAction, community_code: &str, detail: &str) -> anyhow::Result<()> {
    let community = wangge_store::registry::areas::get_by_code(db, community_code).await?;
    let entry = wangge_store::audit::Entry {
        actor_name: cli_actor(),
        address: Some("command line".into()),
        action: action.code().into(),
        target_kind: Some("area".into()),
        target_id: Some(community.id),
        path: Some(community.path),
        reason: Some(detail.into()),
        ..Default::default()
    };
    wangge_store::audit::record(db, entry).await?;
    Ok(())
}

fn show_progress(p: Progress) {
    let stage = match p.stage {
        Stage::Checking => "checking",
        Stage::Writing => "writing",
    };
    eprint!("\r{stage} {}/{} rows   ", p.done, p.total);
    let _ = std::io::stderr().flush();
}

pub async fn export_residents(database: &DatabaseArg, community: &str, output: &Path) -> anyhow::Result<()> {
    let db = open(database).await?;
    let started = std::time::Instant::now();
    let rows = wangge_ledger::export::export_residents(&db, community, output).await?;
    audit_cli(&db, AuditAction::ExportResidents, community, &format!("{rows} residents to {}", output.display()))
        .await?;
    println!(
        "{}: exported {rows} residents of {community} in {:.1} s",
        output.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

pub async fn generate(database: &DatabaseArg, communities: usize, seed: u64) -> anyhow::Result<()> {
    let db = open(database).await?;
    let options = wangge_synth::GenerateOptions { communities, seed };
    let summary = wangge_synth::generate(&db, &options, |done, total| {
        eprint!("\rgenerating community {done}/{total}   ");
        let _ = std::io::stderr().flush();
    })
    .await?;
    eprintln!();
    let secs = summary.elapsed.as_secs_f64();
    println!(
        "Generated {} communities, {} grids, {} buildings, {} households, {} residents and {} visits (a year) in \
         {secs:.1} s ({:.0} residents/s; {:.1} s of it rebuilding indexes)",
        summary.communities,
        summary.grids,
        summary.buildings,
        summary.households,
        summary.residents,
        summary.visits,
        summary.residents as f64 / secs,
        summary.indexing.as_secs_f64()
    );
    Ok(())
}

/// `wangge keys rotate`: a new key, every protected field sealed again, the key files swapped.
pub async fn rotate_key(database: &DatabaseArg, new_key_file: Option<&Path>) -> anyhow::Result<()> {
    let db = open(database).await?;
    let old_id = db.vault.key_id().to_owned();
    // With no path given, the new key goes beside the current file and replaces it
    // once the database has switched; a key from WANGGE_KEY has no file to replace.
    let (new_path, replaces) = match (new_key_file, db.vault.key_file()) {
        (Some(path), _) => (path.to_owned(), None),
        (None, Some(current)) => (append_to_name(current, ".new"), Some(current.to_owned())),
        (None, None) => {
            bail!("the key comes from {}: name the file for the new key with --new-key-file", db.vault.origin())
        }
    };
    let new = Vault::create_key_file(&new_path)
        .with_context(|| format!("creating the new key file {} (it must not exist yet)", new_path.display()))?;
    let started = std::time::Instant::now();
    let count = match wangge_store::registry::residents::rekey(&db, &new).await {
        Ok(count) => count,
        Err(e) => {
            // Nothing was sealed with the new key: it is of no use to anyone.
            let _ = std::fs::remove_file(&new_path);
            return Err(e).context("re-encrypting with the new key; the database still uses the old one");
        }
    };
    db.close().await;
    println!(
        "Re-encrypted the ID card numbers and phones of {count} residents with key {} (was {old_id}) in {:.1} s.",
        new.key_id(),
        started.elapsed().as_secs_f64()
    );
    match replaces {
        Some(current) => {
            let old_path = append_to_name(&current, &format!(".{old_id}.old"));
            let swapped = std::fs::rename(&current, &old_path).and_then(|()| std::fs::rename(&new_path, &current));
            swapped.with_context(|| {
                format!(
                    "the database now needs the key in {}; move it to {} by hand",
                    new_path.display(),
                    current.display()
                )
            })?;
            println!("The new key is in {}; the old one was moved to {}.", current.display(), old_path.display());
            println!("Back up the new key now. Keep the old one while backups made before today are kept.");
        }
        None => {
            println!("The database now opens only with the key in {}.", new_path.display());
            println!(
                "Point --key-file (WANGGE_KEY_FILE) at it, or put the text after 'wangge-key-v1 ' into WANGGE_KEY. \
                 Back it up now."
            );
        }
    }
    Ok(())
}

/// `wangge.key` + `.new` → `wangge.key.new`.
fn append_to_name(path: &Path, suffix: &str) -> std::path::PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    path.with_file_name(name)
}

/// `wangge digest`: the overdue digest of an area, printed, and posted on request.
pub async fn digest(database: &DatabaseArg, area: Option<&str>, send_webhooks: bool) -> anyhow::Result<()> {
    let db = open(database).await?;
    let path = match area.map(str::trim).filter(|a| !a.is_empty()) {
        Some(a) if a.bytes().all(|b| b.is_ascii_digit()) => {
            Some(wangge_store::registry::areas::get_by_code(&db, a).await?.path)
        }
        Some(a) => Some(wangge_store::registry::areas::get(&db, a).await?.path),
        None => None,
    };
    let digest = wangge_store::demands::digest::digest(&db, path.as_deref(), wangge_domain::now_millis()).await?;
    println!("{}", digest.markdown());
    if send_webhooks {
        let sent = wangge_web::webhooks::send_digest(&db, path.as_deref().unwrap_or("/"), &digest).await?;
        if sent.is_empty() {
            eprintln!("no active webhook covers this area");
        }
        for (hook, outcome) in sent {
            match outcome {
                Ok(status) => eprintln!("webhook {hook}: delivered ({status})"),
                Err(e) => eprintln!("webhook {hook}: not delivered: {e}"),
            }
        }
    }
    db.close().await;
    Ok(())
}

/// `wangge boundaries`: a community's grid boundaries from a GeoJSON file, checked.
pub async fn boundaries(database: &DatabaseArg, community: &str, file: &std::path::Path) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let db = open(database).await?;
    let community = community.trim();
    let area = if community.bytes().all(|b| b.is_ascii_digit()) {
        wangge_store::registry::areas::get_by_code(&db, community).await?
    } else {
        wangge_store::registry::areas::get(&db, community).await?
    };
    let outcome = wangge_store::cockpit::map::import_boundaries(&db, &area, &text).await?;
    db.close().await;
    let lang = wangge_web::cli_lang();
    match outcome {
        Ok(done) => {
            if done.community {
                println!("{}: {}", area.code, area.name);
            }
            for code in &done.grids {
                println!("{code}");
            }
            eprintln!("{} boundaries imported", done.grids.len() + usize::from(done.community));
            Ok(())
        }
        Err(problems) => {
            for m in &problems {
                eprintln!("{}", wangge_web::say(m, lang));
            }
            anyhow::bail!("{} problems; nothing was imported", problems.len())
        }
    }
}

/// `wangge figures verify`: every summary row that differs from its recount, one a
/// line (`table key: stored N, counted M`), and an error when any does.
pub async fn figures_verify(database: &DatabaseArg) -> anyhow::Result<()> {
    let db = open(database).await?;
    let differences = wangge_store::summaries::verify(&db).await;
    db.close().await;
    let differences = differences?;
    for d in &differences {
        println!("{} {}: stored {}, counted {}", d.table, d.key, d.stored, d.counted);
    }
    let tables = wangge_store::summaries::SUMMARIES.len();
    if differences.is_empty() {
        eprintln!("{tables} summary tables agree with the rows");
        Ok(())
    } else {
        anyhow::bail!("{} summary rows differ from the rows they count", differences.len())
    }
}

/// `wangge purge-campaigns`: the retention purge of campaign answers, once, now
/// (China time); with `dry_run` only the list.
pub async fn purge_campaigns(database: &DatabaseArg, dry_run: bool) -> anyhow::Result<()> {
    let db = open(database).await?;
    let today = wangge_store::campaigns::today();
    let done = wangge_store::campaigns::retention::purge(&db, today, dry_run).await?;
    db.close().await;
    for p in &done {
        println!(
            "{}\t{}\tclosed {}, kept {} days\t{} answers\t{} photos\t{} counts",
            p.campaign_id,
            p.title,
            p.closes_on,
            p.retention_days,
            p.answers,
            p.photos,
            p.counts.len()
        );
    }
    let verb = if dry_run { "would be purged (dry run: nothing changed)" } else { "purged" };
    eprintln!("{} campaigns {verb}", done.len());
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn intervals_read_as_people_write_them() {
        use std::time::Duration;
        assert_eq!(super::parse_interval("1d"), Ok(Duration::from_secs(86_400)));
        assert_eq!(super::parse_interval("12h"), Ok(Duration::from_secs(43_200)));
        assert_eq!(super::parse_interval("30m"), Ok(Duration::from_secs(1_800)));
        assert_eq!(super::parse_interval("45"), Ok(Duration::from_secs(45)));
        for bad in ["", "0d", "d", "1w", "1.5h", "-1h"] {
            assert!(super::parse_interval(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(super::redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(super::redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(super::redact("sqlite:x.db"), "sqlite:x.db");
    }
}
