//! Import and export against a real database on every backend, with real files.

use wangge_domain::{BuildingKind, IdCardNumber};
use wangge_ledger::columns::HeaderError;
use wangge_ledger::export::export_residents;
use wangge_ledger::import::{ImportError, ImportOptions, ImportReport, import_residents};
use wangge_ledger::table::{ReadError, Table, read_csv_bytes, read_table};
use wangge_store::registry::areas::{self, Area};
use wangge_store::registry::buildings::{self, NewBuilding};
use wangge_store::registry::residents::{self, ResidentFilter};
use wangge_store::registry::tags;
use wangge_store::{Db, PageRequest, testing};

const COMMUNITY: &str = "370602004011";

async fn community(db: &Db) -> Area {
    tags::ensure_standard(db).await.unwrap();
    let grid = testing::hierarchy(db).await.grid;
    // Building 3 comes with the hierarchy.
    for number in ["1", "2"] {
        let new = NewBuilding {
            grid_id: grid.id.clone(),
            number: number.into(),
            address: None,
            kind: BuildingKind::Residential,
            floors: Some(6),
            units: Some(2),
            lat: None,
            lng: None,
        };
        buildings::create(db, new).await.unwrap();
    }
    areas::get_by_code(db, COMMUNITY).await.unwrap()
}

fn id(seq: u16) -> String {
    let birth = time::Date::from_calendar_date(1961, time::Month::May, 9).unwrap();
    IdCardNumber::compose(370602, birth, seq).as_str().to_owned()
}

/// A small ledger with a title row, as communities keep them.
fn ledger_csv(rows: &[[&str; 7]]) -> String {
    let mut csv = String::from("塔山社区居民信息台账,,,,,,\n姓名,身份证号,联系电话,楼栋,单元,房号,人员类别\n");
    for r in rows {
        csv.push_str(&r.join(","));
        csv.push('\n');
    }
    csv
}

fn good_rows() -> Vec<[String; 7]> {
    vec![
        ["王淑兰".into(), id(2), "13805351234".into(), "1号楼".into(), "1".into(), "301".into(), "独居老人".into()],
        ["李建国".into(), id(3), "".into(), "2".into(), "2单元".into(), "502".into(), "退役军人、残疾人".into()],
        ["李小明".into(), id(5), "13905355678".into(), "2".into(), "2".into(), "502".into(), "".into()],
    ]
}

fn as_refs(rows: &[[String; 7]]) -> Vec<[&str; 7]> {
    rows.iter().map(|r| std::array::from_fn(|i| r[i].as_str())).collect()
}

async fn import(db: &Db, table: &Table, dry_run: bool) -> Result<ImportReport, ImportError> {
    let options = ImportOptions { community_code: COMMUNITY.into(), dry_run, ..Default::default() };
    import_residents(db, table, &options, |_| {}).await
}

async fn resident_count(db: &Db, community: &Area) -> i64 {
    let filter = ResidentFilter { under_path: Some(community.path.clone()), ..Default::default() };
    residents::list(db, &filter, PageRequest::default()).await.unwrap().total
}

#[tokio::test]
async fn a_good_csv_imports_and_creates_households() {
    for t in testing::all().await {
        let db = &t.db;
        let c = community(db).await;
        let table = read_csv_bytes(ledger_csv(&as_refs(&good_rows())).as_bytes()).unwrap();
        let report = import(db, &table, false).await.unwrap();
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        assert!(report.committed);
        assert_eq!((report.header_row, report.residents, report.households_created), (2, 3, 2));
        assert_eq!(resident_count(db, &c).await, 3);
        let filter =
            ResidentFilter { under_path: Some(c.path.clone()), q: Some("李建国".into()), ..Default::default() };
        let li = &residents::list(db, &filter, PageRequest::default()).await.unwrap().items[0];
        assert_eq!(
            (li.building_number.as_deref(), li.unit.as_deref(), li.room.as_deref()),
            (Some("2"), Some("2"), Some("502"))
        );
        assert_eq!(li.tags, vec!["disabled", "veteran"]);
    }
}

