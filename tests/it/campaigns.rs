//! Door-to-door campaigns over HTTP (issue 20): a secretary starts one from a
//! shipped form; the grid member finds it in 今日, marks a door "nobody home",
//! comes back to it from the revisit queue and fills the form page by page (a
//! constraint refused with the answers kept); progress per grid against
//! hand-computed figures; a grid member of the next grid sees none of it; the form
//! goes out and comes back as XLSForm (a row outside the subset named), answers
//! with the old version refused; the results as .xlsx, pseudonymised for a street.
//! The check's day is written back to the registry, held as a conflict when the
//! registry changed after the form was opened, and settled by the secretary. A
//! photo question takes its photo on the page and through the API.

use serde_json::Value;
use wangge_domain::Role;
use wangge_domain::campaigns::Fact;
use wangge_domain::campaigns::builtin::Builtin;
use wangge_store::campaigns::write_back;
use wangge_store::testing;

use crate::common::{Auth, Server, servers};
use crate::demand_forms::post_files;

/// A GET whose body is a file.
pub(crate) fn get_bytes(s: &Server, who: &Auth, path: &str) -> (u16, String, Vec<u8>) {
    let mut request = http::Request::builder().method("GET").uri(format!("{}{path}", s.base));
    match who {
        Auth::Bearer(token) => request = request.header("authorization", format!("Bearer {token}")),
        Auth::Session { cookie, .. } => request = request.header("cookie", cookie),
        Auth::None => {}
    }
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let mut resp = agent.run(request.body(()).unwrap()).unwrap();
    let kind = resp.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let status = resp.status().as_u16();
    (status, kind, resp.body_mut().with_config().limit(10_000_000).read_to_vec().unwrap())
}

fn text(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_owned)
}

