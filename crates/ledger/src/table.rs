//! Reading a spreadsheet into a plain table of strings, before any meaning is attached.
//!
//! Real ledgers are messy: CSV files come in UTF-8 (with or without BOM), GBK/GB18030
//! as Chinese Excel and WPS write them, or UTF-16 "Unicode text"; workbooks merge the
//! 楼栋 cell over several rows, keep ID numbers as numbers and start below a title.
//! This module smooths over the file format only: every cell becomes a trimmed string,
//! and every row keeps the number Excel shows for it so that errors can point at it.

use std::borrow::Cow;
use std::io::Cursor;
use std::path::Path;

use calamine::{Data, Dimensions, ExcelDateTime, Range, Reader, Xls, XlsError, Xlsx};
use encoding_rs::{Encoding, GB18030};
use wangge_domain::{Explain, Message, msg};

/// A sheet as rows of trimmed strings. Blank rows are kept so that row numbers stay
/// right; the importer skips them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    pub rows: Vec<TableRow>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableRow {
    /// 1-based row number as Excel shows it. For CSV, the 1-based record number,
    /// counting title and header lines and blank lines.
    pub number: usize,
    /// Cell texts; index 0 is column A (for workbooks whose data starts further
    /// right, the leading cells are empty).
    pub cells: Vec<String>,
}

impl TableRow {
    /// The cell at `index`, or `""` past the end of a short row.
    pub fn cell(&self, index: usize) -> &str {
        self.cells.get(index).map_or("", String::as_str)
    }

    pub fn is_blank(&self) -> bool {
        self.cells.iter().all(String::is_empty)
    }
}

/// Why a file cannot be read as a table. Each says what to do about it, in the
/// reader's language, through [`Explain::message`].
#[derive(Debug, thiserror::Error)]
#[error("{}", self.message())]
pub enum ReadError {
    Io(#[from] std::io::Error),
    /// The extension is none of the kinds we read (`.docx`, `.pdf`, none).
    UnsupportedFormat(String),
    /// Text in none of the encodings we can tell apart.
    Encoding,
    /// Named like a workbook (`.xlsx`, `.xls`) but holding something else, most
    /// often a text file renamed; the extension as given.
    NotAWorkbook(String),
    /// A workbook that the reader gave up on; the reader's detail, for the log.
    Damaged(String),
    /// A workbook with an opening password: its content is encrypted.
    Password,
    Csv {
        row: usize,
        detail: String,
    },
    /// Zero bytes.
    Empty,
    /// Bytes, but not one filled cell.
    NoData,
}

impl Explain for ReadError {
    fn message(&self) -> Message {
        match self {
            Self::Io(e) => msg!("import.file.io", detail = e),
            Self::UnsupportedFormat(ext) => msg!("import.file.unsupported", ext = ext),
            Self::Encoding => msg!("import.file.encoding"),
            Self::NotAWorkbook(ext) => msg!("import.file.not_workbook", ext = ext),
            Self::Damaged(_) => msg!("import.file.damaged"),
            Self::Password => msg!("import.file.password"),
            Self::Csv { row, detail } => msg!("import.file.csv", row = row, detail = detail),
            Self::Empty => msg!("import.file.empty"),
            Self::NoData => msg!("import.file.no_data"),
        }
    }
}

/// Reads the first worksheet of a workbook or a CSV/TSV file. The extension says
/// whether the file should be a workbook or text; the bytes say which workbook.
pub fn read_table(path: &Path) -> Result<Table, ReadError> {
    // Check the extension before reading a possibly large file we cannot use.
    let format = FileFormat::of(path)?;
    let bytes = std::fs::read(path)?;
    format.read(&bytes)
}

/// Like [`read_table`] for an upload: the format comes from the file name.
pub fn read_table_bytes(file_name: &str, bytes: &[u8]) -> Result<Table, ReadError> {
    FileFormat::of(Path::new(file_name))?.read(bytes)
}

/// What the name promises.
enum FileFormat {
    Workbook(String),
    Csv,
}

impl FileFormat {
    fn of(path: &Path) -> Result<Self, ReadError> {
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
        match ext.as_str() {
            "xlsx" | "xlsm" | "xls" => Ok(Self::Workbook(format!(".{ext}"))),
            "csv" | "tsv" | "txt" => Ok(Self::Csv),
            "" => Err(ReadError::UnsupportedFormat("(no extension)".to_owned())),
            other => Err(ReadError::UnsupportedFormat(format!(".{other}"))),
        }
    }

