//! The cockpit over HTTP (issue 18): each level's first page, the figures as the
//! viewer's scope allows (officials above the community see counts, no names, and
//! nothing of another street), the children side by side sorted by a GET parameter.

use serde_json::{Value, json};
use wangge_domain::{BuildingKind, Gender, Occupancy, ResidenceType, Role};
use wangge_store::registry::{areas, buildings, households, residents, tags};

use crate::common::{Auth, Server, servers};

/// The page, its escaped slashes and ampersands read back (minijinja escapes `/`).
fn page(s: &Server, who: &Auth, path: &str) -> (u16, String) {
    let (status, html) = s.call_text(who, "GET", path, None);
    (status, html.replace("&#x2f;", "/").replace("&amp;", "&"))
}

/// A person's name and care tags.
type Person<'a> = (&'a str, &'a [&'a str]);

/// Two streets; the first with two communities (one grid each), the second with one.
/// People: two in 塔山's grid (one an elderly person living alone, one disabled),
/// one in 大海阳's, one in the other street. Returns the areas made, by code.
fn town(s: &Server) -> Vec<(String, Value)> {
    let admin = s.login("admin", crate::common::ADMIN_PASSWORD).2;
    let mut made: Vec<(String, Value)> = Vec::new();
    let mut make = |parent: Option<&str>, level: &str, code: &str, name: &str| {
        let parent_id = parent.map(|p| made.iter().find(|(c, _)| c == p).unwrap().1["id"].clone());
        let body = json!({"parent_id": parent_id, "level": level, "code": code, "name": name});
        let (status, area) = s.call(&admin, "POST", "/api/v1/areas", Some(&body));
        assert_eq!(status, 201, "{area}");
        made.push((code.to_owned(), area));
    };
    make(None, "city", "370600000000", "烟台市");
    make(Some("370600000000"), "district", "370602000000", "芝罘区");
    make(Some("370602000000"), "street", "370602004000", "岐山街道");
    make(Some("370602004000"), "community", "370602004011", "塔山社区");
    make(Some("370602004011"), "grid", "370602004011001", "塔山一网格");
    make(Some("370602004000"), "community", "370602004012", "大海阳社区");
    make(Some("370602004012"), "grid", "370602004012001", "大海阳一网格");
    make(Some("370602000000"), "street", "370602005000", "只楚街道");
    make(Some("370602005000"), "community", "370602005011", "只楚社区");
    make(Some("370602005011"), "grid", "370602005011001", "只楚一网格");
    s.runtime.block_on(async {
        let db = &s.db.db;
        tags::ensure_standard(db).await.unwrap();
        let people: [(&str, &[Person]); 3] = [
            ("370602004011001", &[("塔山张大爷", &["elderly_alone"]), ("塔山李阿姨", &["disabled"])]),
            ("370602004012001", &[("海阳赵叔", &[])]),
            ("370602005011001", &[("只楚孙远", &["elderly_alone"])]),
        ];
        for (grid, names) in people {
            let grid = areas::get_by_code(db, grid).await.unwrap();
            let new = buildings::NewBuilding {
                grid_id: grid.id.clone(),
                number: "1".into(),
                address: None,
                kind: BuildingKind::Residential,
                floors: None,
                units: None,
                lat: None,
                lng: None,
            };
            let b = buildings::create(db, new).await.unwrap();
            let new = households::NewHousehold {
                building_id: b.id,
                unit: "1".into(),
                room: "101".into(),
                occupancy: Occupancy::OwnerOccupied,
            };
            let home = households::create(db, new).await.unwrap();
            for (name, tags) in names {
                let new = residents::NewResident {
                    household_id: home.id.clone(),
                    name: (*name).into(),
                    gender: Some(Gender::Male),
                    birth_date: Some("1945-01-01".into()),
                    residence_type: Some(ResidenceType::Registered),
                    tags: tags.iter().map(|t| (*t).to_owned()).collect(),
                    ..Default::default()
                };
                residents::create(db, new).await.unwrap();
            }
        }
    });
    made
}

/// The figure shown with `key` on a cockpit page (its value's text).
fn figure(html: &str, key: &str) -> String {
    let marker = format!("data-key=\"{key}\"");
    let after = html.split(&marker).nth(1).unwrap_or_else(|| panic!("no figure {key}"));
    let dd = after.split("<dd>").nth(1).unwrap();
    let value = dd.split("</dd>").next().unwrap();
    let text = value.rsplit_once("\">").map_or(value, |(_, v)| v);
    text.split('<').next().unwrap().trim().to_owned()
}

