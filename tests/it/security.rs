//! Logins, sessions, tokens, CSRF, headers and the audit trail, over real HTTP.

use crate::common::{Auth, Server};
use serde_json::{Value, json};
use wangge_domain::{IdCardNumber, Role};

fn community(s: &Server) -> (Value, Value) {
    let mut made = s.areas_down_to_grid();
    let grid = made.pop().unwrap();
    (made.pop().unwrap(), grid)
}

/// A bungalow with one household in the grid, made by `who`; returns the household.
fn household(s: &Server, who: &Auth, grid: &Value, number: &str) -> Value {
    let body = json!({"grid_id": grid["id"], "number": number, "kind": "bungalow"});
    let (status, b) = s.call(who, "POST", "/api/v1/buildings", Some(&body));
    assert_eq!(status, 201, "{b}");
    let body = json!({"building_id": b["id"], "room": "1", "occupancy": "owner_occupied"});
    let (status, h) = s.call(who, "POST", "/api/v1/households", Some(&body));
    assert_eq!(status, 201, "{h}");
    h
}

fn audit_actions(s: &Server) -> Vec<String> {
    let (status, page) = s.call(&admin(s), "GET", "/api/v1/audit?per_page=500", None);
    assert_eq!(status, 200, "{page}");
    page["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap().to_owned()).collect()
}

fn admin(s: &Server) -> Auth {
    s.login("admin", crate::common::ADMIN_PASSWORD).2
}

#[test]
fn repeated_failures_lock_the_account_without_saying_whether_it_exists() {
    for s in crate::common::servers() {
        let (status, body, _) = s.login("admin", "wrong password");
        assert_eq!((status, body["error"]["code"].as_str()), (401, Some("invalid_credentials")));
        let (status_unknown, unknown, _) = s.login("nobody-here", "wrong password");
        assert_eq!(status_unknown, 401);
        assert_eq!(unknown["error"]["message"], body["error"]["message"], "same words for unknown names");
        for _ in 0..4 {
            s.login("admin", "wrong password");
        }
        let (status, body, _) = s.login("admin", crate::common::ADMIN_PASSWORD);
        assert_eq!((status, body["error"]["code"].as_str()), (429, Some("too_many_attempts")), "{body}");
        assert!(body["error"]["message"].as_str().unwrap().contains("分钟后再试"), "{body}");
        let actions = s.runtime.block_on(async {
            let filter = wangge_store::audit::AuditFilter::default();
            wangge_store::audit::search(&s.db.db, &filter, Default::default()).await.unwrap().items
        });
        assert!(actions.iter().filter(|e| e.action == "login_failed").count() >= 6);
        assert!(actions.iter().any(|e| e.action == "login_throttled" && e.outcome == "denied"));
    }
}

#[test]
fn sessions_expire_and_end_at_logout() {
    for s in crate::common::servers() {
        let session = admin(&s);
        assert_eq!(s.call(&session, "GET", "/api/v1/me", None).0, 200);
        let Auth::Session { cookie, .. } = &session else { panic!("a session") };
        let secret = cookie.split_once('=').unwrap().1.to_owned();
        let idle = wangge_store::security::sessions::IDLE_TIMEOUT_MS + 1000;
        s.runtime.block_on(wangge_store::security::sessions::age(&s.db.db, &secret, idle)).unwrap();
        let (status, body) = s.call(&session, "GET", "/api/v1/me", None);
        assert_eq!((status, body["error"]["code"].as_str()), (401, Some("unauthenticated")), "an idle session expires");

        let fresh = admin(&s);
        assert_eq!(s.call(&fresh, "DELETE", "/api/v1/session", None).0, 204);
        assert_eq!(s.call(&fresh, "GET", "/api/v1/me", None).0, 401, "logged out");
    }
}

#[test]
fn state_changes_through_a_session_need_the_csrf_token() {
    for s in crate::common::servers() {
        let Auth::Session { cookie, .. } = admin(&s) else { panic!() };
        let forged = Auth::Session { cookie, csrf: "not-the-token".into() };
        let body = json!({"code": "x1", "name_zh": "测试", "name_en": "test"});
        let (status, answer) = s.call(&forged, "POST", "/api/v1/tags", Some(&body));
        assert_eq!((status, answer["error"]["code"].as_str()), (403, Some("csrf")));
        let (status, _) = s.call(&admin(&s), "POST", "/api/v1/tags", Some(&body));
        assert_eq!(status, 201, "with the token it works");
    }
}

#[test]
fn revoked_tokens_stop_working_at_once() {
    for s in crate::common::servers() {
        let (community, _) = community(&s);
        let (status, issued) = s.send(
            "POST",
            "/api/v1/tokens",
            &json!({"name": "整合平台", "role": "street_official", "scope": community["code"]}),
        );
        assert_eq!(status, 201, "{issued}");
        let token = Auth::Bearer(issued["secret"].as_str().unwrap().to_owned());
        let stats = format!("/api/v1/areas/{}/stats", community["id"].as_str().unwrap());
        assert_eq!(s.call(&token, "GET", &stats, None).0, 200);
        assert_eq!(
            s.call(&token, "GET", "/api/v1/organisations", None).0,
            403,
            "officials see figures, not the registry"
        );
        let id = issued["token"]["id"].as_str().unwrap();
        assert_eq!(s.send("DELETE", &format!("/api/v1/tokens/{id}"), &Value::Null).0, 204);
        let (status, body) = s.call(&token, "GET", &stats, None);
        assert_eq!((status, body["error"]["code"].as_str()), (401, Some("unauthenticated")));
    }
}

#[test]
fn new_accounts_must_change_their_password_first() {
    for s in crate::common::servers() {
        let (_, grid) = community(&s);
        let body = json!({"username": "wangli", "display_name": "王丽", "role": "grid_member",
                          "scopes": [grid["code"]], "password": "first-password-1"});
        let (status, account) = s.send("POST", "/api/v1/accounts", &body);
        assert_eq!(status, 201, "{account}");
        assert_eq!(account["must_change_password"], true);
        let (status, _, session) = s.login("wangli", "first-password-1");
        assert_eq!(status, 200);
        let (status, body) = s.call(&session, "GET", "/api/v1/residents", None);
        assert_eq!((status, body["error"]["code"].as_str()), (403, Some("password_change_required")));
        let change = json!({"current_password": "first-password-1", "new_password": "short"});
        assert_eq!(s.call(&session, "POST", "/api/v1/me/password", Some(&change)).0, 422, "too short");
        let change = json!({"current_password": "first-password-1", "new_password": "my-own-password-2"});
        assert_eq!(s.call(&session, "POST", "/api/v1/me/password", Some(&change)).0, 204);
        let (status, page) = s.call(&session, "GET", "/api/v1/residents", None);
        assert_eq!(status, 200, "{page}");
        let (_, me) = s.call(&session, "GET", "/api/v1/me", None);
        assert_eq!(me["role"], "grid_member");
        assert_eq!(me["scopes"][0]["code"], "370602004011001");

        let id = account["id"].as_str().unwrap();
        assert_eq!(s.send("POST", &format!("/api/v1/accounts/{id}/disable"), &json!({})).0, 200);
        assert_eq!(s.call(&session, "GET", "/api/v1/me", None).0, 401, "disabling ends sessions");
        assert_eq!(s.login("wangli", "my-own-password-2").0, 401);
    }
}

#[test]
fn every_answer_carries_the_security_headers() {
    for s in crate::common::servers() {
        let resp = ureq::get(&format!("{}/healthz", s.base)).call().unwrap();
        let h = resp.headers();
        let csp = h.get("content-security-policy").unwrap().to_str().unwrap();
        assert!(
            csp.contains("frame-ancestors 'none'")
                && csp.contains("script-src 'self'")
                && !csp.contains("unsafe-inline")
        );
        assert_eq!(h.get("x-content-type-options").unwrap(), "nosniff");
        assert_eq!(h.get("referrer-policy").unwrap(), "no-referrer");
        // A body announced over the limit is refused before it is read.
        use std::io::{Read, Write};
        let mut conn = std::net::TcpStream::connect(s.base.trim_start_matches("http://")).unwrap();
        let head = "POST /api/v1/tags HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 3145728\r\n\r\n{";
        conn.write_all(head.as_bytes()).unwrap();
        let mut answer = [0u8; 64];
        let n = conn.read(&mut answer).unwrap();
        let status_line = String::from_utf8_lossy(&answer[..n]);
        assert!(status_line.starts_with("HTTP/1.1 413"), "{status_line}");
    }
}

#[test]
fn audited_actions_leave_entries_with_before_and_after() {
    for s in crate::common::servers() {
        s.runtime.block_on(wangge_store::registry::tags::ensure_standard(&s.db.db)).unwrap();
        let (community, grid) = community(&s);
        let staff = s.token(Role::CommunityStaff, community["code"].as_str().unwrap());
        let b = s
            .call(
                &staff,
                "POST",
                "/api/v1/buildings",
                Some(&json!({"grid_id": grid["id"], "number": "3", "kind": "residential"})),
            )
            .1;
        let h = s
            .call(
                &staff,
                "POST",
                "/api/v1/households",
                Some(&json!({"building_id": b["id"], "room": "201", "occupancy": "owner_occupied"})),
            )
            .1;
        let birth = time::Date::from_calendar_date(1949, time::Month::October, 1).unwrap();
        let id_card = IdCardNumber::compose(370602, birth, 21);
        let (status, r) = s.call(&staff, "POST", "/api/v1/residents", Some(&json!({"household_id": h["id"], "name": "赵大爷", "id_card": id_card.as_str(), "phone": "13905350000"})));
        assert_eq!(status, 201, "{r}");
        let rid = r["id"].as_str().unwrap();
        s.call(&staff, "PATCH", &format!("/api/v1/residents/{rid}"), Some(&json!({"notes": "独居"})));
        let (status, revealed) = s.call(
            &staff,
            "POST",
            &format!("/api/v1/residents/{rid}/reveal"),
            Some(&json!({"field": "id_card", "reason": "办理低保核对身份"})),
        );
        assert_eq!(status, 200, "{revealed}");
        assert_eq!(revealed["value"], id_card.as_str());
        let (status, _) = s.call(
            &staff,
            "POST",
            &format!("/api/v1/residents/{rid}/reveal"),
            Some(&json!({"field": "phone", "reason": ""})),
        );
        assert_eq!(status, 422, "a reveal needs a reason");
        s.call(&staff, "POST", &format!("/api/v1/residents/{rid}/move-out"), Some(&json!({"note": "迁出"})));
        let (status, csv) = s.call_text(&admin(&s), "GET", "/api/v1/audit/export", None);
        assert_eq!(status, 200);
        assert!(csv.starts_with("at,actor,address,action"));

        let actions = audit_actions(&s);
        for want in [
            "login",
            "area.create",
            "building.create",
            "household.create",
            "resident.create",
            "resident.update",
            "reveal.id_card",
            "resident.move_out",
            "audit.export",
        ] {
            assert!(actions.iter().any(|a| a == want), "no audit entry for {want}: {actions:?}");
        }
        let entries = s.runtime.block_on(async {
            let filter =
                wangge_store::audit::AuditFilter { action: Some("resident.update".into()), ..Default::default() };
            wangge_store::audit::search(&s.db.db, &filter, Default::default()).await.unwrap().items
        });
        let update = &entries[0];
        assert!(update.before.as_deref().unwrap().contains("\"notes\":\"\""), "{update:?}");
        assert!(update.after.as_deref().unwrap().contains("独居"));
        assert!(!update.after.as_deref().unwrap().contains(id_card.as_str()), "no plaintext ID in the log");
        let reveal = s.runtime.block_on(async {
            let filter =
                wangge_store::audit::AuditFilter { action: Some("reveal.id_card".into()), ..Default::default() };
            wangge_store::audit::search(&s.db.db, &filter, Default::default()).await.unwrap().items
        });
        assert_eq!(reveal[0].reason.as_deref(), Some("办理低保核对身份"));
        assert_eq!(reveal[0].actor_name, "token:community_staff");

        // A grid member's log view is limited to their scope: the community-wide
        // account entries are not theirs to read.
        let secretary = s.token(Role::CommunitySecretary, community["code"].as_str().unwrap());
        let (status, page) = s.call(&secretary, "GET", "/api/v1/audit?per_page=500", None);
        assert_eq!(status, 200);
        let seen: Vec<&str> = page["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert!(seen.contains(&"resident.update") && !seen.contains(&"login"), "{seen:?}");
    }
}

#[test]
fn officials_see_pseudonyms_until_they_break_the_glass() {
    for s in crate::common::servers() {
        s.runtime.block_on(wangge_store::registry::tags::ensure_standard(&s.db.db)).unwrap();
        let (community, grid) = community(&s);
        let staff = s.token(Role::CommunityStaff, community["code"].as_str().unwrap());
        let h = household(&s, &staff, &grid, "7");
        let birth = time::Date::from_calendar_date(1940, time::Month::March, 3).unwrap();
        let body = json!({"household_id": h["id"], "name": "孙奶奶", "id_card": IdCardNumber::compose(370602, birth, 31).as_str(),
                          "phone": "13905351111", "tags": ["独居老人", "残疾人"], "notes": "听力差"});
        let (status, r) = s.call(&staff, "POST", "/api/v1/residents", Some(&body));
        assert_eq!(status, 201, "{r}");

        let street = s.token(Role::StreetOfficial, "370602004000");
        let (status, page) = s.call(&street, "GET", "/api/v1/residents", None);
        assert_eq!(status, 200, "{page}");
        let seen = &page["items"][0];
        assert_ne!(seen["name"], "孙奶奶");
        assert!(seen["name"].as_str().unwrap().starts_with("居民"));
        assert_eq!((seen["id_card"].is_null(), seen["phone"].is_null(), seen["room"].is_null()), (true, true, true));
        assert_eq!(seen["birth_date"], "1940");
        assert_eq!(seen["notes"], "");
        assert_eq!(seen["tags"], json!(["elderly_alone"]), "sensitive tags (disability) are hidden");
        let (status, _) = s.call(&street, "GET", "/api/v1/residents?q=孙", None);
        assert_eq!(status, 403, "no searching by name without access");
        let (status, _) = s.call(
            &street,
            "PATCH",
            &format!("/api/v1/residents/{}", r["id"].as_str().unwrap()),
            Some(&json!({"notes": "x"})),
        );
        assert_eq!(status, 403, "a grant never allows changes");

        let (status, _) =
            s.call(&street, "POST", "/api/v1/access-grants", Some(&json!({"area": community["code"], "reason": "x"})));
        assert_eq!(status, 422, "a grant needs a real reason");
        let (status, grant) = s.call(
            &street,
            "POST",
            "/api/v1/access-grants",
            Some(&json!({"area": community["code"], "reason": "信访件2026-113核实当事人", "hours": 1})),
        );
        assert_eq!(status, 201, "{grant}");
        let in_community = format!("/api/v1/residents?area={}&q=孙", community["code"].as_str().unwrap());
        let (_, page) = s.call(&street, "GET", &in_community, None);
        assert_eq!(page["items"][0]["name"], "孙奶奶", "names are shown while the grant lasts: {page}");
        assert_eq!(page["items"][0]["phone"], "139****1111", "still masked: revealing is another right");

        s.runtime.block_on(wangge_store::security::grants::expire(&s.db.db, grant["id"].as_str().unwrap())).unwrap();
        let (_, page) = s.call(&street, "GET", "/api/v1/residents", None);
        assert_ne!(page["items"][0]["name"], "孙奶奶", "and hidden again when it lapses");
        let actions = audit_actions(&s);
        assert!(actions.iter().any(|a| a == "access.grant"), "{actions:?}");
    }
}

#[test]
fn residents_reach_their_own_household_once_a_grid_member_confirms_them() {
    for s in crate::common::servers() {
        s.runtime.block_on(wangge_store::registry::tags::ensure_standard(&s.db.db)).unwrap();
        let (community, grid) = community(&s);
        let member = s.token(Role::GridMember, grid["code"].as_str().unwrap());
        let h = household(&s, &member, &grid, "9");
        let birth = time::Date::from_calendar_date(1956, time::Month::July, 7).unwrap();
        let body = json!({"household_id": h["id"], "name": "周阿姨", "id_card": IdCardNumber::compose(370602, birth, 42).as_str(), "relation": "head"});
        assert_eq!(s.call(&member, "POST", "/api/v1/residents", Some(&body)).0, 201);

        s.create_account("zhouayi", Role::Resident, &[community["code"].as_str().unwrap()], "resident-pass-1");
        let (_, _, resident) = s.login("zhouayi", "resident-pass-1");
        let (status, _) = s.call(&resident, "GET", "/api/v1/me/household", None);
        assert_eq!(status, 404, "not bound yet");
        assert_eq!(s.call(&resident, "GET", "/api/v1/residents", None).0, 403, "residents do not browse the roll");

        let path = format!("/api/v1/households/{}/bind-account", h["id"].as_str().unwrap());
        let (status, bound) = s.call(&member, "POST", &path, Some(&json!({"username": "zhouayi"})));
        assert_eq!(status, 200, "{bound}");
        assert_eq!(bound["household_id"], h["id"]);
        let (status, mine) = s.call(&resident, "GET", "/api/v1/me/household", None);
        assert_eq!(status, 200, "{mine}");
        assert_eq!(mine["members"][0]["name"], "周阿姨");
        assert_eq!(mine["household"]["building_number"], "9");
        assert!(audit_actions(&s).iter().any(|a| a == "account.bind_household"));
    }
}

#[test]
fn the_web_login_sends_a_new_account_to_change_its_password_and_the_audit_page_shows_it() {
    for s in crate::common::servers() {
        let (_, grid) = community(&s);
        let body = json!({"username": "liming", "display_name": "李明", "role": "community_secretary",
                          "scopes": ["370602004011"], "password": "first-password-1"});
        assert_eq!(s.send("POST", "/api/v1/accounts", &body).0, 201);
        let _ = grid;
        let agent: ureq::Agent =
            ureq::Agent::config_builder().http_status_as_error(false).max_redirects(0).build().into();
        let form = |path: &str, cookie: Option<&str>, body: String| {
            let mut req =
                agent.post(&format!("{}{path}", s.base)).header("content-type", "application/x-www-form-urlencoded");
            if let Some(c) = cookie {
                req = req.header("cookie", c);
            }
            req.send(body).unwrap()
        };
        let resp = form("/login", None, "username=liming&password=first-password-1".into());
        assert_eq!(resp.status(), 303);
        assert_eq!(resp.headers().get("location").unwrap(), "/password", "a new account changes its password first");
        let cookie = resp.headers().get("set-cookie").unwrap().to_str().unwrap().split(';').next().unwrap().to_owned();
        let page = |path: &str| {
            let mut r = agent.get(&format!("{}{path}", s.base)).header("cookie", &cookie).call().unwrap();
            (
                r.status().as_u16(),
                r.headers().get("location").map(|v| v.to_str().unwrap().to_owned()),
                r.body_mut().read_to_string().unwrap(),
            )
        };
        let (status, location, _) = page("/registry");
        assert_eq!((status, location.as_deref()), (303, Some("/password")), "nothing else before the change");
        let (status, _, html) = page("/password");
        assert_eq!(status, 200);
        let csrf = html.split("name=\"csrf_token\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
        let resp = form(
            "/password",
            Some(&cookie),
            "current_password=first-password-1&new_password=short".to_owned() + &format!("&csrf_token={csrf}"),
        );
        assert_eq!(resp.status(), 422, "too short");
        let resp = form(
            "/password",
            Some(&cookie),
            format!("current_password=first-password-1&new_password=second-password-2&csrf_token={csrf}"),
        );
        assert_eq!(
            (resp.status().as_u16(), resp.headers().get("location").unwrap().to_str().unwrap()),
            // On to their own home (a secretary's is the cockpit), not a fixed page.
            (303, "/cockpit")
        );
        let resp = form("/password", Some(&cookie), "current_password=x&new_password=y".into());
        assert_eq!(resp.status(), 403, "a form without the CSRF token is refused");
        let (status, _, html) = page("/audit?action=password_change");
        assert_eq!(status, 200);
        assert!(html.contains("password_change") && html.contains("liming"), "the secretary's audit page lists it");
        // Named in the page's language, and the filter offers every kind by name.
        assert!(html.contains("<td>修改密码<br>"), "{html}");
        assert!(html.contains(r#"<option value="password_change" selected>修改密码</option>"#), "{html}");
    }
}

#[test]
fn a_grid_members_home_is_their_grid() {
    for s in crate::common::servers() {
        let (_, grid) = community(&s);
        let member = s.token(Role::GridMember, grid["code"].as_str().unwrap());
        household(&s, &member, &grid, "5");
        let agent: ureq::Agent =
            ureq::Agent::config_builder().http_status_as_error(false).max_redirects(0).build().into();
        let Auth::Bearer(token) = member else { unreachable!() };
        let resp = agent
            .get(&format!("{}/registry", s.base))
            .header("authorization", format!("Bearer {token}"))
            .call()
            .unwrap();
        assert_eq!(resp.status(), 303);
        let location = resp.headers().get("location").unwrap().to_str().unwrap().to_owned();
        assert_eq!(location, format!("/registry/areas/{}", grid["id"].as_str().unwrap()));
        let mut page = agent
            .get(&format!("{}{location}", s.base))
            .header("authorization", format!("Bearer {token}"))
            .call()
            .unwrap();
        let html = page.body_mut().read_to_string().unwrap();
        assert!(html.contains("building-link") && html.contains("5号楼"), "the grid page lists its buildings");
    }
}
