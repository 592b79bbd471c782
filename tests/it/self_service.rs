//! The browser side of accounts, sign-ups and break-the-glass, over real HTTP with
//! HTML forms as a browser sends them: administrators managing accounts and tokens,
//! residents signing up and their grid member confirming, and officials taking
//! read-only access to the next street for a reason.

use crate::common::{Auth, Server};
use serde_json::{Value, json};
use wangge_domain::{IdCardNumber, Role};

/// City › district › two streets › a community in each › a grid in each; returns
/// the grid of each street.
fn two_streets(s: &Server) -> (Value, Value) {
    let admin = s.login("admin", crate::common::ADMIN_PASSWORD).2;
    let make = |parent: &Value, level: &str, code: &str| {
        let body = json!({"parent_id": parent, "level": level, "code": code, "name": format!("{level}{code}")});
        let (status, area) = s.call(&admin, "POST", "/api/v1/areas", Some(&body));
        assert_eq!(status, 201, "{area}");
        area
    };
    let city = make(&Value::Null, "city", "370600000000");
    let district = make(&city["id"], "district", "370602000000");
    let mut grids = Vec::new();
    for street_code in ["370602004000", "370602005000"] {
        let street = make(&district["id"], "street", street_code);
        let community = make(&street["id"], "community", &format!("{}011", &street_code[..9]));
        grids.push(make(&community["id"], "grid", &format!("{}011001", &street_code[..9])));
    }
    let second = grids.pop().unwrap();
    (grids.pop().unwrap(), second)
}

/// A bungalow, its household and one resident in `grid`; returns (household, resident).
fn family(s: &Server, grid: &Value, name: &str, id_card: &IdCardNumber) -> (Value, Value) {
    let staff = s.token(Role::GridMember, grid["code"].as_str().unwrap());
    let body = json!({"grid_id": grid["id"], "number": "5", "kind": "bungalow"});
    let (_, b) = s.call(&staff, "POST", "/api/v1/buildings", Some(&body));
    let body = json!({"building_id": b["id"], "room": "1", "occupancy": "owner_occupied"});
    let (_, h) = s.call(&staff, "POST", "/api/v1/households", Some(&body));
    let body = json!({"household_id": h["id"], "name": name, "id_card": id_card.as_str(), "relation": "head"});
    let (status, r) = s.call(&staff, "POST", "/api/v1/residents", Some(&body));
    assert_eq!(status, 201, "{r}");
    (h, r)
}

fn page(s: &Server, who: &Auth, path: &str) -> (u16, String) {
    s.call_text(who, "GET", path, None)
}

fn text(answer: &Value) -> String {
    answer.as_str().map_or_else(|| answer.to_string(), str::to_owned)
}

fn id_card(seq: u16) -> IdCardNumber {
    IdCardNumber::compose(370602, time::Date::from_calendar_date(1952, time::Month::May, 9).unwrap(), seq)
}

