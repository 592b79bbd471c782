//! Importing a resident ledger into one community.
//!
//! Three passes: read every row into checked values (collecting every error with its
//! row, column and reason), match or plan the buildings and households the rows
//! need, then write everything in one transaction. By default the import is
//! all-or-nothing: one bad row and nothing is written, so a community never has to
//! find out which half of a file went in. `dry_run` stops before writing and
//! reports what would have happened.

use std::collections::{HashMap, HashSet};
use std::fmt;

use wangge_domain::{
    AreaLevel, BuildingKind, Explain, Gender, IdCardNumber, Message, Occupancy, Phone, PoliticalStatus, Relation,
    ResidenceType, ResidentStatus, Vocabulary, format_date, msg, new_id, parse_date, text,
};
use wangge_store::audit;
use wangge_store::bulk::{self, BuildingRow, BulkLoader, HouseholdRow, ResidentRow};
use wangge_store::registry::areas::{self, Area};
use wangge_store::registry::residents::{LedgerUpdate, Resident, ResidentFilter};
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
    /// A newer version of a ledger already imported: people registered in the
    /// community are compared and updated instead of refused; nobody is deleted.
    pub update: bool,
    /// Who imports, for the audit entries of an update (one per changed person,
    /// with before and after, written in the import's transaction).
    pub actor: Option<Actor>,
}

/// Who runs an import, as the audit log names them.
#[derive(Clone, Debug, Default)]
pub struct Actor {
    pub actor_id: Option<String>,
    pub actor_name: String,
    pub address: Option<String>,
}

/// One problem with one cell (or row) of the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    /// The row number as the spreadsheet shows it.
    pub row: usize,
    /// The column's header as written in the file, when the problem is in one cell.
    pub column: Option<String>,
    /// What is wrong, without the row and column.
    pub reason: Message,
}

impl RowError {
    fn new(row: usize, column: Option<String>, reason: Message) -> Self {
        Self { row, column, reason }
    }

    /// The whole sentence: row, column as the ledger heads it, and the reason.
    pub fn message(&self) -> Message {
        match &self.column {
            Some(column) => msg!("import.row.in_cell", row = self.row, column = column),
            None => msg!("import.row.in_row", row = self.row),
        }
        .nested("reason", self.reason.clone())
    }
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.message().fmt(f)
    }
}

/// One field of a person that a re-sent ledger changes, as the ledger writes it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FieldChange {
    pub field: Field,
    pub before: String,
    pub after: String,
}

/// A registered person whom the ledger gives other facts.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Changed {
    pub row: usize,
    pub resident_id: String,
    pub name: String,
    pub changes: Vec<FieldChange>,
}

/// A registered person of the community whom the re-sent ledger no longer lists:
/// kept, and shown for their grid member to check (moved out? a line lost?).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Missing {
    pub resident_id: String,
    pub name: String,
    /// Masked (`370602********1234`).
    pub id_card: String,
    /// Building, unit and room as the registry writes them (`3-2-301`).
    pub home: String,
    pub path: String,
}

/// What an import did, or would do on a dry run, or found wrong.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct ImportReport {
    pub header_row: usize,
    pub rows_read: usize,
    pub blank_rows: usize,
    /// People new to the registry (all of them, without `update`).
    pub residents: usize,
    pub households_created: usize,
    pub buildings_created: usize,
    /// With `update`: registered people whose facts the ledger changes.
    pub changed: Vec<Changed>,
    /// With `update`: registered people the ledger gives as they are.
    pub unchanged: usize,
    /// With `update`: registered people of the community the ledger leaves out.
    pub missing: Vec<Missing>,
    #[serde(skip)]
    pub errors: Vec<RowError>,
    /// Whether anything was written.
    pub committed: bool,
}

