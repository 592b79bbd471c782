//! The `wangge` binary as a person runs it.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Runs the binary in English (`LANG=en_US.UTF-8`).
fn wangge(args: &[&str], db_url: &str) -> std::process::Output {
    wangge_in("en_US.UTF-8", args, db_url)
}

/// Runs the binary with `LANG` set to `lang` (and no `LC_ALL` to override it).
fn wangge_in(lang: &str, args: &[&str], db_url: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_wangge"))
        .args(args)
        .env("WANGGE_DATABASE_URL", db_url)
        .env("LANG", lang)
        .env_remove("LC_ALL")
        .output()
        .expect("run wangge")
}

/// A ledger file written by a third-party program (crates/ledger/tests/fixtures).
fn fixture(name: &str) -> String {
    format!("{}/crates/ledger/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// A database with the shared hierarchy and residential buildings 1 and 2, as the
/// ledger fixtures expect; returns its URL.
fn ledger_database(dir: &std::path::Path) -> String {
    let url = format!("sqlite:{}", dir.join("w.db").display());
    assert!(wangge(&["migrate"], &url).status.success());
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let db = wangge_store::Db::connect(&url, Default::default()).await.unwrap();
        wangge_store::registry::tags::ensure_standard(&db).await.unwrap();
        let grid = wangge_store::testing::hierarchy(&db).await.grid;
        for number in ["1", "2"] {
            let new = wangge_store::registry::buildings::NewBuilding {
                grid_id: grid.id.clone(),
                number: number.into(),
                address: None,
                kind: wangge_domain::BuildingKind::Residential,
                floors: Some(6),
                units: Some(2),
                lat: None,
                lng: None,
            };
            wangge_store::registry::buildings::create(&db, new).await.unwrap();
        }
    });
    url
}

fn audited_imports(url: &str) -> i64 {
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let db = wangge_store::Db::connect(url, Default::default()).await.unwrap();
        let row = sqlx::query("SELECT COUNT(*) AS n FROM audit_log WHERE action LIKE 'import.%'")
            .fetch_one(&db.pool)
            .await
            .unwrap();
        sqlx::Row::get::<i64, _>(&row, "n")
    })
}

#[test]
fn bad_files_are_said_in_the_users_language_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let url = ledger_database(dir.path());
    let community = "370602004011";
    for (file, zh, en) in [
        ("empty.xlsx", "文件是空的", "the file is empty"),
        ("renamed_text.xlsx", "不是 Excel 工作簿", "is not an Excel workbook"),
        ("password.xlsx", "设有打开密码", "protected by a password"),
        ("utf16_no_bom.csv", "无法识别这个文本文件的编码", "an encoding we cannot tell"),
        ("header_only.xlsx", "第 3 行是表头，但下面没有任何居民", "the header is on row 3 but no residents follow it"),
    ] {
        let path = fixture(file);
        for (lang, want) in [("zh_CN.UTF-8", zh), ("en_US.UTF-8", en)] {
            let out = wangge_in(lang, &["import", "residents", &path, "--community", community], &url);
            assert!(!out.status.success(), "{file} in {lang}");
            let stderr = text(&out.stderr);
            assert!(stderr.contains(want), "{file} in {lang}: {stderr}");
            assert!(!stderr.contains("Zip error"), "{stderr}");
        }
    }
    // LANG unset: Chinese, as on a clerk's machine.
    let out = Command::new(env!("CARGO_BIN_EXE_wangge"))
        .args(["import", "residents", &fixture("empty.xlsx"), "--community", community])
        .env("WANGGE_DATABASE_URL", &url)
        .env_remove("LANG")
        .env_remove("LC_ALL")
        .output()
        .unwrap();
    assert!(text(&out.stderr).contains("文件是空的"), "{}", text(&out.stderr));
    assert_eq!(audited_imports(&url), 0, "nothing imported, nothing audited");
}

