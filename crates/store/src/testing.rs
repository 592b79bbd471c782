//! Fresh databases for tests, on every backend this machine offers.
//!
//! SQLite always runs (a file in a temporary directory). PostgreSQL runs when
//! `WANGGE_TEST_POSTGRES` holds the URL of a server where the test may create
//! databases (`.ci/run` starts one and sets it); each call creates a database of its
//! own with a random name, so tests run in parallel without seeing each other. Under
//! CI (`CI=true`) a missing PostgreSQL is an error, not a skip.
//!
//! Every test database gets an ephemeral key for its protected fields; a test that
//! opens the same database again passes `KeySource::Vault(db.vault.clone())`.

use crate::{Backend, Db, DbOptions, KeySource};

pub struct TestDb {
    pub db: Db,
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    pub fn backend(&self) -> Backend {
        self.db.backend
    }
}

/// A migrated, empty SQLite database in its own temporary directory.
pub async fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite:{}", dir.path().join("test.db").display());
    let db = Db::connect(&url, ephemeral()).await.expect("open SQLite");
    db.migrate().await.expect("migrate SQLite");
    TestDb { db, url, _dir: Some(dir) }
}

/// A migrated, empty PostgreSQL database, or `None` (with a note on stderr) when no
/// server is configured outside CI.
pub async fn postgres() -> Option<TestDb> {
    let Ok(admin_url) = std::env::var("WANGGE_TEST_POSTGRES") else {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("CI=true but WANGGE_TEST_POSTGRES is not set: the PostgreSQL half of the suite must run in CI");
        }
        eprintln!(
            "note: PostgreSQL tests skipped: set WANGGE_TEST_POSTGRES=postgres://USER@HOST:PORT/postgres to run them"
        );
        return None;
    };
    let name = format!("wangge_test_{}", uuid::Uuid::now_v7().simple());
    let url = crate::create_postgres_database(&admin_url, &name).await.expect("create test database");
    let db = Db::connect(&url, ephemeral()).await.expect("open test database");
    db.migrate().await.expect("migrate PostgreSQL");
    Some(TestDb { db, url, _dir: None })
}

fn ephemeral() -> DbOptions {
    DbOptions { key: KeySource::Ephemeral, ..DbOptions::default() }
}

/// Every backend available: SQLite first, then PostgreSQL when configured.
pub async fn all() -> Vec<TestDb> {
    let mut dbs = vec![sqlite().await];
    dbs.extend(postgres().await);
    dbs
}

#[cfg(test)]
mod tests {
    #[test]
    fn database_name_is_replaced() {
        use crate::with_database;
        assert_eq!(with_database("postgres://u@h:5/postgres", "x"), "postgres://u@h:5/x");
        assert_eq!(
            with_database("postgres://u@h:5/postgres?sslmode=disable", "x"),
            "postgres://u@h:5/x?sslmode=disable"
        );
        assert_eq!(with_database("postgres://u@h:5", "x"), "postgres://u@h:5/x");
    }
}

/// The hierarchy most tests stand on, shaped like Tashan: 烟台市 › 芝罘区 › 岐山街道 ›
/// 塔山社区 with two grids, and building 3 of the first grid with household 1-301.
/// One fixture for every crate's tests, so that a change of the registry's rules is
/// made in one place.
#[derive(Clone, Debug)]
pub struct Hierarchy {
    pub city: crate::registry::areas::Area,
    pub district: crate::registry::areas::Area,
    pub street: crate::registry::areas::Area,
    pub community: crate::registry::areas::Area,
    /// 第一网格, holding `building`.
    pub grid: crate::registry::areas::Area,
    /// 第二网格, empty: the grid next door, for scope tests.
    pub other_grid: crate::registry::areas::Area,
    pub building: crate::registry::buildings::Building,
    pub household: crate::registry::households::Household,
}

/// Codes of [`Hierarchy`]'s areas.
pub const CITY: &str = "370600000000";
pub const DISTRICT: &str = "370602000000";
pub const STREET: &str = "370602004000";
pub const COMMUNITY: &str = "370602004011";
pub const GRID: &str = "370602004011001";
pub const OTHER_GRID: &str = "370602004011002";

/// Creates [`Hierarchy`] in `db`.
pub async fn hierarchy(db: &Db) -> Hierarchy {
    use crate::registry::areas::{self, NewArea};
    use wangge_domain::{AreaLevel, BuildingKind, Occupancy};
    let area = |parent: Option<&crate::registry::areas::Area>, level, code: &str, name: &str| NewArea {
        parent_id: parent.map(|p| p.id.clone()),
        level,
        code: code.into(),
        name: name.into(),
        boundary: None,
    };
    let city = areas::create(db, area(None, AreaLevel::City, CITY, "烟台市")).await.expect("city");
    let district =
        areas::create(db, area(Some(&city), AreaLevel::District, DISTRICT, "芝罘区")).await.expect("district");
    let street = areas::create(db, area(Some(&district), AreaLevel::Street, STREET, "岐山街道")).await.expect("street");
    let community =
        areas::create(db, area(Some(&street), AreaLevel::Community, COMMUNITY, "塔山社区")).await.expect("community");
    let grid = areas::create(db, area(Some(&community), AreaLevel::Grid, GRID, "第一网格")).await.expect("grid");
    let other_grid =
        areas::create(db, area(Some(&community), AreaLevel::Grid, OTHER_GRID, "第二网格")).await.expect("grid 2");
    let building = crate::registry::buildings::create(
        db,
        crate::registry::buildings::NewBuilding {
            grid_id: grid.id.clone(),
            number: "3".into(),
            address: None,
            kind: BuildingKind::Residential,
            floors: Some(6),
            units: Some(2),
            lat: None,
            lng: None,
        },
    )
    .await
    .expect("building");
    let household = crate::registry::households::create(
        db,
        crate::registry::households::NewHousehold {
            building_id: building.id.clone(),
            unit: "1".into(),
            room: "301".into(),
            occupancy: Occupancy::OwnerOccupied,
        },
    )
    .await
    .expect("household");
    Hierarchy { city, district, street, community, grid, other_grid, building, household }
}

/// Runs `test` on a fresh SQLite database and, when one is configured, a fresh
/// PostgreSQL database: the same assertions on both engines. The databases live
/// until `test` has finished (a closure capturing only `t.db` would otherwise drop
/// the SQLite file's directory under it).
pub async fn all_at(test: impl AsyncFn(&TestDb)) {
    let lite = sqlite().await;
    test(&lite).await;
    if let Some(pg) = postgres().await {
        test(&pg).await;
    }
}
