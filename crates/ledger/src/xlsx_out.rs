//! Writing a ledger sheet that reads well in Excel and WPS and survives a round trip.
//!
//! Every cell is written as text and every column is formatted as text (`@`): an ID
//! card number written as a number would keep only 15 significant digits, and a room
//! `0301` would lose its leading zero, also in rows people add by hand later.

use std::path::Path;

use rust_xlsxwriter::{ColNum, Color, Format, FormatAlign, FormatBorder, RowNum, Workbook, Worksheet, XlsxError};

use crate::columns::Field;

/// Writes a ledger to `path`: an optional title row merged across the columns, a
/// header row, then `rows`, all as text. Returns how many data rows were written.
pub fn write_ledger_xlsx(
    path: &Path,
    sheet_name: &str,
    title: Option<&str>,
    headers: &[&str],
    rows: impl IntoIterator<Item = Vec<String>>,
) -> Result<usize, XlsxError> {
    let (mut workbook, written) = build_workbook(sheet_name, title, headers, rows)?;
    workbook.save(path)?;
    Ok(written)
}

/// Like [`write_ledger_xlsx`], into memory (for a download); returns the file bytes
/// and the number of data rows.
pub fn ledger_xlsx_bytes(
    sheet_name: &str,
    title: Option<&str>,
    headers: &[&str],
    rows: impl IntoIterator<Item = Vec<String>>,
) -> Result<(Vec<u8>, usize), XlsxError> {
    let (mut workbook, written) = build_workbook(sheet_name, title, headers, rows)?;
    Ok((workbook.save_to_buffer()?, written))
}

pub(crate) fn build_workbook(
    sheet_name: &str,
    title: Option<&str>,
    headers: &[&str],
    rows: impl IntoIterator<Item = Vec<String>>,
) -> Result<(Workbook, usize), XlsxError> {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name(safe_sheet_name(sheet_name))?;
    let last_col = to_col(headers.len().saturating_sub(1))?;
    let header_row: RowNum = match title {
        Some(title) => {
            write_title(sheet, title, last_col)?;
            1
        }
        None => 0,
    };
    write_headers(sheet, header_row, headers)?;
    let mut widths = ColumnWidths::new(headers);
    let written = write_rows(sheet, header_row + 1, rows, &mut widths)?;
    widths.apply(sheet)?;
    sheet.set_freeze_panes(header_row + 1, 0)?;
    let last_row = header_row + RowNum::try_from(written).map_err(|_| XlsxError::RowColumnLimitError)?;
    sheet.autofilter(header_row, 0, last_row, last_col)?;
    Ok((workbook, written))
}

fn to_col(index: usize) -> Result<ColNum, XlsxError> {
    ColNum::try_from(index).map_err(|_| XlsxError::RowColumnLimitError)
}

fn write_title(sheet: &mut Worksheet, title: &str, last_col: ColNum) -> Result<(), XlsxError> {
    let format = Format::new()
        .set_bold()
        .set_font_size(16)
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter);
    sheet.set_row_height(0, 30)?;
    // Excel refuses a merged range of a single cell.
    if last_col == 0 {
        sheet.write_string_with_format(0, 0, title, &format)?;
    } else {
        sheet.merge_range(0, 0, 0, last_col, title, &format)?;
    }
    Ok(())
}

fn write_headers(sheet: &mut Worksheet, row: RowNum, headers: &[&str]) -> Result<(), XlsxError> {
    let format = Format::new()
        .set_bold()
        .set_background_color(Color::RGB(0xDDEBF7))
        .set_border(FormatBorder::Thin)
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter)
        .set_text_wrap();
    for (index, header) in headers.iter().enumerate() {
        sheet.write_string_with_format(row, to_col(index)?, *header, &format)?;
    }
    Ok(())
}

fn write_rows(
    sheet: &mut Worksheet,
    first_row: RowNum,
    rows: impl IntoIterator<Item = Vec<String>>,
    widths: &mut ColumnWidths,
) -> Result<usize, XlsxError> {
    // "@" makes Excel treat the cell as text even when someone retypes it.
    let text = Format::new().set_num_format("@");
    let cell = text.clone().set_border(FormatBorder::Thin);
    for index in 0..widths.len() {
        sheet.set_column_format(to_col(index)?, &text)?;
    }
    let mut written = 0;
    for cells in rows {
        let row = RowNum::try_from(written)
            .ok()
            .and_then(|n| first_row.checked_add(n))
            .ok_or(XlsxError::RowColumnLimitError)?;
        for (index, value) in cells.iter().enumerate() {
            sheet.write_string_with_format(row, to_col(index)?, value, &cell)?;
            widths.observe(index, value);
        }
        written += 1;
    }
    Ok(written)
}

