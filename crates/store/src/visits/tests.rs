//! Visits against hand-computed due lists and coverage, on both engines.

use time::Duration;
use wangge_domain::{Occupancy, VisitChannel, VisitOutcome};

use super::*;
use crate::registry::{households, residents, tags};
use crate::testing::{self, TestDb};

fn today() -> Date {
    time::OffsetDateTime::now_utc().to_offset(wangge_domain::demands::CHINA).date()
}

fn ago(days: i64) -> String {
    iso(today() - Duration::days(days))
}

async fn person(db: &Db, household: &str, name: &str, tag: &str) -> String {
    let new = residents::NewResident {
        household_id: household.into(),
        name: name.into(),
        gender: Some(wangge_domain::Gender::Female),
        birth_date: Some("1946-05-01".into()),
        tags: vec![tag.into()],
        ..Default::default()
    };
    residents::create(db, new).await.unwrap().id
}

async fn home(db: &Db, building: &str, room: &str, occupancy: Occupancy) -> String {
    let new = households::NewHousehold { building_id: building.into(), unit: "1".into(), room: room.into(), occupancy };
    households::create(db, new).await.unwrap().id
}

fn visit(
    household: &str,
    resident: Option<&str>,
    channel: VisitChannel,
    outcome: VisitOutcome,
    on: String,
) -> NewVisit {
    NewVisit {
        household_id: household.into(),
        resident_id: resident.map(str::to_owned),
        channel,
        outcome,
        visited_on: on,
        purpose: "例行走访".into(),
        findings: String::new(),
        paper: false,
        location: String::new(),
    }
}

/// Today T. Household A (room 301): 王奶奶 living alone (weekly, door only; daily
/// in a spell), 李叔 on 低保 (monthly, a call counts); a door visit on T-3 where
/// someone was met and one on T-1 where nobody was. Household B (401): 赵姨,
/// disabled (monthly), called on T-40; 钱爷爷 living alone, called on T-1 — a call
/// does not count for his door cadence (nor for 赵姨's monthly one: it reached only
/// him). C (501) is vacant. D (601) never visited.
///
/// Due on T: 赵姨 (T-40+30 = T-10: 10 days over), 钱爷爷 (never at the door: due
/// since the household was registered today, 0 over), household D (never visited:
/// 0 over). A door visit to A settled its three cadences (household, 王奶奶, 李叔).
/// A cold spell from T-1 makes 王奶奶 daily: due T-1 (the spell's first day, as
/// T-3+1 is earlier), one day over. Suspending 钱爷爷 takes him off the list.
/// Coverage over 90 days: 3 occupied households, 2 met (A at the door, B by
/// phone), 1 at the door, 1 not visited: 33.3 %.
#[tokio::test]
async fn the_due_list_and_coverage_follow_the_cadences() {
    testing::all_at(async |t: &TestDb| {
        let db = &t.db;
        tags::ensure_standard(db).await.unwrap();
        let h = testing::hierarchy(db).await;
        let a = h.household.id.clone();
        let grandma = person(db, &a, "王奶奶", "elderly_alone").await;
        let _uncle = person(db, &a, "李叔", "low_income").await;
        let b = home(db, &h.building.id, "401", Occupancy::Rented).await;
        let aunt = person(db, &b, "赵姨", "disabled").await;
        let grandpa = person(db, &b, "钱爷爷", "elderly_alone").await;
        let vacant = home(db, &h.building.id, "501", Occupancy::Vacant).await;
        let d = home(db, &h.building.id, "601", Occupancy::OwnerOccupied).await;

        let rules = cadences(db, &h.community.id).await.unwrap();
        assert_eq!(rules.len(), 4, "the defaults: {rules:?}");
        assert_eq!(cadences(db, &h.community.id).await.unwrap().len(), 4, "given once");

        record(db, visit(&a, None, VisitChannel::Door, VisitOutcome::Met, ago(3)), None, "网格员甲").await.unwrap();
        record(db, visit(&a, None, VisitChannel::Door, VisitOutcome::NotHome, ago(1)), None, "网格员甲").await.unwrap();
        record(db, visit(&b, Some(&aunt), VisitChannel::Phone, VisitOutcome::Met, ago(40)), None, "网格员甲")
            .await
            .unwrap();
        record(db, visit(&b, Some(&grandpa), VisitChannel::Phone, VisitOutcome::Met, ago(1)), None, "网格员甲")
            .await
            .unwrap();

        let said = |list: &[DueEntry]| -> Vec<(String, String, i64)> {
            list.iter()
                .map(|e| {
                    let who = match &e.subject {
                        Subject::Household => "户".to_owned(),
                        Subject::Person { name, .. } => name.clone(),
                    };
                    (e.room.clone(), who, e.overdue_days)
                })
                .collect()
        };
        let list = due(db, &h.grid.path, &h.community.id, today()).await.unwrap();
        assert_eq!(
            said(&list),
            vec![("401".into(), "赵姨".into(), 10), ("401".into(), "钱爷爷".into(), 0), ("601".into(), "户".into(), 0),]
        );
        assert_eq!(list[0].due_on, ago(10));
        assert_eq!(list[2].household_id, d);
        assert!(list.iter().all(|e| e.household_id != vacant));
        assert!(due(db, &h.other_grid.path, &h.community.id, today()).await.unwrap().is_empty(), "the grid next door");

        declare_spell(db, &h.community.id, "cold", &ago(1), &ago(-1), None).await.unwrap();
        let list = due(db, &h.grid.path, &h.community.id, today()).await.unwrap();
        assert_eq!(said(&list)[0], ("301".into(), "王奶奶".into(), 1), "{list:?}");
        assert_eq!(list[0].due_on, ago(1));
        assert!(matches!(&list[0].subject, Subject::Person { resident_id, .. } if *resident_id == grandma));

        adjust(db, &b, Some(&grandpa), None, &ago(2), None, "住院", None).await.unwrap();
        let list = due(db, &h.grid.path, &h.community.id, today()).await.unwrap();
        assert!(said(&list).iter().all(|(_, who, _)| who != "钱爷爷"), "suspended: {list:?}");
        assert_eq!(list.len(), 3);

        let c = coverage(db, &h.community.path, today(), 90).await.unwrap();
        assert_eq!(c, Coverage { households: 3, visited: 2, visited_at_door: 1, not_visited: 1, days: 90 }, "{c:?}");
        assert_eq!(c.not_visited_percent(), 33.3);
        let c30 = coverage(db, &h.community.path, today(), 30).await.unwrap();
        assert_eq!((c30.visited, c30.not_visited), (2, 1), "钱爷爷's call on T-1 counts for B within 30 days");
    })
    .await;
}