#[test]
fn a_resident_signs_up_and_logs_in_once_their_grid_member_confirms() {
    for s in crate::common::servers() {
        let (grid, other_grid) = two_streets(&s);
        let (household, _) = family(&s, &grid, "王秀英", &id_card(21));
        let outsider_id =
            s.create_account("outsider", Role::GridMember, &[other_grid["code"].as_str().unwrap()], "outsider-pass");
        assert!(!outsider_id.is_empty());
        s.create_account("member", Role::GridMember, &[grid["code"].as_str().unwrap()], "member-password");

        // The form says the same whether or not the person is on the roll.
        let form = format!(
            "name=%E7%8E%8B%E7%A7%80%E8%8B%B1&id_card={}&phone=138+0013+8021&password=my-own-password",
            id_card(21).as_str()
        );
        let (status, matched) = s.call_form(&Auth::None, "/portal/signup", &form);
        assert_eq!(status, 200, "{matched}");
        let stranger =
            format!("name=%E6%9D%8E&id_card={}&phone=13900139022&password=my-own-password", id_card(22).as_str());
        let (status, unmatched) = s.call_form(&Auth::None, "/portal/signup", &stranger);
        assert_eq!(status, 200);
        assert_eq!(text(&matched), text(&unmatched), "the answer must not tell who lives here");
        let (status, bad) = s.call_form(
            &Auth::None,
            "/portal/signup",
            "name=x&id_card=370602195205090212&phone=13500135000&password=long-password",
        );
        assert_eq!(status, 422, "a wrong checksum is said plainly");
        assert!(text(&bad).contains("身份证号"), "and names the field: {bad}");
        let (status, taken) = s.call_form(&Auth::None, "/portal/signup", &form);
        assert_eq!(status, 422, "the phone signs in already: {taken}");
        assert!(text(&taken).contains("手机号已经注册"), "{taken}");
        // The phone is sealed and blind-indexed, never in plain text; the user name generated.
        let stored: Vec<(String, Option<String>, Option<String>)> = s.runtime.block_on(async {
            sqlx::query_as("SELECT username, phone_enc, phone_hash FROM accounts WHERE role = 'resident'")
                .fetch_all(&s.db.db.pool)
                .await
                .unwrap()
        });
        assert_eq!(stored.len(), 1, "one account for the matched sign-up: {stored:?}");
        let (username, enc, hash) = &stored[0];
        assert!(username.starts_with("r-") && !username.contains("13800138021"), "{username}");
        assert!(enc.as_deref().is_some_and(|e| !e.contains("13800138021")), "{enc:?}");
        assert!(hash.as_deref().is_some_and(|h| !h.contains("13800138021")), "{hash:?}");

        // Not before the grid member confirms.
        assert_eq!(s.login("13800138021", "my-own-password").0, 401);

        // Another street's grid member does not see it; the own one does.
        let outsider = s.login("outsider", "outsider-pass").2;
        let (status, html) = page(&s, &outsider, "/registry/signups");
        assert_eq!(status, 200);
        assert!(!html.contains("王秀英"), "outside the grid member's scope");
        let member = s.login("member", "member-password").2;
        let (status, html) = page(&s, &member, "/registry/signups");
        assert_eq!(status, 200);
        assert!(html.contains("王秀英") && html.contains("138****8021"), "the phone, masked: {html}");
        assert!(!html.contains("13800138021"), "never in full on the queue");
        assert!(!html.contains("139****9022"), "an unmatched sign-up reaches nobody's queue");
        let signup_id = html.split("/registry/signups/").nth(1).unwrap().split('/').next().unwrap().to_owned();
        // The grid member over the household was told, in the app; the one next door was not.
        let (status, told) = s.call(&member, "GET", "/api/v1/me/notifications", None);
        assert_eq!(status, 200, "{told}");
        assert_eq!(told.as_array().unwrap().len(), 1, "{told}");
        assert_eq!(told[0]["module"], "registry");
        assert_eq!(told[0]["subject_id"], signup_id.as_str());
        assert_eq!(told[0]["link"], "/registry/signups");
        assert!(told[0]["message"].as_str().unwrap().contains("王秀英"), "{told}");
        // The notice is kept as a message, not as Chinese text: each reader reads it in
        // their own language, on the page and through the API.
        let (_, html) = page(&s, &member, "/notifications");
        assert!(html.contains("新的住户登记申请") && html.contains("王秀英") && html.contains("1 条未读"), "{html}");
        let (_, html) = page(&s, &member, "/notifications?lang=en");
        assert!(html.contains("New sign-up to check") && html.contains("1 unread"), "{html}");
        *s.accept_language.borrow_mut() = Some("en".into());
        let (_, told_en) = s.call(&member, "GET", "/api/v1/me/notifications", None);
        *s.accept_language.borrow_mut() = None;
        assert!(told_en[0]["message"].as_str().unwrap().starts_with("New sign-up to check"), "{told_en}");
        assert_eq!(s.call_form(&member, "/notifications/read", "").0, 303);
        let (_, html) = page(&s, &member, "/notifications");
        assert!(!html.contains("条未读") && html.contains("王秀英"), "read, and still listed");
        let (_, nothing) = s.call(&outsider, "GET", "/api/v1/me/notifications", None);
        assert_eq!(nothing.as_array().unwrap().len(), 0, "{nothing}");

        let confirm = format!("/registry/signups/{signup_id}/confirm");
        assert_eq!(s.call_form(&outsider, &confirm, "").0, 404, "outside the scope: as if it did not exist");
        assert_eq!(s.call_form(&member, &confirm, "").0, 303);
        assert_eq!(s.call_form(&member, &confirm, "").0, 409, "deciding twice is refused");

        let (status, _, resident) = s.login("138-0013-8021", "my-own-password");
        assert_eq!(status, 200, "confirmed residents log in with their own password, no forced change");
        let (status, mine) = s.call(&resident, "GET", "/api/v1/me/household", None);
        assert_eq!(status, 200);
        assert_eq!(mine["household"]["id"], household["id"]);
        let (status, html) = page(&s, &resident, "/portal/household");
        assert_eq!(status, 200);
        assert!(html.contains("王秀英") && html.contains("class=\"portal\""), "the portal shows the household");
        assert_eq!(page(&s, &resident, "/registry").0, 403, "residents stay out of the staff side");

        let admin = s.login("admin", crate::common::ADMIN_PASSWORD).2;
        let (_, log) = s.call(&admin, "GET", "/api/v1/audit?per_page=200", None);
        let actions: Vec<&str> = log["items"].as_array().unwrap().iter().filter_map(|e| e["action"].as_str()).collect();
        for action in ["signup.request", "signup.unmatched", "signup.confirm"] {
            assert!(actions.contains(&action), "{action} is audited: {actions:?}");
        }
    }
}

