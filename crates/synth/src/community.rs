//! One community's ledgers as bulk rows — buildings, households, residents,
//! organisations — and the "1 + X + N" posts of its grids, built in memory first and
//! then written through the store: [`BulkLoader`] on the caller's transaction, or
//! [`SqliteBulkTx`] on a file's loading connection.

use fastrand::Rng;
use sqlx::AnyConnection;
use wangge_domain::{
    BuildingKind, Gender, Occupancy, PoliticalStatus, ResidenceType, ResidentStatus, TeamPost, format_date, new_id,
};
use wangge_store::bulk::{
    BuildingRow, BulkLoader, GridPostRow, HouseholdRow, OrganisationRow, ResidentRow, SealedResident, seal_posts,
    seal_residents,
};
use wangge_store::bulk_sqlite::SqliteBulkTx;
use wangge_store::registry::areas::Area;
use wangge_store::team::SealedPost;
use wangge_store::visits::PastVisit;
use wangge_store::{StoreResult, Vault};

use crate::households::{Family, Household};
use crate::names::{SURNAMES, full_name};
use crate::organisations::{Site, organisations};
use crate::people::{
    AS_OF, IdBook, IdOwnership, PhoneBook, Tag, TagIds, Tags, chance, ethnicity, has_mobile, individual_tags,
    political_status,
};

/// How big a community is and what it is built of.
#[derive(Clone, Debug)]
pub(crate) struct Shape {
    pub grids: usize,
    /// Six-storey blocks (住宅楼) with two units of two flats a floor: 24 households.
    pub two_unit_blocks: usize,
    /// The same with three units: 36 households.
    pub three_unit_blocks: usize,
    /// Bungalows (平房) of the old village, one household each.
    pub bungalows: usize,
    /// Shops along the street (商铺), where nobody is registered.
    pub shops: usize,
    pub residents: usize,
}

const FLOORS: u8 = 6;
const FLATS_PER_FLOOR: u8 = 2;

/// Tashan as the seed describes it: 8 grids, 269 buildings, 3,260 residents; an old
/// village-like community of bungalows around a few blocks of flats and a row of
/// shops, which gives about 1,150 households (a few of them vacant).
pub(crate) const TASHAN: Shape =
    Shape { grids: 8, two_unit_blocks: 20, three_unit_blocks: 13, bungalows: 200, shops: 36, residents: 3_260 };

impl Shape {
    pub(crate) fn buildings(&self) -> usize {
        self.two_unit_blocks + self.three_unit_blocks + self.bungalows + self.shops
    }

    /// Tashan scaled by 85–115%: a city's communities differ in size more than in kind.
    pub(crate) fn like_tashan(rng: &mut Rng) -> Shape {
        let factor = 0.85 + rng.f64() * 0.30;
        let scale = |n: usize| (n as f64 * factor).round() as usize;
        Shape {
            grids: scale(TASHAN.grids),
            two_unit_blocks: scale(TASHAN.two_unit_blocks),
            three_unit_blocks: scale(TASHAN.three_unit_blocks),
            bungalows: scale(TASHAN.bungalows),
            shops: scale(TASHAN.shops).max(1),
            residents: scale(TASHAN.residents),
        }
    }
}

/// What the rows need to know about the community they are in.
pub(crate) struct Place<'a> {
    pub community: &'a Area,
    pub grids: &'a [Area],
    /// Written before building numbers in addresses: 芝罘区岐山街道塔山社区.
    pub address_prefix: &'a str,
    /// The name without 社区 (塔山), for the names of organisations.
    pub stem: &'a str,
    /// (latitude, longitude) the buildings gather around.
    pub centre: (f64, f64),
}

/// Where a community's ID and phone numbers come from, and the tag catalogue.
pub(crate) struct Books<'a> {
    pub ids: &'a mut IdBook,
    pub phones: PhoneBook,
    pub tag_ids: &'a TagIds,
}

