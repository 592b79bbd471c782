//! Helpers the tests of other crates use to set notices' scenes up.

use wangge_domain::{BuildingKind, Occupancy};

use crate::Db;
use crate::registry::{buildings, households};

/// A household in a new building `number` of `grid_id`.
pub async fn household_in(db: &Db, grid_id: &str, number: &str) -> households::Household {
    let b = buildings::NewBuilding {
        grid_id: grid_id.into(),
        number: number.into(),
        address: None,
        kind: BuildingKind::Residential,
        floors: Some(6),
        units: Some(2),
        lat: None,
        lng: None,
    };
    let b = buildings::create(db, b).await.expect("building");
    let h = households::NewHousehold {
        building_id: b.id,
        unit: "1".into(),
        room: "101".into(),
        occupancy: Occupancy::OwnerOccupied,
    };
    households::create(db, h).await.expect("household")
}