/// Findings are sealed at rest and come back opened; a visit names only a person
/// of its household; a day ahead or a malformed day is refused with its field.
#[tokio::test]
async fn findings_are_sealed_and_bad_visits_are_refused() {
    testing::all_at(async |t: &TestDb| {
        let db = &t.db;
        tags::ensure_standard(db).await.unwrap();
        let h = testing::hierarchy(db).await;
        let a = h.household.id.clone();
        let other = home(db, &h.building.id, "402", Occupancy::Rented).await;
        let stranger = person(db, &other, "孙某", "disabled").await;

        let mut v = visit(&a, None, VisitChannel::Door, VisitOutcome::Met, ago(0));
        v.findings = "老人血压偏高，子女在外地".into();
        let saved = record(db, v, None, "网格员甲").await.unwrap();
        let stored: Option<String> = sqlx::query_scalar("SELECT findings_enc FROM visits WHERE id = $1")
            .bind(&saved.id)
            .fetch_one(&db.pool)
            .await
            .unwrap();
        let stored = stored.unwrap();
        assert!(stored.starts_with("v1:") && !stored.contains("血压"), "sealed: {stored}");
        let back = of_household(db, &a).await.unwrap();
        assert_eq!((back[0].findings.as_deref(), back[0].findings_recorded), (None, true), "a list keeps them sealed");
        let opened = reveal_findings(db, &saved.id).await.unwrap();
        assert_eq!(opened.as_deref(), Some("老人血压偏高，子女在外地"));

        let err = record(db, visit(&a, Some(&stranger), VisitChannel::Phone, VisitOutcome::Met, ago(0)), None, "x")
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::NotFound { what: Thing::Resident, .. }), "{err}");
        let err =
            record(db, visit(&a, None, VisitChannel::Door, VisitOutcome::Met, ago(-2)), None, "x").await.unwrap_err();
        assert_eq!(err.message().map(|m| (m.key, m.field)), Some(("visits.error.future", Some("visited_on"))));
        let err = record(db, visit(&a, None, VisitChannel::Door, VisitOutcome::Met, "3月12日".into()), None, "x")
            .await
            .unwrap_err();
        assert_eq!(err.message().map(|m| m.key), Some("visits.error.date"));
        let err = adjust(db, &a, None, None, &ago(0), None, "  ", None).await.unwrap_err();
        assert_eq!(err.message().map(|m| m.key), Some("visits.error.reason"));
        assert_eq!(of_household(db, &a).await.unwrap().len(), 1, "nothing half-written");
    })
    .await;
}

/// The edit window: recorded today under a window of 7 days, editable until T+7
/// and refused on T+8 with the day it locked; an edit reseals what was found and
/// may clear it; a community's window is its own (default 7, set to 3, back).
#[tokio::test]
async fn edits_lock_after_the_communitys_window() {
    testing::all_at(async |t: &TestDb| {
        let db = &t.db;
        tags::ensure_standard(db).await.unwrap();
        let h = testing::hierarchy(db).await;
        let a = h.household.id.clone();
        let mut v = visit(&a, None, VisitChannel::Phone, VisitOutcome::Met, ago(2));
        v.findings = "腿脚不便".into();
        let saved = record(db, v, None, "网格员甲").await.unwrap();
        assert_eq!(lock_days(db, &h.community.id).await.unwrap(), 7);
        assert_eq!(editable_until(&saved, 7), today() + Duration::days(7));

        let change = VisitEdit {
            resident_id: None,
            channel: VisitChannel::Door,
            outcome: VisitOutcome::Met,
            visited_on: ago(1),
            purpose: "复访".into(),
            findings: "腿脚不便，需要助餐".into(),
        };
        let edited = edit(db, &saved.id, change.clone(), 7, today() + Duration::days(7)).await.unwrap();
        assert_eq!(
            (edited.channel, edited.visited_on.clone(), edited.purpose.as_str()),
            (VisitChannel::Door, ago(1), "复访")
        );
        assert!(edited.updated_at.is_some());
        assert_eq!(reveal_findings(db, &saved.id).await.unwrap().as_deref(), Some("腿脚不便，需要助餐"));
        let err = edit(db, &saved.id, change.clone(), 7, today() + Duration::days(8)).await.unwrap_err();
        let m = err.message().unwrap();
        assert_eq!(m.key, "visits.error.locked");
        assert!(matches!(err, StoreError::Conflict(_)));
        let cleared = VisitEdit { findings: "  ".into(), ..change };
        let edited = edit(db, &saved.id, cleared, 7, today()).await.unwrap();
        assert!(!edited.findings_recorded);
        assert_eq!(reveal_findings(db, &saved.id).await.unwrap(), None);

        set_lock_days(db, &h.community.id, Some(3)).await.unwrap();
        assert_eq!(lock_days(db, &h.community.id).await.unwrap(), 3);
        assert!(set_lock_days(db, &h.community.id, Some(400)).await.is_err());
        set_lock_days(db, &h.community.id, None).await.unwrap();
        assert_eq!(lock_days(db, &h.community.id).await.unwrap(), 7);
    })
    .await;
}