#[test]
fn administrators_manage_accounts_and_tokens_in_the_browser() {
    for s in crate::common::servers() {
        let (grid, _) = two_streets(&s);
        let admin = s.login("admin", crate::common::ADMIN_PASSWORD).2;
        let form = format!(
            "username=li.wei&display_name=%E6%9D%8E%E4%BC%9F&role=grid_member&scopes={}&password=first-password",
            grid["code"].as_str().unwrap()
        );
        assert_eq!(s.call_form(&admin, "/admin/accounts", &form).0, 303);
        let (status, again) = s.call_form(&admin, "/admin/accounts", &form);
        assert_eq!(status, 422, "a taken user name is said on the page");
        assert!(text(&again).contains("li.wei"), "{again}");
        let (status, html) = page(&s, &admin, "/admin/accounts?q=li.wei");
        assert_eq!(status, 200);
        assert!(html.contains("李伟"));

        let (_, login, _) = s.login("li.wei", "first-password");
        assert_eq!(login["account"]["must_change_password"], true, "{login}");
        let id = s.runtime.block_on(wangge_store::security::accounts::get_by_username(&s.db.db, "li.wei")).unwrap().id;
        assert_eq!(s.call_form(&admin, &format!("/admin/accounts/{id}/disable"), "").0, 303);
        assert_eq!(s.login("li.wei", "first-password").0, 401, "disabled accounts cannot log in");
        assert_eq!(s.call_form(&admin, &format!("/admin/accounts/{id}/enable"), "").0, 303);
        let reset = format!("/admin/accounts/{id}/reset-password");
        assert_eq!(s.call_form(&admin, &reset, "password=short").0, 422, "weak passwords are refused");
        assert_eq!(s.call_form(&admin, &reset, "password=temporary-password").0, 303);
        assert_eq!(s.login("li.wei", "temporary-password").0, 200);

        let form =
            format!("name=gis-sync&role=grid_member&scope={}&expires_in_days=30", grid["code"].as_str().unwrap());
        let (status, issued) = s.call_form(&admin, "/admin/tokens", &form);
        assert_eq!(status, 201);
        let html = text(&issued);
        let secret = html.split("id=\"token-secret\" class=\"secret\">").nth(1).unwrap().split('<').next().unwrap();
        let token = Auth::Bearer(secret.to_owned());
        assert_eq!(s.call(&token, "GET", "/api/v1/buildings", None).0, 200, "the shown secret works");
        let (_, html) = page(&s, &admin, "/admin/tokens");
        assert!(!html.contains(secret), "and is never shown again");
        let token_id = html.split("/admin/tokens/").nth(1).unwrap().split('/').next().unwrap().to_owned();
        assert_eq!(s.call_form(&admin, &format!("/admin/tokens/{token_id}/revoke"), "").0, 303);
        assert_eq!(s.call(&token, "GET", "/api/v1/buildings", None).0, 401, "revoked at once");

        let (_, log) = s.call(&admin, "GET", "/api/v1/audit?per_page=200", None);
        let actions: Vec<&str> = log["items"].as_array().unwrap().iter().filter_map(|e| e["action"].as_str()).collect();
        for action in [
            "account.create",
            "account.disable",
            "account.enable",
            "account.reset_password",
            "token.issue",
            "token.revoke",
        ] {
            assert!(actions.contains(&action), "{action} is audited: {actions:?}");
        }
    }
}