#[test]
fn a_campaign_from_start_to_results() {
    for s in servers() {
        let db = &s.db.db;
        let h = s.runtime.block_on(async {
            wangge_store::registry::tags::ensure_standard(db).await.unwrap();
            let h = testing::hierarchy(db).await;
            // A second door, in the next grid.
            let b = wangge_store::registry::buildings::create(
                db,
                wangge_store::registry::buildings::NewBuilding {
                    grid_id: h.other_grid.id.clone(),
                    number: "7".into(),
                    address: None,
                    kind: wangge_domain::BuildingKind::Residential,
                    floors: Some(6),
                    units: None,
                    lat: None,
                    lng: None,
                },
            )
            .await
            .unwrap();
            wangge_store::registry::households::create(
                db,
                wangge_store::registry::households::NewHousehold {
                    building_id: b.id,
                    unit: "2".into(),
                    room: "502".into(),
                    occupancy: wangge_domain::Occupancy::Rented,
                },
            )
            .await
            .unwrap();
            h
        });
        let secretary = s.token(Role::CommunitySecretary, testing::COMMUNITY);
        let member = s.token(Role::GridMember, testing::GRID);
        let neighbour = s.token(Role::GridMember, testing::OTHER_GRID);
        let street = s.token(Role::StreetOfficial, testing::STREET);
        let today = wangge_store::campaigns::today();
        let closes = today + time::Duration::days(7);

        // Closing before opening: the form again, with the reason and the name kept.
        let base = format!(
            "area={}&template=builtin%3Agas_check&title=%E7%87%83%E6%B0%94%E5%AE%89%E5%85%A8%E6%8E%92%E6%9F%A5&target_kind=household&opens_on={today}",
            testing::COMMUNITY
        );
        let (status, page) = s.call_form(&secretary, "/campaigns", &format!("{base}&closes_on=2020-01-01"));
        let page = text(&page);
        assert_eq!(status, 422, "{page}");
        assert!(page.contains("早于开始日期") && page.contains("value=\"燃气安全排查\""), "{page}");
        let (status, _) = s.call_form(&secretary, "/campaigns", &format!("{base}&closes_on={closes}"));
        assert_eq!(status, 303);
        let (status, list) = s.call(&secretary, "GET", "/api/v1/campaigns", None);
        assert_eq!(status, 200, "{list}");
        assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
        let id = list[0]["id"].as_str().unwrap().to_owned();
        assert_eq!(list[0]["phase"], "running");
        assert_eq!(
            (list[0]["progress"]["expected"].as_u64(), list[0]["progress"]["pending"].as_u64()),
            (Some(2), Some(2))
        );

        // The grid member: the door in 今日, only their own grid's.
        let (status, today_page) = s.call_text(&member, "GET", "/today", None);
        assert_eq!(status, 200);
        assert!(today_page.contains("today-campaigns_open") && today_page.contains("3号楼 1单元 301"), "{today_page}");
        let (status, mine) = s.call(&member, "GET", &format!("/api/v1/campaigns/{id}/targets"), None);
        assert_eq!(status, 200, "{mine}");
        assert_eq!(mine.as_array().unwrap().len(), 1, "{mine}");
        let target = mine[0]["id"].as_str().unwrap().to_owned();
        assert_eq!(mine[0]["room"], "301");
        let (status, _) = s.call_text(&neighbour, "GET", &format!("/campaigns/targets/{target}"), None);
        assert_eq!(status, 404, "the next grid's member never reaches this door");
        let (status, _) = s.call_form(&neighbour, &format!("/campaigns/targets/{target}/mark"), "status=refused");
        assert_eq!(status, 404);

        // Nobody home: to the revisit queue, and back from it.
        let (status, _) = s.call_form(&member, &format!("/campaigns/targets/{target}/mark"), "status=not_home");
        assert_eq!(status, 303);
        let (_, page) = s.call_text(&member, "GET", &format!("/campaigns/{id}"), None);
        let revisit = page.split("id=\"campaign-revisit\"").nth(1).expect("the revisit queue lists the door");
        assert!(revisit.contains(&target), "{page}");
        assert!(page.contains("不在家"), "{page}");
        let (status, _) = s.call_form(&member, &format!("/campaigns/targets/{target}/mark"), "status=exempt");
        assert_eq!(status, 403, "only those who run the campaign exempt a door");

        // The form, page by page: page 2 appears only after "uses gas", page 3 only
        // for an old hose or no alarm; a constraint refused keeps every answer.
        let at = format!("/campaigns/targets/{target}");
        let (status, first) = s.call_text(&member, "GET", &at, None);
        assert_eq!(status, 200);
        assert!(first.contains("是否使用管道燃气或液化气") && !first.contains("燃气设备"), "{first}");
        // When the form was opened rides along: a registry fact changed after it is
        // not overwritten.
        let opened = first.split("name=\"opened\" value=\"").nth(1).and_then(|v| v.split('"').next()).unwrap();
        let (status, second) =
            s.call_form(&member, &at, &format!("version=1&opened={opened}&page=0&go=next&a.uses_gas=yes"));
        assert_eq!(status, 200);
        let second = text(&second);
        assert!(
            second.contains("燃气设备（可多选）") && second.contains("name=\"a.uses_gas\" value=\"yes\""),
            "{second}"
        );
        let page1 = format!(
            "version=1&opened={opened}&page=1&a.uses_gas=yes&a.kinds=stove&a.kinds=water_heater&a.alarm=no&a.checked_on={today}"
        );
        let (status, refused) = s.call_form(&member, &at, &format!("{page1}&go=next&a.hose_age=60"));
        assert_eq!(status, 422);
        let refused = text(&refused);
        assert!(refused.contains("答案不符合这一题的要求") && refused.contains("value=\"60\""), "{refused}");
        assert!(refused.contains("value=\"water_heater\" checked"), "{refused}");
        let (status, third) = s.call_form(&member, &at, &format!("{page1}&go=next&a.hose_age=5"));
        assert_eq!(status, 200);
        assert!(text(&third).contains("发现的隐患"), "{third}");
        // Meanwhile the gas company's own check of yesterday goes into the registry.
        let yesterday = (today - time::Duration::days(1)).to_string();
        s.runtime
            .block_on(write_back::set(db, &h.household.id, &h.grid.path, Fact::GasCheckedOn, &yesterday, "燃气公司"))
            .unwrap();
        let (status, saved) = s.call_form(
            &member,
            &at,
            &format!(
                "{}&a.hose_age=5&go=save&a.problem=%E8%BD%AF%E7%AE%A1%E8%80%81%E5%8C%96",
                page1.replace("page=1", "page=2")
            ),
        );
        assert_eq!(status, 303, "{saved}");

        // Progress by hand: grid 1 has one door, done today (on time); grid 2 one
        // door, not visited. Total 2 expected, 1 done.
        let (status, progress) = s.call(&secretary, "GET", &format!("/api/v1/campaigns/{id}/progress"), None);
        assert_eq!(status, 200, "{progress}");
        let figures: Vec<(u64, u64, u64, u64, u64)> = progress
            .as_array()
            .unwrap()
            .iter()
            .map(|g| {
                let n = |k: &str| g[k].as_u64().unwrap();
                (n("expected"), n("done"), n("on_time"), n("not_reachable"), n("pending"))
            })
            .collect();
        assert_eq!(figures, vec![(1, 1, 1, 0, 0), (1, 0, 0, 0, 1), (2, 1, 1, 0, 1)], "{progress}");
        let (_, own) = s.call(&member, "GET", &format!("/api/v1/campaigns/{id}/progress"), None);
        assert_eq!(own.as_array().unwrap().len(), 2, "the member sees their grid and its total: {own}");
        let (_, answers) = s.call_text(&secretary, "GET", &at, None);
        assert!(answers.contains("灶具、燃气热水器") && answers.contains("软管老化"), "{answers}");

        // The answer's day was held back: the registry keeps the gas company's until
        // the secretary, who sees both side by side, keeps the answer's.
        let facts = || s.runtime.block_on(write_back::facts(db, std::slice::from_ref(&h.household.id))).unwrap();
        assert_eq!(facts()[0].value, yesterday, "no silent overwrite");
        let (_, page) = s.call_text(&secretary, "GET", &format!("/campaigns/{id}"), None);
        let listed = page.split("id=\"campaign-conflicts\"").nth(1).expect("the conflicts are listed");
        assert!(
            listed.contains("燃气公司") && listed.contains(&yesterday) && listed.contains(&today.to_string()),
            "{page}"
        );
        let (_, page) = s.call_text(&member, "GET", &format!("/campaigns/{id}"), None);
        assert!(!page.contains("campaign-conflicts"), "a grid member does not settle conflicts");
        let (status, open) = s.call(&secretary, "GET", &format!("/api/v1/campaigns/{id}/conflicts"), None);
        assert_eq!(status, 200, "{open}");
        assert_eq!(open.as_array().unwrap().len(), 1, "{open}");
        assert_eq!(
            (open[0]["fact"].as_str(), open[0]["registry_value"].as_str()),
            (Some("gas_checked_on"), Some(yesterday.as_str()))
        );
        let conflict = open[0]["id"].as_str().unwrap().to_owned();
        let (status, _) = s.call_form(&member, &format!("/campaigns/conflicts/{conflict}"), "keep=answer");
        assert_eq!(status, 403, "grid members do not settle conflicts");
        let (status, _) = s.call_form(&secretary, &format!("/campaigns/conflicts/{conflict}"), "keep=answer");
        assert_eq!(status, 303);
        assert_eq!(facts()[0].value, today.to_string());
        let body = serde_json::json!({"keep": "registry"});
        let (status, _) = s.call(&secretary, "POST", &format!("/api/v1/campaign-conflicts/{conflict}"), Some(&body));
        assert_eq!(status, 409, "settled once");
        let (_, household) = s.call_text(&secretary, "GET", &format!("/registry/households/{}", h.household.id), None);
        let written = household.split("id=\"household-facts\"").nth(1).expect("the household's facts");
        assert!(written.contains("最近燃气检查") && written.contains("燃气安全排查"), "{household}");

        // XLSForm out, and back in: a row outside the subset is named, nothing
        // changes; a good form becomes version 2 and answers of version 1 are refused.
        let (status, kind, bytes) = get_bytes(&s, &secretary, &format!("/campaigns/{id}/form.xlsx"));
        assert_eq!(status, 200);
        assert!(kind.contains("spreadsheetml"), "{kind}");
        let form = wangge_ledger::xlsform::read_form_bytes(&bytes).unwrap();
        assert_eq!(form, Builtin::find("gas_check").unwrap().form());
        let mut bad = form.clone();
        bad.questions[4].relevant = None;
        let mut sheets = wangge_domain::campaigns::xlsform::write(&bad);
        let relevant = sheets[0].rows[0].iter().position(|h| h == "relevant").unwrap();
        let last = sheets[0].rows.iter().position(|r| r[1] == "problem").unwrap();
        sheets[0].rows[last][relevant] = "string-length(${problem}) > 3".into();
        let bad_bytes = workbook(&sheets);
        let upload = format!("/campaigns/{id}/form");
        let (status, _, page) = post_files(&s, &secretary, &upload, &[], "file", &[("bad.xlsx", &bad_bytes)]);
        assert_eq!(status, 422);
        assert!(page.contains(&format!("工作表 survey 第 {} 行，列 relevant", last + 1)), "{page}");
        let good = wangge_ledger::xlsform::form_xlsx_bytes(&Builtin::find("flood_check").unwrap().form()).unwrap();
        let (status, location, _) = post_files(&s, &secretary, &upload, &[], "file", &[("flood.xlsx", &good)]);
        assert_eq!(status, 303, "{location}");
        let (_, mine) = s.call(&neighbour, "GET", &format!("/api/v1/campaigns/{id}/targets"), None);
        let other = mine[0]["id"].as_str().unwrap().to_owned();
        let body = serde_json::json!({"version": 1, "answers": {"uses_gas": "no"}});
        let (status, _) = s.call(&neighbour, "POST", &format!("/api/v1/campaign-targets/{other}/answers"), Some(&body));
        assert_eq!(status, 409, "the form changed to version 2");
        let body =
            serde_json::json!({"version": 2, "answers": {"basement": "yes", "leaks": "no", "needs_help": "yes"}});
        let (status, errors) =
            s.call(&neighbour, "POST", &format!("/api/v1/campaign-targets/{other}/answers"), Some(&body));
        assert_eq!(status, 422);
        assert_eq!(errors["errors"][0]["question"], "help_note", "{errors}");

        // The results: the community sees doors and names, the street does not.
        let (status, _, bytes) = get_bytes(&s, &secretary, &format!("/campaigns/{id}/results.xlsx"));
        assert_eq!(status, 200);
        let table = wangge_ledger::table::read_xlsx_bytes(&bytes).unwrap();
        let rows: Vec<Vec<String>> = table.rows.iter().map(|r| r.cells.clone()).collect();
        let header = rows.iter().find(|r| r.first().is_some_and(|c| c == "网格")).expect("a header row");
        assert!(header.contains(&"门牌".to_owned()), "{header:?}");
        assert!(rows.iter().any(|r| r.contains(&"301".to_owned()) && r.contains(&"已完成".to_owned())), "{rows:?}");
        let (status, _, bytes) = get_bytes(&s, &street, &format!("/campaigns/{id}/results.xlsx"));
        assert_eq!(status, 200);
        let table = wangge_ledger::table::read_xlsx_bytes(&bytes).unwrap();
        assert!(table.rows.iter().all(|r| !r.cells.iter().any(|c| c == "门牌" || c == "301")), "pseudonymised");

        // Saved as a monthly template: listed with its next day, started on it by
        // the job, stopped by the secretary; a grid member saves nothing.
        let first = (today + time::Duration::days(1)).to_string();
        let body = format!("every=monthly&first_on={first}");
        let (status, _) = s.call_form(&member, &format!("/campaigns/{id}/template"), &body);
        assert_eq!(status, 403);
        let (status, _) = s.call_form(&secretary, &format!("/campaigns/{id}/template"), "every=monthly&first_on=");
        assert_eq!(status, 422, "a repeated template needs its first day");
        let (status, _) = s.call_form(&secretary, &format!("/campaigns/{id}/template"), &body);
        assert_eq!(status, 303);
        let (_, page) = s.call_text(&secretary, "GET", "/campaigns/templates", None);
        assert!(page.contains("燃气安全排查") && page.contains(&first) && page.contains("每月"), "{page}");
        let runs = s.runtime.block_on(wangge_store::campaigns::templates::run_due(db, today + time::Duration::days(1)));
        let runs = runs.unwrap();
        assert_eq!(runs.len(), 1);
        let again = runs[0].started.as_ref().unwrap();
        assert_eq!(again.opens_on, first);
        let (_, page) = s.call_text(&secretary, "GET", "/campaigns/templates", None);
        assert!(page.contains(&again.id), "the campaign it started: {page}");
        let (status, listed) = s.call(&secretary, "GET", "/api/v1/campaign-templates", None);
        assert_eq!(status, 200, "{listed}");
        let template = listed[0]["id"].as_str().unwrap().to_owned();
        let (status, _) = s.call_form(&secretary, &format!("/campaigns/templates/{template}/end"), "");
        assert_eq!(status, 303);
        let (_, listed) = s.call(&secretary, "GET", "/api/v1/campaign-templates", None);
        assert!(listed[0]["ended_at"].is_i64() && listed[0]["next_on"].is_null(), "{listed}");
        let _ = &h;
    }
}

