//! A real server on a free port over a fresh database, and an HTTP client for it.

#![allow(dead_code)]

use std::cell::RefCell;

use serde_json::Value;
use wangge_domain::{Role, Vocabulary};
use wangge_store::security::accounts::{self, NewAccount};
use wangge_store::testing::{self, TestDb};

pub const ADMIN_PASSWORD: &str = "admin-password-1";

/// How a request authenticates.
#[derive(Clone, Debug)]
pub enum Auth {
    None,
    Bearer(String),
    Session { cookie: String, csrf: String },
}

pub struct Server {
    pub base: String,
    pub db: TestDb,
    pub runtime: tokio::runtime::Runtime,
    pub agent: ureq::Agent,
    /// What `get` and `send` use.
    pub auth: RefCell<Auth>,
    /// The `Accept-Language` of the JSON calls (none by default: the server's zh-CN).
    pub accept_language: RefCell<Option<String>>,
}

/// One server per backend available (SQLite always, PostgreSQL when configured),
/// each with a platform administrator `admin` logged in.
pub fn servers() -> Vec<Server> {
    servers_at(&wangge_web::Site::default())
}

/// [`servers`], reached as `site` says (a public URL, trusted proxies).
pub fn servers_at(site: &wangge_web::Site) -> Vec<Server> {
    let runtime = || tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let mut out = Vec::new();
    let probe = runtime();
    let count = probe.block_on(async { testing::all().await.len() });
    drop(probe);
    for i in 0..count {
        let rt = runtime();
        let db =
            rt.block_on(async { if i == 0 { testing::sqlite().await } else { testing::postgres().await.unwrap() } });
        let server = start_at(rt, db, site.clone());
        server.create_account("admin", Role::PlatformAdmin, &[], ADMIN_PASSWORD);
        let admin = server.login("admin", ADMIN_PASSWORD).2;
        server.use_auth(admin);
        out.push(server);
    }
    out
}

pub fn start(runtime: tokio::runtime::Runtime, db: TestDb) -> Server {
    start_at(runtime, db, wangge_web::Site::default())
}

/// [`start`], reached as `site` says.
pub fn start_at(runtime: tokio::runtime::Runtime, db: TestDb, site: wangge_web::Site) -> Server {
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let state = wangge_web::AppState::new(db.db.clone()).with_site(site);
    runtime.spawn(async move { wangge_web::serve(listener, state).await });
    // No connection reuse: the server may close a connection whose request body it
    // refused unread, and a reused one would then fail on the next request.
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_idle_connections(0)
        .max_idle_connections_per_host(0)
        .build()
        .new_agent();
    Server { base, db, runtime, agent, auth: RefCell::new(Auth::None), accept_language: RefCell::new(None) }
}

impl Server {
    pub fn use_auth(&self, auth: Auth) {
        *self.auth.borrow_mut() = auth;
    }

    /// An account made directly in the store, with no forced password change.
    pub fn create_account(&self, username: &str, role: Role, scopes: &[&str], password: &str) -> String {
        self.runtime.block_on(async {
            let db = &self.db.db;
            let new = NewAccount {
                username: username.into(),
                display_name: username.into(),
                role,
                scopes: scopes.iter().map(|s| s.to_string()).collect(),
                password: password.into(),
            };
            let account = accounts::create(db, new).await.unwrap();
            accounts::set_password(db, &account.id, password, false).await.unwrap();
            account.id
        })
    }

    /// A bearer token made directly in the store.
    pub fn token(&self, role: Role, scope: &str) -> Auth {
        self.runtime.block_on(async {
            let new = accounts::NewApiToken {
                name: role.code().to_owned(),
                role,
                scope: scope.into(),
                expires_in_days: None,
            };
            Auth::Bearer(accounts::issue_token(&self.db.db, new, None).await.unwrap().1)
        })
    }

    /// Logs in; returns the status, the body and the session (or `Auth::None`).
    pub fn login(&self, username: &str, password: &str) -> (u16, Value, Auth) {
        let body = serde_json::json!({"username": username, "password": password});
        let mut resp = self.agent.post(&format!("{}/api/v1/session", self.base)).send_json(&body).unwrap();
        let status = resp.status().as_u16();
        let cookie = resp
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(str::to_owned);
        let value: Value = resp.body_mut().read_json().unwrap_or(Value::Null);
        let auth = match (cookie, value["csrf_token"].as_str()) {
            (Some(cookie), Some(csrf)) => Auth::Session { cookie, csrf: csrf.to_owned() },
            _ => Auth::None,
        };
        (status, value, auth)
    }

