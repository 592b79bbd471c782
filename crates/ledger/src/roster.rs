//! Importing a grid team roster (网格队伍花名册) as communities keep it in Excel:
//! a title or two above the header, the 网格 and 岗位 cells merged over the people
//! they apply to, one person a row. Every row is checked first; one bad row and
//! nothing is written, and each error names its row and the column as the file heads
//! it. Rows already on the roster (same grid, post and name, still held) are left as
//! they are, so that sending the same file twice adds nobody twice.

use std::collections::HashMap;
use std::sync::LazyLock;

use wangge_domain::{AreaLevel, Explain, Message, Phone, TeamPost, Vocabulary, format_date, msg, parse_date, text};
use wangge_store::registry::areas::{self, Area};
use wangge_store::registry::buildings::{self, BuildingFilter};
use wangge_store::team::{self, GridPost, NewPost, Phones};
use wangge_store::{Db, PageRequest, StoreError};

use crate::columns::{HEADER_SCAN_ROWS, normalize_header};
use crate::import::{RowError, building_key};
use crate::table::{Table, TableRow};

/// A column of a roster.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RosterField {
    Grid,
    Post,
    Name,
    Phone,
    DutyPhone,
    DutyConsent,
    Duties,
    Buildings,
    StartsOn,
}

impl RosterField {
    pub const ALL: [RosterField; 9] = [
        RosterField::Grid,
        RosterField::Post,
        RosterField::Name,
        RosterField::Phone,
        RosterField::DutyPhone,
        RosterField::DutyConsent,
        RosterField::Duties,
        RosterField::Buildings,
        RosterField::StartsOn,
    ];

    /// The header a roster template would use.
    pub fn header_zh(self) -> &'static str {
        self.aliases()[0]
    }

    /// Every header text recognised for the column, Chinese and English.
    pub fn aliases(self) -> &'static [&'static str] {
        match self {
            Self::Grid => &["网格", "所属网格", "网格名称", "网格编码", "grid"],
            Self::Post => &["岗位", "职务", "身份", "人员类别", "队伍类别", "post", "role"],
            Self::Name => &["姓名", "名字", "name"],
            Self::Phone => &["联系电话", "电话", "手机", "手机号", "手机号码", "联系方式", "phone", "mobile"],
            Self::DutyPhone => &["值班电话", "公开电话", "公示电话", "服务电话", "duty phone"],
            Self::DutyConsent => &["同意公示", "是否公示", "公示", "consent"],
            Self::Duties => &["分工", "职责", "工作职责", "负责事项", "duties"],
            Self::Buildings => &["负责楼栋", "包保楼栋", "联系楼栋", "楼栋", "buildings"],
            Self::StartsOn => &["任职日期", "上岗日期", "起始日期", "开始日期", "starts on", "from"],
        }
    }
}

static NAMES: LazyLock<HashMap<String, RosterField>> = LazyLock::new(|| {
    RosterField::ALL.iter().flat_map(|&f| f.aliases().iter().map(move |a| (normalize_header(a), f))).collect()
});

/// What a roster import did, or found wrong.
#[derive(Clone, Debug, Default)]
pub struct RosterReport {
    pub header_row: usize,
    /// Rows with a person on them.
    pub rows_read: usize,
    /// People added to the team.
    pub added: Vec<GridPost>,
    /// People the roster already had (same grid, post and name, still held).
    pub already: usize,
    /// Every bad row; when there is one, nothing was written.
    pub errors: Vec<RowError>,
}

/// Problems with the file as a whole, found before any row is read.
#[derive(Debug, thiserror::Error)]
#[error("{}", self.message())]
pub enum RosterError {
    /// No row among the first ones names a person's name and post.
    NoHeader,
    /// Importing for a community needs a 网格 column.
    NoGridColumn,
    /// The area imported into is neither a grid nor a community.
    NotGridOrCommunity,
    /// A header and not one person below it.
    NoRows {
        header_row: usize,
    },
    Store(#[from] StoreError),
}

impl Explain for RosterError {
    fn message(&self) -> Message {
        match self {
            Self::NoHeader => msg!("roster.error.no_header", scanned = HEADER_SCAN_ROWS),
            Self::NoGridColumn => msg!("roster.error.no_grid_column"),
            Self::NotGridOrCommunity => msg!("roster.error.not_grid_or_community"),
            Self::NoRows { header_row } => msg!("import.no_rows", row = header_row),
            Self::Store(e) => msg!("import.store", detail = e),
        }
    }
}

struct Header {
    index: usize,
    number: usize,
    columns: Vec<(RosterField, usize, String)>,
}

impl Header {
    fn cell<'a>(&self, row: &'a TableRow, field: RosterField) -> Option<&'a str> {
        let (_, index, _) = self.columns.iter().find(|(f, _, _)| *f == field)?;
        Some(row.cell(*index)).filter(|s| !s.is_empty())
    }

    fn header(&self, field: RosterField) -> Option<String> {
        self.columns.iter().find(|(f, _, _)| *f == field).map(|(_, _, h)| h.clone())
    }
}

