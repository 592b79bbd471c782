//! Organisational life over HTTP (issue 23, docs/party.md "Organisational life"):
//! the month-end sweep at a chosen time tells the branch's secretary and the
//! community's Party secretaries once (not the staff, not another grid's
//! secretary); the secretary records the meeting with attendance (an excused
//! member needs a reason); the meeting's names are the roll's; the yearly record
//! lists it. The walk of every route with its scopes and roles is in `party.rs`.

use serde_json::{Value, json};
use wangge_domain::party::OrgKind;
use wangge_domain::{IdCardNumber, Role};
use wangge_store::party::{self, life};
use wangge_store::testing;

use crate::common::servers;

fn form(body: &Value) -> String {
    let Value::Object(fields) = body else { return String::new() };
    fields
        .iter()
        .map(|(k, v)| {
            let text = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
            let encoded: String = text
                .bytes()
                .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
                .collect();
            format!("{k}={encoded}")
        })
        .collect::<Vec<_>>()
        .join("&")
}

#[test]
fn a_branch_behind_is_told_once_and_records_its_meeting() {
    for s in servers() {
        let db = s.db.db.clone();
        let h = s.runtime.block_on(testing::hierarchy(&db));
        let (branch, zhang, li) = s.runtime.block_on(async {
            let branch = party::add_org(
                &db,
                party::NewOrg {
                    parent_id: None,
                    area_id: h.grid.id.clone(),
                    kind: OrgKind::Branch,
                    name: "第一网格党支部".into(),
                    secretary_name: Some("张书记".into()),
                    committee: String::new(),
                },
            )
            .await
            .unwrap();
            let member = |name: &str, seq: u16| party::NewMember {
                area_id: h.grid.id.clone(),
                org_id: Some(branch.id.clone()),
                unit_id: None,
                kind: wangge_domain::party::MemberKind::Resident,
                name: name.into(),
                post: String::new(),
                skills: String::new(),
                joined_on: None,
                id_card: IdCardNumber::compose(
                    370602,
                    time::Date::from_calendar_date(1960, time::Month::May, 5).unwrap(),
                    seq,
                ),
                phone: None,
                account_id: None,
            };
            let zhang = party::add_member(&db, member("张党员", 31), "社工").await.unwrap();
            let li = party::add_member(&db, member("李党员", 32), "社工").await.unwrap();
            (branch, zhang.id, li.id)
        });
        let secretary = s.create_account("zhibu", Role::PartySecretary, &[testing::GRID], "long-enough-pw");
        let community_secretary =
            s.create_account("dangwei", Role::PartySecretary, &[testing::COMMUNITY], "long-enough-pw");
        let staff = s.create_account("shequ", Role::CommunityStaff, &[testing::COMMUNITY], "long-enough-pw");
        let next_grid = s.create_account("zhibu2", Role::PartySecretary, &[testing::OTHER_GRID], "long-enough-pw");

        // The first minutes of next month in China: this month is over.
        let today = wangge_store::instructions::today();
        let next_month = wangge_domain::party::Period::containing(today, 1).end();
        let now = wangge_domain::party::china_midnight(next_month) + 10 * 60_000;
        let sent = s.runtime.block_on(wangge_web::send_party_life_alerts(&db, None, now)).unwrap();
        assert!(sent >= 2, "committee meeting and theme Party day of this month at least: {sent}");
        assert_eq!(s.runtime.block_on(wangge_web::send_party_life_alerts(&db, None, now)).unwrap(), 0, "once");
        let notices = |account: &str| s.runtime.block_on(wangge_store::notifications::mine(&db, account, 50)).unwrap();
        let this_month = wangge_domain::party::Period::containing(today, 1).label();
        for account in [&secretary, &community_secretary] {
            let said: Vec<String> = notices(account).iter().map(|n| wangge_web::say(&n.message, "zh-CN")).collect();
            assert!(said.iter().any(|m| m.contains("支委会") && m.contains(&this_month)), "{said:?}");
        }
        assert!(notices(&staff).is_empty() && notices(&next_grid).is_empty());

        // The branch's secretary records the committee meeting.
        let (status, _, auth) = s.login("zhibu", "long-enough-pw");
        assert_eq!(status, 200);
        let path = format!("/party/orgs/{}/meetings", branch.id);
        let at = time::OffsetDateTime::now_utc().to_offset(wangge_domain::demands::CHINA) - time::Duration::minutes(1);
        let held = format!("{}T{:02}:{:02}", at.date(), at.hour(), at.minute());
        let mut body = json!({"kind": "committee", "held_at": held, "place": "网格党群服务站", "topic": "补开本月支委会",
            "minutes": "研究本月工作"});
        body[format!("att_{zhang}")] = json!("present");
        body[format!("att_{li}")] = json!("excused");
        let (status, page) = s.call_form(&auth, &path, &form(&body));
        assert_eq!(status, 422);
        assert!(page.to_string().contains("李党员"), "the excused member without a reason is named: {page}");
        body[format!("reason_{li}")] = json!("住院");
        let (status, _) = s.call_form(&auth, &path, &form(&body));
        assert_eq!(status, 303);
        let (from, to) = life::year_millis(today.year());
        let meetings = s.runtime.block_on(life::meetings_of(&db, &branch.id, from, to)).unwrap();
        assert_eq!(meetings.len(), 1);
        assert_eq!(meetings[0].counts(), (1, 1, 0));

        // The names are the roll's: the secretary reads them, a grid member the counts.
        let meeting = format!("/party/meetings/{}", meetings[0].id);
        let (status, page) = s.call_text(&auth, "GET", &meeting, None);
        assert_eq!(status, 200);
        assert!(page.contains("李党员") && page.contains("住院"), "{page}");
        let gm = s.token(Role::GridMember, testing::GRID);
        let (status, page) = s.call_text(&gm, "GET", &meeting, None);
        assert_eq!(status, 200);
        assert!(!page.contains("李党员") && page.contains("补开本月支委会"));
        // The yearly record lists it, and with next month's eyes the month is held.
        let (status, page) = s.call_text(&auth, "GET", &format!("/party/orgs/{}/life", branch.id), None);
        assert_eq!(status, 200);
        assert!(page.contains("补开本月支委会"), "{page}");
        let org = s.runtime.block_on(party::org(&db, &branch.id)).unwrap();
        let c = s.runtime.block_on(life::compliance(&db, &org, today.year(), next_month)).unwrap();
        let committee = c.kinds.iter().find(|k| k.kind == wangge_domain::party_life::MeetingKind::Committee).unwrap();
        assert!(!committee.missed.contains(&this_month), "{committee:?}");
    }
}
