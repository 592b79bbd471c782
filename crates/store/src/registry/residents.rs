//! Residents: the people of the registry, and their history.
//!
//! A person is never deleted. Moving out keeps the record (status `moved_out`, no
//! household, the last place kept in `path` so the community still finds them);
//! moving in, out and house each append to `resident_events`.
//!
//! ID card numbers and phones are protected ([`crate::vault`]): stored sealed, found
//! through blind indexes, and shown masked (`370602********1234`, `138****5678`).
//! Only [`reveal`] and [`all_for_export`] give them in full, for the caller to
//! authorise and audit.

use crate::Thing;
use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use time::Date;
use utoipa::ToSchema;
use wangge_domain::{
    Explain, Gender, IdCardNumber, Message, Phone, PoliticalStatus, Relation, ResidenceType, ResidentEventKind,
    ResidentStatus, Vocabulary, format_date, msg, new_id, now_millis, parse_date, text,
};

use crate::conditions::Conditions;
use crate::registry::households;
use crate::registry::tags::{self, Tag};
use crate::vault::{Nonces, Vault};
use crate::{Db, Page, PageRequest, StoreError, StoreResult};

/// A person as the API shows them: `id_card` and `phone` are masked
/// (`370602********1234`, `138****5678`) unless read through [`all_for_export`].
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Resident {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub household_id: Option<String>,
    pub building_number: Option<String>,
    pub unit: Option<String>,
    pub room: Option<String>,
    pub path: String,
    pub name: String,
    pub gender: Gender,
    #[schema(format = Date)]
    pub birth_date: String,
    /// Masked: region and last four kept (`370602********1234`).
    #[schema(example = "370602********1234")]
    pub id_card: Option<String>,
    /// Masked: `138****5678`; landlines keep their area code and last four.
    #[schema(example = "138****5678")]
    pub phone: Option<String>,
    pub residence_type: ResidenceType,
    pub relation: Relation,
    /// The word the community's ledger used for the relation (子, 儿媳, 孙女) when it is
    /// not the label of `relation`; written back on export.
    pub relation_term: Option<String>,
    pub political_status: PoliticalStatus,
    pub ethnicity: String,
    pub notes: String,
    pub status: ResidentStatus,
    /// When the person was registered in the community.
    #[schema(format = Date)]
    pub registered_on: String,
    /// Codes of the care tags from the catalogue.
    pub tags: Vec<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A new person in a household. Gender and birth date may be left out when an ID
/// card number is given: they are read from it (and must agree with it when given).
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
pub struct NewResident {
    #[schema(format = Uuid)]
    pub household_id: String,
    pub name: String,
    pub gender: Option<Gender>,
    #[schema(format = Date)]
    pub birth_date: Option<String>,
    pub id_card: Option<String>,
    pub phone: Option<String>,
    pub residence_type: Option<ResidenceType>,
    pub relation: Option<Relation>,
    pub political_status: Option<PoliticalStatus>,
    pub ethnicity: Option<String>,
    pub notes: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    /// When the person moved in, their registration date (default: today).
    #[schema(format = Date)]
    pub moved_in_on: Option<String>,
}

/// Changes to a person's facts. Absent fields stay as they are; `tags`, when
/// given, replaces the whole set. Where someone lives changes only by moving.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
pub struct ResidentUpdate {
    pub name: Option<String>,
    pub gender: Option<Gender>,
    #[schema(format = Date)]
    pub birth_date: Option<String>,
    pub id_card: Option<String>,
    pub phone: Option<String>,
    pub residence_type: Option<ResidenceType>,
    pub relation: Option<Relation>,
    pub political_status: Option<PoliticalStatus>,
    pub ethnicity: Option<String>,
    pub notes: Option<String>,
    pub tags: Option<Vec<String>>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ResidentEvent {
    #[schema(format = Uuid)]
    pub id: String,
    /// `registered` (always first), then `moved_in`, `moved_out`, `moved_house` or `updated`.
    pub kind: ResidentEventKind,
    #[schema(format = Date)]
    pub occurred_on: String,
    pub from_household_id: Option<String>,
    pub to_household_id: Option<String>,
    pub note: String,
    pub recorded_at: i64,
}

#[derive(Clone, Debug, Default)]
pub struct ResidentFilter {
    pub under_path: Option<String>,
    pub household_id: Option<String>,
    /// `None` means every status.
    pub status: Option<ResidentStatus>,
    pub tag: Option<String>,
    /// A name (or part of one), the last digits of a phone or ID card number, or a
    /// whole ID card number.
    pub q: Option<String>,
    pub sort: ResidentSort,
}

/// The orders a list of residents can be read in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ResidentSort {
    /// By grid, then name: the order of the (path, name) index, so the first page of
    /// a large community comes without sorting it whole.
    #[default]
    Place,
    Name,
    /// Oldest first (the elderly a grid member visits).
    BirthDate,
    /// Youngest first.
    BirthDateDesc,
    /// The most recently registered first.
    Registered,
}

impl ResidentSort {
    pub const ALL: [ResidentSort; 5] =
        [Self::Place, Self::Name, Self::BirthDate, Self::BirthDateDesc, Self::Registered];

    pub fn key(self) -> &'static str {
        match self {
            Self::Place => "place",
            Self::Name => "name",
            Self::BirthDate => "birth_date",
            Self::BirthDateDesc => "-birth_date",
            Self::Registered => "-registered",
        }
    }

    pub fn parse(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.key() == key)
    }

    /// The ORDER BY list: constant text, never anything a caller sent. The id last
    /// keeps pages stable when the other keys tie.
    fn order_by(self) -> &'static str {
        match self {
            Self::Place => "r.path, r.name, r.id",
            Self::Name => "r.name, r.id",
            Self::BirthDate => "r.birth_date, r.id",
            Self::BirthDateDesc => "r.birth_date DESC, r.id",
            Self::Registered => "r.registered_on DESC, r.id DESC",
        }
    }
}

