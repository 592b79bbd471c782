//! The JSON API over real HTTP, on every backend.

use serde_json::{Value, json};
use wangge_domain::IdCardNumber;

fn id_card(seq: u16) -> String {
    let birth = time::Date::from_calendar_date(1955, time::Month::October, 1).unwrap();
    IdCardNumber::compose(370602, birth, seq).as_str().to_owned()
}

fn created(response: (u16, Value)) -> Value {
    assert_eq!(response.0, 201, "{}", response.1);
    response.1
}

/// Builds city › … › grid › building › household through the API; returns the
/// community, grid and household.
fn place(s: &crate::common::Server) -> (Value, Value, Value) {
    let mut parent = Value::Null;
    let mut made = Vec::new();
    for (level, code, name) in [
        ("city", "370600000000", "烟台市"),
        ("district", "370602000000", "芝罘区"),
        ("street", "370602004000", "岐山街道"),
        ("community", "370602004011", "塔山社区"),
        ("grid", "370602004011001", "第一网格"),
    ] {
        let body = json!({"parent_id": parent, "level": level, "code": code, "name": name});
        let area = created(s.send("POST", "/api/v1/areas", &body));
        parent = area["id"].clone();
        made.push(area);
    }
    let grid = made.pop().unwrap();
    let community = made.pop().unwrap();
    // The registry is kept by the community's staff, not by administrators.
    let issued = created(s.send(
        "POST",
        "/api/v1/tokens",
        &json!({"name": "test", "role": "community_secretary", "scope": community["code"]}),
    ));
    s.use_auth(crate::common::Auth::Bearer(issued["secret"].as_str().unwrap().to_owned()));
    let building = created(s.send(
        "POST",
        "/api/v1/buildings",
        &json!({"grid_id": grid["id"], "number": "12", "kind": "residential", "floors": 6, "units": 2}),
    ));
    let household = created(s.send(
        "POST",
        "/api/v1/households",
        &json!({"building_id": building["id"], "unit": "1", "room": "301", "occupancy": "owner_occupied"}),
    ));
    (community, grid, household)
}

#[test]
fn health_and_openapi() {
    for s in crate::common::servers() {
        let (status, health) = s.get("/healthz");
        assert_eq!(status, 200);
        assert_eq!(health["status"], "ok");
        let want = match s.backend() {
            wangge_store::Backend::Sqlite => "sqlite",
            wangge_store::Backend::Postgres => "postgres",
        };
        assert_eq!(health["database"], want);
        let (status, doc) = s.get("/api/openapi.json");
        assert_eq!(status, 200);
        assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
        let paths: Vec<&str> = doc["paths"].as_object().unwrap().keys().map(String::as_str).collect();
        for route in [
            "/healthz",
            "/api/v1/areas",
            "/api/v1/areas/{id}",
            "/api/v1/areas/{id}/children",
            "/api/v1/areas/{id}/stats",
            "/api/v1/areas/{id}/posts",
            "/api/v1/buildings",
            "/api/v1/buildings/{id}",
            "/api/v1/households",
            "/api/v1/households/{id}",
            "/api/v1/residents",
            "/api/v1/residents/{id}",
            "/api/v1/residents/{id}/history",
            "/api/v1/residents/{id}/move-out",
            "/api/v1/residents/{id}/move-in",
            "/api/v1/residents/{id}/move-house",
            "/api/v1/organisations",
            "/api/v1/organisations/{id}",
            "/api/v1/tags",
        ] {
            assert!(paths.contains(&route), "{route} missing from the OpenAPI document");
        }
        let mut documented: Vec<String> = doc["paths"]
            .as_object()
            .unwrap()
            .iter()
            .flat_map(|(path, item)| {
                item.as_object().unwrap().keys().map(move |m| format!("{} {path}", m.to_uppercase()))
            })
            .collect();
        documented.sort();
        let table = wangge_web::route_table();
        let mut declared: Vec<String> = table
            .routes()
            .iter()
            .filter(|r| r.face == wangge_web::routes::Face::Api)
            .map(|r| format!("{} {}", r.method, r.path))
            .collect();
        declared.sort();
        assert_eq!(documented, declared, "the document lists exactly the API routes the server enforces");
        let under_api = table.routes().iter().filter(|r| r.path.starts_with("/api/v1")).count();
        assert_eq!(under_api + 1, documented.len(), "every route under /api/v1 is in the document, and /healthz");
    }
}

