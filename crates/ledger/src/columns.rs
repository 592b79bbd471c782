//! Recognising the header row of a ledger and mapping its columns to fields.
//!
//! Every community names its columns a little differently (身份证号, 公民身份号码,
//! 身份证号码(必填)…) and puts a title or two above them. The header row is the one
//! among the first rows that names the most known columns; names are compared after
//! folding width, dropping blanks, required-column stars and trailing notes.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};
use wangge_domain::{Explain, Message, msg, text};

use crate::table::{Table, TableRow, column_name};

/// How many rows from the top may hold the header; titles and date lines rarely take
/// more than two or three.
pub const HEADER_SCAN_ROWS: usize = 15;

/// A ledger field a column can hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Name,
    Gender,
    BirthDate,
    IdCard,
    Phone,
    Building,
    Unit,
    Room,
    Relation,
    ResidenceType,
    PoliticalStatus,
    Ethnicity,
    Tags,
    Notes,
    Grid,
    Occupancy,
}

impl Field {
    /// All fields, in the column order of an exported ledger.
    pub const ALL: [Field; 16] = [
        Field::Name,
        Field::Gender,
        Field::BirthDate,
        Field::IdCard,
        Field::Phone,
        Field::Building,
        Field::Unit,
        Field::Room,
        Field::Relation,
        Field::ResidenceType,
        Field::PoliticalStatus,
        Field::Ethnicity,
        Field::Tags,
        Field::Notes,
        Field::Grid,
        Field::Occupancy,
    ];

    /// Columns without which a row cannot be placed in a house.
    pub const REQUIRED: [Field; 4] = [Field::Name, Field::IdCard, Field::Building, Field::Room];

    /// The header an exported ledger uses.
    pub fn header_zh(self) -> &'static str {
        match self {
            Field::Name => "姓名",
            Field::Gender => "性别",
            Field::BirthDate => "出生日期",
            Field::IdCard => "身份证号",
            Field::Phone => "联系电话",
            Field::Building => "楼栋",
            Field::Unit => "单元",
            Field::Room => "房号",
            Field::Relation => "与户主关系",
            Field::ResidenceType => "人员类型",
            Field::PoliticalStatus => "政治面貌",
            Field::Ethnicity => "民族",
            Field::Tags => "标签",
            Field::Notes => "备注",
            Field::Grid => "网格",
            Field::Occupancy => "房屋用途",
        }
    }

    /// The English name, as used in messages.
    pub fn header_en(self) -> &'static str {
        match self {
            Field::Name => "name",
            Field::Gender => "gender",
            Field::BirthDate => "birth date",
            Field::IdCard => "id card",
            Field::Phone => "phone",
            Field::Building => "building",
            Field::Unit => "unit",
            Field::Room => "room",
            Field::Relation => "relation",
            Field::ResidenceType => "residence type",
            Field::PoliticalStatus => "political status",
            Field::Ethnicity => "ethnicity",
            Field::Tags => "tags",
            Field::Notes => "notes",
            Field::Grid => "grid",
            Field::Occupancy => "occupancy",
        }
    }

    /// The snake_case key used in mappings and APIs (`id_card`), as serde writes it.
    pub fn key(self) -> &'static str {
        match self {
            Field::BirthDate => "birth_date",
            Field::IdCard => "id_card",
            Field::ResidenceType => "residence_type",
            Field::PoliticalStatus => "political_status",
            other => other.header_en(),
        }
    }

    /// Every header text recognised for the field by default, Chinese and English.
    /// The snake_case key matches too, because matching ignores `_` and spaces.
    pub fn aliases(self) -> &'static [&'static str] {
        match self {
            Field::Name => &["姓名", "名字", "居民姓名", "name", "full name"],
            Field::Gender => &["性别", "gender", "sex"],
            Field::BirthDate => {
                &["出生日期", "出生年月", "出生年月日", "生日", "birth date", "date of birth", "birthday", "dob"]
            }
            Field::IdCard => &[
                "身份证号",
                "身份证号码",
                "身份证",
                "公民身份号码",
                "公民身份证号码",
                "证件号码",
                "id card",
                "id number",
                "id card number",
                "id no",
            ],
            Field::Phone => &[
                "联系电话",
                "电话",
                "电话号码",
                "手机",
                "手机号",
                "手机号码",
                "联系方式",
                "phone",
                "mobile",
                "telephone",
                "tel",
            ],
            Field::Building => &["楼栋", "楼号", "楼栋号", "楼", "栋", "幢", "building"],
            Field::Unit => &["单元", "单元号", "unit"],
            Field::Room => &["房号", "房间号", "门牌号", "室", "户号", "room", "room number"],
            Field::Relation => &["与户主关系", "户主关系", "关系", "relation", "relationship"],
            Field::ResidenceType => &["人员类型", "人口类型", "户籍类型", "residence type"],
            Field::PoliticalStatus => &["政治面貌", "political status"],
            Field::Ethnicity => &["民族", "ethnicity", "nation"],
            Field::Tags => &["标签", "人员类别", "重点人群", "人员标签", "tags", "tag"],
            Field::Notes => &["备注", "notes", "note", "remarks"],
            Field::Grid => &["网格", "所属网格", "网格编码", "grid"],
            Field::Occupancy => &["房屋用途", "居住状态", "房屋状态", "occupancy"],
        }
    }

    /// The field a header text or field key names by default (`身份证号码(必填)`,
    /// `ID Card`, `id_card`).
    pub fn parse_name(s: &str) -> Option<Field> {
        DEFAULT_NAMES.get(&normalize_header(s)).copied()
    }
}

