//! Importing a grid team roster as a community keeps it in Excel: a title above the
//! header, the 网格 and 岗位 cells merged over their people, numbers where text
//! belongs. A file with bad rows is refused with each row and column and writes
//! nothing; the corrected file writes the roster, phones sealed; sending it again
//! adds nobody twice. On every backend.

use rust_xlsxwriter::{Format, Workbook};
use wangge_domain::TeamPost;
use wangge_ledger::roster::{RosterError, import_roster};
use wangge_ledger::table::read_table_bytes;
use wangge_store::registry::areas;
use wangge_store::team::{self, Phones};
use wangge_store::testing;

/// The roster of the community's two grids. With `bad`: row 5 has a phone one digit
/// short, row 7 a building the grid does not have, row 9 a post nobody knows.
fn roster_xlsx(bad: bool) -> Vec<u8> {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    let plain = Format::new();
    sheet.merge_range(0, 0, 0, 6, "塔山社区网格队伍花名册（1+X+N）", &Format::new().set_bold()).unwrap();
    sheet.write_string(1, 0, "填报日期：2026年3月1日").unwrap();
    for (c, h) in ["网格", "岗位", "姓名", "联系电话", "值班电话", "同意公示", "负责楼栋"].iter().enumerate()
    {
        sheet.write_string(2, c as u16, *h).unwrap();
    }
    // Rows 4–7: 第一网格 (merged); rows 8–9: 第二网格.
    sheet.merge_range(3, 0, 6, 0, "第一网格", &plain).unwrap();
    sheet.write_string(3, 1, "网格长").unwrap();
    sheet.write_string(3, 2, "李建国").unwrap();
    sheet.write_number(3, 3, 13805350001.0).unwrap();
    sheet.write_string(3, 4, "0535-6221234").unwrap();
    sheet.write_string(3, 5, "是").unwrap();
    // Rows 5–6: two grid members under one merged 岗位.
    sheet.merge_range(4, 1, 5, 1, "专职网格员", &plain).unwrap();
    sheet.write_string(4, 2, "王海燕").unwrap();
    sheet.write_string(4, 3, if bad { "1380535002" } else { "13805350002" }).unwrap();
    sheet.write_string(4, 6, "3号楼").unwrap();
    sheet.write_string(5, 2, "赵志强").unwrap();
    sheet.write_string(5, 3, "13805350003").unwrap();
    sheet.write_string(6, 1, "楼长").unwrap();
    sheet.write_string(6, 2, "孙桂兰").unwrap();
    sheet.write_string(6, 6, if bad { "3号楼、8号楼" } else { "3号楼" }).unwrap();
    sheet.merge_range(7, 0, 8, 0, "第二网格", &plain).unwrap();
    sheet.write_string(7, 1, "网格员").unwrap();
    sheet.write_string(7, 2, "周敏").unwrap();
    sheet.write_string(7, 3, "13805350004").unwrap();
    sheet.write_string(8, 1, if bad { "保安队长" } else { "志愿者" }).unwrap();
    sheet.write_string(8, 2, "吴晓").unwrap();
    // A note under the table is not a person.
    sheet.write_string(10, 0, "制表人：社区办公室").unwrap();
    workbook.save_to_buffer().unwrap()
}

#[tokio::test]
async fn a_roster_with_bad_rows_writes_nothing_and_a_good_one_writes_the_team() {
    testing::all_at(async |t| {
        let db = &t.db;
        let h = testing::hierarchy(db).await;
        let community = areas::get(db, &h.community.id).await.unwrap();

        let table = read_table_bytes("花名册.xlsx", &roster_xlsx(true)).unwrap();
        let report = import_roster(db, &table, &community).await.unwrap();
        let found: Vec<(usize, Option<&str>, &str)> =
            report.errors.iter().map(|e| (e.row, e.column.as_deref(), e.reason.key)).collect();
        assert_eq!(
            found,
            [
                (5, Some("联系电话"), "phone.invalid"),
                (7, Some("负责楼栋"), "roster.error.building_unknown"),
                (9, Some("岗位"), "vocab.unknown"),
            ],
            "{:?}",
            report.errors.iter().map(ToString::to_string).collect::<Vec<_>>()
        );
        assert!(report.added.is_empty());
        for grid in [&h.grid, &h.other_grid] {
            assert!(team::roster(db, &grid.id, Phones::Full, true).await.unwrap().is_empty(), "nothing written");
        }

        let table = read_table_bytes("花名册.xlsx", &roster_xlsx(false)).unwrap();
        let report = import_roster(db, &table, &community).await.unwrap();
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        assert_eq!((report.header_row, report.rows_read, report.added.len(), report.already), (3, 6, 6, 0));
        let first = team::roster(db, &h.grid.id, Phones::Full, false).await.unwrap();
        let who: Vec<(TeamPost, &str)> =
            first.iter().map(|p| (p.post, p.person_name.as_deref().unwrap_or_default())).collect();
        assert_eq!(
            who,
            [
                (TeamPost::Leader, "李建国"),
                (TeamPost::Member, "王海燕"),
                (TeamPost::Member, "赵志强"),
                (TeamPost::BuildingHead, "孙桂兰"),
            ]
        );
        let leader = &first[0];
        assert_eq!(leader.phone.as_deref(), Some("13805350001"), "the number read from a numeric cell");
        assert_eq!(leader.duty_phone.as_deref(), Some("0535-6221234"));
        assert!(leader.duty_phone_consent_at.is_some(), "consent recorded: 同意公示 是");
        assert_eq!(first[1].building_ids, std::slice::from_ref(&h.building.id), "3号楼 is building 3");
        assert_eq!(first[3].building_ids, std::slice::from_ref(&h.building.id));
        let second = team::roster(db, &h.other_grid.id, Phones::Full, false).await.unwrap();
        assert_eq!(second.iter().map(|p| p.post).collect::<Vec<_>>(), [TeamPost::Member, TeamPost::Volunteer]);
        // Sealed: no phone of the roster in plain text anywhere in the table.
        let plain: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM grid_posts WHERE phone IS NOT NULL OR phone_enc LIKE '%1380535%'")
                .fetch_one(&db.pool)
                .await
                .unwrap();
        assert_eq!(plain, 0);

        // The same file again: everyone is already on the team.
        let report = import_roster(db, &table, &community).await.unwrap();
        assert_eq!((report.added.len(), report.already), (0, 6));

        // Into one grid, a roster without a 网格 column names that grid's people.
        let table =
            wangge_ledger::table::read_csv_bytes("岗位,姓名,联系电话\n志愿者,钱多多,13805350009\n".as_bytes()).unwrap();
        let report = import_roster(db, &table, &areas::get(db, &h.grid.id).await.unwrap()).await.unwrap();
        assert_eq!(report.added.len(), 1);
        assert_eq!(report.added[0].grid_id, h.grid.id);
        // …but a whole community needs it.
        let err = import_roster(db, &table, &community).await.unwrap_err();
        assert!(matches!(err, RosterError::NoGridColumn), "{err}");
    })
    .await;
}
