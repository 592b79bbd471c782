//! The cockpit's figures against values counted by hand on fixed data: a grid, its
//! community, its street, and a neighbouring community and street that must not
//! leak into them.

use wangge_domain::{
    AreaLevel, BuildingKind, Gender, Occupancy, ResidenceType, Role, TeamPost, Vocabulary, now_millis,
};

use super::*;
use crate::demands::{self, Actor, NewDemand};
use crate::registry::{areas, buildings, households, residents, tags};
use crate::testing::{self, Hierarchy};

struct Data {
    h: Hierarchy,
    /// 塔山社区's neighbour in the same street, with one grid.
    next_community: areas::Area,
    /// Another street of the district.
    next_street: areas::Area,
}

async fn building_in(db: &Db, grid: &areas::Area, number: &str) -> households::Household {
    let b = buildings::create(
        db,
        buildings::NewBuilding {
            grid_id: grid.id.clone(),
            number: number.into(),
            address: None,
            kind: BuildingKind::Residential,
            floors: None,
            units: None,
            lat: None,
            lng: None,
        },
    )
    .await
    .unwrap();
    households::create(
        db,
        households::NewHousehold {
            building_id: b.id,
            unit: "1".into(),
            room: "101".into(),
            occupancy: Occupancy::OwnerOccupied,
        },
    )
    .await
    .unwrap()
}

