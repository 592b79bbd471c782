//! The registry on every backend: hierarchy, ledgers, moves and history, search.

use wangge_domain::{AreaLevel, BuildingKind, IdCardNumber, Occupancy, Relation, ResidentStatus, Vocabulary};
use wangge_store::registry::areas::{self, Area, NewArea};
use wangge_store::registry::buildings::{self, NewBuilding};
use wangge_store::registry::households::{self, NewHousehold};
use wangge_store::registry::residents::{self, Move, NewResident, ResidentFilter, ResidentUpdate};
use wangge_store::registry::tags;
use wangge_store::{Db, PageRequest, StoreError, testing};

struct Place {
    street: Area,
    community: Area,
    grid: Area,
    other_grid: Area,
    /// 3号楼 1-301.
    household: String,
}

async fn hierarchy(db: &Db) -> Place {
    let h = testing::hierarchy(db).await;
    Place {
        street: h.street,
        community: h.community,
        grid: h.grid,
        other_grid: h.other_grid,
        household: h.household.id,
    }
}

async fn household(db: &Db, grid: &Area, number: &str, room: &str) -> String {
    let building = match buildings::create(
        db,
        NewBuilding {
            grid_id: grid.id.clone(),
            number: number.into(),
            address: None,
            kind: BuildingKind::Residential,
            floors: Some(6),
            units: Some(2),
            lat: None,
            lng: None,
        },
    )
    .await
    {
        Ok(b) => b,
        Err(StoreError::Conflict(_)) => {
            let all = buildings::of_community(db, grid.parent_id.as_ref().unwrap()).await.unwrap();
            all.into_iter().find(|b| b.number == number).unwrap()
        }
        Err(e) => panic!("{e}"),
    };
    let new = NewHousehold {
        building_id: building.id,
        unit: "1".into(),
        room: room.into(),
        occupancy: Occupancy::OwnerOccupied,
    };
    households::create(db, new).await.unwrap().id
}

fn id_card(seq: u16) -> String {
    let birth = time::Date::from_calendar_date(1958, time::Month::March, 7).unwrap();
    IdCardNumber::compose(370602, birth, seq).as_str().to_owned()
}

fn person(household_id: &str, name: &str, seq: u16, phone: &str) -> NewResident {
    NewResident {
        household_id: household_id.into(),
        name: name.into(),
        id_card: Some(id_card(seq)),
        phone: Some(phone.into()),
        relation: Some(Relation::Head),
        tags: vec!["独居老人".into()],
        ..Default::default()
    }
}

#[tokio::test]
async fn hierarchy_paths_nest_and_codes_are_checked() {
    for t in testing::all().await {
        let db = &t.db;
        let place = hierarchy(db).await;
        assert_eq!(
            place.grid.path,
            "/370600000000/370602000000/370602004000/370602004011/370602004011001/",
            "{:?}",
            t.backend()
        );
        let bad = NewArea {
            parent_id: Some(place.street.id.clone()),
            level: AreaLevel::Community,
            code: "370603001001".into(),
            name: "别处".into(),
            boundary: None,
        };
        let err = areas::create(db, bad).await.unwrap_err();
        assert_eq!(err.message().map(|m| m.key), Some("areacode.not_under_parent"), "{err}");
        let under = areas::AreaFilter { under_path: Some(place.street.path.clone()), ..Default::default() };
        let page = areas::list(db, &under, PageRequest::default()).await.unwrap();
        assert_eq!(page.total, 4, "street, community, two grids");
    }
}

