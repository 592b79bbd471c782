//! A real server on a free port over a fresh database, and an HTTP client for it.

#![allow(dead_code)]

use serde_json::Value;
use wangge_store::testing::{self, TestDb};

pub struct Server {
    pub base: String,
    pub db: TestDb,
    pub runtime: tokio::runtime::Runtime,
    agent: ureq::Agent,
}

/// One server per backend available (SQLite always, PostgreSQL when configured).
pub fn servers() -> Vec<Server> {
    let runtime = || tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let mut out = Vec::new();
    let probe = runtime();
    let count = probe.block_on(async { testing::all().await.len() });
    drop(probe);
    for i in 0..count {
        let rt = runtime();
        let db =
            rt.block_on(async { if i == 0 { testing::sqlite().await } else { testing::postgres().await.unwrap() } });
        out.push(start(rt, db));
    }
    out
}

pub fn start(runtime: tokio::runtime::Runtime, db: TestDb) -> Server {
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let state = wangge_web::AppState { db: db.db.clone() };
    runtime.spawn(async move { wangge_web::serve(listener, state).await });
    let agent = ureq::Agent::config_builder().http_status_as_error(false).build().new_agent();
    Server { base, db, runtime, agent }
}

impl Server {
    pub fn get(&self, path: &str) -> (u16, Value) {
        let mut resp = self.agent.get(&format!("{}{path}", self.base)).call().unwrap();
        let status = resp.status().as_u16();
        (status, resp.body_mut().read_json().unwrap_or(Value::Null))
    }

    pub fn send(&self, method: &str, path: &str, body: &Value) -> (u16, Value) {
        let url = format!("{}{path}", self.base);
        let mut resp = match method {
            "POST" => self.agent.post(&url).send_json(body),
            "PATCH" => self.agent.patch(&url).send_json(body),
            other => panic!("unsupported method {other}"),
        }
        .unwrap();
        let status = resp.status().as_u16();
        (status, resp.body_mut().read_json().unwrap_or(Value::Null))
    }

    pub fn post_raw(&self, path: &str, content_type: &str, body: &str) -> (u16, Value) {
        let mut resp =
            self.agent.post(&format!("{}{path}", self.base)).header("content-type", content_type).send(body).unwrap();
        let status = resp.status().as_u16();
        (status, resp.body_mut().read_json().unwrap_or(Value::Null))
    }

    pub fn backend(&self) -> wangge_store::Backend {
        self.db.backend()
    }
}
