//! Importing a resident ledger into one community.
//!
//! Three passes: read every row into checked values (collecting every error with its
//! row, column and reason), match or plan the buildings and households the rows
//! need, then write everything in one transaction. By default the import is
//! all-or-nothing: one bad row and nothing is written, so a community never has to
//! find out which half of a file went in. `dry_run` stops before writing and
//! reports what would have happened.

use std::collections::HashMap;
use std::fmt;

use wangge_domain::{
    AreaLevel, BuildingKind, Gender, IdCardNumber, Occupancy, Phone, PoliticalStatus, Relation, ResidenceType,
    ResidentStatus, Vocabulary, format_date, new_id, parse_date, text,
};
use wangge_store::bulk::{self, BuildingRow, BulkLoader, HouseholdRow, ResidentRow};
use wangge_store::registry::areas::{self, Area};
use wangge_store::registry::tags::{self, Tag};
use wangge_store::registry::{buildings, households, residents};
use wangge_store::{Db, StoreError};

use crate::columns::{Field, HeaderError, HeaderMap, locate_header};
use crate::table::{Table, TableRow};

#[derive(Clone, Debug, Default)]
pub struct ImportOptions {
    /// Code of the community the ledger belongs to.
    pub community_code: String,
    /// Check and report, write nothing.
    pub dry_run: bool,
    /// Header texts of the file mapped to fields, for columns named unusually.
    pub mapping: Vec<(String, Field)>,
}

/// One problem with one cell (or row) of the file.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RowError {
    /// The row number as the spreadsheet shows it.
    pub row: usize,
    /// The column's header as written in the file, when the problem is in one cell.
    pub column: Option<String>,
    pub message: String,
    /// The same in Chinese, for the screens (empty in reports stored before it existed).
    #[serde(default)]
    pub message_zh: String,
}

impl RowError {
    fn new(row: usize, column: Option<String>, message: String, message_zh: String) -> Self {
        Self { row, column, message, message_zh }
    }
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.column {
            Some(column) => write!(f, "row {}, column {}: {}", self.row, column, self.message),
            None => write!(f, "row {}: {}", self.row, self.message),
        }
    }
}

/// What an import did, or would do on a dry run, or found wrong.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct ImportReport {
    pub header_row: usize,
    pub rows_read: usize,
    pub blank_rows: usize,
    pub residents: usize,
    pub households_created: usize,
    pub buildings_created: usize,
    pub errors: Vec<RowError>,
    /// Whether anything was written.
    pub committed: bool,
}

/// Problems with the file or the request as a whole, found before any row is read.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Header(#[from] HeaderError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ImportError {
    /// The same, in Chinese, for the screens (the `Display` text is English).
    pub fn message_zh(&self) -> String {
        match self {
            Self::Header(e) => e.message_zh(),
            Self::Store(e) => format!("保存时出错：{e}"),
        }
    }
}

/// Where a long import is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    Checking,
    Writing,
}

#[derive(Clone, Copy, Debug)]
pub struct Progress {
    pub stage: Stage,
    pub done: usize,
    pub total: usize,
}

/// Imports of at least this many people into an empty registry rebuild the
/// residents' indexes after loading instead of keeping them up to date row by row.
const REBUILD_INDEXES_FROM: usize = 10_000;

/// How many rows between two progress reports.
const PROGRESS_EVERY: usize = 5_000;

/// A row turned into checked values.
struct Person {
    row: usize,
    name: String,
    id_card: IdCardNumber,
    phone: Option<Phone>,
    building: String,
    unit: String,
    room: String,
    grid: Option<String>,
    relation: Relation,
    residence_type: ResidenceType,
    political_status: PoliticalStatus,
    ethnicity: String,
    tag_ids: Vec<String>,
    notes: String,
    occupancy: Option<Occupancy>,
}