#[test]
fn residents_through_the_api() {
    for s in crate::common::servers() {
        s.runtime.block_on(wangge_store::registry::tags::ensure_standard(&s.db.db)).unwrap();
        let (community, _grid, household) = place(&s);
        let resident = created(s.send(
            "POST",
            "/api/v1/residents",
            &json!({"household_id": household["id"], "name": "张桂英", "id_card": id_card(4),
                    "phone": "13805351234", "relation": "head", "tags": ["独居老人"]}),
        ));
        assert_eq!(resident["birth_date"], "1955-10-01");
        assert_eq!(resident["id_card"], format!("370602********{}", &id_card(4)[14..]), "masked by default");
        assert_eq!(resident["phone"], "138****1234");
        assert_eq!(resident["gender"], "female");
        assert_eq!(resident["building_number"], "12");
        let rid = resident["id"].as_str().unwrap();

        for q in ["桂英", "1234", &id_card(4)[14..]] {
            let (status, page) = s.get(&format!("/api/v1/residents?area=370602004011&q={}", urlencode(q)));
            assert_eq!(status, 200);
            assert_eq!(page["total"], 1, "search {q}: {page}");
            assert_eq!(page["items"][0]["tags"], json!(["elderly_alone"]));
        }
        let (_, page) = s
            .get(&format!("/api/v1/residents?area={}&tag=elderly_alone&per_page=1", community["id"].as_str().unwrap()));
        assert_eq!((page["total"].as_i64(), page["per_page"].as_i64()), (Some(1), Some(1)));

        let (status, updated) =
            s.send("PATCH", &format!("/api/v1/residents/{rid}"), &json!({"political_status": "party_member"}));
        assert_eq!(status, 200, "{updated}");
        assert_eq!(updated["political_status"], "party_member");

        let (status, moved) = s.send(
            "POST",
            &format!("/api/v1/residents/{rid}/move-out"),
            &json!({"date": "2026-10-01", "note": "随子女迁往青岛"}),
        );
        assert_eq!(status, 200, "{moved}");
        assert_eq!(moved["status"], "moved_out");
        let (_, active) = s.get("/api/v1/residents?area=370602004011");
        assert_eq!(active["total"], 0, "moved-out people leave the current roll");
        let (_, everyone) = s.get("/api/v1/residents?area=370602004011&status=all");
        assert_eq!(everyone["total"], 1, "but are never deleted");
        let (_, history) = s.get(&format!("/api/v1/residents/{rid}/history"));
        let kinds: Vec<&str> = history.as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["registered", "updated", "moved_out"]);
        assert_eq!(history[2]["occurred_on"], "2026-10-01");

        let (_, stats) = s.get(&format!("/api/v1/areas/{}/stats", community["id"].as_str().unwrap()));
        assert_eq!(
            (stats["grids"].as_i64(), stats["buildings"].as_i64(), stats["residents"].as_i64()),
            (Some(1), Some(1), Some(0))
        );
    }
}

#[test]
fn errors_say_what_was_wrong() {
    for s in crate::common::servers() {
        let admin = s.auth.borrow().clone();
        let (_, _, household) = place(&s);
        let mut bad = id_card(6);
        bad.replace_range(17.., if bad.ends_with('1') { "2" } else { "1" });
        let (status, err) = s.send(
            "POST",
            "/api/v1/residents",
            &json!({"household_id": household["id"], "name": "甲", "id_card": bad}),
        );
        assert_eq!(status, 422);
        assert_eq!(err["error"]["code"], "invalid");
        assert_eq!(err["error"]["field"], "id_card", "{err}");
        // zh-CN unless the client asks otherwise; the same code and field either way.
        assert!(err["error"]["message"].as_str().unwrap().starts_with("身份证号校验位不符"), "{err}");
        s.accept_language.replace(Some("en-GB,en;q=0.9".into()));
        let (status, err) = s.send(
            "POST",
            "/api/v1/residents",
            &json!({"household_id": household["id"], "name": "甲", "id_card": bad, "phone": "12345"}),
        );
        assert_eq!((status, err["error"]["field"].as_str()), (422, Some("id_card")), "{err}");
        assert!(err["error"]["message"].as_str().unwrap().contains("checksum does not match"), "{err}");
        let (status, err) = s.get("/api/v1/residents/0190f2a4-7c1e-7b3a-9c4d-2e5f6a7b8c9d");
        assert_eq!((status, err["error"]["message"].as_str()), (404, Some("no such resident in your area")), "{err}");
        s.accept_language.replace(None);
        let (_, err) = s.get("/api/v1/residents/0190f2a4-7c1e-7b3a-9c4d-2e5f6a7b8c9d");
        assert_eq!(err["error"]["message"], "在您的范围内找不到这个居民", "{err}");

        let ok = json!({"household_id": household["id"], "name": "乙", "id_card": id_card(7)});
        created(s.send("POST", "/api/v1/residents", &ok));
        let (status, err) = s.send("POST", "/api/v1/residents", &ok);
        assert_eq!((status, err["error"]["code"].as_str()), (409, Some("conflict")), "{err}");

        let (status, err) = s.get("/api/v1/residents/0190f2a4-7c1e-7b3a-9c4d-2e5f6a7b8c9d");
        assert_eq!((status, err["error"]["code"].as_str()), (404, Some("not_found")));

        let (status, err) = s.post_raw("/api/v1/residents", "application/json", "{not json");
        assert_eq!((status, err["error"]["code"].as_str()), (400, Some("bad_request")), "{err}");

        let body = json!({"level": "district", "code": "370602000000", "name": "x"});
        let (status, err) = s.call(&admin, "POST", "/api/v1/areas", Some(&body));
        assert_eq!(status, 422);
        assert_eq!(err["error"]["message"], "区须有上级市", "{err}");
        assert_eq!(err["error"]["field"], "parent_id", "{err}");

        let (status, err) = s.get("/api/v1/residents?page=zero");
        assert_eq!((status, err["error"]["code"].as_str()), (400, Some("bad_request")));

        let (status, err) = s.get("/no/such/page");
        assert_eq!((status, err["error"]["code"].as_str()), (404, Some("not_found")));
    }
}