    pub fn get(&self, path: &str) -> (u16, Value) {
        self.call(&self.auth.borrow().clone(), "GET", path, None)
    }

    pub fn send(&self, method: &str, path: &str, body: &Value) -> (u16, Value) {
        self.call(&self.auth.borrow().clone(), method, path, Some(body))
    }

    /// A request with the given authentication; JSON in, JSON (or null) out.
    pub fn call(&self, auth: &Auth, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
        let (status, text) = self.call_text(auth, method, path, body);
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub fn call_text(&self, auth: &Auth, method: &str, path: &str, body: Option<&Value>) -> (u16, String) {
        let url = format!("{}{path}", self.base);
        let mut request = http::Request::builder().method(method).uri(&url);
        match auth {
            Auth::None => {}
            Auth::Bearer(token) => request = request.header("authorization", format!("Bearer {token}")),
            Auth::Session { cookie, csrf } => request = request.header("cookie", cookie).header("x-csrf-token", csrf),
        }
        if let Some(lang) = &*self.accept_language.borrow() {
            request = request.header("accept-language", lang);
        }
        let result = match body {
            Some(b) => self.agent.run(request.header("content-type", "application/json").body(b.to_string()).unwrap()),
            None => self.agent.run(request.body(()).unwrap()),
        };
        let mut resp = result.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = resp.status().as_u16();
        (status, resp.body_mut().read_to_string().unwrap_or_default())
    }

    /// An HTML form post (the CSRF token of a session goes in the form, as a page sends it).
    /// Redirects are not followed: the answer's own status is what is checked.
    pub fn call_form(&self, auth: &Auth, path: &str, body: &str) -> (u16, Value) {
        let url = format!("{}{path}", self.base);
        let mut request = http::Request::builder()
            .method("POST")
            .uri(&url)
            .header("content-type", "application/x-www-form-urlencoded");
        let mut body = body.to_owned();
        match auth {
            Auth::None => {}
            Auth::Bearer(token) => request = request.header("authorization", format!("Bearer {token}")),
            Auth::Session { cookie, csrf } => {
                request = request.header("cookie", cookie);
                body.push_str(&format!("&csrf_token={csrf}"));
            }
        }
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .max_idle_connections(0)
            .build()
            .into();
        let mut resp = agent.run(request.body(body).unwrap()).unwrap();
        let status = resp.status().as_u16();
        let text = resp.body_mut().read_to_string().unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    pub fn post_raw(&self, path: &str, content_type: &str, body: &str) -> (u16, Value) {
        let url = format!("{}{path}", self.base);
        let mut request = http::Request::builder().method("POST").uri(&url).header("content-type", content_type);
        match &*self.auth.borrow() {
            Auth::None => {}
            Auth::Bearer(token) => request = request.header("authorization", format!("Bearer {token}")),
            Auth::Session { cookie, csrf } => request = request.header("cookie", cookie).header("x-csrf-token", csrf),
        }
        let mut resp = self.agent.run(request.body(body.to_owned()).unwrap()).unwrap();
        let status = resp.status().as_u16();
        (status, resp.body_mut().read_json().unwrap_or(Value::Null))
    }

    /// City 370600 › district › street › community 370602004011 › grid
    /// 370602004011001, made through the API as the current caller; returns the five
    /// areas, city first.
    pub fn areas_down_to_grid(&self) -> Vec<Value> {
        let mut parent = Value::Null;
        let mut made = Vec::new();
        for (level, code) in [
            ("city", "370600000000"),
            ("district", "370602000000"),
            ("street", "370602004000"),
            ("community", "370602004011"),
            ("grid", "370602004011001"),
        ] {
            let body = serde_json::json!({"parent_id": parent, "level": level, "code": code, "name": code});
            let (status, area) = self.send("POST", "/api/v1/areas", &body);
            assert_eq!(status, 201, "{area}");
            parent = area["id"].clone();
            made.push(area);
        }
        made
    }

    pub fn backend(&self) -> wangge_store::Backend {
        self.db.backend()
    }
}