#[test]
fn an_xls_ledger_then_next_months_update_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let url = ledger_database(dir.path());
    let community = "370602004011";
    let out =
        wangge_in("zh_CN.UTF-8", &["import", "residents", &fixture("ledger.xls"), "--community", community], &url);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("已导入 8 名居民"), "{}", text(&out.stdout));

    let next = fixture("ledger_next_month.xlsx");
    let out = wangge(&["import", "residents", &next, "--community", community], &url);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("import it as an update"), "{}", text(&out.stderr));

    let out = wangge(&["import", "residents", &next, "--community", community, "--update", "--dry-run"], &url);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("would update. 2 new, 3 changed, 4 unchanged, 1 missing from the ledger"), "{stdout}");
    assert!(stdout.contains("王磊: phone '139****6789' → '139****0000'"), "{stdout}");
    assert!(stdout.contains("missing from the ledger: 王小雨"), "{stdout}");
    assert!(stdout.contains("Dry run: nothing was written."), "{stdout}");

    let out = wangge(&["import", "residents", &next, "--community", community, "--update"], &url);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("updated. 2 new, 3 changed"), "{}", text(&out.stdout));
    // The first import, the update's own entry, and one per changed person.
    assert_eq!(audited_imports(&url), 1 + 1 + 3);

    let template = dir.path().join("template.xlsx");
    let out = wangge(&["import", "template", "-o", template.to_str().unwrap()], &url);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(wangge_ledger::table::read_table(&template).is_ok());
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn every_command_explains_itself() {
    for args in [
        vec!["--help"],
        vec!["demo", "--help"],
        vec!["serve", "--help"],
        vec!["migrate", "--help"],
        vec!["import", "residents", "--help"],
        vec!["import", "template", "--help"],
        vec!["export", "residents", "--help"],
        vec!["generate", "--help"],
        vec!["keys", "rotate", "--help"],
        vec!["backup", "--help"],
        vec!["restore", "--help"],
        vec!["bench", "search", "--help"],
    ] {
        let out = wangge(&args, "sqlite::memory:");
        assert!(out.status.success(), "{args:?}");
        assert!(text(&out.stdout).contains("Usage:"), "{args:?}");
    }
}

#[test]
fn generate_export_and_reimport_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("w.db").display());
    let out = wangge(&["generate", "--communities", "1", "--seed", "3"], &url);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("Generated 1 communities"), "{}", text(&out.stdout));

    let community = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let db = wangge_store::Db::connect(&url, Default::default()).await.unwrap();
        let filter = wangge_store::registry::areas::AreaFilter {
            level: Some(wangge_domain::AreaLevel::Community),
            ..Default::default()
        };
        wangge_store::registry::areas::list(&db, &filter, Default::default()).await.unwrap().items[0].code.clone()
    });
    let file = dir.path().join("out.xlsx");
    let out = wangge(&["export", "residents", "--community", &community, "-o", file.to_str().unwrap()], &url);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(file.metadata().unwrap().len() > 10_000);

    // The same people again: every row is a duplicate, so nothing is imported and
    // the command fails with the rows named.
    let out = wangge(&["import", "residents", file.to_str().unwrap(), "--community", &community, "--dry-run"], &url);
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(stderr.contains("row 3, column 身份证号: already registered"), "{stderr}");
    assert!(stderr.contains("nothing was imported"), "{stderr}");

    // Into a fresh database with only the same areas, the export imports cleanly:
    // buildings and households are recreated from the 楼栋 and 网格 columns.
    let url2 = format!("sqlite:{}", dir.path().join("w2.db").display());
    assert!(wangge(&["migrate"], &url2).status.success());
    copy_areas(&url, &url2);
    let out = wangge(&["import", "residents", file.to_str().unwrap(), "--community", &community], &url2);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("imported") && stdout.contains("new buildings"), "{stdout}");
    let count = |u: &str| {
        tokio::runtime::Runtime::new().unwrap().block_on(async {
            let db = wangge_store::Db::connect(u, Default::default()).await.unwrap();
            wangge_store::registry::residents::list(&db, &Default::default(), Default::default()).await.unwrap().total
        })
    };
    let imported = count(&url2);
    assert!(imported > 3000, "{imported}");
}