#[test]
fn a_street_official_sees_counts_of_their_street_and_no_name() {
    for s in servers() {
        town(&s);
        s.create_account("jiedao", Role::StreetOfficial, &["370602004000"], "jiedao-password");
        let official = s.login("jiedao", "jiedao-password").2;
        let (status, html) = page(&s, &official, "/cockpit");
        assert_eq!(status, 200, "{html}");
        assert!(html.contains("岐山街道"), "their street");
        assert_eq!(figure(&html, "registry.residents"), "3", "both communities, not the other street");
        assert_eq!(figure(&html, "registry.tag.elderly_alone"), "1");
        assert!(!html.contains("registry.tag.disabled"), "a sensitive tag's count is for those who see names");
        for name in ["张大爷", "李阿姨", "赵叔", "孙远", "只楚"] {
            assert!(!html.contains(name), "{name} must not be on a street official's cockpit");
        }
        assert!(!html.contains("/registry/residents"), "no list of people behind a figure");
        assert!(html.contains("塔山社区") && html.contains("大海阳社区"), "the communities side by side");
        assert!(html.contains("<svg") && html.contains("role=\"img\""), "charts drawn on the server");

        let (status, _) = page(&s, &official, "/cockpit?area=370602005000");
        assert_ne!(status, 200, "another street is out of reach");

        // The command room's big screen: the same figures, refreshing itself.
        let (status, screen) = page(&s, &official, "/cockpit?screen=1");
        assert_eq!(status, 200);
        assert!(screen.contains(r#"<meta http-equiv="refresh" content="60">"#), "refreshes without JavaScript");
        assert!(screen.contains("class=\"screen\"") && screen.contains("塔山社区"));
        assert!(!screen.contains("<script"), "no JavaScript");
        for name in ["张大爷", "只楚"] {
            assert!(!screen.contains(name), "{name} on the big screen");
        }

        // A community's cockpit from the street: still counts only.
        let (status, html) = page(&s, &official, "/cockpit?area=370602004011");
        assert_eq!(status, 200);
        assert_eq!(figure(&html, "registry.residents"), "2");
        assert!(!html.contains("张大爷"));
    }
}

#[test]
fn a_secretary_lands_on_the_cockpit_and_follows_a_figure_to_its_rows() {
    for s in servers() {
        town(&s);
        s.create_account("shuji", Role::CommunitySecretary, &["370602004011"], "shuji-password-1");
        let (status, answer) = s.call_form(&Auth::None, "/login", "username=shuji&password=shuji-password-1");
        assert_eq!(status, 303, "{answer}");
        assert_eq!(wangge_web::home_of(Role::CommunitySecretary), "/cockpit");
        assert_eq!(wangge_web::home_of(Role::StreetOfficial), "/cockpit");
        let secretary = s.login("shuji", "shuji-password-1").2;
        let (status, html) = page(&s, &secretary, "/cockpit?lang=en");
        assert_eq!(status, 200, "{html}");
        assert!(html.contains("id=\"nav-cockpit\""), "the cockpit is in the navigation");
        assert_eq!(figure(&html, "registry.residents"), "2");
        assert_eq!(figure(&html, "registry.tag.disabled"), "1", "the community sees its sensitive counts");
        let area = s.runtime.block_on(areas::get_by_code(&s.db.db, "370602004011")).unwrap();
        let link = format!("/registry/residents?area={}&tag=elderly_alone", area.id);
        assert!(html.contains(&link), "the tag's count links to its people: {link}");
        assert!(html.contains("Response rate") && html.contains("Population pyramid"), "in English");
        // Switching the language keeps the page's query (its period, its columns).
        let (status, year) = page(&s, &secretary, "/cockpit?period=year&cols=age&lang=en");
        assert_eq!(status, 200);
        assert!(
            year.contains("href=\"?lang=zh-CN&period=year&cols=age\""),
            "the Chinese link keeps the period and the columns"
        );
        let (status, list) = page(&s, &secretary, &link);
        assert_eq!(status, 200);
        assert!(list.contains("塔山张大爷") && !list.contains("塔山李阿姨"), "the rows behind the figure");
        let (status, _) = page(&s, &secretary, "/cockpit?area=370602004012");
        assert_ne!(status, 200, "the next community is not theirs");
    }
}

#[test]
fn children_sort_by_any_figure() {
    for s in servers() {
        town(&s);
        let admin = s.auth.borrow().clone();
        let (status, html) = page(&s, &admin, "/cockpit?area=370602004000&sort=registry.residents&dir=desc");
        assert_eq!(status, 200, "{html}");
        let table = html.split("<tbody>").nth(1).unwrap().split("</tbody>").next().unwrap();
        let (a, b) = (table.find("塔山社区").unwrap(), table.find("大海阳社区").unwrap());
        assert!(a < b, "two people before one");
        assert!(html.contains("aria-sort=\"descending\""));
        let (_, html) = page(&s, &admin, "/cockpit?area=370602004000&sort=registry.residents&dir=asc");
        let table = html.split("<tbody>").nth(1).unwrap().split("</tbody>").next().unwrap();
        assert!(table.find("大海阳社区").unwrap() < table.find("塔山社区").unwrap(), "one before two");
        assert!(html.contains("<tfoot>") && html.contains(">3</td>"), "the total of the street");
        // The deployment: administrators start from every city.
        let (status, html) = page(&s, &admin, "/cockpit");
        assert_eq!(status, 200);
        assert_eq!(figure(&html, "registry.residents"), "4");
        assert!(html.contains("烟台市"));
    }
}

/// The value of `key` among an API answer's figures.
fn api_value<'a>(figures: &'a Value, key: &str) -> &'a Value {
    figures.as_array().unwrap().iter().find(|f| f["key"] == key).unwrap_or_else(|| panic!("no figure {key}"))
}