static DEFAULT_NAMES: LazyLock<HashMap<String, Field>> = LazyLock::new(|| {
    Field::ALL
        .iter()
        .flat_map(|&field| field.aliases().iter().map(move |alias| (normalize_header(alias), field)))
        .collect()
});

/// The comparable form of a header: width-folded, lower-case, without blanks, `_`,
/// `*` (required-column markers), trailing colons and trailing bracketed notes such
/// as `(必填)` or `（手机）`.
pub fn normalize_header(s: &str) -> String {
    let folded: String = text::normalize(s)
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '*' | '_'))
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let mut name = folded.trim_end_matches(':').to_owned();
    while let Some(stripped) = strip_trailing_note(&name) {
        name = stripped.to_owned();
    }
    name
}

/// `身份证号(必填)` → `身份证号`; `None` when there is no note, or nothing before it.
fn strip_trailing_note(name: &str) -> Option<&str> {
    let open = match name.chars().last()? {
        ')' => '(',
        ']' => '[',
        '】' => '【',
        _ => return None,
    };
    let before = &name[..name.rfind(open)?];
    (!before.is_empty()).then_some(before)
}

/// One recognised column of the header row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub field: Field,
    /// Index into [`TableRow::cells`].
    pub index: usize,
    /// The header text as written in the file (trimmed).
    pub header: String,
}

/// Where the header is and which column holds which field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderMap {
    /// Spreadsheet row number of the header.
    pub header_row: usize,
    /// Index of the header into `table.rows`; data follows it.
    pub header_index: usize,
    pub columns: Vec<Column>,
    /// Non-empty header texts that match no field, to tell the user they are ignored.
    pub unrecognised: Vec<String>,
}

impl HeaderMap {
    /// The field's cell in `row`; `None` when the column is absent or the cell blank.
    pub fn get<'a>(&self, row: &'a TableRow, field: Field) -> Option<&'a str> {
        let index = self.column(field)?.index;
        row.cells.get(index).map(String::as_str).filter(|s| !s.is_empty())
    }

    pub fn column(&self, field: Field) -> Option<&Column> {
        self.columns.iter().find(|c| c.field == field)
    }

    /// The header text the file uses for the field, for messages.
    pub fn header_of(&self, field: Field) -> Option<&str> {
        self.column(field).map(|c| c.header.as_str())
    }

    pub fn has(&self, field: Field) -> bool {
        self.column(field).is_some()
    }

    /// The rows below the header.
    pub fn data_rows<'t>(&self, table: &'t Table) -> &'t [TableRow] {
        table.rows.get(self.header_index + 1..).unwrap_or(&[])
    }
}

