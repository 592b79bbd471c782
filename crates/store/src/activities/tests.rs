//! Activities against hand-computed places, waiting lists and satisfaction, on
//! both engines.

use wangge_domain::activities::{ActivityKind, SignupChannel, SignupState};

use super::*;
use crate::testing::{self, TestDb};

fn key(r: &StoreResult<impl std::fmt::Debug>) -> String {
    match r {
        Err(StoreError::Conflict(m)) | Err(StoreError::Invalid(m)) => m.key.to_string(),
        Err(StoreError::NotFound { .. }) => "not found".into(),
        other => format!("not refused: {other:?}"),
    }
}

const HOUR: i64 = 3_600_000;

/// A talk for 2 on the grid starting in a day: 张三 and 李四 take the places,
/// 王五 and 赵六 wait in that order; 李四 cancels and 王五 moves up; 张三 signing
/// up again is refused. At the door 张三 and 王五 are checked in, 钱七 comes
/// without signing up (a place at the door, beyond the capacity). Afterwards 张三
/// answers 5, 王五 2, 钱七 1; 赵六, never checked in, cannot answer. Unsatisfied
/// for lectures: 2 of 3. A festival on the other grid: 1 answer of 4 — other
/// grid's, so the first grid counts lectures only.
#[tokio::test]
async fn places_waiting_list_door_and_satisfaction() {
    testing::all_at(async |t: &TestDb| {
        let db = &t.db;
        let h = testing::hierarchy(db).await;
        let now = now_millis();
        let new = |area: &str, kind: ActivityKind, capacity: Option<i64>| NewActivity {
            area_id: area.to_owned(),
            kind,
            title: "防诈骗讲座".into(),
            detail: String::new(),
            place: "社区活动室".into(),
            starts_at: now + 24 * HOUR,
            ends_at: now + 26 * HOUR,
            capacity,
        };
        assert_eq!(
            key(&create(db, new(&h.grid.id, ActivityKind::Lecture, Some(0)), "社工").await),
            "activities.error.capacity"
        );
        let ends_first = NewActivity { ends_at: now + 23 * HOUR, ..new(&h.grid.id, ActivityKind::Lecture, None) };
        assert_eq!(key(&create(db, ends_first, "社工").await), "activities.error.ends");
        assert_eq!(
            key(&create(db, new(&h.street.id, ActivityKind::Lecture, None), "社工").await),
            "activities.error.place"
        );
        let a = create(db, new(&h.grid.id, ActivityKind::Lecture, Some(2)), "社工").await.unwrap();
        assert_eq!(a.community_id, h.community.id);

        // The four have accounts on the portal.
        let mut ids = std::collections::HashMap::new();
        for name in ["张三", "李四", "王五", "赵六"] {
            let id = crate::security::accounts::create(
                db,
                crate::security::accounts::NewAccount {
                    username: format!("u{}", name.chars().next().map_or(0, |c| c as u32)),
                    display_name: name.into(),
                    role: wangge_domain::Role::Resident,
                    scopes: vec![h.grid.id.clone()],
                    password: "long-enough-pw".into(),
                },
            )
            .await
            .unwrap()
            .id;
            ids.insert(name, id);
        }
        let who = |name: &str| Who { resident_id: None, account_id: ids.get(name).cloned(), name: name.into() };
        let mut s = Vec::new();
        for name in ["张三", "李四", "王五", "赵六"] {
            s.push(sign_up(db, &a.id, &who(name), SignupChannel::Portal, name, now).await.unwrap());
        }
        let states: Vec<SignupState> = s.iter().map(|x| x.state).collect();
        use SignupState::*;
        assert_eq!(states, [Confirmed, Confirmed, Waiting, Waiting]);
        assert_eq!(
            key(&sign_up(db, &a.id, &who("张三"), SignupChannel::Portal, "张三", now).await),
            "activities.error.twice"
        );
        let moved = cancel(db, &s[1].id, now).await.unwrap().unwrap();
        assert_eq!(moved.name, "王五");
        let a = get(db, &a.id).await.unwrap();
        assert_eq!((a.confirmed, a.waiting), (2, 1));
        // Cancelling a place on the waiting list moves nobody.
        assert!(cancel(db, &s[3].id, now).await.unwrap().is_none());
        let s3 = sign_up(db, &a.id, &who("赵六"), SignupChannel::Staff, "网格员", now).await.unwrap();
        assert_eq!(s3.state, Waiting, "back at the end of the list");

        // The door.
        let start = a.starts_at;
        assert_eq!(key(&check(db, &s[0].id, false, start - 3 * HOUR).await), "activities.error.not_now");
        assert_eq!(key(&check(db, &s3.id, false, start).await), "activities.error.no_place");
        assert_eq!(key(&check(db, &s[0].id, true, start).await), "activities.error.not_there");
        check(db, &s[0].id, false, start).await.unwrap();
        check(db, &s[0].id, false, start + HOUR).await.unwrap();
        let out = check(db, &s[0].id, true, start + 90 * 60_000).await.unwrap();
        assert_eq!((out.checked_in_at, out.minutes()), (Some(start), Some(90)), "the first check-in is kept");
        check(db, &s[2].id, false, start + 60_000).await.unwrap();
        let walk_in = Who { resident_id: None, account_id: None, name: "钱七".into() };
        assert_eq!(
            key(&sign_up(db, &a.id, &walk_in, SignupChannel::Door, "社工", start).await),
            "activities.error.who"
        );
        let walk_in = Who { resident_id: Some(h_resident(db, &h).await), ..walk_in };
        assert_eq!(
            key(&sign_up(db, &a.id, &walk_in, SignupChannel::Portal, "钱七", start).await),
            "activities.error.started"
        );
        let door = sign_up(db, &a.id, &walk_in, SignupChannel::Door, "社工", start).await.unwrap();
        assert_eq!((door.state, door.checked_in_at), (Confirmed, Some(start)));
        assert_eq!(get(db, &a.id).await.unwrap().confirmed, 3, "the door goes beyond the capacity");

        // Afterwards.
        let after = a.ends_at + 1;
        assert_eq!(key(&rate(db, &s[0].id, Some(5), "", a.ends_at - 1).await), "activities.error.not_over");
        assert_eq!(key(&rate(db, &s3.id, Some(5), "", after).await), "activities.error.not_there");
        assert_eq!(key(&rate(db, &s[0].id, None, "", after).await), "activities.error.score");
        rate(db, &s[0].id, Some(5), "讲得清楚", after).await.unwrap();
        assert_eq!(key(&rate(db, &s[0].id, Some(4), "", after).await), "activities.error.rated");
        rate(db, &s[2].id, Some(2), "时间太短", after).await.unwrap();
        rate(db, &door.id, Some(1), "", after).await.unwrap();
        let festival = create(db, new(&h.other_grid.id, ActivityKind::Festival, None), "社工").await.unwrap();
        let f = sign_up(db, &festival.id, &who("赵六"), SignupChannel::Portal, "赵六", now).await.unwrap();
        check(db, &f.id, false, festival.starts_at).await.unwrap();
        rate(db, &f.id, Some(4), "", festival.ends_at).await.unwrap();

        let (from, to) = (now, now + 48 * HOUR);
        assert_eq!(
            satisfaction(db, &h.community.path, from, to).await.unwrap(),
            [(ActivityKind::Festival, 0, 1), (ActivityKind::Lecture, 2, 3)]
        );
        assert_eq!(satisfaction(db, &h.grid.path, from, to).await.unwrap(), [(ActivityKind::Lecture, 2, 3)]);
        assert_eq!(under(db, &h.grid.path, from, to).await.unwrap().len(), 1);
        assert_eq!(
            signups(db, &a.id).await.unwrap().iter().map(|x| x.state).collect::<Vec<_>>(),
            [Confirmed, Confirmed, Confirmed, Waiting, Cancelled, Cancelled]
        );
    })
    .await;
}

