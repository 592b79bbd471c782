//! Dispatch without typing and the call-back (issue 15) over HTTP on every backend: a
//! QR report in a community that dispatches automatically goes straight to the
//! building's grid member; the item's handler, its dispatcher and the community's
//! call-back desk may reveal the reporter's phone (audited with the item as the
//! reason); anyone else is refused and nothing is logged as a reveal.

use serde_json::json;
use wangge_domain::Role;

use crate::common::{Auth, Server};
use crate::demand_forms::post_form;

fn count(s: &Server, sql: &str) -> i64 {
    let sql = sql.to_owned();
    s.runtime.block_on(async {
        sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql)).fetch_one(&s.db.db.pool).await.unwrap()
    })
}

fn person(s: &Server, name: &str, role: Role, scope: &[&str]) -> (String, Auth) {
    let id = s.create_account(name, role, scope, "long-enough-password");
    (id, s.login(name, "long-enough-password").2)
}

struct Place {
    community: String,
    grid: String,
    building: String,
}

/// A community with one grid and building 3, whose grid member `member1` (with an
/// account) looks after it; automatic dispatch on. The place, the member's id and
/// session.
fn place(s: &Server) -> (Place, String, Auth) {
    let made = s.areas_down_to_grid();
    let (member, member_auth) = person(s, "member1", Role::GridMember, &["370602004011001"]);
    let (community, grid) = (made[3]["id"].as_str().unwrap().to_owned(), made[4]["id"].as_str().unwrap().to_owned());
    let secretary = s.token(Role::CommunitySecretary, "370602004011");
    let body = json!({"grid_id": grid, "number": "3", "kind": "residential"});
    let (status, building) = s.call(&secretary, "POST", "/api/v1/buildings", Some(&body));
    assert_eq!(status, 201, "{building}");
    let building = building["id"].as_str().unwrap().to_owned();
    s.runtime.block_on(async {
        let db = &s.db.db;
        let post = wangge_store::team::NewPost {
            post: Some("member".into()),
            person_name: "王海燕".into(),
            account_id: Some(member.clone()),
            building_ids: vec![building.clone()],
            ..Default::default()
        };
        wangge_store::team::add(db, &grid, &post).await.unwrap();
        let settings = wangge_store::demands::routing::CommunitySettings {
            auto_dispatch: true,
            hotline: Some("0535-6661234".into()),
        };
        wangge_store::demands::routing::set_settings(db, &community, &settings).await.unwrap();
    });
    (Place { community, grid, building }, member, member_auth)
}

/// A QR report of building 3, answered 201; its id.
fn qr_report(s: &Server, building: &str, category: &str, what: &str) -> String {
    let key: String = s.db.db.vault.blind("building_poster", building).chars().take(16).collect();
    let fields = [("category", category), ("description", what), ("name", "刘大爷"), ("phone", "13805351234")];
    let (status, _, html) = post_form(s, &Auth::None, &format!("/report/{building}?k={key}"), &fields, &[]);
    assert_eq!(status, 201, "{html}");
    let sql = format!("SELECT id FROM demands WHERE description = '{what}'");
    s.runtime.block_on(async {
        sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql)).fetch_one(&s.db.db.pool).await.unwrap()
    })
}

#[test]
fn a_qr_report_goes_straight_to_the_buildings_grid_member() {
    for s in crate::common::servers() {
        let (p, _member_id, member) = place(&s);
        let item = qr_report(&s, &p.building, "environment", "三楼楼道堆满纸箱");

        let (_, mine) = s.call(&member, "GET", "/api/v1/me/demands", None);
        assert_eq!(mine["items"][0]["id"], item.as_str(), "in the grid member's 我的待办 at once: {mine}");
        assert_eq!(mine["items"][0]["status"], "dispatched");
        assert_eq!(mine["items"][0]["handler_name"], "王海燕");
        let (_, notices) = s.call(&member, "GET", "/api/v1/me/notifications", None);
        assert!(notices.to_string().contains("三楼楼道堆满纸箱"), "told: {notices}");
        let (_, detail) = s.call(&member, "GET", &format!("/api/v1/demands/{item}"), None);
        let timeline = detail["timeline"].as_array().unwrap();
        let dispatch = timeline.iter().find(|e| e["step"] == "dispatch").expect("a dispatch");
        assert_eq!(dispatch["actor_name"], "自动派遣", "recorded as automatic: {detail}");
        assert_eq!(count(&s, "SELECT COUNT(*) FROM audit_log WHERE action = 'demand.dispatch'"), 1);

        // With the setting off, the next report waits for a dispatcher.
        s.runtime.block_on(async {
            let off = wangge_store::demands::routing::CommunitySettings::default();
            wangge_store::demands::routing::set_settings(&s.db.db, &p.community, &off).await.unwrap();
        });
        let waiting = qr_report(&s, &p.building, "safety_hazard", "电梯按钮失灵");
        let (_, detail) = s.call(&member, "GET", &format!("/api/v1/demands/{waiting}"), None);
        assert_eq!(detail["demand"]["status"], "submitted", "{detail}");
        let _ = p.grid;
    }
}