async fn person(db: &Db, household: &str, name: &str, gender: Gender, born: &str, t: ResidenceType, tags: &[&str]) {
    residents::create(
        db,
        residents::NewResident {
            household_id: household.into(),
            name: name.into(),
            gender: Some(gender),
            birth_date: Some(born.into()),
            residence_type: Some(t),
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
}

fn staff() -> Actor {
    Actor { id: None, name: "王姐".into(), role: Role::CommunitySecretary }
}

async fn item(db: &Db, building: &str, category: &str) -> String {
    let new = NewDemand {
        building_id: Some(building.into()),
        category: category.into(),
        title: "楼道灯不亮".into(),
        ..Default::default()
    };
    demands::create(db, new, &staff(), None).await.unwrap().id
}

async fn sql(db: &Db, text: &str, id: &str, value: i64) {
    sqlx::query(sqlx::AssertSqlSafe(text.to_owned())).bind(value).bind(id).execute(&db.pool).await.unwrap();
}

/// Grid 1: four people (one moved out), two tagged; two items, one overdue.
/// Grid 2 (same community): one person, one item, closed and rated 5.
/// The next community (same street): one person, one item.
/// The next street: one person, one item (never counted above).
async fn data(db: &Db) -> Data {
    let h = testing::hierarchy(db).await;
    tags::ensure_standard(db).await.unwrap();
    let area = |parent: &areas::Area, level, code: &str, name: &str| areas::NewArea {
        parent_id: Some(parent.id.clone()),
        level,
        code: code.into(),
        name: name.into(),
        boundary: None,
    };
    let next_community =
        areas::create(db, area(&h.street, AreaLevel::Community, "370602004012", "大海阳社区")).await.unwrap();
    let next_grid =
        areas::create(db, area(&next_community, AreaLevel::Grid, "370602004012001", "一网格")).await.unwrap();
    let next_street =
        areas::create(db, area(&h.district, AreaLevel::Street, "370602005000", "只楚街道")).await.unwrap();
    let far_community =
        areas::create(db, area(&next_street, AreaLevel::Community, "370602005001", "北社区")).await.unwrap();
    let far_grid = areas::create(db, area(&far_community, AreaLevel::Grid, "370602005001001", "一网格")).await.unwrap();

    let home = h.household.id.as_str();
    use Gender::*;
    use ResidenceType::*;
    person(db, home, "张大爷", Male, "1940-03-01", Registered, &["elderly_alone", "veteran"]).await;
    person(db, home, "李阿姨", Female, "1958-07-15", Registered, &["disabled"]).await;
    person(db, home, "张小明", Male, "2015-09-01", Floating, &[]).await;
    person(db, home, "王走了", Female, "1990-01-01", Permanent, &["veteran"]).await;
    let gone = residents::list(
        db,
        &residents::ResidentFilter { q: Some("王走了".into()), ..Default::default() },
        crate::PageRequest::new(Some(1), Some(10)),
    )
    .await
    .unwrap()
    .items
    .remove(0);
    residents::move_out(db, &gone.id, residents::Move::default()).await.unwrap();

    let second = building_in(db, &h.other_grid, "5").await;
    person(db, &second.id, "赵叔", Male, "1970-05-05", Permanent, &["veteran"]).await;
    let neighbour = building_in(db, &next_grid, "1").await;
    person(db, &neighbour.id, "钱婶", Female, "1950-02-02", Registered, &["elderly_alone"]).await;
    let far = building_in(db, &far_grid, "9").await;
    person(db, &far.id, "孙远", Male, "1980-08-08", Registered, &["elderly_alone"]).await;

    let a = item(db, &h.building.id, "environment").await;
    let _b = item(db, &h.building.id, "public_facilities").await;
    // `a` was due to be accepted an hour ago: overdue.
    sql(db, "UPDATE demands SET accept_due = $1 WHERE id = $2", &a, now_millis() - 3_600_000).await;
    let c = item(db, &second.building_id, "environment").await;
    sql(
        db,
        "UPDATE demands SET status = 'rated', rating = 5, closed_at = $1, responded_at = created_at WHERE id = $2",
        &c,
        now_millis(),
    )
    .await;
    item(db, &neighbour.building_id, "property").await;
    item(db, &far.building_id, "environment").await;

    crate::team::add(
        db,
        &h.grid.id,
        &crate::team::NewPost {
            post: Some(TeamPost::Member.code().into()),
            person_name: "刘网格".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    Data { h, next_community, next_street }
}

fn value(figures: &[Figure], key: &str) -> Value {
    find(figures, key).unwrap_or_else(|| panic!("no figure {key}")).value
}

fn n(figures: &[Figure], key: &str) -> i64 {
    match value(figures, key) {
        Value::Count { count } => count,
        other => panic!("{key} is {other:?}"),
    }
}

async fn at(db: &Db, path: &str) -> Vec<Figure> {
    let now = now_millis();
    let q = FigureQuery { path: path.into(), from: now - 30 * 24 * 3600 * 1000, to: now + 1, now };
    figures(db, &q).await.unwrap()
}

#[tokio::test]
async fn figures_equal_counts_by_hand_for_a_grid_a_community_and_a_street() {
    testing::all_at(async |t| {
        let db = &t.db;
        let d = data(db).await;

        let grid = at(db, &d.h.grid.path).await;
        assert_eq!(n(&grid, "registry.residents"), 3, "the one who moved out is not counted");
        assert_eq!(n(&grid, "registry.households"), 1);
        assert_eq!(n(&grid, "registry.buildings"), 1);
        assert_eq!(n(&grid, "registry.residence.registered"), 2);
        assert_eq!(n(&grid, "registry.residence.floating"), 1);
        assert_eq!(n(&grid, "registry.residence.permanent"), 0);
        assert_eq!(n(&grid, "registry.age.0_17"), 1);
        assert_eq!(n(&grid, "registry.age.18_59"), 0);
        assert_eq!(n(&grid, "registry.age.60_79"), 1);
        assert_eq!(n(&grid, "registry.age.80_plus"), 1);
        assert_eq!(n(&grid, "registry.tag.elderly_alone"), 1);
        assert_eq!(n(&grid, "registry.tag.veteran"), 1, "not the one who moved out");
        assert_eq!(n(&grid, "registry.tag.disabled"), 1);
        assert!(find(&grid, "registry.tag.disabled").unwrap().sensitive);
        assert_eq!(n(&grid, "demands.open"), 2);
        assert_eq!(n(&grid, "demands.overdue"), 1);
        assert_eq!(n(&grid, "demands.this_week"), 2);
        assert_eq!(n(&grid, "demands.period"), 2);
        assert_eq!(n(&grid, "demands.category.environment"), 1);
        assert_eq!(n(&grid, "demands.category.public_facilities"), 1);
        assert_eq!(value(&grid, "demands.satisfaction_rate"), Value::Rate { part: 0, whole: 0 });
        assert_eq!(n(&grid, "team.people"), 1);
        assert_eq!(n(&grid, &format!("team.post.{}", TeamPost::Member.code())), 1);

        let community = at(db, &d.h.community.path).await;
        assert_eq!(n(&community, "registry.residents"), 4);
        assert_eq!(n(&community, "registry.buildings"), 2);
        assert_eq!(n(&community, "registry.grids"), 2);
        assert_eq!(n(&community, "registry.age.18_59"), 1);
        assert_eq!(n(&community, "registry.tag.veteran"), 2);
        assert_eq!(n(&community, "demands.open"), 2, "the rated item is closed");
        assert_eq!(n(&community, "demands.period"), 3);
        assert_eq!(n(&community, "demands.category.environment"), 2);
        assert_eq!(value(&community, "demands.satisfaction_rate"), Value::Rate { part: 1, whole: 1 });
        assert_eq!(value(&community, "demands.resolution_rate"), Value::Rate { part: 1, whole: 3 });

        let street = at(db, &d.h.street.path).await;
        assert_eq!(n(&street, "registry.residents"), 5);
        assert_eq!(n(&street, "registry.grids"), 3);
        assert_eq!(n(&street, "registry.tag.elderly_alone"), 2, "not the next street's");
        assert_eq!(n(&street, "registry.residence.registered"), 3);
        assert_eq!(n(&street, "demands.open"), 3);
        assert_eq!(n(&street, "demands.period"), 4);
        assert_eq!(n(&street, "demands.category.property"), 1);
        assert_eq!(n(&street, "team.people"), 1);

        let next = at(db, &d.next_community.path).await;
        assert_eq!(n(&next, "registry.residents"), 1);
        let far = at(db, &d.next_street.path).await;
        assert_eq!(n(&far, "registry.residents"), 1);
        assert_eq!(n(&far, "demands.open"), 1);

        let pyramid = age_pyramid(db, &d.h.street.path, day_of(now_millis())).await.unwrap();
        let men: i64 = pyramid.iter().map(|r| r.male).sum();
        let women: i64 = pyramid.iter().map(|r| r.female).sum();
        assert_eq!((men, women), (3, 2));
        assert_eq!(pyramid[1].male, 1, "张小明 is in his second decade");

        let trends = trends(db, &d.h.street.path, now_millis()).await.unwrap();
        assert_eq!(trends.weeks.len(), 52);
        assert_eq!(trends.months.len(), 12);
        assert_eq!(trends.weeks.last().unwrap().new, 4);
        assert_eq!(trends.months.last().unwrap().new, 4);
        assert_eq!(trends.weeks.last().unwrap().closed, 1);
        let _ = Gender::all();
    })
    .await;
}

/// Visit coverage by hand: the grid has 1-301 (met at the door 10 days ago), 1-401
/// (called 100 days ago: outside the window; nobody at home yesterday: does not
/// count) and 1-501 (vacant, not counted); the grid next door has 2-101, met by
/// phone 5 days ago. Grid: 2 households, 1 not visited (1/2), 1 visited, 1 at the
/// door. Community: 3 households, 1 not visited, 2 visited, 1 at the door.
#[tokio::test]
async fn visit_coverage_equals_counts_by_hand() {
    use wangge_domain::{VisitChannel, VisitOutcome};
    testing::all_at(async |t| {
        let db = &t.db;
        let h = testing::hierarchy(db).await;
        let today = day_of(now_millis());
        let ago = |d: i64| (today - time::Duration::days(d)).to_string();
        let home = |room: &str, occupancy| households::NewHousehold {
            building_id: h.building.id.clone(),
            unit: "1".into(),
            room: room.into(),
            occupancy,
        };
        let b = households::create(db, home("401", Occupancy::Rented)).await.unwrap();
        households::create(db, home("501", Occupancy::Vacant)).await.unwrap();
        let next = building_in(db, &h.other_grid, "2").await;
        let visit = |household: &str, channel, outcome, on: String| crate::visits::NewVisit {
            household_id: household.into(),
            resident_id: None,
            channel,
            outcome,
            visited_on: on,
            purpose: String::new(),
            findings: String::new(),
            paper: false,
        };
        for v in [
            visit(&h.household.id, VisitChannel::Door, VisitOutcome::Met, ago(10)),
            visit(&b.id, VisitChannel::Phone, VisitOutcome::Met, ago(100)),
            visit(&b.id, VisitChannel::Door, VisitOutcome::NotHome, ago(1)),
            visit(&next.id, VisitChannel::Phone, VisitOutcome::Met, ago(5)),
        ] {
            crate::visits::record(db, v, None, "网格员").await.unwrap();
        }
        let grid = at(db, &h.grid.path).await;
        assert_eq!(value(&grid, "visits.not_visited"), Value::Rate { part: 1, whole: 2 });
        assert_eq!(value(&grid, "visits.visited"), Value::Rate { part: 1, whole: 2 });
        assert_eq!(value(&grid, "visits.visited_at_door"), Value::Rate { part: 1, whole: 2 });
        let community = at(db, &h.community.path).await;
        assert_eq!(value(&community, "visits.not_visited"), Value::Rate { part: 1, whole: 3 });
        assert_eq!(value(&community, "visits.visited"), Value::Rate { part: 2, whole: 3 });
        assert_eq!(value(&community, "visits.visited_at_door"), Value::Rate { part: 1, whole: 3 });
        assert_eq!(find(&community, "visits.not_visited").unwrap().section, Section::Visits);
    })
    .await;
}