#[test]
fn the_api_gives_the_figures_and_children_with_the_pages_scope_rules() {
    for s in servers() {
        town(&s);
        s.create_account("jiedao", Role::StreetOfficial, &["370602004000"], "jiedao-password");
        let official = s.login("jiedao", "jiedao-password").2;
        let (status, answer) = s.call(&official, "GET", "/api/v1/cockpit?period=week", None);
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["area"]["code"], "370602004000");
        assert_eq!(answer["period"]["name"], "week");
        let residents = api_value(&answer["figures"], "registry.residents");
        assert_eq!(residents["value"]["count"], 3, "both communities, not the other street");
        assert_eq!(residents["value"]["type"], "count");
        assert_eq!(residents["href"], Value::Null, "no list of people for a street official");
        assert!(residents["how"].as_str().unwrap().len() > 4, "how it is computed");
        let response = api_value(&answer["figures"], "demands.response_rate");
        assert_eq!(response["value"]["type"], "rate");
        assert_eq!(response["value"]["whole"], 0);
        assert_eq!(response["value"]["rate"], Value::Null, "no rate of nothing");
        assert_eq!(api_value(&answer["figures"], "registry.tag.elderly_alone")["value"]["count"], 1);
        let text = answer.to_string();
        assert!(!text.contains("registry.tag.disabled"), "a sensitive tag's count is for those who see names");
        for name in ["张大爷", "李阿姨", "只楚"] {
            assert!(!text.contains(name), "{name} in a street official's answer");
        }
        let children = answer["children"].as_array().unwrap();
        let names: Vec<&str> = children.iter().map(|c| c["area"]["name"].as_str().unwrap()).collect();
        assert_eq!(names.len(), 2, "{names:?}");
        assert!(names.contains(&"塔山社区") && names.contains(&"大海阳社区"));
        let tashan = children.iter().find(|c| c["area"]["name"] == "塔山社区").unwrap();
        assert_eq!(api_value(&tashan["figures"], "registry.residents")["value"]["count"], 2);
        assert!(!tashan.to_string().contains("registry.tag.disabled"));

        // In English, and the next street is out of reach.
        let (status, answer) = s.call(&official, "GET", "/api/v1/cockpit?lang=en&area=370602004011", None);
        assert_eq!(status, 200, "{answer}");
        assert_eq!(api_value(&answer["figures"], "registry.residents")["label"], "Residents");
        let (status, _) = s.call(&official, "GET", "/api/v1/cockpit?area=370602005000", None);
        assert_eq!(status, 403);
        let (status, answer) = s.call(&official, "GET", "/api/v1/cockpit?period=decade", None);
        assert_eq!(status, 422, "{answer}");

        // The community's secretary: the rows behind a figure, and the sensitive count.
        s.create_account("shuji", Role::CommunitySecretary, &["370602004011"], "shuji-password-1");
        let secretary = s.login("shuji", "shuji-password-1").2;
        let (status, answer) = s.call(&secretary, "GET", "/api/v1/cockpit", None);
        assert_eq!(status, 200, "{answer}");
        assert_eq!(api_value(&answer["figures"], "registry.tag.disabled")["value"]["count"], 1);
        let area = s.runtime.block_on(areas::get_by_code(&s.db.db, "370602004011")).unwrap();
        let href = api_value(&answer["figures"], "registry.tag.elderly_alone")["href"].as_str().unwrap().to_owned();
        assert_eq!(href, format!("/registry/residents?area={}&tag=elderly_alone", area.id));
        assert_eq!(answer["children"].as_array().unwrap().len(), 1, "its one grid");
    }
}