    fn read(&self, bytes: &[u8]) -> Result<Table, ReadError> {
        if bytes.is_empty() {
            return Err(ReadError::Empty);
        }
        // The content decides between .xlsx and .xls: a community's "xls" is often
        // an .xlsx renamed, and the other way round.
        if bytes.starts_with(&ZIP_MAGIC) {
            return read_xlsx_bytes(bytes);
        }
        if bytes.starts_with(&OLE_MAGIC) {
            return read_xls_bytes(bytes);
        }
        match self {
            Self::Workbook(ext) => Err(ReadError::NotAWorkbook(ext.clone())),
            Self::Csv => read_csv_bytes(bytes),
        }
    }
}

fn non_empty(table: Table) -> Result<Table, ReadError> {
    if table.rows.iter().all(TableRow::is_blank) { Err(ReadError::NoData) } else { Ok(table) }
}

/// Spreadsheet column letters for a 0-based index: 0 → `A`, 25 → `Z`, 26 → `AA`.
pub fn column_name(index: usize) -> String {
    let mut n = index + 1;
    let mut letters = Vec::new();
    while n > 0 {
        let rem = (n - 1) % 26;
        letters.push(b'A' + rem as u8);
        n = (n - 1) / 26;
    }
    letters.reverse();
    String::from_utf8(letters).expect("ASCII letters")
}

// ---------------------------------------------------------------------------------
// Workbooks

/// Start of a zip archive: an `.xlsx`/`.xlsm` workbook.
const ZIP_MAGIC: [u8; 4] = [0x50, 0x4B, 0x03, 0x04];

/// Start of an OLE compound file: an old `.xls` workbook, or an encrypted `.xlsx`.
const OLE_MAGIC: [u8; 8] = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

/// Reads the first worksheet of an `.xlsx`/`.xlsm` workbook held in memory.
pub fn read_xlsx_bytes(bytes: &[u8]) -> Result<Table, ReadError> {
    if bytes.starts_with(&OLE_MAGIC) {
        return read_xls_bytes(bytes);
    }
    let mut workbook = Xlsx::new(Cursor::new(bytes)).map_err(|e| ReadError::Damaged(e.to_string()))?;
    let range =
        workbook.worksheet_range_at(0).ok_or(ReadError::NoData)?.map_err(|e| ReadError::Damaged(e.to_string()))?;
    let merges = workbook.merge_cells_by_sheet_id(0).map_err(|e| ReadError::Damaged(e.to_string()))?;
    non_empty(table_from_range(&range, &merges))
}

/// Reads the first worksheet of an old `.xls` (BIFF8) workbook held in memory, with
/// the same merged cells, numbers and dates as an `.xlsx`.
pub fn read_xls_bytes(bytes: &[u8]) -> Result<Table, ReadError> {
    // A password-protected .xlsx is an OLE file holding the encrypted package.
    if contains_utf16(bytes, "EncryptedPackage") {
        return Err(ReadError::Password);
    }
    let xls_error = |e: XlsError| match e {
        XlsError::Password => ReadError::Password,
        other => ReadError::Damaged(other.to_string()),
    };
    let mut workbook = Xls::new(Cursor::new(bytes)).map_err(xls_error)?;
    let range = workbook.worksheet_range_at(0).ok_or(ReadError::NoData)?.map_err(xls_error)?;
    let merges = workbook.merge_cells_by_sheet_id(0).map_err(xls_error)?;
    non_empty(table_from_range(&range, &merges))
}

/// Whether `bytes` hold `name` in UTF-16LE, as OLE directory entries name streams.
fn contains_utf16(bytes: &[u8], name: &str) -> bool {
    let needle: Vec<u8> = name.encode_utf16().flat_map(u16::to_le_bytes).collect();
    bytes.windows(needle.len()).any(|w| w == needle)
}

pub(crate) fn table_from_range(range: &Range<Data>, merges: &[Dimensions]) -> Table {
    let Some((start_row, start_col)) = range.start() else {
        return Table::default();
    };
    let mut grid: Vec<Vec<String>> = range
        .rows()
        .map(|cells| {
            // Pad on the left so that cell index 0 is always column A.
            let mut row = vec![String::new(); start_col as usize];
            row.extend(cells.iter().map(cell_to_string));
            row
        })
        .collect();
    for merge in merges {
        fill_merged(&mut grid, start_row as usize, merge);
    }
    let rows =
        grid.into_iter().enumerate().map(|(i, cells)| TableRow { number: start_row as usize + i + 1, cells }).collect();
    Table { rows }
}

/// Copies the top-left value of a merged region into all its cells: a 楼栋 merged
/// over the rows of its residents applies to each of them.
fn fill_merged(grid: &mut [Vec<String>], start_row: usize, merge: &Dimensions) {
    let (top, left) = (merge.start.0 as usize, merge.start.1 as usize);
    let (bottom, right) = (merge.end.0 as usize, merge.end.1 as usize);
    let Some(top) = top.checked_sub(start_row) else {
        return;
    };
    let bottom = bottom.saturating_sub(start_row);
    let Some(value) = grid.get(top).and_then(|row| row.get(left)).filter(|v| !v.is_empty()).cloned() else {
        return;
    };
    for row in grid.iter_mut().take(bottom + 1).skip(top) {
        for cell in row.iter_mut().take(right + 1).skip(left) {
            cell.clone_from(&value);
        }
    }
}

/// The text a cell stands for, the way a person reading the sheet would type it.
fn cell_to_string(cell: &Data) -> String {
    match cell {
        Data::String(s) => s.trim().to_owned(),
        Data::Int(i) => format_integer(*i),
        Data::Float(f) => format_number(*f),
        Data::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_owned(),
        Data::DateTime(dt) => format_excel_datetime(dt),
        // ISO forms only come from ODS files; keep the date part like other dates.
        Data::DateTimeIso(s) => s.split('T').next().unwrap_or("").trim().to_owned(),
        Data::DurationIso(s) => s.trim().to_owned(),
        Data::Error(_) | Data::Empty => String::new(),
    }
}

/// Excel keeps 15 significant digits; integers beyond that have lost digits.
const EXACT_LIMIT: f64 = 1e15;

fn format_integer(i: i64) -> String {
    if i.unsigned_abs() < EXACT_LIMIT as u64 { i.to_string() } else { format_scientific(i as f64) }
}

/// Whole numbers of up to 15 digits print without a decimal point, so a phone stored
/// as a number reads `13805355678`. Longer numbers print as Excel shows them
/// (`3.70602195803071E+17`): an ID card stored as a number has lost its last digits,
/// and the scientific form lets `IdCardNumber::parse` say so instead of accepting
/// made-up zeros.
pub(crate) fn format_number(v: f64) -> String {
    if !v.is_finite() {
        return v.to_string();
    }
    if v.abs() >= EXACT_LIMIT {
        return format_scientific(v);
    }
    if v.fract() == 0.0 {
        return format!("{}", v as i64);
    }
    // Round to Excel's 15 significant digits so 0.1 + 0.2 reads 0.3.
    let rounded: f64 = format!("{v:.14e}").parse().unwrap_or(v);
    rounded.to_string()
}

/// `3.70602195803071E+17`: mantissa of at most 15 significant digits, Excel style.
fn format_scientific(v: f64) -> String {
    let formatted = format!("{v:.14E}");
    let (mantissa, exponent) = formatted.split_once('E').unwrap_or((&formatted, "0"));
    let mantissa = if mantissa.contains('.') { mantissa.trim_end_matches('0').trim_end_matches('.') } else { mantissa };
    match exponent.strip_prefix('-') {
        Some(negative) => format!("{mantissa}E-{negative:0>2}"),
        None => format!("{mantissa}E+{exponent:0>2}"),
    }
}

/// Dates as `YYYY-MM-DD` (a time of day is dropped: ledgers hold birth dates); a
/// value with no date part is a time and prints as `HH:MM:SS`.
fn format_excel_datetime(dt: &ExcelDateTime) -> String {
    if dt.is_duration() {
        return format_number(dt.as_f64());
    }
    let (year, month, day, hour, minute, second, _) = dt.to_ymd_hms_milli();
    if dt.as_f64() < 1.0 {
        return format!("{hour:02}:{minute:02}:{second:02}");
    }
    format!("{year:04}-{month:02}-{day:02}")
}

// ---------------------------------------------------------------------------------
// CSV and tab-separated text

/// Reads a CSV or tab-separated text file held in memory, in UTF-8, GB18030/GBK or
/// UTF-16 with BOM, separated by commas, tabs or semicolons.
pub fn read_csv_bytes(bytes: &[u8]) -> Result<Table, ReadError> {
    let text = decode_text(bytes)?;
    let delimiter = detect_delimiter(&text);
    non_empty(parse_delimited(&text, delimiter)?)
}

/// A BOM decides; otherwise UTF-8 if the bytes are valid UTF-8, else GB18030, which
/// covers GBK and GB2312 as written by Chinese Excel and WPS.
fn decode_text(bytes: &[u8]) -> Result<Cow<'_, str>, ReadError> {
    let (text, had_errors) = match Encoding::for_bom(bytes) {
        Some((encoding, bom_len)) => encoding.decode_without_bom_handling(&bytes[bom_len..]),
        None => match std::str::from_utf8(bytes) {
            Ok(text) => (Cow::Borrowed(text), false),
            Err(_) => GB18030.decode_without_bom_handling(bytes),
        },
    };
    // NUL never occurs in a text table; it is the sign of UTF-16 without a BOM, which
    // would otherwise read as garbage.
    if had_errors || text.contains('\0') {
        return Err(ReadError::Encoding);
    }
    Ok(text)
}

