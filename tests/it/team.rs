//! The grid team roster over HTTP (issue 15): the posts endpoint shows private phones
//! only to those who keep the team; the team page adds, edits and ends posts, with
//! `tel:` links for those who may call.

use serde_json::Value;
use wangge_domain::Role;

use crate::common::{Auth, servers};

fn page(s: &crate::common::Server, auth: &Auth, path: &str) -> (u16, String) {
    s.call_text(auth, "GET", path, None)
}

#[test]
fn the_posts_endpoint_shows_private_phones_only_to_who_keeps_the_team() {
    for s in servers() {
        let made = s.areas_down_to_grid();
        let grid = made[4]["id"].as_str().unwrap().to_owned();
        let new = wangge_store::team::NewPost {
            post: Some("leader".into()),
            person_name: "赵建国".into(),
            phone: Some("13805359876".into()),
            duty_phone: Some("0535-6668888".into()),
            duty_phone_consent: false,
            ..Default::default()
        };
        s.runtime.block_on(wangge_store::team::add(&s.db.db, &grid, &new)).unwrap();
        let path = format!("/api/v1/areas/{grid}/posts");

        let secretary = s.token(Role::CommunitySecretary, "370602004011");
        let (status, posts) = s.call(&secretary, "GET", &path, None);
        assert_eq!(status, 200, "{posts}");
        assert_eq!(posts[0]["phone"], "13805359876", "the community keeps the team");
        assert_eq!(posts[0]["duty_phone"], "0535-6668888");

        for (role, scope) in [
            (Role::PlatformAdmin, ""),
            (Role::CityOfficial, "370600000000"),
            (Role::Auxiliary, "370602004011001"),
            (Role::GridMember, "370602004011001"),
        ] {
            let auth = if scope.is_empty() { s.auth.borrow().clone() } else { s.token(role, scope) };
            let (status, posts) = s.call(&auth, "GET", &path, None);
            assert_eq!(status, 200, "{role:?}: {posts}");
            assert_eq!(posts[0]["person_name"], "赵建国", "{role:?} sees the name");
            assert_eq!(posts[0]["post"], "leader");
            assert_eq!(posts[0]["phone"], Value::Null, "{role:?} never sees the private phone");
            assert_eq!(posts[0]["duty_phone"], Value::Null, "{role:?}: no duty phone without consent");
            let text = posts.to_string();
            assert!(!text.contains("13805359876"), "{role:?}: {text}");
        }
    }
}