#[tokio::test]
async fn a_gbk_csv_reads_like_utf8() {
    let csv = ledger_csv(&as_refs(&good_rows()));
    let (gbk, _, had_errors) = encoding_rs::GBK.encode(&csv);
    assert!(!had_errors);
    let table = read_csv_bytes(&gbk).unwrap();
    assert_eq!(table, read_csv_bytes(csv.as_bytes()).unwrap());
}

#[tokio::test]
async fn a_file_in_no_known_encoding_is_refused() {
    let bytes = b"name,\x80\x80\xff\n".to_vec();
    assert!(matches!(read_csv_bytes(&bytes), Err(ReadError::Encoding)));
}

#[tokio::test]
async fn every_bad_row_is_reported_and_nothing_is_written() {
    for t in testing::all().await {
        let db = &t.db;
        let c = community(db).await;
        let mut rows = good_rows();
        let mut bad_checksum = id(7);
        bad_checksum.replace_range(17.., if bad_checksum.ends_with('1') { "2" } else { "1" });
        rows.push(["赵六".into(), bad_checksum, "".into(), "3".into(), "1".into(), "101".into(), "".into()]);
        rows.push(["钱七".into(), "3.70602E+17".into(), "".into(), "3".into(), "1".into(), "102".into(), "".into()]);
        rows.push(["孙八".into(), id(9), "".into(), "99".into(), "1".into(), "101".into(), "".into()]);
        rows.push(["王淑兰".into(), id(2), "".into(), "1".into(), "1".into(), "301".into(), "".into()]);
        rows.push(["周九".into(), id(11), "12345".into(), "3".into(), "1".into(), "103".into(), "不存在的标签".into()]);
        let table = read_csv_bytes(ledger_csv(&as_refs(&rows)).as_bytes()).unwrap();
        let report = import(db, &table, false).await.unwrap();
        assert!(!report.committed);
        // Each error names its row, the column as the file heads it, and a reason
        // that the screens and the command line put into the reader's language.
        let errors: Vec<(usize, &str, &str)> =
            report.errors.iter().map(|e| (e.row, e.column.as_deref().unwrap_or(""), e.reason.key)).collect();
        let expect = [
            (6, "身份证号", "idcard.checksum"),
            (7, "身份证号", "idcard.lost_digits"),
            (8, "楼栋", "import.row.no_building"),
            (9, "身份证号", "import.row.duplicate_in_file"),
            (10, "联系电话", "phone.invalid"),
            (10, "人员类别", "import.row.unknown_tag"),
        ];
        for want in expect {
            assert!(errors.contains(&want), "expected {want:?} in {errors:#?}");
        }
        assert_eq!(errors.len(), expect.len(), "{errors:#?}");
        let duplicate = report.errors.iter().find(|e| e.row == 9).unwrap();
        assert_eq!(duplicate.reason.text("first"), Some("3"));
        let whole = duplicate.message();
        assert_eq!(
            (whole.key, whole.text("row"), whole.text("column")),
            ("import.row.in_cell", Some("9"), Some("身份证号"))
        );
        assert_eq!(resident_count(db, &c).await, 0, "all or nothing");
    }
}

#[tokio::test]
async fn duplicates_with_the_database_and_dry_runs() {
    for t in testing::all().await {
        let db = &t.db;
        let c = community(db).await;
        let table = read_csv_bytes(ledger_csv(&as_refs(&good_rows())).as_bytes()).unwrap();
        let dry = import(db, &table, true).await.unwrap();
        assert!(!dry.committed && dry.errors.is_empty());
        assert_eq!(dry.residents, 3);
        assert_eq!(resident_count(db, &c).await, 0, "a dry run writes nothing");
        import(db, &table, false).await.unwrap();
        let again = import(db, &table, false).await.unwrap();
        assert_eq!(again.errors.len(), 3);
        assert!(again.errors.iter().all(|e| e.reason.key == "import.row.registered"), "{:?}", again.errors);
        assert_eq!(again.errors[0].row, 3);
        assert_eq!(resident_count(db, &c).await, 3);
    }
}