const SELECT: &str = "SELECT r.id, r.household_id, b.number AS building_number, h.unit, h.room, r.path, r.name,
    r.gender, r.birth_date, r.id_card_enc, r.phone_enc, r.residence_type, r.relation, r.relation_term,
    r.political_status, r.ethnicity, r.notes, r.status, r.registered_on, r.created_at, r.updated_at
    FROM residents r LEFT JOIN households h ON h.id = r.household_id LEFT JOIN buildings b ON b.id = h.building_id";

/// Blind index purposes: one per column, so equal digits hash apart in different columns.
const ID_CARD: &str = "id_card";
const ID_LAST4: &str = "id_last4";
const PHONE: &str = "phone";
pub(crate) const PHONE_LAST4: &str = "phone_last4";

/// The associated data a protected value is sealed with: its column and its row.
/// Binding the row means a sealed value copied onto another person fails to open
/// instead of showing that person someone else's number; every writer (create,
/// update, the bulk loader) knows the id, and moves never touch these columns.
fn aad(field: &str, resident_id: &str) -> String {
    format!("residents.{field}:{resident_id}")
}

/// The stored form of a person's ID card number and phone: sealed values and the
/// blind indexes of the whole value and of its last four characters.
pub(crate) struct Protected {
    pub id_card_enc: Option<String>,
    pub id_card_hash: Option<String>,
    pub id_last4_hash: Option<String>,
    pub phone_enc: Option<String>,
    pub phone_hash: Option<String>,
    pub phone_last4_hash: Option<String>,
}

impl Protected {
    pub(crate) fn new(vault: &Vault, resident_id: &str, id_card: Option<&IdCardNumber>, phone: Option<&Phone>) -> Self {
        Self::sealed_by(vault, |text, aad| vault.seal(text, aad), resident_id, id_card, phone)
    }

    /// [`Protected::new`] with nonces from `nonces`, for many residents in a row.
    pub(crate) fn sealed_from(
        vault: &Vault,
        nonces: &mut Nonces,
        resident_id: &str,
        id_card: Option<&IdCardNumber>,
        phone: Option<&Phone>,
    ) -> Self {
        Self::sealed_by(vault, |text, aad| vault.seal_from(nonces, text, aad), resident_id, id_card, phone)
    }

    fn sealed_by(
        vault: &Vault,
        mut seal: impl FnMut(&str, &str) -> String,
        resident_id: &str,
        id_card: Option<&IdCardNumber>,
        phone: Option<&Phone>,
    ) -> Self {
        Self {
            id_card_enc: id_card.map(|c| seal(c.as_str(), &aad(ID_CARD, resident_id))),
            id_card_hash: id_card.map(|c| vault.blind(ID_CARD, c.as_str())),
            id_last4_hash: id_card.map(|c| vault.blind(ID_LAST4, c.last4())),
            phone_enc: phone.map(|p| seal(p.as_str(), &aad(PHONE, resident_id))),
            phone_hash: phone.map(|p| vault.blind(PHONE, p.as_str())),
            phone_last4_hash: phone.map(|p| vault.blind(PHONE_LAST4, p.last4())),
        }
    }
}

/// Which protected field [`reveal`] opens.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RevealField {
    IdCard,
    Phone,
}

impl RevealField {
    /// The field's name as the API spells it (`id_card`, `phone`), for audit records.
    pub fn name(self) -> &'static str {
        match self {
            Self::IdCard => ID_CARD,
            Self::Phone => PHONE,
        }
    }
}

fn vocab<V: Vocabulary>(row: &AnyRow, column: &str) -> StoreResult<V> {
    let code: String = row.try_get(column)?;
    V::from_code(&code).ok_or_else(|| StoreError::Invalid(msg!("error.stored_value", what = V::NAME, value = &code)))
}

/// `*` for all but the last four characters: for a stored value that no longer
/// parses, which the store never writes but must not show in full either.
fn mask_all_but_last4(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    let keep = chars.len().saturating_sub(4);
    chars.iter().enumerate().map(|(i, c)| if i < keep { '*' } else { *c }).collect()
}

/// A row read back: the person with the protected fields still in plain text, to be
/// masked (or not) on the way out.
struct Decoded {
    resident: Resident,
}

impl Decoded {
    fn masked(mut self) -> Resident {
        let r = &mut self.resident;
        r.id_card =
            r.id_card.as_deref().map(|v| IdCardNumber::parse(v).map_or_else(|_| mask_all_but_last4(v), |i| i.masked()));
        r.phone = r.phone.as_deref().map(|v| Phone::parse(v).map_or_else(|_| mask_all_but_last4(v), |p| p.masked()));
        self.resident
    }

    fn plain(self) -> Resident {
        self.resident
    }

    /// Whether the phone (digits only) or the ID card number ends in `digits`.
    fn ends_with(&self, digits: &str) -> bool {
        let r = &self.resident;
        r.id_card.as_deref().is_some_and(|v| v.ends_with(digits))
            || r.phone.as_deref().is_some_and(|v| v.replace('-', "").ends_with(digits))
    }
}

fn open_field(vault: &Vault, row: &AnyRow, field: &str, id: &str) -> StoreResult<Option<String>> {
    let sealed: Option<String> = row.try_get(format!("{field}_enc").as_str())?;
    Ok(sealed.map(|s| vault.open(&s, &aad(field, id))).transpose()?)
}

fn from_row(row: &AnyRow, vault: &Vault) -> StoreResult<Decoded> {
    let id: String = row.try_get("id")?;
    let id_card = open_field(vault, row, ID_CARD, &id)?;
    let phone = open_field(vault, row, PHONE, &id)?;
    let resident = Resident {
        id,
        household_id: row.try_get("household_id")?,
        building_number: row.try_get("building_number")?,
        unit: row.try_get("unit")?,
        room: row.try_get("room")?,
        path: row.try_get("path")?,
        name: row.try_get("name")?,
        gender: vocab(row, "gender")?,
        birth_date: row.try_get("birth_date")?,
        id_card,
        phone,
        residence_type: vocab(row, "residence_type")?,
        relation: vocab(row, "relation")?,
        relation_term: row.try_get("relation_term")?,
        political_status: vocab(row, "political_status")?,
        ethnicity: row.try_get("ethnicity")?,
        notes: row.try_get("notes")?,
        status: vocab(row, "status")?,
        registered_on: row.try_get("registered_on")?,
        tags: Vec::new(),
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    };
    Ok(Decoded { resident })
}

