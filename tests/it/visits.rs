//! Home visits over HTTP (issue 19): a grid member's due list (API and page), the
//! one-screen form that settles it, what was found kept out of the audit log, and
//! households of another grid out of reach.

use serde_json::Value;
use wangge_domain::Role;
use wangge_store::testing;

use crate::common::servers;

#[test]
fn a_grid_members_visit_settles_the_due_list() {
    for s in servers() {
        let db = &s.db.db;
        let h = s.runtime.block_on(async {
            wangge_store::registry::tags::ensure_standard(db).await.unwrap();
            let h = testing::hierarchy(db).await;
            let new = wangge_store::registry::residents::NewResident {
                household_id: h.household.id.clone(),
                name: "王奶奶".into(),
                gender: Some(wangge_domain::Gender::Female),
                birth_date: Some("1941-02-03".into()),
                tags: vec!["elderly_alone".into()],
                ..Default::default()
            };
            let grandma = wangge_store::registry::residents::create(db, new).await.unwrap();
            (h, grandma.id)
        });
        let (h, grandma) = h;
        let member = s.token(Role::GridMember, testing::GRID);

        // Due today: the household (quarterly, never visited) and 王奶奶 (weekly at the door).
        let (status, due) = s.call(&member, "GET", "/api/v1/visits/due", None);
        assert_eq!(status, 200, "{due}");
        let who = |due: &Value| -> Vec<String> {
            due.as_array().unwrap().iter().map(|e| e["subject"]["name"].as_str().unwrap_or("户").to_owned()).collect()
        };
        assert_eq!(who(&due), vec!["户", "王奶奶"], "{due}");
        assert_eq!(due[1]["room"], "301");
        assert_eq!(due[1]["overdue_days"], 0);
        let (status, page) = s.call_text(&member, "GET", "/visits", None);
        assert_eq!(status, 200);
        let page = page.replace("&#x2f;", "/");
        assert!(page.contains("王奶奶") && page.contains("1 / 1 户"), "{page}");
        assert!(page.contains(&format!("/visits/new?household={}&amp;resident={grandma}", h.household.id)), "{page}");
        let (status, form) =
            s.call_text(&member, "GET", &format!("/visits/new?household={}&resident={grandma}", h.household.id), None);
        assert_eq!(status, 200);
        assert!(form.contains("301") && form.contains(&format!("value=\"{grandma}\" checked")), "{form}");

        // No channel chosen: the form again, with what is missing and what was typed.
        let today = time::OffsetDateTime::now_utc().date() - time::Duration::days(1);
        let base = format!("household_id={}&resident_id={grandma}&visited_on={today}", h.household.id);
        let (status, again) =
            s.call_form(&member, "/visits", &format!("{base}&outcome=met&findings=%E8%A1%80%E5%8E%8B"));
        assert_eq!(status, 422);
        let again = again.as_str().unwrap().to_owned();
        assert!(again.contains("请选择走访方式") && again.contains(">血压</textarea>"), "{again}");

        // A call to her settles the household's quarterly cadence, not her door visit.
        let (status, _) = s.call_form(
            &member,
            "/visits",
            &format!("{base}&channel=phone&outcome=met&findings=%E8%A1%80%E5%8E%8B%E5%81%8F%E9%AB%98"),
        );
        assert_eq!(status, 303);
        let (_, due) = s.call(&member, "GET", "/api/v1/visits/due", None);
        assert_eq!(who(&due), vec!["王奶奶"], "{due}");
        // At the door: nothing is due.
        let body = serde_json::json!({"household_id": h.household.id, "channel": "door", "outcome": "met",
            "visited_on": today.to_string(), "purpose": "例行走访"});
        let (status, visit) = s.call(&member, "POST", "/api/v1/visits", Some(&body));
        assert_eq!(status, 201, "{visit}");
        let (_, due) = s.call(&member, "GET", "/api/v1/visits/due", None);
        assert_eq!(due, serde_json::json!([]));
        let (_, page) = s.call_text(&member, "GET", "/visits", None);
        assert!(page.contains("今天没有到期的走访"), "{page}");

        let (status, visits) = s.call(&member, "GET", &format!("/api/v1/households/{}/visits", h.household.id), None);
        assert_eq!(status, 200);
        assert_eq!(visits.as_array().unwrap().len(), 2);
        assert_eq!(
            (&visits[1]["findings"], &visits[1]["findings_recorded"]),
            (&Value::Null, &Value::Bool(true)),
            "{visits}"
        );
        let (status, opened) =
            s.call(&member, "POST", &format!("/api/v1/visits/{}/reveal", visits[1]["id"].as_str().unwrap()), None);
        assert_eq!((status, opened["findings"].as_str()), (200, Some("血压偏高")), "{opened}");
        let (_, coverage) = s.call(&member, "GET", "/api/v1/visits/coverage", None);
        assert_eq!((coverage["households"].as_u64(), coverage["not_visited"].as_u64()), (Some(1), Some(0)));

        // Audited, without what was found.
        let audited: Vec<String> = s
            .runtime
            .block_on(
                sqlx::query_scalar("SELECT COALESCE(after, '') FROM audit_log WHERE action = 'visit.record'")
                    .fetch_all(&db.pool),
            )
            .unwrap();
        assert_eq!(audited.len(), 2);
        assert!(audited.iter().all(|a| !a.contains("血压") && a.contains("\"channel\"")), "{audited:?}");

        // The grid next door reaches neither this household nor this grid's list.
        let next = s.token(Role::GridMember, testing::OTHER_GRID);
        let (status, _) = s.call(&next, "POST", "/api/v1/visits", Some(&body));
        assert_eq!(status, 404);
        let (status, _) = s.call(&next, "GET", &format!("/api/v1/visits/due?area={}", testing::GRID), None);
        assert_eq!(status, 403);
        let street = s.token(Role::StreetOfficial, testing::STREET);
        let (status, _) = s.call(&street, "GET", "/visits", None);
        assert_eq!(status, 403, "officials above the community do not visit");
    }
}