#[test]
fn the_team_page_adds_edits_and_ends_posts() {
    for s in servers() {
        let made = s.areas_down_to_grid();
        let grid = made[4]["id"].as_str().unwrap().to_owned();
        s.create_account("secretary1", Role::CommunitySecretary, &["370602004011"], "secretary-password");
        let (_, _, secretary) = s.login("secretary1", "secretary-password");
        let team = format!("/registry/areas/{grid}/team");
        let form = "post=member&person_name=%E7%8E%8B%E6%B5%B7%E7%87%95&phone=13905351234&duties=%E8%B5%B0%E8%AE%BF";
        let (status, _) = s.call_form(&secretary, &team, form);
        assert_eq!(status, 303, "added, back to the team");
        let (status, html) = page(&s, &secretary, &team);
        assert_eq!(status, 200);
        assert!(html.contains("王海燕") && html.contains("href=\"tel:13905351234\""), "a tel: link: {html}");

        // A grid member sees the team, names and posts, not the private phone.
        s.create_account("member1", Role::GridMember, &["370602004011001"], "member-password");
        let (_, _, member) = s.login("member1", "member-password");
        let (status, html) = page(&s, &member, &team);
        assert_eq!(status, 200);
        assert!(html.contains("王海燕") && !html.contains("13905351234"), "{html}");
        assert!(!html.contains("id=\"add-post\""), "no add form for those who do not keep the team");

        // A bad phone is said on the page, in Chinese, with nothing added.
        let (status, html) = s.call_form(&secretary, &team, "post=volunteer&person_name=%E6%9D%8E&phone=123");
        assert_eq!(status, 422);
        assert!(html.to_string().contains("team-error"), "{html}");

        let id = s.runtime.block_on(async {
            let roster =
                wangge_store::team::roster(&s.db.db, &grid, wangge_store::team::Phones::Hidden, false).await.unwrap();
            assert_eq!(roster.len(), 1);
            roster[0].id.clone()
        });
        let (status, html) = page(&s, &secretary, &format!("/registry/team/{id}"));
        assert_eq!(status, 200);
        assert!(html.contains("id=\"end-post\""), "{html}");
        let (status, _) = s.call_form(&secretary, &format!("/registry/team/{id}/end"), "ends_on=");
        assert_eq!(status, 303);
        // Ended today: still on the team until the day is over, then history.
        let ended = s.runtime.block_on(wangge_store::team::get(&s.db.db, &id, wangge_store::team::Phones::Hidden));
        assert!(ended.unwrap().ends_on.is_some());
        // The audit log has the three changes, never the phone.
        let rows: Vec<(String, Option<String>)> = s.runtime.block_on(async {
            sqlx::query_as("SELECT action, after FROM audit_log WHERE action LIKE 'team.%' ORDER BY at")
                .fetch_all(&s.db.db.pool)
                .await
                .unwrap()
        });
        let actions: Vec<&str> = rows.iter().map(|(a, _)| a.as_str()).collect();
        assert_eq!(actions, ["team.add", "team.end"]);
        assert!(rows.iter().all(|(_, after)| !after.as_deref().unwrap_or("").contains("13905351234")));
    }
}