/// A visit becomes one demand (found back from the demand); a correction proposed
/// at it is sealed, checked, and decided once.
#[tokio::test]
async fn a_visit_links_one_demand_and_proposes_corrections() {
    testing::all_at(async |t: &TestDb| {
        let db = &t.db;
        tags::ensure_standard(db).await.unwrap();
        let h = testing::hierarchy(db).await;
        let a = h.household.id.clone();
        let grandma = person(db, &a, "王奶奶", "elderly_alone").await;
        let other = home(db, &h.building.id, "402", Occupancy::Rented).await;
        let stranger = person(db, &other, "孙某", "disabled").await;
        let saved =
            record(db, visit(&a, None, VisitChannel::Door, VisitOutcome::Met, ago(0)), None, "网格员甲").await.unwrap();

        let new = crate::demands::NewDemand {
            household_id: Some(a.clone()),
            category: "environment".into(),
            channel: Some(wangge_domain::Channel::Visit),
            title: "楼道灯坏了".into(),
            ..Default::default()
        };
        let by = crate::demands::Actor { id: None, name: "网格员甲".into(), role: wangge_domain::Role::GridMember };
        let demand = crate::demands::create(db, new, &by, None).await.unwrap();
        link_demand(db, &saved.id, &demand.id).await.unwrap();
        assert_eq!(of_demand(db, &demand.id).await.unwrap().map(|v| v.id), Some(saved.id.clone()));
        assert_eq!(get(db, &saved.id).await.unwrap().demand_id.as_deref(), Some(demand.id.as_str()));
        let again = link_demand(db, &saved.id, &demand.id).await.unwrap_err();
        assert_eq!(again.message().map(|m| m.key), Some("visits.error.has_demand"));
        assert!(matches!(
            link_demand(db, "nope", &demand.id).await,
            Err(StoreError::NotFound { what: Thing::Visit, .. })
        ));

        use corrections::{Changes, CorrectionStatus, decide, propose, waiting};
        let phone = Changes { phone: Some(" 13912345678 ".into()), ..Default::default() };
        let c = propose(db, &saved.id, &grandma, phone, "老人换了手机号", (None, "网格员甲")).await.unwrap();
        assert_eq!((c.status, c.changes.phone.as_deref()), (CorrectionStatus::Proposed, Some("13912345678")));
        let stored: String = sqlx::query_scalar("SELECT changes_enc FROM registry_corrections WHERE id = $1")
            .bind(&c.id)
            .fetch_one(&db.pool)
            .await
            .unwrap();
        assert!(!stored.contains("1391234"), "sealed: {stored}");
        let err = propose(
            db,
            &saved.id,
            &stranger,
            Changes { name: Some("孙某某".into()), ..Default::default() },
            "",
            (None, "x"),
        )
        .await
        .unwrap_err();
        assert!(matches!(err, StoreError::NotFound { what: Thing::Resident, .. }), "not of this household: {err}");
        let err = propose(
            db,
            &saved.id,
            &grandma,
            Changes { name: Some("  ".into()), ..Default::default() },
            "",
            (None, "x"),
        )
        .await
        .unwrap_err();
        assert_eq!(err.message().map(|m| m.key), Some("visits.error.no_change"));
        let err = propose(
            db,
            &saved.id,
            &grandma,
            Changes { phone: Some("12".into()), ..Default::default() },
            "",
            (None, "x"),
        )
        .await
        .unwrap_err();
        assert!(matches!(err, StoreError::Invalid(_)), "{err}");

        assert_eq!(waiting(db, &h.grid.path).await.unwrap().len(), 1);
        assert!(waiting(db, &h.other_grid.path).await.unwrap().is_empty());
        let decided = decide(db, &c.id, true, "社区工作者").await.unwrap();
        assert_eq!(
            (decided.status, decided.decided_by_name.as_deref()),
            (CorrectionStatus::Confirmed, Some("社区工作者"))
        );
        assert_eq!(
            decide(db, &c.id, false, "x").await.unwrap_err().message().map(|m| m.key),
            Some("visits.error.decided")
        );
        assert!(waiting(db, &h.grid.path).await.unwrap().is_empty());
        let applied = residents::update(db, &grandma, decided.changes.update()).await.unwrap();
        assert_eq!(applied.phone.as_deref(), Some("139****5678"));
    })
    .await;
}