#[test]
fn only_the_handler_the_dispatcher_and_the_call_back_desk_may_reveal_the_reporters_phone() {
    for s in crate::common::servers() {
        let (p, member_id, member) = place(&s);
        let item = qr_report(&s, &p.building, "environment", "三楼楼道堆满纸箱");
        let reveals = "SELECT COUNT(*) FROM audit_log WHERE action = 'reveal.phone'";

        // Others who see the item: a second grid member, the secretary (who did not
        // dispatch: it went automatically), a desk clerk not on the call-back desk.
        let (_, other_member) = person(&s, "member2", Role::GridMember, &["370602004011001"]);
        let (_, secretary) = person(&s, "secretary1", Role::CommunitySecretary, &["370602004011"]);
        let (clerk_id, clerk) = person(&s, "clerk1", Role::CommunityStaff, &["370602004011"]);
        for (who, auth) in [("member2", &other_member), ("secretary1", &secretary), ("clerk1", &clerk)] {
            let (status, html) = s.call_text(auth, "GET", &format!("/demands/{item}"), None);
            assert_eq!(status, 200, "{who} sees the item");
            assert!(!html.contains("call-back-reveal"), "{who} is not offered the call-back");
            let (status, body) = s.call_form(auth, &format!("/demands/{item}/call-back"), "");
            assert_eq!(status, 403, "{who}: {body}");
            let (status, body) = s.call(auth, "POST", &format!("/api/v1/demands/{item}/call-back"), None);
            assert_eq!(status, 403, "{who}: {body}");
            assert!(!body.to_string().contains("13805351234"));
        }
        assert_eq!(count(&s, reveals), 0, "a refused reveal is not logged as a reveal");

        // The handler: one tap shows the number as a tel: link, audited with the item.
        let (status, html) = s.call_text(&member, "GET", &format!("/demands/{item}"), None);
        assert_eq!(status, 200);
        assert!(html.contains("call-back-reveal") && !html.contains("13805351234"), "offered, still masked");
        let (status, body) = s.call_form(&member, &format!("/demands/{item}/call-back"), "");
        assert_eq!(status, 200, "{body}");
        let (status, html) = s.call_text(&member, "POST", &format!("/api/v1/demands/{item}/call-back"), None);
        assert_eq!(status, 200, "{html}");
        assert!(html.contains("13805351234"));
        assert_eq!(count(&s, reveals), 2);
        let reason = format!(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'reveal.phone' AND target_id = '{item}' AND reason LIKE '回访 %'"
        );
        assert_eq!(count(&s, &reason), 2, "each reveal names the item");

        // The page answer carries the tel: link.
        let session = match &member {
            Auth::Session { cookie, csrf } => (cookie.clone(), csrf.clone()),
            _ => unreachable!(),
        };
        let resp = s
            .agent
            .post(&format!("{}/demands/{item}/call-back", s.base))
            .header("cookie", &session.0)
            .header("content-type", "application/x-www-form-urlencoded")
            .send(format!("csrf_token={}", session.1))
            .unwrap();
        let html = resp.into_body().read_to_string().unwrap();
        assert!(html.contains("href=\"tel:13805351234\""), "{html}");
        // Without the CSRF token, refused.
        let resp = s
            .agent
            .post(&format!("{}/demands/{item}/call-back", s.base))
            .header("cookie", &session.0)
            .header("content-type", "application/x-www-form-urlencoded")
            .send("")
            .unwrap();
        assert_eq!(resp.status().as_u16(), 403);
        assert_eq!(count(&s, reveals), 3);

        // The call-back desk: the clerk joins the unit holding the call_back role.
        s.runtime.block_on(async {
            let db = &s.db.db;
            let desk = wangge_store::registry::organisations::create(
                db,
                wangge_store::registry::organisations::NewOrganisation {
                    grid_id: p.grid.clone(),
                    name: "塔山社区党群服务中心".into(),
                    kind: wangge_domain::OrganisationKind::GovernmentUnit,
                    address: None,
                    contact_name: None,
                    phone: None,
                },
            )
            .await
            .unwrap();
            wangge_store::units::hold(db, &desk.id, wangge_domain::UnitRole::CallBack, &p.community).await.unwrap();
            let new = wangge_store::units::NewMember {
                account_id: Some(clerk_id),
                name: "回访员".into(),
                duty: "回访".into(),
            };
            wangge_store::units::join(db, &desk.id, new).await.unwrap();
        });
        let (status, body) = s.call(&clerk, "POST", &format!("/api/v1/demands/{item}/call-back"), None);
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["phone"], "13805351234");

        // The dispatcher: the secretary dispatches the item again (to the grid member)
        // and may now call back.
        let (status, _) =
            s.call_form(&secretary, &format!("/demands/{item}/steps/dispatch"), &format!("handler={member_id}"));
        assert_eq!(status, 303);
        let (status, body) = s.call(&secretary, "POST", &format!("/api/v1/demands/{item}/call-back"), None);
        assert_eq!(status, 200, "{body}");
        assert_eq!(count(&s, reveals), 5);
    }
}