/// Fills `tags` of the given residents with one query.
async fn attach_tags(db: &Db, residents: &mut [Resident]) -> StoreResult<()> {
    if residents.is_empty() {
        return Ok(());
    }
    let mut c = Conditions::default();
    let placeholders: Vec<String> = residents.iter().map(|r| c.text(r.id.as_str())).collect();
    let sql = format!(
        "SELECT rt.resident_id, t.code FROM resident_tags rt JOIN tags t ON t.id = rt.tag_id
         WHERE rt.resident_id IN ({}) ORDER BY t.code",
        placeholders.join(", ")
    );
    let rows = c.query(sql).fetch_all(&db.pool).await?;
    let mut by_resident: HashMap<String, Vec<String>> = HashMap::new();
    for row in rows {
        by_resident.entry(row.try_get("resident_id")?).or_default().push(row.try_get("code")?);
    }
    for r in residents {
        r.tags = by_resident.remove(&r.id).unwrap_or_default();
    }
    Ok(())
}

/// One person, with ID card number and phone masked.
pub async fn get(db: &Db, id: &str) -> StoreResult<Resident> {
    Ok(fetch(db, id).await?.masked())
}

/// One person with tags, protected fields still in plain text.
async fn fetch(db: &Db, id: &str) -> StoreResult<Decoded> {
    let sql = format!("{SELECT} WHERE r.id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&db.pool).await?;
    let mut decoded = from_row(&row.ok_or_else(|| StoreError::not_found(Thing::Resident, id))?, &db.vault)?;
    attach_tags(db, std::slice::from_mut(&mut decoded.resident)).await?;
    Ok(decoded)
}

/// The full ID card number or phone of a person (`None` when none is recorded).
/// Everything else shows them masked; the caller decides who may see this and
/// records that they did.
pub async fn reveal(db: &Db, id: &str, field: RevealField) -> StoreResult<Option<String>> {
    let sql = match field {
        RevealField::IdCard => "SELECT id, id_card_enc FROM residents WHERE id = $1",
        RevealField::Phone => "SELECT id, phone_enc FROM residents WHERE id = $1",
    };
    let row = sqlx::query(sql).bind(id).fetch_optional(&db.pool).await?;
    let row = row.ok_or_else(|| StoreError::not_found(Thing::Resident, id))?;
    open_field(&db.vault, &row, field.name(), id)
}

/// The facts of a person after parsing and cross-checking.
struct Facts {
    name: String,
    gender: Gender,
    birth_date: Date,
    id_card: Option<IdCardNumber>,
    phone: Option<Phone>,
}

fn check_name(name: &str) -> StoreResult<String> {
    let name = text::normalize(name);
    match name.chars().count() {
        0 => Err(StoreError::Invalid(msg!("registry.error.name_empty").field("name"))),
        1..=50 => Ok(name),
        n => Err(StoreError::Invalid(msg!("registry.error.name_long", length = n).field("name"))),
    }
}

fn parse_id_card(value: Option<&str>) -> StoreResult<Option<IdCardNumber>> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => IdCardNumber::parse(v).map(Some).map_err(|e| StoreError::Invalid(e.message())),
    }
}

fn parse_phone(value: Option<&str>) -> StoreResult<Option<Phone>> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => Phone::parse(v).map(Some).map_err(|e| StoreError::Invalid(e.message())),
    }
}

fn parse_day(value: &str, field: &'static str) -> StoreResult<Date> {
    parse_date(value).ok_or_else(|| StoreError::Invalid(msg!("error.not_a_date", value = value).field(field)))
}

/// Reconciles gender and birth date with the ID card number: taken from it when
/// absent, refused when they contradict it.
fn facts(
    name: &str,
    gender: Option<Gender>,
    birth_date: Option<&str>,
    id_card: Option<IdCardNumber>,
    phone: Option<Phone>,
) -> StoreResult<Facts> {
    let birth = birth_date.map(|d| parse_day(d, "birth_date")).transpose()?;
    let (gender, birth_date) = match &id_card {
        Some(id) => {
            if let Some(b) = birth.filter(|b| *b != id.birth_date()) {
                return Err(StoreError::Invalid(
                    msg!("registry.error.birth_vs_id", given = format_date(b), id_says = format_date(id.birth_date()))
                        .field("birth_date"),
                ));
            }
            if let Some(g) = gender.filter(|g| *g != id.gender()) {
                return Err(StoreError::Invalid(
                    msg!("registry.error.gender_vs_id").term("given", g).term("id_says", id.gender()).field("gender"),
                ));
            }
            (id.gender(), id.birth_date())
        }
        None => (
            gender.ok_or_else(|| StoreError::Invalid(msg!("registry.error.gender_needed").field("gender")))?,
            birth.ok_or_else(|| StoreError::Invalid(msg!("registry.error.birth_needed").field("birth_date")))?,
        ),
    };
    let today = time::OffsetDateTime::now_utc().date();
    if birth_date > today {
        return Err(StoreError::Invalid(
            msg!("registry.error.birth_future", date = format_date(birth_date)).field("birth_date"),
        ));
    }
    Ok(Facts { name: check_name(name)?, gender, birth_date, id_card, phone })
}

fn resolve_tags(catalogue: &[Tag], wanted: &[String]) -> StoreResult<Vec<String>> {
    let mut ids = Vec::new();
    for term in wanted.iter().map(|t| t.trim()).filter(|t| !t.is_empty()) {
        let tag = tags::find(catalogue, term).ok_or_else(|| {
            let known: Vec<&str> = catalogue.iter().map(|t| t.name_zh.as_str()).collect();
            StoreError::Invalid(msg!("registry.error.unknown_tag", tag = term, known = known.join("、")).field("tags"))
        })?;
        if !ids.contains(&tag.id) {
            ids.push(tag.id.clone());
        }
    }
    Ok(ids)
}