/// Reminders by hand: 王奶奶 (living alone, weekly at the door) was met at the door
/// six days ago: due tomorrow, "soon". Household 1-401, registered today, is due
/// today (neither soon nor missed). 赵姨 (disabled, monthly) called 40 days ago is
/// ten days overdue: "missed". Her household (1-401) was met through her, so it is
/// not due. The grid's member gets one notice of each kind; a second sweep sends
/// nothing; the grid next door's member nothing at all.
#[tokio::test]
async fn reminders_go_once_per_subject_and_due_date() {
    testing::all_at(async |t: &TestDb| {
        let db = &t.db;
        tags::ensure_standard(db).await.unwrap();
        let h = testing::hierarchy(db).await;
        let a = h.household.id.clone();
        let grandma = person(db, &a, "王奶奶", "elderly_alone").await;
        let b = home(db, &h.building.id, "401", Occupancy::Rented).await;
        let aunt = person(db, &b, "赵姨", "disabled").await;
        record(db, visit(&a, Some(&grandma), VisitChannel::Door, VisitOutcome::Met, ago(6)), None, "甲").await.unwrap();
        record(db, visit(&b, Some(&aunt), VisitChannel::Phone, VisitOutcome::Met, ago(40)), None, "甲").await.unwrap();
        let account = |name: &str, scope: &str| crate::security::accounts::NewAccount {
            username: name.into(),
            display_name: name.into(),
            role: wangge_domain::Role::GridMember,
            scopes: vec![scope.into()],
            password: "a-long-enough-password".into(),
        };
        let mine = crate::security::accounts::create(db, account("member", &h.grid.code)).await.unwrap().id;
        let next = crate::security::accounts::create(db, account("next", &h.other_grid.code)).await.unwrap().id;

        let sent = reminders::sweep(db, today()).await.unwrap();
        assert_eq!(sent, reminders::Sent { notices: 2, subjects: 2 }, "one soon (王奶奶), one missed (赵姨)");
        let notes = crate::notifications::mine(db, &mine, 10).await.unwrap();
        let mut keys: Vec<(&str, String)> =
            notes.iter().map(|n| (n.message.key, format!("{:?}", n.message.args))).collect();
        keys.sort();
        assert_eq!(keys.len(), 2, "{keys:?}");
        assert_eq!(keys[0].0, "visits.reminder.missed");
        assert_eq!(keys[1].0, "visits.reminder.soon");
        assert!(notes.iter().all(|n| n.module == wangge_domain::Module::Visits && n.link.as_deref() == Some("/today")));
        assert_eq!(reminders::sweep(db, today()).await.unwrap(), reminders::Sent::default(), "idempotent");
        assert!(crate::notifications::mine(db, &next, 10).await.unwrap().is_empty());
        // The next day 王奶奶 is due (not yet missed): nothing new; the day after, missed.
        let tomorrow = today() + Duration::days(1);
        let later = reminders::sweep(db, tomorrow).await.unwrap();
        assert_eq!(later.subjects, 0, "{later:?}");
        let after = reminders::sweep(db, tomorrow + Duration::days(1)).await.unwrap();
        assert_eq!(after, reminders::Sent { notices: 1, subjects: 1 }, "王奶奶 missed");
    })
    .await;
}

/// The trend, the care tags and the rows behind the figures, hand-computed. With
/// E0, E1 the last days of the two months before this one and T today: household A
/// (301: 王奶奶 living alone, 李叔 on 低保) met at the door on E1; B (401: 赵姨
/// disabled, 钱爷爷 living alone) called on T, reaching 钱爷爷 only; D (601) met at
/// the door on E0-80; C (501) vacant; A's door on T where nobody was home counts
/// for nothing. Three occupied households.
/// - Not met in the 90 days up to E0: A (its visit comes later) and B → 2 of 3;
///   up to E1: B and D (E0-80 lies more than 89 days before E1) → 2; up to T: D → 1.
/// - Tags up to T: living alone 2 of 2 (王奶奶 through A's door, 钱爷爷 by his
///   call), 低保 1 of 1 (A's door), disabled 0 of 1 (the call reached only 钱爷爷).
#[tokio::test]
async fn trend_tags_and_rows_behind_are_hand_computed() {
    use figures::{Which, behind, by_tag, month_ends, trend};
    testing::all_at(async |t: &TestDb| {
        let db = &t.db;
        tags::ensure_standard(db).await.unwrap();
        let h = testing::hierarchy(db).await;
        let a = h.household.id.clone();
        person(db, &a, "王奶奶", "elderly_alone").await;
        person(db, &a, "李叔", "low_income").await;
        let b = home(db, &h.building.id, "401", Occupancy::Rented).await;
        let aunt = person(db, &b, "赵姨", "disabled").await;
        let grandpa = person(db, &b, "钱爷爷", "elderly_alone").await;
        home(db, &h.building.id, "501", Occupancy::Vacant).await;
        let d = home(db, &h.building.id, "601", Occupancy::OwnerOccupied).await;
        let ends = month_ends(today(), 3);
        assert_eq!(ends.len(), 3);
        assert_eq!(ends[2], today());
        assert_eq!(ends[1], today().replace_day(1).unwrap() - Duration::days(1));
        let (e0, e1) = (ends[0], ends[1]);
        let on = |d: Date| iso(d);
        record(db, visit(&a, None, VisitChannel::Door, VisitOutcome::Met, on(e1)), None, "甲").await.unwrap();
        record(db, visit(&a, None, VisitChannel::Door, VisitOutcome::NotHome, iso(today())), None, "甲").await.unwrap();
        record(db, visit(&b, Some(&grandpa), VisitChannel::Phone, VisitOutcome::Met, iso(today())), None, "甲")
            .await
            .unwrap();
        record(db, visit(&d, None, VisitChannel::Door, VisitOutcome::Met, on(e0 - Duration::days(80))), None, "甲")
            .await
            .unwrap();

        let points = trend(db, &h.community.path, today(), 90, 3).await.unwrap();
        let said: Vec<(String, u64, u64)> =
            points.iter().map(|p| (p.on.clone(), p.households, p.not_visited)).collect();
        assert_eq!(said, vec![(iso(e0), 3, 2), (iso(e1), 3, 2), (iso(today()), 3, 1)]);
        assert_eq!(points[2].percent(), 33.3);
        assert_eq!(points[0].percent(), 66.7);
        // The last point is the live figure.
        let live = coverage(db, &h.community.path, today(), 90).await.unwrap();
        assert_eq!(live.not_visited, points[2].not_visited);
        // Another grid's path sees none of it.
        let other = trend(db, &h.other_grid.path, today(), 90, 3).await.unwrap();
        assert!(other.iter().all(|p| p.households == 0 && p.not_visited == 0), "{other:?}");

        let tags_seen: Vec<(String, u64, u64)> = by_tag(db, &h.community.path, today(), 90)
            .await
            .unwrap()
            .into_iter()
            .map(|t| (t.tag, t.people, t.visited))
            .collect();
        assert_eq!(
            tags_seen,
            vec![("disabled".into(), 1, 0), ("elderly_alone".into(), 2, 2), ("low_income".into(), 1, 1)]
        );

        let rooms = |lines: Vec<figures::Behind>| -> Vec<(String, Option<String>)> {
            lines.into_iter().map(|l| (l.room, l.name)).collect()
        };
        let path = &h.community.path;
        let not_visited = behind(db, path, today(), 90, Which::NotVisited, None).await.unwrap();
        assert_eq!(not_visited[0].household_id, d);
        assert_eq!(not_visited[0].last_met, None);
        assert_eq!(rooms(not_visited), vec![("601".into(), None)]);
        let visited = behind(db, path, today(), 90, Which::Visited, None).await.unwrap();
        assert_eq!(visited[0].last_met, Some(iso(e1)), "A's door on T found nobody");
        assert_eq!(rooms(visited), vec![("301".into(), None), ("401".into(), None)]);
        assert_eq!(
            rooms(behind(db, path, today(), 90, Which::AtDoor, None).await.unwrap()),
            vec![("301".into(), None)]
        );
        let disabled = behind(db, path, today(), 90, Which::NotVisited, Some("disabled")).await.unwrap();
        assert_eq!(disabled[0].resident_id.as_deref(), Some(aunt.as_str()));
        assert_eq!(rooms(disabled), vec![("401".into(), Some("赵姨".into()))]);
        assert!(behind(db, path, today(), 90, Which::NotVisited, Some("elderly_alone")).await.unwrap().is_empty());

        // The cockpit's figures carry the same numbers and name the rows behind them.
        let q = crate::cockpit::FigureQuery {
            path: h.community.path.clone(),
            from: 0,
            to: wangge_domain::now_millis(),
            now: wangge_domain::now_millis(),
            past: false,
        };
        let all = crate::cockpit::figures(db, &q).await.unwrap();
        let f = crate::cockpit::find(&all, "visits.tag.disabled").unwrap();
        assert_eq!(f.value, crate::cockpit::Value::Rate { part: 0, whole: 1 });
        assert_eq!(f.rows, Some(crate::cockpit::Rows::Visits { which: "not_visited", tag: Some("disabled".into()) }));
        assert!(f.sensitive, "disability is a sensitive tag: its count only for those who see names");
        let f = crate::cockpit::find(&all, "visits.not_visited").unwrap();
        assert_eq!(f.value, crate::cockpit::Value::Rate { part: 1, whole: 3 });
        assert!(f.rows.as_ref().is_some_and(|r| r.names()));
    })
    .await;
}

