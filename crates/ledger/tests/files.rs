//! Ledgers as communities really keep them, in files written by other programs
//! (`fixtures/make.py`: openpyxl, xlwt, msoffcrypto-tool): old `.xls` workbooks, bad
//! files, the ledger's own words for relations, buildings that are not what the
//! ledger says, and next month's ledger sent again. On every backend.

use std::path::PathBuf;

use sqlx::Row;
use wangge_domain::{BuildingKind, Explain, Relation, Vocabulary};
use wangge_ledger::export::export_residents;
use wangge_ledger::import::{ImportError, ImportOptions, ImportReport, import_residents};
use wangge_ledger::table::{ReadError, Table, read_table};
use wangge_store::registry::areas::{self, Area};
use wangge_store::registry::buildings::{self, NewBuilding};
use wangge_store::registry::residents::{self, Resident, ResidentFilter};
use wangge_store::registry::tags;
use wangge_store::{Db, testing};

const COMMUNITY: &str = "370602004011";

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

/// The registry the fixtures are written against: the shared hierarchy (building 3)
/// with residential buildings 1 and 2 of six floors and shop 9 of two.
async fn community(db: &Db) -> Area {
    tags::ensure_standard(db).await.unwrap();
    let grid = testing::hierarchy(db).await.grid;
    for (number, kind, floors) in
        [("1", BuildingKind::Residential, 6), ("2", BuildingKind::Residential, 6), ("9", BuildingKind::Shop, 2)]
    {
        let new = NewBuilding {
            grid_id: grid.id.clone(),
            number: number.into(),
            address: (kind == BuildingKind::Shop).then(|| format!("塔山路{number}号商铺")),
            kind,
            floors: Some(floors),
            units: None,
            lat: None,
            lng: None,
        };
        buildings::create(db, new).await.unwrap();
    }
    areas::get_by_code(db, COMMUNITY).await.unwrap()
}

async fn import(db: &Db, table: &Table, dry_run: bool, update: bool) -> Result<ImportReport, ImportError> {
    let options = ImportOptions { community_code: COMMUNITY.into(), dry_run, update, ..Default::default() };
    import_residents(db, table, &options, |_| {}).await
}

async fn people(db: &Db, c: &Area) -> Vec<Resident> {
    let filter = ResidentFilter { under_path: Some(c.path.clone()), ..Default::default() };
    residents::all_for_export(db, &filter).await.unwrap()
}

fn by_name<'a>(all: &'a [Resident], name: &str) -> &'a Resident {
    all.iter().find(|r| r.name == name).unwrap_or_else(|| panic!("{name} not found"))
}

#[test]
fn an_old_xls_reads_like_the_same_xlsx() {
    let xls = read_table(&fixture("ledger.xls")).unwrap();
    let xlsx = read_table(&fixture("ledger.xlsx")).unwrap();
    assert_eq!(xls, xlsx);
    // The title, the date line and the header keep their Excel row numbers; the
    // building merged over its household counts for each row.
    assert_eq!(xls.rows[1].cell(1), "2026-11-01");
    assert_eq!(xls.rows[2].cell(5), "身份证号");
    assert_eq!((xls.rows[4].number, xls.rows[4].cell(0), xls.rows[4].cell(2)), (5, "1号楼", "301"));
}

#[tokio::test]
async fn an_xls_ledger_imports_and_keeps_its_relation_terms() {
    for t in testing::all().await {
        let db = &t.db;
        let c = community(db).await;
        let report = import(db, &read_table(&fixture("ledger.xls")).unwrap(), false, false).await.unwrap();
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        assert_eq!((report.header_row, report.residents, report.households_created), (3, 8, 3));
        let all = people(db, &c).await;
        for (name, relation, term) in [
            ("王建国", Relation::Head, None),
            ("李秀英", Relation::Spouse, Some("妻")),
            ("王磊", Relation::Child, Some("子")),
            ("张丽", Relation::ChildInLaw, Some("儿媳")),
            ("王小雨", Relation::Grandchild, Some("孙女")),
            ("孙悦", Relation::Child, Some("女")),
        ] {
            let r = by_name(&all, name);
            assert_eq!((r.relation, r.relation_term.as_deref()), (relation, term), "{name}");
        }

        // Written back on export, and the export imports again unchanged.
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("export.xlsx");
        export_residents(db, COMMUNITY, &file).await.unwrap();
        let exported = read_table(&file).unwrap();
        let relations: Vec<&str> = exported.rows[2..].iter().map(|r| r.cell(8)).collect();
        assert_eq!(exported.rows[1].cell(8), "与户主关系");
        for term in ["户主", "妻", "子", "儿媳", "孙女", "女"] {
            assert!(relations.contains(&term), "{term} in {relations:?}");
        }
        let fresh = testing::sqlite().await;
        let c2 = community(&fresh.db).await;
        let again = import(&fresh.db, &exported, false, false).await.unwrap();
        assert!(again.errors.is_empty(), "{:?}", again.errors);
        let terms = |all: Vec<Resident>| {
            let mut v: Vec<_> = all.into_iter().map(|r| (r.name, r.relation.code(), r.relation_term)).collect();
            v.sort();
            v
        };
        assert_eq!(terms(people(db, &c).await), terms(people(&fresh.db, &c2).await));
    }
}

