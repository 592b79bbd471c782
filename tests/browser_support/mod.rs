//! Real headless Chromium for `tests/browser.rs`: a `chromedriver` per test, a
//! WebDriver session through fantoccini, a server of our own with the Tashan demo and
//! a community secretary, and the helpers the tests share (forms, navigation, the
//! axe-core audit, screenshots).
//!
//! Outside CI a machine without Chromium, chromedriver or `node_modules/axe-core`
//! skips these tests with a line on stderr; with `WANGGE_BROWSER_TESTS=1` or
//! `CI=true` (both set by `.ci/run`, which installs them) a missing piece fails.

#![allow(dead_code)]

use std::io::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow, bail, ensure};
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};
use wangge_domain::Role;
use wangge_store::Db;

use crate::common::{self, Server};

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// The account every test logs in with: a secretary of the demo community.
pub const USERNAME: &str = "secretary";
pub const PASSWORD: &str = "browser-test-password-1";
/// How long a page, an element or a navigation may take before the test fails.
const PATIENCE: Duration = Duration::from_secs(10);

#[derive(Clone, Copy, Debug)]
pub struct Viewport {
    pub name: &'static str,
    pub width: u32,
    pub height: u32,
    /// Emulate a phone (touch, `<meta name=viewport>`) rather than size a window.
    pub mobile: bool,
}

pub const PHONE: Viewport = Viewport { name: "phone", width: 360, height: 800, mobile: true };
pub const DESKTOP: Viewport = Viewport { name: "desktop", width: 1280, height: 900, mobile: false };

/// The two languages of the interface: zh-CN by default, English with `?lang=en`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

impl Lang {
    /// The short name used in artifact file names.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }

    /// What `<html lang>` must say.
    pub fn html_lang(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    /// `path` asking for this language: English explicitly, Chinese as the default.
    pub fn path(self, path: &str) -> String {
        match self {
            Lang::Zh => path.to_owned(),
            Lang::En if path.contains('?') => format!("{path}&lang=en"),
            Lang::En => format!("{path}?lang=en"),
        }
    }
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn axe_path() -> PathBuf {
    repo_root().join("node_modules/axe-core/axe.min.js")
}

pub fn artifacts() -> PathBuf {
    repo_root().join("test-artifacts")
}

/// Why the browser tests cannot run here, if they cannot.
fn missing() -> Option<String> {
    for (path, what) in [(CHROMEDRIVER, "chromedriver"), (CHROMIUM, "chromium")] {
        if !Path::new(path).exists() {
            return Some(format!("{path} not found ({what}); .ci/run installs it"));
        }
    }
    let axe = axe_path();
    if !axe.exists() {
        return Some(format!("{} not found; `npm ci` in the repository root installs it", axe.display()));
    }
    None
}

/// Whether a missing browser is a failure rather than a skip.
fn required() -> bool {
    std::env::var("WANGGE_BROWSER_TESTS").is_ok_and(|v| v == "1") || std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Runs `scenario` in a fresh browser of the given size against a fresh server with
/// the demo loaded. Without a browser outside CI it prints why and returns. Any error
/// fails the test with the message, after saving a screenshot and the page's HTML
/// under `test-artifacts/failures/`.
pub fn run<F>(test: &str, viewport: Viewport, scenario: F)
where
    F: AsyncFnOnce(&Session) -> anyhow::Result<()>,
{
    run_at(test, viewport, None, scenario)
}

/// [`run`], with the browser reaching the server by the host name `host` (mapped to
/// 127.0.0.1 with `--host-resolver-rules`) instead of `127.0.0.1`: a PC elsewhere in
/// the office. Chromium treats 127.0.0.1 and localhost as secure origins and other
/// names over plain http as not, so cookies behave there as on a LAN.
pub fn run_at<F>(test: &str, viewport: Viewport, host: Option<&str>, scenario: F)
where
    F: AsyncFnOnce(&Session) -> anyhow::Result<()>,
{
    let name = format!("{test}-{}", viewport.name);
    if let Some(why) = missing() {
        if required() {
            panic!("{name}: {why} (WANGGE_BROWSER_TESTS=1 or CI=true: the browser tests must run)");
        }
        // Straight to stderr, past the test harness's capture, so that a skip is seen.
        let _ = writeln!(std::io::stderr(), "{name}: skipped: {why}");
        return;
    }
    let server = demo_server();
    let outcome = server.runtime.block_on(async {
        let session = Session::start(&server, viewport, &name, host).await?;
        let outcome = scenario(&session).await;
        let outcome = match outcome {
            Ok(()) => Ok(()),
            Err(e) => Err(session.keep_failure(e).await),
        };
        session.close().await;
        outcome
    });
    if let Err(e) = outcome {
        panic!("{name}: {e:#}");
    }
}

/// A server on a fresh SQLite database with the Tashan demo and the secretary account.
pub fn demo_server() -> Server {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let db = runtime.block_on(wangge_store::testing::sqlite());
    let server = common::start(runtime, db);
    server.runtime.block_on(wangge_synth::load_demo(&server.db.db)).expect("load the demo");
    server.create_account(USERNAME, Role::CommunitySecretary, &[wangge_synth::DEMO_COMMUNITY_CODE], PASSWORD);
    server
}

/// A `chromedriver` child process on a port of its own, with a fresh browser profile.
/// Dropping it ends the WebDriver session (which quits Chromium) and the process.
struct Driver {
    child: Child,
    port: u16,
    profile: tempfile::TempDir,
    session: Option<String>,
}

impl Driver {
    fn start() -> anyhow::Result<Driver> {
        let mut last = None;
        // A port found free may be taken before chromedriver binds it: try again.
        for _ in 0..3 {
            let profile = tempfile::tempdir()?;
            let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
            let log_path = profile.path().join("chromedriver.log");
            let log = std::fs::File::create(&log_path)?;
            let child = Command::new(CHROMEDRIVER)
                .arg(format!("--port={port}"))
                .stdin(Stdio::null())
                .stdout(log.try_clone()?)
                .stderr(log)
                .spawn()
                .with_context(|| format!("start {CHROMEDRIVER}"))?;
            let mut driver = Driver { child, port, profile, session: None };
            match driver.wait_ready() {
                Ok(()) => return Ok(driver),
                Err(e) => {
                    let log = std::fs::read_to_string(&log_path).unwrap_or_default();
                    last = Some(anyhow!("{e}; chromedriver said: {}", log.trim()));
                }
            }
        }
        Err(last.unwrap())
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn wait_ready(&mut self) -> anyhow::Result<()> {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(2)))
            .http_status_as_error(false)
            .build()
            .new_agent();
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!("chromedriver exited with {status}");
            }
            if let Ok(mut resp) = agent.get(&format!("{}/status", self.url())).call()
                && let Ok(body) = resp.body_mut().read_json::<Value>()
                && body["value"]["ready"] == json!(true)
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("chromedriver did not answer on port {} within {PATIENCE:?}", self.port);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Ends the session (Chromium quits with it) and the chromedriver process.
    fn stop(&mut self) {
        if let Some(id) = self.session.take() {
            let agent = ureq::Agent::config_builder()
                .timeout_global(Some(Duration::from_secs(10)))
                .http_status_as_error(false)
                .build()
                .new_agent();
            let _ = agent.delete(&format!("{}/session/{id}", self.url())).call();
        }
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One browser (one chromedriver, one WebDriver session) and the server it talks to.
pub struct Session {
    pub client: Client,
    pub base: String,
    pub db: Db,
    pub viewport: Viewport,
    name: String,
    driver: Driver,
}

impl Session {
    async fn start(server: &Server, viewport: Viewport, name: &str, host: Option<&str>) -> anyhow::Result<Session> {
        let mut driver = Driver::start()?;
        let mut args = vec![
            "--headless".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--no-first-run".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            format!("--window-size={},{}", viewport.width, viewport.height),
            format!("--user-data-dir={}", driver.profile.path().join("profile").display()),
            // The people this is for run Chinese browsers.
            "--lang=zh-CN".to_owned(),
        ];
        if let Some(host) = host {
            args.push(format!("--host-resolver-rules=MAP {host} 127.0.0.1"));
        }
        let base = match host {
            Some(host) => server.base.replace("127.0.0.1", host),
            None => server.base.clone(),
        };
        let mut chrome = json!({
            "binary": CHROMIUM,
            "args": args,
            "prefs": {"intl.accept_languages": "zh-CN,zh"},
        });
        if viewport.mobile {
            // Chromium will not make a window narrower than 500 px; a phone is emulated
            // instead (exact viewport, `<meta name=viewport>` honoured, touch).
            chrome["mobileEmulation"] = json!({
                "deviceMetrics": {
                    "width": viewport.width,
                    "height": viewport.height,
                    "pixelRatio": 1.0,
                    "mobile": true,
                    "touch": true,
                },
            });
        }
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": chrome,
            // A confirm() before a destructive action is accepted, as a user would.
            "unhandledPromptBehavior": "accept",
        });
        let Value::Object(capabilities) = capabilities else { unreachable!() };
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&driver.url())
            .await
            .context("open a WebDriver session in Chromium")?;
        driver.session = client.session_id().await?;
        let session = Session { client, base, db: server.db.db.clone(), viewport, name: name.into(), driver };
        // A page that asks for the device's width, as ours do.
        let probe = "data:text/html,<meta name=viewport content='width=device-width, initial-scale=1'>";
        session.client.goto(probe).await?;
        const SIZE: &str = "return [window.innerWidth, window.innerHeight, window.outerWidth, window.outerHeight];";
        let size = session.client.execute(SIZE, vec![]).await?;
        let px = |i: usize| size[i].as_i64().unwrap_or_default();
        if !viewport.mobile && (px(0), px(1)) != (i64::from(viewport.width), i64::from(viewport.height)) {
            // --window-size is the window's size, and headless Chromium leaves room for
            // a toolbar: grow the window until the page itself has the size asked for.
            let width = px(2) + i64::from(viewport.width) - px(0);
            let height = px(3) + i64::from(viewport.height) - px(1);
            session.client.set_window_size(width.try_into()?, height.try_into()?).await?;
        }
        let size = session.client.execute(SIZE, vec![]).await?;
        ensure!(
            size[0] == json!(viewport.width) && size[1] == json!(viewport.height),
            "the viewport is {}x{}, wanted {}x{}",
            size[0],
            size[1],
            viewport.width,
            viewport.height
        );
        Ok(session)
    }

    async fn close(self) {
        let Session { client, mut driver, .. } = self;
        let _ = client.close().await;
        driver.session = None;
        driver.stop();
    }

    /// Saves a screenshot and the HTML of the page the failure happened on and says
    /// where they are in the error.
    async fn keep_failure(&self, error: anyhow::Error) -> anyhow::Error {
        let dir = artifacts().join("failures");
        let _ = std::fs::create_dir_all(&dir);
        let url = self.client.current_url().await.map(|u| u.to_string()).unwrap_or_default();
        if let Ok(png) = self.client.screenshot().await {
            let _ = std::fs::write(dir.join(format!("{}.png", self.name)), png);
        }
        if let Ok(html) = self.client.source().await {
            let _ = std::fs::write(dir.join(format!("{}.html", self.name)), html);
        }
        error.context(format!("on {url} (screenshot and HTML in {}/{}.*)", dir.display(), self.name))
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn goto(&self, path: &str) -> anyhow::Result<()> {
        self.client.goto(&self.url(path)).await.with_context(|| format!("open {path}"))
    }

    /// The path and query of the page shown, e.g. `/registry/residents?q=王` (decoded).
    pub async fn location(&self) -> anyhow::Result<String> {
        let url = self.client.current_url().await?;
        let mut out = url.path().to_owned();
        if let Some(query) = url.query() {
            out.push('?');
            out.push_str(query);
        }
        Ok(percent_decode(&out))
    }

    /// The start of the page's visible text, for error messages.
    async fn page_summary(&self) -> String {
        let location = self.location().await.unwrap_or_default();
        let text = self
            .client
            .execute("return document.body ? document.body.innerText : document.documentElement.outerHTML;", vec![])
            .await
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let text: String = text.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(300).collect();
        format!("{location}, which says: {text:?}")
    }

    /// The element `css` selects, or an error naming the selector and the page.
    pub async fn find(&self, css: &str) -> anyhow::Result<Element> {
        match self.client.find(Locator::Css(css)).await {
            Ok(el) => Ok(el),
            Err(e) if e.is_no_such_element() => bail!("no element `{css}` on {}", self.page_summary().await),
            Err(e) => Err(e).with_context(|| format!("find `{css}`")),
        }
    }

    pub async fn find_all(&self, css: &str) -> anyhow::Result<Vec<Element>> {
        Ok(self.client.find_all(Locator::Css(css)).await?)
    }

    /// Waits for the element `css` selects to appear.
    pub async fn wait_for(&self, css: &str) -> anyhow::Result<Element> {
        match self.client.wait().at_most(PATIENCE).for_element(Locator::Css(css)).await {
            Ok(el) => Ok(el),
            Err(fantoccini::error::CmdError::WaitTimeout) => {
                bail!("no element `{css}` appeared within {PATIENCE:?} on {}", self.page_summary().await)
            }
            Err(e) => Err(e).with_context(|| format!("wait for `{css}`")),
        }
    }

    pub async fn text(&self, css: &str) -> anyhow::Result<String> {
        Ok(self.find(css).await?.text().await?.trim().to_owned())
    }

    /// The current value of the form field `css` selects.
    pub async fn value(&self, css: &str) -> anyhow::Result<String> {
        Ok(self.find(css).await?.prop("value").await?.unwrap_or_default())
    }

    /// Replaces what the field `css` holds with `text`, typed as a user would.
    pub async fn fill(&self, css: &str, text: &str) -> anyhow::Result<()> {
        let field = self.find(css).await?;
        field.clear().await.with_context(|| format!("clear `{css}`"))?;
        field.send_keys(text).await.with_context(|| format!("type into `{css}`"))?;
        Ok(())
    }

    /// Sets the date field `css` to `day` (YYYY-MM-DD) as its date picker would:
    /// typing into a date field follows the browser's locale (month first in
    /// English, year first in Chinese), a picker does not.
    pub async fn set_date(&self, css: &str, day: &str) -> anyhow::Result<()> {
        self.find(css).await?;
        self.client
            .execute("document.querySelector(arguments[0]).value = arguments[1];", vec![css.into(), day.into()])
            .await
            .with_context(|| format!("set the date `{css}`"))?;
        Ok(())
    }

    /// Clicks `css` and waits until the page it leads to has loaded.
    pub async fn click_and_load(&self, css: &str) -> anyhow::Result<()> {
        let old = self.client.find(Locator::Css("html")).await?;
        let target = self.find(css).await?;
        target.click().await.with_context(|| format!("click `{css}`"))?;
        let deadline = Instant::now() + PATIENCE;
        // The old document's root goes stale once the new page has replaced it.
        while old.tag_name().await.is_ok() {
            if Instant::now() > deadline {
                bail!(
                    "clicking `{css}` did not load a new page within {PATIENCE:?}; still on {}",
                    self.page_summary().await
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.wait_loaded().await
    }

    async fn wait_loaded(&self) -> anyhow::Result<()> {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let state = self.client.execute("return document.readyState;", vec![]).await;
            if matches!(&state, Ok(Value::String(s)) if s == "complete") {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("the page did not finish loading within {PATIENCE:?}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// `<html lang>` of the page shown.
    pub async fn html_lang(&self) -> anyhow::Result<String> {
        let lang = self.client.execute("return document.documentElement.getAttribute('lang');", vec![]).await?;
        Ok(lang.as_str().unwrap_or_default().to_owned())
    }

    pub async fn expect_lang(&self, lang: Lang) -> anyhow::Result<()> {
        let got = self.html_lang().await?;
        ensure!(
            got == lang.html_lang(),
            "<html lang> is {got:?}, wanted {:?} on {}",
            lang.html_lang(),
            self.page_summary().await
        );
        Ok(())
    }

    /// Fails unless the page shown is at `path` (ignoring the query).
    pub async fn expect_path(&self, path: &str) -> anyhow::Result<()> {
        let url = self.client.current_url().await?;
        ensure!(url.path() == path, "expected to be on {path}, but on {}", self.page_summary().await);
        Ok(())
    }

    /// Logs in through the form and checks that it lands on `/registry`.
    /// The secretary lands on the cockpit; the scenarios about the registry then
    /// open it, as the secretary would from the navigation.
    pub async fn login(&self, lang: Lang) -> anyhow::Result<()> {
        self.login_as(USERNAME, PASSWORD, lang, "/cockpit").await?;
        self.goto(&lang.path("/registry")).await
    }

    /// Logs in as someone else and checks where they land.
    pub async fn login_as(&self, username: &str, password: &str, lang: Lang, lands_on: &str) -> anyhow::Result<()> {
        self.goto(&lang.path("/login")).await?;
        self.fill("form#login input#username", username).await?;
        self.fill("form#login input#password", password).await?;
        self.click_and_load("form#login button#login-submit").await?;
        self.expect_path(lands_on).await.context("after logging in")
    }

    /// An account made directly in the store, with its password already its own.
    pub async fn account(&self, username: &str, role: wangge_domain::Role, scopes: &[&str]) -> anyhow::Result<String> {
        let new = wangge_store::security::accounts::NewAccount {
            username: username.into(),
            display_name: username.into(),
            role,
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
            password: PASSWORD.into(),
        };
        let account = wangge_store::security::accounts::create(&self.db, new).await?;
        wangge_store::security::accounts::set_password(&self.db, &account.id, PASSWORD, false).await?;
        Ok(account.id)
    }

    /// Writes a PNG of the viewport to `test-artifacts/screenshots/{page}-{phone|desktop}-{lang}.png`.
    pub async fn screenshot(&self, page: &str, lang: Lang) -> anyhow::Result<PathBuf> {
        let dir = artifacts().join("screenshots");
        std::fs::create_dir_all(&dir)?;
        let path = dir.join(format!("{page}-{}-{}.png", self.viewport.name, lang.code()));
        let png = self.client.screenshot().await.context("take a screenshot")?;
        std::fs::write(&path, png)?;
        Ok(path)
    }

    /// Runs axe-core on the page shown and returns what it found.
    pub async fn axe(&self) -> anyhow::Result<Vec<Violation>> {
        let source = std::fs::read_to_string(axe_path()).context("read axe-core")?;
        self.client.execute(&source, vec![]).await.context("load axe-core into the page")?;
        const RUN: &str = r#"
            const done = arguments[arguments.length - 1];
            axe.run(document, { resultTypes: ['violations'] })
                .then(r => done(JSON.stringify(r.violations.map(v => ({
                    id: v.id,
                    impact: v.impact,
                    help: v.help,
                    nodes: v.nodes.map(n => ({ target: n.target, summary: n.failureSummary || '' })),
                })))))
                .catch(e => done('axe failed: ' + e));
        "#;
        let answer = self.client.execute_async(RUN, vec![]).await.context("run axe-core")?;
        let text = answer.as_str().ok_or_else(|| anyhow!("axe-core answered {answer}"))?;
        let list: Value = serde_json::from_str(text).map_err(|_| anyhow!("{text}"))?;
        let list = list.as_array().ok_or_else(|| anyhow!("axe-core answered {text}"))?;
        Ok(list.iter().map(Violation::from_json).collect())
    }

    /// Fails when the page is wider than the viewport (a phone would scroll sideways),
    /// naming the elements that stick out.
    pub async fn expect_no_sideways_scroll(&self) -> anyhow::Result<()> {
        const WIDEST: &str = r#"
            const width = document.documentElement.clientWidth;
            if (document.documentElement.scrollWidth <= width) return [];
            const out = [];
            for (const el of document.body.querySelectorAll('*')) {
                const r = el.getBoundingClientRect();
                if (r.right > width + 1 && !out.some(o => el.closest(o.sel))) {
                    let sel = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
                        + (el.classList.length ? '.' + [...el.classList].join('.') : '');
                    out.push({ sel: el.id ? '#' + el.id : el.tagName.toLowerCase(), desc: sel + ' right=' + Math.round(r.right) });
                }
            }
            return out.slice(0, 10).map(o => o.desc);
        "#;
        let wide = self.client.execute(WIDEST, vec![]).await?;
        let wide = wide.as_array().cloned().unwrap_or_default();
        ensure!(
            wide.is_empty(),
            "{} is wider than the {}px viewport; sticking out: {}",
            self.location().await?,
            self.viewport.width,
            wide.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", ")
        );
        Ok(())
    }
}

/// One axe-core rule broken on a page, with the elements that break it.
#[derive(Clone, Debug)]
pub struct Violation {
    pub id: String,
    pub impact: Option<String>,
    pub help: String,
    pub nodes: Vec<ViolationNode>,
}

#[derive(Clone, Debug)]
pub struct ViolationNode {
    pub target: Value,
    pub summary: String,
}

impl Violation {
    fn from_json(v: &Value) -> Violation {
        let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
        Violation {
            id: text(&v["id"]),
            impact: v["impact"].as_str().map(str::to_owned),
            help: text(&v["help"]),
            nodes: v["nodes"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|n| ViolationNode { target: n["target"].clone(), summary: text(&n["summary"]) })
                .collect(),
        }
    }

    /// "serious" and "critical" fail the audit; "moderate" and "minor" are reported.
    pub fn fails(&self) -> bool {
        matches!(self.impact.as_deref(), Some("serious" | "critical"))
    }
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "[{}] {} ({})", self.impact.as_deref().unwrap_or("?"), self.id, self.help)?;
        for node in &self.nodes {
            let summary = node.summary.split_whitespace().collect::<Vec<_>>().join(" ");
            write!(f, "\n      {} — {summary}", node.target)?;
        }
        Ok(())
    }
}

/// Decodes `%XX` escapes (UTF-8), so that paths compare with what was typed.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"), 16)
        {
            out.push(b);
            i += 3;
        } else {
            out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