fn urlencode(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

/// Sends `method` to `path` without following redirects; the status and the `Allow` header.
fn raw(s: &crate::common::Server, auth: &crate::common::Auth, method: &str, path: &str) -> (u16, Option<String>) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .max_idle_connections(0)
        .build()
        .into();
    let mut request = http::Request::builder().method(method).uri(format!("{}{path}", s.base));
    match auth {
        crate::common::Auth::None => {}
        crate::common::Auth::Bearer(token) => request = request.header("authorization", format!("Bearer {token}")),
        crate::common::Auth::Session { cookie, csrf } => {
            request = request.header("cookie", cookie).header("x-csrf-token", csrf)
        }
    }
    let resp = agent.run(request.body(()).unwrap()).unwrap_or_else(|e| panic!("{method} {path}: {e}"));
    let allow = resp.headers().get("allow").and_then(|v| v.to_str().ok()).map(str::to_owned);
    (resp.status().as_u16(), allow)
}

/// Every route of the table, asked with every method: HEAD as GET, OPTIONS told what
/// the path answers without a login, any undeclared method refused with 405 and
/// `Allow`; nothing answers 500.
#[test]
fn every_method_is_answered_on_every_route() {
    let s = crate::common::servers().remove(0);
    let admin = s.auth.borrow().clone();
    let table = wangge_web::route_table();
    let mut wrong = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for route in table.routes() {
        // Unknown ids: the answers are refusals or 404s, and nothing is changed.
        let path = route.path.replace("{id}", "0000").replace("{photo}", "0000").replace("{step}", "accept");
        if !seen.insert(path.clone()) {
            continue; // one walk per path
        }
        let declared: Vec<&str> =
            table.routes().iter().filter(|r| r.path == route.path).map(|r| r.method.as_str()).collect();
        let (status, allow) = raw(&s, &crate::common::Auth::None, "OPTIONS", &path);
        let allow = allow.unwrap_or_default();
        if status != 204 || allow != table.allow(&route.path) {
            wrong.push(format!("OPTIONS {path}: {status}, Allow {allow:?}"));
        }
        for method in &declared {
            if !allow.split(", ").any(|m| m == *method) {
                wrong.push(format!("OPTIONS {path}: Allow {allow:?} misses {method}"));
            }
        }
        if declared.contains(&"GET") {
            if !allow.contains("HEAD") {
                wrong.push(format!("OPTIONS {path}: Allow {allow:?} misses HEAD"));
            }
            for auth in [&crate::common::Auth::None, &admin] {
                let get = raw(&s, auth, "GET", &path).0;
                let head = raw(&s, auth, "HEAD", &path).0;
                if head != get || head >= 500 {
                    wrong.push(format!("HEAD {path}: {head}, GET {get}"));
                }
            }
        }
        for method in ["GET", "POST", "PUT", "PATCH", "DELETE", "TRACE"] {
            if declared.contains(&method) {
                continue;
            }
            let (status, sent) = raw(&s, &admin, method, &path);
            if status != 405 || sent.as_deref() != Some(table.allow(&route.path).as_str()) {
                wrong.push(format!("{method} {path}: {status}, Allow {sent:?}"));
            }
        }
    }
    assert!(seen.len() > 100, "the walk covered the table: {} paths", seen.len());
    assert!(wrong.is_empty(), "{} answers were wrong:\n{}", wrong.len(), wrong.join("\n"));
}