/// The first bytes of a PNG file: enough for its type to be told by its content.
const PNG: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, b'I', b'H', b'D', b'R'];

/// The photo itself as the body of a POST.
fn post_raw_bytes(s: &Server, who: &Auth, path: &str, data: &[u8]) -> (u16, Value) {
    let Auth::Bearer(token) = who else { panic!("a token") };
    let request = http::Request::builder()
        .method("POST")
        .uri(format!("{}{path}", s.base))
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "image/png");
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let mut resp = agent.run(request.body(data.to_vec()).unwrap()).unwrap();
    let status = resp.status().as_u16();
    (status, serde_json::from_str(&resp.body_mut().read_to_string().unwrap_or_default()).unwrap_or(Value::Null))
}

/// A photo question at the door: the page asking it is sent as multipart with its
/// photo (a file that is not a photo is named, with the answers kept); the photo
/// shows on the target's page for those who work on it, never for the next grid's
/// member or the street, each view audited; the API takes a photo first and the
/// answers name it; the results name where the photo is.
#[test]
fn a_photo_taken_at_the_door() {
    for s in servers() {
        let db = &s.db.db;
        let h = s.runtime.block_on(testing::hierarchy(db));
        let secretary = s.token(Role::CommunitySecretary, testing::COMMUNITY);
        let member = s.token(Role::GridMember, testing::GRID);
        let neighbour = s.token(Role::GridMember, testing::OTHER_GRID);
        let street = s.token(Role::StreetOfficial, testing::STREET);
        let today = wangge_store::campaigns::today();
        let body = serde_json::json!({"area_id": h.community.id, "title": "燃气安全排查", "template": "gas_check",
            "opens_on": today.to_string(), "closes_on": (today + time::Duration::days(7)).to_string()});
        let (status, campaign) = s.call(&secretary, "POST", "/api/v1/campaigns", Some(&body));
        assert_eq!(status, 201, "{campaign}");
        let id = campaign["id"].as_str().unwrap().to_owned();
        let (_, mine) = s.call(&member, "GET", &format!("/api/v1/campaigns/{id}/targets"), None);
        let target = mine[0]["id"].as_str().unwrap().to_owned();

        // Through the API: only a photo question takes a photo, only in scope.
        let upload = format!("/api/v1/campaign-targets/{target}/photos?question=hazard_photo");
        let (status, _, _) = post_files(
            &s,
            &member,
            &format!("/api/v1/campaign-targets/{target}/photos?question=problem"),
            &[],
            "file",
            &[("a.png", PNG)],
        );
        assert_eq!(status, 422, "not a photo question");
        let (status, _, _) = post_files(&s, &neighbour, &upload, &[], "file", &[("a.png", PNG)]);
        assert_eq!(status, 404, "the next grid's member never reaches this door");
        let (status, first) = post_raw_bytes(&s, &member, &upload, PNG);
        assert_eq!(status, 201, "{first}");
        assert_eq!((first["content_type"].as_str(), first["kept_at"].as_null()), (Some("image/png"), Some(())));
        let first = first["id"].as_str().unwrap().to_owned();

        // The page: a door with an old hose is asked for the hazard's photo.
        let at = format!("/campaigns/targets/{target}");
        let page1 = format!(
            "version=1&opened=0&page=1&a.uses_gas=yes&a.kinds=stove&a.hose_age=5&a.alarm=no&a.checked_on={today}"
        );
        let (status, third) = s.call_form(&member, &at, &format!("{page1}&go=next"));
        assert_eq!(status, 200);
        let third = text(&third);
        assert!(
            third.contains("enctype=\"multipart/form-data\"") && third.contains("name=\"f.hazard_photo\""),
            "{third}"
        );
        let fields: Vec<(&str, &str)> = vec![
            ("version", "1"),
            ("opened", "0"),
            ("page", "2"),
            ("a.uses_gas", "yes"),
            ("a.kinds", "stove"),
            ("a.hose_age", "5"),
            ("a.alarm", "no"),
            ("a.problem", "软管老化"),
            ("go", "save"),
        ];
        let today_text = today.to_string();
        let mut fields = fields;
        fields.push(("a.checked_on", &today_text));
        let (status, _, refused) =
            post_files(&s, &member, &at, &fields, "f.hazard_photo", &[("说明.txt", b"not a photo".as_slice())]);
        assert_eq!(status, 422, "{refused}");
        assert!(refused.contains("不是照片") && refused.contains("软管老化"), "named, answers kept: {refused}");
        let (status, _, saved) = post_files(&s, &member, &at, &fields, "f.hazard_photo", &[("IMG_0001.png", PNG)]);
        assert_eq!(status, 303, "{saved}");
        let (_, answers) = s.call_text(&member, "GET", &at, None);
        let photo = answers
            .split("/campaigns/photos/")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("the photo is shown with the answers")
            .to_owned();
        assert_ne!(photo, first, "the photo taken on the page replaced the one sent before");
        let (status, _, _) = get_bytes(&s, &member, &format!("/api/v1/campaign-photos/{first}"));
        assert_eq!(status, 404, "the replaced photo is gone");

        // Served to those who work on the door, audited; nobody else.
        let (status, kind, bytes) = get_bytes(&s, &member, &format!("/campaigns/photos/{photo}"));
        assert_eq!((status, kind.as_str(), bytes.as_slice()), (200, "image/png", PNG));
        let (status, _, bytes) = get_bytes(&s, &secretary, &format!("/api/v1/campaign-photos/{photo}"));
        assert_eq!((status, bytes.as_slice()), (200, PNG));
        let (status, _, _) = get_bytes(&s, &neighbour, &format!("/campaigns/photos/{photo}"));
        assert_eq!(status, 404, "another grid's door");
        let (status, _, _) = get_bytes(&s, &street, &format!("/campaigns/photos/{photo}"));
        assert_eq!(status, 403, "officials above do not visit doors");
        let views: i64 = s.runtime.block_on(async {
            sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'campaign.photo.view' AND target_id = $1")
                .bind(&photo)
                .fetch_one(&db.pool)
                .await
                .unwrap()
        });
        assert_eq!(views, 2);
        let (status, _, _) = post_files(&s, &member, &upload, &[], "file", &[("a.png", PNG)]);
        assert_eq!(status, 409, "a door answered takes no more photos");

        // The results say where the photo is for the community; the street sees that there is one.
        let (_, _, bytes) = get_bytes(&s, &secretary, &format!("/campaigns/{id}/results.xlsx"));
        let table = wangge_ledger::table::read_xlsx_bytes(&bytes).unwrap();
        let link = format!("/campaigns/photos/{photo}");
        assert!(table.rows.iter().any(|r| r.cells.iter().any(|c| c.ends_with(&link))), "{:?}", table.rows);
        let (_, _, bytes) = get_bytes(&s, &street, &format!("/campaigns/{id}/results.xlsx"));
        let table = wangge_ledger::table::read_xlsx_bytes(&bytes).unwrap();
        assert!(table.rows.iter().any(|r| r.cells.iter().any(|c| c == "有照片")), "{:?}", table.rows);
        assert!(!table.rows.iter().any(|r| r.cells.iter().any(|c| c.contains(&photo))));
    }
}

/// XLSForm sheets as a workbook.
fn workbook(sheets: &[wangge_domain::campaigns::xlsform::SheetOut]) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    for s in sheets {
        let sheet = book.add_worksheet();
        sheet.set_name(s.name).unwrap();
        for (r, cells) in s.rows.iter().enumerate() {
            for (c, t) in cells.iter().enumerate() {
                if !t.is_empty() {
                    sheet.write_string(r as u32, c as u16, t).unwrap();
                }
            }
        }
    }
    book.save_to_buffer().unwrap()
}