fn duplicate_id_card(id: &Option<IdCardNumber>) -> impl FnOnce() -> Message + '_ {
    move || {
        let masked = id.as_ref().map(|i| i.masked()).unwrap_or_default();
        msg!("registry.error.id_card_taken", id_card = masked).field("id_card")
    }
}

pub async fn create(db: &Db, new: NewResident) -> StoreResult<Resident> {
    let household = households::get(db, &new.household_id).await?;
    let facts = facts(
        &new.name,
        new.gender,
        new.birth_date.as_deref(),
        parse_id_card(new.id_card.as_deref())?,
        parse_phone(new.phone.as_deref())?,
    )?;
    let tag_ids = resolve_tags(&tags::list(db).await?, &new.tags)?;
    let moved_in_on = match new.moved_in_on.as_deref() {
        Some(d) => parse_day(d, "moved-in date")?,
        None => time::OffsetDateTime::now_utc().date(),
    };
    let id = new_id();
    let now = now_millis();
    let protected = Protected::new(&db.vault, &id, facts.id_card.as_ref(), facts.phone.as_ref());
    let mut tx = db.pool.begin().await?;
    sqlx::query(
        "INSERT INTO residents (id, household_id, path, name, gender, birth_date, id_card_enc, id_card_hash,
         id_last4_hash, phone_enc, phone_hash, phone_last4_hash, residence_type, relation, political_status,
         ethnicity, notes, status, registered_on, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)",
    )
    .bind(&id)
    .bind(&household.id)
    .bind(&household.path)
    .bind(&facts.name)
    .bind(facts.gender.code())
    .bind(format_date(facts.birth_date))
    .bind(&protected.id_card_enc)
    .bind(&protected.id_card_hash)
    .bind(&protected.id_last4_hash)
    .bind(&protected.phone_enc)
    .bind(&protected.phone_hash)
    .bind(&protected.phone_last4_hash)
    .bind(new.residence_type.unwrap_or(ResidenceType::Registered).code())
    .bind(new.relation.unwrap_or(Relation::Other).code())
    .bind(new.political_status.unwrap_or(PoliticalStatus::Masses).code())
    .bind(new.ethnicity.map(|e| text::normalize(&e)).filter(|e| !e.is_empty()).unwrap_or_else(|| "汉族".into()))
    .bind(new.notes.map(|n| n.trim().to_owned()).unwrap_or_default())
    .bind(ResidentStatus::Active.code())
    .bind(format_date(moved_in_on))
    .bind(now)
    .bind(now)
    .execute(&mut *tx)
    .await
    .map_err(|e| StoreError::on_unique(e, duplicate_id_card(&facts.id_card)))?;
    set_tags(&mut tx, &id, &tag_ids).await?;
    tx.commit().await?;
    get(db, &id).await
}