/// Dispatch picks someone real from the item page (issue 15): the grid's team member
/// with an account gets the item in 我的待办 and a notification; a unit without
/// accounts has its progress recorded by the dispatcher, marked as such.
#[test]
fn dispatch_picks_the_team_or_a_unit_and_reaches_them() {
    for s in servers() {
        let made = s.areas_down_to_grid();
        let (community, grid) =
            (made[3]["id"].as_str().unwrap().to_owned(), made[4]["id"].as_str().unwrap().to_owned());
        let secretary_id =
            s.create_account("secretary1", Role::CommunitySecretary, &["370602004011"], "secretary-pw-1");
        let member_id = s.create_account("member1", Role::GridMember, &["370602004011001"], "member-password");
        let (_, _, secretary) = s.login("secretary1", "secretary-pw-1");
        let (_, _, member) = s.login("member1", "member-password");
        let (building, unit, items) = s.runtime.block_on(async {
            let db = &s.db.db;
            let building = wangge_store::registry::buildings::create(
                db,
                wangge_store::registry::buildings::NewBuilding {
                    grid_id: grid.clone(),
                    number: "3".into(),
                    address: None,
                    kind: wangge_domain::BuildingKind::Residential,
                    floors: None,
                    units: None,
                    lat: None,
                    lng: None,
                },
            )
            .await
            .unwrap();
            let post = wangge_store::team::NewPost {
                post: Some("member".into()),
                person_name: "王海燕".into(),
                account_id: Some(member_id.clone()),
                building_ids: vec![building.id.clone()],
                ..Default::default()
            };
            wangge_store::team::add(db, &grid, &post).await.unwrap();
            let unit = wangge_store::registry::organisations::create(
                db,
                wangge_store::registry::organisations::NewOrganisation {
                    grid_id: grid.clone(),
                    name: "塔山物业".into(),
                    kind: wangge_domain::OrganisationKind::PropertyCompany,
                    address: None,
                    contact_name: None,
                    phone: None,
                },
            )
            .await
            .unwrap();
            wangge_store::units::hold(db, &unit.id, wangge_domain::UnitRole::PropertyCompany, &community)
                .await
                .unwrap();
            let by = wangge_store::demands::Actor { id: None, name: "test".into(), role: Role::GridMember };
            let mut items = Vec::new();
            for title in ["楼道堆物", "电梯异响"] {
                let new = wangge_store::demands::NewDemand {
                    building_id: Some(building.id.clone()),
                    category: "environment".into(),
                    title: title.into(),
                    ..Default::default()
                };
                items.push(wangge_store::demands::create(db, new, &by, None).await.unwrap().id);
            }
            (building.id, unit.id, items)
        });
        let _ = (building, secretary_id);
        for item in &items {
            let (status, _) = s.call_form(&secretary, &format!("/demands/{item}/steps/accept"), "note=");
            assert_eq!(status, 303);
        }
        let (status, html) = page(&s, &secretary, &format!("/demands/{}", items[0]));
        assert_eq!(status, 200);
        assert!(html.contains(&format!("value=\"{member_id}\"")) && html.contains("王海燕（网格员）"), "{html}");
        assert!(html.contains(&format!("value=\"{unit}\"")) && html.contains("无系统账号"), "the unit, marked");

        // To the grid member: in their 我的待办 and their notifications at once.
        let (status, _) =
            s.call_form(&secretary, &format!("/demands/{}/steps/dispatch", items[0]), &format!("handler={member_id}"));
        assert_eq!(status, 303);
        let (_, mine) = s.call(&member, "GET", "/api/v1/me/demands", None);
        assert_eq!(mine["items"][0]["id"], items[0].as_str(), "{mine}");
        assert_eq!(mine["items"][0]["handler_name"], "王海燕");
        let (_, notices) = s.call(&member, "GET", "/api/v1/me/notifications", None);
        assert!(notices.to_string().contains("楼道堆物"), "{notices}");

        // Someone the form did not offer is refused as unknown.
        let (status, _) =
            s.call_form(&secretary, &format!("/demands/{}/steps/dispatch", items[1]), "handler=not-an-id");
        assert_eq!(status, 404);

        // To the property company, which has nobody who logs in: the secretary records
        // its progress, and the timeline says it was recorded on its behalf.
        let (status, _) =
            s.call_form(&secretary, &format!("/demands/{}/steps/dispatch", items[1]), &format!("handler={unit}"));
        assert_eq!(status, 303);
        let (status, _) = s.call_form(
            &secretary,
            &format!("/demands/{}/steps/progress", items[1]),
            "note=%E5%B7%B2%E8%81%94%E7%B3%BB%E7%BB%B4%E4%BF%AE",
        );
        assert_eq!(status, 303);
        let (status, detail) = s.call(&secretary, "GET", &format!("/api/v1/demands/{}", items[1]), None);
        assert_eq!(status, 200, "{detail}");
        assert_eq!(detail["demand"]["handler_name"], "塔山物业", "{detail}");
        let notes: Vec<String> = detail["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["note"].as_str().unwrap_or("").to_owned())
            .collect();
        assert!(notes.iter().any(|n| n == "（代塔山物业记录）已联系维修"), "{notes:?}");
    }
}

/// The grid's public face (issue 15): anyone may open it without an account; it
/// shows the team's names, posts and duties, a duty phone only with consent, the
/// community's hotline, and never a private phone; the report links need the
/// board's key. The printable board is for staff and carries the keyed QR link.
#[test]
fn the_grids_public_face_shows_the_team_and_nothing_private() {
    for s in servers() {
        let made = s.areas_down_to_grid();
        let (community, grid) =
            (made[3]["id"].as_str().unwrap().to_owned(), made[4]["id"].as_str().unwrap().to_owned());
        let secretary = s.token(Role::CommunitySecretary, "370602004011");
        let body = serde_json::json!({"grid_id": grid, "number": "3", "kind": "residential"});
        let (status, building) = s.call(&secretary, "POST", "/api/v1/buildings", Some(&body));
        assert_eq!(status, 201, "{building}");
        s.runtime.block_on(async {
            let db = &s.db.db;
            for (post, name, phone, duty, consent) in [
                ("leader", "赵建国", "13805359876", "0535-6668888", true),
                ("member", "王海燕", "13905351111", "13905352222", false),
            ] {
                let new = wangge_store::team::NewPost {
                    post: Some(post.into()),
                    person_name: name.into(),
                    phone: Some(phone.into()),
                    duty_phone: Some(duty.into()),
                    duty_phone_consent: consent,
                    duties: "全面负责".into(),
                    ..Default::default()
                };
                wangge_store::team::add(db, &grid, &new).await.unwrap();
            }
            let settings = wangge_store::demands::routing::CommunitySettings {
                auto_dispatch: false,
                hotline: Some("0535-6661234".into()),
            };
            wangge_store::demands::routing::set_settings(db, &community, &settings).await.unwrap();
        });
        let (status, html) = page(&s, &Auth::None, "/g/370602004011001");
        assert_eq!(status, 200, "{html}");
        for shown in ["赵建国", "王海燕", "网格长", "全面负责", "0535-6668888", "0535-6661234"] {
            assert!(html.contains(shown), "{shown} on the public face: {html}");
        }
        for hidden in ["13805359876", "13905351111", "13905352222", "grid-reports"] {
            assert!(!html.contains(hidden), "{hidden} must not be on the public face without the key");
        }
        assert_eq!(page(&s, &Auth::None, "/g/370602004011").0, 404, "a community is not a grid");
        assert_eq!(page(&s, &Auth::None, "/g/370602004011009").0, 404);

        let (status, board) = page(&s, &secretary, &format!("/registry/areas/{grid}/board"));
        assert_eq!(status, 200, "{board}");
        assert!(board.contains("<svg") && board.contains("0535-6668888") && !board.contains("13905352222"));
        let at = board.find("370602004011001?k=").expect("the keyed link") + "370602004011001?k=".len();
        let key: String = board[at..].chars().take(16).collect();
        let (status, keyed) = page(&s, &Auth::None, &format!("/g/370602004011001?k={key}"));
        assert_eq!(status, 200);
        assert!(keyed.contains(&format!("{}?k=", building["id"].as_str().unwrap())), "{keyed}");
        let (status, wrong) = page(&s, &Auth::None, "/g/370602004011001?k=0000000000000000");
        assert_eq!(status, 200);
        assert!(!wrong.contains("grid-reports"));
        let (_, login) = page(&s, &Auth::None, &format!("/registry/areas/{grid}/board"));
        assert!(!login.contains("<svg") && !login.contains("赵建国"), "the board needs an account: {login}");
    }
}

/// The roster as a community keeps it (issue 15): a title above the header, the
/// grid merged over its people. With `bad`, row 5's phone is a digit short and row
/// 6 names a building the grid does not have.
fn roster_xlsx(bad: bool) -> Vec<u8> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.merge_range(0, 0, 0, 4, "网格队伍花名册", &Format::new()).unwrap();
    for (c, h) in ["网格", "岗位", "姓名", "手机号码", "负责楼栋"].iter().enumerate() {
        sheet.write_string(2, c as u16, *h).unwrap();
    }
    sheet.merge_range(3, 0, 5, 0, "370602004011001", &Format::new()).unwrap();
    let rows = [
        ["网格长", "李建国", "13805350001", ""],
        ["网格员", "王海燕", if bad { "1380535002" } else { "13805350002" }, "3号楼"],
        ["楼长", "孙桂兰", "", if bad { "8号楼" } else { "3" }],
    ];
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            sheet.write_string(3 + r as u32, 1 + c as u16, *v).unwrap();
        }
    }
    workbook.save_to_buffer().unwrap()
}