pub async fn import_residents(
    db: &Db,
    table: &Table,
    options: &ImportOptions,
    mut progress: impl FnMut(Progress),
) -> Result<ImportReport, ImportError> {
    let header = locate_header(table, &options.mapping)?;
    let community = areas::community_by_code(db, &options.community_code).await?;
    let catalogue = tags::list(db).await?;
    let rows = header.data_rows(table);
    let mut report = ImportReport { header_row: header.header_row, ..Default::default() };
    let mut people = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        if i % PROGRESS_EVERY == 0 {
            progress(Progress { stage: Stage::Checking, done: i, total: rows.len() });
        }
        if row.is_blank() {
            report.blank_rows += 1;
            continue;
        }
        report.rows_read += 1;
        match read_person(&header, row, &catalogue) {
            Ok(person) => people.push(person),
            Err(errors) => report.errors.extend(errors),
        }
    }
    check_duplicates_in_file(&header, &people, &mut report.errors);
    check_duplicates_in_database(db, &header, &people, &mut report.errors).await?;
    let plan = plan_places(db, &community, &header, &people, &mut report.errors).await?;
    report.residents = people.len();
    report.buildings_created = plan.new_buildings.len();
    report.households_created = plan.new_households.len();
    report.errors.sort_by_key(|e| e.row);
    if !report.errors.is_empty() || options.dry_run {
        return Ok(report);
    }
    progress(Progress { stage: Stage::Writing, done: 0, total: people.len() });
    write(db, plan, people).await?;
    progress(Progress { stage: Stage::Writing, done: report.residents, total: report.residents });
    report.committed = true;
    Ok(report)
}

/// Reads one row; every bad cell of the row is reported, not only the first.
fn read_person(header: &HeaderMap, row: &TableRow, catalogue: &[Tag]) -> Result<Person, Vec<RowError>> {
    let mut errors = Vec::new();
    let mut fail = |field: Field, (message, message_zh): (String, String)| {
        errors.push(RowError::new(row.number, Some(column_label(header, field)), message, message_zh));
    };
    let empty = || ("is empty".to_owned(), "未填写".to_owned());
    let cell = |field: Field| header.get(row, field).map(text::normalize).filter(|s| !s.is_empty());

    let name = cell(Field::Name).unwrap_or_else(|| {
        fail(Field::Name, empty());
        String::new()
    });
    let id_card = match header.get(row, Field::IdCard) {
        None => {
            fail(Field::IdCard, empty());
            None
        }
        Some(raw) => IdCardNumber::parse(raw).map_err(|e| fail(Field::IdCard, (e.to_string(), e.message_zh()))).ok(),
    };
    if let (Some(id), Some(raw)) = (&id_card, cell(Field::Gender)) {
        match Gender::parse(&raw) {
            Ok(g) if g != id.gender() => fail(
                Field::Gender,
                (
                    format!(
                        "{} does not match the ID card number, which says {}",
                        g.label_zh(),
                        id.gender().label_zh()
                    ),
                    format!("“{}”与身份证号不符，身份证号显示为“{}”", g.label_zh(), id.gender().label_zh()),
                ),
            ),
            Ok(_) => {}
            Err(e) => fail(Field::Gender, (e.to_string(), e.message_zh())),
        }
    }
    if let (Some(id), Some(raw)) = (&id_card, cell(Field::BirthDate)) {
        match parse_date(&raw) {
            Some(d) if d != id.birth_date() => {
                let (given, says) = (format_date(d), format_date(id.birth_date()));
                fail(
                    Field::BirthDate,
                    (
                        format!("{given} does not match the ID card number, which says {says}"),
                        format!("{given} 与身份证号不符，身份证号显示为 {says}"),
                    ),
                )
            }
            Some(_) => {}
            None => fail(Field::BirthDate, (format!("'{raw}' is not a date"), format!("“{raw}”不是日期"))),
        }
    }
    let phone = cell(Field::Phone)
        .and_then(|raw| Phone::parse(&raw).map_err(|e| fail(Field::Phone, (e.to_string(), e.message_zh()))).ok());
    let building = cell(Field::Building).unwrap_or_else(|| {
        fail(Field::Building, empty());
        String::new()
    });
    let room = cell(Field::Room).unwrap_or_else(|| {
        fail(Field::Room, empty());
        String::new()
    });
    let relation = vocab(cell(Field::Relation), Relation::Other).map_err(|e| fail(Field::Relation, e)).ok();
    let residence_type =
        vocab(cell(Field::ResidenceType), ResidenceType::Registered).map_err(|e| fail(Field::ResidenceType, e)).ok();
    let political_status =
        vocab(cell(Field::PoliticalStatus), PoliticalStatus::Masses).map_err(|e| fail(Field::PoliticalStatus, e)).ok();
    let occupancy = match cell(Field::Occupancy) {
        None => Some(None),
        Some(raw) => {
            Occupancy::parse(&raw).map(Some).map_err(|e| fail(Field::Occupancy, (e.to_string(), e.message_zh()))).ok()
        }
    };
    let tag_ids = cell(Field::Tags).map_or(Ok(Vec::new()), |raw| tag_ids(&raw, catalogue));
    let tag_ids = tag_ids.map_err(|e| fail(Field::Tags, e)).ok();

    match (id_card, relation, residence_type, political_status, occupancy, tag_ids) {
        (
            Some(id_card),
            Some(relation),
            Some(residence_type),
            Some(political_status),
            Some(occupancy),
            Some(tag_ids),
        ) if errors.is_empty() => Ok(Person {
            row: row.number,
            name,
            id_card,
            phone,
            building: building_key(&building),
            unit: unit_key(cell(Field::Unit).as_deref().unwrap_or("")),
            room: room_key(&room),
            grid: cell(Field::Grid),
            relation,
            residence_type,
            political_status,
            ethnicity: ethnicity(cell(Field::Ethnicity)),
            tag_ids,
            notes: cell(Field::Notes).unwrap_or_default(),
            occupancy,
        }),
        _ => Err(errors),
    }
}

