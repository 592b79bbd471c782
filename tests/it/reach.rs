//! How people reach the server (issue 13): the session cookie over plain http on
//! an office LAN and over https, the public URL in posters and Open311 links,
//! forwarded headers believed from trusted proxies only, and `no-store` on answers
//! that carry personal data.

use crate::common::{Auth, Server};
use serde_json::json;
use wangge_domain::Role;
use wangge_web::Site;

/// Logs in through the API with extra request headers; the `Set-Cookie` answered.
fn login_cookie(s: &Server, headers: &[(&str, &str)]) -> String {
    let mut request = http::Request::builder()
        .method("POST")
        .uri(format!("{}/api/v1/session", s.base))
        .header("content-type", "application/json");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let body = json!({"username": "admin", "password": crate::common::ADMIN_PASSWORD}).to_string();
    let resp = s.agent.run(request.body(body).unwrap()).unwrap();
    assert_eq!(resp.status(), 200);
    resp.headers().get("set-cookie").unwrap().to_str().unwrap().to_owned()
}

fn secure(cookie: &str) -> bool {
    cookie.split(';').any(|part| part.trim().eq_ignore_ascii_case("secure"))
}

#[test]
fn the_session_cookie_is_secure_only_when_the_browser_is_on_https() {
    // On the office PC or another PC of its LAN, over plain http: a Secure cookie
    // would be dropped and nobody could log in.
    let s = crate::common::servers_at(&Site::default()).remove(0);
    let cookie = login_cookie(&s, &[]);
    assert!(!secure(&cookie) && cookie.contains("HttpOnly"), "{cookie}");
    let cookie = login_cookie(&s, &[("x-forwarded-proto", "https")]);
    assert!(!secure(&cookie), "no proxy is trusted: X-Forwarded-Proto is anyone's to write: {cookie}");

    // Behind nginx or Caddy with TLS, trusted.
    let proxied = crate::common::servers_at(&Site::new(None, &["127.0.0.1".into()]).unwrap()).remove(0);
    assert!(secure(&login_cookie(&proxied, &[("x-forwarded-proto", "https")])));
    assert!(!secure(&login_cookie(&proxied, &[("x-forwarded-proto", "http")])));

    // With an https public URL.
    let public = crate::common::servers_at(&Site::new(Some("https://wangge.example.cn"), &[]).unwrap()).remove(0);
    assert!(secure(&login_cookie(&public, &[])));
}

#[test]
fn posters_and_open311_links_use_the_public_url() {
    let site = Site::new(Some("https://wangge.example.cn/"), &[]).unwrap();
    for s in crate::common::servers_at(&site) {
        let h = s.runtime.block_on(wangge_store::testing::hierarchy(&s.db.db));
        let secretary = s.token(Role::CommunitySecretary, wangge_store::testing::COMMUNITY);
        let (status, poster) =
            s.call_text(&secretary, "GET", &format!("/registry/buildings/{}/poster", h.building.id), None);
        assert_eq!(status, 200, "{poster}");
        // The address as the page writes it (HTML-escaped) and as the QR code holds it.
        let shown = poster.replace("&#x2f;", "/");
        let link = format!("https://wangge.example.cn/report/{}?k=", h.building.id);
        assert!(shown.contains(&link), "the poster points at the public address: {poster}");
        assert!(!poster.contains("127.0.0.1"), "never at the PC it was printed on");

        let body = json!({"building_id": h.building.id, "category": "environment", "title": "垃圾满了"});
        let (status, item) = s.call(&secretary, "POST", "/api/v1/demands", Some(&body));
        assert_eq!(status, 201, "{item}");
        let id = item["id"].as_str().unwrap();
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";
        s.runtime.block_on(wangge_store::demands::attachments::add(&s.db.db, id, "垃圾.png", png)).unwrap();
        let key = match s.token(Role::GridMember, wangge_store::testing::GRID) {
            Auth::Bearer(secret) => secret,
            _ => unreachable!(),
        };
        let (status, one) = s.call(&Auth::None, "GET", &format!("/open311/v2/requests/{id}.json?api_key={key}"), None);
        assert_eq!(status, 200, "{one}");
        let media = one[0]["media_url"].as_str().unwrap();
        assert!(media.starts_with("https://wangge.example.cn/open311/v2/media/"), "{media}");
    }
}