/// The days each household keeps for coverage (`last_met_on`, `last_door_on`,
/// migration 0035) follow its visits through every kind of write. Household A (the
/// fixture's 301): met at the door on T-10, by phone on T-3; a paper entry of a door
/// visit on T-30 does not move them back (T-3, door T-10). B (401): nobody home on
/// T-1, so nothing; a paper entry of a door visit on T-60 gives T-60.
/// Edits: A's phone call turns out to have found nobody (back to T-10); A's door
/// visit moves to T-100 (back to the paper entry, T-30, at the door too); B's
/// T-1 turns into a door visit that met someone (T-1). Then:
/// - the 20 days up to T: B met (at the door), A not: 1 of 2;
/// - the 10 days up to T-55 (T-64 … T-55), a window in the past: B's last day lies
///   after it, and its visit of T-60 lies inside: met, at the door; A's visits
///   (T-100, T-30, T-3) none inside: 1 of 2, 1 at the door;
/// - the 90 days up to T: both met, both at the door.
///
/// `summaries::verify` recounts the days from the visits after each step, and
/// finds a household whose day was made wrong by hand.
#[tokio::test]
async fn the_households_last_met_days_follow_every_write() {
    testing::all_at(async |t: &TestDb| {
        let db = &t.db;
        tags::ensure_standard(db).await.unwrap();
        let h = testing::hierarchy(db).await;
        let a = h.household.id.clone();
        let b = home(db, &h.building.id, "401", Occupancy::Rented).await;
        let kept = async |id: &str| -> (Option<String>, Option<String>) {
            let row = sqlx::query("SELECT last_met_on, last_door_on FROM households WHERE id = $1")
                .bind(id)
                .fetch_one(&db.pool)
                .await
                .unwrap();
            (row.try_get("last_met_on").unwrap(), row.try_get("last_door_on").unwrap())
        };
        let agree = async |step: &str| {
            let differences = crate::summaries::verify(db).await.unwrap();
            assert!(differences.is_empty(), "{step}: {differences:?}");
        };
        let days = |met: i64, door: i64| (Some(ago(met)), Some(ago(door)));
        let none = (None, None);

        let door =
            record(db, visit(&a, None, VisitChannel::Door, VisitOutcome::Met, ago(10)), None, "甲").await.unwrap();
        let call =
            record(db, visit(&a, None, VisitChannel::Phone, VisitOutcome::Met, ago(3)), None, "甲").await.unwrap();
        assert_eq!(kept(&a).await, days(3, 10));
        let mut paper = visit(&a, None, VisitChannel::Door, VisitOutcome::Met, ago(30));
        paper.paper = true;
        record(db, paper, None, "甲").await.unwrap();
        assert_eq!(kept(&a).await, days(3, 10), "a paper entry of an older day moves nothing back");
        let nobody =
            record(db, visit(&b, None, VisitChannel::Door, VisitOutcome::NotHome, ago(1)), None, "甲").await.unwrap();
        assert_eq!(kept(&b).await, none, "nobody home counts for nothing");
        let mut paper = visit(&b, None, VisitChannel::Door, VisitOutcome::Met, ago(60));
        paper.paper = true;
        record(db, paper, None, "甲").await.unwrap();
        assert_eq!(kept(&b).await, days(60, 60));
        agree("after recording").await;

        let change = |v: &Visit, channel, outcome, on: String| VisitEdit {
            resident_id: v.resident_id.clone(),
            channel,
            outcome,
            visited_on: on,
            purpose: v.purpose.clone(),
            findings: String::new(),
        };
        edit(db, &call.id, change(&call, VisitChannel::Phone, VisitOutcome::NotHome, ago(3)), 7, today())
            .await
            .unwrap();
        assert_eq!(kept(&a).await, days(10, 10), "the call found nobody after all");
        edit(db, &door.id, change(&door, VisitChannel::Door, VisitOutcome::Met, ago(100)), 7, today()).await.unwrap();
        assert_eq!(kept(&a).await, days(30, 30), "the door visit moved back: the paper entry's day");
        edit(db, &nobody.id, change(&nobody, VisitChannel::Door, VisitOutcome::Met, ago(1)), 7, today()).await.unwrap();
        assert_eq!(kept(&b).await, days(1, 1));
        agree("after the edits").await;

        let path = &h.grid.path;
        let c = coverage(db, path, today(), 20).await.unwrap();
        assert_eq!(c, Coverage { households: 2, visited: 1, visited_at_door: 1, not_visited: 1, days: 20 }, "{c:?}");
        let past = coverage(db, path, today() - Duration::days(55), 10).await.unwrap();
        assert_eq!(past, Coverage { households: 2, visited: 1, visited_at_door: 1, not_visited: 1, days: 10 });
        let c = coverage(db, path, today(), 90).await.unwrap();
        assert_eq!(c, Coverage { households: 2, visited: 2, visited_at_door: 2, not_visited: 0, days: 90 });

        sqlx::query("UPDATE households SET last_met_on = NULL WHERE id = $1").bind(&a).execute(&db.pool).await.unwrap();
        let differences = crate::summaries::verify(db).await.unwrap();
        let named: Vec<(&str, i64, i64)> = differences
            .iter()
            .filter(|d| d.key.starts_with(a.as_str()))
            .map(|d| (d.table, d.stored, d.counted))
            .collect();
        assert_eq!(named, vec![("households", 0, 1), ("households", 1, 0)], "{differences:?}");
    })
    .await;
}