/// Picks the delimiter present on the most of the first lines, then the most frequent;
/// a comma if none occurs (a one-column file).
fn detect_delimiter(text: &str) -> u8 {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).take(20).collect();
    let mut best = (b',', (0, 0));
    for delimiter in [b',', b'\t', b';'] {
        let counts: Vec<usize> = lines.iter().map(|line| count_unquoted(line, delimiter)).collect();
        let score = (counts.iter().filter(|&&n| n > 0).count(), counts.iter().sum::<usize>());
        if score > best.1 {
            best = (delimiter, score);
        }
    }
    best.0
}

/// Occurrences of `delimiter` outside double quotes (a note may hold "独居,腿脚不便").
fn count_unquoted(line: &str, delimiter: u8) -> usize {
    let mut quoted = false;
    let mut count = 0;
    for b in line.bytes() {
        match b {
            b'"' => quoted = !quoted,
            b if b == delimiter && !quoted => count += 1,
            _ => {}
        }
    }
    count
}

fn parse_delimited(text: &str, delimiter: u8) -> Result<Table, ReadError> {
    let mut reader =
        csv::ReaderBuilder::new().has_headers(false).flexible(true).delimiter(delimiter).from_reader(text.as_bytes());
    let mut rows: Vec<TableRow> = Vec::new();
    let mut record = csv::StringRecord::new();
    let mut consumed = 0; // byte offset where the previous read ended
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(error) => {
                return Err(ReadError::Csv { row: rows.len() + 1, detail: error.to_string() });
            }
        }
        let end = reader.position().byte() as usize;
        // The csv reader skips empty lines, but Excel shows them as rows: put them back.
        for _ in 0..blank_lines_before_record(text, consumed, end) {
            rows.push(TableRow { number: rows.len() + 1, cells: Vec::new() });
        }
        consumed = end;
        let cells = record.iter().map(|cell| cell.trim().to_owned()).collect();
        rows.push(TableRow { number: rows.len() + 1, cells });
    }
    Ok(Table { rows })
}