#[test]
fn a_roster_file_with_bad_rows_is_refused_with_their_rows_and_a_good_one_writes_the_team() {
    use crate::demand_forms::post_files;
    for s in servers() {
        let made = s.areas_down_to_grid();
        let (community, grid) =
            (made[3]["id"].as_str().unwrap().to_owned(), made[4]["id"].as_str().unwrap().to_owned());
        s.create_account("secretary1", Role::CommunitySecretary, &["370602004011"], "secretary-pw-1");
        let (_, _, secretary) = s.login("secretary1", "secretary-pw-1");
        let token = s.token(Role::CommunitySecretary, "370602004011");
        let body = serde_json::json!({"grid_id": grid, "number": "3", "kind": "residential"});
        assert_eq!(s.call(&token, "POST", "/api/v1/buildings", Some(&body)).0, 201);
        let count = || -> i64 {
            s.runtime.block_on(async {
                sqlx::query_scalar("SELECT COUNT(*) FROM grid_posts").fetch_one(&s.db.db.pool).await.unwrap()
            })
        };

        let (status, html) = page(&s, &secretary, &format!("/registry/areas/{grid}/team"));
        assert_eq!(status, 200);
        assert!(html.contains("roster-import-link"), "the team page offers the import");
        let (status, html) = page(&s, &secretary, &format!("/registry/areas/{community}/team/import"));
        assert_eq!(status, 200, "a whole community's roster too: {html}");

        let path = format!("/registry/areas/{community}/team/import");
        let (status, _, html) = post_files(&s, &secretary, &path, &[], "file", &[("roster.xlsx", &roster_xlsx(true))]);
        assert_eq!(status, 422, "{html}");
        assert!(html.contains("roster-row-errors"), "{html}");
        assert!(html.contains("第 5 行，“手机号码”列"), "row and column as the file heads it: {html}");
        assert!(html.contains("第 6 行，“负责楼栋”列") && html.contains("8号楼"), "{html}");
        assert_eq!(count(), 0, "nothing written");

        let (status, _, html) = post_files(&s, &secretary, &path, &[], "file", &[("roster.xlsx", &roster_xlsx(false))]);
        assert_eq!(status, 200, "{html}");
        assert!(html.contains("roster-done") && html.contains("已导入 3 人"), "{html}");
        assert_eq!(count(), 3);
        let (_, posts) = s.call(&secretary, "GET", &format!("/api/v1/areas/{grid}/posts"), None);
        let names: Vec<&str> = posts.as_array().unwrap().iter().filter_map(|p| p["person_name"].as_str()).collect();
        assert_eq!(names, ["李建国", "王海燕", "孙桂兰"], "{posts}");
        let audited: i64 = s.runtime.block_on(async {
            sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'team.add'")
                .fetch_one(&s.db.db.pool)
                .await
                .unwrap()
        });
        assert_eq!(audited, 3, "each added post audited");

        // In English, the errors are said in English.
        let english = format!("{path}?lang=en");
        let (status, _, html) =
            post_files(&s, &secretary, &english, &[], "file", &[("roster.xlsx", &roster_xlsx(true))]);
        assert_eq!(status, 422);
        assert!(html.contains("row 5, column 手机号码"), "{html}");
    }
}

