//! Nothing lost: a backup taken under write load restores every row, restore refuses
//! what would lose data, `kill -9` under concurrent writers keeps every acknowledged
//! write, and a full disk is survived. Each test runs the real `wangge` binary on
//! its own database; the full-disk test mounts a small tmpfs (root only: skipped
//! with a note elsewhere, required under `CI=true`).

use std::collections::{BTreeMap, BTreeSet};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use wangge_domain::Role;
use wangge_store::security::{accounts, sessions};
use wangge_store::{Db, DbOptions, KeySource};

const PASSWORD: &str = "durability-pass-1";
const WRITERS: usize = 8;

fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

fn wangge(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_wangge"))
        .args(args)
        .env_remove("WANGGE_KEY")
        .env_remove("WANGGE_KEY_FILE")
        .env_remove("WANGGE_DATABASE_URL")
        .output()
        .expect("run wangge")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

/// A migrated database at `file` with its key file beside it and an administrator
/// `admin`; with `generate`, one synthetic community too.
fn prepare(file: &Path, generate: bool) -> String {
    let url = format!("sqlite:{}", file.display());
    if generate {
        let out = wangge(&["generate", "--communities", "1", "--seed", "5", "--database-url", &url]);
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    runtime().block_on(async {
        let db = open(&url).await;
        let new = accounts::NewAccount {
            username: "admin".into(),
            display_name: "admin".into(),
            role: Role::PlatformAdmin,
            scopes: vec![],
            password: PASSWORD.into(),
        };
        let account = accounts::create(&db, new).await.unwrap();
        accounts::set_password(&db, &account.id, PASSWORD, false).await.unwrap();
        db.close().await;
    });
    url
}

/// The database with the key file beside it.
async fn open(url: &str) -> Db {
    let db = Db::connect(url, DbOptions { max_connections: 2, key: KeySource::Auto }).await.unwrap();
    db.migrate().await.unwrap();
    db
}

/// A `wangge serve` process, killed (SIGKILL) when dropped.
struct Served {
    child: Child,
    base: String,
    log: PathBuf,
}

impl Served {
    fn start(url: &str, log: &Path) -> Self {
        Self::start_with(url, log, &[])
    }

    fn start_with(url: &str, log: &Path, extra: &[&str]) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let listen = format!("127.0.0.1:{port}");
        let err = std::fs::OpenOptions::new().create(true).append(true).open(log).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_wangge"))
            .args(["serve", "--database-url", url, "--listen", &listen])
            .args(extra)
            .env_remove("WANGGE_KEY")
            .env_remove("WANGGE_KEY_FILE")
            .env("WANGGE_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(err)
            .spawn()
            .expect("start wangge serve");
        let served = Self { child, base: format!("http://{listen}"), log: log.to_owned() };
        let started = Instant::now();
        loop {
            if get(&served.base, "/healthz", None).0 == 200 {
                return served;
            }
            assert!(started.elapsed() < Duration::from_secs(30), "the server did not start: {}", served.log());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// `kill -9`.
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.kill();
    }
}

#[derive(Clone, Debug)]
struct Session {
    cookie: String,
    csrf: String,
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .new_agent()
}

/// Status, `Retry-After` and body of a request.
fn call(
    base: &str,
    method: &str,
    path: &str,
    session: Option<&Session>,
    body: Option<(&str, String)>,
    lang: &str,
) -> (u16, Option<String>, String) {
    let mut request =
        http::Request::builder().method(method).uri(format!("{base}{path}")).header("accept-language", lang);
    if let Some(s) = session {
        request = request.header("cookie", &s.cookie).header("x-csrf-token", &s.csrf);
    }
    let result = match body {
        Some((content_type, body)) => agent().run(request.header("content-type", content_type).body(body).unwrap()),
        None => agent().run(request.body(()).unwrap()),
    };
    match result {
        Ok(mut resp) => {
            let retry = resp.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_owned);
            (resp.status().as_u16(), retry, resp.body_mut().read_to_string().unwrap_or_default())
        }
        // The server was killed, or not up yet.
        Err(_) => (0, None, String::new()),
    }
}

fn get(base: &str, path: &str, session: Option<&Session>) -> (u16, Option<String>, String) {
    call(base, "GET", path, session, None, "zh-CN")
}

fn login(base: &str, lang: &str) -> (u16, Option<String>, String, Option<Session>) {
    let body = serde_json::json!({"username": "admin", "password": PASSWORD}).to_string();
    let request = http::Request::builder()
        .method("POST")
        .uri(format!("{base}/api/v1/session"))
        .header("accept-language", lang)
        .header("content-type", "application/json");
    let mut resp = agent().run(request.body(body).unwrap()).unwrap();
    let status = resp.status().as_u16();
    let retry = resp.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let cookie = resp
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::to_owned);
    let text = resp.body_mut().read_to_string().unwrap_or_default();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    let session = match (cookie, json["csrf_token"].as_str()) {
        (Some(cookie), Some(csrf)) => Some(Session { cookie, csrf: csrf.to_owned() }),
        _ => None,
    };
    (status, retry, text, session)
}

fn new_tag(base: &str, session: &Session, code: &str) -> (u16, Option<String>, String) {
    let body = serde_json::json!({"code": code, "name_zh": format!("标签{code}"), "name_en": code}).to_string();
    call(base, "POST", "/api/v1/tags", Some(session), Some(("application/json", body)), "zh-CN")
}

fn new_account(base: &str, session: &Session, username: &str) -> (u16, Option<String>, String) {
    let body = serde_json::json!({
        "username": username, "display_name": username, "role": "resident", "scopes": [], "password": PASSWORD
    })
    .to_string();
    call(base, "POST", "/api/v1/accounts", Some(session), Some(("application/json", body)), "zh-CN")
}

/// Eight writers adding tags and accounts until stopped; each tag answered 201 is acknowledged.
struct Writers {
    stop: Arc<AtomicBool>,
    acknowledged: Arc<Mutex<Vec<String>>>,
    disk_full: Arc<AtomicUsize>,
    other_errors: Arc<Mutex<Vec<String>>>,
    handles: Vec<std::thread::JoinHandle<()>>,
}

impl Writers {
    fn start(base: &str, session: &Session, prefix: &str) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let acknowledged = Arc::new(Mutex::new(Vec::new()));
        let disk_full = Arc::new(AtomicUsize::new(0));
        let other_errors = Arc::new(Mutex::new(Vec::new()));
        let handles = (0..WRITERS)
            .map(|w| {
                let (stop, acknowledged, disk_full, other_errors) =
                    (stop.clone(), acknowledged.clone(), disk_full.clone(), other_errors.clone());
                let (base, session, prefix) = (base.to_owned(), session.clone(), prefix.to_owned());
                std::thread::spawn(move || {
                    let mut n = 0;
                    while !stop.load(Ordering::Relaxed) {
                        n += 1;
                        let code = format!("{prefix}_{w}_{n}");
                        // Every fourth write an account: a transaction of two tables
                        // (tags are single statements).
                        let answer = if n % 4 == 0 {
                            new_account(&base, &session, &code)
                        } else {
                            new_tag(&base, &session, &code)
                        };
                        match answer {
                            (201, _, _) => acknowledged.lock().unwrap().push(code),
                            (503, retry, body) if body.contains("\"disk_full\"") => {
                                assert_eq!(retry.as_deref(), Some("30"), "503 disk_full carries Retry-After");
                                disk_full.fetch_add(1, Ordering::Relaxed);
                                std::thread::sleep(Duration::from_millis(20));
                            }
                            (0, _, _) => std::thread::sleep(Duration::from_millis(20)),
                            (status, _, body) => {
                                other_errors.lock().unwrap().push(format!("{status} {body}"));
                                std::thread::sleep(Duration::from_millis(20));
                            }
                        }
                    }
                })
            })
            .collect();
        Self { stop, acknowledged, disk_full, other_errors, handles }
    }

    fn count(&self) -> usize {
        self.acknowledged.lock().unwrap().len()
    }

    fn snapshot(&self) -> Vec<String> {
        self.acknowledged.lock().unwrap().clone()
    }

    fn finish(self) -> (Vec<String>, Vec<String>) {
        self.stop.store(true, Ordering::Relaxed);
        for h in self.handles {
            h.join().unwrap();
        }
        let acknowledged = self.acknowledged.lock().unwrap().clone();
        let errors = self.other_errors.lock().unwrap().clone();
        (acknowledged, errors)
    }
}