fn column_label(header: &HeaderMap, field: Field) -> String {
    header.header_of(field).unwrap_or(field.header_zh()).to_owned()
}

fn vocab<V: Vocabulary>(value: Option<String>, default: V) -> Result<V, (String, String)> {
    value.map_or(Ok(default), |v| V::parse(&v).map_err(|e| (e.to_string(), e.message_zh())))
}

/// "汉" and "汉族" are the same answer.
fn ethnicity(value: Option<String>) -> String {
    match value {
        None => "汉族".into(),
        Some(v) if !v.ends_with('族') && v.chars().count() <= 3 && !v.is_ascii() => format!("{v}族"),
        Some(v) => v,
    }
}

/// Tags are listed in one cell, separated by 、，,；; or spaces.
fn tag_ids(raw: &str, catalogue: &[Tag]) -> Result<Vec<String>, (String, String)> {
    let mut ids = Vec::new();
    for term in raw.split(['、', '，', ',', '；', ';', ' ', '/']).filter(|t| !t.is_empty()) {
        let tag = tags::find(catalogue, term).ok_or_else(|| {
            let known = catalogue.iter().map(|t| t.name_zh.as_str()).collect::<Vec<_>>().join("、");
            (
                format!("unknown tag '{term}'; the catalogue has {known}"),
                format!("没有“{term}”这个标签；可用的标签：{known}"),
            )
        })?;
        if !ids.contains(&tag.id) {
            ids.push(tag.id.clone());
        }
    }
    Ok(ids)
}

/// Building numbers are written "12", "12号", "12号楼", "12栋": all mean building 12.
pub fn building_key(raw: &str) -> String {
    let s = text::normalize(raw);
    let trimmed = ["号楼", "号", "栋", "幢", "楼"].iter().find_map(|suffix| s.strip_suffix(suffix)).unwrap_or(&s);
    if trimmed.is_empty() { s } else { trimmed.to_owned() }
}

fn unit_key(raw: &str) -> String {
    let s = text::normalize(raw);
    s.strip_suffix("单元").unwrap_or(&s).to_owned()
}