#[test]
fn an_official_breaks_the_glass_for_the_next_street_read_only_and_audited() {
    for s in crate::common::servers() {
        let (grid, next_grid) = two_streets(&s);
        let (_, resident) = family(&s, &next_grid, "赵大爷", &id_card(31));
        let _ = grid;
        s.create_account("street4", Role::StreetOfficial, &["370602004000"], "street-password");
        let official = s.login("street4", "street-password").2;
        let rid = resident["id"].as_str().unwrap();

        assert_eq!(page(&s, &official, &format!("/registry/residents/{rid}")).0, 404, "the next street is outside");
        let (status, _) = s.call(&official, "GET", "/api/v1/residents?area=370602005011", None);
        assert_eq!(status, 403);

        let next_community = "370602005011";
        let (status, _) =
            s.call_form(&official, "/registry/access", &format!("area={next_community}&reason=x&hours=1"));
        assert_eq!(status, 422, "a grant needs a real reason");
        let reason = "area=370602005011&reason=%E4%BF%A1%E8%AE%BF%E4%BB%B6%E6%A0%B8%E5%AE%9E&hours=1";
        assert_eq!(s.call_form(&official, "/registry/access", reason).0, 303);
        let (status, html) = page(&s, &official, &format!("/registry/residents/{rid}"));
        assert_eq!(status, 200);
        assert!(html.contains("赵大爷"), "names are shown while the grant lasts");
        assert!(!html.contains("id=\"edit\""), "no editing through a grant");
        let (status, _) = s.call(&official, "PATCH", &format!("/api/v1/residents/{rid}"), Some(&json!({"notes": "x"})));
        assert_eq!(status, 403, "the official's role never edits");

        // A district further away is beyond reach.
        let (status, _) = s.call(
            &official,
            "POST",
            "/api/v1/access-grants",
            Some(&json!({"area": "370600000000", "reason": "看看全市"})),
        );
        assert_eq!(status, 403);

        let admin = s.login("admin", crate::common::ADMIN_PASSWORD).2;
        let (_, log) = s.call(&admin, "GET", "/api/v1/audit?action=access.grant", None);
        assert_eq!(log["items"][0]["reason"], "信访件核实", "{log}");
    }
}

#[test]
fn a_grant_never_opens_a_record_to_changes_even_for_an_editing_role() {
    for s in crate::common::servers() {
        let (grid, next_grid) = two_streets(&s);
        let (_, resident) = family(&s, &next_grid, "钱阿姨", &id_card(41));
        s.create_account("secretary4", Role::CommunitySecretary, &["370602004011"], "secretary-password");
        let secretary = s.login("secretary4", "secretary-password").2;
        let _ = grid;
        // The next community lies in the next street here, beyond a secretary's reach.
        let (status, _) = s.call(
            &secretary,
            "POST",
            "/api/v1/access-grants",
            Some(&json!({"area": "370602005011", "reason": "家人搬迁核实"})),
        );
        assert_eq!(status, 403, "beyond the secretary's street");
        // Within the street, a neighbouring community is reachable, read-only.
        let admin = s.login("admin", crate::common::ADMIN_PASSWORD).2;
        let street4 = s.runtime.block_on(wangge_store::registry::areas::get_by_code(&s.db.db, "370602004000")).unwrap();
        let body = json!({"parent_id": street4.id, "level": "community", "code": "370602004012", "name": "邻社区"});
        let (_, next_door) = s.call(&admin, "POST", "/api/v1/areas", Some(&body));
        let body = json!({"parent_id": next_door["id"], "level": "grid", "code": "370602004012001", "name": "邻网格"});
        let (_, next_door_grid) = s.call(&admin, "POST", "/api/v1/areas", Some(&body));
        let (_, neighbour) = family(&s, &next_door_grid, "孙叔叔", &id_card(42));
        let (status, grant) = s.call(
            &secretary,
            "POST",
            "/api/v1/access-grants",
            Some(&json!({"area": "370602004012", "reason": "家人搬迁核实"})),
        );
        assert_eq!(status, 201, "{grant}");
        let nid = neighbour["id"].as_str().unwrap();
        let (status, seen) = s.call(&secretary, "GET", &format!("/api/v1/residents/{nid}"), None);
        assert_eq!((status, seen["name"].as_str()), (200, Some("孙叔叔")));
        let (status, _) =
            s.call(&secretary, "PATCH", &format!("/api/v1/residents/{nid}"), Some(&json!({"notes": "改"})));
        assert_eq!(status, 404, "a grant opens reading only");
        assert_eq!(
            s.call(&secretary, "GET", &format!("/api/v1/residents/{}", resident["id"].as_str().unwrap()), None).0,
            404
        );
    }
}