/// Every table of an SQLite file: (row count, checksum of its rows in key order).
fn table_sums(file: &Path) -> BTreeMap<String, (usize, u64)> {
    let conn = rusqlite::Connection::open_with_flags(file, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut out = BTreeMap::new();
    for table in tables {
        let mut statement = conn.prepare(&format!("SELECT * FROM \"{table}\"")).unwrap();
        let columns = statement.column_count();
        let mut rows: Vec<String> = statement
            .query_map([], |row| {
                let values: Vec<rusqlite::types::Value> =
                    (0..columns).map(|i| row.get::<_, rusqlite::types::Value>(i)).collect::<Result<_, _>>()?;
                Ok(format!("{values:?}"))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        rows.sort();
        let mut hasher = DefaultHasher::new();
        rows.hash(&mut hasher);
        out.insert(table, (rows.len(), hasher.finish()));
    }
    out
}

/// The tag codes and user names in an SQLite file: what the writers wrote.
fn tag_codes(file: &Path) -> BTreeSet<String> {
    let conn = rusqlite::Connection::open(file).unwrap();
    let mut statement = conn.prepare("SELECT code FROM tags UNION ALL SELECT username FROM accounts").unwrap();
    statement.query_map([], |r| r.get(0)).unwrap().collect::<Result<_, _>>().unwrap()
}

fn integrity_ok(file: &Path) {
    let conn = rusqlite::Connection::open(file).unwrap();
    let result: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(result, "ok", "integrity_check of {}", file.display());
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn backups_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("wangge-"))
        .collect();
    files.sort();
    files
}

#[test]
fn a_backup_under_write_load_restores_every_row() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("wangge.db");
    let url = prepare(&file, true);
    let key_file = dir.path().join("wangge.key");
    let mut server = Served::start(&url, &dir.path().join("serve.log"));
    let session = login(&server.base, "zh-CN").3.expect("logged in");
    let writers = Writers::start(&server.base, &session, "b");
    while writers.count() < 50 {
        std::thread::sleep(Duration::from_millis(20));
    }

    // Three backups under load; the directory keeps two. The key goes elsewhere.
    let backups = dir.path().join("backups");
    let keys = dir.path().join("keys");
    let mut acknowledged_before = Vec::new();
    for _ in 0..3 {
        acknowledged_before = writers.snapshot();
        let out = wangge(&[
            "backup",
            "--database-url",
            &url,
            "--to",
            backups.to_str().unwrap(),
            "--keep",
            "2",
            "--key-to",
            keys.to_str().unwrap(),
        ]);
        let stdout = text(&out.stdout);
        assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
        assert!(stdout.contains("integrity ok"), "{stdout}");
        assert!(stdout.contains(key_file.to_str().unwrap()), "every message names the key: {stdout}");
        std::thread::sleep(Duration::from_millis(1100));
    }
    let count_at_backup = writers.count();
    while writers.count() < count_at_backup + 50 {
        std::thread::sleep(Duration::from_millis(20));
    }
    let (acknowledged, errors) = writers.finish();
    assert!(errors.is_empty(), "writes failed during backups: {errors:?}");
    server.kill();

    let kept = backups_in(&backups);
    assert_eq!(kept.len(), 2, "--keep 2: {kept:?}");
    let backup = kept.last().unwrap().clone();
    assert_eq!(mode(&backup), 0o600, "a backup is readable by its owner only");
    integrity_ok(&backup);
    let key_copy = keys.join("wangge.key");
    assert_eq!(std::fs::read(&key_copy).unwrap(), std::fs::read(&key_file).unwrap());
    assert_eq!(mode(&key_copy), 0o600);

    // The backup holds everything acknowledged before it began, and nothing the
    // database never held; every table but the written ones is the same, row for row.
    let in_backup = tag_codes(&backup);
    let in_database = tag_codes(&file);
    assert!(acknowledged.iter().all(|c| in_database.contains(c)), "an acknowledged write was lost");
    let missing: Vec<&String> = acknowledged_before.iter().filter(|c| !in_backup.contains(*c)).collect();
    assert!(missing.is_empty(), "acknowledged before the backup but not in it: {missing:?}");
    assert!(in_backup.is_subset(&in_database));
    assert!(in_backup.len() < in_database.len(), "writes went on during and after the backup");
    let (source, copy) = (table_sums(&file), table_sums(&backup));
    assert_eq!(source.keys().collect::<Vec<_>>(), copy.keys().collect::<Vec<_>>());
    for (table, sums) in &source {
        if ["tags", "accounts", "audit_log", "sessions"].contains(&table.as_str()) {
            assert!(copy[table].0 <= sums.0, "{table}");
        } else {
            assert_eq!(&copy[table], sums, "table {table} differs in the backup");
        }
    }
    assert!(copy["residents"].0 > 3000, "the community is in the backup");

    // Restored into a fresh place with the key copy: the same rows, and the ID
    // numbers open with the key.
    let fresh = tempfile::tempdir().unwrap();
    let restored = fresh.path().join("wangge.db");
    std::fs::copy(&key_copy, fresh.path().join("wangge.key")).unwrap();
    let restored_url = format!("sqlite:{}", restored.display());
    let out = wangge(&["restore", backup.to_str().unwrap(), "--database-url", &restored_url]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("residents 3"), "says what it restored: {stdout}");
    assert_eq!(table_sums(&restored), copy, "the restored database is the backup, row for row");
    runtime().block_on(async {
        let db = open(&restored_url).await;
        let page = wangge_store::registry::residents::list(&db, &Default::default(), Default::default()).await.unwrap();
        let id = &page.items[0].id;
        let number =
            wangge_store::registry::residents::reveal(&db, id, wangge_store::registry::residents::RevealField::IdCard)
                .await
                .unwrap()
                .expect("an ID number");
        assert_eq!(number.len(), 18, "the ID number opens with the restored key");
        db.close().await;
    });
}

#[test]
fn restore_refuses_a_served_database_and_a_wrong_key() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("wangge.db");
    let url = prepare(&file, false);
    let mut server = Served::start(&url, &dir.path().join("serve.log"));
    let session = login(&server.base, "zh-CN").3.expect("logged in");
    assert_eq!(new_tag(&server.base, &session, "before_backup").0, 201);
    let backup = dir.path().join("copy.db");
    let out = wangge(&["backup", "--database-url", &url, "--to", backup.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(backup.is_file());
    assert_eq!(new_tag(&server.base, &session, "after_backup").0, 201);

    // A second server on the same file is refused, and so is a restore under the first.
    let second = wangge(&["serve", "--database-url", &url, "--listen", "127.0.0.1:0"]);
    assert!(!second.status.success());
    assert!(text(&second.stderr).contains("another server is already using"), "{}", text(&second.stderr));
    let out = wangge(&["restore", backup.to_str().unwrap(), "--database-url", &url]);
    let stderr = text(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("stop it first") && stderr.contains("wangge.db.lock"), "{stderr}");
    assert!(stderr.contains(dir.path().join("wangge.key").to_str().unwrap()), "names the key: {stderr}");
    assert!(tag_codes(&file).contains("after_backup"), "nothing was changed");

    // Elsewhere, without the key, or with another key: refused, nothing written.
    let other = tempfile::tempdir().unwrap();
    let other_url = format!("sqlite:{}", other.path().join("wangge.db").display());
    let out = wangge(&["restore", backup.to_str().unwrap(), "--database-url", &other_url]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("there is no key at"), "{}", text(&out.stderr));
    wangge_store::Vault::create_key_file(&other.path().join("wangge.key")).unwrap();
    let out = wangge(&["restore", backup.to_str().unwrap(), "--database-url", &other_url]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("sealed with key"), "{}", text(&out.stderr));
    assert!(!other.path().join("wangge.db").exists());

    // A damaged file is refused.
    let damaged = dir.path().join("damaged.db");
    let mut bytes = std::fs::read(&backup).unwrap();
    let half = bytes.len() / 2;
    bytes.truncate(half);
    std::fs::write(&damaged, &bytes).unwrap();
    server.kill();
    let out = wangge(&["restore", damaged.to_str().unwrap(), "--database-url", &url]);
    assert!(!out.status.success(), "{}", text(&out.stdout));

    // Stopped: restored, the replaced file kept aside.
    let out = wangge(&["restore", backup.to_str().unwrap(), "--database-url", &url]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let codes = tag_codes(&file);
    assert!(codes.contains("before_backup") && !codes.contains("after_backup"));
    let aside: Vec<PathBuf> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("wangge.db.replaced-"))
        .filter(|p| !p.to_string_lossy().ends_with("-wal") && !p.to_string_lossy().ends_with("-shm"))
        .collect();
    assert_eq!(aside.len(), 1, "the replaced database is kept");
    assert!(tag_codes(&aside[0]).contains("after_backup"));
    integrity_ok(&file);

    // PostgreSQL is pointed at pg_dump.
    let out = wangge(&["backup", "--database-url", "postgres://nobody@127.0.0.1:1/none"]);
    assert!(!out.status.success());
}

#[test]
fn serve_backs_up_on_a_schedule() {
    let dir = tempfile::tempdir().unwrap();
    let url = prepare(&dir.path().join("wangge.db"), false);
    let to = dir.path().join("scheduled");
    let extra = ["--backup-every", "1s", "--backup-keep", "2", "--backup-to", to.to_str().unwrap()];
    let server = Served::start_with(&url, &dir.path().join("serve.log"), &extra);
    let session = login(&server.base, "zh-CN").3.expect("logged in");
    let started = Instant::now();
    let mut n = 0;
    while started.elapsed() < Duration::from_millis(4500) {
        n += 1;
        assert_eq!(new_tag(&server.base, &session, &format!("s_{n}")).0, 201);
        std::thread::sleep(Duration::from_millis(50));
    }
    let kept = if to.is_dir() { backups_in(&to) } else { Vec::new() };
    assert_eq!(kept.len(), 2, "a backup a second, the newest two kept: {kept:?}\n{}", server.log());
    for file in &kept {
        integrity_ok(file);
        assert_eq!(mode(file), 0o600);
    }
    assert!(!tag_codes(kept.last().unwrap()).is_empty());
}

#[test]
fn kill_9_under_concurrent_writes_keeps_every_acknowledged_write() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("wangge.db");
    let url = prepare(&file, false);
    let log = dir.path().join("serve.log");
    let mut all = Vec::new();
    let mut session = None;
    for round in 0..5 {
        let mut server = Served::start(&url, &log);
        let s = session.get_or_insert_with(|| login(&server.base, "zh-CN").3.expect("logged in")).clone();
        let writers = Writers::start(&server.base, &s, &format!("k{round}"));
        let started = Instant::now();
        while writers.count() < 100 && started.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(10));
        }
        std::thread::sleep(Duration::from_millis(fastrand::u64(50..300)));
        server.kill();
        let (acknowledged, errors) = writers.finish();
        assert!(errors.is_empty(), "round {round}: {errors:?}");
        assert!(acknowledged.len() >= 100, "round {round}: only {} writes", acknowledged.len());
        all.extend(acknowledged);
        let found = tag_codes(&file);
        let lost: Vec<&String> = all.iter().filter(|c| !found.contains(*c)).collect();
        assert!(lost.is_empty(), "round {round}: acknowledged writes lost: {lost:?}");
        integrity_ok(&file);
    }
    eprintln!("kill -9 five times: all {} acknowledged writes kept", all.len());
}