/// A square-ish ring `[w, s, e, n]` as GeoJSON coordinates.
fn rect(w: f64, s: f64, e: f64, n: f64) -> Value {
    json!([[[w, s], [e, s], [e, n], [w, n], [w, s]]])
}

fn feature(code: &str, coordinates: Value) -> Value {
    json!({"type": "Feature", "properties": {"code": code}, "geometry": {"type": "Polygon", "coordinates": coordinates}})
}

#[test]
fn the_map_draws_one_path_per_grid_after_a_checked_import() {
    for s in servers() {
        town(&s);
        s.runtime.block_on(async {
            let db = &s.db.db;
            let community = areas::get_by_code(db, "370602004011").await.unwrap();
            let grid = areas::get_by_code(db, "370602004011001").await.unwrap();
            let new = areas::NewArea {
                parent_id: Some(community.id.clone()),
                level: wangge_domain::AreaLevel::Grid,
                code: "370602004011002".into(),
                name: "塔山二网格".into(),
                boundary: None,
            };
            areas::create(db, new).await.unwrap();
            let found = buildings::list(
                db,
                &buildings::BuildingFilter { under_path: Some(grid.path.clone()), ..Default::default() },
                wangge_store::PageRequest::new(Some(1), Some(10)),
            )
            .await
            .unwrap();
            let update = buildings::BuildingUpdate { lat: Some(37.53), lng: Some(121.385), ..Default::default() };
            buildings::update(db, &found.items[0].id, update).await.unwrap();
        });
        s.create_account("shuji", Role::CommunitySecretary, &["370602004011"], "shuji-password-1");
        let secretary = s.login("shuji", "shuji-password-1").2;
        let (status, html) = page(&s, &secretary, "/cockpit/map");
        assert_eq!(status, 200, "{html}");
        assert!(html.contains("id=\"map-empty\""), "no boundaries yet: no map, said so");
        assert!(html.contains("id=\"import-boundaries\""), "the secretary may import them");

        let community = s.runtime.block_on(areas::get_by_code(&s.db.db, "370602004011")).unwrap();
        let import = format!("/cockpit/boundaries?area={}", community.id);
        let (w, so, e, n) = (121.38, 37.52, 121.40, 37.54);
        // An open ring and a grid of another community: refused, each feature named.
        let bad = json!({"type": "FeatureCollection", "features": [
            feature("370602004011", rect(w, so, e, n)),
            feature("370602004011001", json!([[[w, so], [121.39, so], [121.39, n], [w, n]]])),
            feature("370602004012001", rect(w, so, e, n)),
        ]});
        let (status, _, body) = crate::demand_forms::post_form(
            &s,
            &secretary,
            &import,
            &[],
            &[("grids.geojson", bad.to_string().as_bytes())],
        );
        assert_eq!(status, 422, "{body}");
        let body = body.replace("&#x2f;", "/");
        assert!(body.contains("#2 (370602004011001)") && body.contains("没有闭合"), "{body}");
        assert!(body.contains("#3 (370602004012001)") && body.contains("不是塔山社区的网格"), "{body}");

        let good = json!({"type": "FeatureCollection", "features": [
            feature("370602004011", rect(w, so, e, n)),
            feature("370602004011001", rect(w, so, 121.39, n)),
            feature("370602004011002", rect(121.39, so, e, n)),
        ]});
        let (status, location, body) = crate::demand_forms::post_form(
            &s,
            &secretary,
            &import,
            &[],
            &[("grids.geojson", good.to_string().as_bytes())],
        );
        assert_eq!(status, 303, "{body}");
        assert!(location.starts_with("/cockpit/map"), "{location}");
        let (status, html) = page(&s, &secretary, "/cockpit/map?map=registry.residents");
        assert_eq!(status, 200, "{html}");
        assert_eq!(html.matches("class=\"map-area\"").count(), 2, "one path per grid");
        assert_eq!(html.matches("class=\"map-building\"").count(), 1, "the building with coordinates");
        assert!(html.contains("class=\"map-outline\""), "the community's outline");
        assert!(html.contains("data-code=\"370602004011001\""));
        // The grid with two people is the darkest, the empty one the lightest.
        let fill_of = |code: &str| {
            let after = html.split(&format!("data-code=\"{code}\"")).nth(1).unwrap();
            after.split("fill=\"").nth(1).unwrap().split('"').next().unwrap().to_owned()
        };
        assert_eq!(fill_of("370602004011001"), "#08519c");
        assert_eq!(fill_of("370602004011002"), "#eff3ff");
        let list = html.split("class=\"map-list\"").nth(1).unwrap();
        assert!(list.contains("塔山一网格") && list.contains(">2</td>"), "the text list beside it");
        assert!(!html.contains("<script"), "no JavaScript");

        // A street official may look, but not import.
        s.create_account("jiedao", Role::StreetOfficial, &["370602004000"], "jiedao-password");
        let official = s.login("jiedao", "jiedao-password").2;
        let (status, html) = page(&s, &official, &format!("/cockpit/map?area={}", community.id));
        assert_eq!(status, 200);
        assert_eq!(html.matches("class=\"map-area\"").count(), 2);
        assert!(!html.contains("import-boundaries"));
        let (status, _) = page(&s, &official, &import);
        assert_eq!(status, 403);
    }
}