/// Empty lines the reader skipped in the read spanning `start..end`. Each read
/// consumes the skipped lines, the record and the first byte of its terminator, so
/// the `\n` of the previous record's `\r\n` may open the span: it is no blank line.
fn blank_lines_before_record(text: &str, start: usize, end: usize) -> usize {
    let bytes = text.as_bytes();
    let span = bytes.get(start..end).unwrap_or(&[]);
    let mut leading = &span[..span.iter().take_while(|&&b| b == b'\r' || b == b'\n').count()];
    if start > 0 && bytes[start - 1] == b'\r' && leading.first() == Some(&b'\n') {
        leading = &leading[1..];
    }
    count_line_breaks(leading)
}

/// Line breaks in `bytes`: `\n`, `\r\n` and a lone `\r` each count once.
fn count_line_breaks(bytes: &[u8]) -> usize {
    bytes.iter().enumerate().filter(|&(i, &b)| b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n'))).count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_xlsxwriter::{ExcelDateTime as XlsxDate, Format, Workbook};
    use wangge_domain::{IdCardError, IdCardNumber};

    fn cells(row: &TableRow) -> Vec<&str> {
        row.cells.iter().map(String::as_str).collect()
    }

    /// A ledger as communities really send them: title, date line, merged 楼栋,
    /// numbers where text belongs, stray blanks and full-width digits.
    fn write_messy_workbook(path: &Path) {
        let mut workbook = Workbook::new();
        let sheet = workbook.add_worksheet();
        let title = Format::new().set_bold();
        sheet.merge_range(0, 0, 0, 7, "塔山社区居民信息台账", &title).unwrap();
        sheet.write_string(1, 0, "制表日期：2024年5月1日").unwrap();
        let headers = ["楼栋", "姓名", "身份证号", "联系电话", "单元", "房号", "出生日期", "党员"];
        for (c, h) in headers.iter().enumerate() {
            sheet.write_string(2, c as u16, *h).unwrap();
        }
        sheet.merge_range(3, 0, 5, 0, "3号楼", &Format::new()).unwrap();
        // Row 4: numbers where text belongs.
        sheet.write_string(3, 1, "张三  ").unwrap();
        sheet.write_number(3, 2, 3.70602195803071e17).unwrap();
        sheet.write_number(3, 3, 13805355678.0).unwrap();
        sheet.write_number(3, 4, 2.0).unwrap();
        sheet.write_string(3, 5, "０３０１").unwrap();
        let date = Format::new().set_num_format("yyyy-mm-dd");
        sheet.write_datetime_with_format(3, 6, XlsxDate::from_ymd(1958, 3, 7).unwrap(), &date).unwrap();
        sheet.write_boolean(3, 7, true).unwrap();
        // Row 5: the same as text, with blanks around.
        sheet.write_string(4, 1, " 李四").unwrap();
        sheet.write_string(4, 2, "37060219580307123X ").unwrap();
        sheet.write_string(4, 3, "").unwrap();
        sheet.write_number(4, 4, 1.5).unwrap();
        sheet.write_string(4, 5, "302").unwrap();
        // Row 6: only the merged building. Row 7: blank. Row 8: the next building.
        sheet.write_string(7, 0, "5号楼").unwrap();
        sheet.write_string(7, 1, "王五").unwrap();
        workbook.save(path).unwrap();
    }

    #[test]
    fn messy_workbook_reads_as_people_see_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("台账.xlsx");
        write_messy_workbook(&path);
        let table = read_table(&path).unwrap();

        let numbers: Vec<usize> = table.rows.iter().map(|r| r.number).collect();
        assert_eq!(numbers, [1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(table.rows[0].cells, vec!["塔山社区居民信息台账"; 8], "merged title fills its row");
        assert_eq!(table.rows[1].cell(0), "制表日期：2024年5月1日");
        assert_eq!(table.rows[2].cell(2), "身份证号");
        assert_eq!(
            cells(&table.rows[3]),
            ["3号楼", "张三", "3.70602195803071E+17", "13805355678", "2", "０３０１", "1958-03-07", "TRUE"]
        );
        assert_eq!(cells(&table.rows[4]), ["3号楼", "李四", "37060219580307123X", "", "1.5", "302", "", ""]);
        assert_eq!(cells(&table.rows[5]), ["3号楼", "", "", "", "", "", "", ""]);
        assert!(table.rows[6].is_blank());
        assert_eq!(table.rows[7].cell(0), "5号楼");
        assert_eq!(table.rows[7].cell(1), "王五");

        let lost = IdCardNumber::parse(table.rows[3].cell(2));
        assert!(matches!(lost, Err(IdCardError::LostDigits(_))), "{lost:?}");
    }

    #[test]
    fn workbook_bytes_read_like_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.xlsx");
        write_messy_workbook(&path);
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(read_xlsx_bytes(&bytes).unwrap(), read_table(&path).unwrap());
        assert_eq!(read_table_bytes("upload.XLSX", &bytes).unwrap(), read_table(&path).unwrap());
    }

    #[test]
    fn sheet_starting_below_row_one_keeps_excel_row_numbers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("offset.xlsx");
        let mut workbook = Workbook::new();
        let sheet = workbook.add_worksheet();
        sheet.write_string(2, 2, "姓名").unwrap();
        sheet.write_string(3, 3, "张三").unwrap();
        workbook.save(&path).unwrap();

        let table = read_table(&path).unwrap();
        assert_eq!(table.rows.len(), 2);
        assert_eq!(table.rows[0].number, 3);
        assert_eq!(cells(&table.rows[0]), ["", "", "姓名", ""]);
        assert_eq!(table.rows[1].number, 4);
        assert_eq!(table.rows[1].cell(3), "张三");
    }

    #[test]
    fn numbers_print_as_excel_shows_them() {
        assert_eq!(format_number(3.70602195803071e17), "3.70602195803071E+17");
        assert_eq!(format_number(13805355678.0), "13805355678");
        assert_eq!(format_number(999_999_999_999_999.0), "999999999999999");
        assert_eq!(format_number(1e15), "1E+15");
        assert_eq!(format_number(-2.0), "-2");
        assert_eq!(format_number(0.1 + 0.2), "0.3");
        assert_eq!(format_number(1e-20), format!("{}", 1e-20));
        assert_eq!(format_integer(370_602_195_803_071_234), "3.70602195803071E+17");
        assert_eq!(format_integer(13805355678), "13805355678");
    }

    #[test]
    fn column_names_are_letters() {
        assert_eq!(column_name(0), "A");
        assert_eq!(column_name(25), "Z");
        assert_eq!(column_name(26), "AA");
        assert_eq!(column_name(701), "ZZ");
        assert_eq!(column_name(702), "AAA");
    }

    #[test]
    fn gbk_csv_from_chinese_excel_reads() {
        let text = "塔山社区居民信息台账,,\r\n姓名,身份证号,楼栋\r\n张三,110105194912310021,３号楼\r\n";
        let (bytes, _, unmappable) = encoding_rs::GBK.encode(text);
        assert!(!unmappable);
        assert!(std::str::from_utf8(&bytes).is_err(), "the fixture must not be UTF-8");

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gbk.csv");
        std::fs::write(&path, &bytes).unwrap();
        let table = read_table(&path).unwrap();
        assert_eq!(table.rows.len(), 3);
        assert_eq!(cells(&table.rows[0]), ["塔山社区居民信息台账", "", ""]);
        assert_eq!(cells(&table.rows[1]), ["姓名", "身份证号", "楼栋"]);
        assert_eq!(cells(&table.rows[2]), ["张三", "110105194912310021", "３号楼"]);
        assert_eq!(table.rows[2].number, 3);
    }

    #[test]
    fn utf8_csv_with_bom_keeps_blank_lines_as_rows() {
        let bytes = "\u{feff}姓名,备注\n\n张三 ,\"独居,腿脚不便\"\r\n\r\n李四\n".as_bytes();
        let table = read_csv_bytes(bytes).unwrap();
        let numbers: Vec<usize> = table.rows.iter().map(|r| r.number).collect();
        assert_eq!(numbers, [1, 2, 3, 4, 5]);
        assert_eq!(cells(&table.rows[0]), ["姓名", "备注"], "the BOM is not part of the first header");
        assert!(table.rows[1].is_blank());
        assert_eq!(cells(&table.rows[2]), ["张三", "独居,腿脚不便"]);
        assert!(table.rows[3].is_blank());
        assert_eq!(cells(&table.rows[4]), ["李四"]);
    }

    #[test]
    fn blank_lines_count_with_any_line_ending() {
        for (text, want) in [
            ("\n\na\r\nb\r\n\r\n\r\nc", vec![3, 4, 7]),
            ("a\r\rb\n", vec![1, 3]),
            ("a\n\n\n", vec![1]),
            ("a\r\nb\r\n", vec![1, 2]),
        ] {
            let table = read_csv_bytes(text.as_bytes()).unwrap();
            let filled: Vec<usize> = table.rows.iter().filter(|r| !r.is_blank()).map(|r| r.number).collect();
            assert_eq!(filled, want, "{text:?}");
        }
    }

    #[test]
    fn quoted_line_breaks_count_as_one_row() {
        let table = read_csv_bytes("姓名,备注\n张三,\"第一行\n第二行\"\n李四,\n".as_bytes()).unwrap();
        let numbers: Vec<usize> = table.rows.iter().map(|r| r.number).collect();
        assert_eq!(numbers, [1, 2, 3]);
        assert_eq!(table.rows[1].cell(1), "第一行\n第二行");
        assert_eq!(table.rows[2].cell(0), "李四");
    }

    #[test]
    fn bytes_neither_utf8_nor_gb18030_are_an_encoding_error() {
        // 0xFF starts no character in GB18030 and no character in UTF-8.
        let err = read_csv_bytes(b"name,id\n\xff\xff,1\n").unwrap_err();
        assert!(matches!(err, ReadError::Encoding), "{err:?}");
        assert_eq!(err.message().key, "import.file.encoding");
        // UTF-16 without a BOM shows up as NUL bytes.
        let utf16: Vec<u8> = "a,b\n".encode_utf16().flat_map(u16::to_le_bytes).collect();
        assert!(matches!(read_csv_bytes(&utf16), Err(ReadError::Encoding)));
    }

    fn utf16_with_bom(text: &str, little_endian: bool) -> Vec<u8> {
        let mut bytes = if little_endian { vec![0xFF, 0xFE] } else { vec![0xFE, 0xFF] };
        for unit in text.encode_utf16() {
            bytes.extend(if little_endian { unit.to_le_bytes() } else { unit.to_be_bytes() });
        }
        bytes
    }

    #[test]
    fn excel_unicode_text_reads_as_tab_separated() {
        let text = "姓名\t身份证号\t备注\r\n张三\t11010519491231002X\t独居,腿脚不便\r\n";
        for little_endian in [true, false] {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("unicode.txt");
            std::fs::write(&path, utf16_with_bom(text, little_endian)).unwrap();
            let table = read_table(&path).unwrap();
            assert_eq!(cells(&table.rows[0]), ["姓名", "身份证号", "备注"]);
            assert_eq!(cells(&table.rows[1]), ["张三", "11010519491231002X", "独居,腿脚不便"]);
        }
    }

    #[test]
    fn delimiters_are_detected() {
        let semicolons = read_csv_bytes("姓名;电话\n张三;138\n".as_bytes()).unwrap();
        assert_eq!(cells(&semicolons.rows[1]), ["张三", "138"]);
        let single = read_csv_bytes("姓名\n张三\n".as_bytes()).unwrap();
        assert_eq!(cells(&single.rows[1]), ["张三"]);
        // A title line without delimiters does not mislead the detection.
        let titled = read_csv_bytes("台账\n姓名\t电话\t备注\n张三\t138\t\"a,b\"\n".as_bytes()).unwrap();
        assert_eq!(cells(&titled.rows[2]), ["张三", "138", "a,b"]);
    }

    #[test]
    fn unusable_input_is_reported() {
        assert!(matches!(read_table(Path::new("old.et")), Err(ReadError::UnsupportedFormat(ext)) if ext == ".et"));
        assert!(matches!(read_table(Path::new("noext")), Err(ReadError::UnsupportedFormat(_))));
        assert!(matches!(read_table(Path::new("/nonexistent/a.csv")), Err(ReadError::Io(_))));
        assert!(matches!(read_table_bytes("a.xlsx", b""), Err(ReadError::Empty)));
        assert!(matches!(read_table_bytes("a.csv", b""), Err(ReadError::Empty)));
        assert!(matches!(read_csv_bytes(b"\n , ,\n\n"), Err(ReadError::NoData)));
        let mut ole = OLE_MAGIC.to_vec();
        ole.extend([0; 64]);
        assert!(matches!(read_table_bytes("a.xlsx", &ole), Err(ReadError::Damaged(_))));
        assert!(matches!(read_xlsx_bytes(b"not a zip"), Err(ReadError::Damaged(_))));
        assert!(matches!(read_table_bytes("a.xls", b"not a zip"), Err(ReadError::NotAWorkbook(e)) if e == ".xls"));
        assert_eq!(ReadError::Password.message().key, "import.file.password");
    }
}