async fn set_tags(conn: &mut AnyConnection, resident_id: &str, tag_ids: &[String]) -> StoreResult<()> {
    sqlx::query("DELETE FROM resident_tags WHERE resident_id = $1").bind(resident_id).execute(&mut *conn).await?;
    for tag_id in tag_ids {
        sqlx::query("INSERT INTO resident_tags (resident_id, tag_id) VALUES ($1, $2)")
            .bind(resident_id)
            .bind(tag_id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

struct EventInput<'a> {
    kind: ResidentEventKind,
    on: Date,
    from: Option<&'a str>,
    to: Option<&'a str>,
    note: &'a str,
}

async fn record_event(conn: &mut AnyConnection, resident_id: &str, e: EventInput<'_>) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO resident_events (id, resident_id, kind, occurred_on, from_household_id, to_household_id, note, recorded_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(new_id())
    .bind(resident_id)
    .bind(e.kind.code())
    .bind(format_date(e.on))
    .bind(e.from)
    .bind(e.to)
    .bind(e.note)
    .bind(now_millis())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn update(db: &Db, id: &str, update: ResidentUpdate) -> StoreResult<Resident> {
    // In plain text: unchanged numbers are checked against new facts and sealed anew.
    let current = fetch(db, id).await?.plain();
    let id_card = match &update.id_card {
        Some(v) => parse_id_card(Some(v))?,
        None => parse_id_card(current.id_card.as_deref())?,
    };
    let phone = match &update.phone {
        Some(v) => parse_phone(Some(v))?,
        None => parse_phone(current.phone.as_deref())?,
    };
    // A new ID card number brings its own gender and birth date unless they are given too.
    let id_changed = update.id_card.is_some();
    let gender = update.gender.or((!id_changed).then_some(current.gender));
    let birth = update.birth_date.clone().or_else(|| (!id_changed).then(|| current.birth_date.clone()));
    let facts = facts(update.name.as_deref().unwrap_or(&current.name), gender, birth.as_deref(), id_card, phone)?;
    let tag_ids = match &update.tags {
        Some(wanted) => Some(resolve_tags(&tags::list(db).await?, wanted)?),
        None => None,
    };
    let changed = changed_fields(&update);
    let protected = Protected::new(&db.vault, id, facts.id_card.as_ref(), facts.phone.as_ref());
    let mut tx = db.pool.begin().await?;
    sqlx::query(
        "UPDATE residents SET name = $1, gender = $2, birth_date = $3, id_card_enc = $4, id_card_hash = $5,
         id_last4_hash = $6, phone_enc = $7, phone_hash = $8, phone_last4_hash = $9, residence_type = $10,
         relation = $11, political_status = $12, ethnicity = $13, notes = $14, updated_at = $15,
         relation_term = $17 WHERE id = $16",
    )
    .bind(&facts.name)
    .bind(facts.gender.code())
    .bind(format_date(facts.birth_date))
    .bind(&protected.id_card_enc)
    .bind(&protected.id_card_hash)
    .bind(&protected.id_last4_hash)
    .bind(&protected.phone_enc)
    .bind(&protected.phone_hash)
    .bind(&protected.phone_last4_hash)
    .bind(update.residence_type.unwrap_or(current.residence_type).code())
    .bind(update.relation.unwrap_or(current.relation).code())
    .bind(update.political_status.unwrap_or(current.political_status).code())
    .bind(update.ethnicity.map(|e| text::normalize(&e)).unwrap_or(current.ethnicity))
    .bind(update.notes.map(|n| n.trim().to_owned()).unwrap_or(current.notes))
    .bind(now_millis())
    .bind(id)
    // A relation chosen by hand replaces the ledger's word for the old one.
    .bind(if update.relation.is_some() { None } else { current.relation_term })
    .execute(&mut *tx)
    .await
    .map_err(|e| StoreError::on_unique(e, duplicate_id_card(&facts.id_card)))?;
    if let Some(tag_ids) = tag_ids {
        set_tags(&mut tx, id, &tag_ids).await?;
    }
    if !changed.is_empty() {
        let today = time::OffsetDateTime::now_utc().date();
        let note = changed.join(", ");
        let event = EventInput { kind: ResidentEventKind::Updated, on: today, from: None, to: None, note: &note };
        record_event(&mut tx, id, event).await?;
    }
    tx.commit().await?;
    get(db, id).await
}

/// A person's facts as a re-sent ledger gives them, for an update import
/// (`wangge_ledger::import` with `update`): the ID card number is the person's key
/// and stays; everything the ledger holds is written as given.
#[derive(Clone, Debug)]
pub struct LedgerUpdate {
    pub id: String,
    pub name: String,
    pub id_card: IdCardNumber,
    pub phone: Option<Phone>,
    /// The household the ledger places them in; a change is recorded as a move.
    pub household_id: String,
    pub path: String,
    pub residence_type: ResidenceType,
    pub relation: Relation,
    pub relation_term: Option<String>,
    pub political_status: PoliticalStatus,
    pub ethnicity: String,
    pub notes: String,
    /// The whole set of tags, when the ledger has a tags column.
    pub tag_ids: Option<Vec<String>>,
    /// The household they lived in, when the ledger moves them.
    pub moved_from: Option<String>,
    /// Keys of the fields that changed, for the person's history.
    pub changed: Vec<&'static str>,
}

/// Writes one [`LedgerUpdate`] on a connection inside the import's transaction, with
/// an entry in the person's history (moved, or updated with the changed fields).
pub async fn apply_ledger_update(conn: &mut AnyConnection, vault: &Vault, u: &LedgerUpdate) -> StoreResult<()> {
    let protected = Protected::new(vault, &u.id, Some(&u.id_card), u.phone.as_ref());
    sqlx::query(
        "UPDATE residents SET name = $1, phone_enc = $2, phone_hash = $3, phone_last4_hash = $4, household_id = $5,
         path = $6, residence_type = $7, relation = $8, relation_term = $9, political_status = $10, ethnicity = $11,
         notes = $12, updated_at = $13 WHERE id = $14",
    )
    .bind(&u.name)
    .bind(&protected.phone_enc)
    .bind(&protected.phone_hash)
    .bind(&protected.phone_last4_hash)
    .bind(&u.household_id)
    .bind(&u.path)
    .bind(u.residence_type.code())
    .bind(u.relation.code())
    .bind(&u.relation_term)
    .bind(u.political_status.code())
    .bind(&u.ethnicity)
    .bind(&u.notes)
    .bind(now_millis())
    .bind(&u.id)
    .execute(&mut *conn)
    .await?;
    if let Some(tag_ids) = &u.tag_ids {
        set_tags(conn, &u.id, tag_ids).await?;
    }
    let today = time::OffsetDateTime::now_utc().date();
    if let Some(from) = &u.moved_from {
        let event = EventInput {
            kind: ResidentEventKind::MovedHouse,
            on: today,
            from: Some(from),
            to: Some(&u.household_id),
            note: "ledger import",
        };
        record_event(conn, &u.id, event).await?;
    }
    let others: Vec<&str> = u.changed.iter().copied().filter(|f| *f != "home").collect();
    if !others.is_empty() {
        let note = others.join(", ");
        let event = EventInput { kind: ResidentEventKind::Updated, on: today, from: None, to: None, note: &note };
        record_event(conn, &u.id, event).await?;
    }
    Ok(())
}

fn changed_fields(u: &ResidentUpdate) -> Vec<&'static str> {
    [
        ("name", u.name.is_some()),
        ("gender", u.gender.is_some()),
        ("birth_date", u.birth_date.is_some()),
        ("id_card", u.id_card.is_some()),
        ("phone", u.phone.is_some()),
        ("residence_type", u.residence_type.is_some()),
        ("relation", u.relation.is_some()),
        ("political_status", u.political_status.is_some()),
        ("ethnicity", u.ethnicity.is_some()),
        ("notes", u.notes.is_some()),
        ("tags", u.tags.is_some()),
    ]
    .into_iter()
    .filter_map(|(name, set)| set.then_some(name))
    .collect()
}

/// Where and when a move happens.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
pub struct Move {
    /// The household moved into (moving in or moving house); absent when moving out.
    #[schema(format = Uuid)]
    pub household_id: Option<String>,
    /// When it happened (default: today).
    #[schema(format = Date)]
    pub date: Option<String>,
    /// Where to, why, or anything worth keeping with the history.
    #[serde(default)]
    pub note: String,
}

fn move_date(m: &Move) -> StoreResult<Date> {
    match m.date.as_deref() {
        Some(d) => parse_day(d, "date"),
        None => Ok(time::OffsetDateTime::now_utc().date()),
    }
}

/// Moves a person out of the community's roll. The record stays, with its history.
pub async fn move_out(db: &Db, id: &str, m: Move) -> StoreResult<Resident> {
    let current = get(db, id).await?;
    if current.status != ResidentStatus::Active {
        return Err(StoreError::Conflict(
            msg!("registry.error.not_living_here", name = &current.name).term("status", current.status),
        ));
    }
    let on = move_date(&m)?;
    let mut tx = db.pool.begin().await?;
    sqlx::query("UPDATE residents SET household_id = NULL, status = $1, updated_at = $2 WHERE id = $3")
        .bind(ResidentStatus::MovedOut.code())
        .bind(now_millis())
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let from = current.household_id.as_deref();
    let event = EventInput { kind: ResidentEventKind::MovedOut, on, from, to: None, note: m.note.trim() };
    record_event(&mut tx, id, event).await?;
    tx.commit().await?;
    get(db, id).await
}

/// Moves a person who had moved out back in, into the given household.
pub async fn move_in(db: &Db, id: &str, m: Move) -> StoreResult<Resident> {
    let current = get(db, id).await?;
    if current.status == ResidentStatus::Active {
        return Err(StoreError::Conflict(msg!("registry.error.already_here", name = &current.name)));
    }
    move_into(db, &current, m, ResidentEventKind::MovedIn).await
}

/// Moves a person from one household to another, anywhere in the registry.
pub async fn move_house(db: &Db, id: &str, m: Move) -> StoreResult<Resident> {
    let current = get(db, id).await?;
    if current.status != ResidentStatus::Active {
        return Err(StoreError::Conflict(msg!("registry.error.moved_out", name = &current.name)));
    }
    if current.household_id.as_deref() == m.household_id.as_deref() {
        return Err(StoreError::Invalid(msg!("registry.error.same_household").field("household_id")));
    }
    move_into(db, &current, m, ResidentEventKind::MovedHouse).await
}

/// The three moves of a person between households, each with its rule
/// ([`move_out`], [`move_in`], [`move_house`]), its history entry and its audit action.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Relocation {
    MoveOut,
    MoveIn,
    MoveHouse,
}

impl Relocation {
    /// The entry it leaves in the person's history.
    pub fn event(self) -> ResidentEventKind {
        match self {
            Relocation::MoveOut => ResidentEventKind::MovedOut,
            Relocation::MoveIn => ResidentEventKind::MovedIn,
            Relocation::MoveHouse => ResidentEventKind::MovedHouse,
        }
    }

    /// The audit log's action.
    pub fn action(self) -> wangge_domain::AuditAction {
        use wangge_domain::AuditAction;
        match self {
            Relocation::MoveOut => AuditAction::ResidentMoveOut,
            Relocation::MoveIn => AuditAction::ResidentMoveIn,
            Relocation::MoveHouse => AuditAction::ResidentMoveHouse,
        }
    }
}

/// Runs `how` on the person `id`.
pub async fn relocate(db: &Db, id: &str, how: Relocation, m: Move) -> StoreResult<Resident> {
    match how {
        Relocation::MoveOut => move_out(db, id, m).await,
        Relocation::MoveIn => move_in(db, id, m).await,
        Relocation::MoveHouse => move_house(db, id, m).await,
    }
}

async fn move_into(db: &Db, current: &Resident, m: Move, kind: ResidentEventKind) -> StoreResult<Resident> {
    let target = m
        .household_id
        .as_deref()
        .ok_or_else(|| StoreError::Invalid(msg!("registry.error.household_needed").field("household_id")))?;
    let to = households::get(db, target).await?;
    let on = move_date(&m)?;
    let mut tx = db.pool.begin().await?;
    sqlx::query("UPDATE residents SET household_id = $1, path = $2, status = $3, updated_at = $4 WHERE id = $5")
        .bind(&to.id)
        .bind(&to.path)
        .bind(ResidentStatus::Active.code())
        .bind(now_millis())
        .bind(&current.id)
        .execute(&mut *tx)
        .await?;
    let from = current.household_id.as_deref();
    let event = EventInput { kind, on, from, to: Some(&to.id), note: m.note.trim() };
    record_event(&mut tx, &current.id, event).await?;
    tx.commit().await?;
    get(db, &current.id).await
}

/// The person's history, oldest first: registration, then every move and correction.
pub async fn history(db: &Db, id: &str) -> StoreResult<Vec<ResidentEvent>> {
    let resident = get(db, id).await?;
    let registered = ResidentEvent {
        id: resident.id.clone(),
        kind: ResidentEventKind::Registered,
        occurred_on: resident.registered_on.clone(),
        from_household_id: None,
        to_household_id: None,
        note: String::new(),
        recorded_at: resident.created_at,
    };
    let rows = sqlx::query(
        "SELECT id, kind, occurred_on, from_household_id, to_household_id, note, recorded_at
         FROM resident_events WHERE resident_id = $1 ORDER BY recorded_at, id",
    )
    .bind(id)
    .fetch_all(&db.pool)
    .await?;
    let events = rows.iter().map(|r| {
        Ok(ResidentEvent {
            id: r.try_get("id")?,
            kind: crate::demands::vocab(r, "kind")?,
            occurred_on: r.try_get("occurred_on")?,
            from_household_id: r.try_get("from_household_id")?,
            to_household_id: r.try_get("to_household_id")?,
            note: r.try_get("note")?,
            recorded_at: r.try_get("recorded_at")?,
        })
    });
    std::iter::once(Ok(registered)).chain(events).collect()
}

/// What a search box was given.
enum Search<'a> {
    Name(&'a str),
    /// The last digits of a phone or ID card number (`002X` included), at least four.
    Suffix(String),
    IdCard(IdCardNumber),
    /// A whole mobile number. (Eleven trailing characters of an ID card number
    /// cannot look like one: they would start with the second digit of a birth year.)
    Mobile(Phone),
}

fn classify(q: &str) -> Search<'_> {
    let folded: String = q.chars().map(text::fold_width).filter(|c| !c.is_whitespace()).collect();
    if let Ok(id) = IdCardNumber::parse(&folded) {
        return Search::IdCard(id);
    }
    // Digits as people write phones: `0535-6661234`, `138 0535 1234`.
    let upper: String = folded.to_ascii_uppercase().chars().filter(|c| *c != '-').collect();
    let body = upper.strip_suffix('X').unwrap_or(&upper);
    if upper.len() >= 4 && !body.is_empty() && body.bytes().all(|b| b.is_ascii_digit()) {
        if upper.len() == 11
            && let Ok(phone) = Phone::parse(&upper)
            && !phone.as_str().contains('-')
        {
            return Search::Mobile(phone);
        }
        return Search::Suffix(upper);
    }
    Search::Name(q.trim())
}