/// Why the columns of a file cannot be used, found before any row is read.
#[derive(Debug, thiserror::Error)]
#[error("{}", self.message())]
pub enum HeaderError {
    NoHeader {
        scanned: usize,
    },
    MissingColumns(Vec<Field>),
    /// Two columns mean the same field: their header texts and column letters.
    DuplicateColumn {
        field: Field,
        first: (String, String),
        second: (String, String),
    },
    UnknownMappingField(String),
}

impl Explain for HeaderError {
    fn message(&self) -> Message {
        match self {
            Self::NoHeader { scanned } => msg!("import.header.none", scanned = scanned).lang_arg(
                "known",
                Field::ALL.map(Field::header_zh).join("、"),
                known_columns_en(),
            ),
            Self::MissingColumns(fields) => {
                let zh: Vec<&str> = fields.iter().map(|f| f.header_zh()).collect();
                let en: Vec<String> = fields.iter().map(|f| format!("{} ({})", f.header_zh(), f.header_en())).collect();
                msg!("import.header.missing").lang_arg("columns", zh.join("”“"), en.join(", "))
            }
            Self::DuplicateColumn { field, first, second } => msg!(
                "import.header.duplicate",
                first = &first.0,
                first_letter = &first.1,
                second = &second.0,
                second_letter = &second.1
            )
            .lang_arg("field", field.header_zh(), format!("{} ({})", field.header_zh(), field.header_en())),
            Self::UnknownMappingField(f) => msg!("import.header.unknown_field", field = f, known = known_keys()),
        }
    }
}

fn known_columns_en() -> String {
    Field::ALL.map(Field::header_zh).join(", ")
}

fn known_keys() -> String {
    Field::ALL.map(Field::key).join(", ")
}

/// Turns a user's mapping of header texts to field names (`"户主楼号" → "building"` or
/// `"楼栋"`) into the form [`locate_header`] takes.
pub fn parse_mapping(pairs: &[(String, String)]) -> Result<Vec<(String, Field)>, HeaderError> {
    pairs
        .iter()
        .map(|(header, field)| {
            let field = Field::parse_name(field).ok_or_else(|| HeaderError::UnknownMappingField(field.clone()))?;
            Ok((header.clone(), field))
        })
        .collect()
}

/// Recognises header texts: the user's mapping first, then the default names.
struct Matcher {
    user: HashMap<String, Field>,
}

impl Matcher {
    fn new(mapping: &[(String, Field)]) -> Self {
        Self { user: mapping.iter().map(|(header, field)| (normalize_header(header), *field)).collect() }
    }

    fn field_of(&self, header: &str) -> Option<Field> {
        let name = normalize_header(header);
        if name.is_empty() {
            return None;
        }
        self.user.get(&name).or_else(|| DEFAULT_NAMES.get(&name)).copied()
    }

    fn distinct_fields(&self, row: &TableRow) -> usize {
        row.cells.iter().filter_map(|cell| self.field_of(cell)).collect::<HashSet<_>>().len()
    }
}

/// Finds the header among the first [`HEADER_SCAN_ROWS`] rows and maps its columns.
/// `mapping` adds header texts of the user's own (`"户主楼号"` → building); it wins
/// over the default names.
pub fn locate_header(table: &Table, mapping: &[(String, Field)]) -> Result<HeaderMap, HeaderError> {
    let matcher = Matcher::new(mapping);
    let header_index = best_header_row(table, &matcher).ok_or(HeaderError::NoHeader { scanned: HEADER_SCAN_ROWS })?;
    let row = &table.rows[header_index];
    let (columns, unrecognised) = map_columns(row, &matcher)?;
    let missing: Vec<Field> = Field::REQUIRED.into_iter().filter(|f| !columns.iter().any(|c| c.field == *f)).collect();
    if !missing.is_empty() {
        return Err(HeaderError::MissingColumns(missing));
    }
    Ok(HeaderMap { header_row: row.number, header_index, columns, unrecognised })
}