#[test]
fn the_community_ledger_downloads_for_the_office_only_and_is_audited() {
    for s in crate::common::servers() {
        let (grid, other_grid) = two_streets(&s);
        family(&s, &grid, "周奶奶", &id_card(51));
        let community =
            s.runtime.block_on(wangge_store::registry::areas::get_by_code(&s.db.db, "370602004011")).unwrap();
        let other = s.runtime.block_on(wangge_store::registry::areas::get_by_code(&s.db.db, "370602005011")).unwrap();
        s.create_account("office", Role::CommunityStaff, &[&community.code], "office-password");
        let office = s.login("office", "office-password").2;
        let url = format!("{}/registry/export?community={}", s.base, community.id);
        let Auth::Session { cookie, .. } = &office else { panic!("a session") };
        let mut resp = s.agent.get(&url).header("cookie", cookie).call().unwrap();
        assert_eq!(resp.status().as_u16(), 200);
        assert!(resp.headers().get("content-disposition").unwrap().to_str().unwrap().contains(".xlsx"));
        let bytes = resp.body_mut().read_to_vec().unwrap();
        assert!(bytes.starts_with(b"PK"), "an .xlsx file (a zip)");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("export.xlsx");
        std::fs::write(&path, &bytes).unwrap();
        let table = wangge_ledger::table::read_table(&path).unwrap();
        let cells: Vec<&str> = table.rows.iter().flat_map(|r| r.cells.iter().map(String::as_str)).collect();
        assert!(cells.contains(&"周奶奶") && cells.contains(&id_card(51).as_str()), "the person, in full");

        let other_url = format!("/registry/export?community={}", other.id);
        assert_eq!(page(&s, &office, &other_url).0, 404, "another community's ledger is not found");
        let member = s.token(Role::GridMember, grid["code"].as_str().unwrap());
        assert_eq!(page(&s, &member, &format!("/registry/export?community={}", community.id)).0, 403);
        let _ = other_grid;
        let admin = s.login("admin", crate::common::ADMIN_PASSWORD).2;
        let (_, log) = s.call(&admin, "GET", "/api/v1/audit?action=export.residents", None);
        assert_eq!(log["total"], 1, "{log}");
    }
}

#[test]
fn lists_sort_by_column_and_filter_by_care_tag() {
    for s in crate::common::servers() {
        s.runtime.block_on(wangge_store::registry::tags::ensure_standard(&s.db.db)).unwrap();
        let (grid, _) = two_streets(&s);
        let (household, _) = family(&s, &grid, "乙", &id_card(61));
        let staff = s.token(Role::GridMember, grid["code"].as_str().unwrap());
        for (name, year, seq, tags) in [("甲", 1990, 62, json!([])), ("丙", 1940, 63, json!(["elderly_alone"]))] {
            let birth = time::Date::from_calendar_date(year, time::Month::July, 1).unwrap();
            let body = json!({"household_id": household["id"], "name": name,
                "id_card": IdCardNumber::compose(370602, birth, seq).as_str(), "tags": tags});
            assert_eq!(s.call(&staff, "POST", "/api/v1/residents", Some(&body)).0, 201);
        }
        let names = |query: &str| -> Vec<String> {
            let (status, page) = s.call(&staff, "GET", &format!("/api/v1/residents?{query}"), None);
            assert_eq!(status, 200, "{page}");
            page["items"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap().to_owned()).collect()
        };
        assert_eq!(names("sort=birth_date"), ["丙", "乙", "甲"], "oldest first (乙 was born in 1952)");
        assert_eq!(names("sort=-birth_date"), ["甲", "乙", "丙"]);
        assert_eq!(names("tag=elderly_alone"), ["丙"]);
        assert_eq!(s.call(&staff, "GET", "/api/v1/residents?sort=age", None).0, 400, "an unknown order is refused");

        let (status, html) = page(&s, &staff, "/registry/residents?sort=-birth_date");
        assert_eq!(status, 200);
        assert!(html.contains("aria-sort=\"descending\""), "the sorted column says so");
        let first = html.find("甲").unwrap();
        assert!(first < html.find("丙").unwrap(), "youngest first on the page too");
        let (_, html) = page(&s, &staff, "/registry/residents?tag=elderly_alone");
        assert!(html.contains("丙") && !html.contains(">甲<"), "the tag filter keeps only the tagged");
    }
}