/// The first of the top rows naming the most roster columns, with at least the name
/// and the post.
fn locate(table: &Table) -> Option<Header> {
    let mut best: Option<Header> = None;
    for (index, row) in table.rows.iter().take(HEADER_SCAN_ROWS).enumerate() {
        let mut columns: Vec<(RosterField, usize, String)> = Vec::new();
        for (i, cell) in row.cells.iter().enumerate() {
            if let Some(&field) = NAMES.get(&normalize_header(cell))
                && !columns.iter().any(|(f, _, _)| *f == field)
            {
                columns.push((field, i, cell.clone()));
            }
        }
        let has = |f| columns.iter().any(|(c, _, _)| *c == f);
        if has(RosterField::Name)
            && has(RosterField::Post)
            && best.as_ref().is_none_or(|b| columns.len() > b.columns.len())
        {
            best = Some(Header { index, number: row.number, columns });
        }
    }
    best
}

/// A grid of the import with its buildings by key (`3号楼` → `3`) and its current team.
struct GridBuildings {
    grid: Area,
    buildings: HashMap<String, String>,
    team: Vec<GridPost>,
}

async fn grid_buildings(db: &Db, grid: Area) -> Result<GridBuildings, StoreError> {
    let filter = BuildingFilter { grid_id: Some(grid.id.clone()), ..Default::default() };
    let page = buildings::list(db, &filter, PageRequest::new(Some(1), Some(PageRequest::MAX_PER_PAGE))).await?;
    let buildings = page.items.into_iter().map(|b| (building_key(&b.number), b.id)).collect();
    let team = team::roster(db, &grid.id, Phones::Hidden, false).await?;
    Ok(GridBuildings { grid, buildings, team })
}

fn yes_no(value: &str) -> Option<bool> {
    match text::normalize(value).to_lowercase().as_str() {
        "是" | "同意" | "y" | "yes" | "√" | "✓" | "1" | "true" => Some(true),
        "否" | "不同意" | "n" | "no" | "×" | "0" | "false" => Some(false),
        _ => None,
    }
}

/// The column a store refusal is about, by the field it names.
fn field_of(message: &Message) -> Option<RosterField> {
    match message.field? {
        "post" => Some(RosterField::Post),
        "person_name" => Some(RosterField::Name),
        "phone" => Some(RosterField::Phone),
        "duty_phone" => Some(RosterField::DutyPhone),
        "starts_on" => Some(RosterField::StartsOn),
        "building_ids" => Some(RosterField::Buildings),
        _ => None,
    }
}