/// The dispatch form (issue 15): the category's default route is chosen beforehand,
/// and `?who=` searches by name among those the item may go to: its grid's team and
/// the units serving its place, nobody of another grid.
#[test]
fn the_dispatch_form_suggests_the_default_route_and_searches_names_within_scope() {
    for s in servers() {
        let made = s.areas_down_to_grid();
        let (community, grid) =
            (made[3]["id"].as_str().unwrap().to_owned(), made[4]["id"].as_str().unwrap().to_owned());
        let other_grid = s.runtime.block_on(async {
            let new = wangge_store::registry::areas::NewArea {
                parent_id: Some(community.clone()),
                level: wangge_domain::AreaLevel::Grid,
                code: "370602004011002".into(),
                name: "第二网格".into(),
                boundary: None,
            };
            wangge_store::registry::areas::create(&s.db.db, new).await.unwrap()
        });
        s.create_account("secretary1", Role::CommunitySecretary, &["370602004011"], "secretary-pw-1");
        let member = s.create_account("member1", Role::GridMember, &["370602004011001"], "member-password");
        let other = s.create_account("member2", Role::GridMember, &["370602004011002"], "member-password");
        let (_, _, secretary) = s.login("secretary1", "secretary-pw-1");
        let (item, unit, far_unit) = s.runtime.block_on(async {
            use wangge_domain::Vocabulary;
            use wangge_store::registry::{buildings, organisations};
            let db = &s.db.db;
            let building = |grid_id: String| buildings::NewBuilding {
                grid_id,
                number: "3".into(),
                address: None,
                kind: wangge_domain::BuildingKind::Residential,
                floors: None,
                units: None,
                lat: None,
                lng: None,
            };
            let b = buildings::create(db, building(grid.clone())).await.unwrap();
            for (g, name, account) in [(&grid, "王海燕", &member), (&other_grid.id, "王建军", &other)] {
                let post = wangge_store::team::NewPost {
                    post: Some("member".into()),
                    person_name: name.into(),
                    account_id: Some(account.clone()),
                    ..Default::default()
                };
                wangge_store::team::add(db, g, &post).await.unwrap();
            }
            let unit = |grid_id: &str, name: &str| organisations::NewOrganisation {
                grid_id: grid_id.to_owned(),
                name: name.into(),
                kind: wangge_domain::OrganisationKind::PropertyCompany,
                address: None,
                contact_name: None,
                phone: None,
            };
            let near = organisations::create(db, unit(&grid, "塔山物业")).await.unwrap();
            let role = wangge_domain::UnitRole::PropertyCompany;
            wangge_store::units::hold(db, &near.id, role, &community).await.unwrap();
            // A property company serving only the other grid: not this item's.
            let far = organisations::create(db, unit(&other_grid.id, "王府物业")).await.unwrap();
            wangge_store::units::hold(db, &far.id, role, &other_grid.id).await.unwrap();
            for level in wangge_domain::Level::all() {
                let route = Some(wangge_store::demands::routing::Route::Unit(role));
                wangge_store::demands::routing::set_route(db, "property", *level, route).await.unwrap();
            }
            let by = wangge_store::demands::Actor { id: None, name: "t".into(), role: Role::CommunityStaff };
            let new = wangge_store::demands::NewDemand {
                building_id: Some(b.id.clone()),
                category: "property".into(),
                title: "电梯异响".into(),
                ..Default::default()
            };
            (wangge_store::demands::create(db, new, &by, None).await.unwrap().id, near.id, far.id)
        });
        assert_eq!(s.call_form(&secretary, &format!("/demands/{item}/steps/accept"), "note=").0, 303);

        let (status, html) = page(&s, &secretary, &format!("/demands/{item}"));
        assert_eq!(status, 200);
        let selected: Vec<&str> =
            html.match_indices(" selected>").map(|(i, _)| &html[i.saturating_sub(60)..i]).collect();
        assert!(
            html.contains(&format!("<option value=\"{unit}\" selected>")),
            "the default route chosen: {selected:?}"
        );
        assert!(!html.contains(&format!("<option value=\"{member}\" selected>")), "nobody else chosen");
        assert!(html.contains("王海燕（网格员）"));
        assert!(!html.contains(&other) && !html.contains(&far_unit), "neither the other grid's member nor its unit");

        // A search by name: the item's grid's 王海燕 only, not 王建军 of the other grid
        // nor 王府物业, which serves the other grid.
        let (status, html) = page(&s, &secretary, &format!("/demands/{item}?who=%E7%8E%8B"));
        assert_eq!(status, 200);
        assert!(html.contains(&format!("value=\"{member}\"")), "{html}");
        assert!(!html.contains(&format!("value=\"{unit}\"")), "塔山物业 has no 王 in its name");
        assert!(!html.contains("王建军") && !html.contains("王府物业"), "nobody out of the item's reach");
        let (_, html) = page(&s, &secretary, &format!("/demands/{item}?who=%E7%89%A9%E4%B8%9A"));
        assert!(html.contains(&format!("value=\"{unit}\"")) && !html.contains(&format!("value=\"{member}\"")));
        let (_, html) = page(&s, &secretary, &format!("/demands/{item}?who=%E6%9D%8E"));
        assert!(html.contains("dispatch-none"), "nobody called 李: said so");
    }
}