/// Recreates the areas (city to grids) of one database in another.
fn copy_areas(from: &str, to: &str) {
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let src = wangge_store::Db::connect(from, Default::default()).await.unwrap();
        let dst = wangge_store::Db::connect(to, Default::default()).await.unwrap();
        let all = wangge_store::registry::areas::list(
            &src,
            &Default::default(),
            wangge_store::PageRequest::new(Some(1), Some(500)),
        )
        .await
        .unwrap()
        .items;
        let mut new_ids: std::collections::HashMap<String, String> = std::collections::HashMap::new();
        for a in all {
            let new = wangge_store::registry::areas::NewArea {
                parent_id: a.parent_id.as_ref().map(|p| new_ids[p].clone()),
                level: a.level,
                code: a.code.clone(),
                name: a.name.clone(),
                boundary: None,
            };
            let made = wangge_store::registry::areas::create(&dst, new).await.unwrap();
            new_ids.insert(a.id, made.id);
        }
        wangge_store::registry::tags::ensure_standard(&dst).await.unwrap();
    });
}

#[test]
fn demo_serves_the_demo_community() {
    let dir = tempfile::tempdir().unwrap();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let listen = format!("127.0.0.1:{port}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_wangge"))
        .args(["demo", "--listen", &listen, "--data-dir", dir.path().to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut banner = String::new();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let started = Instant::now();
    while !banner.contains("Stop with Ctrl-C") && started.elapsed() < Duration::from_secs(120) {
        match lines.next() {
            Some(Ok(line)) => banner.push_str(&format!("{line}\n")),
            _ => break,
        }
    }
    assert!(banner.contains(&format!("http://{listen}/")), "{banner}");
    assert!(banner.contains("370602004011"), "{banner}");
    for username in
        ["admin", "city", "street", "secretary", "gridmember", "buildinghead", "party", "resident", "partymember"]
    {
        assert!(banner.contains(username), "a demo login for every role: {banner}");
    }
    let agent = ureq::Agent::config_builder().http_status_as_error(false).max_idle_connections(0).build().new_agent();
    let login = |username: &str| -> String {
        let body = serde_json::json!({"username": username, "password": "tashan-demo"});
        let resp = agent.post(&format!("http://{listen}/api/v1/session")).send_json(&body).unwrap();
        assert_eq!(resp.status(), 200, "{username} logs in");
        resp.headers().get("set-cookie").unwrap().to_str().unwrap().split(';').next().unwrap().to_owned()
    };
    let residents = |cookie: &str| -> (u16, serde_json::Value) {
        let url = format!("http://{listen}/api/v1/residents?per_page=1");
        let mut resp = agent.get(&url).header("cookie", cookie).call().unwrap();
        (resp.status().as_u16(), resp.body_mut().read_json().unwrap())
    };
    let (status, page) = residents(&login("secretary"));
    let (grid_status, grid_page) = residents(&login("gridmember"));
    let (city_status, city_page) = residents(&login("city"));
    let mine = |cookie: &str| -> serde_json::Value {
        let url = format!("http://{listen}/api/v1/me/demands?per_page=50");
        agent.get(&url).header("cookie", cookie).call().unwrap().body_mut().read_json().unwrap()
    };
    let member_items = mine(&login("gridmember"));
    let resident_items = mine(&login("resident"));
    // `partymember` is an in-service member of the demo's Party year: their page
    // lists their own confirmed service.
    let party_page = {
        let url = format!("http://{listen}/party/mine");
        let mut resp = agent.get(&url).header("cookie", &login("partymember")).call().unwrap();
        assert_eq!(resp.status(), 200);
        resp.body_mut().read_to_string().unwrap()
    };
    child.kill().unwrap();
    child.wait().unwrap();
    // The demo's organisations are units in their roles, with members; the property
    // company's include the buildinghead login, so a dispatch to it reaches someone.
    let file = rusqlite::Connection::open(dir.path().join("wangge.db")).unwrap();
    let count = |sql: &str| -> i64 { file.query_row(sql, [], |r| r.get(0)).unwrap() };
    assert!(count("SELECT COUNT(DISTINCT role) FROM unit_roles") >= 4, "the demo's units in several roles");
    assert!(count("SELECT COUNT(*) FROM unit_members") >= 10, "units have their contact people");
    let reachable = "SELECT COUNT(*) FROM unit_members m JOIN unit_roles r ON r.organisation_id = m.organisation_id
                     JOIN accounts a ON a.id = m.account_id WHERE r.role = 'property_company' AND a.username = 'buildinghead'";
    assert_eq!(count(reachable), 1);
    assert_eq!((status, page["total"].as_i64()), (200, Some(3260)), "the secretary sees the whole community");
    assert_eq!(grid_status, 200);
    let in_grid = grid_page["total"].as_i64().unwrap();
    assert!(in_grid > 100 && in_grid < 3260, "a grid member sees one grid: {in_grid}");
    assert_eq!(city_status, 200);
    let pseudonym = city_page["items"][0]["name"].as_str().unwrap();
    assert!(pseudonym.starts_with("居民"), "a city official sees pseudonyms, not names: {pseudonym}");
    // The demo's year of demands is handed to its logins: the grid member has open
    // items to work, the resident reports in several states, one waiting for a rating.
    assert!(member_items["total"].as_i64().unwrap() > 0, "the grid member's open items: {member_items}");
    let statuses: Vec<&str> =
        resident_items["items"].as_array().unwrap().iter().map(|d| d["status"].as_str().unwrap()).collect();
    assert!(statuses.len() >= 4, "the resident's own reports: {statuses:?}");
    assert!(statuses.contains(&"closed") && statuses.contains(&"rated"), "{statuses:?}");
    let linked = "SELECT COUNT(*) FROM party_members m JOIN accounts a ON a.id = m.account_id
                  WHERE a.username = 'partymember' AND m.kind = 'in_service'";
    assert_eq!(count(linked), 1, "partymember is an in-service member");
    assert!(party_page.contains("已确认"), "their confirmed service: {party_page}");
}

#[test]
fn accounts_and_tokens_from_the_command_line_are_audited() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("w.db").display());
    assert!(wangge(&["generate", "--communities", "1"], &url).status.success());
    let out = wangge(
        &["user", "add", "wangli", "--role", "网格员", "--scope", "370602001001001", "--password", "first-password-1"],
        &url,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("must be changed at first login"));
    let out = wangge(&["user", "add", "x", "--role", "grid_member", "--password", "short"], &url);
    assert!(!out.status.success(), "short passwords and missing scopes are refused");
    let out =
        wangge(&["token", "issue", "--name", "整合平台", "--role", "street_official", "--scope", "370602001000"], &url);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).trim().starts_with("wgt_"));
    assert!(wangge(&["user", "disable", "wangli"], &url).status.success());
    let listed = text(&wangge(&["user", "list"], &url).stdout);
    assert!(listed.contains("wangli") && listed.contains("(disabled)"), "{listed}");
    let actions = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let db = wangge_store::Db::connect(&url, Default::default()).await.unwrap();
        let page = wangge_store::audit::search(&db, &Default::default(), Default::default()).await.unwrap();
        page.items.into_iter().map(|e| (e.action, e.actor_name)).collect::<Vec<_>>()
    });
    for want in ["account.create", "token.issue", "account.disable"] {
        assert!(actions.iter().any(|(a, who)| a == want && who.starts_with("cli:")), "{want}: {actions:?}");
    }
}