/// Everything one community writes.
pub(crate) struct Rows {
    pub grids: usize,
    pub buildings: Vec<BuildingRow>,
    pub households: Vec<HouseholdRow>,
    pub residents: Vec<ResidentRow>,
    pub organisations: Vec<OrganisationRow>,
    pub posts: Vec<GridPostRow>,
}

/// A community ready to write: the areas it adds (parents first: a new district or
/// street, the community, its grids), its rows, and its residents' ID card numbers
/// and phones already sealed — the costly part, done before the writer sees them.
pub(crate) struct Ready {
    pub areas: Vec<Area>,
    pub rows: Rows,
    pub sealed: Vec<SealedResident>,
    pub sealed_posts: Vec<SealedPost>,
    /// A year of visits (`generate` only: the demo writes its own history) and what
    /// was found at each, sealed.
    pub visits: Vec<PastVisit>,
    pub sealed_findings: Vec<Option<String>>,
}

impl Ready {
    pub(crate) fn new(vault: &Vault, areas: Vec<Area>, rows: Rows) -> Self {
        let sealed = seal_residents(vault, &rows.residents);
        let sealed_posts = seal_posts(vault, &rows.posts);
        Self { areas, rows, sealed, sealed_posts, visits: Vec::new(), sealed_findings: Vec::new() }
    }