/// Adds the search to `c`. Blind indexes find whole values and last fours; a longer
/// suffix comes back as the filter to apply after decrypting the candidates, whose
/// number the last four keep small (about one person in ten thousand).
fn push_search(c: &mut Conditions, vault: &Vault, q: &str) -> Option<String> {
    match classify(q) {
        Search::Name(name) => {
            let p = c.text(format!("%{name}%"));
            c.push(format!("r.name LIKE {p}"));
            None
        }
        Search::IdCard(id) => {
            let p = c.text(vault.blind(ID_CARD, id.as_str()));
            c.push(format!("r.id_card_hash = {p}"));
            None
        }
        Search::Mobile(phone) => {
            let p = c.text(vault.blind(PHONE, phone.as_str()));
            c.push(format!("r.phone_hash = {p}"));
            None
        }
        Search::Suffix(digits) => {
            let last4 = &digits[digits.len() - 4..];
            let phone = c.text(vault.blind(PHONE_LAST4, last4));
            let id = c.text(vault.blind(ID_LAST4, last4));
            c.push(format!("(r.phone_last4_hash = {phone} OR r.id_last4_hash = {id})"));
            (digits.len() > 4).then_some(digits)
        }
    }
}

/// The WHERE clause of `filter`, and the suffix that rows must still end in (checked
/// in memory, after decrypting) when the search gave more than four digits.
fn conditions(filter: &ResidentFilter, vault: &Vault) -> (Conditions, Option<String>) {
    let mut c = Conditions::default();
    if let Some(path) = &filter.under_path {
        c.under_path("r.path", path);
    }
    if let Some(household) = &filter.household_id {
        let p = c.text(household.as_str());
        c.push(format!("r.household_id = {p}"));
    }
    if let Some(status) = filter.status {
        let p = c.text(status.code());
        c.push(format!("r.status = {p}"));
    }
    if let Some(tag) = filter.tag.as_deref().filter(|t| !t.trim().is_empty()) {
        let p = c.text(tag.trim());
        c.push(format!(
            "r.id IN (SELECT rt.resident_id FROM resident_tags rt JOIN tags t ON t.id = rt.tag_id
              WHERE t.code = {p} OR t.name_zh = {p})"
        ));
    }
    let suffix = match filter.q.as_deref().filter(|q| !q.trim().is_empty()) {
        Some(q) => push_search(&mut c, vault, q),
        None => None,
    };
    (c, suffix)
}