#[tokio::test]
async fn residents_are_created_searched_and_moved_with_history() {
    for t in testing::all().await {
        let db = &t.db;
        tags::ensure_standard(db).await.unwrap();
        let place = hierarchy(db).await;
        let home = place.household.clone();
        let other = household(db, &place.grid, "5", "102").await;
        let r = residents::create(db, person(&home, "王淑兰", 2, "13805355678")).await.unwrap();
        assert_eq!(r.birth_date, "1958-03-07", "birth date read from the ID card");
        assert_eq!(r.gender, wangge_domain::Gender::Female);
        assert_eq!(r.tags, vec!["elderly_alone".to_string()]);
        residents::create(db, person(&other, "李建国", 3, "13905351111")).await.unwrap();

        let dup = residents::create(db, person(&other, "王淑兰", 2, "13800000000")).await.unwrap_err();
        assert!(matches!(dup, StoreError::Conflict(_)), "duplicate ID card: {dup}");

        let in_community = |q: &str| ResidentFilter {
            under_path: Some(place.community.path.clone()),
            q: Some(q.into()),
            ..Default::default()
        };
        let found = |q: &'static str| {
            let f = in_community(q);
            async move {
                residents::list(db, &f, PageRequest::default())
                    .await
                    .unwrap()
                    .items
                    .into_iter()
                    .map(|r| r.name)
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(found("淑兰").await, vec!["王淑兰"]);
        assert_eq!(found("5678").await, vec!["王淑兰"], "phone suffix");
        assert_eq!(found("55678").await, vec!["王淑兰"], "longer phone suffix");
        let last4 = &id_card(3)[14..];
        assert_eq!(found(Box::leak(last4.to_owned().into_boxed_str())).await, vec!["李建国"], "ID suffix");
        assert_eq!(found(Box::leak(id_card(2).into_boxed_str())).await, vec!["王淑兰"], "whole ID");

        let updated =
            residents::update(db, &r.id, ResidentUpdate { notes: Some("腿脚不便".into()), ..Default::default() })
                .await
                .unwrap();
        assert_eq!(updated.notes, "腿脚不便");
        let wrong_birth = ResidentUpdate { birth_date: Some("1960-01-01".into()), ..Default::default() };
        let err = residents::update(db, &r.id, wrong_birth).await.unwrap_err();
        assert_eq!(err.message().map(|m| m.key), Some("registry.error.birth_vs_id"), "{err}");

        let moved = residents::move_house(db, &r.id, Move { household_id: Some(other.clone()), ..Default::default() })
            .await
            .unwrap();
        assert_eq!(moved.household_id.as_deref(), Some(other.as_str()));
        let gone =
            residents::move_out(db, &r.id, Move { note: "迁往济南".into(), ..Default::default() }).await.unwrap();
        assert_eq!(gone.status, ResidentStatus::MovedOut);
        assert_eq!(gone.household_id, None);
        assert!(residents::move_out(db, &r.id, Move::default()).await.is_err(), "cannot move out twice");

        let still_there = residents::get(db, &r.id).await.unwrap();
        assert_eq!(still_there.name, "王淑兰", "moving out never deletes");
        let kinds: Vec<&str> =
            residents::history(db, &r.id).await.unwrap().into_iter().map(|e| e.kind.code()).collect();
        assert_eq!(kinds, vec!["registered", "updated", "moved_house", "moved_out"]);
        let history = residents::history(db, &r.id).await.unwrap();
        assert_eq!(history[3].note, "迁往济南");
        assert_eq!(history[3].from_household_id.as_deref(), Some(other.as_str()));

        let active = ResidentFilter {
            under_path: Some(place.community.path.clone()),
            status: Some(ResidentStatus::Active),
            ..Default::default()
        };
        assert_eq!(residents::list(db, &active, PageRequest::default()).await.unwrap().total, 1);
        let back =
            residents::move_in(db, &r.id, Move { household_id: Some(home), ..Default::default() }).await.unwrap();
        assert_eq!(back.status, ResidentStatus::Active);
    }
}

#[tokio::test]
async fn a_subtree_filter_sees_nothing_outside_it() {
    for t in testing::all().await {
        let db = &t.db;
        tags::ensure_standard(db).await.unwrap();
        let place = hierarchy(db).await;
        let grid2 = place.other_grid.clone();
        let h1 = household(db, &place.grid, "1", "101").await;
        let h2 = household(db, &grid2, "2", "101").await;
        residents::create(db, person(&h1, "甲", 5, "13800000001")).await.unwrap();
        residents::create(db, person(&h2, "乙", 7, "13800000002")).await.unwrap();
        let in_grid = |g: &Area| ResidentFilter { under_path: Some(g.path.clone()), ..Default::default() };
        let names = residents::list(db, &in_grid(&grid2), PageRequest::default()).await.unwrap().items;
        assert_eq!(names.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(), vec!["乙"]);
        let all = residents::list(db, &in_grid(&place.community), PageRequest::default()).await.unwrap();
        assert_eq!(all.total, 2);
        let counts = wangge_store::stats::counts_under(db, &place.community.path).await.unwrap();
        // Building 3 with its empty household 1-301 comes with the hierarchy.
        assert_eq!((counts.grids, counts.buildings, counts.households, counts.residents), (2, 3, 3, 2));
    }
}