/// The number in a report page's row for `key`.
fn report_value(html: &str, key: &str) -> String {
    let row = html.split(&format!("data-key=\"{key}\"")).nth(1).unwrap_or_else(|| panic!("no {key}"));
    let cell = row.split("<td class=\"num\">").nth(1).unwrap();
    cell.split(['<', ' ']).next().unwrap().trim().to_owned()
}

#[test]
fn reports_equal_the_cockpit_and_a_past_week_regenerates_the_same() {
    for s in servers() {
        town(&s);
        let admin = s.auth.borrow().clone();
        // Items are filed by community staff: an administrator may not submit demands.
        let tashan_staff = s.token(Role::CommunityStaff, "370602004011");
        let haiyang_staff = s.token(Role::CommunityStaff, "370602004012");
        // Two items in 塔山, made last week; one in 大海阳 this week.
        let (last_week, this_week) = {
            let today = wangge_store::cockpit::day_of(wangge_domain::now_millis());
            let last = wangge_store::cockpit::report::ReportPeriod::last_complete(
                wangge_store::cockpit::report::ReportKind::Week,
                today,
            );
            let this = wangge_store::cockpit::report::ReportPeriod::holding(
                wangge_store::cockpit::report::ReportKind::Week,
                today,
            );
            (last, this)
        };
        let building_of = |grid: &str| {
            s.runtime.block_on(async {
                let grid = areas::get_by_code(&s.db.db, grid).await.unwrap();
                buildings::list(
                    &s.db.db,
                    &buildings::BuildingFilter { under_path: Some(grid.path.clone()), ..Default::default() },
                    wangge_store::PageRequest::new(Some(1), Some(10)),
                )
                .await
                .unwrap()
                .items
                .remove(0)
                .id
            })
        };
        let tashan = building_of("370602004011001");
        let mut made = Vec::new();
        for category in ["environment", "environment"] {
            let body = json!({"building_id": tashan, "category": category, "title": "楼道灯不亮"});
            let (status, item) = s.call(&tashan_staff, "POST", "/api/v1/demands", Some(&body));
            assert_eq!(status, 201, "{item}");
            made.push(item["id"].as_str().unwrap().to_owned());
        }
        let (monday_ms, _) = last_week.bounds();
        s.runtime.block_on(async {
            for id in &made {
                sqlx::query("UPDATE demands SET created_at = $1 WHERE id = $2")
                    .bind(monday_ms + 3_600_000)
                    .bind(id)
                    .execute(&s.db.db.pool)
                    .await
                    .unwrap();
            }
        });
        let url = format!(
            "/cockpit/report?area=370602004000&period=week&start={}",
            wangge_domain::format_date(last_week.first)
        );
        let (status, first) = page(&s, &admin, &url);
        assert_eq!(status, 200, "{first}");
        assert_eq!(report_value(&first, "demands.period"), "2");
        assert_eq!(report_value(&first, "demands.category.environment"), "2");
        assert!(
            first.contains("data-basis=\"now\"") && first.contains("不可回溯"),
            "what cannot be recomputed is said"
        );
        assert!(first.contains("<svg") && first.contains("/static/cockpit.css"), "charts, and the print stylesheet");

        // Something happens this week: last week's report does not change.
        let haiyang = building_of("370602004012001");
        let body = json!({"building_id": haiyang, "category": "environment", "title": "路灯坏了"});
        assert_eq!(s.call(&haiyang_staff, "POST", "/api/v1/demands", Some(&body)).0, 201);
        let (_, again) = page(&s, &admin, &url);
        for key in ["demands.period", "demands.category.environment", "demands.category.public_facilities"] {
            assert_eq!(report_value(&again, key), report_value(&first, key), "{key} regenerated the same");
        }

        // This week's report equals the cockpit's week.
        let url = format!(
            "/cockpit/report?area=370602004000&period=week&start={}",
            wangge_domain::format_date(this_week.first)
        );
        let (_, now) = page(&s, &admin, &url);
        let (_, api) = s.call(&admin, "GET", "/api/v1/cockpit?area=370602004000&period=week", None);
        for key in ["demands.period", "demands.open", "registry.residents", "demands.category.environment"] {
            let want = api_value(&api["figures"], key)["value"]["text"].as_str().unwrap().to_owned();
            assert_eq!(report_value(&now, key), want, "{key} as the cockpit");
        }

        // The workbook: the same numbers, as numbers.
        let url = format!("{url}&format=xlsx");
        let (status, kind, bytes) = crate::demand_forms::get_bytes(&s, &admin, &url);
        assert_eq!(status, 200);
        assert!(kind.contains("spreadsheetml"), "{kind}");
        let table = wangge_ledger::table::read_xlsx_bytes(&bytes).unwrap();
        let row = table.rows.iter().find(|r| r.cell(2) == "demands.period").expect("the figure's row");
        assert_eq!(row.cell(3), "1", "one item this week in the street");
        let residents = table.rows.iter().find(|r| r.cell(2) == "registry.residents").unwrap();
        assert_eq!(residents.cell(3), "3");
    }
}

