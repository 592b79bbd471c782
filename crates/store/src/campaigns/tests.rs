//! Campaigns against hand-computed targets and progress, on both engines.

use std::collections::BTreeMap;

use wangge_domain::campaigns::{Label, Question, QuestionKind};
use wangge_domain::{BuildingKind, Occupancy};

use super::*;
use crate::registry::{buildings, households, residents, tags};
use crate::testing::{self, TestDb};

fn question(name: &str, kind: QuestionKind, required: bool) -> Question {
    Question {
        name: name.into(),
        kind,
        label: Label::both(name),
        hint: Label::default(),
        required,
        relevant: None,
        constraint: None,
        constraint_message: Label::default(),
        save_to: None,
        page_break: false,
    }
}

/// A two-question gas check: whether gas is used, and the hose's age if it is.
fn gas_form() -> Form {
    let mut hose = question("hose_age", QuestionKind::Integer, true);
    hose.relevant = Some(wangge_domain::campaigns::Expr::parse("${uses_gas} = 'yes'").unwrap());
    let yes_no = vec![
        wangge_domain::campaigns::Choice { name: "yes".into(), label: Label::both("是") },
        wangge_domain::campaigns::Choice { name: "no".into(), label: Label::both("否") },
    ];
    Form {
        id: "gas".into(),
        title: Label::both("燃气排查"),
        version: "1".into(),
        questions: vec![question("uses_gas", QuestionKind::SelectOne("yes_no".into()), true), hose],
        lists: BTreeMap::from([("yes_no".to_owned(), yes_no)]),
    }
}

async fn person(db: &Db, household: &str, name: &str, born: &str, tags: &[&str]) -> String {
    let new = residents::NewResident {
        household_id: household.into(),
        name: name.into(),
        gender: Some(wangge_domain::Gender::Female),
        birth_date: Some(born.into()),
        tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        ..Default::default()
    };
    residents::create(db, new).await.unwrap().id
}

async fn home(db: &Db, building: &str, room: &str, occupancy: Occupancy) -> String {
    let new = households::NewHousehold { building_id: building.into(), unit: "1".into(), room: room.into(), occupancy };
    households::create(db, new).await.unwrap().id
}

/// The target of `household` in `campaign`.
async fn target_of(db: &Db, campaign: &str, household: &str) -> String {
    sqlx::query_scalar("SELECT id FROM campaign_targets WHERE campaign_id = $1 AND household_id = $2")
        .bind(campaign)
        .bind(household)
        .fetch_one(&db.pool)
        .await
        .unwrap()
}