#[test]
fn keys_rotate_reencrypts_and_swaps_the_key_file() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("w.db").display());
    let out = wangge(&["generate", "--communities", "1", "--seed", "5"], &url);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let key_file = dir.path().join("wangge.key");
    let old_key = std::fs::read_to_string(&key_file).expect("the key file is made beside the database");
    let everyone = || {
        tokio::runtime::Runtime::new().unwrap().block_on(async {
            let db = wangge_store::Db::connect(&url, Default::default()).await.unwrap();
            db.migrate().await.unwrap();
            let mut people: Vec<String> = wangge_store::registry::residents::all_for_export(&db, &Default::default())
                .await
                .unwrap()
                .into_iter()
                .map(|r| format!("{} {:?} {:?}", r.name, r.id_card, r.phone))
                .collect();
            people.sort();
            (db.vault.key_id().to_owned(), people)
        })
    };
    let (old_id, before) = everyone();
    assert!(before.len() > 3000);

    let out = wangge(&["keys", "rotate"], &url);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains(&format!("{} residents", before.len())), "{stdout}");
    let old_copy = dir.path().join(format!("wangge.key.{old_id}.old"));
    assert_eq!(std::fs::read_to_string(&old_copy).unwrap(), old_key, "the old key is kept beside the new");
    assert_ne!(std::fs::read_to_string(&key_file).unwrap(), old_key);
    let (new_id, after) = everyone();
    assert_ne!(new_id, old_id);
    assert_eq!(after, before, "the same people, now under the new key");

    // The old key no longer opens the database, and says which key it needs.
    let out = Command::new(env!("CARGO_BIN_EXE_wangge"))
        .args(["migrate", "--key-file", old_copy.to_str().unwrap()])
        .env("WANGGE_DATABASE_URL", &url)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains(&new_id), "{}", text(&out.stderr));
}