/// A community keeps its units on one page (add a unit in a role, add a person with
/// an account, end a membership) and sets automatic dispatch and its hotline; the
/// API lists them; a grid member may read but not change them.
#[test]
fn a_community_keeps_its_units_and_dispatch_settings() {
    for s in crate::common::servers() {
        let (p, _member_id, member) = place(&s);
        let (_, secretary) = person(&s, "secretary1", Role::CommunitySecretary, &["370602004011"]);
        let (fitter_id, _) = person(&s, "fitter1", Role::Auxiliary, &["370602004011"]);
        let units = format!("/registry/areas/{}/units", p.community);
        let body = format!("name=%E5%A1%94%E5%B1%B1%E7%89%A9%E4%B8%9A&role=property_company&grid_id={}", p.grid);
        let (status, _) = s.call_form(&secretary, &units, &body);
        assert_eq!(status, 303);
        let (status, listed) = s.call(&secretary, "GET", &format!("/api/v1/units?area={}", p.community), None);
        assert_eq!(status, 200, "{listed}");
        assert_eq!(listed[0]["organisation"]["name"], "塔山物业");
        assert_eq!(listed[0]["roles"][0]["role"], "property_company");
        let unit = listed[0]["organisation"]["id"].as_str().unwrap().to_owned();

        let (status, _) = s.call_form(
            &secretary,
            &format!("/registry/units/{unit}/members"),
            "name=%E6%9D%8E%E5%B8%88%E5%82%85&duty=%E7%BB%B4%E4%BF%AE&username=fitter1",
        );
        assert_eq!(status, 303);
        let (_, listed) = s.call(&secretary, "GET", &format!("/api/v1/units?area={}", p.community), None);
        assert_eq!(listed[0]["members"][0]["account_id"], fitter_id.as_str(), "{listed}");
        let membership = listed[0]["members"][0]["id"].as_str().unwrap().to_owned();

        // Settings: automatic dispatch off, a hotline.
        let settings = format!("/registry/areas/{}/dispatch-settings", p.community);
        let (status, _) = s.call_form(&secretary, &settings, "hotline=0535-6669999");
        assert_eq!(status, 303);
        let (status, html) = s.call_text(&secretary, "GET", &units, None);
        assert_eq!(status, 200);
        assert!(
            html.contains("0535-6669999")
                && html.contains("李师傅")
                && !html.contains("id=\"auto-dispatch\" name=\"auto_dispatch\" value=\"1\" checked")
        );
        let (status, _) = s.call_form(&secretary, &settings, "hotline=call+me");
        assert_eq!(status, 422, "a hotline is digits");

        // A grid member reads their community's units from their grid, changes nothing.
        let (status, _) = s.call_text(&member, "GET", &units, None);
        assert_eq!(status, 404, "the community page lies outside a grid member's scope");
        let (status, html) = s.call_text(&member, "GET", &format!("/registry/areas/{}/units", p.grid), None);
        assert_eq!(status, 200);
        assert!(!html.contains("add-unit"));
        let (status, _) = s.call_form(&member, &format!("/registry/unit-members/{membership}/end"), "");
        assert_eq!(status, 403);
        let (status, ended) = s.call(&secretary, "POST", &format!("/api/v1/unit-members/{membership}/end"), None);
        assert_eq!(status, 200, "{ended}");
        assert!(ended["left_at"].is_i64());
        let (_, listed) = s.call(&secretary, "GET", &format!("/api/v1/units?area={}", p.community), None);
        assert_eq!(listed[0]["members"].as_array().unwrap().len(), 0);
        assert_eq!(
            count(&s, "SELECT COUNT(*) FROM audit_log WHERE action LIKE 'unit.%' OR action = 'community.settings'"),
            4
        );
    }
}

