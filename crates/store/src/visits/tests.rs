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
        assert_eq!(back[0].findings.as_deref(), Some("老人血压偏高，子女在外地"));

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