#[test]
fn digest_prints_the_overdue_and_posts_it_to_the_webhooks() {
    use std::sync::{Arc, Mutex};
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("w.db").display());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let received: Arc<Mutex<Vec<String>>> = Arc::default();
    let (want_overdue, hook_url) = runtime.block_on(async {
        let db = wangge_store::Db::connect(&url, Default::default()).await.unwrap();
        db.migrate().await.unwrap();
        wangge_synth::load_demo(&db).await.unwrap();
        let community = wangge_store::registry::areas::get_by_code(&db, "370602004011").await.unwrap();
        let now = wangge_domain::now_millis();
        let digest = wangge_store::demands::digest::digest(&db, Some(&community.path), now).await.unwrap();
        // A webhook receiver answering as a group robot does.
        let store = received.clone();
        let app = axum::Router::new().route(
            "/robot",
            axum::routing::post(move |body: String| {
                store.lock().unwrap().push(body);
                async { r#"{"errcode":0,"errmsg":"ok"}"# }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let hook_url = format!("http://{}/robot", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        let new = wangge_store::webhooks::NewWebhook {
            name: "社区值班群".into(),
            url: hook_url.clone(),
            format: Some("wecom".into()),
            secret: None,
            area: None,
            modules: vec![],
        };
        wangge_store::webhooks::create(&db, new, &community.path).await.unwrap();
        (digest.overdue, hook_url)
    });
    assert!(want_overdue > 0, "the demo keeps some items overdue");

    let out = wangge(&["digest", "--area", "370602004011"], &url);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let printed = text(&out.stdout);
    assert!(printed.starts_with(&format!("**超期预警**：超期 {want_overdue} 件")), "{printed}");
    assert!(printed.contains("塔山社区"), "per community and grid: {printed}");
    assert!(received.lock().unwrap().is_empty(), "posted only when asked");

    let out = wangge(&["digest", "--area", "370602004011", "--send-webhooks"], &url);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("delivered (200)"), "{}", text(&out.stderr));
    let bodies = received.lock().unwrap().clone();
    assert_eq!(bodies.len(), 1, "{hook_url}");
    let body: serde_json::Value = serde_json::from_str(&bodies[0]).unwrap();
    assert_eq!(body["msgtype"], "markdown");
    assert!(body["markdown"]["content"].as_str().unwrap().starts_with("**超期预警**"), "{body}");

    let out = wangge(&["digest", "--area", "999999999999"], &url);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("999999999999"), "says which area: {}", text(&out.stderr));
    drop(runtime);
}

/// A refusal is said from the catalogue in the language of the command line
/// (`WANGGE_LANG`, else the locale), with a non-zero exit.
#[test]
fn refusals_are_said_in_the_operators_language() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("w.db").display());
    assert!(wangge(&["migrate"], &url).status.success());
    let add = |lang: &str| {
        Command::new(env!("CARGO_BIN_EXE_wangge"))
            .args(["user", "add", "li.min", "--role", "platform_admin", "--password", "short"])
            .env("WANGGE_DATABASE_URL", &url)
            .env("WANGGE_LANG", lang)
            .output()
            .expect("run wangge")
    };
    let zh = add("zh-CN");
    assert!(!zh.status.success());
    assert!(text(&zh.stderr).contains("错误: 密码至少 10 位"), "{}", text(&zh.stderr));
    let en = add("en_US.UTF-8");
    assert!(!en.status.success());
    assert!(text(&en.stderr).contains("error: a password needs at least 10 characters"), "{}", text(&en.stderr));
}