/// The coverage read from the households' roll-up (`household_met_days`, migration
/// 0067) equals the households' own pass at the grid, the grid next door, the
/// community, the street and the deployment after every write that changes it, and
/// the hand-computed figures. A (301) met at the door on T-10; B (401) called on
/// T-3; C (501) vacant: 2 households, 2 visited, 1 at the door. B vacated: 1, 1, 1.
/// C occupied: 2, 1, 1. A moved to the grid next door: there 1, 1, 1; here 1, 0, 0.
/// C removed: here 0. A's door visit edited to nobody home: A never met.
#[tokio::test]
async fn the_coverage_roll_up_follows_every_write() {
    testing::all_at(async |t: &TestDb| {
        let db = &t.db;
        let h = testing::hierarchy(db).await;
        let a = h.household.id.clone();
        let b = home(db, &h.building.id, "401", Occupancy::Rented).await;
        let c = home(db, &h.building.id, "501", Occupancy::Vacant).await;
        let paths = [
            h.grid.path.clone(),
            h.other_grid.path.clone(),
            h.community.path.clone(),
            h.street.path.clone(),
            "/".to_owned(),
        ];
        let check = async |step: &str| {
            for path in &paths {
                for (end, days) in [(today(), 90), (today(), 5), (today() - Duration::days(1), 30)] {
                    let kept = coverage(db, path, end, days).await.unwrap();
                    let counted = coverage_from_households(db, path, end, days).await.unwrap();
                    assert_eq!(kept, counted, "{step}: {path}, {days} days to {end}");
                }
            }
            let differences: Vec<_> = crate::summaries::verify(db)
                .await
                .unwrap()
                .into_iter()
                .filter(|d| d.table == "household_met_days")
                .collect();
            assert!(differences.is_empty(), "{step}: {differences:?}");
        };
        let figures = async |path: &str| {
            let c = coverage(db, path, today(), 90).await.unwrap();
            (c.households, c.visited, c.visited_at_door)
        };
        check("before any visit").await;
        assert_eq!(figures(&h.grid.path).await, (2, 0, 0));

        let door =
            record(db, visit(&a, None, VisitChannel::Door, VisitOutcome::Met, ago(10)), None, "甲").await.unwrap();
        record(db, visit(&b, None, VisitChannel::Phone, VisitOutcome::Met, ago(3)), None, "甲").await.unwrap();
        check("after the visits").await;
        assert_eq!(figures(&h.grid.path).await, (2, 2, 1));
        assert_eq!(figures("/").await, (2, 2, 1));
        let five = coverage(db, &h.grid.path, today(), 5).await.unwrap();
        assert_eq!((five.households, five.visited, five.visited_at_door), (2, 1, 0), "the last 5 days: B's call");

        let vacate = |o| households::HouseholdUpdate { occupancy: Some(o), ..Default::default() };
        households::update(db, &b, vacate(Occupancy::Vacant)).await.unwrap();
        check("B vacated").await;
        assert_eq!(figures(&h.grid.path).await, (1, 1, 1));
        households::update(db, &c, vacate(Occupancy::Rented)).await.unwrap();
        check("C occupied").await;
        assert_eq!(figures(&h.grid.path).await, (2, 1, 1));

        sqlx::query("UPDATE households SET path = $1 WHERE id = $2")
            .bind(&h.other_grid.path)
            .bind(&a)
            .execute(&db.pool)
            .await
            .unwrap();
        check("A moved to the grid next door").await;
        assert_eq!(figures(&h.other_grid.path).await, (1, 1, 1));
        assert_eq!(figures(&h.grid.path).await, (1, 0, 0));
        assert_eq!(figures(&h.community.path).await, (2, 1, 1));

        sqlx::query("DELETE FROM households WHERE id = $1").bind(&c).execute(&db.pool).await.unwrap();
        check("C removed").await;
        assert_eq!(figures(&h.grid.path).await, (0, 0, 0));

        let nobody = VisitEdit {
            resident_id: None,
            channel: VisitChannel::Door,
            outcome: VisitOutcome::NotHome,
            visited_on: ago(10),
            purpose: door.purpose.clone(),
            findings: String::new(),
        };
        edit(db, &door.id, nobody, 7, today()).await.unwrap();
        check("A's visit found nobody after all").await;
        assert_eq!(figures(&h.community.path).await, (1, 0, 0));
    })
    .await;
}