fn given(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

fn campaign(area: &str, kind: TargetKind, filter: TargetFilter) -> NewCampaign {
    NewCampaign {
        area_id: area.into(),
        title: "燃气安全排查".into(),
        target_kind: kind,
        filter,
        opens_on: "2026-12-01".into(),
        closes_on: "2026-12-10".into(),
        retention_days: None,
        form: gas_form(),
    }
}

/// Grid 1, building 1: A (the fixture's household; 王奶奶 born 1946, living alone),
/// B 402 (赵叔 born 1990), C 502 vacant. Grid 2, building 9: D 101 (钱姨 born 1950,
/// disabled), E 102 (nobody registered).
///
/// Every occupied household: A, B, D, E = 4 targets (C is vacant). Households with
/// someone aged 70 or more on 2026-12-01 (born on or before 1956-12-01): A, D.
/// People tagged elderly_alone or disabled: 王奶奶, 钱姨. Grid 2 alone: D, E.
#[tokio::test]
async fn targets_are_drawn_from_the_registry_by_the_filter() {
    testing::all_at(async |t: &TestDb| {
        let db = &t.db;
        tags::ensure_standard(db).await.unwrap();
        let h = testing::hierarchy(db).await;
        let a = h.household.id.clone();
        let grandma = person(db, &a, "王奶奶", "1946-05-01", &["elderly_alone"]).await;
        let b = home(db, &h.building.id, "402", Occupancy::Rented).await;
        person(db, &b, "赵叔", "1990-03-02", &[]).await;
        home(db, &h.building.id, "502", Occupancy::Vacant).await;
        let nb = buildings::NewBuilding {
            grid_id: h.other_grid.id.clone(),
            number: "9".into(),
            address: None,
            kind: BuildingKind::Residential,
            floors: None,
            units: None,
            lat: None,
            lng: None,
        };
        let b9 = buildings::create(db, nb).await.unwrap();
        let d = home(db, &b9.id, "101", Occupancy::OwnerOccupied).await;
        let aunt = person(db, &d, "钱姨", "1950-08-08", &["disabled"]).await;
        let e = home(db, &b9.id, "102", Occupancy::OwnerOccupied).await;

        let households_of = async |c: &Campaign| -> Vec<String> {
            let mut v: Vec<String> =
                sqlx::query_scalar("SELECT household_id FROM campaign_targets WHERE campaign_id = $1")
                    .bind(&c.id)
                    .fetch_all(&db.pool)
                    .await
                    .unwrap();
            v.sort();
            v
        };
        let sorted = |mut v: Vec<String>| {
            v.sort();
            v
        };

        let all =
            start(db, campaign(&h.community.id, TargetKind::Household, TargetFilter::default()), None, "社区书记")
                .await
                .unwrap();
        assert_eq!(households_of(&all).await, sorted(vec![a.clone(), b.clone(), d.clone(), e.clone()]));
        assert_eq!(all.form_version, 1);

        let old = TargetFilter { min_age: Some(70), ..Default::default() };
        let c = start(db, campaign(&h.street.id, TargetKind::Household, old), None, "街道").await.unwrap();
        assert_eq!(households_of(&c).await, sorted(vec![a.clone(), d.clone()]));

        let tagged = TargetFilter { tags: vec!["elderly_alone".into(), "disabled".into()], ..Default::default() };
        let c = start(db, campaign(&h.community.id, TargetKind::Person, tagged), None, "社区").await.unwrap();
        let mut people: Vec<Option<String>> =
            sqlx::query_scalar("SELECT resident_id FROM campaign_targets WHERE campaign_id = $1")
                .bind(&c.id)
                .fetch_all(&db.pool)
                .await
                .unwrap();
        people.sort();
        let mut want = vec![Some(grandma.clone()), Some(aunt.clone())];
        want.sort();
        assert_eq!(people, want);

        let grid2 = TargetFilter { grids: vec![h.other_grid.id.clone()], ..Default::default() };
        let c = start(db, campaign(&h.community.id, TargetKind::Household, grid2), None, "社区").await.unwrap();
        assert_eq!(households_of(&c).await, sorted(vec![d.clone(), e.clone()]));

        // Refused: a grid as scope, nobody matching, closing before opening.
        let err = start(db, campaign(&h.grid.id, TargetKind::Household, TargetFilter::default()), None, "x").await;
        assert!(matches!(&err, Err(StoreError::Invalid(m)) if m.key == "campaigns.error.level"), "{err:?}");
        let nobody = TargetFilter { min_age: Some(100), ..Default::default() };
        let err = start(db, campaign(&h.community.id, TargetKind::Household, nobody), None, "x").await;
        assert!(matches!(&err, Err(StoreError::Invalid(m)) if m.key == "campaigns.error.no_targets"), "{err:?}");
        let mut backwards = campaign(&h.community.id, TargetKind::Household, TargetFilter::default());
        backwards.closes_on = "2026-11-30".into();
        let err = start(db, backwards, None, "x").await;
        assert!(matches!(&err, Err(StoreError::Invalid(m)) if m.key == "campaigns.error.dates"), "{err:?}");
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM campaigns").fetch_one(&db.pool).await.unwrap();
        assert_eq!(count, 4, "a refused campaign leaves nothing behind");

        // Everything the campaigns of the grid take part in: all four touch grid 1's
        // path or lie above it, except the grid-2-only one which lies above too.
        let seen = touching(db, &h.grid.path).await.unwrap();
        assert_eq!(seen.len(), 4);
    })
    .await;
}

/// The community campaign over A, B (grid 1) and D, E (grid 2), closing 12-10:
/// A answered on time; B not at home, then answered after the closing day; D
/// refused; E exempt. Grid 1: expected 2, done 2, on time 1, not reachable 0,
/// pending 0. Grid 2: expected 1 (E exempt), done 0, not reachable 1. Total:
/// expected 3, done 2, on time 1, not reachable 1.
#[tokio::test]
async fn answers_are_checked_pinned_sealed_and_counted_per_grid() {
    testing::all_at(async |t: &TestDb| {
        let db = &t.db;
        let h = testing::hierarchy(db).await;
        let a = h.household.id.clone();
        let b = home(db, &h.building.id, "402", Occupancy::Rented).await;
        let nb = buildings::NewBuilding {
            grid_id: h.other_grid.id.clone(),
            number: "9".into(),
            address: None,
            kind: BuildingKind::Residential,
            floors: None,
            units: None,
            lat: None,
            lng: None,
        };
        let b9 = buildings::create(db, nb).await.unwrap();
        let d = home(db, &b9.id, "101", Occupancy::OwnerOccupied).await;
        let e = home(db, &b9.id, "102", Occupancy::OwnerOccupied).await;
        let c = start(db, campaign(&h.community.id, TargetKind::Household, TargetFilter::default()), None, "社区")
            .await
            .unwrap();
        let (ta, tb, td, te) = (target_of(db, &c.id, &a).await, target_of(db, &c.id, &b).await, target_of(db, &c.id, &d).await, target_of(db, &c.id, &e).await);
        let day = |s: &str| super::day(s, "x").unwrap();

        // Before the opening day, nothing is taken.
        let early = answer(db, &ta, &given(&[("uses_gas", "no")]), 1, None, None, "网格员", day("2026-11-30")).await;
        assert!(matches!(early, Err(AnswerOutcome::Store(StoreError::Invalid(ref m))) if m.key == "campaigns.error.not_open"));
        // The form judges: gas used, so the hose's age is required.
        let missing = answer(db, &ta, &given(&[("uses_gas", "yes")]), 1, None, None, "网格员", day("2026-12-02")).await;
        match missing {
            Err(AnswerOutcome::Answers(errors)) => assert_eq!(errors[0].question, "hose_age"),
            other => panic!("{other:?}"),
        }
        let done = answer(db, &ta, &given(&[("uses_gas", "yes"), ("hose_age", "3")]), 1, None, None, "网格员", day("2026-12-02"))
            .await
            .unwrap()
            .target;
        assert_eq!((done.status, done.attempts, done.form_version), (TargetStatus::Done, 1, Some(1)));
        assert_eq!(answers_of(db, &ta).await, given(&[("uses_gas", "yes"), ("hose_age", "3")]));
        let sealed: String = sqlx::query_scalar("SELECT answers_enc FROM campaign_targets WHERE id = $1")
            .bind(&ta)
            .fetch_one(&db.pool)
            .await
            .unwrap();
        assert!(!sealed.contains("hose_age"), "answers are sealed at rest");

        // B: nobody home → the revisit queue, after the pending ones.
        mark(db, &tb, TargetStatus::NotHome, None, "网格员").await.unwrap();
        let queue: Vec<String> = lines(db, &c.id, &h.grid.path, Which::Open, i64::MAX).await.unwrap().into_iter().map(|l| l.target.id).collect();
        assert_eq!(queue.as_slice(), std::slice::from_ref(&tb), "grid 1's open targets: only B, in the revisit queue");
        let open2: Vec<(String, TargetStatus)> =
            lines(db, &c.id, &h.other_grid.path, Which::Open, i64::MAX)
                .await
                .unwrap()
                .into_iter()
                .map(|l| (l.target.id, l.target.status))
                .collect();
        assert_eq!(open2, [(td.clone(), TargetStatus::Pending), (te.clone(), TargetStatus::Pending)]);

        // The form changes while the campaign runs: an answer with the old version
        // is refused, the new version is used, A keeps version 1.
        let mut v2 = gas_form();
        v2.questions[1].required = false;
        assert_eq!(revise_form(db, &c.id, &v2).await.unwrap(), 2);
        let stale = answer(db, &tb, &given(&[("uses_gas", "yes")]), 1, None, None, "网格员", day("2026-12-05")).await;
        assert!(matches!(stale, Err(AnswerOutcome::Store(StoreError::Conflict(_)))), "{stale:?}");
        let late = answer(db, &tb, &given(&[("uses_gas", "yes")]), 2, None, None, "网格员", day("2026-12-11")).await.unwrap().target;
        assert_eq!((late.attempts, late.form_version), (2, Some(2)));
        assert_eq!(target(db, &ta).await.unwrap().form_version, Some(1));
        // "Late": settled after the end of 12-10 in China. The clock cannot be set,
        // so the settled time is placed there.
        let after_close = super::end_of(day("2026-12-10")) + 1;
        sqlx::query("UPDATE campaign_targets SET settled_at = $1 WHERE id = $2")
            .bind(after_close)
            .bind(&tb)
            .execute(&db.pool)
            .await
            .unwrap();
        let before_close = super::end_of(day("2026-12-10")) - 1000;
        sqlx::query("UPDATE campaign_targets SET settled_at = $1 WHERE id = $2")
            .bind(before_close)
            .bind(&ta)
            .execute(&db.pool)
            .await
            .unwrap();

        mark(db, &td, TargetStatus::Refused, None, "网格员").await.unwrap();
        mark(db, &te, TargetStatus::Exempt, None, "社区").await.unwrap();
        let err = mark(db, &te, TargetStatus::Done, None, "x").await;
        assert!(matches!(&err, Err(StoreError::Invalid(m)) if m.key == "campaigns.error.mark"), "{err:?}");

        let p = progress(db, &c.id, &h.community.path).await.unwrap();
        let figures: Vec<Line<'_>> = p
            .iter()
            .map(|g| (g.grid_id.as_deref(), g.expected, g.done, g.on_time, g.not_reachable, g.pending))
            .collect();
        assert_eq!(
            figures,
            [
                (Some(h.grid.id.as_str()), 2, 2, 1, 0, 0),
                (Some(h.other_grid.id.as_str()), 1, 0, 0, 1, 0),
                (None, 3, 2, 1, 1, 0),
            ]
        );
        // A grid's own view holds its line and its total only.
        let own = progress(db, &c.id, &h.other_grid.path).await.unwrap();
        assert_eq!(own.len(), 2);
        assert_eq!((own[1].expected, own[1].not_reachable), (1, 1));
    })
    .await;
}

/// A: nothing held, the answer writes its day. B: the office changes B's day after
/// the form was opened and before the answer comes: held as a conflict, the
/// registry keeps its value until someone decides.
#[tokio::test]
async fn answers_write_their_facts_back_and_a_fact_changed_meanwhile_is_flagged() {
    use wangge_domain::campaigns::Fact;
    use write_back::{Keep, conflicts, facts, resolve, set};
    testing::all_at(async |t: &TestDb| {
        let db = &t.db;
        let h = testing::hierarchy(db).await;
        let a = h.household.id.clone();
        let b = home(db, &h.building.id, "402", Occupancy::Rented).await;
        let mut form = gas_form();
        let mut checked = question("checked_on", QuestionKind::Date, false);
        checked.save_to = Some("gas_checked_on".into());
        form.questions.push(checked);
        let mut new = campaign(&h.community.id, TargetKind::Household, TargetFilter::default());
        new.form = form;
        let c = start(db, new.clone(), None, "社区").await.unwrap();
        let (ta, tb) = (target_of(db, &c.id, &a).await, target_of(db, &c.id, &b).await);
        let today = super::day("2026-12-03", "x").unwrap();
        let held = async |subject: &str| facts(db, &[subject.to_owned()]).await.unwrap();
        let answers = |on: &str| given(&[("uses_gas", "yes"), ("hose_age", "3"), ("checked_on", on)]);

        let done = answer(db, &ta, &answers("2026-12-02"), 1, Some(now_millis()), None, "网格员", today).await.unwrap();
        assert_eq!((done.written.as_slice(), done.conflicts.len()), ([Fact::GasCheckedOn].as_slice(), 0));
        let a_facts = held(&a).await;
        assert_eq!(a_facts.len(), 1);
        assert_eq!(
            (a_facts[0].value.as_str(), a_facts[0].campaign_id.as_deref(), a_facts[0].updated_by_name.as_str()),
            ("2026-12-02", Some(c.id.as_str()), "网格员")
        );

        let opened = now_millis() - 1000;
        set(db, &b, &h.grid.path, Fact::GasCheckedOn, "2026-12-01", "燃气公司").await.unwrap();
        let late = answer(db, &tb, &answers("2026-12-03"), 1, Some(opened), None, "网格员", today).await.unwrap();
        assert!(late.written.is_empty(), "{late:?}");
        assert_eq!(late.conflicts.len(), 1);
        let flagged = &late.conflicts[0];
        assert_eq!(
            (flagged.registry_value.as_str(), flagged.answer_value.as_str(), flagged.registry_changed_by.as_str()),
            ("2026-12-01", "2026-12-03", "燃气公司")
        );
        assert_eq!(held(&b).await[0].value, "2026-12-01", "no silent overwrite");
        assert_eq!(target(db, &tb).await.unwrap().status, TargetStatus::Done, "the answers themselves are kept");
        // The same day as the registry's is no conflict, whenever the form was opened.
        let same = answer(db, &tb, &answers("2026-12-01"), 1, Some(opened), None, "网格员", today).await.unwrap();
        assert!(same.written.is_empty() && same.conflicts.is_empty(), "{same:?}");

        // Listed for the campaign until settled, once: the answer wins here.
        let open = conflicts(db, &c.id, &c.path, true).await.unwrap();
        assert_eq!(open.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(), [flagged.id.as_str()]);
        assert!(conflicts(db, &c.id, &h.other_grid.path, true).await.unwrap().is_empty(), "another grid's list");
        let settled = resolve(db, &flagged.id, Keep::Answer, "社区书记").await.unwrap();
        assert_eq!((settled.resolution, settled.resolved_by_name.as_deref()), (Some(Keep::Answer), Some("社区书记")));
        assert_eq!(held(&b).await[0].value, "2026-12-03");
        let again = resolve(db, &flagged.id, Keep::Registry, "社区书记").await;
        assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
        assert!(conflicts(db, &c.id, &c.path, true).await.unwrap().is_empty());
        assert_eq!(conflicts(db, &c.id, &c.path, false).await.unwrap().len(), 1);

        // A person's fact cannot be written from a campaign of households.
        let mut vax = gas_form();
        let mut on = question("vaccinated_on", QuestionKind::Date, false);
        on.save_to = Some("vaccinated_on".into());
        vax.questions.push(on);
        new.form = vax;
        let refused = start(db, new, None, "社区").await;
        assert!(
            matches!(refused, Err(StoreError::Invalid(ref m)) if m.key == "campaigns.error.save_to_kind"),
            "{refused:?}"
        );
    })
    .await;
}

/// A monthly template begun on 31 January opens on its day, once, keeps to the end
/// of the month, opens a missed one once on the day it sweeps, and stops.
#[tokio::test]
async fn a_template_starts_its_campaign_once_on_its_day() {
    use templates::{campaigns_of, end, run_due, save};
    use wangge_domain::campaigns::Repeat;
    testing::all_at(async |t: &TestDb| {
        let db = &t.db;
        let h = testing::hierarchy(db).await;
        let c = start(db, campaign(&h.community.id, TargetKind::Household, TargetFilter::default()), None, "社区")
            .await
            .unwrap();
        let day = |s: &str| super::day(s, "x").unwrap();
        let today = day("2026-12-04");
        let none = save(db, &c, Repeat::Monthly, None, today, "书记").await;
        assert!(matches!(none, Err(StoreError::Invalid(ref m)) if m.key == "campaigns.error.first_on"), "{none:?}");
        let past = save(db, &c, Repeat::Monthly, Some(day("2026-12-03")), today, "书记").await;
        assert!(
            matches!(past, Err(StoreError::Invalid(ref m)) if m.key == "campaigns.error.first_on_past"),
            "{past:?}"
        );
        let t = save(db, &c, Repeat::Monthly, Some(day("2027-01-31")), today, "书记").await.unwrap();
        // The campaign ran 12-01 to 12-10: ten days open.
        assert_eq!((t.days_open, t.next_on.as_deref()), (10, Some("2027-01-31")));

        assert!(run_due(db, day("2027-01-30")).await.unwrap().is_empty(), "not yet");
        let runs = run_due(db, day("2027-01-31")).await.unwrap();
        assert_eq!(runs.len(), 1);
        let first = runs[0].started.as_ref().unwrap();
        assert_eq!((first.opens_on.as_str(), first.closes_on.as_str()), ("2027-01-31", "2027-02-09"));
        assert_eq!(form(db, &first.id, 1).await.unwrap(), gas_form());
        assert!(run_due(db, day("2027-01-31")).await.unwrap().is_empty(), "once a day");
        assert_eq!(templates::get(db, &t.id).await.unwrap().next_on.as_deref(), Some("2027-02-28"));

        // Off from February to April: the missed one opens once, on the sweep's day.
        let runs = run_due(db, day("2027-04-10")).await.unwrap();
        assert_eq!(runs.len(), 1);
        assert_eq!(runs[0].started.as_ref().unwrap().opens_on, "2027-04-10");
        assert_eq!(templates::get(db, &t.id).await.unwrap().next_on.as_deref(), Some("2027-04-30"));
        assert_eq!(campaigns_of(db, &t.id).await.unwrap().len(), 2);

        end(db, &t.id).await.unwrap();
        assert!(run_due(db, day("2027-05-31")).await.unwrap().is_empty(), "stopped");
        assert!(matches!(end(db, &t.id).await, Err(StoreError::Conflict(_))));
    })
    .await;
}

/// A running over the community's two occupied households: A answered, B not at
/// home. The community: 1 running, 1 of 2 done, 1 not reachable.
#[tokio::test]
async fn the_cockpit_counts_the_doors_of_campaigns_running_today() {
    use crate::cockpit::{FigureQuery, Value, figures, find};
    testing::all_at(async |t: &TestDb| {
        let db = &t.db;
        let h = testing::hierarchy(db).await;
        let b = home(db, &h.building.id, "402", Occupancy::Rented).await;
        let today = super::today();
        let mut new = campaign(&h.community.id, TargetKind::Household, TargetFilter::default());
        new.opens_on = today.to_string();
        new.closes_on = (today + time::Duration::days(7)).to_string();
        let c = start(db, new, None, "社区").await.unwrap();
        let (ta, tb) = (target_of(db, &c.id, &h.household.id).await, target_of(db, &c.id, &b).await);
        answer(db, &ta, &given(&[("uses_gas", "no")]), 1, None, None, "网格员", today).await.unwrap();
        mark(db, &tb, TargetStatus::NotHome, None, "网格员").await.unwrap();
        let read = async |path: &str| {
            let now = now_millis() + 1;
            figures(db, &FigureQuery { path: path.to_owned(), from: 0, to: now, now, past: false }).await.unwrap()
        };
        let community = read(&h.community.path).await;
        let value = |fs: &[crate::cockpit::Figure], key: &str| find(fs, key).unwrap().value;
        assert_eq!(value(&community, "campaigns.running"), Value::count(1));
        assert_eq!(value(&community, "campaigns.done"), Value::Rate { part: 1, whole: 2 });
        assert_eq!(value(&community, "campaigns.not_reachable"), Value::count(1));
        // The next grid takes part in it but holds none of these doors.
        let other = read(&h.other_grid.path).await;
        assert_eq!(value(&other, "campaigns.running"), Value::count(1));
        assert_eq!(value(&other, "campaigns.done"), Value::Rate { part: 0, whole: 0 });
    })
    .await;
}

/// A grid's progress: grid id, expected, done, on time, not reachable, pending.
type Line<'a> = (Option<&'a str>, u64, u64, u64, u64, u64);