/// Starting with a lost or wrong key: one sentence saying what to do, no chain of
/// causes, no backtrace, and no new key file left behind.
#[test]
fn a_missing_or_wrong_key_stops_the_start_with_one_sentence() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("w.db").display());
    let out = wangge(&["migrate"], &url);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let key = dir.path().join("wangge.key");
    let original = std::fs::read(&key).unwrap();

    std::fs::remove_file(&key).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_wangge"))
        .args(["migrate"])
        .env("WANGGE_DATABASE_URL", &url)
        .env("RUST_BACKTRACE", "1")
        .env("WANGGE_LOG", "off")
        .output()
        .unwrap();
    let said = text(&out.stderr);
    assert!(!out.status.success());
    assert!(said.starts_with("wangge: the key file") && said.contains("restore"), "{said}");
    assert_eq!(said.trim_end().lines().count(), 1, "one sentence: {said}");
    assert!(!key.exists(), "no new, useless key was made");

    // Another key than the database's.
    std::fs::write(&key, &original).unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let other_url = format!("sqlite:{}", elsewhere.path().join("o.db").display());
    assert!(wangge(&["migrate"], &other_url).status.success());
    let other_key = elsewhere.path().join("wangge.key");
    let out = Command::new(env!("CARGO_BIN_EXE_wangge"))
        .args(["migrate", "--key-file", other_key.to_str().unwrap()])
        .env("WANGGE_DATABASE_URL", &url)
        .env("RUST_BACKTRACE", "1")
        .env("WANGGE_LOG", "off")
        .output()
        .unwrap();
    let said = text(&out.stderr);
    assert!(!out.status.success());
    assert!(said.starts_with("wangge: this database's ID card numbers"), "{said}");
    assert_eq!(said.trim_end().lines().count(), 1, "one sentence: {said}");

    // A public URL that is not one is refused before anything starts.
    let out = wangge(&["serve", "--public-url", "wangge.example.cn"], &url);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("must start with https:// or http://"), "{}", text(&out.stderr));
}

/// `wangge figures verify` agrees after the demo, and exits non-zero naming a
/// summary row made wrong.
#[test]
fn figures_verify_finds_a_wrong_summary_row() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("w.db").display());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let db = wangge_store::Db::connect(&url, Default::default()).await.unwrap();
        db.migrate().await.unwrap();
        wangge_synth::load_demo(&db).await.unwrap();
        db.close().await;
    });
    let out = wangge(&["figures", "verify"], &url);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("15 summary tables agree"), "{}", text(&out.stderr));
    assert!(text(&out.stdout).is_empty());

    let tag = runtime.block_on(async {
        let db = wangge_store::Db::connect(&url, Default::default()).await.unwrap();
        let tag: String =
            sqlx::query_scalar("SELECT tag_id FROM resident_tag_counts WHERE n > 0 ORDER BY path LIMIT 1")
                .fetch_one(&db.pool)
                .await
                .unwrap();
        sqlx::query("UPDATE resident_tag_counts SET n = n - 1 WHERE tag_id = $1")
            .bind(&tag)
            .execute(&db.pool)
            .await
            .unwrap();
        db.close().await;
        tag
    });
    let out = wangge(&["figures", "verify"], &url);
    assert!(!out.status.success(), "a difference fails the command");
    let printed = text(&out.stdout);
    // The hand change reached the summary's roll-up too (migration 0068): its rows
    // at every level above differ from the rows as well.
    assert!(printed.lines().all(|l| l.contains(&tag)), "{printed}");
    assert!(printed.lines().any(|l| l.starts_with("resident_tag_counts ")), "{printed}");
    assert!(printed.lines().any(|l| l.starts_with("area_counts / resident_tag_counts ")), "{printed}");
    assert!(printed.contains("counted"), "{printed}");
    assert!(text(&out.stderr).contains("differ"), "{}", text(&out.stderr));

    // The places' summary (migration 0038) is checked the same way.
    runtime.block_on(async {
        let db = wangge_store::Db::connect(&url, Default::default()).await.unwrap();
        sqlx::query("UPDATE resident_tag_counts SET n = n + 1 WHERE tag_id = $1").bind(&tag).execute(&db.pool).await.unwrap();
        sqlx::query("UPDATE place_counts SET n = n + 2 WHERE kind = 'households' AND path = (SELECT MIN(path) FROM place_counts WHERE kind = 'households')")
            .execute(&db.pool)
            .await
            .unwrap();
        db.close().await;
    });
    let out = wangge(&["figures", "verify"], &url);
    assert!(!out.status.success(), "a difference fails the command");
    let printed = text(&out.stdout);
    assert!(printed.lines().all(|l| l.contains(" households")), "{printed}");
    assert_eq!(printed.lines().filter(|l| l.starts_with("place_counts ")).count(), 1, "{printed}");
    assert!(printed.lines().any(|l| l.starts_with("area_counts / place_counts households")), "{printed}");

    // And the roll-ups kept at every level (migrations 0062, 0063): a row of the
    // whole deployment's births changed by hand.
    runtime.block_on(async {
        let db = wangge_store::Db::connect(&url, Default::default()).await.unwrap();
        sqlx::query("UPDATE place_counts SET n = n - 2 WHERE kind = 'households' AND path = (SELECT MIN(path) FROM place_counts WHERE kind = 'households')")
            .execute(&db.pool)
            .await
            .unwrap();
        sqlx::query(
            "UPDATE resident_births SET n = n + 1 WHERE (path, gender, month) = \
             (SELECT path, gender, month FROM resident_births WHERE path = '/' ORDER BY month, gender LIMIT 1)",
        )
            .execute(&db.pool)
            .await
            .unwrap();
        db.close().await;
    });
    let out = wangge(&["figures", "verify"], &url);
    assert!(!out.status.success(), "a difference fails the command");
    let printed = text(&out.stdout);
    assert!(printed.lines().all(|l| l.starts_with("resident_births / ")), "{printed}");
    assert_eq!(printed.lines().count(), 1, "{printed}");
}