#[test]
fn the_weekly_report_is_queued_once_per_scope_and_week() {
    for s in servers() {
        town(&s);
        let admin = s.auth.borrow().clone();
        for (area, modules) in [
            ("370602004011", json!(["cockpit"])),
            ("370602004000", json!(["cockpit"])),
            ("370602004012", json!(["demands"])),
        ] {
            let body = json!({"name": format!("周报 {area}"), "url": "http://127.0.0.1:9/unreachable", "format": "wecom", "area": area, "modules": modules});
            let (status, hook) = s.call(&admin, "POST", "/api/v1/webhooks", Some(&body));
            assert_eq!(status, 201, "{hook}");
        }
        let count = || -> i64 {
            s.runtime.block_on(async {
                sqlx::query_scalar("SELECT COUNT(*) FROM webhook_outbox WHERE event_name = 'cockpit.weekly_report'")
                    .fetch_one(&s.db.db.pool)
                    .await
                    .unwrap()
            })
        };
        // Monday 2026-11-30, China time: 07:00 is too early, 09:00 sends.
        let at = |hour: i64| {
            let monday = time::Date::from_calendar_date(2026, time::Month::November, 30).unwrap();
            wangge_store::cockpit::midnight(monday) + hour * 3_600_000
        };
        let queued = s.runtime.block_on(wangge_web::queue_weekly(&s.db.db, at(7))).unwrap();
        assert_eq!((queued, count()), (0, 0), "not before Monday morning");
        let queued = s.runtime.block_on(wangge_web::queue_weekly(&s.db.db, at(9))).unwrap();
        assert_eq!((queued, count()), (2, 2), "the community's and the street's, not the demands-only hook");
        let queued = s.runtime.block_on(wangge_web::queue_weekly(&s.db.db, at(10))).unwrap();
        assert_eq!((queued, count()), (0, 2), "idempotent within the week");
        let queued = s.runtime.block_on(wangge_web::queue_weekly(&s.db.db, at(24 * 7 + 9))).unwrap();
        assert_eq!((queued, count()), (2, 4), "the next week's");
        let body: String = s.runtime.block_on(async {
            sqlx::query_scalar(
                "SELECT body FROM webhook_outbox WHERE event_name = 'cockpit.weekly_report' ORDER BY created_at, id LIMIT 1",
            )
            .fetch_one(&s.db.db.pool)
            .await
            .unwrap()
        });
        assert!(body.contains("周报") && body.contains("2026-11-23") && body.contains("响应率"), "{body}");
        assert!(!body.contains("张大爷"), "counts only");
    }
}