/// The item page says where the problem is with links; the resident page lists the
/// household's items and offers a report for the household, prefilled.
#[test]
fn an_item_shows_where_it_is_and_a_household_reports_in_one_screen() {
    for s in crate::common::servers() {
        let (p, _member_id, _member) = place(&s);
        let (_, secretary) = person(&s, "secretary1", Role::CommunitySecretary, &["370602004011"]);
        let (household, resident) = s.runtime.block_on(async {
            let db = &s.db.db;
            let h = wangge_store::registry::households::create(
                db,
                wangge_store::registry::households::NewHousehold {
                    building_id: p.building.clone(),
                    unit: "1".into(),
                    room: "301".into(),
                    occupancy: wangge_domain::Occupancy::OwnerOccupied,
                },
            )
            .await
            .unwrap();
            let r = wangge_store::registry::residents::create(
                db,
                serde_json::from_value(json!({"household_id": h.id, "name": "刘桂兰",
                    "id_card": wangge_domain::IdCardNumber::compose(370602, time::Date::from_calendar_date(1950, time::Month::May, 5).unwrap(), 7).as_str()}))
                .unwrap(),
            )
            .await
            .unwrap();
            (h.id, r.id)
        });
        let (status, form) =
            s.call_text(&secretary, "GET", &format!("/demands/new?household={household}&resident={resident}"), None);
        assert_eq!(status, 200, "{form}");
        assert!(form.contains(&format!("value=\"{household}\" selected")), "the household chosen");
        assert!(form.contains(&format!("value=\"{}\" selected", p.building)), "its building chosen");
        assert!(form.contains("value=\"刘桂兰\""), "the reporter chosen");
        let item = s.runtime.block_on(async {
            let new = wangge_store::demands::NewDemand {
                household_id: Some(household.clone()),
                resident_id: Some(resident.clone()),
                category: "environment".into(),
                title: "下水道堵塞".into(),
                ..Default::default()
            };
            let by = wangge_store::demands::Actor { id: None, name: "t".into(), role: Role::CommunityStaff };
            wangge_store::demands::create(&s.db.db, new, &by, None).await.unwrap().id
        });
        let (status, html) = s.call_text(&secretary, "GET", &format!("/demands/{item}"), None);
        assert_eq!(status, 200, "{html}");
        let html = html.replace("&#x2f;", "/");
        assert!(html.contains("id=\"where\""));
        assert!(html.contains(&format!("/registry/buildings/{}", p.building)), "the building linked");
        assert!(html.contains(&format!("/registry/residents/{resident}")) && html.contains("刘桂兰"));
        let (_, page) = s.call_text(&secretary, "GET", &format!("/registry/residents/{resident}"), None);
        let page = page.replace("&#x2f;", "/");
        assert!(page.contains("report-for-household") && page.contains("下水道堵塞"), "{page}");
        let (_, building) = s.call_text(&secretary, "GET", &format!("/registry/buildings/{}", p.building), None);
        assert!(building.contains("building-items") && building.contains("下水道堵塞"));
        let building = building.replace("&#x2f;", "/");
        assert!(building.contains(&format!("/registry/households/{household}")), "each household opens its page");

        // The household's own page: its people, its items with their state, and the
        // one-screen report for it; the item's "where" links to it.
        assert!(html.contains(&format!("/registry/households/{household}")), "the item links the household page");
        let (status, hh) = s.call_text(&secretary, "GET", &format!("/registry/households/{household}"), None);
        assert_eq!(status, 200, "{hh}");
        let hh = hh.replace("&#x2f;", "/");
        assert!(hh.contains("刘桂兰") && hh.contains(&format!("/registry/residents/{resident}")), "its people");
        assert!(hh.contains("下水道堵塞") && hh.contains(&format!("/demands/{item}")), "its items");
        use wangge_domain::Vocabulary;
        assert!(hh.contains(wangge_domain::DemandStatus::Submitted.label_zh()), "with their state: {hh}");
        assert!(hh.contains(&format!("href=\"/demands/new?household={household}\"")), "report for it: {hh}");
        // Scope: a grid member of another grid, and an unknown id, are told "not found".
        s.runtime.block_on(async {
            let new = wangge_store::registry::areas::NewArea {
                parent_id: Some(p.community.clone()),
                level: wangge_domain::AreaLevel::Grid,
                code: "370602004011002".into(),
                name: "第二网格".into(),
                boundary: None,
            };
            wangge_store::registry::areas::create(&s.db.db, new).await.unwrap();
        });
        let (_, stranger) = person(&s, "member9", Role::GridMember, &["370602004011002"]);
        let (status, _) = s.call_text(&stranger, "GET", &format!("/registry/households/{household}"), None);
        assert_eq!(status, 404, "out of scope answers as unknown");
        let (status, _) = s.call_text(&secretary, "GET", "/registry/households/not-an-id", None);
        assert_eq!(status, 404);
    }
}