/// `wangge migrate` says what an upgrade applied: a fresh database's first and
/// last migration, then each migration missing from an older database (here the
/// SQLite files that change nothing, taken out of its record and so applied
/// again), then that there was nothing left to apply.
#[test]
fn migrate_says_which_migrations_it_applied() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("w.db").display());
    let tree = format!("{}/crates/store/migrations/sqlite", env!("CARGO_MANIFEST_DIR"));
    // (version, "0075 demand summaries add", only `SELECT 1`) of every file.
    let mut files: Vec<(i64, String, bool)> = std::fs::read_dir(&tree)
        .unwrap()
        .map(|entry| {
            let path = entry.unwrap().path();
            let stem = path.file_stem().unwrap().to_str().unwrap().to_owned();
            let (number, words) = stem.split_once('_').unwrap();
            let sql = std::fs::read_to_string(&path).unwrap();
            let statements: String =
                sql.lines().filter(|l| !l.trim_start().starts_with("--")).collect::<Vec<_>>().join(" ");
            let version = number.parse().unwrap();
            (version, format!("{number} {}", words.replace('_', " ")), statements.trim() == "SELECT 1;")
        })
        .collect();
    files.sort();
    let (first, last) = (&files[0].1, &files[files.len() - 1].1);

    let out = wangge(&["migrate"], &url);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    assert!(
        said.contains(&format!(
            "Applied {} migrations, {first} to {last}: the database schema is up to date",
            files.len()
        )),
        "{said}"
    );

    let idle: Vec<&(i64, String, bool)> = files.iter().filter(|f| f.2).collect();
    assert!(!idle.is_empty() && idle.len() <= 10, "{idle:?}");
    let file = rusqlite::Connection::open(dir.path().join("w.db")).unwrap();
    for (version, ..) in &idle {
        file.execute("DELETE FROM _sqlx_migrations WHERE version = ?1", [version]).unwrap();
    }
    drop(file);
    let out = wangge(&["migrate"], &url);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    assert!(
        said.contains(&format!("Applied {} migration(s): the database schema is up to date", idle.len())),
        "{said}"
    );
    let listed: Vec<&str> = said.lines().skip(1).map(str::trim).collect();
    assert_eq!(listed, idle.iter().map(|f| f.1.as_str()).collect::<Vec<_>>());

    let out = wangge(&["migrate"], &url);
    assert!(text(&out.stdout).contains("The database schema was already up to date"), "{}", text(&out.stdout));
}