#[test]
fn forwarded_addresses_count_only_from_trusted_proxies() {
    // Throttling and the audit log see the browser's address: a trusted proxy's
    // X-Forwarded-For, never a client's own.
    let failed_from = |s: &Server, forwarded: &str| {
        let mut request = http::Request::builder()
            .method("POST")
            .uri(format!("{}/api/v1/session", s.base))
            .header("content-type", "application/json")
            .header("x-forwarded-for", forwarded);
        request = request.header("x-forwarded-proto", "http");
        let body = json!({"username": "nobody", "password": "wrong-password"}).to_string();
        assert_eq!(s.agent.run(request.body(body).unwrap()).unwrap().status(), 401);
        let entries = s.runtime.block_on(async {
            let filter = wangge_store::audit::AuditFilter::default();
            wangge_store::audit::search(&s.db.db, &filter, Default::default()).await.unwrap().items
        });
        let failed = entries.iter().find(|e| e.action == "login_failed").expect("the failure is audited");
        failed.address.clone().unwrap_or_default()
    };
    let direct = crate::common::servers_at(&Site::default()).remove(0);
    assert_eq!(failed_from(&direct, "203.0.113.9"), "127.0.0.1");
    let proxied = crate::common::servers_at(&Site::new(None, &["127.0.0.0/8".into()]).unwrap()).remove(0);
    assert_eq!(failed_from(&proxied, "203.0.113.9, 127.0.0.1"), "203.0.113.9");
}

#[test]
fn answers_with_personal_data_are_not_stored_by_browsers_or_proxies() {
    for s in crate::common::servers() {
        let h = s.runtime.block_on(wangge_store::testing::hierarchy(&s.db.db));
        let member = s.token(Role::GridMember, wangge_store::testing::GRID);
        let Auth::Bearer(secret) = &member else { unreachable!() };
        for path in [
            format!("/api/v1/households/{}", h.household.id),
            format!("/api/v1/residents?area={}", wangge_store::testing::GRID),
            format!("/registry/buildings/{}", h.building.id),
        ] {
            let resp = s
                .agent
                .get(&format!("{}{path}", s.base))
                .header("authorization", &format!("Bearer {secret}"))
                .call()
                .unwrap();
            assert_eq!(resp.status(), 200, "{path}");
            let cache = resp.headers().get("cache-control").map(|v| v.to_str().unwrap().to_owned());
            assert_eq!(cache.as_deref(), Some("no-store"), "{path}");
        }
    }
}

#[test]
fn webhooks_link_to_the_item_at_the_public_url() {
    use std::sync::{Arc, Mutex};
    let site = Site::new(Some("https://wangge.example.cn"), &[]).unwrap();
    let s = crate::common::servers_at(&site).remove(0);
    let h = s.runtime.block_on(wangge_store::testing::hierarchy(&s.db.db));
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let store = seen.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |body: String| {
            let store = store.clone();
            async move {
                store.lock().unwrap().push(body);
                r#"{"errcode":0,"errmsg":"ok"}"#
            }
        }),
    );
    let listener = s.runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    s.runtime.spawn(async move { axum::serve(listener, app).await });
    for format in ["json", "wecom"] {
        let (status, hook) = s.send("POST", "/api/v1/webhooks", &json!({"name": format, "url": url, "format": format}));
        assert_eq!(status, 201, "{hook}");
    }
    let secretary = s.token(Role::CommunitySecretary, wangge_store::testing::COMMUNITY);
    let body = json!({"building_id": h.building.id, "category": "environment", "title": "楼道堆物"});
    let (status, item) = s.call(&secretary, "POST", "/api/v1/demands", Some(&body));
    assert_eq!(status, 201, "{item}");
    let id = item["id"].as_str().unwrap();
    let (status, e) = s.call(&secretary, "POST", &format!("/api/v1/demands/{id}/accept"), Some(&json!({})));
    assert_eq!(status, 200, "{e}");
    for _ in 0..100 {
        if seen.lock().unwrap().len() >= 2 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let got = seen.lock().unwrap().clone();
    assert_eq!(got.len(), 2, "{got:?}");
    let link = format!("https://wangge.example.cn/demands/{id}");
    let json_body = got.iter().find(|b| b.contains("\"event\"")).expect("the JSON event");
    let payload: serde_json::Value = serde_json::from_str(json_body).unwrap();
    assert_eq!(payload["demand"]["link"], link.as_str());
    let wecom = got.iter().find(|b| b.contains("msgtype")).expect("the WeCom message");
    assert!(wecom.contains(&format!("({link})")), "{wecom}");
}