/// One page of residents, ID card numbers and phones masked.
pub async fn list(db: &Db, filter: &ResidentFilter, page: PageRequest) -> StoreResult<Page<Resident>> {
    let (c, suffix) = conditions(filter, &db.vault);
    let where_clause = c.where_clause();
    let Some(digits) = suffix else {
        let total = c.scalar(format!("SELECT COUNT(*) FROM residents r {where_clause}")).fetch_one(&db.pool).await?;
        let sql = format!(
            "{SELECT} {where_clause} ORDER BY {} LIMIT {} OFFSET {}",
            filter.sort.order_by(),
            page.limit(),
            page.offset()
        );
        let rows = c.query(sql).fetch_all(&db.pool).await?;
        let mut items = rows.iter().map(|r| Ok(from_row(r, &db.vault)?.masked())).collect::<StoreResult<Vec<_>>>()?;
        attach_tags(db, &mut items).await?;
        return Ok(Page::new(items, page, total));
    };
    // Every candidate sharing the last four, narrowed by the longer suffix in memory,
    // then paged here: the total counts only those that really match.
    let sql = format!("{SELECT} {where_clause} ORDER BY {}", filter.sort.order_by());
    let mut matching = Vec::new();
    for row in c.query(sql).fetch_all(&db.pool).await? {
        let decoded = from_row(&row, &db.vault)?;
        if decoded.ends_with(&digits) {
            matching.push(decoded);
        }
    }
    let total = matching.len() as i64;
    let skip = usize::try_from(page.offset()).unwrap_or(usize::MAX);
    let take = usize::try_from(page.limit()).unwrap_or(usize::MAX);
    let mut items: Vec<Resident> = matching.into_iter().skip(skip).take(take).map(Decoded::masked).collect();
    attach_tags(db, &mut items).await?;
    Ok(Page::new(items, page, total))
}

/// Every resident matching `filter`, ID card numbers and phones masked, ordered by
/// building, unit and room so the sheet reads like the paper ledger.
pub async fn all(db: &Db, filter: &ResidentFilter) -> StoreResult<Vec<Resident>> {
    Ok(all_decoded(db, filter).await?.into_iter().map(Decoded::masked).collect())
}

/// Like [`all`] but with full ID card numbers and phones, for exports that must be
/// imported again. The caller decides who may export and records that they did.
pub async fn all_for_export(db: &Db, filter: &ResidentFilter) -> StoreResult<Vec<Resident>> {
    Ok(all_decoded(db, filter).await?.into_iter().map(Decoded::plain).collect())
}

async fn all_decoded(db: &Db, filter: &ResidentFilter) -> StoreResult<Vec<Decoded>> {
    let (c, suffix) = conditions(filter, &db.vault);
    let sql = format!(
        "{SELECT} {} ORDER BY LENGTH(b.number), b.number, h.unit, LENGTH(h.room), h.room, r.relation = 'head' DESC, r.birth_date",
        c.where_clause()
    );
    let rows = c.query(sql).fetch_all(&db.pool).await?;
    let mut items = Vec::with_capacity(rows.len());
    for row in &rows {
        let decoded = from_row(row, &db.vault)?;
        if suffix.as_deref().is_none_or(|digits| decoded.ends_with(digits)) {
            items.push(decoded);
        }
    }
    let tag_rows = {
        let mut tc = Conditions::default();
        if let Some(path) = &filter.under_path {
            tc.under_path("r.path", path);
        }
        let sql = format!(
            "SELECT rt.resident_id, t.name_zh FROM resident_tags rt JOIN tags t ON t.id = rt.tag_id
             JOIN residents r ON r.id = rt.resident_id {} ORDER BY t.code",
            tc.where_clause()
        );
        tc.query(sql).fetch_all(&db.pool).await?
    };
    let mut by_resident: HashMap<String, Vec<String>> = HashMap::new();
    for row in tag_rows {
        by_resident.entry(row.try_get("resident_id")?).or_default().push(row.try_get("name_zh")?);
    }
    for d in &mut items {
        d.resident.tags = by_resident.remove(&d.resident.id).unwrap_or_default();
    }
    Ok(items)
}