#[test]
fn people_with_several_areas_choose_one_and_switch() {
    for s in crate::common::servers() {
        let (grid, other_grid) = two_streets(&s);
        let scopes = [grid["code"].as_str().unwrap(), other_grid["code"].as_str().unwrap()];
        s.create_account("twogrids", Role::GridLeader, &scopes, "two-grids-pass");
        let leader = s.login("twogrids", "two-grids-pass").2;
        let (status, html) = page(&s, &leader, "/registry");
        assert_eq!(status, 200, "{html}");
        for g in [&grid, &other_grid] {
            let link = format!("/registry/areas/{}", g["id"].as_str().unwrap());
            assert!(html.contains(&link), "the chooser offers {link}");
            assert_eq!(page(&s, &leader, &link).0, 200);
        }
        let (_, html) = page(&s, &leader, &format!("/registry/areas/{}", grid["id"].as_str().unwrap()));
        assert!(html.contains("id=\"scope-switcher\""), "the switcher is on every page");
    }
}

#[test]
fn a_resident_reports_from_the_portal_follows_it_and_rates_it() {
    for s in crate::common::servers() {
        let (grid, _) = two_streets(&s);
        let (household, _) = family(&s, &grid, "吴阿姨", &id_card(71));
        let account = s.create_account("wuayi", Role::Resident, &[], "wu-ayi-password");
        s.runtime
            .block_on(wangge_store::security::accounts::bind_household(
                &s.db.db,
                &account,
                household["id"].as_str().unwrap(),
            ))
            .unwrap();
        let resident = s.login("wuayi", "wu-ayi-password").2;
        let form =
            "category=public_facilities&description=%E6%A5%BC%E4%B8%8B%E8%B7%AF%E7%81%AF%E4%B8%8D%E4%BA%AE%E4%BA%86";
        let (status, _) = s.call_form(&resident, "/portal/requests", form);
        assert_eq!(status, 303, "the report is taken");
        let (_, mine) = s.call(&resident, "GET", "/api/v1/me/demands", None);
        let id = mine["items"][0]["id"].as_str().unwrap().to_owned();
        assert_eq!(mine["items"][0]["channel"], "portal");

        let staff = s.token(Role::GridLeader, grid["code"].as_str().unwrap());
        for (step, body) in [
            ("accept", json!({})),
            ("start", json!({})),
            ("report-done", json!({"note": "已换灯"})),
            ("verify", json!({})),
            ("close", json!({})),
        ] {
            let (status, answer) = s.call(&staff, "POST", &format!("/api/v1/demands/{id}/{step}"), Some(&body));
            assert_eq!(status, 200, "{step}: {answer}");
        }
        let (status, html) = page(&s, &resident, &format!("/portal/requests/{id}"));
        assert_eq!(status, 200);
        assert!(html.contains("已办结，请您评价") && html.contains("id=\"rate\""), "plain words and the rating form");
        assert!(html.contains("已换灯"), "the handler's note reaches the resident");

        let other = s.create_account("other", Role::Resident, &[], "other-password");
        assert!(!other.is_empty());
        let stranger = s.login("other", "other-password").2;
        assert_eq!(page(&s, &stranger, &format!("/portal/requests/{id}")).0, 404, "only one's own reports");
        assert_eq!(s.call_form(&stranger, &format!("/portal/requests/{id}/rate"), "score=5").0, 404);

        assert_eq!(
            s.call_form(
                &resident,
                &format!("/portal/requests/{id}/rate"),
                "score=2&comment=%E8%BF%98%E6%98%AF%E4%B8%8D%E4%BA%AE"
            )
            .0,
            303
        );
        let d = s.runtime.block_on(wangge_store::demands::get(&s.db.db, &id)).unwrap();
        assert_eq!(d.status, wangge_domain::DemandStatus::Reopened, "an unsatisfied rating reopens it once");
        let (_, html) = page(&s, &resident, &format!("/portal/requests/{id}"));
        assert!(html.contains("您不满意，正在重新办理"));
    }
}