async fn answers_of(db: &Db, target: &str) -> BTreeMap<String, String> {
    answers(db, target).await.unwrap().unwrap()
}

/// A testing round closed on 2026-06-30 with 90 days' retention: its answers may be
/// kept through 2026-09-28 and go on 2026-09-29. Three households answered (uses
/// gas: yes, yes, no; hose ages 3 and 12), one refused. A campaign without a
/// retention period is never touched.
#[tokio::test]
async fn health_answers_are_reduced_to_counts_after_their_retention() {
    testing::all_at(async |t: &TestDb| {
        let db = &t.db;
        tags::ensure_standard(db).await.unwrap();
        let h = testing::hierarchy(db).await;
        let a = h.household.id.clone();
        let b = home(db, &h.building.id, "402", Occupancy::Rented).await;
        let c = home(db, &h.building.id, "502", Occupancy::Rented).await;
        let d = home(db, &h.building.id, "602", Occupancy::Rented).await;
        let mut round = campaign(&h.community.id, TargetKind::Household, TargetFilter::default());
        round.opens_on = "2026-06-28".into();
        round.closes_on = "2026-06-30".into();
        round.retention_days = Some(90);
        let round = start(db, round, None, "社区").await.unwrap();
        let kept_forever =
            start(db, campaign(&h.community.id, TargetKind::Household, TargetFilter::default()), None, "社区")
                .await
                .unwrap();
        let settle = |target: String, status, answers: Option<BTreeMap<String, String>>| PastSettle {
            target_id: target,
            status,
            answers,
            attempts: 1,
            by_name: "网格员".into(),
            at: 1_782_000_000_000,
        };
        let rows = vec![
            settle(
                target_of(db, &round.id, &a).await,
                TargetStatus::Done,
                Some(given(&[("uses_gas", "yes"), ("hose_age", "3")])),
            ),
            settle(
                target_of(db, &round.id, &b).await,
                TargetStatus::Done,
                Some(given(&[("uses_gas", "yes"), ("hose_age", "12")])),
            ),
            settle(target_of(db, &round.id, &c).await, TargetStatus::Done, Some(given(&[("uses_gas", "no")]))),
            settle(target_of(db, &round.id, &d).await, TargetStatus::Refused, None),
        ];
        record_past(db, &round.id, 1, &rows).await.unwrap();
        let other = target_of(db, &kept_forever.id, &a).await;
        record_past(
            db,
            &kept_forever.id,
            1,
            &[settle(other.clone(), TargetStatus::Done, Some(given(&[("uses_gas", "no")])))],
        )
        .await
        .unwrap();

        // A photo taken at a door of the round goes with its answers.
        photos::add(db, &rows[0].target_id, "hazard_photo", "门口.png", PNG).await.unwrap();
        let day = |s: &str| Date::parse(s, time::macros::format_description!("[year]-[month]-[day]")).unwrap();
        assert_eq!(retention::purge_on(&round), Some(day("2026-09-29")));
        assert!(retention::purge(db, day("2026-09-28"), false).await.unwrap().is_empty(), "still within retention");

        // The dry run says what would go and changes nothing.
        let would = retention::purge(db, day("2026-09-29"), true).await.unwrap();
        assert_eq!(would.len(), 1);
        assert_eq!((would[0].campaign_id.as_str(), would[0].answers, would[0].photos), (round.id.as_str(), 3, 1));
        let expected = vec![
            retention::Count { question: "hose_age".into(), value: "*".into(), n: 2 },
            retention::Count { question: "uses_gas".into(), value: "no".into(), n: 1 },
            retention::Count { question: "uses_gas".into(), value: "yes".into(), n: 2 },
        ];
        assert_eq!(would[0].counts, expected);
        assert!(answers(db, &rows[0].target_id).await.unwrap().is_some(), "a dry run deletes nothing");
        assert_eq!(retention::purged_at(db, &round.id).await.unwrap(), None);

        let done = retention::purge(db, day("2026-10-15"), false).await.unwrap();
        assert_eq!(done.len(), 1);
        for r in &rows {
            assert_eq!(answers(db, &r.target_id).await.unwrap(), None, "answers deleted");
        }
        assert_eq!(retention::kept(db, &round.id).await.unwrap(), expected, "counts kept");
        assert!(photos::of_target(db, &rows[0].target_id).await.unwrap().is_empty(), "photos deleted");
        assert!(retention::purged_at(db, &round.id).await.unwrap().is_some());
        // Progress still adds up: statuses stay, only answers went.
        let total = progress(db, &round.id, &round.path).await.unwrap().pop().unwrap();
        assert_eq!((total.expected, total.done, total.not_reachable), (4, 3, 1));
        let audit: Vec<String> =
            sqlx::query_scalar("SELECT reason FROM audit_log WHERE action = 'campaign.purge' AND target_id = $1")
                .bind(&round.id)
                .fetch_all(&db.pool)
                .await
                .unwrap();
        assert_eq!(audit.len(), 1);
        assert!(audit[0].contains("3 answers deleted, 1 photos deleted"), "{audit:?}");
        assert!(retention::purge(db, day("2026-10-16"), false).await.unwrap().is_empty(), "once");
        assert!(answers(db, &other).await.unwrap().is_some(), "no retention period: kept");
    })
    .await;
}