/// Each resident's last day met (`residents.last_met_on`, migration 0040) follows
/// the visits and the people's moves, and the care tags' coverage read from it
/// equals the visits' own answer. Household A (301): 王奶奶 (living alone) and 李叔
/// (低保); B (401): 赵姨 (disabled).
/// - a door visit to A on T-10 reaches both (T-10); a call naming 李叔 on T-3 only
///   him (T-3); nobody home at B on T-1 nothing; a video visit to B on T-50 赵姨;
/// - 小孙 (living alone) entered into A later is reached by A's door visit: T-10;
/// - 赵姨 moves to A: A's door visit (T-10), not her own B's video visit;
/// - a window in the past, the 10 days up to T-45: with 赵姨 still at B, her last
///   day (T-50) lies in it; after a second video visit on T-20 it lies after it,
///   and the visit of T-50 is found in the visits: met either way;
/// - A's door visit edited to "nobody home": 王奶奶, 小孙 and 赵姨 back to never.
#[tokio::test]
async fn the_residents_last_met_days_follow_visits_and_moves() {
    testing::all_at(async |t: &TestDb| {
        let db = &t.db;
        tags::ensure_standard(db).await.unwrap();
        let h = testing::hierarchy(db).await;
        let a = h.household.id.clone();
        let grandma = person(db, &a, "王奶奶", "elderly_alone").await;
        let uncle = person(db, &a, "李叔", "low_income").await;
        let b = home(db, &h.building.id, "401", Occupancy::Rented).await;
        let aunt = person(db, &b, "赵姨", "disabled").await;
        let kept = async |id: &str| -> Option<String> {
            sqlx::query_scalar("SELECT last_met_on FROM residents WHERE id = $1")
                .bind(id)
                .fetch_one(&db.pool)
                .await
                .unwrap()
        };
        let agree = async |step: &str| {
            let differences = crate::summaries::verify(db).await.unwrap();
            assert!(differences.is_empty(), "{step}: {differences:?}");
        };
        let tagged = async |end: Date, days: u16| -> Vec<(String, u64, u64)> {
            figures::by_tag(db, &h.community.path, end, days)
                .await
                .unwrap()
                .into_iter()
                .map(|t| (t.tag, t.people, t.visited))
                .collect()
        };

        let door =
            record(db, visit(&a, None, VisitChannel::Door, VisitOutcome::Met, ago(10)), None, "甲").await.unwrap();
        record(db, visit(&a, Some(&uncle), VisitChannel::Phone, VisitOutcome::Met, ago(3)), None, "甲").await.unwrap();
        record(db, visit(&b, Some(&aunt), VisitChannel::Door, VisitOutcome::NotHome, ago(1)), None, "甲")
            .await
            .unwrap();
        record(db, visit(&b, None, VisitChannel::Video, VisitOutcome::Met, ago(50)), None, "甲").await.unwrap();
        assert_eq!(kept(&grandma).await, Some(ago(10)));
        assert_eq!(kept(&uncle).await, Some(ago(3)));
        assert_eq!(kept(&aunt).await, Some(ago(50)));
        let grandson = person(db, &a, "小孙", "elderly_alone").await;
        assert_eq!(kept(&grandson).await, Some(ago(10)), "A's door visit reached everyone living there");
        agree("after recording").await;

        let window_end = today() - Duration::days(45);
        assert_eq!(tagged(window_end, 10).await[0], ("disabled".into(), 1, 1), "T-50 lies in T-54 … T-45");
        record(db, visit(&b, None, VisitChannel::Video, VisitOutcome::Met, ago(20)), None, "甲").await.unwrap();
        assert_eq!(kept(&aunt).await, Some(ago(20)));
        assert_eq!(tagged(window_end, 10).await[0], ("disabled".into(), 1, 1), "met after the window and in it");
        assert_eq!(tagged(today() - Duration::days(25), 3).await[0], ("disabled".into(), 1, 0), "T-27 … T-25");

        let to_a = residents::Move { household_id: Some(a.clone()), date: None, note: String::new() };
        residents::move_house(db, &aunt, to_a).await.unwrap();
        assert_eq!(kept(&aunt).await, Some(ago(10)), "her new household's door visit, not her old one's video");
        agree("after the move").await;
        assert_eq!(
            tagged(today(), 30).await,
            vec![("disabled".into(), 1, 1), ("elderly_alone".into(), 2, 2), ("low_income".into(), 1, 1)]
        );

        let edit_to = VisitEdit {
            resident_id: None,
            channel: VisitChannel::Door,
            outcome: VisitOutcome::NotHome,
            visited_on: ago(10),
            purpose: door.purpose.clone(),
            findings: String::new(),
        };
        edit(db, &door.id, edit_to, 30, today()).await.unwrap();
        for id in [&grandma, &grandson, &aunt] {
            assert_eq!(kept(id).await, None, "nobody was met at A's door after all");
        }
        assert_eq!(kept(&uncle).await, Some(ago(3)));
        agree("after the edit").await;
        assert_eq!(
            tagged(today(), 30).await,
            vec![("disabled".into(), 1, 0), ("elderly_alone".into(), 2, 0), ("low_income".into(), 1, 1)]
        );

        sqlx::query("UPDATE residents SET last_met_on = $1 WHERE id = $2")
            .bind(ago(1))
            .bind(&grandma)
            .execute(&db.pool)
            .await
            .unwrap();
        let differences = crate::summaries::verify(db).await.unwrap();
        let named: Vec<(&str, i64, i64)> = differences
            .iter()
            .filter(|d| d.key.starts_with(grandma.as_str()))
            .map(|d| (d.table, d.stored, d.counted))
            .collect();
        assert_eq!(named, vec![("residents", 0, 1), ("residents", 1, 0)], "{differences:?}");
    })
    .await;
}

