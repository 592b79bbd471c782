//! Organisational life against hand-computed figures, on both engines.

use time::macros::{date, datetime};
use wangge_domain::party::{MemberKind, OrgKind};
use wangge_domain::party_life::{Attendance, MeetingKind};

use super::life::{self, NewMeeting};
use super::*;
use crate::testing::{self, TestDb};

fn ms(t: time::OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

fn key(r: &StoreResult<impl std::fmt::Debug>) -> String {
    match r {
        Err(StoreError::Conflict(m)) | Err(StoreError::Invalid(m)) => m.key.to_string(),
        Err(StoreError::NotFound { .. }) => "not found".into(),
        other => format!("not refused: {other:?}"),
    }
}

/// A branch on grid 1 (created 1 January 2026) with 张三, 李四 and 王五, and its
/// meetings of 2026 (China time): committee 15 January (李四 excused, 王五 not
/// named: absent) and 31 March 23:30 (March); theme Party day 20 January and 20
/// February, none in March; members' meeting 10 February (王五 absent); no
/// lecture. Hand-computed, read on 1 April: committee 2 of 3 months (February
/// missed), theme day 2 of 3 (March missed), members' meeting 1 of 1 quarter,
/// lecture 0 of 1: 5 of 8. Read on 31 March: 1 of 2 and 2 of 2, no quarter over:
/// 3 of 4. Attendance: 张三 5 of 5, 李四 4 of 5 (1 excused), 王五 3 of 5.
/// What is behind on `day` for the organisation `org_id`: (name, kind, period).
async fn behind(db: &Db, org_id: &str, day: time::Date) -> Vec<(String, MeetingKind, String)> {
    let mut v: Vec<(String, MeetingKind, String)> = life::behind(db, day)
        .await
        .unwrap()
        .into_iter()
        .filter(|b| b.org.id == org_id)
        .map(|b| (b.org.name, b.kind, b.period.label()))
        .collect();
    v.sort_by_key(|b| b.2.clone());
    v
}

#[tokio::test]
async fn meetings_compliance_and_month_end_alerts_in_china_time() {
    testing::all_at(async |t: &TestDb| {
        let db = &t.db;
        let h = testing::hierarchy(db).await;
        let branch = add_org(
            db,
            NewOrg {
                parent_id: None,
                area_id: h.grid.id.clone(),
                kind: OrgKind::Branch,
                name: "第一网格党支部".into(),
                secretary_name: Some("张三".into()),
                committee: String::new(),
            },
        )
        .await
        .unwrap();
        let other = add_org(
            db,
            NewOrg {
                parent_id: None,
                area_id: h.other_grid.id.clone(),
                kind: OrgKind::Branch,
                name: "第二网格党支部".into(),
                secretary_name: None,
                committee: String::new(),
            },
        )
        .await
        .unwrap();
        let jan_1 = ms(datetime!(2026-01-01 00:00 +8));
        sqlx::query("UPDATE party_orgs SET created_at = $1").bind(jan_1).execute(&db.pool).await.unwrap();
        let member = |name: &str, seq: u16, org: &str| NewMember {
            area_id: h.grid.id.clone(),
            org_id: Some(org.to_owned()),
            unit_id: None,
            kind: MemberKind::Resident,
            name: name.into(),
            post: String::new(),
            skills: String::new(),
            joined_on: None,
            id_card: wangge_domain::IdCardNumber::compose(370602, date!(1970 - 03 - 01), seq),
            phone: None,
            account_id: None,
        };
        let zhang = add_member(db, member("张三", 21, &branch.id), "社工").await.unwrap();
        let li = add_member(db, member("李四", 22, &branch.id), "社工").await.unwrap();
        let wang = add_member(db, member("王五", 23, &branch.id), "社工").await.unwrap();
        let stranger = add_member(db, member("赵六", 24, &other.id), "社工").await.unwrap();
        let now = ms(datetime!(2026-04-01 09:00 +8));
        let all_present =
            |ids: &[&str]| ids.iter().map(|m| (m.to_string(), Attendance::Present, None)).collect::<Vec<_>>();
        let meeting = |kind, at, attendance| NewMeeting {
            org_id: branch.id.clone(),
            kind,
            held_at: at,
            place: "党群服务站".into(),
            topic: "学习".into(),
            minutes: "会议记录".into(),
            attendance,
        };
        let three = [zhang.id.as_str(), li.id.as_str(), wang.id.as_str()];
        let jan_15 = vec![
            (zhang.id.clone(), Attendance::Present, None),
            (li.id.clone(), Attendance::Excused, Some("出差".to_owned())),
        ];
        // Refused: excused without a reason, a meeting to come, a member of another branch.
        let no_reason = vec![(li.id.clone(), Attendance::Excused, Some("  ".to_owned()))];
        let at = ms(datetime!(2026-01-15 10:00 +8));
        assert_eq!(
            key(&life::record(db, meeting(MeetingKind::Committee, at, no_reason), &[], "张三", now).await),
            "party.life.error.reason"
        );
        let later = ms(datetime!(2026-04-02 10:00 +8));
        assert_eq!(
            key(&life::record(db, meeting(MeetingKind::Committee, later, vec![]), &[], "张三", now).await),
            "party.life.error.future"
        );
        let outsider = all_present(&[stranger.id.as_str()]);
        assert_eq!(
            key(&life::record(db, meeting(MeetingKind::Committee, at, outsider), &[], "张三", now).await),
            "not found"
        );

        let first = life::record(db, meeting(MeetingKind::Committee, at, jan_15), &[], "张三", now).await.unwrap();
        assert_eq!(first.counts(), (1, 1, 1));
        assert_eq!(first.attendance.len(), 3);
        for (kind, at, who) in [
            (MeetingKind::ThemeDay, datetime!(2026-01-20 09:00 +8), &three[..]),
            (MeetingKind::MembersMeeting, datetime!(2026-02-10 15:00 +8), &three[..2]),
            (MeetingKind::ThemeDay, datetime!(2026-02-20 09:00 +8), &three[..]),
            (MeetingKind::Committee, datetime!(2026-03-31 23:30 +8), &three[..]),
        ] {
            life::record(db, meeting(kind, ms(at), all_present(who)), &[], "张三", now).await.unwrap();
        }

        let c = life::compliance(db, &branch, 2026, date!(2026 - 04 - 01)).await.unwrap();
        let by = |k: MeetingKind| c.kinds.iter().find(|x| x.kind == k).unwrap().clone();
        assert_eq!((by(MeetingKind::Committee).held, by(MeetingKind::Committee).required), (2, 3));
        assert_eq!(by(MeetingKind::Committee).missed, vec!["2026-02".to_owned()]);
        assert_eq!(by(MeetingKind::ThemeDay).missed, vec!["2026-03".to_owned()]);
        assert_eq!((by(MeetingKind::MembersMeeting).held, by(MeetingKind::MembersMeeting).required), (1, 1));
        assert_eq!(by(MeetingKind::Lecture).missed, vec!["2026Q1".to_owned()]);
        assert!(c.kinds.iter().all(|k| k.kind != MeetingKind::Group), "no groups: no group meetings required");
        assert_eq!(c.rate, Some((5, 8)));
        let before = life::compliance(db, &branch, 2026, date!(2026 - 03 - 31)).await.unwrap();
        assert_eq!(before.rate, Some((3, 4)));
        assert_eq!(
            life::compliance_under(db, &h.community.path, 2026, date!(2026 - 04 - 01)).await.unwrap(),
            (5, 8 + 8)
        );

        let q = crate::cockpit::FigureQuery {
            path: h.community.path.clone(),
            from: ms(datetime!(2026-03-01 00:00 +8)),
            to: now,
            now,
            past: false,
        };
        let figures = crate::cockpit::figures(db, &q).await.unwrap();
        let figure = crate::cockpit::find(&figures, "party.life").unwrap();
        assert_eq!(figure.value, crate::cockpit::Value::Rate { part: 5, whole: 16 }, "the other branch held none");
        assert_eq!(figure.rows, Some(crate::cockpit::Rows::PartyLife));
        // Entered on 1 March, the other branch is asked about March and the quarter only.
        sqlx::query("UPDATE party_orgs SET created_at = $1 WHERE id = $2")
            .bind(ms(datetime!(2026-03-01 00:00 +8)))
            .bind(&other.id)
            .execute(&db.pool)
            .await
            .unwrap();
        assert_eq!(life::compliance(db, &other, 2026, date!(2026 - 04 - 01)).await.unwrap().rate, Some((0, 4)));

        let record = life::year_record(db, &branch, 2026, date!(2026 - 04 - 01)).await.unwrap();
        assert_eq!(record.meetings.len(), 5);
        let rate = |name: &str| record.members.iter().find(|m| m.name == name).unwrap().rate;
        assert_eq!((rate("张三"), rate("李四"), rate("王五")), (Some((5, 5)), Some((4, 5)), Some((3, 5))));

        // The month-end alerts, in China time: on 31 March nothing of March is
        // over; on 1 April the March theme day and the first quarter's lecture
        // are behind (the committee meeting of 31 March 23:30 counts for March).
        let march_31 = behind(db, &branch.id, date!(2026 - 03 - 31)).await;
        assert_eq!(march_31, vec![("第一网格党支部".to_owned(), MeetingKind::Committee, "2026-02".to_owned())]);
        let april_1 = behind(db, &branch.id, date!(2026 - 04 - 01)).await;
        assert_eq!(
            april_1,
            vec![
                ("第一网格党支部".to_owned(), MeetingKind::ThemeDay, "2026-03".to_owned()),
                ("第一网格党支部".to_owned(), MeetingKind::Lecture, "2026Q1".to_owned()),
            ]
        );
        assert!(life::claim_alert(db, &branch.id, "theme_day", "2026-03", now).await.unwrap());
        assert!(!life::claim_alert(db, &branch.id, "theme_day", "2026-03", now).await.unwrap(), "once");
        assert_eq!(behind(db, &branch.id, date!(2026 - 04 - 01)).await.len(), 1);

        // Frequencies: committee meetings quarterly, no lecture: 1 of 1, 2 of 3, 1 of 1.
        life::save_rules(
            db,
            &branch.id,
            &[(MeetingKind::Committee, Some(3)), (MeetingKind::Lecture, Some(0))],
            Some(date!(2021 - 07 - 01)),
            5,
        )
        .await
        .unwrap();
        let c = life::compliance(db, &branch, 2026, date!(2026 - 04 - 01)).await.unwrap();
        assert_eq!(c.rate, Some((4, 5)));
        assert_eq!(
            key(&life::save_rules(db, &branch.id, &[(MeetingKind::Committee, Some(2))], None, 5).await),
            "party.life.error.months"
        );

        // The term (1 July 2021, 5 years) ends on 1 July 2026: reminded from 1 April, once.
        assert!(life::terms_ending(db, date!(2026 - 03 - 31)).await.unwrap().is_empty());
        let ending = life::terms_ending(db, date!(2026 - 04 - 01)).await.unwrap();
        assert_eq!(ending.len(), 1);
        assert_eq!(ending[0].1, date!(2026 - 07 - 01));
        assert!(life::claim_alert(db, &branch.id, "term", "2026-07-01", now).await.unwrap());
        assert!(life::terms_ending(db, date!(2026 - 04 - 02)).await.unwrap().is_empty());
    })
    .await;
}