#[test]
fn every_role_lands_on_a_page_it_may_use() {
    for s in crate::common::servers() {
        let (grid, _) = two_streets(&s);
        let admin = s.login("admin", crate::common::ADMIN_PASSWORD).2;
        let (status, html) = page(&s, &admin, "/registry");
        assert_eq!(status, 200, "administrators start from the cities");
        assert!(html.contains("370600000000"), "{html}");
        s.create_account("louzhang", Role::Auxiliary, &[grid["code"].as_str().unwrap()], "louzhang-pass");
        let (status, answer) = s.call_form(&Auth::None, "/login", "username=louzhang&password=louzhang-pass");
        assert_eq!(status, 303, "{answer}");
        let head = s.login("louzhang", "louzhang-pass").2;
        let (status, html) = page(&s, &head, "/demands/new");
        assert_eq!(status, 200, "building heads report problems");
        assert!(html.contains("id=\"nav-report\""), "and find it in the navigation");
        assert_eq!(wangge_web::home_of(Role::Auxiliary), "/reported");
        assert_eq!(wangge_web::home_of(Role::GridMember), "/today");
        assert_eq!(wangge_web::home_of(Role::Resident), "/portal");
        assert_eq!(wangge_web::home_of(Role::StreetOfficial), "/cockpit");
        assert_eq!(wangge_web::home_of(Role::CommunitySecretary), "/cockpit");
    }
}

#[test]
fn the_person_form_says_what_is_wrong_in_the_pages_language() {
    for s in crate::common::servers() {
        let (grid, _) = two_streets(&s);
        let (household, _) = family(&s, &grid, "孙大爷", &id_card(31));
        s.create_account("zhaowangge", Role::GridMember, &[grid["code"].as_str().unwrap()], "zhao-password-1");
        let member = s.login("zhaowangge", "zhao-password-1").2;
        let good = id_card(33).as_str().to_owned();
        let bad = format!("{}{}", &good[..17], if good.ends_with('0') { '1' } else { '0' });
        let path = format!("/registry/households/{}/new-resident", household["id"].as_str().unwrap());
        let form = format!("name=%E5%AD%99%E5%B0%8F&id_card={bad}&relation=child");
        let (status, zh) = s.call_form(&member, &path, &form);
        assert_eq!(status, 422, "{zh}");
        assert!(text(&zh).contains("身份证号校验位不符"), "{zh}");
        let (status, en) = s.call_form(&member, &format!("{path}?lang=en"), &form);
        assert_eq!(status, 422);
        assert!(text(&en).contains("ID card number checksum does not match"), "{en}");
        let phone = format!("name=%E5%AD%99%E5%B0%8F&id_card={good}&phone=12345&relation=child");
        let (_, zh) = s.call_form(&member, &path, &phone);
        assert!(text(&zh).contains("联系电话“12345”既不是 11 位手机号"), "{zh}");
    }
}

/// The code shown on the grid member's page, digits only.
fn shown_code(html: &str) -> String {
    let after = html.split("id=\"recovery-code\"").nth(1).expect("the code is shown");
    let shown = after.split('>').nth(1).unwrap().split('<').next().unwrap();
    shown.chars().filter(char::is_ascii_digit).collect()
}