/// The person living here under this ID card number, if any; looked up by blind index.
pub async fn find_active_by_id_card(db: &Db, id_card: &IdCardNumber) -> StoreResult<Option<Resident>> {
    let row = sqlx::query("SELECT id FROM residents WHERE id_card_hash = $1 AND status = $2")
        .bind(db.vault.blind(ID_CARD, id_card.as_str()))
        .bind(ResidentStatus::Active.code())
        .fetch_optional(&db.pool)
        .await?;
    match row {
        Some(row) => Ok(Some(get(db, &row.try_get::<String, _>("id")?).await?)),
        None => Ok(None),
    }
}

/// Which of these ID card numbers are already registered, with the holder's name;
/// keyed by the numbers as given. Looked up by blind index, so nothing is decrypted.
pub async fn registered_id_cards(db: &Db, id_cards: &[&str]) -> StoreResult<HashMap<String, String>> {
    let mut found = HashMap::new();
    for chunk in id_cards.chunks(500) {
        let mut c = Conditions::default();
        let mut given_by_hash: HashMap<String, &str> = HashMap::new();
        for given in chunk {
            // The canonical form is what was blinded on the way in (upper-case X, no spaces).
            let canonical = IdCardNumber::parse(given).map_or_else(|_| (*given).to_owned(), |i| i.as_str().to_owned());
            given_by_hash.insert(db.vault.blind(ID_CARD, &canonical), given);
        }
        let placeholders: Vec<String> = given_by_hash.keys().map(|h| c.text(h.as_str())).collect();
        let sql =
            format!("SELECT id_card_hash, name FROM residents WHERE id_card_hash IN ({})", placeholders.join(", "));
        for row in c.query(sql).fetch_all(&db.pool).await? {
            let hash: String = row.try_get("id_card_hash")?;
            if let Some(given) = given_by_hash.get(hash.as_str()) {
                found.insert((*given).to_owned(), row.try_get("name")?);
            }
        }
    }
    Ok(found)
}

/// Seals every ID card number and phone again under `new` and recomputes their blind
/// indexes, in one transaction, and records `new` as the database's key: after the
/// commit the database opens only with `new`. Stop every server first, as one still
/// running would go on sealing with the old key. Returns the number of residents.
pub async fn rekey(db: &Db, new: &Vault) -> StoreResult<usize> {
    const BATCH: i64 = 5_000;
    let old = &db.vault;
    let mut tx = db.pool.begin().await?;
    let switched = sqlx::query("UPDATE vault_key SET key_id = $1, created_at = $2 WHERE id = 1 AND key_id = $3")
        .bind(new.key_id())
        .bind(now_millis())
        .bind(old.key_id())
        .execute(&mut *tx)
        .await?;
    if switched.rows_affected() != 1 {
        return Err(StoreError::Conflict(msg!("error.wrong_key", key = old.key_id())));
    }
    let mut done = 0;
    let mut after = String::new();
    loop {
        // Keyset pages in id order, so memory stays flat however large the registry.
        let rows = sqlx::query("SELECT id, id_card_enc, phone_enc FROM residents WHERE id > $1 ORDER BY id LIMIT $2")
            .bind(&after)
            .bind(BATCH)
            .fetch_all(&mut *tx)
            .await?;
        let Some(last) = rows.last() else { break };
        after = last.try_get("id")?;
        for row in &rows {
            let id: String = row.try_get("id")?;
            let id_card = open_field(old, row, ID_CARD, &id)?
                .map(|v| {
                    IdCardNumber::parse(&v).map_err(|e| {
                        StoreError::Invalid(msg!("error.stored_value", what = "ID card number", value = e))
                    })
                })
                .transpose()?;
            let phone = open_field(old, row, PHONE, &id)?
                .map(|v| {
                    Phone::parse(&v)
                        .map_err(|e| StoreError::Invalid(msg!("error.stored_value", what = "phone", value = e)))
                })
                .transpose()?;
            let p = Protected::new(new, &id, id_card.as_ref(), phone.as_ref());
            sqlx::query(
                "UPDATE residents SET id_card_enc = $1, id_card_hash = $2, id_last4_hash = $3, phone_enc = $4,
                 phone_hash = $5, phone_last4_hash = $6 WHERE id = $7",
            )
            .bind(&p.id_card_enc)
            .bind(&p.id_card_hash)
            .bind(&p.id_last4_hash)
            .bind(&p.phone_enc)
            .bind(&p.phone_hash)
            .bind(&p.phone_last4_hash)
            .bind(&id)
            .execute(&mut *tx)
            .await?;
        }
        done += rows.len();
    }
    // The other sealed fields (demand reporters' phones, webhook secrets, the grid
    // team's phones) in the same transaction.
    crate::demands::rekey(&mut tx, old, new).await?;
    crate::team::rekey(&mut tx, old, new).await?;
    crate::security::recovery::rekey(&mut tx, old, new).await?;
    crate::party::rekey(&mut tx, old, new).await?;
    tx.commit().await?;
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_terms_are_told_apart() {
        assert!(matches!(classify("张伟"), Search::Name("张伟")));
        assert!(matches!(classify("5678"), Search::Suffix(s) if s == "5678"));
        assert!(matches!(classify("002x"), Search::Suffix(s) if s == "002X"));
        assert!(matches!(classify("11010519491231002X"), Search::IdCard(_)));
        assert!(matches!(classify("12"), Search::Name("12")));
        assert!(matches!(classify("138 0535 1234"), Search::Mobile(p) if p.as_str() == "13805351234"));
        assert!(matches!(classify("0535-6661234"), Search::Suffix(s) if s == "05356661234"));
        assert!(matches!(classify("351234"), Search::Suffix(s) if s == "351234"));
    }
}