/// Problems with the file or the request as a whole, found before any row is read.
#[derive(Debug, thiserror::Error)]
#[error("{}", self.message())]
pub enum ImportError {
    Header(#[from] HeaderError),
    /// A header and not one person below it.
    NoRows {
        header_row: usize,
    },
    Store(#[from] StoreError),
}

impl Explain for ImportError {
    fn message(&self) -> Message {
        match self {
            Self::Header(e) => e.message(),
            Self::NoRows { header_row } => msg!("import.no_rows", row = header_row),
            Self::Store(e) => msg!("import.store", detail = e),
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
    /// The building as the ledger writes it (`1号楼`), and its key (`1`).
    building_text: String,
    building: String,
    unit: String,
    room: String,
    grid: Option<String>,
    relation: Relation,
    /// The ledger's word when it is not the relation's label (子, 儿媳).
    relation_term: Option<String>,
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
    if report.rows_read == 0 {
        return Err(ImportError::NoRows { header_row: header.header_row });
    }
    check_duplicates_in_file(&header, &people, &mut report.errors);
    let (registered, community_people) =
        check_duplicates_in_database(db, &community, &header, &people, options.update, &mut report.errors).await?;
    let plan = plan_places(db, &community, &header, &people, &mut report.errors).await?;
    let updates = if options.update {
        report.missing = missing_people(community_people, &people);
        compare(&header, &people, &plan, &registered, &catalogue, &mut report)
    } else {
        Vec::new()
    };
    report.residents = people.iter().filter(|p| !registered.contains_key(p.id_card.as_str())).count();
    report.buildings_created = plan.new_buildings.len();
    report.households_created = plan.new_households.len();
    report.errors.sort_by_key(|e| e.row);
    if !report.errors.is_empty() || options.dry_run {
        return Ok(report);
    }
    progress(Progress { stage: Stage::Writing, done: 0, total: people.len() });
    write(db, &community, options, plan, people, &registered, updates, &report.changed).await?;
    progress(Progress { stage: Stage::Writing, done: report.rows_read, total: report.rows_read });
    report.committed = true;
    Ok(report)
}

/// Reads one row; every bad cell of the row is reported, not only the first.
fn read_person(header: &HeaderMap, row: &TableRow, catalogue: &[Tag]) -> Result<Person, Vec<RowError>> {
    let mut errors = Vec::new();
    let mut fail = |field: Field, reason: Message| {
        errors.push(RowError::new(row.number, Some(column_label(header, field)), reason));
    };
    let empty = || msg!("import.row.empty");
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
        Some(raw) => IdCardNumber::parse(raw).map_err(|e| fail(Field::IdCard, e.message())).ok(),
    };
    if let (Some(id), Some(raw)) = (&id_card, cell(Field::Gender)) {
        match Gender::parse(&raw) {
            Ok(g) if g != id.gender() => fail(
                Field::Gender,
                Message::new("import.row.gender_mismatch").term("given", g).term("says", id.gender()),
            ),
            Ok(_) => {}
            Err(e) => fail(Field::Gender, e.message()),
        }
    }
    if let (Some(id), Some(raw)) = (&id_card, cell(Field::BirthDate)) {
        match parse_date(&raw) {
            Some(d) if d != id.birth_date() => fail(
                Field::BirthDate,
                msg!("import.row.birth_mismatch", given = format_date(d), says = format_date(id.birth_date())),
            ),
            Some(_) => {}
            None => fail(Field::BirthDate, msg!("import.row.not_a_date", value = &raw)),
        }
    }
    let phone = cell(Field::Phone).and_then(|raw| Phone::parse(&raw).map_err(|e| fail(Field::Phone, e.message())).ok());
    let building = cell(Field::Building).unwrap_or_else(|| {
        fail(Field::Building, empty());
        String::new()
    });
    let room = cell(Field::Room).unwrap_or_else(|| {
        fail(Field::Room, empty());
        String::new()
    });
    let relation_text = cell(Field::Relation);
    let relation = vocab(relation_text.clone(), Relation::Other).map_err(|e| fail(Field::Relation, e)).ok();
    let residence_type =
        vocab(cell(Field::ResidenceType), ResidenceType::Registered).map_err(|e| fail(Field::ResidenceType, e)).ok();
    let political_status =
        vocab(cell(Field::PoliticalStatus), PoliticalStatus::Masses).map_err(|e| fail(Field::PoliticalStatus, e)).ok();
    let occupancy = match cell(Field::Occupancy) {
        None => Some(None),
        Some(raw) => Occupancy::parse(&raw).map(Some).map_err(|e| fail(Field::Occupancy, e.message())).ok(),
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
            building_text: building,
            unit: unit_key(cell(Field::Unit).as_deref().unwrap_or("")),
            room: room_key(&room),
            grid: cell(Field::Grid),
            relation_term: relation_term(relation, relation_text),
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

/// The ledger's word for a relation, kept when it says more than the code's label
/// (子 and 女 are both 子女; 儿媳 is one of 儿媳女婿).
fn relation_term(relation: Relation, written: Option<String>) -> Option<String> {
    written.filter(|w| w != relation.label_zh() && w != relation.code() && !w.eq_ignore_ascii_case(relation.label_en()))
}

fn column_label(header: &HeaderMap, field: Field) -> String {
    header.header_of(field).unwrap_or(field.header_zh()).to_owned()
}

fn vocab<V: Vocabulary>(value: Option<String>, default: V) -> Result<V, Message> {
    value.map_or(Ok(default), |v| V::parse(&v).map_err(|e| e.message()))
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
fn tag_ids(raw: &str, catalogue: &[Tag]) -> Result<Vec<String>, Message> {
    let mut ids = Vec::new();
    for term in raw.split(['、', '，', ',', '；', ';', ' ', '/']).filter(|t| !t.is_empty()) {
        let tag = tags::find(catalogue, term).ok_or_else(|| {
            let zh = catalogue.iter().map(|t| t.name_zh.as_str()).collect::<Vec<_>>().join("、");
            let en = catalogue.iter().map(|t| format!("{} ({})", t.name_zh, t.name_en)).collect::<Vec<_>>().join(", ");
            msg!("import.row.unknown_tag", term = term).lang_arg("known", zh, en)
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

/// Whether the ledger's text names a block of flats (`1号楼`, `3栋`, `5幢`), not a
/// shop or an office, whose number a plain `1` or `1号` leaves open.
fn says_residential(raw: &str) -> bool {
    let s = text::normalize(raw);
    ["楼", "栋", "幢"].iter().any(|suffix| s.ends_with(suffix))
}

fn unit_key(raw: &str) -> String {
    let s = text::normalize(raw);
    s.strip_suffix("单元").unwrap_or(&s).to_owned()
}

fn room_key(raw: &str) -> String {
    let s = text::normalize(raw);
    ["室", "号"].iter().find_map(|suffix| s.strip_suffix(suffix)).unwrap_or(&s).to_owned()
}

/// The floor a room number stands on: `602` → 6, `1201` → 12; `None` for rooms not
/// numbered by floor (`1`, `B2`, `东户`).
fn floor_of(room: &str) -> Option<i64> {
    if !room.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    match room.len() {
        3 => room[..1].parse().ok(),
        4 => room[..2].parse().ok(),
        _ => None,
    }
    .filter(|&floor| floor > 0)
}

fn check_duplicates_in_file(header: &HeaderMap, people: &[Person], errors: &mut Vec<RowError>) {
    let mut first_row: HashMap<&str, usize> = HashMap::with_capacity(people.len());
    for p in people {
        if let Some(first) = first_row.insert(p.id_card.as_str(), p.row) {
            errors.push(RowError::new(
                p.row,
                Some(column_label(header, Field::IdCard)),
                msg!("import.row.duplicate_in_file", first = first),
            ));
            first_row.insert(p.id_card.as_str(), first);
        }
    }
}

/// People of the file already registered. Without `update` each is an error; with
/// it, those registered in this community (active) are returned, in full, to be
/// compared, and those registered elsewhere are errors; and the community's other
/// active residents, whom the file leaves out.
async fn check_duplicates_in_database(
    db: &Db,
    community: &Area,
    header: &HeaderMap,
    people: &[Person],
    update: bool,
    errors: &mut Vec<RowError>,
) -> Result<(HashMap<String, Resident>, Vec<Resident>), StoreError> {
    let ids: Vec<&str> = people.iter().map(|p| p.id_card.as_str()).collect();
    let registered = residents::registered_id_cards(db, &ids).await?;
    let mut here: HashMap<String, Resident> = HashMap::new();
    let mut others = Vec::new();
    if update {
        let filter = ResidentFilter {
            under_path: Some(community.path.clone()),
            status: Some(ResidentStatus::Active),
            ..Default::default()
        };
        // In full, to compare phones; nothing of it is shown unmasked.
        let wanted: HashSet<&str> = ids.iter().copied().collect();
        for r in residents::all_for_export(db, &filter).await? {
            match r.id_card.clone() {
                Some(id) if wanted.contains(id.as_str()) => {
                    here.insert(id, r);
                }
                _ => others.push(r),
            }
        }
    }
    let column = column_label(header, Field::IdCard);
    for p in people.iter().filter(|p| registered.contains_key(p.id_card.as_str())) {
        let who = &registered[p.id_card.as_str()];
        if !update {
            errors.push(RowError::new(p.row, Some(column.clone()), msg!("import.row.registered", name = who)));
        } else if !here.contains_key(p.id_card.as_str()) {
            errors.push(RowError::new(
                p.row,
                Some(column.clone()),
                msg!("import.row.registered_elsewhere", name = who, community = &community.name),
            ));
        }
    }
    Ok((here, others))
}

/// A known building, as much as the checks of a row need.
struct Place {
    id: String,
    path: String,
    number: String,
    kind: BuildingKind,
    floors: Option<i64>,
    address: Option<String>,
}

impl Place {
    /// `1（商铺，2 层，塔山路1号商铺）`, for the candidates of a message.
    fn describe(&self) -> (String, String) {
        let floors_zh = self.floors.map(|f| format!("，{f} 层")).unwrap_or_default();
        let floors_en = self.floors.map(|f| format!(", {f} floors")).unwrap_or_default();
        let address = self.address.as_deref().unwrap_or("");
        let (address_zh, address_en) = if address.is_empty() {
            (String::new(), String::new())
        } else {
            (format!("，{address}"), format!(", {address}"))
        };
        (
            format!("{}（{}{floors_zh}{address_zh}）", self.number, self.kind.label_zh()),
            format!("{} ({}{floors_en}{address_en})", self.number, self.kind.label_en()),
        )
    }
}

/// The buildings and households the rows live in: found, or to be created.
struct Plan {
    new_buildings: Vec<BuildingRow>,
    new_households: Vec<HouseholdRow>,
    /// For each person, in order: (household id, path); empty when not placed.
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
    let mut places: HashMap<String, Vec<Place>> = HashMap::new();
    for b in buildings::of_community(db, &community.id).await? {
        let place = Place {
            id: b.id,
            path: b.path,
            number: b.number.clone(),
            kind: b.kind,
            floors: b.floors,
            address: b.address,
        };
        places.entry(building_key(&b.number)).or_default().push(place);
    }
    let building_paths: HashMap<String, String> =
        places.values().flatten().map(|p| (p.id.clone(), p.path.clone())).collect();
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
        let building = match places.get(&p.building).map(Vec::as_slice) {
            Some([place]) => match check_place(p, place) {
                Ok(()) => Some((place.id.clone(), place.path.clone())),
                Err((field, reason)) => {
                    errors.push(RowError::new(p.row, Some(column_label(header, field)), reason));
                    None
                }
            },
            Some(several) if !several.is_empty() => {
                let (zh, en) = candidates(several);
                let reason =
                    msg!("import.row.building_ambiguous", given = &p.building_text).lang_arg("candidates", zh, en);
                errors.push(RowError::new(p.row, Some(column_label(header, Field::Building)), reason));
                None
            }
            _ => match new_building(community, &grids, p) {
                Ok(row) => {
                    let found = (row.id.clone(), row.path.clone());
                    let place = Place {
                        id: row.id.clone(),
                        path: row.path.clone(),
                        number: row.number.clone(),
                        kind: row.kind,
                        floors: None,
                        address: None,
                    };
                    places.insert(p.building.clone(), vec![place]);
                    plan.new_buildings.push(row);
                    Some(found)
                }
                Err(reason) => {
                    let column = if p.grid.is_some() { Field::Grid } else { Field::Building };
                    errors.push(RowError::new(p.row, Some(column_label(header, column)), reason));
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
                last_met_on: None,
                last_door_on: None,
            };
            let home = (row.id.clone(), path);
            plan.new_households.push(row);
            home
        });
        plan.homes.push(home.clone());
    }
    Ok(plan)
}

fn candidates(places: &[Place]) -> (String, String) {
    let described: Vec<(String, String)> = places.iter().map(Place::describe).collect();
    (
        described.iter().map(|(zh, _)| zh.as_str()).collect::<Vec<_>>().join("、"),
        described.iter().map(|(_, en)| en.as_str()).collect::<Vec<_>>().join("; "),
    )
}

/// A number that matches a building of another kind (the ledger's 1号楼 and the
/// registry's shop number 1), or a room above the building's floors, is most likely
/// the wrong building: said, with the building found, instead of creating a flat in
/// a shop.
fn check_place(p: &Person, place: &Place) -> Result<(), (Field, Message)> {
    let (zh, en) = place.describe();
    if says_residential(&p.building_text) && matches!(place.kind, BuildingKind::Shop | BuildingKind::Office) {
        let reason = msg!("import.row.building_kind", given = &p.building_text).lang_arg("candidates", zh, en);
        return Err((Field::Building, reason));
    }
    if let (Some(floor), Some(floors)) = (floor_of(&p.room), place.floors)
        && floor > floors
    {
        let reason = msg!("import.row.above_floors", room = &p.room, floor = floor, floors = floors)
            .lang_arg("building", zh, en);
        return Err((Field::Room, reason));
    }
    Ok(())
}

/// A building missing from the registry can be created only when the row says which
/// grid it stands in; otherwise it is most likely a typo, and guessing would put
/// people in a house that does not exist.
fn new_building(community: &Area, grids: &[Area], p: &Person) -> Result<BuildingRow, Message> {
    let Some(grid_ref) = &p.grid else {
        return Err(msg!("import.row.no_building", building = &p.building, community = &community.name));
    };
    let grid = grids
        .iter()
        .find(|g| g.level == AreaLevel::Grid && (&g.code == grid_ref || &g.name == grid_ref))
        .ok_or_else(|| msg!("import.row.no_grid", grid = grid_ref, community = &community.name))?;
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

/// Compares each registered person with their row: fields the file has a column
/// for and gives otherwise are changes. Fills `changed`, `unchanged` and `missing`
/// of the report and returns what to write.
fn compare(
    header: &HeaderMap,
    people: &[Person],
    plan: &Plan,
    registered: &HashMap<String, Resident>,
    catalogue: &[Tag],
    report: &mut ImportReport,
) -> Vec<LedgerUpdate> {
    let codes: HashMap<&str, &str> = catalogue.iter().map(|t| (t.id.as_str(), t.code.as_str())).collect();
    let names: HashMap<&str, &str> = catalogue.iter().map(|t| (t.code.as_str(), t.name_zh.as_str())).collect();
    let by_name: HashMap<&str, &str> = catalogue.iter().map(|t| (t.name_zh.as_str(), t.code.as_str())).collect();
    let tag_text =
        |codes: &[&str]| codes.iter().map(|c| names.get(c).copied().unwrap_or(c)).collect::<Vec<_>>().join("、");
    let mut updates = Vec::new();
    for (p, (household_id, path)) in people.iter().zip(&plan.homes) {
        let Some(r) = registered.get(p.id_card.as_str()) else { continue };
        if household_id.is_empty() {
            continue; // the row has an error already
        }
        let mut changes: Vec<FieldChange> = Vec::new();
        let mut note = |field: Field, before: String, after: String| {
            if before != after {
                changes.push(FieldChange { field, before, after });
            }
        };
        let has = |field: Field| header.has(field);
        note(Field::Name, r.name.clone(), p.name.clone());
        if has(Field::Phone) {
            note(
                Field::Phone,
                r.phone.clone().unwrap_or_default(),
                p.phone.as_ref().map(|x| x.as_str().to_owned()).unwrap_or_default(),
            );
        }
        let moved = r.household_id.as_deref() != Some(household_id.as_str());
        if moved {
            let before = format!(
                "{}-{}-{}",
                r.building_number.as_deref().unwrap_or(""),
                r.unit.as_deref().unwrap_or(""),
                r.room.as_deref().unwrap_or("")
            );
            note(Field::Room, before, format!("{}-{}-{}", p.building, p.unit, p.room));
        }
        let written =
            |relation: Relation, term: &Option<String>| term.clone().unwrap_or_else(|| relation.label_zh().to_owned());
        if has(Field::Relation) {
            note(Field::Relation, written(r.relation, &r.relation_term), written(p.relation, &p.relation_term));
        }
        if has(Field::ResidenceType) {
            note(Field::ResidenceType, r.residence_type.label_zh().into(), p.residence_type.label_zh().into());
        }
        if has(Field::PoliticalStatus) {
            note(Field::PoliticalStatus, r.political_status.label_zh().into(), p.political_status.label_zh().into());
        }
        if has(Field::Ethnicity) {
            note(Field::Ethnicity, r.ethnicity.clone(), p.ethnicity.clone());
        }
        if has(Field::Notes) {
            note(Field::Notes, r.notes.clone(), p.notes.clone());
        }
        let mut after_tags: Vec<&str> = p.tag_ids.iter().filter_map(|id| codes.get(id.as_str()).copied()).collect();
        after_tags.sort_unstable();
        // Read in full for export, the registry's tags come as their Chinese names.
        let mut before_tags: Vec<&str> =
            r.tags.iter().map(|name| by_name.get(name.as_str()).copied().unwrap_or(name.as_str())).collect();
        before_tags.sort_unstable();
        let tags_changed = has(Field::Tags) && before_tags != after_tags;
        if tags_changed {
            note(Field::Tags, tag_text(&before_tags), tag_text(&after_tags));
        }
        if changes.is_empty() {
            report.unchanged += 1;
            continue;
        }
        let keep = |field: Field| !has(field);
        let changed_keys: Vec<&'static str> =
            changes.iter().map(|c| if c.field == Field::Room { "home" } else { c.field.key() }).collect();
        updates.push(LedgerUpdate {
            id: r.id.clone(),
            name: p.name.clone(),
            id_card: p.id_card.clone(),
            phone: if keep(Field::Phone) {
                r.phone.as_deref().and_then(|v| Phone::parse(v).ok())
            } else {
                p.phone.clone()
            },
            household_id: household_id.clone(),
            path: path.clone(),
            residence_type: if keep(Field::ResidenceType) { r.residence_type } else { p.residence_type },
            relation: if keep(Field::Relation) { r.relation } else { p.relation },
            relation_term: if keep(Field::Relation) { r.relation_term.clone() } else { p.relation_term.clone() },
            political_status: if keep(Field::PoliticalStatus) { r.political_status } else { p.political_status },
            ethnicity: if keep(Field::Ethnicity) { r.ethnicity.clone() } else { p.ethnicity.clone() },
            notes: if keep(Field::Notes) { r.notes.clone() } else { p.notes.clone() },
            tag_ids: tags_changed.then(|| p.tag_ids.clone()),
            moved_from: if moved { r.household_id.clone() } else { None },
            changed: changed_keys,
        });
        // Phones are shown masked, here as everywhere.
        for c in &mut changes {
            if c.field == Field::Phone {
                c.before = mask_phone(&c.before);
                c.after = mask_phone(&c.after);
            }
        }
        report.changed.push(Changed { row: p.row, resident_id: r.id.clone(), name: p.name.clone(), changes });
    }
    updates
}

fn mask_phone(value: &str) -> String {
    Phone::parse(value).map(|p| p.masked()).unwrap_or_default()
}

/// Registered people of the community whom the file leaves out, masked.
fn missing_people(others: Vec<Resident>, people: &[Person]) -> Vec<Missing> {
    let in_file: HashSet<&str> = people.iter().map(|p| p.id_card.as_str()).collect();
    others
        .into_iter()
        .filter(|r| r.id_card.as_deref().is_none_or(|id| !in_file.contains(id)))
        .map(|r| Missing {
            id_card: r
                .id_card
                .as_deref()
                .and_then(|v| IdCardNumber::parse(v).ok())
                .map(|i| i.masked())
                .unwrap_or_default(),
            home: format!(
                "{}-{}-{}",
                r.building_number.as_deref().unwrap_or(""),
                r.unit.as_deref().unwrap_or(""),
                r.room.as_deref().unwrap_or("")
            ),
            resident_id: r.id,
            name: r.name,
            path: r.path,
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
async fn write(
    db: &Db,
    community: &Area,
    options: &ImportOptions,
    plan: Plan,
    people: Vec<Person>,
    registered: &HashMap<String, Resident>,
    updates: Vec<LedgerUpdate>,
    changed: &[Changed],
) -> Result<(), StoreError> {
    let today = format_date(time::OffsetDateTime::now_utc().date());
    let rows: Vec<ResidentRow> = people
        .into_iter()
        .zip(plan.homes)
        .filter(|(p, _)| !registered.contains_key(p.id_card.as_str()))
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
            relation_term: p.relation_term,
            political_status: p.political_status,
            ethnicity: p.ethnicity,
            notes: p.notes,
            status: ResidentStatus::Active,
            tag_ids: p.tag_ids,
            registered_on: today.clone(),
            last_met_on: None,
        })
        .collect();
    let mut tx = db.pool.begin().await?;
    // The first big ledger of a new registry loads faster into a table without
    // indexes, built once afterwards. Inside the transaction, so no other writer
    // ever sees the table without its unique index; uniqueness was checked above.
    let rebuild = rows.len() >= REBUILD_INDEXES_FROM
        && sqlx::query("SELECT 1 FROM residents LIMIT 1").fetch_optional(&mut *tx).await?.is_none();
    // And without the people's roll-ups' triggers, counted once at the end.
    let rollups = if rebuild {
        bulk::drop_resident_indexes_on(&mut tx).await?;
        Some(bulk::suspend_rollups_on(&mut tx, db.backend).await?)
    } else {
        None
    };
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
    if let Some(suspended) = rollups {
        bulk::resume_rollups_on(&mut tx, db.backend, suspended).await?;
        bulk::create_resident_indexes_on(&mut tx).await?;
    }
    let actor = options.actor.clone().unwrap_or_default();
    for (update, change) in updates.iter().zip(changed) {
        residents::apply_ledger_update(&mut tx, &db.vault, update).await?;
        let before: serde_json::Map<String, serde_json::Value> =
            change.changes.iter().map(|c| (c.field.key().to_owned(), c.before.clone().into())).collect();
        let after: serde_json::Map<String, serde_json::Value> =
            change.changes.iter().map(|c| (c.field.key().to_owned(), c.after.clone().into())).collect();
        let entry = audit::Entry {
            actor_id: actor.actor_id.clone(),
            actor_name: actor.actor_name.clone(),
            address: actor.address.clone(),
            action: wangge_domain::Vocabulary::code(wangge_domain::AuditAction::ImportUpdateResident).into(),
            target_kind: Some("resident".into()),
            target_id: Some(update.id.clone()),
            path: Some(update.path.clone()),
            reason: Some(format!("row {} of the ledger of {}", change.row, community.name)),
            before: Some(serde_json::Value::Object(before).to_string()),
            after: Some(serde_json::Value::Object(after).to_string()),
            ..Default::default()
        };
        audit::record_on(&mut tx, entry).await?;
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