fn room_key(raw: &str) -> String {
    let s = text::normalize(raw);
    ["室", "号"].iter().find_map(|suffix| s.strip_suffix(suffix)).unwrap_or(&s).to_owned()
}

fn check_duplicates_in_file(header: &HeaderMap, people: &[Person], errors: &mut Vec<RowError>) {
    let mut first_row: HashMap<&str, usize> = HashMap::with_capacity(people.len());
    for p in people {
        if let Some(first) = first_row.insert(p.id_card.as_str(), p.row) {
            errors.push(RowError::new(
                p.row,
                Some(column_label(header, Field::IdCard)),
                format!("the same ID card number as row {first}"),
                format!("与第 {first} 行的身份证号重复"),
            ));
            first_row.insert(p.id_card.as_str(), first);
        }
    }
}

async fn check_duplicates_in_database(
    db: &Db,
    header: &HeaderMap,
    people: &[Person],
    errors: &mut Vec<RowError>,
) -> Result<(), StoreError> {
    let ids: Vec<&str> = people.iter().map(|p| p.id_card.as_str()).collect();
    let registered = residents::registered_id_cards(db, &ids).await?;
    for p in people.iter().filter(|p| registered.contains_key(p.id_card.as_str())) {
        let who = &registered[p.id_card.as_str()];
        errors.push(RowError::new(
            p.row,
            Some(column_label(header, Field::IdCard)),
            format!("already registered (as {who}); edit that record instead of importing it again"),
            format!("已登记（{who}）；请修改那条记录，不要重复导入"),
        ));
    }
    Ok(())
}

/// The buildings and households the rows live in: found, or to be created.
struct Plan {
    new_buildings: Vec<BuildingRow>,
    new_households: Vec<HouseholdRow>,
    /// For each person, in order: (household id, path).
    homes: Vec<(String, String)>,
}

async fn plan_places(
    db: &Db,
    community: &Area,
    header: &HeaderMap,
    people: &[Person],
    errors: &mut Vec<RowError>,
) -> Result<Plan, StoreError> {
    let grids = areas::children(db, &community.id).await?;
    let mut buildings: HashMap<String, (String, String)> = buildings::of_community(db, &community.id)
        .await?
        .into_iter()
        .map(|b| (building_key(&b.number), (b.id, b.path)))
        .collect();
    let building_paths: HashMap<String, String> =
        buildings.values().map(|(id, path)| (id.clone(), path.clone())).collect();
    let mut homes_by_key: HashMap<(String, String, String), (String, String)> =
        households::keys_under(db, &community.path)
            .await?
            .into_iter()
            .map(|h| {
                let path = building_paths.get(&h.building_id).cloned().unwrap_or_default();
                ((h.building_id, unit_key(&h.unit), room_key(&h.room)), (h.id, path))
            })
            .collect();
    let mut plan =
        Plan { new_buildings: Vec::new(), new_households: Vec::new(), homes: Vec::with_capacity(people.len()) };
    for p in people {
        let building = match buildings.get(&p.building) {
            Some(found) => Some(found.clone()),
            None => match new_building(community, &grids, p) {
                Ok(row) => {
                    let found = (row.id.clone(), row.path.clone());
                    buildings.insert(p.building.clone(), found.clone());
                    plan.new_buildings.push(row);
                    Some(found)
                }
                Err((message, message_zh)) => {
                    let column = if p.grid.is_some() { Field::Grid } else { Field::Building };
                    errors.push(RowError::new(p.row, Some(column_label(header, column)), message, message_zh));
                    None
                }
            },
        };
        let Some((building_id, path)) = building else {
            plan.homes.push((String::new(), String::new()));
            continue;
        };
        let key = (building_id.clone(), p.unit.clone(), p.room.clone());
        let home = homes_by_key.entry(key).or_insert_with(|| {
            let row = HouseholdRow {
                id: new_id(),
                building_id,
                path: path.clone(),
                unit: p.unit.clone(),
                room: p.room.clone(),
                occupancy: p.occupancy.unwrap_or(Occupancy::OwnerOccupied),
            };
            let home = (row.id.clone(), path);
            plan.new_households.push(row);
            home
        });
        plan.homes.push(home.clone());
    }
    Ok(plan)
}