/// The first of the rows naming the most fields, if any names at least two (one
/// known word in a title line does not make a header).
fn best_header_row(table: &Table, matcher: &Matcher) -> Option<usize> {
    let mut best: Option<(usize, usize)> = None;
    for (index, row) in table.rows.iter().take(HEADER_SCAN_ROWS).enumerate() {
        let count = matcher.distinct_fields(row);
        if count >= 2 && best.is_none_or(|(_, most)| count > most) {
            best = Some((index, count));
        }
    }
    best.map(|(index, _)| index)
}

fn map_columns(row: &TableRow, matcher: &Matcher) -> Result<(Vec<Column>, Vec<String>), HeaderError> {
    let mut columns: Vec<Column> = Vec::new();
    let mut unrecognised = Vec::new();
    for (index, header) in row.cells.iter().enumerate() {
        let Some(field) = matcher.field_of(header) else {
            if !header.is_empty() {
                unrecognised.push(header.clone());
            }
            continue;
        };
        if let Some(first) = columns.iter().find(|c| c.field == field) {
            return Err(HeaderError::DuplicateColumn {
                field,
                first: (first.header.clone(), column_name(first.index)),
                second: (header.clone(), column_name(index)),
            });
        }
        columns.push(Column { field, index, header: header.clone() });
    }
    Ok((columns, unrecognised))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(rows: &[&[&str]]) -> Table {
        let rows = rows
            .iter()
            .enumerate()
            .map(|(i, cells)| TableRow { number: i + 1, cells: cells.iter().map(|c| (*c).to_owned()).collect() })
            .collect();
        Table { rows }
    }

    #[test]
    fn no_alias_names_two_fields() {
        let mut seen: HashMap<String, Field> = HashMap::new();
        for field in Field::ALL {
            for alias in field.aliases().iter().copied().chain([field.header_zh(), field.header_en(), field.key()]) {
                let name = normalize_header(alias);
                if let Some(other) = seen.insert(name.clone(), field) {
                    assert_eq!(other, field, "'{alias}' names {other:?} and {field:?}");
                }
                assert_eq!(Field::parse_name(alias), Some(field), "{alias}");
            }
        }
    }

    #[test]
    fn names_normalise() {
        assert_eq!(normalize_header(" *身份证号码（必填） "), "身份证号码");
        assert_eq!(normalize_header("联系电话(手机)[选填]"), "联系电话");
        assert_eq!(normalize_header("ＩＤ　Ｃａｒｄ"), "idcard");
        assert_eq!(normalize_header("备注："), "备注");
        assert_eq!(normalize_header("(备注)"), "(备注)", "a header that is all note stays");
        assert_eq!(Field::parse_name("Date of Birth"), Some(Field::BirthDate));
        assert_eq!(Field::parse_name("political_status"), Some(Field::PoliticalStatus));
        assert_eq!(Field::parse_name("年龄"), None);
    }

    #[test]
    fn header_below_two_title_rows_is_found() {
        let t = table(&[
            &["塔山社区居民信息台账", "塔山社区居民信息台账", "塔山社区居民信息台账"],
            &["制表日期：2024-05-01", "", "楼"],
            &["楼栋", "姓名", "身份证号", "房号", "年龄"],
            &["3号楼", "张三", "110105194912310021", "301", "75"],
        ]);
        let map = locate_header(&t, &[]).unwrap();
        assert_eq!((map.header_row, map.header_index), (3, 2));
        assert_eq!(map.header_of(Field::Name), Some("姓名"));
        assert_eq!(map.unrecognised, ["年龄"]);
        let data = map.data_rows(&t);
        assert_eq!(data.len(), 1);
        assert_eq!(map.get(&data[0], Field::Room), Some("301"));
        assert_eq!(map.get(&data[0], Field::Phone), None);
        assert!(!map.has(Field::Phone));
    }

    #[test]
    fn aliases_and_bracketed_notes_are_recognised() {
        let t = table(&[&[
            "居民姓名",
            "*公民身份号码(必填)",
            "联系电话（手机）",
            "楼号",
            "单元号",
            "门牌号",
            "出生年月",
            "重点人群",
            "ID Card",
        ]]);
        // "ID Card" duplicates the ID column: reported with both headers.
        let err = locate_header(&t, &[]).unwrap_err();
        let HeaderError::DuplicateColumn { field, first, second } = &err else { panic!("{err:?}") };
        assert_eq!(*field, Field::IdCard);
        assert_eq!(first, &("*公民身份号码(必填)".to_owned(), "B".to_owned()));
        assert_eq!(second, &("ID Card".to_owned(), "I".to_owned()));
        assert_eq!(err.message().key, "import.header.duplicate");

        let mut row = t.rows[0].clone();
        row.cells.pop();
        let map = locate_header(&Table { rows: vec![row] }, &[]).unwrap();
        let fields: Vec<Field> = map.columns.iter().map(|c| c.field).collect();
        use Field::*;
        assert_eq!(fields, [Name, IdCard, Phone, Building, Unit, Room, BirthDate, Tags]);
        assert_eq!(map.header_of(IdCard), Some("*公民身份号码(必填)"));
    }

    #[test]
    fn user_mapping_adds_and_overrides_names() {
        let t = table(&[&["户主楼号", "姓名", "身份证号", "室", "门牌"], &["3", "张三", "x", "2单元", "301"]]);
        let mapping = parse_mapping(&[
            ("户主楼号".to_owned(), "building".to_owned()),
            ("室".to_owned(), "单元".to_owned()),
            ("门牌".to_owned(), "room".to_owned()),
        ])
        .unwrap();
        let map = locate_header(&t, &mapping).unwrap();
        assert_eq!(map.get(&t.rows[1], Field::Building), Some("3"));
        assert_eq!(map.get(&t.rows[1], Field::Unit), Some("2单元"), "the mapping wins over 室 → room");
        assert_eq!(map.get(&t.rows[1], Field::Room), Some("301"));

        let err = parse_mapping(&[("x".to_owned(), "shoe_size".to_owned())]).unwrap_err();
        assert!(matches!(&err, HeaderError::UnknownMappingField(f) if f == "shoe_size"));
        assert!(err.message().text("known").unwrap().contains("id_card"), "{err}");
    }

    #[test]
    fn all_missing_required_columns_are_reported_at_once() {
        let t = table(&[&["姓名", "电话", "性别"]]);
        let err = locate_header(&t, &[]).unwrap_err();
        let HeaderError::MissingColumns(missing) = &err else { panic!("{err:?}") };
        assert_eq!(missing, &[Field::IdCard, Field::Building, Field::Room]);
        let message = err.message();
        assert_eq!(message.key, "import.header.missing");
        let wangge_domain::Arg::Lang { zh, en } = &message.args[0].1 else { panic!("{message}") };
        assert_eq!(zh, "身份证号”“楼栋”“房号");
        assert_eq!(en, "身份证号 (id card), 楼栋 (building), 房号 (room)");
    }

    #[test]
    fn a_sheet_without_header_says_what_is_expected() {
        let t = table(&[&["塔山社区"], &["张三", "110105194912310021"]]);
        let err = locate_header(&t, &[]).unwrap_err();
        assert!(matches!(err, HeaderError::NoHeader { scanned: HEADER_SCAN_ROWS }));
        let message = err.message();
        assert_eq!((message.key, message.text("scanned")), ("import.header.none", Some("15")));
    }

    #[test]
    fn header_past_the_scanned_rows_is_not_found() {
        let mut rows: Vec<&[&str]> = vec![&["说明"]; HEADER_SCAN_ROWS];
        rows.push(&["姓名", "身份证号", "楼栋", "房号"]);
        assert!(matches!(locate_header(&table(&rows), &[]), Err(HeaderError::NoHeader { .. })));
    }

    #[test]
    fn exported_headers_are_recognised() {
        let headers: Vec<&str> = Field::ALL.iter().map(|f| f.header_zh()).collect();
        let map = locate_header(&table(&[&headers]), &[]).unwrap();
        let fields: Vec<Field> = map.columns.iter().map(|c| c.field).collect();
        assert_eq!(fields, Field::ALL);
    }
}