/// The kept counts of closed windows (migration 0061) follow every write that can
/// change them: a paper entry of an older day, a household falling vacant (even by
/// SQL typed by hand); `figures verify` recounts those still current. Households
/// A (door, E1), B (phone today), D (door, E0 − 80 days), as in the test above.
#[tokio::test]
async fn kept_coverage_of_closed_windows_follows_every_write() {
    use figures::{TrendPoint, month_ends, trend};
    testing::all_at(async |t: &TestDb| {
        let db = &t.db;
        let h = testing::hierarchy(db).await;
        let a = h.household.id.clone();
        let b = home(db, &h.building.id, "401", Occupancy::Rented).await;
        let d = home(db, &h.building.id, "601", Occupancy::OwnerOccupied).await;
        let ends = month_ends(today(), 3);
        let (e0, e1) = (ends[0], ends[1]);
        let on = |d: Date| iso(d);
        record(db, visit(&a, None, VisitChannel::Door, VisitOutcome::Met, on(e1)), None, "甲").await.unwrap();
        record(db, visit(&b, None, VisitChannel::Phone, VisitOutcome::Met, iso(today())), None, "甲").await.unwrap();
        record(db, visit(&d, None, VisitChannel::Door, VisitOutcome::Met, on(e0 - Duration::days(80))), None, "甲")
            .await
            .unwrap();
        let points = trend(db, &h.community.path, today(), 90, 3).await.unwrap();
        let first: Vec<(String, u64, u64)> =
            points.iter().map(|p| (p.on.clone(), p.households, p.not_visited)).collect();
        assert_eq!(first, vec![(iso(e0), 3, 2), (iso(e1), 3, 2), (iso(today()), 3, 1)]);
        // Each grid's count of a closed window is kept; read again, the same.
        let kept: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM coverage_month_ends").fetch_one(&db.pool).await.unwrap();
        assert!(kept >= 2, "two closed windows of the grid kept: {kept}");
        // And the community's own counts (migration 0069), which the next view reads
        // alone: a count changed by hand (its stamp kept) is what it serves.
        let own = |path: String| async move {
            let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM coverage_month_ends WHERE path = $1")
                .bind(path)
                .fetch_one(&db.pool)
                .await
                .unwrap();
            n
        };
        assert_eq!(own(h.community.path.clone()).await, 2, "the community's two closed windows kept");
        assert_eq!(trend(db, &h.community.path, today(), 90, 3).await.unwrap(), points);
        sqlx::query("UPDATE coverage_month_ends SET met = met + 1 WHERE path = $1 AND ends_on = $2")
            .bind(&h.community.path)
            .bind(iso(e0))
            .execute(&db.pool)
            .await
            .unwrap();
        assert_eq!(trend(db, &h.community.path, today(), 90, 3).await.unwrap()[0].not_visited, 1);
        let differences = crate::summaries::verify(db).await.unwrap();
        assert_eq!(
            differences.iter().map(|d| (d.key.clone(), d.stored, d.counted)).collect::<Vec<_>>(),
            vec![(format!("{} 90 {}", h.community.path, iso(e0)), 2, 1)]
        );
        sqlx::query("UPDATE coverage_month_ends SET met = met - 1 WHERE path = $1 AND ends_on = $2")
            .bind(&h.community.path)
            .bind(iso(e0))
            .execute(&db.pool)
            .await
            .unwrap();
        // The street above: its own counts, the same figures.
        assert_eq!(trend(db, &h.street.path, today(), 90, 3).await.unwrap(), points);
        assert_eq!(own(h.street.path.clone()).await, 2);
        // A paper entry of E1's day for B makes the kept count of E1 stale: B is met then.
        record(db, visit(&b, None, VisitChannel::Door, VisitOutcome::Met, on(e1)), None, "甲").await.unwrap();
        let said = |points: Vec<TrendPoint>| -> Vec<(String, u64, u64)> {
            points.into_iter().map(|p| (p.on, p.households, p.not_visited)).collect()
        };
        assert_eq!(
            said(trend(db, &h.community.path, today(), 90, 3).await.unwrap()),
            vec![(iso(e0), 3, 2), (iso(e1), 3, 1), (iso(today()), 3, 1)]
        );
        // D falls vacant (SQL typed by hand, as any write): no longer counted anywhere.
        sqlx::query("UPDATE households SET occupancy = 'vacant' WHERE id = $1")
            .bind(&d)
            .execute(&db.pool)
            .await
            .unwrap();
        assert_eq!(
            said(trend(db, &h.community.path, today(), 90, 3).await.unwrap()),
            vec![(iso(e0), 2, 2), (iso(e1), 2, 0), (iso(today()), 2, 0)]
        );
        // `figures verify` recounts the kept counts still current: none differs,
        // until one is tampered with.
        assert_eq!(crate::summaries::verify(db).await.unwrap(), vec![]);
        sqlx::query("UPDATE coverage_month_ends SET met = met + 5").execute(&db.pool).await.unwrap();
        let differences = crate::summaries::verify(db).await.unwrap();
        assert!(
            !differences.is_empty() && differences.iter().all(|d| d.table == "coverage_month_ends"),
            "{differences:?}"
        );
        sqlx::query("UPDATE coverage_month_ends SET met = met - 5").execute(&db.pool).await.unwrap();
    })
    .await;
}
