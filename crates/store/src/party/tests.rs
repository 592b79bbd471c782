//! Party building against hand-computed figures, on both engines.

use time::macros::{date, datetime};
use wangge_domain::party::{MemberKind, MemberStatus, NeedSource, RegistrationState, RegistrationStep};
use wangge_domain::{IdCardNumber, Phone};

use super::service::{self, NewNeed, NewService};
use super::*;
use crate::testing::{self, TestDb};

fn id_card(sequence: u16) -> IdCardNumber {
    IdCardNumber::compose(370602, date!(1985 - 06 - 15), sequence)
}

fn ms(t: time::OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

fn conflict_key(r: &StoreResult<impl std::fmt::Debug>) -> String {
    match r {
        Err(StoreError::Conflict(m)) | Err(StoreError::Invalid(m)) => m.key.to_string(),
        other => format!("not refused: {other:?}"),
    }
}

/// A unit declaring 3 members; 张三 (grid 1) and 李四 (grid 2) register and are
/// confirmed, 王五 withdrew and is refused. Their confirmed service, China time:
/// 张三 2 h on 31 March 23:30 (Q1) and 1.5 h on 1 April 00:10 (Q2); 李四 10 h on
/// 10 February and 3 h on 15 March (Q1), and 5 h rejected. Hand-computed:
/// Q1: 15.0 h in 3 records; registration 2 of 3 (66 %); share 12.5 h by the end
/// of Q1, which 李四 (13 h) reached and 张三 (2 h) did not: completion 1 of 2.
/// Q2: 1.5 h; share 25 h; nobody reached it (张三 3.5 h, 李四 13 h): 0 of 2, and
/// 李四 did nothing in Q2.
#[tokio::test]
async fn registration_service_and_feedback_across_a_quarter_boundary() {
    testing::all_at(async |t: &TestDb| {
        let db = &t.db;
        let h = testing::hierarchy(db).await;
        let march_31 = ms(datetime!(2026-03-31 23:30 +8));
        let unit_new = NewUnit {
            community_id: h.community.id.clone(),
            name: "芝罘区税务局".into(),
            party_org_name: "芝罘区税务局机关党支部".into(),
            contact_name: "赵联络".into(),
            phone: Some(Phone::parse("13805350001").unwrap()),
            resources: "政策宣讲、会议室".into(),
            declared_members: 3,
        };
        let (u, unit_reg) = register_unit(db, unit_new.clone(), march_31, "form", "公开表单").await.unwrap();
        assert_eq!((unit_reg.period.as_str(), unit_reg.state), ("2026H1", RegistrationState::Pending));
        assert_eq!(u.phone.as_deref(), Some("138****0001"));
        // The same unit again: found by name, and its second registration refused.
        let again = register_unit(db, unit_new, march_31, "form", "公开表单").await;
        assert_eq!(conflict_key(&again), "party.error.registered_twice");
        step(db, &unit_reg.id, RegistrationStep::Confirm, None, "社工").await.unwrap();

        let form = |name: &str, seq: u16, area: &str| MemberForm {
            area_id: area.to_owned(),
            name: name.into(),
            id_card: id_card(seq),
            phone: Some(Phone::parse(&format!("1390535{seq:04}")).unwrap()),
            unit_id: Some(u.id.clone()),
            skills: "政策宣传".into(),
        };
        let (zhang, r1) =
            register_member(db, form("张三", 11, &h.grid.id), march_31, "form", "公开表单").await.unwrap();
        let (li, r2) =
            register_member(db, form("李四", 12, &h.other_grid.id), march_31, "staff", "社工").await.unwrap();
        assert_eq!(zhang.kind, MemberKind::InService);
        assert_eq!(zhang.path, h.grid.path);
        assert!(zhang.id_card.starts_with("370602") && zhang.id_card.contains('*'), "{}", zhang.id_card);
        assert_eq!(reveal(db, &zhang.id, false).await.unwrap().as_deref(), Some(id_card(11).as_str()));
        // Deduplicated by ID number: the same person through the form is the same member,
        // and their second registration in the period is refused.
        let twice = register_member(db, form("张三", 11, &h.grid.id), march_31, "form", "公开表单").await;
        assert_eq!(conflict_key(&twice), "party.error.registered_twice");
        let by_hand = NewMember {
            area_id: h.grid.id.clone(),
            org_id: None,
            unit_id: None,
            kind: MemberKind::Resident,
            name: "张叁".into(),
            post: String::new(),
            skills: String::new(),
            joined_on: None,
            id_card: id_card(11),
            phone: None,
            account_id: None,
        };
        assert_eq!(conflict_key(&add_member(db, by_hand, "社工").await), "party.error.member_twice");
        assert_eq!(members_under(db, &h.community.path, &MemberFilter::default()).await.unwrap().len(), 2);
        // A refusal needs a reason; a refused registration may be sent again.
        assert_eq!(conflict_key(&step(db, &r2.id, RegistrationStep::Refuse, None, "社工").await), "party.error.reason");
        step(db, &r2.id, RegistrationStep::Refuse, Some("单位名称有误"), "社工").await.unwrap();
        let (_, r2) =
            register_member(db, form("李四", 12, &h.other_grid.id), march_31, "form", "公开表单").await.unwrap();
        assert_eq!(r2.state, RegistrationState::Pending);
        for r in [&r1, &r2] {
            step(db, &r.id, RegistrationStep::Confirm, None, "社工").await.unwrap();
        }
        assert_eq!(conflict_key(&step(db, &r1.id, RegistrationStep::Confirm, None, "社工").await), "party.error.step");
        // A withdrawn member cannot register.
        let (wang, r3) = register_member(db, form("王五", 13, &h.grid.id), march_31, "form", "公开表单").await.unwrap();
        step(db, &r3.id, RegistrationStep::Withdraw, None, "社工").await.unwrap();
        let change = MemberChange { status: Some(MemberStatus::Withdrawn), ..Default::default() };
        change_member(db, &wang.id, change, "社工").await.unwrap();
        let h2 = Period::parse("2026H2").unwrap();
        let refused = register(db, &Registrant::Member(wang.id.clone()), h2, "form", "公开表单").await;
        assert_eq!(conflict_key(&refused), "party.error.not_active");
        let events: Vec<_> = history(db, &wang.id).await.unwrap().into_iter().map(|e| e.kind).collect();
        assert_eq!(events, [MemberEventKind::Added, MemberEventKind::Registered, MemberEventKind::Status]);

        // Service, China time.
        let now = ms(datetime!(2026-06-01 12:00 +8));
        let served = |member: &Member, at: time::OffsetDateTime, minutes: i64| NewService {
            member_id: member.id.clone(),
            need_id: None,
            activity: "政策宣传".into(),
            served_at: ms(at),
            minutes,
        };
        let mut ids = Vec::new();
        for (m, at, minutes, rating) in [
            (&zhang, datetime!(2026-03-31 23:30 +8), 120, Some(5)),
            (&zhang, datetime!(2026-04-01 00:10 +8), 90, None),
            (&li, datetime!(2026-02-10 10:00 +8), 600, Some(4)),
            (&li, datetime!(2026-03-15 09:00 +8), 180, Some(5)),
        ] {
            let s = service::record(db, served(m, at, minutes), &[], &m.name, now).await.unwrap();
            let s = service::decide(db, &s.id, true, rating, None, "网格员").await.unwrap();
            ids.push(s);
        }
        let rejected =
            service::record(db, served(&li, datetime!(2026-03-20 09:00 +8), 300), &[], "李四", now).await.unwrap();
        assert_eq!(
            conflict_key(&service::decide(db, &rejected.id, false, None, None, "网格员").await),
            "party.error.reason"
        );
        service::decide(db, &rejected.id, false, None, Some("未参加"), "网格员").await.unwrap();
        assert_eq!(
            conflict_key(&service::decide(db, &rejected.id, true, None, None, "网格员").await),
            "party.error.decided"
        );
        // Points by the default rules: 10 a full hour, 2 a record.
        assert_eq!(ids.iter().map(|s| s.points).collect::<Vec<_>>(), [22, 12, 102, 32]);
        let future = service::record(db, served(&li, datetime!(2026-06-02 09:00 +8), 60), &[], "李四", now).await;
        assert_eq!(conflict_key(&future), "party.error.future");

        let q1 = feedback(db, &u.id, Period::parse("2026Q1").unwrap()).await.unwrap();
        assert_eq!(
            (q1.from.as_str(), q1.to.as_str(), q1.registration_period.as_str()),
            ("2026-01-01", "2026-03-31", "2026H1")
        );
        assert_eq!((q1.minutes, q1.activity_count), (900, 3));
        assert_eq!((q1.declared, q1.registered, q1.reached, q1.idle, q1.share_minutes), (3, 2, 1, 0, 750));
        assert_eq!(q1.registration_rate, Some((2, 3)));
        assert_eq!(q1.completion_rate, Some((1, 2)));
        assert_eq!((q1.registration_percent, q1.completion_percent, q1.flagged), (Some(66), Some(50), true));
        let line = |f: &Feedback, name: &str| f.members.iter().find(|l| l.name == name).cloned().unwrap();
        let (z, l) = (line(&q1, "张三"), line(&q1, "李四"));
        assert_eq!((z.activities, z.minutes, z.year_minutes, z.below, z.nothing), (1, 120, 120, true, false));
        assert_eq!((l.activities, l.minutes, l.year_minutes, l.below), (2, 780, 780, false));
        assert_eq!((l.rating.as_deref(), l.points), (Some("4.5"), 134));
        assert!(q1.members.iter().all(|l| l.name != "王五"), "a withdrawn member who is not registered is not listed");
        assert_eq!(q1.activities.last().map(|a| a.served_on.as_str()), Some("2026-03-31"));

        let q2 = feedback(db, &u.id, Period::parse("2026Q2").unwrap()).await.unwrap();
        assert_eq!((q2.minutes, q2.activity_count, q2.share_minutes), (90, 1, 1500));
        assert_eq!(q2.activities[0].served_on, "2026-04-01");
        assert_eq!((q2.reached, q2.idle, q2.completion_rate), (0, 1, Some((0, 2))));
        assert_eq!(line(&q2, "张三").year_minutes, 210);
        assert!(line(&q2, "李四").nothing);

        // The cockpit's figures of the community for Q1, read at its last minute:
        // 2 members on the roll (王五 withdrew), 1 unit, 2 of 3 registered, 1 of 2
        // on track, 15 hours.
        let (from, to) = Period::parse("2026Q1").unwrap().millis();
        let q = crate::cockpit::FigureQuery { path: h.community.path.clone(), from, to, now: to - 60_000, past: false };
        let figures = crate::cockpit::figures(db, &q).await.unwrap();
        let value = |key: &str| crate::cockpit::find(&figures, key).unwrap().value;
        use crate::cockpit::Value;
        assert_eq!(value("party.members"), Value::count(2));
        assert_eq!(value("party.units"), Value::count(1));
        assert_eq!(value("party.registration"), Value::Rate { part: 2, whole: 3 });
        assert_eq!(value("party.completion"), Value::Rate { part: 1, whole: 2 });
        assert_eq!(value("party.hours"), Value::count(15));
        // A unit's report of a period is sent once, whoever sweeps.
        let q1p = Period::parse("2026Q1").unwrap();
        assert!(feedback::claim_run(db, &u.id, &q1p).await.unwrap());
        assert!(!feedback::claim_run(db, &u.id, &q1p).await.unwrap());
        assert_eq!(feedback::runs(db, &u.id).await.unwrap().len(), 1);
    })
    .await;
}

/// The needs list: a need for 2 members; a member claims once; the third claim
/// finds it full; service on a need not claimed is refused; on a claimed one it
/// takes the need's title and earns the need's points.
#[tokio::test]
async fn needs_are_claimed_and_served() {
    testing::all_at(async |t: &TestDb| {
        let db = &t.db;
        let h = testing::hierarchy(db).await;
        let today = date!(2026 - 05 - 04);
        let general = add_org(
            db,
            NewOrg {
                parent_id: None,
                area_id: h.community.id.clone(),
                kind: OrgKind::GeneralBranch,
                name: "塔山社区党总支".into(),
                secretary_name: Some("刘书记".into()),
                committee: "王委员、陈委员".into(),
            },
        )
        .await
        .unwrap();
        let branch = NewOrg {
            parent_id: Some(general.id.clone()),
            area_id: h.grid.id.clone(),
            kind: OrgKind::Branch,
            name: "第一网格党支部".into(),
            secretary_name: None,
            committee: String::new(),
        };
        let branch = add_org(db, branch).await.unwrap();
        let upside_down = NewOrg {
            parent_id: Some(branch.id.clone()),
            area_id: h.grid.id.clone(),
            kind: OrgKind::GeneralBranch,
            name: "倒置".into(),
            secretary_name: None,
            committee: String::new(),
        };
        assert_eq!(conflict_key(&add_org(db, upside_down).await), "party.error.parent_kind");
        let tree: Vec<(usize, String)> =
            orgs_under(db, &h.community.path).await.unwrap().into_iter().map(|(d, o)| (d, o.name)).collect();
        assert_eq!(tree, [(0, "塔山社区党总支".to_owned()), (1, "第一网格党支部".to_owned())]);

        let mut members = Vec::new();
        for (i, name) in ["甲", "乙", "丙"].iter().enumerate() {
            let new = NewMember {
                area_id: h.grid.id.clone(),
                org_id: Some(branch.id.clone()),
                unit_id: None,
                kind: MemberKind::Resident,
                name: (*name).into(),
                post: "楼道长".into(),
                skills: String::new(),
                joined_on: Some(date!(1999 - 07 - 01)),
                id_card: id_card(20 + i as u16),
                phone: None,
                account_id: None,
            };
            members.push(add_member(db, new, "书记").await.unwrap());
        }
        assert_eq!(org(db, &branch.id).await.unwrap().members, 3);
        let new_need = |day: time::Date| NewNeed {
            area_id: h.grid.id.clone(),
            title: "独居老人助餐".into(),
            detail: String::new(),
            source_kind: NeedSource::Plan,
            source_id: None,
            field: None,
            needed_on: day.to_string(),
            slots: 2,
        };
        let past = service::add_need(db, new_need(date!(2026 - 05 - 03)), "社工", today).await;
        assert_eq!(conflict_key(&past), "party.error.needed_on");
        let need = service::add_need(db, new_need(date!(2026 - 05 - 10)), "社工", today).await.unwrap();
        service::claim(db, &need.id, &members[0].id).await.unwrap();
        assert_eq!(conflict_key(&service::claim(db, &need.id, &members[0].id).await), "party.error.claimed_twice");
        let need_now = service::claim(db, &need.id, &members[1].id).await.unwrap();
        assert_eq!(need_now.claimed, 2);
        assert_eq!(conflict_key(&service::claim(db, &need.id, &members[2].id).await), "party.error.full");
        assert_eq!(service::needs_under(db, &h.other_grid.path, today).await.unwrap().len(), 0);
        assert_eq!(service::needs_under(db, &h.community.path, today).await.unwrap().len(), 1);

        let now = ms(datetime!(2026-05-10 18:00 +8));
        let on_need = |m: &Member| NewService {
            member_id: m.id.clone(),
            need_id: Some(need.id.clone()),
            activity: String::new(),
            served_at: ms(datetime!(2026-05-10 11:00 +8)),
            minutes: 150,
        };
        assert_eq!(
            conflict_key(&service::record(db, on_need(&members[2]), &[], "丙", now).await),
            "party.error.not_claimed"
        );
        let s = service::record(db, on_need(&members[0]), &[], "甲", now).await.unwrap();
        assert_eq!(s.activity, "独居老人助餐");
        let s = service::decide(db, &s.id, true, Some(5), None, "网格员").await.unwrap();
        // 10 × 2 full hours + 2 for the record + 5 for a need.
        assert_eq!(s.points, 27);
        // A photo that is not a picture is refused.
        let pdf = service::record(db, on_need(&members[1]), &[b"%PDF-1.4 x".to_vec()], "乙", now).await;
        assert_eq!(conflict_key(&pdf), "party.error.not_photo");

        // The community's own settings and points.
        let mut s = settings(db, &h.community.id).await.unwrap();
        assert_eq!(s, Settings::default());
        s.points.per_hour = 20;
        s.period_months = 12;
        let saved = save_settings(db, &h.community.id, &s).await.unwrap();
        assert_eq!((saved.points.per_hour, saved.period_months), (20, 12));
        s.feedback_months = 5;
        assert_eq!(conflict_key(&save_settings(db, &h.community.id, &s).await), "party.error.period_months");
    })
    .await;
}

/// 亮身份: no card without consent; a card on the member's grid once they consent
/// (with their commitment, and a photo that only a real image may be); another
/// grid does not show it; revoked, it is gone with its photo; a member who stops
/// being active shows nothing even with consent; the share of grids showing.
#[tokio::test]
async fn cards_show_only_while_consent_stands() {
    use super::cards::{self, ConsentSource};
    testing::all_at(async |t: &TestDb| {
        let db = &t.db;
        let h = testing::hierarchy(db).await;
        let add = |name: &str, seq: u16, area: &str| NewMember {
            area_id: area.to_owned(),
            org_id: None,
            unit_id: None,
            kind: MemberKind::Retired,
            name: name.into(),
            post: if seq == 21 { "党员联系户".into() } else { String::new() },
            skills: String::new(),
            joined_on: None,
            id_card: id_card(seq),
            phone: None,
            account_id: None,
        };
        let a = add_member(db, add("周明", 21, &h.grid.id), "书记").await.unwrap();
        let b = add_member(db, add("吴芳", 22, &h.grid.id), "书记").await.unwrap();
        assert!(cards::shown_under(db, &h.grid.path).await.unwrap().is_empty(), "no card without consent");
        assert_eq!(cards::grids_showing(db, &h.community.path).await.unwrap().0, 0);

        let refused = cards::consent(db, &a.id, "  ", None, ConsentSource::Member, "周明").await;
        assert_eq!(conflict_key(&refused), "party.error.required");
        let not_image = cards::consent(db, &a.id, "有事找我", Some(b"%PDF-1.4 x"), ConsentSource::Member, "周明").await;
        assert_eq!(conflict_key(&not_image), "party.error.photo_type");
        const PNG: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0];
        cards::consent(db, &a.id, "楼里有事，随时找我", Some(PNG), ConsentSource::Member, "周明").await.unwrap();
        cards::consent(db, &b.id, "义务理发，每月一次", None, ConsentSource::Paper, "社工小李").await.unwrap();
        let shown = cards::shown_under(db, &h.grid.path).await.unwrap();
        let names: Vec<&str> = shown.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["周明", "吴芳"], "posts first, then by name");
        assert_eq!(shown[0].commitment, "楼里有事，随时找我");
        assert!(shown[0].has_photo && !shown[1].has_photo);
        assert!(cards::shown_under(db, &h.other_grid.path).await.unwrap().is_empty(), "only on their own grid");
        assert!(cards::shown_photo(db, &a.id).await.unwrap().is_some());
        // Two grids in the community, one showing.
        let (showing, grids) = cards::grids_showing(db, &h.community.path).await.unwrap();
        assert_eq!((showing, grids), (1, 2));

        let revoked = cards::revoke(db, &a.id, "周明").await.unwrap();
        assert!(revoked.revoked_at.is_some());
        assert_eq!(conflict_key(&cards::revoke(db, &a.id, "周明").await), "party.error.no_consent");
        assert!(cards::shown_photo(db, &a.id).await.unwrap().is_none(), "the photo goes with the card");
        let names: Vec<String> =
            cards::shown_under(db, &h.grid.path).await.unwrap().into_iter().map(|c| c.name).collect();
        assert_eq!(names, ["吴芳"]);
        // Consenting again brings it back, keeping the photo given before.
        cards::consent(db, &a.id, "楼里有事，随时找我", None, ConsentSource::Member, "周明").await.unwrap();
        assert!(cards::shown_photo(db, &a.id).await.unwrap().is_some());
        // A member who is no longer active shows nothing, consent or not.
        let change = MemberChange { status: Some(MemberStatus::Transferred), ..Default::default() };
        change_member(db, &b.id, change, "书记").await.unwrap();
        let names: Vec<String> =
            cards::shown_under(db, &h.grid.path).await.unwrap().into_iter().map(|c| c.name).collect();
        assert_eq!(names, ["周明"]);
        let history = history(db, &a.id).await.unwrap();
        assert_eq!(history.iter().filter(|e| e.kind == MemberEventKind::Card).count(), 3, "given, revoked, given");
    })
    .await;
}