/// Every summary table agrees with its rows after the demo's year of history, a
/// ledger import, moves (out, house to another grid, back in), a tag and a
/// residence type corrected, and a burst of concurrent reports with steps taken —
/// on every backend; a summary row made wrong is found and named.
#[test]
fn summaries_agree_with_their_rows_after_history_an_import_moves_and_a_burst() {
    use wangge_store::summaries;
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(wangge_store::testing::all_at(async |t| {
        let db = &t.db;
        wangge_synth::load_demo(db).await.unwrap();
        assert_eq!(summaries::verify(db).await.unwrap(), vec![], "after the demo's history");
        let community = areas::get_by_code(db, "370602004011").await.unwrap();
        let grids = areas::children(db, &community.id).await.unwrap();
        let (grid_a, grid_b) = (&grids[0], &grids[1]);
        let first_building = |grid: &areas::Area| {
            let filter = buildings::BuildingFilter { under_path: Some(grid.path.clone()), ..Default::default() };
            async move {
                buildings::list(db, &filter, wangge_store::PageRequest::new(Some(1), Some(1))).await.unwrap().items.remove(0)
            }
        };
        let (building_a, building_b) = (first_building(grid_a).await, first_building(grid_b).await);

        // An import: three people into building A.
        let id = |seq: u16| {
            let birth = time::Date::from_calendar_date(1961, time::Month::May, 9).unwrap();
            wangge_domain::IdCardNumber::compose(370602, birth, seq).as_str().to_owned()
        };
        let csv = format!(
            "姓名,身份证号,楼栋,单元,房号,人员类别\n汇总甲,{},{n},1,101,独居老人\n汇总乙,{},{n},1,101,退役军人、残疾人\n汇总丙,{},{n},1,102,\n",
            id(901),
            id(902),
            id(903),
            n = building_a.number
        );
        let table = wangge_ledger::table::read_csv_bytes(csv.as_bytes()).unwrap();
        let options =
            wangge_ledger::import::ImportOptions { community_code: community.code.clone(), ..Default::default() };
        let report = wangge_ledger::import::import_residents(db, &table, &options, |_| {}).await.unwrap();
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        assert_eq!(summaries::verify(db).await.unwrap(), vec![], "after an import");

        // Moves: one out, one to a household of another grid, one out and back in.
        let imported = residents::list(
            db,
            &residents::ResidentFilter { q: Some("汇总".into()), ..Default::default() },
            wangge_store::PageRequest::new(Some(1), Some(10)),
        )
        .await
        .unwrap()
        .items;
        assert_eq!(imported.len(), 3);
        let new_home = households::create(
            db,
            households::NewHousehold {
                building_id: building_b.id.clone(),
                unit: "9".into(),
                room: "909".into(),
                occupancy: wangge_domain::Occupancy::Rented,
            },
        )
        .await
        .unwrap();
        let moving = |household: Option<&str>| residents::Move {
            household_id: household.map(str::to_owned),
            date: None,
            note: String::new(),
        };
        residents::move_out(db, &imported[0].id, moving(None)).await.unwrap();
        residents::move_house(db, &imported[1].id, moving(Some(&new_home.id))).await.unwrap();
        residents::move_out(db, &imported[2].id, moving(None)).await.unwrap();
        residents::move_in(db, &imported[2].id, moving(Some(&new_home.id))).await.unwrap();
        let update = residents::ResidentUpdate {
            residence_type: Some(ResidenceType::Floating),
            tags: Some(vec!["elderly_alone".into()]),
            ..Default::default()
        };
        residents::update(db, &imported[1].id, update).await.unwrap();
        assert_eq!(summaries::verify(db).await.unwrap(), vec![], "after moves and corrections");

        // A burst of reports through the group commit, then steps on some.
        let staff = wangge_store::demands::Actor { id: None, name: "王姐".into(), role: Role::CommunitySecretary };
        let mut burst = tokio::task::JoinSet::new();
        for i in 0..24 {
            let new = wangge_store::demands::NewDemand {
                building_id: Some(if i % 2 == 0 { building_a.id.clone() } else { building_b.id.clone() }),
                category: if i % 3 == 0 { "environment" } else { "property" }.into(),
                title: format!("汇总测试 {i}"),
                ..Default::default()
            };
            let (db, staff) = (db.clone(), staff.clone());
            burst.spawn(async move { wangge_store::demands::create(&db, new, &staff, None).await.unwrap() });
        }
        let made = burst.join_all().await;
        for item in made.iter().take(6) {
            let step = wangge_store::demands::StepInput::default();
            wangge_store::demands::take_step(db, &item.id, wangge_domain::Step::Accept, &staff, step).await.unwrap();
        }
        assert_eq!(summaries::verify(db).await.unwrap(), vec![], "after a burst of demands");

        // A summary row made wrong is found, and named.
        let (key, n): (String, i64) = {
            use sqlx::Row;
            let row = sqlx::query(
                "SELECT path || ' ' || category || ' ' || status || ' ' || CAST(day AS TEXT) AS k, n
                 FROM demand_counts WHERE n > 0 ORDER BY path, category, status, day LIMIT 1",
            )
            .fetch_one(&db.pool)
            .await
            .unwrap();
            (row.get("k"), row.get("n"))
        };
        sqlx::query("UPDATE demand_counts SET n = n + 3 WHERE path || ' ' || category || ' ' || status || ' ' || CAST(day AS TEXT) = $1")
            .bind(&key)
            .execute(&db.pool)
            .await
            .unwrap();
        let found = summaries::verify(db).await.unwrap();
        assert_eq!(
            found,
            vec![summaries::Difference { table: "demand_counts", key, stored: n + 3, counted: n }],
            "the one wrong row"
        );
    }));
}