#[tokio::test]
async fn a_missing_column_is_named() {
    for t in testing::all().await {
        let db = &t.db;
        community(db).await;
        let table = read_csv_bytes("姓名,联系电话,楼栋\n王五,13800000000,1\n".as_bytes()).unwrap();
        match import(db, &table, false).await {
            Err(ImportError::Header(HeaderError::MissingColumns(missing))) => assert_eq!(missing.len(), 2),
            other => panic!("expected missing columns, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn unknown_buildings_are_created_when_the_grid_is_given() {
    for t in testing::all().await {
        let db = &t.db;
        let c = community(db).await;
        let csv = format!("姓名,身份证号,楼栋,房号,网格\n新住户,{},平房7,1,370602004011001\n", id(21));
        let report = import(db, &read_csv_bytes(csv.as_bytes()).unwrap(), false).await.unwrap();
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        assert_eq!(report.buildings_created, 1);
        assert_eq!(resident_count(db, &c).await, 1);
    }
}

#[tokio::test]
async fn export_then_import_round_trips() {
    for t in testing::all().await {
        let db = &t.db;
        let c = community(db).await;
        let table = read_csv_bytes(ledger_csv(&as_refs(&good_rows())).as_bytes()).unwrap();
        import(db, &table, false).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("ledger.xlsx");
        assert_eq!(export_residents(db, COMMUNITY, &file).await.unwrap(), 3);

        let fresh = testing::sqlite().await;
        let c2 = community(&fresh.db).await;
        let report = import(&fresh.db, &read_table(&file).unwrap(), false).await.unwrap();
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        let snapshot = |db: &Db, c: &Area| {
            let filter = ResidentFilter { under_path: Some(c.path.clone()), ..Default::default() };
            let db = db.clone();
            async move {
                // In full, so the round trip is checked digit by digit, not mask by mask.
                let mut all: Vec<String> = residents::all_for_export(&db, &filter)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|r| {
                        format!(
                            "{} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?}",
                            r.name,
                            r.id_card,
                            r.phone,
                            r.building_number,
                            r.unit,
                            r.room,
                            r.tags,
                            r.relation,
                            r.political_status
                        )
                    })
                    .collect();
                all.sort();
                all
            }
        };
        assert_eq!(snapshot(db, &c).await, snapshot(&fresh.db, &c2).await);
    }
}

/// A first ledger of 10,000 people or more loads into a registry without the
/// residents' indexes and without the roll-ups' triggers (migration 0062), which are
/// counted once at the end: afterwards every summary agrees with the rows and the
/// triggers keep them again (a correction made after the import stays counted).
#[tokio::test]
async fn a_first_large_ledger_counts_the_roll_ups_once_and_keeps_them_after() {
    for t in testing::all().await {
        let db = &t.db;
        community(db).await;
        let base = time::Date::from_calendar_date(1940, time::Month::January, 1).unwrap();
        let rows: Vec<[String; 7]> = (0..10_000u32)
            .map(|i| {
                let born = base + time::Duration::days(i64::from(i / 900) * 37);
                let number = IdCardNumber::compose(370602, born, (i % 900 + 1) as u16).as_str().to_owned();
                let tag = if i % 7 == 0 { "独居老人" } else { "" };
                let room = format!("{}", 101 + i % 40);
                [format!("居民{i}"), number, String::new(), "1".into(), "1".into(), room, tag.into()]
            })
            .collect();
        let table = read_csv_bytes(ledger_csv(&as_refs(&rows)).as_bytes()).unwrap();
        let report = import(db, &table, false).await.unwrap();
        assert!(report.errors.is_empty(), "{:?}", &report.errors[..report.errors.len().min(3)]);
        assert_eq!(report.residents, 10_000);
        let everyone: i64 = sqlx::query_scalar("SELECT CAST(SUM(n) AS BIGINT) FROM resident_births WHERE path = '/'")
            .fetch_one(&db.pool)
            .await
            .unwrap();
        assert_eq!(everyone, 10_000);
        assert_eq!(wangge_store::summaries::verify(db).await.unwrap(), vec![]);
        // The triggers are back: a corrected sex is counted again.
        sqlx::query("UPDATE residents SET gender = CASE WHEN gender = 'male' THEN 'female' ELSE 'male' END WHERE name = '居民17'")
            .execute(&db.pool)
            .await
            .unwrap();
        assert_eq!(wangge_store::summaries::verify(db).await.unwrap(), vec![]);
    }
}