    /// With `visits` to write after the registry rows, their findings sealed here
    /// (on the drawing thread).
    pub(crate) fn with_visits(mut self, vault: &Vault, visits: Vec<PastVisit>) -> Self {
        self.sealed_findings = wangge_store::visits::seal_findings(vault, &visits);
        self.visits = visits;
        self
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Block {
    TwoUnits,
    ThreeUnits,
    Bungalow,
    Shop,
}

/// A flat or bungalow: one household row, occupied or vacant.
struct Room {
    building: usize,
    /// 0 for a bungalow (no units), else 1…
    unit: u8,
    floor: u8,
    flat: u8,
}

/// Residents of a grid who may hold a post in its team, by index into the rows.
#[derive(Default)]
struct Candidates {
    party_members: Vec<usize>,
    volunteers: Vec<usize>,
    /// Settled adults of 45–72: who becomes a building head (楼长).
    elders: Vec<usize>,
}

pub(crate) fn build_rows(
    rng: &mut Rng,
    shape: &Shape,
    place: &Place<'_>,
    books: &mut Books<'_>,
) -> anyhow::Result<Rows> {
    anyhow::ensure!(place.grids.len() == shape.grids && shape.grids > 0, "a community needs its grids");
    let blocks = block_plan(rng, shape);
    let grid_of: Vec<usize> = (0..blocks.len()).map(|i| i * shape.grids / blocks.len()).collect();
    let buildings = building_rows(rng, place, &blocks, &grid_of);
    let rooms = rooms_of(&blocks);
    let occupants = occupy(rng, rooms.len(), shape.residents)?;

    let mut households = Vec::with_capacity(rooms.len());
    let mut residents = Vec::with_capacity(shape.residents);
    let mut candidates: Vec<Candidates> = (0..shape.grids).map(|_| Candidates::default()).collect();
    for (room, household) in rooms.iter().zip(&occupants) {
        let grid = grid_of[room.building];
        let row = household_row(room, &buildings[room.building], household.as_ref());
        if let Some(household) = household {
            resident_rows(rng, books, household, &row, &mut residents, &mut candidates[grid]);
        }
        households.push(row);
    }

    let sites = organisation_sites(&blocks, &grid_of, &buildings);
    let organisations = organisations(rng, place, &sites);
    let posts = grid_posts(rng, &mut books.phones, place.grids, (&buildings, &households, &residents), &candidates);
    Ok(Rows { grids: shape.grids, buildings, households, residents, organisations, posts })
}

/// Writes one community on `conn` (a transaction the caller commits).
pub(crate) async fn write_rows(conn: &mut AnyConnection, vault: &Vault, ready: &Ready) -> anyhow::Result<()> {
    let Ready { areas, rows, sealed, .. } = ready;
    {
        let mut loader = BulkLoader::new(conn, vault);
        loader.areas(areas).await?;
        loader.buildings(&rows.buildings).await?;
        loader.households(&rows.households).await?;
        loader.sealed_residents(&rows.residents, sealed).await?;
        loader.organisations(&rows.organisations).await?;
        loader.grid_posts(&rows.posts).await?;
    }
    if !ready.visits.is_empty() {
        wangge_store::visits::record_past(conn, vault, &ready.visits).await?;
    }
    Ok(())
}

/// [`write_rows`] through an SQLite file's loading connection.
pub(crate) fn write_rows_sqlite(tx: &SqliteBulkTx<'_>, ready: &Ready) -> StoreResult<()> {
    let Ready { areas, rows, sealed, sealed_posts, visits, sealed_findings } = ready;
    tx.areas(areas)?;
    tx.buildings(&rows.buildings)?;
    tx.households(&rows.households)?;
    tx.residents(&rows.residents, sealed)?;
    tx.organisations(&rows.organisations)?;
    tx.grid_posts(&rows.posts, sealed_posts)?;
    tx.visits(visits, sealed_findings)?;
    Ok(())
}

// -- buildings ------------------------------------------------------------------------

/// The kinds of the community's buildings in street order: shuffled, so every grid
/// gets bungalows, blocks and shops as old neighbourhoods grew.
fn block_plan(rng: &mut Rng, shape: &Shape) -> Vec<Block> {
    let mut blocks = Vec::with_capacity(shape.buildings());
    blocks.extend(std::iter::repeat_n(Block::TwoUnits, shape.two_unit_blocks));
    blocks.extend(std::iter::repeat_n(Block::ThreeUnits, shape.three_unit_blocks));
    blocks.extend(std::iter::repeat_n(Block::Bungalow, shape.bungalows));
    blocks.extend(std::iter::repeat_n(Block::Shop, shape.shops));
    rng.shuffle(&mut blocks);
    blocks
}

fn building_rows(rng: &mut Rng, place: &Place<'_>, blocks: &[Block], grid_of: &[usize]) -> Vec<BuildingRow> {
    blocks
        .iter()
        .enumerate()
        .map(|(i, block)| {
            let grid = &place.grids[grid_of[i]];
            let number = (i + 1).to_string();
            let (kind, floors, units, suffix) = match block {
                Block::TwoUnits => (BuildingKind::Residential, Some(i64::from(FLOORS)), Some(2), "号楼"),
                Block::ThreeUnits => (BuildingKind::Residential, Some(i64::from(FLOORS)), Some(3), "号楼"),
                Block::Bungalow => (BuildingKind::Bungalow, Some(1), None, "号"),
                Block::Shop => (BuildingKind::Shop, Some(rng.i64(1..=2)), None, "号商铺"),
            };
            let (lat, lng) = building_position(rng, place.centre, grid_of[i]);
            BuildingRow {
                id: new_id(),
                grid_id: grid.id.clone(),
                community_id: place.community.id.clone(),
                path: grid.path.clone(),
                address: Some(format!("{}{number}{suffix}", place.address_prefix)),
                number,
                kind,
                floors,
                units,
                lat: Some(lat),
                lng: Some(lng),
            }
        })
        .collect()
}

/// Grids lie three to a row around the community's centre, a few hundred metres
/// apart; buildings scatter within their grid.
fn building_position(rng: &mut Rng, centre: (f64, f64), grid: usize) -> (f64, f64) {
    let (row, col) = ((grid / 3) as f64, (grid % 3) as f64);
    let lat = centre.0 + (row - 1.0) * 0.0030 + (rng.f64() - 0.5) * 0.0025;
    let lng = centre.1 + (col - 1.0) * 0.0035 + (rng.f64() - 0.5) * 0.0030;
    let round = |x: f64| (x * 1e6).round() / 1e6;
    (round(lat), round(lng))
}

/// The boundaries of a community and its grids, matching [`building_position`]: each
/// grid a cell of a grid three cells wide around the centre (0.0030° of latitude by
/// 0.0035° of longitude, about 330 by 310 m), the last grid of a short last row
/// stretched to the community's east edge, so that the grids partition the
/// community's rectangle and every building lies inside its grid.
pub(crate) fn set_boundaries(community: &mut Area, grids: &mut [Area], centre: (f64, f64)) {
    use wangge_store::cockpit::map::ring_geometry;
    if grids.is_empty() {
        return;
    }
    let (half_lat, half_lng) = (0.0015, 0.00175);
    let round = |x: f64| (x * 1e7).round() / 1e7;
    let cell_lat = |row: usize| centre.0 + (row as f64 - 1.0) * 0.0030;
    let cell_lng = |col: usize| centre.1 + (col as f64 - 1.0) * 0.0035;
    let rows = grids.len().div_ceil(3);
    let cols = grids.len().min(3);
    let rect = |w: f64, s: f64, e: f64, n: f64| {
        let (w, s, e, n) = (round(w), round(s), round(e), round(n));
        ring_geometry(&[(w, s), (e, s), (e, n), (w, n), (w, s)])
    };
    let east = cell_lng(cols - 1) + half_lng;
    community.boundary =
        Some(rect(cell_lng(0) - half_lng, cell_lat(0) - half_lat, east, cell_lat(rows - 1) + half_lat));
    let count = grids.len();
    for (i, grid) in grids.iter_mut().enumerate() {
        let (row, col) = (i / 3, i % 3);
        let last_in_row = i + 1 == count || col == 2;
        let e = if last_in_row { east } else { cell_lng(col) + half_lng };
        grid.boundary = Some(rect(cell_lng(col) - half_lng, cell_lat(row) - half_lat, e, cell_lat(row) + half_lat));
    }
}

fn rooms_of(blocks: &[Block]) -> Vec<Room> {
    let mut rooms = Vec::new();
    for (building, block) in blocks.iter().enumerate() {
        let units = match block {
            Block::TwoUnits => 2,
            Block::ThreeUnits => 3,
            Block::Bungalow => {
                rooms.push(Room { building, unit: 0, floor: 1, flat: 1 });
                continue;
            }
            Block::Shop => continue,
        };
        for unit in 1..=units {
            for floor in 1..=FLOORS {
                for flat in 1..=FLATS_PER_FLOOR {
                    rooms.push(Room { building, unit, floor, flat });
                }
            }
        }
    }
    rooms
}

/// Organisations stand in the shops, or anywhere if a community has none.
fn organisation_sites(blocks: &[Block], grid_of: &[usize], buildings: &[BuildingRow]) -> Vec<Site> {
    let site = |i: usize| Site { grid: grid_of[i], address: buildings[i].address.clone().unwrap_or_default() };
    let shops: Vec<Site> = (0..blocks.len()).filter(|i| blocks[*i] == Block::Shop).map(site).collect();
    if shops.is_empty() { (0..blocks.len()).map(site).collect() } else { shops }
}

// -- households -------------------------------------------------------------------------

/// Who lives in each room, with exactly `target` people in all. Rooms are visited in
/// random order and filled until the target is reached; the rest stay vacant (a few
/// are vacant anyway). Then children are added or removed until the count is exact.
fn occupy(rng: &mut Rng, rooms: usize, target: usize) -> anyhow::Result<Vec<Option<Household>>> {
    let mut order: Vec<usize> = (0..rooms).collect();
    rng.shuffle(&mut order);
    let mut occupants: Vec<Option<Household>> = (0..rooms).map(|_| None).collect();
    let mut total = 0;
    for room in order {
        if total >= target || chance(rng, 30) {
            continue;
        }
        let rented = chance(rng, 110);
        let household = Household::draw(rng, rented);
        total += household.len();
        occupants[room] = Some(household);
    }
    // Each step moves the total by one person, or fills a vacant room.
    for _ in 0..100 * target.max(1) {
        if total == target {
            return Ok(occupants);
        }
        if total < target {
            total += grow_one(rng, &mut occupants);
        } else {
            total -= shrink_one(rng, &mut occupants);
        }
    }
    anyhow::bail!("could not house exactly {target} people in {rooms} rooms")
}

/// Adds a child to a random family that has children; failing that moves a
/// household into a vacant room, or (in an overcrowded community) takes in a lodger.
/// Returns how many people were added.
fn grow_one(rng: &mut Rng, occupants: &mut [Option<Household>]) -> usize {
    if occupants.is_empty() {
        return 0;
    }
    for _ in 0..200 {
        if let Some(h) = occupants[rng.usize(0..occupants.len())].as_mut().filter(|h| h.can_grow()) {
            h.add_child(rng);
            return 1;
        }
    }
    if let Some(room) = occupants.iter().position(Option::is_none) {
        let household = Household::draw(rng, false);
        let added = household.len();
        occupants[room] = Some(household);
        return added;
    }
    let room = rng.usize(0..occupants.len());
    occupants[room].as_mut().map_or(0, |h| {
        h.add_lodger(rng);
        1
    })
}

/// Takes a child or lodger out of a random household, or failing that empties a
/// one-person room. Returns how many people were removed.
fn shrink_one(rng: &mut Rng, occupants: &mut [Option<Household>]) -> usize {
    for _ in 0..200 {
        if let Some(h) = occupants[rng.usize(0..occupants.len())].as_mut().filter(|h| h.can_shrink()) {
            h.remove_last();
            return 1;
        }
    }
    match occupants.iter().position(|h| h.as_ref().is_some_and(|h| h.len() == 1)) {
        Some(room) => {
            occupants[room] = None;
            1
        }
        None => 0,
    }
}

fn household_row(room: &Room, building: &BuildingRow, household: Option<&Household>) -> HouseholdRow {
    let occupancy = match household.map(|h| h.family) {
        None => Occupancy::Vacant,
        Some(Family::Renters | Family::Sharers) => Occupancy::Rented,
        Some(_) => Occupancy::OwnerOccupied,
    };
    let (unit, room_number) = if room.unit == 0 {
        (String::new(), room.flat.to_string())
    } else {
        (room.unit.to_string(), format!("{}0{}", room.floor, room.flat))
    };
    HouseholdRow {
        id: new_id(),
        building_id: building.id.clone(),
        path: building.path.clone(),
        unit,
        room: room_number,
        occupancy,
        last_met_on: None,
        last_door_on: None,
    }
}

// -- residents ---------------------------------------------------------------------------

const FIRST_REGISTRATION: i32 = time::macros::date!(1998 - 01 - 01).to_julian_day();

/// The rows of one household's members, with what they share: ethnicity, the low
/// income allowance (paid per household), where the newcomers came from, and when
/// the household was entered in the ledger.
fn resident_rows(
    rng: &mut Rng,
    books: &mut Books<'_>,
    household: &Household,
    row: &HouseholdRow,
    out: &mut Vec<ResidentRow>,
    candidates: &mut Candidates,
) {
    let as_of = AS_OF.to_julian_day();
    let ethnicity = ethnicity(rng);
    let poor_per_mille = if matches!(household.family, Family::ElderlyAlone | Family::LeftBehind) { 60 } else { 15 };
    let low_income = chance(rng, poor_per_mille);
    let origin = 1 + rng.usize(0..IdOwnership::ORIGINS);
    let since = if row.occupancy == Occupancy::Rented {
        as_of - rng.i32(7..1_460)
    } else {
        rng.i32(FIRST_REGISTRATION..as_of - 30)
    };
    for person in &household.members {
        let age = person.age();
        let political_status = political_status(rng, age);
        let mut tags = individual_tags(rng, person, political_status);
        if low_income {
            tags = tags.with(Tag::LowIncome);
        }
        let owner = if person.residence == ResidenceType::Floating { origin } else { IdOwnership::LOCAL };
        let (id_card, birth) = books.ids.issue(owner, person.birth, person.gender);
        let name = full_name(rng, person.surname, birth.year(), person.gender);
        let phone = has_mobile(rng, age).then(|| books.phones.issue(rng));
        let registered = since.max(birth.to_julian_day());
        if phone.is_some() {
            note_candidate(candidates, out.len(), age, political_status, tags);
        }
        out.push(ResidentRow {
            id: new_id(),
            household_id: Some(row.id.clone()),
            path: row.path.clone(),
            name,
            gender: person.gender,
            birth_date: format_date(birth),
            id_card: Some(id_card),
            phone,
            residence_type: person.residence,
            relation: person.relation,
            relation_term: None,
            political_status,
            ethnicity: ethnicity.to_owned(),
            notes: String::new(),
            status: ResidentStatus::Active,
            tag_ids: books.tag_ids.ids_of(tags),
            registered_on: format_date(time::Date::from_julian_day(registered).expect("a day between birth and now")),
            last_met_on: None,
        });
    }
}

/// Residents with a phone who may hold a post in their grid's team.
fn note_candidate(candidates: &mut Candidates, index: usize, age: i32, political: PoliticalStatus, tags: Tags) {
    if political == PoliticalStatus::PartyMember && (25..=75).contains(&age) {
        candidates.party_members.push(index);
    }
    if tags.has(Tag::Volunteer) {
        candidates.volunteers.push(index);
    }
    if (45..=72).contains(&age) {
        candidates.elders.push(index);
    }
}

// -- grid teams --------------------------------------------------------------------------

/// The "1 + X + N" team of every grid: a grid leader and one or two grid members
/// (community staff, who share the grid's buildings), and the N — a Party member, one
/// or two volunteers, two or three building heads (each looking after the building
/// they live in) from among the residents, the property company's man and the
/// community police officer, who serves every grid.
fn grid_posts(
    rng: &mut Rng,
    phones: &mut PhoneBook,
    grids: &[Area],
    team: (&[BuildingRow], &[HouseholdRow], &[ResidentRow]),
    candidates: &[Candidates],
) -> Vec<GridPostRow> {
    let (buildings, households, residents) = team;
    let mut posts = Vec::new();
    let police = staff_post(rng, phones, &grids[0], TeamPost::Police);
    for (c, grid) in candidates.iter().zip(grids) {
        let mut leader = staff_post(rng, phones, grid, TeamPost::Leader);
        leader.duties = "统筹网格工作".into();
        posts.push(leader);
        let mine: Vec<&String> = buildings.iter().filter(|b| b.grid_id == grid.id).map(|b| &b.id).collect();
        let members = rng.usize(1..=2);
        for m in 0..members {
            let mut member = staff_post(rng, phones, grid, TeamPost::Member);
            member.duties = "入户走访、民情收集、矛盾调解".into();
            member.building_ids = mine.iter().skip(m).step_by(members).map(|b| (*b).clone()).collect();
            posts.push(member);
        }
        let from_residents = [
            (TeamPost::PartyMember, &c.party_members, 1, "党员联系户"),
            (TeamPost::Volunteer, &c.volunteers, rng.usize(1..=2), "巡查、帮扶"),
            (TeamPost::BuildingHead, &c.elders, rng.usize(2..=3), "楼栋信息、邻里互助"),
        ];
        for (post, pool, count, duties) in from_residents {
            for i in rng.choose_multiple(pool.iter().copied(), count) {
                let r = &residents[i];
                let home = r.household_id.as_ref().and_then(|h| households.iter().find(|x| &x.id == h));
                let building_ids = match (post, home) {
                    (TeamPost::BuildingHead, Some(home)) => vec![home.building_id.clone()],
                    _ => Vec::new(),
                };
                // No phone on the post: a resident's phone is protected in the
                // registry and reached through their record.
                posts.push(GridPostRow {
                    id: new_id(),
                    grid_id: grid.id.clone(),
                    post,
                    person_name: Some(r.name.clone()),
                    phone: None,
                    duties: duties.into(),
                    resident_id: Some(r.id.clone()),
                    building_ids,
                    starts_on: Some(start_date(rng)),
                });
            }
        }
        let mut property = staff_post(rng, phones, grid, TeamPost::Property);
        property.duties = "物业报修、环境卫生".into();
        posts.push(property);
        posts.push(GridPostRow {
            id: new_id(),
            grid_id: grid.id.clone(),
            duties: "治安、调解".into(),
            person_name: police.person_name.clone(),
            phone: police.phone.clone(),
            post: TeamPost::Police,
            resident_id: None,
            building_ids: Vec::new(),
            starts_on: police.starts_on.clone(),
        });
    }
    posts
}

/// When someone took their post: within the last six years.
fn start_date(rng: &mut Rng) -> String {
    format!("{}-{:02}-01", rng.i32(2020..=2025), rng.u8(1..=12))
}

fn staff_post(rng: &mut Rng, phones: &mut PhoneBook, grid: &Area, post: TeamPost) -> GridPostRow {
    let gender = if rng.bool() { Gender::Male } else { Gender::Female };
    let surname = SURNAMES.pick(rng);
    let birth_year = rng.i32(1972..=1998);
    let name = full_name(rng, surname, birth_year, gender);
    let phone = Some(phones.issue(rng).as_str().to_owned());
    GridPostRow {
        id: new_id(),
        grid_id: grid.id.clone(),
        post,
        person_name: Some(name),
        phone,
        duties: String::new(),
        resident_id: None,
        building_ids: Vec::new(),
        starts_on: Some(start_date(rng)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grids_partition_the_community_and_hold_their_buildings() {
        use wangge_store::cockpit::map::{polygons_of, within};
        let mut community = Area {
            id: "c".into(),
            parent_id: None,
            level: wangge_domain::AreaLevel::Community,
            code: "370602004011".into(),
            name: "塔山社区".into(),
            path: "/370602004011/".into(),
            boundary: None,
            created_at: 0,
            updated_at: 0,
        };
        for n in [1, 2, 4, 8, 9] {
            let mut grids = crate::areas::plan_grids(&community, "塔山", n).unwrap();
            set_boundaries(&mut community, &mut grids, (37.53, 121.39));
            let outline = polygons_of(&community);
            assert_eq!(outline.len(), 1);
            let mut rng = Rng::with_seed(7);
            let mut area = 0.0;
            for (g, grid) in grids.iter().enumerate() {
                let cell = polygons_of(grid);
                assert!(within(&cell, &outline), "grid {g} of {n} inside the community");
                let r = &cell[0].rings[0];
                area += (r[1].0 - r[0].0) * (r[2].1 - r[1].1);
                for _ in 0..200 {
                    let (lat, lng) = building_position(&mut rng, (37.53, 121.39), g);
                    assert!(cell[0].contains((lng, lat)), "a building of grid {g} of {n} in its grid");
                }
            }
            let o = &outline[0].rings[0];
            let whole = (o[1].0 - o[0].0) * (o[2].1 - o[1].1);
            assert!((area - whole).abs() < 1e-9, "{n} grids cover the community's rectangle, no more");
        }
    }

    #[test]
    fn rooms_take_exactly_the_people_asked_for() {
        for (seed, rooms, target) in [(1, 1_148, 3_260), (2, 900, 3_400), (3, 1_300, 2_500), (4, 10, 25)] {
            let mut rng = Rng::with_seed(seed);
            let occupants = occupy(&mut rng, rooms, target).unwrap();
            let housed: usize = occupants.iter().flatten().map(Household::len).sum();
            assert_eq!(housed, target, "{rooms} rooms");
        }
    }

    #[test]
    fn tashan_has_its_buildings_and_about_1100_rooms() {
        let blocks = block_plan(&mut Rng::with_seed(1), &TASHAN);
        assert_eq!(blocks.len(), 269);
        let rooms = rooms_of(&blocks).len();
        assert!((1_000..=1_200).contains(&rooms), "{rooms} rooms");
    }
}