/// The resident of the hierarchy's household (a person of the registry).
async fn h_resident(db: &Db, h: &testing::Hierarchy) -> String {
    let id: Option<String> = sqlx::query_scalar("SELECT id FROM residents WHERE household_id = $1 LIMIT 1")
        .bind(&h.household.id)
        .fetch_optional(&db.pool)
        .await
        .unwrap();
    match id {
        Some(id) => id,
        None => {
            let new = crate::registry::residents::NewResident {
                household_id: h.household.id.clone(),
                name: "钱七".into(),
                id_card: Some(
                    wangge_domain::IdCardNumber::compose(
                        370602,
                        time::Date::from_calendar_date(1950, time::Month::March, 3).unwrap(),
                        77,
                    )
                    .as_str()
                    .to_owned(),
                ),
                ..Default::default()
            };
            crate::registry::residents::create(db, new).await.unwrap().id
        }
    }
}

/// The door's self check-in: 孙八 (phone ending 5678) signed up and holding a place
/// is checked in by his name and those four digits, and a second time changes
/// nothing; the wrong digits, another name, or 周九 on the waiting list (same
/// digits) find nothing. The phone is compared by its blind index only.
#[tokio::test]
async fn the_door_checks_in_by_name_and_phone_suffix() {
    testing::all_at(async |t: &TestDb| {
        let db = &t.db;
        let h = testing::hierarchy(db).await;
        let now = now_millis();
        let talk = NewActivity {
            area_id: h.community.id.clone(),
            kind: ActivityKind::Lecture,
            title: "健康讲座".into(),
            detail: String::new(),
            place: "社区活动室".into(),
            starts_at: now + HOUR / 2,
            ends_at: now + 2 * HOUR,
            capacity: Some(1),
        };
        let a = create(db, talk, "社工").await.unwrap();
        let mut people = Vec::new();
        for (name, phone) in [("孙八", "13912345678"), ("周九", "13812345678")] {
            let new = crate::registry::residents::NewResident {
                household_id: h.household.id.clone(),
                name: name.into(),
                gender: Some(wangge_domain::Gender::Male),
                birth_date: Some("1958-03-01".into()),
                phone: Some(phone.into()),
                ..Default::default()
            };
            let r = crate::registry::residents::create(db, new).await.unwrap();
            let who = Who { resident_id: Some(r.id.clone()), account_id: None, name: name.into() };
            people.push(sign_up(db, &a.id, &who, SignupChannel::Staff, "网格员", now).await.unwrap());
        }
        assert_eq!(people[0].state, SignupState::Confirmed);
        assert_eq!(people[1].state, SignupState::Waiting);
        for (name, last4) in [("孙八", "0000"), ("孙七", "5678"), ("周九", "5678"), ("孙八", "567")] {
            let found = door_check_in(db, &a.id, name, last4, now).await.unwrap();
            assert!(found.is_none(), "{name} {last4}: {found:?}");
        }
        let Some(x) = door_check_in(db, &a.id, " 孙八 ", "5678", now).await.unwrap() else {
            panic!("孙八 is checked in");
        };
        assert_eq!((x.id.as_str(), x.checked_in_at), (people[0].id.as_str(), Some(now)));
        let Some(again) = door_check_in(db, &a.id, "孙八", "5678", now + 60_000).await.unwrap() else {
            panic!("again");
        };
        assert_eq!(again.checked_in_at, Some(now), "the first check-in is kept");
    })
    .await;
}