fn elderly(s: &crate::common::Server) -> (testing::Hierarchy, String) {
    let db = &s.db.db;
    s.runtime.block_on(async {
        wangge_store::registry::tags::ensure_standard(db).await.unwrap();
        let h = testing::hierarchy(db).await;
        let new = wangge_store::registry::residents::NewResident {
            household_id: h.household.id.clone(),
            name: "王奶奶".into(),
            gender: Some(wangge_domain::Gender::Female),
            birth_date: Some("1941-02-03".into()),
            phone: Some("13800001111".into()),
            tags: vec!["elderly_alone".into()],
            ..Default::default()
        };
        let grandma = wangge_store::registry::residents::create(db, new).await.unwrap();
        (h, grandma.id)
    })
}

/// A finding becomes a demand in the same form (channel 走访, linked both ways), an
/// answered consultation from the visit's page, and a correction that a community
/// worker confirms (applied, before/after audited). What was found stays "已记录"
/// until revealed (audited), and a street official who follows the demand sees
/// only "已记录".
#[test]
fn a_finding_becomes_a_demand_a_consultation_and_a_correction() {
    for s in servers() {
        let db = &s.db.db;
        let (h, grandma) = elderly(&s);
        let member = s.token(Role::GridMember, testing::GRID);
        let today = time::OffsetDateTime::now_utc().date() - time::Duration::days(1);
        let base = format!(
            "household_id={}&resident_id={grandma}&visited_on={today}&channel=door&outcome=met&findings=%E8%85%BF%E7%96%BC",
            h.household.id
        );
        // Becomes a demand without a title: refused, nothing written.
        let (status, again) = s.call_form(&member, "/visits", &format!("{base}&becomes=demand&category=environment"));
        assert_eq!(status, 422);
        assert!(again.as_str().unwrap().contains("请写一句诉求或咨询的标题"), "{again}");
        let (_, visits) = s.call(&member, "GET", &format!("/api/v1/households/{}/visits", h.household.id), None);
        assert_eq!(visits, serde_json::json!([]));
        let title = "%E6%A5%BC%E9%81%93%E7%81%AF%E5%9D%8F%E4%BA%86"; // 楼道灯坏了
        let (status, _) =
            s.call_form(&member, "/visits", &format!("{base}&becomes=demand&category=environment&title={title}"));
        assert_eq!(status, 303);
        let (_, visits) = s.call(&member, "GET", &format!("/api/v1/households/{}/visits", h.household.id), None);
        let visit = visits[0]["id"].as_str().unwrap().to_owned();
        let demand = visits[0]["demand_id"].as_str().expect("linked").to_owned();
        let (_, d) = s.call(&member, "GET", &format!("/api/v1/demands/{demand}"), None);
        let d = &d["demand"];
        assert_eq!((d["channel"].as_str(), d["title"].as_str()), (Some("visit"), Some("楼道灯坏了")), "{d}");
        assert!(!d.to_string().contains("腿疼"), "what was found stays on the visit: {d}");
        let (_, page) = s.call_text(&member, "GET", &format!("/demands/{demand}"), None);
        assert!(page.replace("&#x2f;", "/").contains(&format!("href=\"/visits/{visit}\"")), "links back");

        // The visit's page: 已记录 until revealed, the reveal audited.
        let (status, page) = s.call_text(&member, "GET", &format!("/visits/{visit}"), None);
        assert_eq!(status, 200);
        assert!(page.contains("已记录") && !page.contains("腿疼"), "{page}");
        let (status, page) = s.call_form(&member, &format!("/visits/{visit}/findings"), "");
        assert_eq!(status, 200);
        assert!(page.as_str().unwrap().contains("腿疼"));
        let reveals: i64 = s
            .runtime
            .block_on(
                sqlx::query_scalar(
                    "SELECT COUNT(*) FROM audit_log WHERE action = 'reveal.findings' AND target_id = $1",
                )
                .bind(&visit)
                .fetch_one(&db.pool),
            )
            .unwrap();
        assert_eq!(reveals, 1);
        let street = s.token(Role::StreetOfficial, testing::STREET);
        let (status, page) = s.call_text(&street, "GET", &format!("/visits/{visit}"), None);
        assert_eq!(status, 200);
        assert!(page.contains("已记录") && !page.contains("腿疼") && !page.contains("王奶奶"), "{page}");
        let (status, _) = s.call_form(&street, &format!("/visits/{visit}/findings"), "");
        assert_eq!(status, 403);
        // One demand per visit.
        let (status, _) = s.call(
            &member,
            "POST",
            &format!("/api/v1/visits/{visit}/demand"),
            Some(&serde_json::json!({"becomes": "demand", "category": "environment", "title": "又一件"})),
        );
        assert_eq!(status, 409);

        // A phone call where she asked about the subsidy: answered on the spot.
        let call = serde_json::json!({"household_id": h.household.id, "resident_id": grandma, "channel": "phone",
            "outcome": "met", "visited_on": today.to_string()});
        let (_, called) = s.call(&member, "POST", "/api/v1/visits", Some(&call));
        let called = called["id"].as_str().unwrap().to_owned();
        let (status, d) = s.call(
            &member,
            "POST",
            &format!("/api/v1/visits/{called}/demand"),
            Some(&serde_json::json!({"becomes": "consultation", "title": "高龄补贴怎么申请", "answer": "带身份证到社区办理"})),
        );
        assert_eq!(status, 201, "{d}");
        assert_eq!(
            (d["kind"].as_str(), d["status"].as_str(), d["channel"].as_str()),
            (Some("consultation"), Some("closed"), Some("visit"))
        );

        // A new phone number, proposed at the visit and confirmed by the community.
        let form = "resident_id=".to_owned() + &grandma + "&field=phone&value=13912345678&note=%E6%8D%A2%E5%8F%B7";
        let (status, _) = s.call_form(&member, &format!("/visits/{visit}/correction"), &form);
        assert_eq!(status, 303);
        let staff = s.token(Role::CommunityStaff, testing::COMMUNITY);
        let (status, page) = s.call_text(&staff, "GET", "/corrections", None);
        assert_eq!(status, 200);
        assert!(page.contains("王奶奶") && page.contains("13912345678"), "{page}");
        let id: String =
            s.runtime.block_on(sqlx::query_scalar("SELECT id FROM registry_corrections").fetch_one(&db.pool)).unwrap();
        let (status, _) = s.call_form(&staff, &format!("/corrections/{id}/confirm"), "");
        assert_eq!(status, 303);
        let (_, r) = s.call(&staff, "GET", &format!("/api/v1/residents/{grandma}"), None);
        assert_eq!(r["phone"], "139****5678", "{r}");
        let audited: Vec<(String, String)> = s
            .runtime
            .block_on(
                sqlx::query_as(
                    "SELECT COALESCE(before, ''), COALESCE(after, '') FROM audit_log
                     WHERE action = 'resident.update' AND target_id = $1",
                )
                .bind(&grandma)
                .fetch_all(&db.pool),
            )
            .unwrap();
        assert_eq!(audited.len(), 1);
        assert!(audited[0].0.contains("138****1111") && audited[0].1.contains("139****5678"), "{audited:?}");
        let (status, _) = s.call_form(&staff, &format!("/corrections/{id}/decline"), "");
        assert_eq!(status, 409, "decided once");
        let proposals: Vec<String> = s
            .runtime
            .block_on(
                sqlx::query_scalar("SELECT COALESCE(after, '') FROM audit_log WHERE action = 'correction.propose'")
                    .fetch_all(&db.pool),
            )
            .unwrap();
        assert!(proposals.len() == 1 && !proposals[0].contains("1391234"), "proposed without the value: {proposals:?}");
    }
}