/// A building missing from the registry can be created only when the row says which
/// grid it stands in; otherwise it is most likely a typo, and guessing would put
/// people in a house that does not exist.
fn new_building(community: &Area, grids: &[Area], p: &Person) -> Result<BuildingRow, (String, String)> {
    let Some(grid_ref) = &p.grid else {
        return Err((
            format!(
                "building {} is not in the registry of {}; add it first, or give its grid in a 网格 column so it can be created",
                p.building, community.name
            ),
            format!(
                "{}没有 {} 号楼；请先添加这栋楼，或在“网格”列写明它所在的网格，以便自动创建",
                community.name, p.building
            ),
        ));
    };
    let grid = grids
        .iter()
        .find(|g| g.level == AreaLevel::Grid && (&g.code == grid_ref || &g.name == grid_ref))
        .ok_or_else(|| {
            (
                format!("grid '{grid_ref}' is not a grid of {}", community.name),
                format!("“{grid_ref}”不是{}的网格", community.name),
            )
        })?;
    Ok(BuildingRow {
        id: new_id(),
        grid_id: grid.id.clone(),
        community_id: community.id.clone(),
        path: grid.path.clone(),
        number: p.building.clone(),
        address: None,
        kind: if p.unit.is_empty() { BuildingKind::Bungalow } else { BuildingKind::Residential },
        floors: None,
        units: None,
        lat: None,
        lng: None,
    })
}

async fn write(db: &Db, plan: Plan, people: Vec<Person>) -> Result<(), StoreError> {
    let today = format_date(time::OffsetDateTime::now_utc().date());
    let rows: Vec<ResidentRow> = people
        .into_iter()
        .zip(plan.homes)
        .map(|(p, (household_id, path))| ResidentRow {
            id: new_id(),
            household_id: Some(household_id),
            path,
            name: p.name,
            gender: p.id_card.gender(),
            birth_date: format_date(p.id_card.birth_date()),
            id_card: Some(p.id_card),
            phone: p.phone,
            residence_type: p.residence_type,
            relation: p.relation,
            political_status: p.political_status,
            ethnicity: p.ethnicity,
            notes: p.notes,
            status: ResidentStatus::Active,
            tag_ids: p.tag_ids,
            registered_on: today.clone(),
        })
        .collect();
    let mut tx = db.pool.begin().await?;
    // The first big ledger of a new registry loads faster into a table without
    // indexes, built once afterwards. Inside the transaction, so no other writer
    // ever sees the table without its unique index; uniqueness was checked above.
    let rebuild = rows.len() >= REBUILD_INDEXES_FROM
        && sqlx::query("SELECT 1 FROM residents LIMIT 1").fetch_optional(&mut *tx).await?.is_none();
    if rebuild {
        bulk::drop_resident_indexes_on(&mut tx).await?;
    }
    let mut loader = BulkLoader::new(&mut tx, &db.vault);
    loader.buildings(&plan.new_buildings).await?;
    loader.households(&plan.new_households).await?;
    loader.residents(&rows).await.map_err(|e| match e {
        // A concurrent registration between the check and the write.
        StoreError::Database(err) => {
            StoreError::on_unique(err, || wangge_domain::msg!("registry.error.id_card_meanwhile"))
        }
        other => other,
    })?;
    if rebuild {
        bulk::create_resident_indexes_on(&mut tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn building_room_and_unit_spellings_meet() {
        assert_eq!(building_key("12号楼"), "12");
        assert_eq!(building_key(" １２栋 "), "12");
        assert_eq!(building_key("号"), "号");
        assert_eq!(unit_key("2单元"), "2");
        assert_eq!(room_key("301室"), "301");
        assert_eq!(ethnicity(Some("回".into())), "回族");
        assert_eq!(ethnicity(None), "汉族");
    }
}