/// Column widths from the widest text in each column (a CJK character takes two
/// widths), at least what ID card numbers and phone numbers need.
struct ColumnWidths {
    widths: Vec<usize>,
}

impl ColumnWidths {
    const MIN: usize = 6;
    const MAX: usize = 50;

    fn new(headers: &[&str]) -> Self {
        let widths = headers.iter().map(|h| display_width(h).max(min_width_for(h))).collect();
        Self { widths }
    }

    fn len(&self) -> usize {
        self.widths.len()
    }

    fn observe(&mut self, index: usize, value: &str) {
        if index >= self.widths.len() {
            self.widths.resize(index + 1, 0);
        }
        self.widths[index] = self.widths[index].max(display_width(value));
    }

    fn apply(&self, sheet: &mut Worksheet) -> Result<(), XlsxError> {
        for (index, &width) in self.widths.iter().enumerate() {
            let width = (width + 2).clamp(Self::MIN, Self::MAX);
            sheet.set_column_width(to_col(index)?, width as f64)?;
        }
        Ok(())
    }
}

/// Room for a full value even before any row is written (an empty template).
fn min_width_for(header: &str) -> usize {
    match Field::parse_name(header) {
        Some(Field::IdCard) => 19,
        Some(Field::Phone) => 12,
        Some(Field::BirthDate) => 10,
        _ => 0,
    }
}

fn display_width(s: &str) -> usize {
    s.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum()
}

/// Excel sheet names: at most 31 characters, none of `[]:*?/\`, not blank.
fn safe_sheet_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| if matches!(c, '[' | ']' | ':' | '*' | '?' | '/' | '\\') { '_' } else { c })
        .take(31)
        .collect();
    let cleaned = cleaned.trim().trim_matches('\'');
    if cleaned.is_empty() { "Sheet1".to_owned() } else { cleaned.to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::columns::locate_header;
    use crate::table::{read_table, read_xlsx_bytes};

    #[test]
    fn a_report_reads_back_with_numbers_as_numbers_on_every_sheet() {
        use calamine::{Data, Reader, Xlsx};
        let sheets = [
            ReportSheet {
                name: "指标",
                title: "塔山社区 周报",
                headers: vec!["指标".into(), "数值".into()],
                rows: vec![
                    vec![ReportCell::Text("新增诉求".into()), ReportCell::Number(12.0)],
                    vec![ReportCell::Text("响应率".into()), ReportCell::Percent(0.875)],
                    vec![ReportCell::Text("满意率".into()), ReportCell::Empty],
                ],
            },
            ReportSheet {
                name: "下级对比",
                title: "塔山社区 周报",
                headers: vec!["名称".into(), "新增".into()],
                rows: vec![vec![ReportCell::Text("一网格".into()), ReportCell::Number(3.0)]],
            },
        ];
        let bytes = report_xlsx_bytes(&sheets).unwrap();
        let mut book: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
        assert_eq!(book.sheet_names(), vec!["指标".to_owned(), "下级对比".to_owned()]);
        let first = book.worksheet_range("指标").unwrap();
        assert_eq!(first.get_value((0, 0)), Some(&Data::String("塔山社区 周报".into())));
        assert_eq!(first.get_value((1, 1)), Some(&Data::String("数值".into())));
        assert_eq!(first.get_value((2, 1)), Some(&Data::Float(12.0)));
        assert_eq!(first.get_value((3, 1)), Some(&Data::Float(0.875)));
        let second = book.worksheet_range("下级对比").unwrap();
        assert_eq!(second.get_value((2, 0)), Some(&Data::String("一网格".into())));
        assert_eq!(second.get_value((2, 1)), Some(&Data::Float(3.0)));
    }

    fn ledger_rows() -> Vec<Vec<String>> {
        let rows = [
            ["张三", "11010519491231002X", "3号楼", "0301", "13805355678"],
            ["李四", "110105194912310021", "3号楼", "0302", ""],
        ];
        rows.iter().map(|r| r.iter().map(|c| (*c).to_owned()).collect()).collect()
    }

    #[test]
    fn round_trip_keeps_ids_and_leading_zeros() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("export.xlsx");
        let headers: Vec<&str> =
            [Field::Name, Field::IdCard, Field::Building, Field::Room, Field::Phone].map(Field::header_zh).to_vec();
        let written =
            write_ledger_xlsx(&path, "居民台账", Some("塔山社区居民信息台账"), &headers, ledger_rows()).unwrap();
        assert_eq!(written, 2);

        let table = read_table(&path).unwrap();
        assert_eq!(table.rows.len(), 4);
        assert_eq!(table.rows[0].cells, vec!["塔山社区居民信息台账"; 5]);
        let map = locate_header(&table, &[]).unwrap();
        assert_eq!(map.header_row, 2);
        let data = map.data_rows(&table);
        assert_eq!(data[0].number, 3);
        assert_eq!(map.get(&data[0], Field::IdCard), Some("11010519491231002X"));
        assert_eq!(map.get(&data[0], Field::Room), Some("0301"));
        assert_eq!(map.get(&data[0], Field::Phone), Some("13805355678"));
        assert_eq!(map.get(&data[1], Field::Phone), None);
        assert_eq!(data[1].cells, ledger_rows()[1]);
    }

    #[test]
    fn bytes_without_title_read_back() {
        let headers = ["姓名", "身份证号", "楼栋", "房号"];
        let (bytes, written) = ledger_xlsx_bytes("a/b:c", None, &headers, ledger_rows()).unwrap();
        assert_eq!(written, 2);
        let table = read_xlsx_bytes(&bytes).unwrap();
        assert_eq!(table.rows[0].cells, ["姓名", "身份证号", "楼栋", "房号", ""]);
        assert_eq!(table.rows[1].number, 2);
        assert_eq!(table.rows[1].cell(3), "0301");
        assert_eq!(table.rows[1].cell(4), "13805355678", "cells beyond the headers are kept");
    }

    #[test]
    fn single_column_and_empty_exports_work() {
        let (bytes, written) = ledger_xlsx_bytes("x", Some("标题"), &["姓名"], Vec::new()).unwrap();
        assert_eq!(written, 0);
        let table = read_xlsx_bytes(&bytes).unwrap();
        assert_eq!(table.rows[1].cells, ["姓名"]);
    }

    #[test]
    fn sheet_names_are_made_safe() {
        assert_eq!(safe_sheet_name("a/b:c"), "a_b_c");
        assert_eq!(safe_sheet_name(" '' "), "Sheet1");
        assert_eq!(safe_sheet_name(&"楼".repeat(40)).chars().count(), 31);
    }

    #[test]
    fn widths_fit_ids_and_cjk() {
        assert_eq!(display_width("3号楼"), 5);
        let mut widths = ColumnWidths::new(&["身份证号", "备注"]);
        assert_eq!(widths.widths, [19, 4]);
        widths.observe(3, "abc");
        assert_eq!(widths.widths, [19, 4, 0, 3]);
    }
}