#[tokio::test]
async fn bad_files_are_explained_and_nothing_is_written() {
    let read = |name: &str| read_table(&fixture(name)).unwrap_err();
    let cases = [
        ("empty.xlsx", "import.file.empty"),
        ("renamed_text.xlsx", "import.file.not_workbook"),
        ("password.xlsx", "import.file.password"),
        ("utf16_no_bom.csv", "import.file.encoding"),
    ];
    for (name, key) in cases {
        let err = read(name);
        assert_eq!(err.message().key, key, "{name}: {err:?}");
    }
    assert!(matches!(read("renamed_text.xlsx"), ReadError::NotAWorkbook(ext) if ext == ".xlsx"));

    for t in testing::all().await {
        let db = &t.db;
        let c = community(db).await;
        let table = read_table(&fixture("header_only.xlsx")).unwrap();
        let err = import(db, &table, false, false).await.unwrap_err();
        assert!(matches!(err, ImportError::NoRows { header_row: 3 }), "{err:?}");
        assert_eq!((err.message().key, err.message().text("row")), ("import.no_rows", Some("3")));
        assert!(people(db, &c).await.is_empty());
    }
}

#[tokio::test]
async fn a_building_of_another_kind_or_too_low_is_a_row_error() {
    for t in testing::all().await {
        let db = &t.db;
        let c = community(db).await;
        let report = import(db, &read_table(&fixture("buildings.xlsx")).unwrap(), false, false).await.unwrap();
        assert!(!report.committed);
        let errors: Vec<(usize, &str, &str)> =
            report.errors.iter().map(|e| (e.row, e.column.as_deref().unwrap_or(""), e.reason.key)).collect();
        assert_eq!(errors, [(4, "楼栋", "import.row.building_kind"), (5, "房号", "import.row.above_floors")]);
        // The candidate is named with its kind, floors and address.
        let kind = &report.errors[0].reason;
        assert!(format!("{kind}").contains("9 (Shop, 2 floors, 塔山路9号商铺)"), "{kind}");
        let floors = &report.errors[1].reason;
        assert_eq!((floors.text("floor"), floors.text("floors")), (Some("6"), Some("2")));
        assert!(people(db, &c).await.is_empty(), "nothing written");
    }
}

#[tokio::test]
async fn next_months_ledger_updates_the_registry() {
    for t in testing::all().await {
        let db = &t.db;
        let c = community(db).await;
        import(db, &read_table(&fixture("ledger.xlsx")).unwrap(), false, false).await.unwrap();
        let next = read_table(&fixture("ledger_next_month.xlsx")).unwrap();

        // Without --update, the registered are refused, as before.
        let refused = import(db, &next, true, false).await.unwrap();
        assert_eq!(refused.errors.len(), 7, "{:?}", refused.errors);

        let dry = import(db, &next, true, true).await.unwrap();
        assert!(dry.errors.is_empty(), "{:?}", dry.errors);
        assert!(!dry.committed);
        assert_eq!((dry.residents, dry.changed.len(), dry.unchanged, dry.missing.len()), (2, 3, 4, 1));
        let changes: Vec<(&str, &str, &str, &str)> = dry
            .changed
            .iter()
            .flat_map(|c| {
                c.changes.iter().map(move |f| (c.name.as_str(), f.field.key(), f.before.as_str(), f.after.as_str()))
            })
            .collect();
        assert_eq!(
            changes,
            [
                ("王磊", "phone", "139****6789", "139****0000"),
                ("赵淑芬", "tags", "独居老人", "残疾人、独居老人"),
                ("孙立", "room", "2-2-602", "2-2-601"),
            ]
        );
        assert_eq!(dry.missing[0].name, "王小雨");
        assert_eq!(people(db, &c).await.len(), 8, "a dry run writes nothing");

        let done = import(db, &next, false, true).await.unwrap();
        assert!(done.committed);
        let all = people(db, &c).await;
        assert_eq!(all.len(), 10, "two new, nobody deleted");
        assert_eq!(by_name(&all, "王磊").phone.as_deref(), Some("13905350000"));
        assert_eq!(by_name(&all, "孙立").room.as_deref(), Some("601"));
        assert_eq!(by_name(&all, "赵淑芬").tags, ["残疾人", "独居老人"]);
        assert_eq!(by_name(&all, "王小雨").status, wangge_domain::ResidentStatus::Active);

        // One audit entry per changed person, with before and after.
        let rows =
            sqlx::query("SELECT before, after FROM audit_log WHERE action = 'import.update_resident' ORDER BY after")
                .fetch_all(&db.pool)
                .await
                .unwrap();
        assert_eq!(rows.len(), 3);
        let pairs: Vec<(String, String)> =
            rows.iter().map(|r| (r.get::<String, _>("before"), r.get::<String, _>("after"))).collect();
        assert!(pairs.contains(&(r#"{"room":"2-2-602"}"#.to_owned(), r#"{"room":"2-2-601"}"#.to_owned())), "{pairs:?}");
        // The move is in 孙立's history.
        let history = residents::history(db, &by_name(&all, "孙立").id).await.unwrap();
        assert!(history.iter().any(|e| e.kind == wangge_domain::ResidentEventKind::MovedHouse), "{history:?}");

        // The same ledger again changes nothing.
        let same = import(db, &next, true, true).await.unwrap();
        assert_eq!((same.residents, same.changed.len(), same.unchanged), (0, 0, 9));
    }
}