/// The first bytes of a PNG file: enough for the type to be told by its content.
const PNG: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, b'I', b'H', b'D', b'R'];

/// A photo is stored when its page is sent and kept when answers name it: a photo
/// taken again replaces the one before, an answer naming another target's photo is
/// refused with nothing stored, the answered target keeps only the photo its answers
/// name, and a photo no answers named goes with the sweep a day later.
#[tokio::test]
async fn photos_are_kept_with_their_answers_and_loose_ones_swept() {
    testing::all_at(async |t: &TestDb| {
        let db = &t.db;
        let h = testing::hierarchy(db).await;
        let a = h.household.id.clone();
        let b = home(db, &h.building.id, "402", Occupancy::Rented).await;
        let mut new = campaign(&h.community.id, TargetKind::Household, TargetFilter::default());
        new.form.questions.push(question("hazard_photo", QuestionKind::Photo, false));
        let c = start(db, new, None, "社区").await.unwrap();
        let (ta, tb) = (target_of(db, &c.id, &a).await, target_of(db, &c.id, &b).await);
        let day = super::day("2026-12-02", "x").unwrap();

        let first = photos::add(db, &ta, "hazard_photo", "../../IMG_1.png", PNG).await.unwrap();
        assert_eq!((first.name.as_str(), first.content_type.as_str(), first.kept_at), ("IMG_1.png", "image/png", None));
        let again = photos::add(db, &ta, "hazard_photo", "IMG_2.png", PNG).await.unwrap();
        assert!(
            matches!(photos::get(db, &first.id).await, Err(StoreError::NotFound { .. })),
            "a photo taken again replaces the one before"
        );
        assert_eq!(photos::content(db, &again.id).await.unwrap(), PNG);
        let pdf = photos::add(db, &ta, "hazard_photo", "a.pdf", b"%PDF-1.4 not a photo").await;
        assert!(matches!(pdf, Err(StoreError::Invalid(ref m)) if m.key == "campaigns.error.photo_type"), "{pdf:?}");
        let stray = photos::add(db, &ta, "other", "x.png", PNG).await.unwrap();
        let of_b = photos::add(db, &tb, "hazard_photo", "b.png", PNG).await.unwrap();

        // Another target's photo is not an answer here; nothing is stored.
        let foreign =
            answer(db, &ta, &given(&[("uses_gas", "no"), ("hazard_photo", &of_b.id)]), 1, None, None, "网格员", day)
                .await;
        match foreign {
            Err(AnswerOutcome::Answers(errors)) => {
                assert_eq!(errors.len(), 1);
                assert_eq!(
                    (errors[0].question.as_str(), errors[0].message.key),
                    ("hazard_photo", "campaigns.error.photo_unknown")
                );
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(target(db, &ta).await.unwrap().status, TargetStatus::Pending, "nothing half-written");

        answer(db, &ta, &given(&[("uses_gas", "no"), ("hazard_photo", &again.id)]), 1, None, None, "网格员", day)
            .await
            .unwrap();
        assert_eq!(answers_of(db, &ta).await["hazard_photo"], again.id);
        let left = photos::of_target(db, &ta).await.unwrap();
        assert_eq!(left.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(), [again.id.as_str()], "the stray one went");
        assert!(left[0].kept_at.is_some());
        assert!(matches!(photos::get(db, &stray.id).await, Err(StoreError::NotFound { .. })));

        // The sweep: loose photos sent before the cut go, kept ones stay.
        assert_eq!(photos::purge_loose(db, of_b.created_at).await.unwrap(), 0, "not older than the cut");
        assert_eq!(photos::purge_loose(db, of_b.created_at + 1).await.unwrap(), 1);
        assert!(matches!(photos::get(db, &of_b.id).await, Err(StoreError::NotFound { .. })));
        assert!(photos::get(db, &again.id).await.is_ok());
    })
    .await;
}
