//! Notices over HTTP (issue 24, docs/participation.md): written, submitted and
//! published by staff (only a reviewer publishes), read by the resident of the
//! targeted building on the portal and not by another, read tracking exact, the
//! poster with its QR code, the grid's public page, the unread list.

use wangge_domain::Role;
use wangge_store::notices;
use wangge_store::security::accounts;
use wangge_store::testing;

use crate::common::{Auth, servers};

fn session(s: &crate::common::Server, username: &str, role: Role, scope: &str) -> Auth {
    s.create_account(username, role, &[scope], "long-enough-pw");
    let (status, answer, auth) = s.login(username, "long-enough-pw");
    assert_eq!(status, 200, "{answer}");
    auth
}

fn enc(text: &str) -> String {
    text.bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

#[test]
fn a_notice_for_a_building_reaches_its_residents_only() {
    for s in servers() {
        let db = &s.db.db;
        let (h, other) = s.runtime.block_on(async {
            let h = testing::hierarchy(db).await;
            let other = notices::tests_support::household_in(db, &h.other_grid.id, "9").await;
            (h, other)
        });
        let secretary = session(&s, "secretary", Role::CommunitySecretary, testing::COMMUNITY);
        let member = session(&s, "member", Role::GridMember, testing::GRID);
        let resident = s.create_account("resident", Role::Resident, &[testing::COMMUNITY], "long-enough-pw");
        let neighbour = s.create_account("neighbour", Role::Resident, &[testing::COMMUNITY], "long-enough-pw");
        s.runtime.block_on(async {
            accounts::bind_household(db, &resident, &h.household.id).await.unwrap();
            accounts::bind_household(db, &neighbour, &other.id).await.unwrap();
        });
        let (_, _, resident_auth) = s.login("resident", "long-enough-pw");
        let (_, _, neighbour_auth) = s.login("neighbour", "long-enough-pw");

        let body = format!(
            "area_id={}&title={}&body={}&important=1&target=building:{}",
            h.community.id,
            enc("3号楼停水"),
            enc("周三停水"),
            h.building.id
        );
        let (status, _) = s.call_form(&secretary, "/notices", &body);
        assert_eq!(status, 303);
        let general = format!("area_id={}&title={}&body={}", h.community.id, enc("全体通知"), enc("大家好"));
        assert_eq!(s.call_form(&secretary, "/notices", &general).0, 303);
        let list = s.runtime.block_on(notices::list_under(db, &h.community.path)).unwrap();
        let water = list.iter().find(|n| n.title == "3号楼停水").unwrap().id.clone();
        let everyone = list.iter().find(|n| n.title == "全体通知").unwrap().id.clone();

        // Not published yet: the resident does not see it.
        let (_, page) = s.call_text(&resident_auth, "GET", "/portal/notices", None);
        assert!(!page.contains("3号楼停水"), "{page}");
        for id in [&water, &everyone] {
            assert_eq!(s.call_form(&member, &format!("/notices/{id}/step"), "step=submit").0, 404, "grid scope");
            assert_eq!(s.call_form(&secretary, &format!("/notices/{id}/step"), "step=submit").0, 303);
            assert_eq!(s.call_form(&secretary, &format!("/notices/{id}/step"), "step=publish").0, 303);
        }
        assert_eq!(s.runtime.block_on(notices::reach(db, &water)).unwrap(), (1, 0));
        let (status, page) = s.call_text(&resident_auth, "GET", "/portal/notices", None);
        assert_eq!(status, 200);
        assert!(page.contains("3号楼停水") && page.contains("全体通知"), "{page}");
        let (_, page) = s.call_text(&neighbour_auth, "GET", "/portal/notices", None);
        assert!(!page.contains("3号楼停水") && page.contains("全体通知"), "{page}");
        assert_eq!(s.call_text(&neighbour_auth, "GET", &format!("/portal/notices/{water}"), None).0, 404);

        // The grid member's list before and after the resident reads it.
        let (_, unread) = s.call_text(&member, "GET", "/notices/unread", None);
        assert!(unread.contains("3号楼停水") && unread.contains("resident"), "{unread}");
        let (status, page) = s.call_text(&resident_auth, "GET", &format!("/portal/notices/{water}"), None);
        assert_eq!(status, 200);
        assert!(page.contains("周三停水"));
        assert_eq!(s.runtime.block_on(notices::reach(db, &water)).unwrap(), (1, 1));
        let (_, unread) = s.call_text(&member, "GET", "/notices/unread", None);
        assert!(!unread.contains("3号楼停水"), "{unread}");

        // Poster and public page.
        let (status, poster) = s.call_text(&secretary, "GET", &format!("/notices/{water}/poster"), None);
        assert_eq!(status, 200);
        assert!(poster.contains("<svg"), "{poster}");
        assert!(poster.contains(&water) && poster.contains("poster-url"), "the notice's address is printed");
        let (_, public) = s.call_text(&Auth::None, "GET", &format!("/g/{}", testing::GRID), None);
        assert!(public.contains("全体通知") && !public.contains("3号楼停水"), "{public}");
        // A withdrawn notice is gone from the portal at once.
        assert_eq!(s.call_form(&secretary, &format!("/notices/{everyone}/step"), "step=withdraw").0, 303);
        let (_, page) = s.call_text(&neighbour_auth, "GET", "/portal/notices", None);
        assert!(!page.contains("全体通知"));
    }
}

/// A survey built over HTTP (single choice, rating, a text asked only after "no"),
/// answered at the door and on the portal; the results page draws its charts and
/// suppresses the cross-tab cells under 5; the .xlsx downloads; a second portal
/// answer is refused; skip logic drops an answer to a question not asked.
#[test]
fn a_survey_built_answered_counted_and_exported() {
    use std::collections::BTreeMap;
    use wangge_domain::surveys::Channel;
    use wangge_store::surveys;
    for s in servers() {
        let db = &s.db.db;
        let h = s.runtime.block_on(testing::hierarchy(db));
        let secretary = session(&s, "secretary", Role::CommunitySecretary, testing::COMMUNITY);
        let body = format!("area_id={}&title={}", h.community.id, enc("满意度调查"));
        assert_eq!(s.call_form(&secretary, "/surveys", &body).0, 303);
        let survey = s.runtime.block_on(surveys::list_under(db, &h.community.path)).unwrap().remove(0);
        let id = survey.id.clone();
        for q in [
            format!("kind=single&label={}&choices={}&required=1", enc("满意吗"), enc("满意\n不满意")),
            format!("kind=rating&label={}&required=1", enc("打分")),
            format!("kind=text&label={}&relevant={}", enc("为什么"), enc("${q1} = 'c2'")),
        ] {
            assert_eq!(s.call_form(&secretary, &format!("/surveys/{id}/questions"), &q).0, 303, "{q}");
        }
        let bad = format!("kind=text&label=x&relevant={}", enc("${q9} = 'c2'"));
        assert_eq!(s.call_form(&secretary, &format!("/surveys/{id}/questions"), &bad).0, 422);
        assert_eq!(s.call_form(&secretary, &format!("/surveys/{id}/state"), "open=1").0, 303);
        // Six residents of the first grid in their sixties: five satisfied, one not.
        s.runtime.block_on(async {
            for i in 0..6 {
                let new = wangge_store::registry::residents::NewResident {
                    household_id: h.household.id.clone(),
                    name: format!("居民{i}"),
                    gender: Some(wangge_domain::Gender::Female),
                    birth_date: Some("1960-01-01".into()),
                    ..Default::default()
                };
                let r = wangge_store::registry::residents::create(db, new).await.unwrap();
                let who = surveys::respondent_of_resident(db, &r.id).await.unwrap();
                let q1 = if i < 5 { "c1" } else { "c2" };
                let given = BTreeMap::from([
                    ("q1".to_owned(), q1.to_owned()),
                    ("q2".to_owned(), "4".to_owned()),
                    ("q3".to_owned(), "太吵".to_owned()),
                ]);
                surveys::answer(db, &id, &who, Channel::Doorstep, &given, "2026-03-01").await.unwrap().unwrap();
            }
        });
        let rows = s.runtime.block_on(surveys::answers_under(db, &id, &h.community.path)).unwrap();
        assert_eq!(rows.iter().filter(|r| r.answers.contains_key("q3")).count(), 1, "asked only after 'no'");
        let (status, page) = s.call_text(&secretary, "GET", &format!("/surveys/{id}/results"), None);
        assert_eq!(status, 200);
        assert!(page.contains("<svg") && page.contains("83.3%") && page.contains("16.7%"), "{page}");
        let cross = page.split("cross-tab").nth(1).unwrap_or_default();
        assert!(cross.contains("第一网格") && cross.contains("<td>5</td>") && cross.contains("&lt;5"), "{cross}");
        let (_, by_age) = s.call_text(&secretary, "GET", &format!("/surveys/{id}/results?by=age"), None);
        assert!(by_age.contains("60-69"));
        let (status, _) = s.call_text(&secretary, "GET", &format!("/surveys/{id}/export"), None);
        assert_eq!(status, 200, "the .xlsx");

        // A resident on the portal, once.
        let resident = s.create_account("resident", Role::Resident, &[testing::COMMUNITY], "long-enough-pw");
        s.runtime.block_on(accounts::bind_household(db, &resident, &h.household.id)).unwrap();
        let (_, _, auth) = s.login("resident", "long-enough-pw");
        let (_, list) = s.call_text(&auth, "GET", "/portal/surveys", None);
        assert!(list.contains("满意度调查"), "{list}");
        let missing = "a_q2=3";
        assert_eq!(s.call_form(&auth, &format!("/portal/surveys/{id}"), missing).0, 422, "q1 is required");
        assert_eq!(s.call_form(&auth, &format!("/portal/surveys/{id}"), "a_q1=c1&a_q2=3").0, 303);
        assert_eq!(s.call_form(&auth, &format!("/portal/surveys/{id}"), "a_q1=c1&a_q2=3").0, 422, "once");
        let rows = s.runtime.block_on(surveys::answers_under(db, &id, &h.community.path)).unwrap();
        assert_eq!(rows.len(), 7);
        assert_eq!(rows.iter().filter(|r| r.channel == Channel::Portal).count(), 1);
    }
}

/// A notice's attachment: uploaded to a draft (a file that is neither an image nor
/// a PDF is refused and named), served to staff who see the notice and to the
/// residents it reaches, not to a neighbour it does not reach nor to the next
/// grid's member; once published, no file is added or removed.
#[test]
fn a_notice_attachment_reaches_whom_the_notice_reaches() {
    use crate::campaigns::get_bytes;
    use crate::demand_forms::post_files;
    use wangge_domain::notices::{NoticeStep, TargetKind};
    const PDF: &[u8] = b"%PDF-1.4\n% a timetable\n";
    for s in servers() {
        let db = &s.db.db;
        let (h, other) = s.runtime.block_on(async {
            let h = testing::hierarchy(db).await;
            let other = notices::tests_support::household_in(db, &h.other_grid.id, "9").await;
            (h, other)
        });
        let secretary = session(&s, "secretary", Role::CommunitySecretary, testing::COMMUNITY);
        let next_grid = session(&s, "next-grid", Role::GridMember, testing::OTHER_GRID);
        let resident = s.create_account("resident", Role::Resident, &[testing::COMMUNITY], "long-enough-pw");
        let neighbour = s.create_account("neighbour", Role::Resident, &[testing::COMMUNITY], "long-enough-pw");
        let notice = s.runtime.block_on(async {
            accounts::bind_household(db, &resident, &h.household.id).await.unwrap();
            accounts::bind_household(db, &neighbour, &other.id).await.unwrap();
            let input = notices::NoticeInput {
                title: "停水时间表".into(),
                body: "见附件".into(),
                targets: vec![(TargetKind::Building, h.building.id.clone())],
                ..Default::default()
            };
            notices::create(db, &h.community.id, &input, ("x", "书记")).await.unwrap()
        });
        let upload = format!("/notices/{}/files", notice.id);
        let (status, _, page) = post_files(&s, &secretary, &upload, &[], "file", &[("时间表.pdf", PDF)]);
        assert_eq!(status, 303, "{page}");
        let (status, _, page) = post_files(&s, &secretary, &upload, &[], "file", &[("notes.txt", b"plain words")]);
        assert_eq!(status, 422, "not an image nor a PDF");
        assert!(page.contains("notice-error"), "the refusal is on the page: {page}");
        let files = s.runtime.block_on(notices::files(db, &notice.id)).unwrap();
        assert_eq!(files.len(), 1, "the refused file is not kept");
        let file = &files[0];
        assert_eq!((file.name.as_str(), file.content_type.as_str(), file.size), ("时间表.pdf", "application/pdf", 23));
        let (status, page) = s.call_text(&secretary, "GET", &format!("/notices/{}", notice.id), None);
        assert_eq!(status, 200);
        assert!(page.contains(&format!("/notices/files/{}", file.id)), "listed on the notice's page");

        let staff = format!("/notices/files/{}", file.id);
        let (status, kind, bytes) = get_bytes(&s, &secretary, &staff);
        assert_eq!((status, kind.as_str(), bytes.as_slice()), (200, "application/pdf", PDF));
        assert_eq!(
            get_bytes(&s, &next_grid, &staff).0,
            404,
            "the next grid's member does not see the community's notice"
        );

        s.runtime.block_on(async {
            notices::step(db, &notice.id, NoticeStep::Submit, "书记").await.unwrap();
            notices::step(db, &notice.id, NoticeStep::Publish, "书记").await.unwrap();
        });
        let (status, _, _) = post_files(&s, &secretary, &upload, &[], "file", &[("b.pdf", PDF)]);
        assert_eq!(status, 422, "a published notice keeps its files");
        let (status, _) = s.call_form(&secretary, &format!("/notices/files/{}/delete", file.id), "x=1");
        assert_eq!(status, 422, "nor loses one");
        assert_eq!(s.runtime.block_on(notices::files(db, &notice.id)).unwrap().len(), 1);

        let portal = format!("/portal/notice-files/{}", file.id);
        let (_, _, mine) = s.login("resident", "long-enough-pw");
        let (status, _, bytes) = get_bytes(&s, &mine, &portal);
        assert_eq!((status, bytes.as_slice()), (200, PDF), "the resident of the building");
        let (_, page) = s.call_text(&mine, "GET", &format!("/portal/notices/{}", notice.id), None);
        assert!(page.contains(&portal), "listed under the notice on the portal");
        let (_, _, theirs) = s.login("neighbour", "long-enough-pw");
        assert_eq!(get_bytes(&s, &theirs, &portal).0, 404, "a household the notice does not reach");
    }
}

/// A matrix question (three statements on the same three choices) is three
/// single-choice questions sharing one list; the survey goes out as XLSForm and
/// comes back into another draft unchanged; a workbook with a bad row is refused
/// with its row named and the questions kept; an open survey takes no upload.
#[test]
fn a_matrix_and_xlsform_in_and_out() {
    use crate::campaigns::get_bytes;
    use crate::demand_forms::post_files;
    use wangge_domain::campaigns::QuestionKind;
    use wangge_store::surveys;
    for s in servers() {
        let db = &s.db.db;
        let h = s.runtime.block_on(testing::hierarchy(db));
        let secretary = session(&s, "secretary", Role::CommunitySecretary, testing::COMMUNITY);
        for title in ["环境满意度", "环境满意度（复制）"] {
            let body = format!("area_id={}&title={}", h.community.id, enc(title));
            assert_eq!(s.call_form(&secretary, "/surveys", &body).0, 303);
        }
        let mut made = s.runtime.block_on(surveys::list_under(db, &h.community.path)).unwrap();
        made.sort_by(|a, b| a.title.cmp(&b.title));
        let (first, copy) = (made[0].id.clone(), made[1].id.clone());
        assert!(made[1].title.contains("复制"));
        let matrix = format!(
            "kind=matrix&label={}&choices={}&rows={}&required=1",
            enc("您对以下方面是否满意"),
            enc("满意\n一般\n不满意"),
            enc("环境卫生\n治安\n物业服务")
        );
        assert_eq!(s.call_form(&secretary, &format!("/surveys/{first}/questions"), &matrix).0, 303);
        let one_row = format!("kind=matrix&label=x&choices={}&rows={}", enc("a\nb"), enc("only"));
        assert_eq!(s.call_form(&secretary, &format!("/surveys/{first}/questions"), &one_row).0, 422);
        let text = format!("kind=text&label={}", enc("其他建议"));
        assert_eq!(s.call_form(&secretary, &format!("/surveys/{first}/questions"), &text).0, 303);
        let form = s.runtime.block_on(surveys::get(db, &first)).unwrap().form;
        let names: Vec<&str> = form.questions.iter().map(|q| q.name.as_str()).collect();
        assert_eq!(names, ["q1_1", "q1_2", "q1_3", "q4"]);
        for q in &form.questions[..3] {
            assert_eq!(q.kind, QuestionKind::SelectOne("q1".into()));
            assert!(q.required && q.label.zh.starts_with("您对以下方面是否满意 — "));
        }
        assert_eq!(form.lists["q1"].len(), 3);

        let (status, kind, workbook) = get_bytes(&s, &secretary, &format!("/surveys/{first}/form.xlsx"));
        assert_eq!(status, 200);
        assert!(kind.contains("spreadsheetml"), "{kind}");
        let upload = format!("/surveys/{copy}/form");
        let (status, _, page) = post_files(&s, &secretary, &upload, &[], "file", &[("form.xlsx", &workbook)]);
        assert_eq!(status, 303, "{page}");
        let copied = s.runtime.block_on(surveys::get(db, &copy)).unwrap().form;
        let names_back: Vec<&str> = copied.questions.iter().map(|q| q.name.as_str()).collect();
        assert_eq!(names_back, names);
        assert_eq!(
            copied.questions.iter().map(|q| q.kind.clone()).collect::<Vec<_>>(),
            form.questions.iter().map(|q| q.kind.clone()).collect::<Vec<_>>()
        );
        assert_eq!(copied.lists["q1"], form.lists["q1"]);

        // A workbook whose question names a list it does not have.
        let mut broken = form.clone();
        broken.questions[1].kind = QuestionKind::SelectOne("nowhere".into());
        let bad = wangge_ledger::xlsform::form_xlsx_bytes(&broken).unwrap();
        let (status, _, page) = post_files(&s, &secretary, &upload, &[], "file", &[("bad.xlsx", &bad)]);
        assert_eq!(status, 422);
        assert!(page.contains("survey-error") && page.contains("nowhere"), "{page}");
        assert_eq!(s.runtime.block_on(surveys::get(db, &copy)).unwrap().form.questions.len(), 4, "unchanged");

        assert_eq!(s.call_form(&secretary, &format!("/surveys/{first}/state"), "open=1").0, 303);
        let (status, _, _) =
            post_files(&s, &secretary, &format!("/surveys/{first}/form"), &[], "file", &[("f.xlsx", &workbook)]);
        assert_eq!(status, 422, "an open survey keeps its questions");
    }
}