/// The day-before reminder: of a talk in five hours with one place, 吴 (a place,
/// an account) is reminded once — a second sweep sends nothing —, 郑 on the
/// waiting list is not, nor 冯 who has no account; a talk in thirty hours is not
/// yet due.
#[tokio::test]
async fn the_reminder_goes_out_once_the_day_before() {
    testing::all_at(async |t: &TestDb| {
        let db = &t.db;
        let h = testing::hierarchy(db).await;
        let now = now_millis();
        let talk = |starts: i64| NewActivity {
            area_id: h.community.id.clone(),
            kind: ActivityKind::Lecture,
            title: "防诈骗讲座".into(),
            detail: String::new(),
            place: "社区活动室".into(),
            starts_at: now + starts,
            ends_at: now + starts + HOUR,
            capacity: Some(1),
        };
        let soon = create(db, talk(5 * HOUR), "社工").await.unwrap();
        let later = create(db, NewActivity { capacity: None, ..talk(30 * HOUR) }, "社工").await.unwrap();
        let mut accounts = Vec::new();
        for name in ["wu-reminded", "zheng-waiting"] {
            let a = crate::security::accounts::create(
                db,
                crate::security::accounts::NewAccount {
                    username: name.into(),
                    display_name: name.into(),
                    role: wangge_domain::Role::Resident,
                    scopes: vec![testing::COMMUNITY.into()],
                    password: "a-long-password-1".into(),
                },
            )
            .await
            .unwrap();
            accounts.push(a.id);
        }
        for (account, name) in accounts.iter().zip(["吴", "郑"]) {
            let who = Who { resident_id: None, account_id: Some(account.clone()), name: name.into() };
            sign_up(db, &soon.id, &who, SignupChannel::Portal, name, now).await.unwrap();
        }
        let resident = crate::registry::residents::create(
            db,
            crate::registry::residents::NewResident {
                household_id: h.household.id.clone(),
                name: "冯".into(),
                gender: Some(wangge_domain::Gender::Male),
                birth_date: Some("1950-01-01".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let who = Who { resident_id: Some(resident.id), account_id: None, name: "冯".into() };
        sign_up(db, &later.id, &who, SignupChannel::Staff, "网格员", now).await.unwrap();
        let who = Who { resident_id: None, account_id: Some(accounts[0].clone()), name: "吴".into() };
        sign_up(db, &later.id, &who, SignupChannel::Portal, "吴", now).await.unwrap();

        assert_eq!(remind(db, now).await.unwrap(), 1);
        assert_eq!(remind(db, now + 60_000).await.unwrap(), 0, "once");
        let told = crate::notifications::mine(db, &accounts[0], 10).await.unwrap();
        assert_eq!(told.len(), 1);
        assert_eq!(told[0].link.as_deref(), Some(format!("/portal/activities/{}", soon.id).as_str()));
        assert!(crate::notifications::mine(db, &accounts[1], 10).await.unwrap().is_empty(), "waiting: no reminder");
        // A day later the second talk is due, for 吴 (冯 has no account to tell).
        assert_eq!(remind(db, now + 7 * HOUR).await.unwrap(), 1);
    })
    .await;
}
