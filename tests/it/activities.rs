//! Activities over HTTP (issue 25, docs/participation.md): announced by staff,
//! signed up for on the portal (a place, then the waiting list), a cancellation
//! that moves the first waiting up and tells them, the door's self check-in with
//! its key, the staff's check-in from the resident's code, and the one question
//! afterwards, never preset.

use wangge_domain::{Role, Vocabulary};
use wangge_store::activities;
use wangge_store::security::accounts;
use wangge_store::testing;

use crate::common::servers;

fn enc(text: &str) -> String {
    text.bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

#[test]
fn a_sign_up_a_waiting_list_the_door_and_one_answer() {
    for s in servers() {
        let db = &s.db.db;
        let h = s.runtime.block_on(testing::hierarchy(db));
        s.create_account("secretary", Role::CommunitySecretary, &[testing::COMMUNITY], "long-enough-pw");
        let (_, _, secretary) = s.login("secretary", "long-enough-pw");
        s.create_account("next-grid", Role::GridMember, &[testing::OTHER_GRID], "long-enough-pw");
        let (_, _, next_grid) = s.login("next-grid", "long-enough-pw");
        // Announced through the form (a day far ahead: the form's reading of China time).
        let body = format!(
            "area_id={}&kind=culture&title={}&place={}&day=2099-05-01&starts=19:30&ends=21:00&capacity=40",
            h.community.id,
            enc("戏曲进社区"),
            enc("文化广场"),
        );
        assert_eq!(s.call_form(&secretary, "/activities", &body).0, 303, "{body}");
        let far = s.runtime.block_on(activities::under(db, &h.community.path, 0, i64::MAX)).unwrap();
        let far = far.into_iter().find(|a| a.title == "戏曲进社区").expect("announced");
        // 2099-05-01 19:30 in China is 11:30 UTC.
        assert_eq!(
            (far.starts_at, far.ends_at - far.starts_at, far.capacity),
            (4_081_318_200_000, 5_400_000, Some(40))
        );
        let bad = body.replace("&kind=culture", "&kind=");
        assert_eq!(s.call_form(&secretary, "/activities", &bad).0, 422, "a kind is chosen, not assumed");
        let (status, month) = s.call_text(&secretary, "GET", "/activities?month=2099-05", None);
        assert_eq!(status, 200);
        assert!(month.contains("戏曲进社区"), "on its month's calendar");

        // One place, in half an hour: the door is open and sign-ups still are.
        let soon = wangge_domain::now_millis() + 1_800_000;
        let new = activities::NewActivity {
            area_id: h.community.id.clone(),
            kind: wangge_domain::activities::ActivityKind::Culture,
            title: "广场舞展演".into(),
            detail: String::new(),
            place: "文化广场".into(),
            starts_at: soon,
            ends_at: soon + 3_600_000,
            capacity: Some(1),
        };
        let new_activity = new.clone();
        let a = s.runtime.block_on(activities::create(db, new, "书记")).unwrap();

        // Two households, each with a resident whose phone the registry holds.
        let other = s.runtime.block_on(wangge_store::notices::tests_support::household_in(db, &h.grid.id, "8"));
        let mut people = Vec::new();
        for (household, name, phone, login) in
            [(&h.household.id, "吴阿姨", "13911112222", "wu-ayi"), (&other.id, "郑大爷", "13933334444", "zheng-daye")]
        {
            let r = s.runtime.block_on(wangge_store::registry::residents::create(
                db,
                wangge_store::registry::residents::NewResident {
                    household_id: household.clone(),
                    name: name.into(),
                    gender: Some(wangge_domain::Gender::Female),
                    birth_date: Some("1958-01-01".into()),
                    phone: Some(phone.into()),
                    ..Default::default()
                },
            ));
            let r = r.unwrap();
            let account = s.create_account(login, Role::Resident, &[testing::COMMUNITY], "long-enough-pw");
            s.runtime.block_on(accounts::bind_household(db, &account, household)).unwrap();
            let (_, _, auth) = s.login(login, "long-enough-pw");
            people.push((r.id, auth, account));
        }
        let page = format!("/portal/activities/{}", a.id);
        let page_path = page.clone();
        let (status, text) = s.call_text(&people[0].1, "GET", &page, None);
        assert_eq!(status, 200);
        assert!(text.contains("广场舞展演") && text.contains("activity-signup"), "{text}");
        let someone_else = format!("resident_id={}", people[1].0);
        assert_eq!(s.call_form(&people[0].1, &format!("{page}/signup"), &someone_else).0, 404, "not her household");
        assert_eq!(s.call_form(&people[0].1, &format!("{page}/signup"), "resident_id=").0, 422, "someone is chosen");
        let mine = format!("resident_id={}", people[0].0);
        assert_eq!(s.call_form(&people[0].1, &format!("{page}/signup"), &mine).0, 303);
        let his = format!("resident_id={}", people[1].0);
        assert_eq!(s.call_form(&people[1].1, &format!("{page}/signup"), &his).0, 303);
        let list = s.runtime.block_on(activities::signups(db, &a.id)).unwrap();
        let states: Vec<_> = list.iter().map(|x| (x.name.as_str(), x.state.code())).collect();
        assert_eq!(states, [("吴阿姨", "confirmed"), ("郑大爷", "waiting")]);
        assert_eq!(s.call_form(&people[0].1, &format!("{page}/signup"), &mine).0, 422, "once");

        // She cancels; he moves up and is told.
        assert_eq!(s.call_form(&people[0].1, &format!("{page}/cancel"), "x=1").0, 303);
        let list = s.runtime.block_on(activities::signups(db, &a.id)).unwrap();
        let zheng = list.iter().find(|x| x.name == "郑大爷").unwrap().clone();
        assert_eq!(zheng.state.code(), "confirmed");
        let told = s.runtime.block_on(wangge_store::notifications::mine(db, &people[1].2, 10)).unwrap();
        assert_eq!(told.len(), 1, "the one who moved up is told");
        assert_eq!(told[0].link.as_deref(), Some(page.as_str()));

        // The door: without its key nothing is there; with it, the wrong digits find
        // nobody and his name with his phone's last four check him in.
        let (_, sheet) = s.call_text(&secretary, "GET", &format!("/activities/{}/sheet", a.id), None);
        assert!(sheet.contains("郑大爷") && sheet.contains("<svg"), "the sheet lists him with its codes");
        let door =
            sheet.split("id=\"door-url\">").nth(1).and_then(|t| t.split('<').next()).expect("the door's address");
        let door = door.replace("&#x2f;", "/").replace("&amp;", "&");
        let door = door[door.find("/a/").expect("a door path")..].to_owned();
        assert_eq!(s.call_text(&crate::common::Auth::None, "GET", &format!("/a/{}", a.id), None).0, 404);
        assert_eq!(s.call_text(&crate::common::Auth::None, "GET", &format!("/a/{}?k=wrong", a.id), None).0, 404);
        let (status, text) = s.call_text(&crate::common::Auth::None, "GET", &door, None);
        assert_eq!(status, 200, "{text}");
        let key = door.split("k=").nth(1).expect("the key");
        assert!(text.contains(&format!("?lang=en&amp;k={key}")), "switching the language keeps the key: {text}");
        let wrong = format!("name={}&last4=4445", enc("郑大爷"));
        assert_eq!(s.call_form(&crate::common::Auth::None, &door, &wrong).0, 422);
        let right = format!("name={}&last4=4444", enc("郑大爷"));
        let (status, answer) = s.call_form(&crate::common::Auth::None, &door, &right);
        assert_eq!(status, 200);
        assert!(answer.as_str().unwrap_or_default().contains("door-done"), "{answer}");
        let zheng = s.runtime.block_on(activities::signup(db, &zheng.id)).unwrap();
        assert!(zheng.checked_in_at.is_some());

        // A community's activity is every grid's to help at (the next grid's member
        // opens the scanned sign-up); a grid's own activity is not the next grid's.
        let code_page = format!("/activities/signups/{}", zheng.id);
        assert_eq!(s.call_text(&next_grid, "GET", &code_page, None).0, 200);
        assert_eq!(s.call_text(&secretary, "GET", &code_page, None).0, 200);
        let grid_only = activities::NewActivity {
            area_id: h.grid.id.clone(),
            title: "第一网格楼道清洁".into(),
            kind: wangge_domain::activities::ActivityKind::Volunteer,
            ..new_activity.clone()
        };
        let grid_only = s.runtime.block_on(activities::create(db, grid_only, "网格员")).unwrap();
        assert_eq!(s.call_text(&next_grid, "GET", &format!("/activities/{}", grid_only.id), None).0, 404);
        assert_eq!(s.call_text(&secretary, "GET", &format!("/activities/{}", grid_only.id), None).0, 200);

        // Before it ends there is no answering; once it has, one answer, chosen.
        let rate = format!("{page}/rate");
        assert_eq!(s.call_form(&people[1].1, &rate, "score=2").0, 422, "not over yet");
        s.runtime.block_on(async {
            sqlx::query(
                "UPDATE activities SET starts_at = starts_at - 86400000, ends_at = ends_at - 86400000 WHERE id = $1",
            )
            .bind(&a.id)
            .execute(&db.pool)
            .await
            .unwrap();
        });
        let (_, text) = s.call_text(&people[1].1, "GET", &page, None);
        let form = text.split("activity-rate").nth(1).expect("the question is asked").split("</form>").next().unwrap();
        assert!(form.contains("name=\"score\"") && !form.contains(" checked"), "no score is preset: {form}");
        assert_eq!(s.call_form(&people[1].1, &rate, "comment=x").0, 422, "a score is chosen");
        let comment = format!("score=2&comment={}", enc("唱得好，可惜太晚了"));
        assert_eq!(s.call_form(&people[1].1, &rate, &comment).0, 303);
        assert_eq!(s.call_form(&people[1].1, &rate, "score=5").0, 422, "once");
        let (unsatisfied, answers) = s
            .runtime
            .block_on(activities::satisfaction(db, &h.community.path, 0, i64::MAX))
            .unwrap()
            .iter()
            .fold((0, 0), |(p, w), (_, part, whole)| (p + part, w + whole));
        assert_eq!((unsatisfied, answers), (1, 1));
        let (status, text) = s.call_text(&secretary, "GET", &format!("/activities/{}", a.id), None);
        assert_eq!(status, 200);
        assert!(text.contains("唱得好"), "the comment is on the activity's page");

        // Photos afterwards: staff upload one (a text file is refused and named); the
        // residents of the community see it on the portal.
        const PNG: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, b'I', b'H', b'D', b'R'];
        let upload = format!("/activities/{}/photos", a.id);
        let (status, _, page) =
            crate::demand_forms::post_files(&s, &secretary, &upload, &[], "photo", &[("合影.png", PNG)]);
        assert_eq!(status, 303, "{page}");
        let (status, _, page) =
            crate::demand_forms::post_files(&s, &secretary, &upload, &[], "photo", &[("名单.txt", b"not a photo")]);
        assert_eq!(status, 422);
        assert!(page.contains("activity-error"), "{page}");
        let photos = s.runtime.block_on(activities::photos(db, &a.id)).unwrap();
        assert_eq!(photos.len(), 1);
        let (_, portal_page) = s.call_text(&people[0].1, "GET", &page_path, None);
        let link = format!("/portal/activity-photos/{}", photos[0].id);
        assert!(portal_page.contains(&link), "shown on the portal");
        let (status, kind, bytes) = crate::campaigns::get_bytes(&s, &people[0].1, &link);
        assert_eq!((status, kind.as_str(), bytes.as_slice()), (200, "image/png", PNG));
    }
}