/// A cell of a report: text, or a number Excel can add up.
#[derive(Clone, Debug, PartialEq)]
pub enum ReportCell {
    Text(String),
    Number(f64),
    /// A share between 0 and 1, shown as a percentage (`87.5%`).
    Percent(f64),
    Empty,
}

/// One sheet of a report: a title row, a header row and rows.
pub struct ReportSheet<'a> {
    pub name: &'a str,
    pub title: &'a str,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<ReportCell>>,
}

/// A report as an `.xlsx` file in memory: one sheet per [`ReportSheet`], each with
/// its title merged across the columns, a header row, and numbers written as numbers
/// (unlike ledgers, a report's figures are for adding up).
pub fn report_xlsx_bytes(sheets: &[ReportSheet<'_>]) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    let border = Format::new().set_border(FormatBorder::Thin);
    let percent = border.clone().set_num_format("0.0%");
    for s in sheets {
        let sheet = workbook.add_worksheet();
        sheet.set_name(safe_sheet_name(s.name))?;
        let headers: Vec<&str> = s.headers.iter().map(String::as_str).collect();
        let last_col = to_col(headers.len().saturating_sub(1))?;
        write_title(sheet, s.title, last_col)?;
        write_headers(sheet, 1, &headers)?;
        let mut widths = ColumnWidths::new(&headers);
        for (r, cells) in s.rows.iter().enumerate() {
            let row = RowNum::try_from(r + 2).map_err(|_| XlsxError::RowColumnLimitError)?;
            for (index, cell) in cells.iter().enumerate() {
                let col = to_col(index)?;
                match cell {
                    ReportCell::Text(t) => {
                        sheet.write_string_with_format(row, col, t, &border)?;
                        widths.observe(index, t);
                    }
                    ReportCell::Number(n) => {
                        sheet.write_number_with_format(row, col, *n, &border)?;
                    }
                    ReportCell::Percent(n) => {
                        sheet.write_number_with_format(row, col, *n, &percent)?;
                    }
                    ReportCell::Empty => {
                        sheet.write_blank(row, col, &border)?;
                    }
                }
            }
        }
        widths.apply(sheet)?;
        sheet.set_freeze_panes(2, 0)?;
    }
    workbook.save_to_buffer()
}