/// A tmpfs mounted for the test and unmounted afterwards.
struct Tmpfs(PathBuf);

impl Tmpfs {
    /// `None` (and a note) when this process may not mount, outside CI.
    fn mount(size_mb: u32) -> Option<(tempfile::TempDir, Self)> {
        let is_root = Command::new("id").arg("-u").output().is_ok_and(|o| text(&o.stdout).trim() == "0");
        let dir = tempfile::tempdir().unwrap();
        let mounted = is_root
            && Command::new("mount")
                .args(["-t", "tmpfs", "-o", &format!("size={size_mb}m,mode=0700"), "tmpfs"])
                .arg(dir.path())
                .status()
                .is_ok_and(|s| s.success());
        if !mounted {
            assert!(
                !ci(),
                "CI=true but a tmpfs could not be mounted (run the tests as root): the full-disk test must run"
            );
            eprintln!("note: full-disk test skipped: mounting a tmpfs needs root");
            return None;
        }
        let path = dir.path().to_owned();
        Some((dir, Self(path)))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Fills the file system of `filler` up to the last byte.
fn fill(filler: &Path) {
    let mut file = std::fs::OpenOptions::new().create(true).append(true).open(filler).unwrap();
    let block = vec![0u8; 64 * 1024];
    for size in [64 * 1024, 4096, 512, 1] {
        while file.write_all(&block[..size]).is_ok() {}
    }
}

#[test]
fn a_full_disk_refuses_changes_keeps_reads_and_recovers() {
    let Some((_dir, tmpfs)) = Tmpfs::mount(30) else { return };
    let file = tmpfs.0.join("wangge.db");
    let url = prepare(&file, false);
    // A session already open, last seen two minutes ago: its next request wants to
    // write the time down, and must not fail when it cannot.
    let reader = runtime().block_on(async {
        let db = open(&url).await;
        let admin = accounts::get_by_username(&db, "admin").await.unwrap();
        let new = sessions::create(&db, &admin.id, None).await.unwrap();
        sessions::age(&db, &new.secret, 120_000).await.unwrap();
        db.close().await;
        Session { cookie: format!("{}={}", wangge_web::auth::SESSION_COOKIE, new.secret), csrf: new.csrf_token }
    });
    let log_dir = tempfile::tempdir().unwrap();
    let mut server = Served::start(&url, &log_dir.path().join("serve.log"));
    let writer = login(&server.base, "zh-CN").3.expect("logged in");
    let writers = Writers::start(&server.base, &writer, "f");
    while writers.count() < 50 {
        std::thread::sleep(Duration::from_millis(10));
    }

    let filler = tmpfs.0.join("filler");
    fill(&filler);
    let started = Instant::now();
    while writers.disk_full.load(Ordering::Relaxed) == 0 {
        assert!(started.elapsed() < Duration::from_secs(30), "no write was refused on a full disk: {}", server.log());
        std::thread::sleep(Duration::from_millis(50));
        fill(&filler);
    }
    fill(&filler);
    let base = server.base.clone();

    // Changes: 503 disk_full with Retry-After, in the reader's language, on both faces.
    // (Tried a few times: a change may still fit in room the WAL file already has.)
    let (mut status, mut retry, mut body) = (0, None, String::new());
    for n in 0..20 {
        (status, retry, body) = new_tag(&base, &writer, &format!("while_full_{n}"));
        if status != 201 {
            break;
        }
    }
    assert_eq!((status, retry.as_deref()), (503, Some("30")), "{body}");
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["error"]["code"], "disk_full");
    assert!(json["error"]["message"].as_str().unwrap().contains("磁盘已满"), "{body}");
    let english = serde_json::json!({"code": "while_full_en", "name_zh": "满", "name_en": "full"}).to_string();
    let (status, _, body) =
        call(&base, "POST", "/api/v1/tags", Some(&writer), Some(("application/json", english)), "en");
    assert_eq!(status, 503);
    assert!(body.contains("disk is full"), "{body}");
    // Reads go on for people already logged in.
    for path in ["/api/v1/tags", "/registry", "/api/v1/areas"] {
        let (status, _, body) = get(&base, path, Some(&reader));
        assert_eq!(status, 200, "GET {path} on a full disk: {body}");
    }
    // Health says what is wrong; a new login gets the same clear refusal.
    let (status, _, body) = get(&base, "/healthz", None);
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("\"disk_full\""), "{body}");
    // A backup onto the full disk is refused before anything is written, naming the key.
    let out = wangge(&["backup", "--database-url", &url]);
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "{}", text(&out.stdout));
    assert!(stderr.contains("not enough free space") && stderr.contains("wangge.key"), "{stderr}");
    let (status, retry, body, _) = login(&base, "zh-CN");
    assert_eq!((status, retry.as_deref()), (503, Some("30")), "login on a full disk: {body}");
    assert!(body.contains("disk_full"), "{body}");
    let form = format!("username=admin&password={PASSWORD}");
    let (status, retry, page) =
        call(&base, "POST", "/login", None, Some(("application/x-www-form-urlencoded", form)), "zh-CN");
    assert_eq!((status, retry.as_deref()), (503, Some("30")), "{page}");
    assert!(page.contains("磁盘已满") && page.contains("<html"), "the login page says why: {page}");

    // Space returns: writes succeed again within seconds, without a restart.
    std::fs::remove_file(&filler).unwrap();
    let freed = Instant::now();
    let mut n = 0;
    loop {
        n += 1;
        if new_tag(&base, &writer, &format!("after_{n}")).0 == 201 {
            break;
        }
        assert!(
            freed.elapsed() < Duration::from_secs(10),
            "writes did not recover after space was freed: {}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let recovered_in = freed.elapsed();
    let before = writers.count();
    let started = Instant::now();
    while writers.count() < before + 100 {
        assert!(started.elapsed() < Duration::from_secs(10), "the writers did not recover: {}", server.log());
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(get(&base, "/healthz", None).0, 200);
    assert!(login(&base, "zh-CN").3.is_some(), "logins work again");
    let disk_full = writers.disk_full.load(Ordering::Relaxed);
    let (acknowledged, errors) = writers.finish();
    assert!(errors.is_empty(), "only disk_full refusals, never another error: {errors:?}");
    server.kill();

    let found = tag_codes(&file);
    let lost: Vec<&String> = acknowledged.iter().filter(|c| !found.contains(*c)).collect();
    assert!(lost.is_empty(), "acknowledged writes lost: {lost:?}");
    integrity_ok(&file);
    eprintln!(
        "full disk: {} writes kept, {disk_full} refused with disk_full, writes back {:.1} s after space was freed",
        acknowledged.len(),
        recovered_in.as_secs_f64()
    );
}

/// PostgreSQL is backed up with pg_dump and restored with pg_restore, as
/// docs/security.md says: every table comes back, and the key still opens the ID numbers.
#[test]
fn postgres_round_trips_through_pg_dump_and_pg_restore() {
    let Ok(admin_url) = std::env::var("WANGGE_TEST_POSTGRES") else {
        assert!(!ci(), "CI=true but WANGGE_TEST_POSTGRES is not set");
        eprintln!("note: pg_dump/pg_restore test skipped: set WANGGE_TEST_POSTGRES to run it");
        return;
    };
    let bin = pg_bin().expect("pg_dump and pg_restore under /usr/lib/postgresql/*/bin");
    let rt = runtime();
    let source = rt.block_on(wangge_store::testing::postgres()).unwrap();
    rt.block_on(async {
        let options = wangge_synth::GenerateOptions { communities: 1, seed: 9 };
        wangge_synth::generate(&source.db, &options, |_, _| {}).await.unwrap();
    });
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("wangge.dump");
    let out = Command::new(bin.join("pg_dump"))
        .args(["-Fc", "--no-owner", "-f"])
        .arg(&dump)
        .arg(&source.url)
        .output()
        .unwrap();
    assert!(out.status.success(), "pg_dump: {}", text(&out.stderr));

    let name = format!("wangge_restored_{}", fastrand::u64(..));
    let target_url = rt.block_on(wangge_store::create_postgres_database(&admin_url, &name)).unwrap();
    let out = Command::new(bin.join("pg_restore"))
        .args(["--no-owner", "--exit-on-error", "-d"])
        .arg(&target_url)
        .arg(&dump)
        .output()
        .unwrap();
    assert!(out.status.success(), "pg_restore: {}", text(&out.stderr));

    rt.block_on(async {
        let target = Db::connect(&target_url, DbOptions { max_connections: 2, key: KeySource::Vault(source.db.vault.clone()) })
            .await
            .unwrap();
        target.migrate().await.expect("the restored database takes the same key and needs no migration");
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename",
        )
        .fetch_all(&source.db.pool)
        .await
        .unwrap();
        assert!(tables.len() > 20, "{tables:?}");
        let mut residents = 0;
        for table in &tables {
            let sql = format!(
                "SELECT COUNT(*)::bigint AS n, COALESCE(md5(string_agg(t::text, '|' ORDER BY t::text)), '') AS sum FROM \"{table}\" t"
            );
            let sums = |db: &Db| {
                let sql = sql.clone();
                let pool = db.pool.clone();
                async move {
                    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_one(&pool).await.unwrap();
                    use sqlx::Row;
                    (row.get::<i64, _>("n"), row.get::<String, _>("sum"))
                }
            };
            let (before, after) = (sums(&source.db).await, sums(&target).await);
            assert_eq!(before, after, "table {table} after pg_restore");
            if table == "residents" {
                residents = before.0;
            }
        }
        assert!(residents > 2000, "the community was dumped and restored: {residents} residents");
        let page = wangge_store::registry::residents::list(&target, &Default::default(), Default::default()).await.unwrap();
        let number =
            wangge_store::registry::residents::reveal(&target, &page.items[0].id, wangge_store::registry::residents::RevealField::IdCard)
                .await
                .unwrap()
                .expect("an ID number");
        assert_eq!(number.len(), 18);
        target.close().await;
        // The restored copy is this test's own: the server keeps no database per run.
wangge_store::drop_postgres_database(&admin_url, &name).await.unwrap();
    });
}

/// The newest PostgreSQL client programs installed.
fn pg_bin() -> Option<PathBuf> {
    let mut dirs: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
        .filter(|(_, bin)| bin.join("pg_dump").is_file())
        .collect();
    dirs.sort();
    dirs.pop().map(|(_, bin)| bin)
}