#[test]
fn a_resident_who_forgot_the_password_is_helped_back_in_by_their_grid_member() {
    for s in crate::common::servers() {
        let (grid, other_grid) = two_streets(&s);
        family(&s, &grid, "王秀英", &id_card(31));
        s.create_account("member", Role::GridMember, &[grid["code"].as_str().unwrap()], "member-password");
        s.create_account("outsider", Role::GridMember, &[other_grid["code"].as_str().unwrap()], "outsider-pass");
        let form = format!(
            "name=%E7%8E%8B%E7%A7%80%E8%8B%B1&id_card={}&phone=13800138031&password=my-own-password",
            id_card(31).as_str()
        );
        assert_eq!(s.call_form(&Auth::None, "/portal/signup", &form).0, 200);
        s.runtime.block_on(async {
            let db = &s.db.db;
            let waiting = wangge_store::security::signups::pending_under(db, None).await.unwrap();
            wangge_store::security::signups::decide(db, &waiting[0].id, true, "member").await.unwrap();
        });

        // The portal's own login takes the phone number.
        let (status, _) = s.call_form(&Auth::None, "/portal/login", "phone=13800138031&password=my-own-password");
        assert_eq!(status, 303, "logged in with the phone");
        let (status, wrong) = s.call_form(&Auth::None, "/portal/login", "phone=13800138031&password=forgotten-it");
        assert_eq!(status, 401);
        assert!(text(&wrong).contains("手机号或密码不对"), "{wrong}");
        let (status, forgot) = page(&s, &Auth::None, "/portal/forgot");
        assert_eq!(status, 200);
        assert!(forgot.contains("网格员") && forgot.contains("href=\"/portal/reset\""), "{forgot}");

        // Another street's grid member finds nobody and cannot issue a code.
        let outsider = s.login("outsider", "outsider-pass").2;
        let (status, html) = page(&s, &outsider, "/registry/recovery?q=13800138031");
        assert_eq!(status, 200);
        assert!(!html.contains("王秀英") && html.contains("no-accounts"), "{html}");
        let member = s.login("member", "member-password").2;
        let (status, html) = page(&s, &member, "/registry/recovery?q=138+0013+8031");
        assert_eq!(status, 200);
        assert!(html.contains("王秀英") && html.contains("138****8031") && !html.contains("13800138031"), "{html}");
        let (_, by_name) = page(&s, &member, "/registry/recovery?q=%E7%A7%80%E8%8B%B1");
        assert!(by_name.contains("王秀英"), "found by name too");
        let href = html.replace("&#x2f;", "/");
        let account = href.split("/registry/recovery/").nth(1).unwrap().split('"').next().unwrap().to_owned();
        let issue = format!("/registry/recovery/{account}");
        assert_eq!(page(&s, &outsider, &issue).0, 404, "outside the scope: as if it did not exist");
        assert_eq!(s.call_form(&outsider, &issue, "seen=1").0, 404);

        // Not without confirming the person; then a code of eight digits, shown once.
        let (status, unseen) = s.call_form(&member, &issue, "");
        assert_eq!(status, 422, "{unseen}");
        assert!(text(&unseen).contains("当面见到本人"), "{unseen}");
        let (status, issued) = s.call_form(&member, &issue, "seen=1");
        assert_eq!(status, 200, "{issued}");
        let code = shown_code(&text(&issued));
        assert_eq!(code.len(), 8, "{code}");

        // The resident: a wrong code, a weak password, then the code works once.
        let wrong_code = if code == "00000000" { "11111111" } else { "00000000" };
        let body = |code: &str, password: &str| format!("phone=13800138031&code={code}&new_password={password}");
        let (status, refused) = s.call_form(&Auth::None, "/portal/reset", &body(wrong_code, "a-new-password-1"));
        assert_eq!(status, 401);
        assert!(text(&refused).contains("验证码不对"), "{refused}");
        assert_eq!(s.call_form(&Auth::None, "/portal/reset", &body(&code, "short")).0, 422);
        let spaced = format!("{}+{}", &code[..4], &code[4..]);
        assert_eq!(s.call_form(&Auth::None, "/portal/reset", &body(&spaced, "a-new-password-1")).0, 303);
        assert_eq!(s.call_form(&Auth::None, "/portal/reset", &body(&code, "a-new-password-2")).0, 401, "used once");
        assert_eq!(s.login("13800138031", "my-own-password").0, 401, "the old password is gone");
        assert_eq!(s.login("13800138031", "a-new-password-1").0, 200, "the new one works");

        let admin = s.login("admin", crate::common::ADMIN_PASSWORD).2;
        let (_, log) = s.call(&admin, "GET", "/api/v1/audit?per_page=200", None);
        let entries = log["items"].as_array().unwrap();
        let of = |action: &str| entries.iter().filter(|e| e["action"] == action).collect::<Vec<_>>();
        let issued = of("recovery.issue");
        assert_eq!(issued.len(), 1, "{log}");
        assert_eq!(issued[0]["target_id"], account.as_str());
        assert!(issued[0]["after"].to_string().contains("seen_in_person"), "the confirmation is recorded");
        assert_eq!(of("recovery.use").len(), 1);
        assert_eq!(of("recovery.refused").len(), 2, "the wrong code and the second use");
        assert!(!log.to_string().contains(&code), "the code itself is never logged");
        assert!(!log.to_string().contains("13800138031"), "nor the phone");

        // Five wrong passwords lock the account from this address, whichever name is typed.
        for _ in 0..5 {
            s.call_form(&Auth::None, "/portal/login", "phone=13800138031&password=wrong-again");
        }
        let (status, _) = s.call_form(&Auth::None, "/portal/login", "phone=13800138031&password=a-new-password-1");
        assert_eq!(status, 429, "phone logins are throttled like the others");
        let username = s.runtime.block_on(async {
            sqlx::query_scalar::<_, String>("SELECT username FROM accounts WHERE id = $1")
                .bind(&account)
                .fetch_one(&s.db.db.pool)
                .await
                .unwrap()
        });
        assert_eq!(s.login(&username, "a-new-password-1").0, 429, "and the generated user name with them");
    }
}