/// Coverage in the cockpit (issue 19): the live "not visited in 90 days" figure, its
/// trend by month and each care tag's share, each linking to the households or
/// people behind it for those who see names there; a street official sees the
/// counts and no list, and the list itself refuses them.
#[test]
fn coverage_figures_link_to_the_households_behind_them() {
    for s in servers() {
        town(&s);
        // 塔山: one household (张大爷 living alone, 李阿姨 disabled), visited at the
        // door today; 大海阳: one household, never visited. Street: 1 of 2 not visited.
        s.runtime.block_on(async {
            let db = &s.db.db;
            let grid = areas::get_by_code(db, "370602004011001").await.unwrap();
            let filter = households::HouseholdFilter { under_path: Some(grid.path.clone()), ..Default::default() };
            let home = households::list(db, &filter, Default::default()).await.unwrap().items.remove(0);
            let today = time::OffsetDateTime::now_utc().to_offset(wangge_domain::demands::CHINA).date();
            let new = wangge_store::visits::NewVisit {
                household_id: home.id,
                resident_id: None,
                channel: wangge_domain::VisitChannel::Door,
                outcome: wangge_domain::VisitOutcome::Met,
                visited_on: today.to_string(),
                purpose: String::new(),
                findings: String::new(),
                paper: false,
                location: String::new(),
            };
            wangge_store::visits::record(db, new, None, "网格员").await.unwrap();
        });
        s.create_account("jiedao", Role::StreetOfficial, &["370602004000"], "jiedao-password");
        let official = s.login("jiedao", "jiedao-password").2;
        let (status, html) = page(&s, &official, "/cockpit");
        assert_eq!(status, 200, "{html}");
        // A rate reads as its parts (what `figure` finds last): 1 of 2 households.
        assert_eq!(figure(&html, "visits.not_visited"), "1/2");
        assert!(html.contains("50.0%"));
        assert_eq!(figure(&html, "visits.tag.elderly_alone"), "1/1", "张大爷, met at his door");
        assert!(!html.contains("visits.tag.disabled"), "a sensitive tag's share is for those who see names");
        assert!(!html.contains("/visits/coverage"), "no list behind a figure above the community");
        assert!(html.contains("id=\"chart-not-visited\""), "the trend by month");
        let street = s.runtime.block_on(areas::get_by_code(&s.db.db, "370602004000")).unwrap();
        let (status, _) = page(&s, &official, &format!("/visits/coverage?area={}", street.id));
        assert_ne!(status, 200, "the list itself refuses them");

        s.create_account("shuji", Role::CommunitySecretary, &["370602004012"], "shuji-password-1");
        let secretary = s.login("shuji", "shuji-password-1").2;
        let (status, html) = page(&s, &secretary, "/cockpit");
        assert_eq!(status, 200, "{html}");
        assert_eq!(figure(&html, "visits.not_visited"), "1/1");
        let community = s.runtime.block_on(areas::get_by_code(&s.db.db, "370602004012")).unwrap();
        let link = format!("/visits/coverage?area={}&which=not_visited", community.id);
        assert!(html.contains(&link), "the figure links to its households: {link}");
        let (status, list) = page(&s, &secretary, &link);
        assert_eq!(status, 200, "{list}");
        assert!(list.contains("1号楼 1单元 101"), "大海阳's household, never visited: {list}");
        let (status, list) = page(&s, &secretary, &format!("/visits/coverage?area={}&which=visited", community.id));
        assert_eq!(status, 200);
        assert!(list.contains("id=\"behind-none\""), "nobody visited there");
        let tashan = s.runtime.block_on(areas::get_by_code(&s.db.db, "370602004011")).unwrap();
        let (status, _) = page(&s, &secretary, &format!("/visits/coverage?area={}", tashan.id));
        assert_ne!(status, 200, "the next community is not theirs");
    }
}