/// Reads a roster into the team of `area`: a grid (a 网格 column, if any, must name
/// it) or a community (the 网格 column names each row's grid by name or code).
/// Writes every new post in one transaction, or nothing when any row is wrong.
pub async fn import_roster(db: &Db, table: &Table, area: &Area) -> Result<RosterReport, RosterError> {
    let grids: Vec<Area> = match area.level {
        AreaLevel::Grid => vec![area.clone()],
        AreaLevel::Community => areas::children(db, &area.id).await?,
        _ => return Err(RosterError::NotGridOrCommunity),
    };
    let header = locate(table).ok_or(RosterError::NoHeader)?;
    let has_grid = header.columns.iter().any(|(f, _, _)| *f == RosterField::Grid);
    if area.level == AreaLevel::Community && !has_grid {
        return Err(RosterError::NoGridColumn);
    }
    let mut places = Vec::with_capacity(grids.len());
    for g in grids {
        places.push(grid_buildings(db, g).await?);
    }
    let mut report = RosterReport { header_row: header.number, ..Default::default() };
    let mut seen: Vec<(String, TeamPost, String)> = Vec::new();
    let mut posts: Vec<(usize, String, NewPost)> = Vec::new();
    for row in table.rows.get(header.index + 1..).unwrap_or(&[]) {
        if row.is_blank() {
            continue;
        }
        let mut errors = Vec::new();
        let mut fail = |field: Option<RosterField>, reason: Message| {
            errors.push(RowError { row: row.number, column: field.and_then(|f| header.header(f)), reason });
        };
        let Some(name) = header.cell(row, RosterField::Name).map(text::normalize) else {
            // A row without a name is a note under the table (制表人, 日期), unless it
            // has a post: then the name is missing.
            if header.cell(row, RosterField::Post).is_some() && header.cell(row, RosterField::Phone).is_some() {
                fail(Some(RosterField::Name), msg!("team.error.name_needed"));
                report.errors.extend(errors);
            }
            continue;
        };
        report.rows_read += 1;
        let place = match header.cell(row, RosterField::Grid) {
            None if area.level == AreaLevel::Grid => places.first(),
            None => {
                fail(Some(RosterField::Grid), msg!("roster.error.grid_needed"));
                None
            }
            Some(g) => {
                let g = text::normalize(g);
                let found = places.iter().find(|p| p.grid.name == g || p.grid.code == g || p.grid.code.ends_with(&g));
                if found.is_none() {
                    fail(Some(RosterField::Grid), msg!("roster.error.grid_unknown", value = &g, area = &area.name));
                }
                found
            }
        };
        let post = match header.cell(row, RosterField::Post) {
            None => {
                fail(Some(RosterField::Post), msg!("team.error.post_needed"));
                None
            }
            Some(p) => match TeamPost::parse(p) {
                Ok(p) => Some(p),
                Err(e) => {
                    fail(Some(RosterField::Post), e.message());
                    None
                }
            },
        };
        let mut phone_of = |field: RosterField| match header.cell(row, field) {
            None => None,
            Some(v) => match Phone::parse(v) {
                Ok(p) => Some(p.as_str().to_owned()),
                Err(e) => {
                    fail(Some(field), e.message());
                    None
                }
            },
        };
        let phone = phone_of(RosterField::Phone);
        let duty_phone = phone_of(RosterField::DutyPhone);
        let consent = match header.cell(row, RosterField::DutyConsent) {
            None => false,
            Some(v) => yes_no(v).unwrap_or_else(|| {
                fail(Some(RosterField::DutyConsent), msg!("roster.error.yes_no", value = v));
                false
            }),
        };
        let starts_on = match header.cell(row, RosterField::StartsOn) {
            None => None,
            Some(v) => match parse_date(v) {
                Some(d) => Some(format_date(d)),
                None => {
                    fail(Some(RosterField::StartsOn), msg!("team.error.date", value = v));
                    None
                }
            },
        };
        let mut building_ids = Vec::new();
        if let (Some(list), Some(place)) = (header.cell(row, RosterField::Buildings), place) {
            for b in list.split(['、', ',', '，', ';', '；', ' ', '\n']).map(str::trim).filter(|b| !b.is_empty()) {
                match place.buildings.get(&building_key(b)) {
                    Some(id) => building_ids.push(id.clone()),
                    None => fail(
                        Some(RosterField::Buildings),
                        msg!("roster.error.building_unknown", value = b, grid = &place.grid.name),
                    ),
                }
            }
        }
        let (Some(place), Some(post)) = (place, post) else {
            report.errors.extend(errors);
            continue;
        };
        if !errors.is_empty() {
            report.errors.extend(errors);
            continue;
        }
        let grid_id = place.grid.id.clone();
        let held = place.team.iter().any(|p| p.post == post && p.person_name.as_deref() == Some(name.as_str()));
        let key = (grid_id.clone(), post, name.clone());
        if held || seen.contains(&key) {
            report.already += 1;
            continue;
        }
        seen.push(key);
        let new = NewPost {
            post: Some(post.code().to_owned()),
            person_name: name,
            phone,
            duty_phone,
            duty_phone_consent: consent,
            duties: header.cell(row, RosterField::Duties).unwrap_or_default().to_owned(),
            building_ids,
            starts_on,
            ..Default::default()
        };
        // What the store would refuse, said for this row before anything is written.
        if let Err(e) = team::check_new(db, &grid_id, &new).await {
            match e {
                StoreError::Invalid(m) | StoreError::Conflict(m) => {
                    let column = field_of(&m).and_then(|f| header.header(f));
                    report.errors.push(RowError { row: row.number, column, reason: m });
                }
                e => return Err(e.into()),
            }
            continue;
        }
        posts.push((row.number, grid_id, new));
    }
    if report.rows_read == 0 && report.errors.is_empty() {
        return Err(RosterError::NoRows { header_row: header.number });
    }
    if !report.errors.is_empty() {
        return Ok(report);
    }
    let posts: Vec<(String, NewPost)> = posts.into_iter().map(|(_, g, n)| (g, n)).collect();
    report.added = team::add_all(db, &posts).await?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_alias_names_two_columns() {
        let mut seen: HashMap<String, RosterField> = HashMap::new();
        for f in RosterField::ALL {
            for a in f.aliases() {
                if let Some(other) = seen.insert(normalize_header(a), f) {
                    assert_eq!(other, f, "{a}");
                }
            }
        }
    }

    #[test]
    fn the_header_is_found_below_a_title() {
        let row =
            |n: usize, cells: &[&str]| TableRow { number: n, cells: cells.iter().map(|c| c.to_string()).collect() };
        let table = Table {
            rows: vec![
                row(1, &["塔山社区网格队伍花名册", "塔山社区网格队伍花名册"]),
                row(2, &["填报日期：2026-03-01"]),
                row(3, &["网格", "岗位", "姓名", "联系电话(手机)", "负责楼栋"]),
                row(4, &["第一网格", "网格员", "王海燕", "13805351234", "3号楼"]),
            ],
        };
        let h = locate(&table).expect("a header");
        assert_eq!((h.index, h.number), (2, 3));
        assert_eq!(h.header(RosterField::Phone).as_deref(), Some("联系电话(手机)"));
        assert_eq!(h.cell(&table.rows[3], RosterField::Buildings), Some("3号楼"));
        assert_eq!(yes_no("是"), Some(true));
        assert_eq!(yes_no("否"), Some(false));
        assert_eq!(yes_no("也许"), None);
    }
}