/// Edits within the window (7 days after it was recorded), refused after with the
/// day it locked; a grid next door cannot edit.
#[test]
fn a_visit_is_edited_within_its_window_and_locked_after() {
    for s in servers() {
        let db = &s.db.db;
        let (h, grandma) = elderly(&s);
        let member = s.token(Role::GridMember, testing::GRID);
        let today = time::OffsetDateTime::now_utc().date() - time::Duration::days(1);
        let body = serde_json::json!({"household_id": h.household.id, "resident_id": grandma, "channel": "phone",
            "outcome": "met", "visited_on": today.to_string(), "findings": "血压"});
        let (_, v) = s.call(&member, "POST", "/api/v1/visits", Some(&body));
        let id = v["id"].as_str().unwrap().to_owned();
        let (status, form) = s.call_text(&member, "GET", &format!("/visits/{id}/edit"), None);
        assert_eq!(status, 200);
        assert!(form.contains(">血压</textarea>"), "{form}");
        let edit = format!(
            "resident_id={grandma}&channel=door&outcome=met&visited_on={today}&purpose=x&findings=%E8%A1%80%E5%8E%8B%E6%AD%A3%E5%B8%B8"
        );
        let (status, _) = s.call_form(&member, &format!("/visits/{id}/edit"), &edit);
        assert_eq!(status, 303);
        let (_, v) = s.call(&member, "GET", &format!("/api/v1/visits/{id}"), None);
        assert_eq!(v["channel"], "door");
        let next = s.token(Role::GridMember, testing::OTHER_GRID);
        let (status, _) = s.call(
            &next,
            "PATCH",
            &format!("/api/v1/visits/{id}"),
            Some(&serde_json::json!({
            "channel": "door", "outcome": "met", "visited_on": today.to_string()})),
        );
        assert_eq!(status, 404);

        // Recorded eight days ago: locked.
        let eight_days = wangge_domain::now_millis() - 8 * 24 * 3600 * 1000;
        s.runtime
            .block_on(
                sqlx::query("UPDATE visits SET created_at = $1 WHERE id = $2")
                    .bind(eight_days)
                    .bind(&id)
                    .execute(&db.pool),
            )
            .unwrap();
        let (status, page) = s.call_form(&member, &format!("/visits/{id}/edit"), &edit);
        assert_eq!(status, 409);
        assert!(page.as_str().unwrap().contains("7 天后不能再修改"), "{page}");
        let (status, answer) = s.call(
            &member,
            "PATCH",
            &format!("/api/v1/visits/{id}"),
            Some(&serde_json::json!({
            "channel": "door", "outcome": "met", "visited_on": today.to_string()})),
        );
        assert_eq!((status, answer["error"]["code"].as_str()), (409, Some("conflict")), "{answer}");
        let (_, page) = s.call_text(&member, "GET", &format!("/visits/{id}"), None);
        assert!(page.contains("已锁定") && !page.contains("id=\"visit-edit\""), "{page}");
    }
}

/// 今日 shows the visits due in the grid member's grid, each opening the form.
#[test]
fn today_lists_the_visits_due() {
    for s in servers() {
        let (h, grandma) = elderly(&s);
        let member = s.token(Role::GridMember, testing::GRID);
        let (status, page) = s.call_text(&member, "GET", "/today", None);
        assert_eq!(status, 200);
        let page = page.replace("&#x2f;", "/");
        assert!(page.contains("id=\"today-visits_due\""), "{page}");
        assert!(page.contains(&format!("/visits/new?household={}&amp;resident={grandma}", h.household.id)), "{page}");
        assert!(page.contains("王奶奶"));
    }
}

/// The cadences and spells through the JSON API (`manage_visits`), and the list of
/// suspended, ended and shortened cadences: a secretary makes 王奶奶's weekly door
/// visit every 5 days, declares a heat spell over today (she becomes due daily, the
/// cadence's spell interval), and ends her household's visits, which the list then
/// shows with the reason. A grid member may read none of it; another community's
/// cadence answers as an unknown id.
#[test]
fn cadences_and_spells_through_the_api_and_the_adjustments_list() {
    for s in servers() {
        let (h, grandma) = elderly(&s);
        let secretary = s.token(Role::CommunitySecretary, testing::COMMUNITY);
        let (status, settings) = s.call(&secretary, "GET", "/api/v1/visits/cadences", None);
        assert_eq!(status, 200, "{settings}");
        assert_eq!(settings["community_id"], h.community.id.as_str());
        assert_eq!(settings["lock_days"], 7);
        let alone = settings["cadences"].as_array().unwrap().iter().find(|c| c["tag"] == "elderly_alone").unwrap();
        assert_eq!((alone["every_days"].as_u64(), alone["spell_every_days"].as_u64()), (Some(7), Some(1)), "{alone}");
        let id = alone["id"].as_str().unwrap().to_owned();

        let change = serde_json::json!({"every_days": 5, "spell_every_days": 1, "channels": ["door", "video"]});
        let (status, after) = s.call(&secretary, "PUT", &format!("/api/v1/visits/cadences/{id}"), Some(&change));
        assert_eq!(status, 200, "{after}");
        let alone = after["cadences"].as_array().unwrap().iter().find(|c| c["id"] == id.as_str()).unwrap();
        assert_eq!(alone["every_days"], 5);
        let bad = serde_json::json!({"every_days": 0});
        let (status, _) = s.call(&secretary, "PUT", &format!("/api/v1/visits/cadences/{id}"), Some(&bad));
        assert_eq!(status, 422, "an interval of 0 days is refused");
        let unknown = wangge_domain::new_id();
        let (status, _) = s.call(&secretary, "PUT", &format!("/api/v1/visits/cadences/{unknown}"), Some(&change));
        assert_eq!(status, 404);

        // A visit yesterday at the door: not due today on 5 days, due today in a spell.
        let yesterday = (time::OffsetDateTime::now_utc().to_offset(wangge_domain::demands::CHINA).date()
            - time::Duration::days(1))
        .to_string();
        let member = s.token(Role::GridMember, testing::GRID);
        let visit = serde_json::json!({"household_id": h.household.id, "channel": "door", "outcome": "met",
            "visited_on": yesterday});
        assert_eq!(s.call(&member, "POST", "/api/v1/visits", Some(&visit)).0, 201);
        let due_names = |s: &crate::common::Server| -> Vec<String> {
            let (_, due) = s.call(&member, "GET", "/api/v1/visits/due", None);
            due.as_array().unwrap().iter().filter_map(|e| e["subject"]["name"].as_str().map(str::to_owned)).collect()
        };
        assert!(due_names(&s).is_empty(), "visited yesterday, every 5 days");
        let today = time::OffsetDateTime::now_utc().to_offset(wangge_domain::demands::CHINA).date();
        let spell = serde_json::json!({"kind": "heat", "from": today.to_string(),
            "to": (today + time::Duration::days(2)).to_string()});
        let (status, made) = s.call(&secretary, "POST", "/api/v1/visits/spells", Some(&spell));
        assert_eq!(status, 201, "{made}");
        assert_eq!(due_names(&s), vec!["王奶奶"], "daily during the heat spell");
        let (status, spells) = s.call(&secretary, "GET", "/api/v1/visits/spells", None);
        assert_eq!(status, 200);
        assert_eq!(spells[0]["kind"], "heat");
        let freeze = serde_json::json!({"kind": "blizzard", "from": today.to_string(), "to": today.to_string()});
        assert_eq!(s.call(&secretary, "POST", "/api/v1/visits/spells", Some(&freeze)).0, 422);

        // Her visits end: she leaves the list, and the adjustments list says why.
        s.runtime.block_on(async {
            wangge_store::visits::adjust(
                &s.db.db,
                &h.household.id,
                Some(&grandma),
                None,
                &today.to_string(),
                None,
                "随女儿外地居住",
                None,
            )
            .await
            .unwrap();
        });
        assert!(due_names(&s).is_empty(), "ended");
        let (status, list) = s.call(&secretary, "GET", "/api/v1/visits/adjustments", None);
        assert_eq!(status, 200, "{list}");
        assert_eq!(list[0]["kind"], "ended");
        assert_eq!(list[0]["name"], "王奶奶");
        assert_eq!(list[0]["reason"], "随女儿外地居住");
        let (status, page) = s.call_text(&secretary, "GET", "/visits/adjustments", None);
        assert_eq!(status, 200);
        assert!(page.contains("王奶奶") && page.contains("终止") && page.contains("随女儿外地居住"), "{page}");
        let (status, cadences) = s.call_text(&secretary, "GET", "/visits/cadences", None);
        assert_eq!(status, 200);
        assert!(cadences.contains("id=\"adjustments-link\""), "reached from the cadences page");

        for path in ["/api/v1/visits/cadences", "/api/v1/visits/spells", "/api/v1/visits/adjustments"] {
            assert_eq!(s.call(&member, "GET", path, None).0, 403, "{path}: a grid member does not manage cadences");
        }
    }
}

/// The first bytes of a PNG file: enough for its type to be told by its content.
const PNG: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, b'I', b'H', b'D', b'R'];

/// A chance meeting recorded with where it happened and a photo: a file that is not
/// a photo is refused with nothing recorded; the photo is on the visit's page for
/// those who visit in the community, each view audited, and out of reach for the
/// next grid's member (404) and the street (403).
#[test]
fn a_visit_keeps_where_it_happened_and_its_photo() {
    for s in servers() {
        let db = &s.db.db;
        let (h, grandma) = elderly(&s);
        let member = s.token(Role::GridMember, testing::GRID);
        let yesterday = (time::OffsetDateTime::now_utc().date() - time::Duration::days(1)).to_string();
        let fields = [
            ("household_id", h.household.id.as_str()),
            ("resident_id", grandma.as_str()),
            ("visited_on", yesterday.as_str()),
            ("channel", "chance"),
            ("outcome", "met"),
            ("location", "小区南门"),
        ];
        let (status, _, page) = crate::demand_forms::post_files(
            &s,
            &member,
            "/visits",
            &fields,
            "photos",
            &[("note.txt", b"no photo".as_slice())],
        );
        assert_eq!(status, 422, "{page}");
        assert!(page.contains("note.txt") && page.contains("小区南门"), "named, typed kept: {page}");
        let (_, visits) = s.call(&member, "GET", &format!("/api/v1/households/{}/visits", h.household.id), None);
        assert_eq!(visits, serde_json::json!([]), "nothing recorded");

        let (status, location, _) =
            crate::demand_forms::post_files(&s, &member, "/visits", &fields, "photos", &[("门口.png", PNG)]);
        assert_eq!(status, 303);
        let visit = location.trim_start_matches("/visits/").split('?').next().unwrap().to_owned();
        let (_, visits) = s.call(&member, "GET", &format!("/api/v1/households/{}/visits", h.household.id), None);
        assert_eq!(visits[0]["location"], "小区南门");
        let (_, page) = s.call_text(&member, "GET", &format!("/visits/{visit}"), None);
        assert!(page.contains("id=\"visit-location\">小区南门"), "{page}");
        let photo = page
            .split(&format!("/visits/{visit}/photos/"))
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("the photo on the visit's page")
            .to_owned();
        let at = format!("/visits/{visit}/photos/{photo}");
        let (status, kind, body) = crate::campaigns::get_bytes(&s, &member, &at);
        assert_eq!((status, kind.as_str(), body.as_slice()), (200, "image/png", PNG));
        let next = s.token(Role::GridMember, testing::OTHER_GRID);
        let (status, _) = s.call_text(&next, "GET", &at, None);
        assert_eq!(status, 404);
        let street = s.token(Role::StreetOfficial, testing::STREET);
        let (status, _) = s.call_text(&street, "GET", &at, None);
        assert_eq!(status, 403);
        let (_, page) = s.call_text(&street, "GET", &format!("/visits/{visit}"), None);
        assert!(!page.contains("/photos/"), "no photo above the community");
        let views: i64 = s.runtime.block_on(async {
            sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'visit.photo.view' AND target_id = $1")
                .bind(&photo)
                .fetch_one(&db.pool)
                .await
                .unwrap()
        });
        assert_eq!(views, 1);
    }
}
