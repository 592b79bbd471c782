//! Residents' demands and events (民情诉求): intake, the steps of the closed loop,
//! the timeline, the ledger and its three rates.
//!
//! What may happen to an item is decided by `wangge_domain::demands::transition`;
//! this module loads the item, asks it, and writes the new state and a timeline
//! event in one transaction. An update only lands if the item is still in the state
//! it was read in, so two handlers acting at once cannot both win.
//!
//! The reporter's call-back phone is protected like residents' phones
//! ([`crate::vault`]): sealed, bound to its row, shown masked.

pub mod attachments;
mod builder;
mod catalogue;
pub mod digest;
pub mod drafts;
pub mod history;
pub(crate) mod intake;
pub(crate) mod rates;
pub mod routing;
pub mod search;
pub mod tracking;

pub use catalogue::{Category, Holiday, calendar, categories, category, holidays, save_category, set_holiday};
pub use intake::stats as intake_stats;
pub(crate) use rates::status_as_of;
pub use rates::{RATING_DAYS_DEFAULT, Rates, rates, rates_as_of, rates_at};

use crate::Thing;
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use utoipa::ToSchema;
use wangge_domain::{
    Channel, DemandKind, DemandStatus, EventKind, Explain, HandlerKind, ItemState, Level, Message, Phone, Role, Step,
    Vocabulary, msg, new_id, now_millis, transition,
};

use crate::conditions::Conditions;
use crate::registry::{areas, buildings, households, residents};
use crate::vault::Vault;
use crate::{Db, Page, PageRequest, StoreError, StoreResult};

pub(crate) fn vocab<V: Vocabulary>(row: &AnyRow, column: &str) -> StoreResult<V> {
    let code: String = row.try_get(column)?;
    V::from_code(&code).ok_or_else(|| StoreError::Invalid(msg!("error.stored_value", what = V::NAME, value = &code)))
}

/// An item of the ledger as the API shows it; the reporter's phone masked.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Demand {
    #[schema(format = Uuid)]
    pub id: String,
    /// The place's hierarchy path (its grid's, or the area's when no building is known).
    pub path: String,
    #[schema(format = Uuid)]
    pub area_id: String,
    #[schema(format = Uuid)]
    pub building_id: Option<String>,
    #[schema(format = Uuid)]
    pub household_id: Option<String>,
    #[schema(format = Uuid)]
    pub resident_id: Option<String>,
    pub category: String,
    pub kind: DemandKind,
    pub channel: Channel,
    pub title: String,
    pub description: String,
    pub address: Option<String>,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    pub reporter_name: Option<String>,
    /// Masked: `138****5678`.
    #[schema(example = "138****5678")]
    pub reporter_phone: Option<String>,
    #[schema(format = Uuid)]
    pub reporter_account_id: Option<String>,
    pub status: DemandStatus,
    pub level: Level,
    pub handler_kind: Option<HandlerKind>,
    pub handler_id: Option<String>,
    pub handler_name: Option<String>,
    #[schema(format = Uuid)]
    pub merged_into: Option<String>,
    /// Whether an unsatisfied rating reopened it (it reopens once).
    pub reopened: bool,
    /// Accept by (Unix ms): the end of the last business day allowed.
    pub accept_due: i64,
    /// Resolve by (Unix ms).
    pub resolve_due: i64,
    /// The deadline that matters now: accepting while submitted, resolving after.
    pub due: i64,
    /// Open and past `due`.
    pub overdue: bool,
    /// Open and due within a day.
    pub due_soon: bool,
    pub responded_at: Option<i64>,
    pub closed_at: Option<i64>,
    /// 1–5: from the resident, or recorded by staff after a call-back (`rating_source`).
    pub rating: Option<i64>,
    pub rating_comment: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    /// The 8-digit tracking number (a Damm check digit last); null only for items
    /// recorded before tracking numbers existed.
    #[schema(example = "12345674")]
    pub tracking_no: Option<String>,
    /// Who gave the rating.
    pub rating_source: Option<RatingSource>,
    /// When the rating was recorded (Unix ms).
    pub rated_at: Option<i64>,
    /// A rating recorded by staff: who made the call-back…
    pub rating_called_by: Option<String>,
    /// …and when (Unix ms).
    pub rating_called_at: Option<i64>,
    /// A closed item may be rated until then (Unix ms); not rated by then, it counts
    /// as "not rated" in the rates, never as satisfied.
    pub rating_due: Option<i64>,
}

/// Who gave a rating: the resident (the portal, the tracking page), or staff who
/// called the reporter back and wrote down what they said. The satisfaction rate
/// counts both and its method shows them apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RatingSource {
    Resident,
    Staff,
}

impl RatingSource {
    pub fn code(self) -> &'static str {
        match self {
            Self::Resident => "resident",
            Self::Staff => "staff",
        }
    }

    pub fn from_code(code: &str) -> Option<RatingSource> {
        match code {
            "resident" => Some(Self::Resident),
            "staff" => Some(Self::Staff),
            _ => None,
        }
    }
}

/// A new item. The place is a building, or else an area (a grid, or any area in
/// scope for an instruction from above); `household_id` and `resident_id` when the
/// matter is a family's.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
pub struct NewDemand {
    #[schema(format = Uuid)]
    pub building_id: Option<String>,
    /// Area id or code, when no building is given.
    pub area: Option<String>,
    #[schema(format = Uuid)]
    pub household_id: Option<String>,
    #[schema(format = Uuid)]
    pub resident_id: Option<String>,
    /// A category code from the catalogue.
    pub category: String,
    /// Default: consultation for the `policy` category, a report otherwise.
    pub kind: Option<DemandKind>,
    /// Default: `api`.
    pub channel: Option<Channel>,
    pub title: String,
    #[serde(default)]
    pub description: String,
    pub address: Option<String>,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    pub reporter_name: Option<String>,
    /// For a call-back; stored encrypted, shown masked.
    pub reporter_phone: Option<String>,
}

/// Who takes a step: for the state machine (role) and the timeline (id, name).
#[derive(Clone, Debug)]
pub struct Actor {
    pub id: Option<String>,
    pub name: String,
    pub role: Role,
}

/// One entry of an item's timeline.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct DemandEvent {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub demand_id: String,
    /// `submit`, the step taken (`accept`, `dispatch`, …), or `merged_in`.
    pub step: EventKind,
    pub from_status: Option<DemandStatus>,
    pub to_status: DemandStatus,
    pub level: Level,
    pub actor_id: Option<String>,
    pub actor_name: String,
    pub note: String,
    pub at: i64,
}

/// What a step carries besides its name. Which fields a step needs is checked in
/// [`take_step`]: a reason to reject, escalate or hand back; a handler to dispatch;
/// the item to merge into; a score to rate; an answer for a consultation.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
pub struct StepInput {
    #[serde(default)]
    pub note: String,
    pub handler_kind: Option<HandlerKind>,
    pub handler_id: Option<String>,
    pub handler_name: Option<String>,
    /// The item a duplicate is merged into.
    #[schema(format = Uuid)]
    pub into: Option<String>,
    /// 1–5.
    pub score: Option<u8>,
    /// A rating recorded by staff after a call-back: who called (default: the
    /// person recording it)…
    pub called_by: Option<String>,
    /// …and when (Unix ms; default: now).
    pub called_at: Option<i64>,
}

const SELECT: &str = "SELECT id, path, area_id, building_id, household_id, resident_id, category, kind, channel,
    title, description, address, lat, lng, reporter_name, reporter_phone_enc, reporter_account_id, status, level,
    handler_kind, handler_id, handler_name, merged_into, reopened, accept_due, resolve_due, responded_at, closed_at,
    rating, rating_comment, created_at, updated_at, tracking_no, rating_source, rated_at, rating_called_by,
    rating_called_at, rating_due FROM demands";

const PHONE_PURPOSE: &str = "demand_phone";
/// The blind index of the last four digits of the reporter's phone.
const PHONE_LAST4_PURPOSE: &str = "demand_phone_last4";

fn aad(id: &str) -> String {
    format!("demands.reporter_phone:{id}")
}

/// Within this many milliseconds of its deadline an item is "due soon".
const DUE_SOON_MS: i64 = 24 * 3600 * 1000;

fn from_row(row: &AnyRow, vault: &Vault, now: i64) -> StoreResult<Demand> {
    let id: String = row.try_get("id")?;
    let sealed: Option<String> = row.try_get("reporter_phone_enc")?;
    let phone = sealed.map(|s| vault.open(&s, &aad(&id))).transpose()?;
    let status: DemandStatus = vocab(row, "status")?;
    let accept_due: i64 = row.try_get("accept_due")?;
    let resolve_due: i64 = row.try_get("resolve_due")?;
    let (due, overdue, due_soon) = builder::deadline(status, accept_due, resolve_due, now);
    let handler_kind: Option<String> = row.try_get("handler_kind")?;
    Ok(Demand {
        path: row.try_get("path")?,
        area_id: row.try_get("area_id")?,
        building_id: row.try_get("building_id")?,
        household_id: row.try_get("household_id")?,
        resident_id: row.try_get("resident_id")?,
        category: row.try_get("category")?,
        kind: vocab(row, "kind")?,
        channel: vocab(row, "channel")?,
        title: row.try_get("title")?,
        description: row.try_get("description")?,
        address: row.try_get("address")?,
        lat: row.try_get("lat")?,
        lng: row.try_get("lng")?,
        reporter_name: row.try_get("reporter_name")?,
        reporter_phone: phone.map(|p| Phone::parse(&p).map_or_else(|_| "****".into(), |p| p.masked())),
        reporter_account_id: row.try_get("reporter_account_id")?,
        status,
        level: vocab(row, "level")?,
        handler_kind: handler_kind.and_then(|k| HandlerKind::from_code(&k)),
        handler_id: row.try_get("handler_id")?,
        handler_name: row.try_get("handler_name")?,
        merged_into: row.try_get("merged_into")?,
        reopened: row.try_get::<i16, _>("reopened")? != 0,
        accept_due,
        resolve_due,
        due,
        overdue,
        due_soon,
        responded_at: row.try_get("responded_at")?,
        closed_at: row.try_get("closed_at")?,
        rating: row.try_get::<Option<i16>, _>("rating")?.map(i64::from),
        rating_comment: row.try_get("rating_comment")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        tracking_no: row.try_get("tracking_no")?,
        rating_source: row.try_get::<Option<String>, _>("rating_source")?.and_then(|s| RatingSource::from_code(&s)),
        rated_at: row.try_get("rated_at")?,
        rating_called_by: row.try_get("rating_called_by")?,
        rating_called_at: row.try_get("rating_called_at")?,
        rating_due: row.try_get("rating_due")?,
        id,
    })
}

pub async fn get(db: &Db, id: &str) -> StoreResult<Demand> {
    let sql = format!("{SELECT} WHERE id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&db.pool).await?;
    from_row(&row.ok_or_else(|| StoreError::not_found(Thing::Demand, id))?, &db.vault, now_millis())
}

/// The full call-back phone of an item's reporter, for the caller to authorise and audit.
pub async fn reveal_phone(db: &Db, id: &str) -> StoreResult<Option<String>> {
    let row =
        sqlx::query("SELECT reporter_phone_enc FROM demands WHERE id = $1").bind(id).fetch_optional(&db.pool).await?;
    let sealed: Option<String> =
        row.ok_or_else(|| StoreError::not_found(Thing::Demand, id))?.try_get("reporter_phone_enc")?;
    Ok(sealed.map(|s| db.vault.open(&s, &aad(id))).transpose()?)
}

/// Where an item lies: its building's grid, or the area named. See [`locate`].
#[derive(Clone, Debug)]
pub struct Place {
    pub path: String,
    pub area_id: String,
    pub building_id: Option<String>,
    pub household_id: Option<String>,
    /// The household the named resident lives in (`Some(None)`: moved out), checked
    /// by [`prepare`] against the household named.
    resident_household: Option<Option<String>>,
}

/// The place of a new item, from the most precise of household, building or area.
/// Every record the item names (household, resident, building, area) must lie
/// where `sees` (the caller's scope) says yes: one that does not is answered
/// [`StoreError::NotFound`], as an unknown id is, and in the same order, so that a
/// request cannot tell which ids exist outside its scope. Callers without a scope
/// pass `|_| true`.
pub async fn locate(db: &Db, new: &NewDemand, sees: impl Fn(&str) -> bool) -> StoreResult<Place> {
    let seen = |what: Thing, id: &str, path: &str| {
        if sees(path) { Ok(()) } else { Err(StoreError::not_found(what, id)) }
    };
    let household_id = optional(new.household_id.as_deref());
    let given_building = optional(new.building_id.as_deref());
    let building_id = match (&household_id, &given_building) {
        (Some(h), _) => {
            let household = households::get(db, h).await?;
            seen(Thing::Household, h, &household.path)?;
            Some(household.building_id)
        }
        (None, b) => b.clone(),
    };
    let resident_household = match optional(new.resident_id.as_deref()) {
        Some(r) => {
            let resident = residents::get(db, &r).await?;
            seen(Thing::Resident, &r, &resident.path)?;
            Some(resident.household_id)
        }
        None => None,
    };
    // A building given beside a household is checked like any record named, and
    // must be the household's.
    if let (Some(given), Some(of_household)) = (&given_building, &building_id)
        && given != of_household
    {
        let building = buildings::get(db, given).await?;
        seen(Thing::Building, given, &building.path)?;
        let household = household_id.as_deref().unwrap_or_default();
        return Err(StoreError::Invalid(
            msg!("demands.error.household_not_in_building", household = household, building = given)
                .field("building_id"),
        ));
    }
    if let Some(b) = building_id {
        let building = buildings::get(db, &b).await?;
        seen(Thing::Building, &b, &building.path)?;
        return Ok(Place {
            path: building.path,
            area_id: building.grid_id,
            building_id: Some(building.id),
            household_id,
            resident_household,
        });
    }
    let area = new
        .area
        .as_deref()
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .ok_or_else(|| StoreError::Invalid(msg!("demands.error.say_where").field("area")))?;
    let found = if area.bytes().all(|b| b.is_ascii_digit()) {
        let found = areas::get_by_code(db, area).await?;
        seen(Thing::Area, area, &found.path)?;
        found
    } else {
        let found = areas::get(db, area).await?;
        seen(Thing::Area, area, &found.path)?;
        found
    };
    Ok(Place { path: found.path, area_id: found.id, building_id: None, household_id: None, resident_household })
}

fn optional(value: Option<&str>) -> Option<String> {
    value.map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned)
}

/// Takes an item in: checks it, computes its deadlines from the catalogue and the
/// calendar, and records it with the first entry of its timeline.
pub async fn create(db: &Db, new: NewDemand, by: &Actor, reporter_account_id: Option<&str>) -> StoreResult<Demand> {
    create_audited(db, new, by, reporter_account_id, |_| None).await
}

/// [`create`], with the audit entry `audit` makes of the new item written in the
/// same transaction: one commit per item instead of two.
pub async fn create_audited(
    db: &Db,
    new: NewDemand,
    by: &Actor,
    reporter_account_id: Option<&str>,
    audit: impl FnOnce(&Demand) -> Option<crate::audit::Entry>,
) -> StoreResult<Demand> {
    let place = locate(db, &new, |_| true).await?;
    let intake = prepare(db, new, place, by, reporter_account_id).await?;
    submit(db, intake, audit).await
}

/// A new item checked and built, not yet written: [`prepare`], then [`submit`].
#[derive(Debug)]
pub struct Intake(intake::Prepared);

impl Intake {
    /// The item as it will be stored and shown once submitted.
    pub fn demand(&self) -> &Demand {
        &self.0.row.demand
    }
}

/// Checks a new item at `place` (from [`locate`]) and builds it with its deadlines
/// (from the catalogue and the calendar, both kept in memory) and the first entry of
/// its timeline. Nothing is written yet; everything an item can be refused for on
/// its own is checked here, before it joins a batch ([`intake`]).
pub async fn prepare(
    db: &Db,
    new: NewDemand,
    place: Place,
    by: &Actor,
    reporter_account_id: Option<&str>,
) -> StoreResult<Intake> {
    if let (Some(resident), Some(household), Some(lives_in)) =
        (new.resident_id.as_deref(), &place.household_id, &place.resident_household)
        && lives_in.as_ref() != Some(household)
    {
        return Err(StoreError::Invalid(
            msg!("demands.error.resident_not_in_household", resident = resident.trim(), household = household)
                .field("resident_id"),
        ));
    }
    let (category, texts) = check(db, &new).await?;
    let kind =
        new.kind.unwrap_or(if category.code == "policy" { DemandKind::Consultation } else { DemandKind::Report });
    let now = now_millis();
    let cal = calendar(db).await?;
    let accept_due = cal.deadline_millis(now, category.accept_days as u32);
    let resolve_due = cal.deadline_millis(now, category.resolve_days as u32);
    let id = new_id();
    let claim = tracking::fresh(db).await?;
    let status = DemandStatus::Submitted;
    let (due, overdue, due_soon) = builder::deadline(status, accept_due, resolve_due, now);
    // What `get` would read back once written (`tests::the_item_answered_is_the_item_stored`).
    let demand = Demand {
        path: place.path,
        area_id: place.area_id,
        building_id: place.building_id,
        household_id: place.household_id,
        resident_id: optional(new.resident_id.as_deref()),
        category: category.code.clone(),
        kind,
        channel: new.channel.unwrap_or(Channel::Api),
        title: texts.title,
        description: texts.description,
        address: optional(new.address.as_deref()),
        lat: new.lat,
        lng: new.lng,
        reporter_name: optional(new.reporter_name.as_deref()),
        // Masked by `Row::new`.
        reporter_phone: None,
        reporter_account_id: reporter_account_id.map(str::to_owned),
        status,
        level: category.level,
        handler_kind: None,
        handler_id: None,
        handler_name: None,
        merged_into: None,
        reopened: false,
        accept_due,
        resolve_due,
        due,
        overdue,
        due_soon,
        responded_at: None,
        closed_at: None,
        rating: None,
        rating_comment: None,
        created_at: now,
        updated_at: now,
        tracking_no: Some(claim.number().to_owned()),
        rating_source: None,
        rated_at: None,
        rating_called_by: None,
        rating_called_at: None,
        rating_due: None,
        id,
    };
    let event = DemandEvent {
        id: new_id(),
        demand_id: demand.id.clone(),
        step: EventKind::Submit,
        from_status: None,
        to_status: status,
        level: category.level,
        actor_id: by.id.clone(),
        actor_name: by.name.clone(),
        note: String::new(),
        at: now,
    };
    let row = builder::Row::new(demand, texts.phone.as_ref(), &db.vault);
    Ok(Intake(intake::Prepared { row, event, audit: None, _claim: claim }))
}

/// Writes a prepared item, its first timeline entry and the audit entry `audit`
/// makes of it, together with whatever other items arrived meanwhile, in one
/// durable commit ([`intake`]). Returns once the item is committed.
pub async fn submit(
    db: &Db,
    Intake(mut item): Intake,
    audit: impl FnOnce(&Demand) -> Option<crate::audit::Entry>,
) -> StoreResult<Demand> {
    item.audit = audit(&item.row.demand).map(|e| e.stamped(item.row.demand.created_at));
    let demand = item.row.demand.clone();
    intake::submit(db, item).await?;
    Ok(demand)
}

/// Everything a new item can be refused for besides its place: its category (known
/// and in use) and what the person wrote ([`builder::Texts`]).
async fn check(db: &Db, new: &NewDemand) -> StoreResult<(Category, builder::Texts)> {
    let category = category(db, new.category.trim()).await?;
    if !category.active {
        return Err(StoreError::Invalid(
            msg!("demands.error.category_retired", code = &category.code).field("category"),
        ));
    }
    let texts = builder::Texts::check(&new.title, &new.description, new.reporter_phone.as_deref())?;
    Ok((category, texts))
}

/// Checks a new item as [`create`] would, without recording it; answers its place's
/// path (for the caller's scope check). A form asks this before it keeps a pending
/// report, so that a refusal comes while the reporter is still on the form.
pub async fn check_new(db: &Db, new: &NewDemand, sees: impl Fn(&str) -> bool) -> StoreResult<String> {
    let place = locate(db, new, sees).await?;
    check(db, new).await?;
    Ok(place.path)
}

/// A photo or file that comes with a new item.
#[derive(Clone, Debug)]
pub struct NewFile {
    pub name: String,
    pub data: Vec<u8>,
}

/// What may come with a new item besides its fields, written in the same
/// transaction: all of it lands, or none of it.
#[derive(Clone, Copy, Debug, Default)]
pub struct Extras<'a> {
    /// Photos and files (checked like [`attachments::add`]; at most
    /// [`attachments::MAX_PER_ITEM`]).
    pub files: &'a [NewFile],
    /// The reporter says it is this open item: the new one is recorded, then merged
    /// into it at once, so its reporter follows that item (see [`merged_reporters`]).
    pub duplicate_of: Option<&'a str>,
    /// The pending report ([`drafts`]) this item finishes: removed in the same
    /// transaction, so that a second tap on the button cannot record it twice.
    pub draft: Option<&'a str>,
}

/// [`create_audited`] with photos, a merge into an existing item, or a finished draft,
/// all in one transaction of its own (not group-committed: the forms that send
/// photos are few and slow beside the API's intake).
pub async fn create_with(
    db: &Db,
    new: NewDemand,
    by: &Actor,
    reporter_account_id: Option<&str>,
    extras: Extras<'_>,
    audit: impl FnOnce(&Demand) -> Option<crate::audit::Entry>,
) -> StoreResult<Demand> {
    if extras.files.len() as i64 > attachments::MAX_PER_ITEM {
        return Err(StoreError::Invalid(
            msg!("demands.error.too_many_files", most = attachments::MAX_PER_ITEM).field("files"),
        ));
    }
    let types = extras.files.iter().map(|f| attachments::check(&f.data)).collect::<StoreResult<Vec<_>>>()?;
    let target = match extras.duplicate_of {
        Some(into) => Some(merge_target(db, "", into).await?),
        None => None,
    };
    let place = locate(db, &new, |_| true).await?;
    let Intake(item) = prepare(db, new, place, by, reporter_account_id).await?;
    let (id, now, level) = (item.row.demand.id.clone(), item.row.demand.created_at, item.row.demand.level);
    let mut tx = db.pool.begin().await?;
    crate::bulk::insert_chunked(&mut tx, "demands", builder::COLUMNS, std::slice::from_ref(&item.row), builder::bind)
        .await?;
    let event = std::slice::from_ref(&item.event);
    crate::bulk::insert_chunked(&mut tx, "demand_events", builder::EVENT_COLUMNS, event, builder::bind_event).await?;
    for (file, content_type) in extras.files.iter().zip(types) {
        attachments::insert_on(&mut tx, &id, &file.name, content_type, &file.data).await?;
    }
    if let Some(target) = &target {
        sqlx::query("UPDATE demands SET status = $1, merged_into = $2 WHERE id = $3")
            .bind(DemandStatus::Merged.code())
            .bind(&target.id)
            .bind(&id)
            .execute(&mut *tx)
            .await?;
        let note = format!("并入 {}：反映人确认是同一件事", target.id);
        let e = NewEvent {
            step: EventKind::Step(Step::Merge),
            from: Some(DemandStatus::Submitted),
            to: DemandStatus::Merged,
            level,
            note: &note,
        };
        record_event(&mut tx, &id, by, e, now).await?;
        let note = format!("合并了重复的反映 {id}");
        let e = NewEvent {
            step: EventKind::MergedIn,
            from: Some(target.status),
            to: target.status,
            level: target.level,
            note: &note,
        };
        record_event(&mut tx, &target.id, by, e, now).await?;
    }
    if let Some(draft) = extras.draft {
        drafts::remove_on(&mut tx, draft).await?;
    }
    let sql = format!("{SELECT} WHERE id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(&id).fetch_one(&mut *tx).await?;
    let demand = from_row(&row, &db.vault, now)?;
    if let Some(entry) = audit(&demand) {
        crate::audit::record_on(&mut tx, entry).await?;
    }
    tx.commit().await?;
    Ok(demand)
}

struct NewEvent<'a> {
    step: EventKind,
    from: Option<DemandStatus>,
    to: DemandStatus,
    level: Level,
    note: &'a str,
}

async fn record_event(
    conn: &mut AnyConnection,
    demand_id: &str,
    by: &Actor,
    e: NewEvent<'_>,
    at: i64,
) -> StoreResult<DemandEvent> {
    let event = DemandEvent {
        id: new_id(),
        demand_id: demand_id.to_owned(),
        step: e.step,
        from_status: e.from,
        to_status: e.to,
        level: e.level,
        actor_id: by.id.clone(),
        actor_name: by.name.clone(),
        note: e.note.trim().to_owned(),
        at,
    };
    let one = std::slice::from_ref(&event);
    crate::bulk::insert_chunked(conn, "demand_events", builder::EVENT_COLUMNS, one, builder::bind_event).await?;
    Ok(event)
}

/// The item's timeline, oldest first.
pub async fn timeline(db: &Db, id: &str) -> StoreResult<Vec<DemandEvent>> {
    let rows = sqlx::query(
        "SELECT id, demand_id, step, from_status, to_status, level, actor_id, actor_name, note, at
         FROM demand_events WHERE demand_id = $1 ORDER BY at, id",
    )
    .bind(id)
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|r| {
            let from: Option<String> = r.try_get("from_status")?;
            Ok(DemandEvent {
                id: r.try_get("id")?,
                demand_id: r.try_get("demand_id")?,
                step: {
                    let code: String = r.try_get("step")?;
                    EventKind::from_code(&code)
                        .ok_or_else(|| StoreError::Invalid(msg!("error.stored_value", what = "step", value = &code)))?
                },
                from_status: from.and_then(|f| DemandStatus::from_code(&f)),
                to_status: vocab(r, "to_status")?,
                level: vocab(r, "level")?,
                actor_id: r.try_get("actor_id")?,
                actor_name: r.try_get("actor_name")?,
                note: r.try_get("note")?,
                at: r.try_get("at")?,
            })
        })
        .collect()
}

/// What changed: the item after the step and the timeline entry it made.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct StepTaken {
    pub demand: Demand,
    pub event: DemandEvent,
}

fn needs_note(step: Step, input: &StepInput) -> StoreResult<()> {
    let why = match step {
        Step::Reject => "demands.note_needed.reject",
        Step::Escalate => "demands.note_needed.escalate",
        Step::HandBack => "demands.note_needed.hand_back",
        Step::Answer => "demands.note_needed.answer",
        Step::SendBack => "demands.note_needed.send_back",
        Step::Progress => "demands.note_needed.progress",
        _ => return Ok(()),
    };
    if input.note.trim().is_empty() {
        return Err(StoreError::Invalid(Message::new(why).field("note")));
    }
    Ok(())
}

/// Takes `step` on item `id`: asks the state machine, then writes the new state and
/// the timeline entry in one transaction, if the item has not changed meanwhile.
pub async fn take_step(db: &Db, id: &str, step: Step, by: &Actor, input: StepInput) -> StoreResult<StepTaken> {
    let current = get(db, id).await?;
    needs_note(step, &input)?;
    let now = now_millis();
    if step == Step::Rate {
        check_rating_window(&current, now)?;
    }
    let state =
        ItemState { status: current.status, kind: current.kind, level: current.level, reopened: current.reopened };
    let next = transition(state, step, by.role, input.score).map_err(|e| match e {
        wangge_domain::TransitionError::Forbidden(..) => StoreError::Forbidden(e.message()),
        wangge_domain::TransitionError::BadScore(_) => StoreError::Invalid(e.message()),
        _ => StoreError::Conflict(e.message()),
    })?;
    let mut sets = Conditions::default();
    let assignments = assignments(db, &current, step, next, &input, by, now, &mut sets).await?;
    let mut tx = db.pool.begin().await?;
    let sql = format!(
        "UPDATE demands SET {assignments} WHERE id = {} AND status = {} AND updated_at = {}",
        sets.text(id),
        sets.text(current.status.code()),
        sets.int(current.updated_at)
    );
    let updated = sets.query(sql).execute(&mut *tx).await?;
    if updated.rows_affected() != 1 {
        return Err(StoreError::Conflict(msg!("demands.error.changed_meanwhile")));
    }
    let note = step_note(step, &input);
    let e = NewEvent {
        step: EventKind::Step(step),
        from: Some(current.status),
        to: next.status,
        level: next.level,
        note: &note,
    };
    let event = record_event(&mut tx, id, by, e, now).await?;
    if step == Step::Merge
        && let Some(into) = &input.into
    {
        let target = get(db, into).await?;
        let note = format!("合并了重复的反映 {id}");
        let e = NewEvent {
            step: EventKind::MergedIn,
            from: Some(target.status),
            to: target.status,
            level: target.level,
            note: &note,
        };
        record_event(&mut tx, into, by, e, now).await?;
    }
    tx.commit().await?;
    Ok(StepTaken { demand: get(db, id).await?, event })
}

/// The timeline note of a step: what was typed, with the handler or score added.
fn step_note(step: Step, input: &StepInput) -> String {
    let typed = input.note.trim();
    let extra = match step {
        Step::Dispatch => input.handler_name.clone().or(input.handler_id.clone()).map(|h| format!("派遣给 {h}")),
        Step::Rate => input.score.map(|s| format!("{s} 分")),
        Step::Merge => input.into.as_ref().map(|i| format!("并入 {i}")),
        _ => None,
    };
    match extra {
        Some(x) if typed.is_empty() => x,
        Some(x) => format!("{x}：{typed}"),
        None => typed.to_owned(),
    }
}

/// A closed item may be rated until its `rating_due`: later, it stays "not rated".
fn check_rating_window(current: &Demand, now: i64) -> StoreResult<()> {
    if current.status == DemandStatus::Closed && rating_due_of(current) < now {
        return Err(StoreError::Conflict(msg!("demands.error.rating_closed")));
    }
    Ok(())
}

/// When a closed item's time to rate ends: its `rating_due`, or for an item closed
/// before rating windows existed, the default number of days after closing.
pub fn rating_due_of(d: &Demand) -> i64 {
    d.rating_due.unwrap_or_else(|| d.closed_at.unwrap_or(d.updated_at) + RATING_DAYS_DEFAULT * DAY_MS)
}

/// Who gave a rating taken as `by`: a resident's own, or staff's record of a call-back.
pub(crate) fn rating_source_of(by: &Actor) -> RatingSource {
    if by.role == Role::Resident { RatingSource::Resident } else { RatingSource::Staff }
}

pub(crate) const DAY_MS: i64 = 24 * 3600 * 1000;

/// The days a closed item of the community over `path` may be rated in: the
/// community's `rating_days`, else [`RATING_DAYS_DEFAULT`].
pub async fn rating_days(db: &Db, path: &str) -> StoreResult<i64> {
    // The community is the fourth code of the path (city, district, street, community).
    let Some(code) = path.split('/').filter(|c| !c.is_empty()).nth(3) else {
        return Ok(RATING_DAYS_DEFAULT);
    };
    let days: Option<Option<i64>> =
        sqlx::query_scalar("SELECT rating_days FROM areas WHERE code = $1").bind(code).fetch_optional(&db.pool).await?;
    Ok(days.flatten().filter(|d| *d > 0).unwrap_or(RATING_DAYS_DEFAULT))
}

/// Sets a community's days to rate in (`None`: back to the default). Applies to
/// items closed from now on.
pub async fn set_rating_days(db: &Db, community_id: &str, days: Option<i64>) -> StoreResult<()> {
    if let Some(d) = days
        && !(1..=90).contains(&d)
    {
        return Err(StoreError::Invalid(msg!("demands.error.rating_days", days = d).field("rating_days")));
    }
    let area = areas::get(db, community_id).await?;
    if area.level != wangge_domain::AreaLevel::Community {
        return Err(StoreError::Invalid(msg!("demands.error.rating_days_community").field("area")));
    }
    sqlx::query("UPDATE areas SET rating_days = $1 WHERE id = $2")
        .bind(days)
        .bind(community_id)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// The `SET` list of a step's update, its values bound in `sets`.
#[allow(clippy::too_many_arguments)]
async fn assignments(
    db: &Db,
    current: &Demand,
    step: Step,
    next: wangge_domain::Next,
    input: &StepInput,
    by: &Actor,
    now: i64,
    sets: &mut Conditions,
) -> StoreResult<String> {
    let mut out = vec![
        format!("status = {}", sets.text(next.status.code())),
        format!("level = {}", sets.text(next.level.code())),
        format!("updated_at = {}", sets.int(now)),
    ];
    match step {
        Step::Accept | Step::Reject => out.push(format!("responded_at = {}", sets.int(now))),
        Step::Answer | Step::Close => {
            if step == Step::Answer {
                out.push(format!("responded_at = COALESCE(responded_at, {})", sets.int(now)));
            }
            out.push(format!("closed_at = {}", sets.int(now)));
            let days = rating_days(db, &current.path).await?;
            out.push(format!("rating_due = {}", sets.int(now + days * DAY_MS)));
        }
        Step::Dispatch => {
            let kind = input
                .handler_kind
                .ok_or_else(|| StoreError::Invalid(msg!("demands.error.handler_kind_needed").field("handler_kind")))?;
            let name = optional(input.handler_name.as_deref()).or(optional(input.handler_id.as_deref()));
            let name =
                name.ok_or_else(|| StoreError::Invalid(msg!("demands.error.handler_needed").field("handler_name")))?;
            out.push(format!("handler_kind = {}", sets.text(kind.code())));
            out.push(format!("handler_name = {}", sets.text(name)));
            match optional(input.handler_id.as_deref()) {
                Some(h) => out.push(format!("handler_id = {}", sets.text(h))),
                None => out.push("handler_id = NULL".into()),
            }
        }
        // A new level dispatches afresh.
        Step::Escalate | Step::HandBack => {
            out.push("handler_kind = NULL, handler_id = NULL, handler_name = NULL".into());
        }
        Step::Merge => {
            let into = optional(input.into.as_deref())
                .ok_or_else(|| StoreError::Invalid(msg!("demands.error.merge_into_needed").field("into")))?;
            merge_target(db, &current.id, &into).await?;
            out.push(format!("merged_into = {}", sets.text(into)));
        }
        Step::Rate => {
            let score = i64::from(input.score.unwrap_or_default());
            out.push(format!("rating = {}", sets.int(score)));
            out.push(format!("rating_comment = {}", sets.text(input.note.trim())));
            let source = rating_source_of(by);
            out.push(format!("rating_source = {}", sets.text(source.code())));
            out.push(format!("rated_at = {}", sets.int(now)));
            if source == RatingSource::Staff {
                let called_by = optional(input.called_by.as_deref()).unwrap_or_else(|| by.name.clone());
                let called_at = input.called_at.unwrap_or(now);
                // Forms give the call-back time to the minute: a call within the
                // minute the item was closed is after it.
                if called_at > now || current.closed_at.is_some_and(|c| called_at < c - 60_000) {
                    return Err(StoreError::Invalid(msg!("demands.error.called_at").field("called_at")));
                }
                out.push(format!("rating_called_by = {}", sets.text(called_by)));
                out.push(format!("rating_called_at = {}", sets.int(called_at)));
            }
            if next.status == DemandStatus::Reopened {
                // Redone from scratch: a fresh time limit to resolve, and not closed.
                let days = category(db, &current.category).await?.resolve_days;
                let due = calendar(db).await?.deadline_millis(now, days as u32);
                out.push(format!("reopened = 1, closed_at = NULL, rating_due = NULL, resolve_due = {}", sets.int(due)));
            }
        }
        _ => {}
    }
    Ok(out.join(", "))
}

/// The open, unmerged item `into` that item `current_id` may be merged into.
async fn merge_target(db: &Db, current_id: &str, into: &str) -> StoreResult<Demand> {
    if into == current_id {
        return Err(StoreError::Invalid(msg!("demands.error.merge_itself").field("into")));
    }
    let target = get(db, into).await?;
    if !target.status.is_open() {
        return Err(StoreError::Conflict(msg!("demands.error.merge_closed", id = into).term("status", target.status)));
    }
    if target.merged_into.is_some() || target.status == DemandStatus::Merged {
        return Err(StoreError::Conflict(msg!("demands.error.merge_merged", id = into)));
    }
    Ok(target)
}

/// The filters of the ledger.
#[derive(Clone, Debug, Default)]
pub struct DemandFilter {
    pub under_path: Option<String>,
    pub status: Vec<DemandStatus>,
    pub category: Option<String>,
    /// Only items of these categories (none: any).
    pub categories: Vec<String>,
    pub channel: Option<Channel>,
    pub kind: Option<DemandKind>,
    pub building_id: Option<String>,
    pub handler_id: Option<String>,
    /// Items with any of these handlers: a person's 我的待办 is theirs and their units'.
    pub handler_ids: Vec<String>,
    pub reporter_account_id: Option<String>,
    pub overdue: bool,
    /// Created at or after (Unix ms).
    pub from: Option<i64>,
    /// Created before (Unix ms).
    pub to: Option<i64>,
    pub household_id: Option<String>,
    /// The item with this tracking number ([`search`]).
    pub tracking_no: Option<String>,
    /// Blind index of the reporter's whole phone ([`search`]).
    pub phone_hash: Option<String>,
    /// Blind index of the last four digits of the reporter's phone ([`search`]).
    pub phone_last4_hash: Option<String>,
    /// Each word in the title or the address ([`search`]).
    pub words: Vec<String>,
}

/// Statuses as SQL literals (`'submitted', 'accepted'`), written into the text rather
/// than bound: they are codes of a closed vocabulary (lower-case letters and `_`, no
/// user text), and only a literal list lets the engines see that a query lies within
/// the partial index `demands_open` (migration 0010), whose condition is
/// `status IN (<the open statuses in this order>)`.
pub(crate) fn status_list(statuses: &[DemandStatus]) -> String {
    let codes: Vec<String> = statuses
        .iter()
        .map(|s| {
            debug_assert!(s.code().bytes().all(|b| b.is_ascii_lowercase() || b == b'_'));
            format!("'{}'", s.code())
        })
        .collect();
    codes.join(", ")
}

pub(crate) fn conditions(f: &DemandFilter, now: i64) -> Conditions {
    let mut c = Conditions::default();
    if let Some(path) = &f.under_path {
        c.under_path("path", path);
    }
    if !f.status.is_empty() {
        c.push(format!("status IN ({})", status_list(&f.status)));
    }
    if !f.categories.is_empty() {
        let list: Vec<String> = f.categories.iter().map(|code| c.text(code.clone())).collect();
        c.push(format!("category IN ({})", list.join(", ")));
    }
    if !f.handler_ids.is_empty() {
        let list: Vec<String> = f.handler_ids.iter().map(|id| c.text(id.clone())).collect();
        c.push(format!("handler_id IN ({})", list.join(", ")));
    }
    for (column, value) in [
        ("category", f.category.clone()),
        ("channel", f.channel.map(|v| v.code().to_owned())),
        ("kind", f.kind.map(|v| v.code().to_owned())),
        ("building_id", f.building_id.clone()),
        ("handler_id", f.handler_id.clone()),
        ("reporter_account_id", f.reporter_account_id.clone()),
        ("household_id", f.household_id.clone()),
        ("tracking_no", f.tracking_no.clone()),
        ("reporter_phone_hash", f.phone_hash.clone()),
        ("reporter_phone_last4_hash", f.phone_last4_hash.clone()),
    ] {
        if let Some(v) = value {
            let p = c.text(v);
            c.push(format!("{column} = {p}"));
        }
    }
    for word in &f.words {
        // The word is bound, its LIKE wildcards escaped: it matches as typed.
        let (a, b) = (c.containing(word), c.containing(word));
        c.push(format!("(title LIKE {a} ESCAPE '\\' OR COALESCE(address, '') LIKE {b} ESCAPE '\\')"));
    }
    if f.overdue {
        // Open (the condition of the partial index `demands_open`, written the same
        // way, so that both engines count and page on that index alone), and past the
        // deadline that matters in each state: accepting while submitted, resolving
        // while being worked on.
        let open = DemandStatus::open();
        let working: Vec<DemandStatus> = open.iter().copied().filter(|s| *s != DemandStatus::Submitted).collect();
        c.push(format!("status IN ({})", status_list(&open)));
        let (now_a, now_b) = (c.int(now), c.int(now));
        c.push(format!(
            "((status = '{}' AND accept_due < {now_a}) OR (status IN ({}) AND resolve_due < {now_b}))",
            DemandStatus::Submitted.code(),
            status_list(&working)
        ));
    }
    if let Some(from) = f.from {
        let p = c.int(from);
        c.push(format!("created_at >= {p}"));
    }
    if let Some(to) = f.to {
        let p = c.int(to);
        c.push(format!("created_at < {p}"));
    }
    c
}

/// A filter of place, status, categories and whole days of creation only: what the
/// summaries can count.
struct PlainFilter<'a> {
    under_path: Option<&'a str>,
    status: &'a [DemandStatus],
    /// The category and the categories as one list (any when empty).
    categories: Vec<String>,
    /// Summary days ([`crate::summaries::day_at_midnight`]).
    from_day: Option<i64>,
    to_day: Option<i64>,
}

/// `f` as a [`PlainFilter`]; `None` when it asks anything else (a channel, a
/// handler, words, a day's bound that is not a midnight…) or a category outside its
/// categories.
fn plain(f: &DemandFilter) -> Option<PlainFilter<'_>> {
    let DemandFilter {
        under_path,
        status,
        category,
        categories,
        channel: None,
        kind: None,
        building_id: None,
        handler_id: None,
        handler_ids,
        reporter_account_id: None,
        overdue: false,
        from,
        to,
        household_id: None,
        tracking_no: None,
        phone_hash: None,
        phone_last4_hash: None,
        words,
    } = f
    else {
        return None;
    };
    if !handler_ids.is_empty() || !words.is_empty() {
        return None;
    }
    let day = |ms: &Option<i64>| match ms {
        None => Some(None),
        Some(ms) => crate::summaries::day_at_midnight(*ms).map(Some),
    };
    let mut categories = categories.clone();
    if let Some(one) = category {
        if !categories.is_empty() && !categories.contains(one) {
            return None;
        }
        categories = vec![one.clone()];
    }
    Some(PlainFilter { under_path: under_path.as_deref(), status, categories, from_day: day(from)?, to_day: day(to)? })
}

/// The count of a filter that the summary `demand_counts` should answer: one of
/// place, status, category and whole days of creation only (the ledger unfiltered,
/// or by status or category); `None` for any other filter, and for open items of
/// any category: the open items' partial index holds every column that filter
/// reads, and its range under a path is a tenth of the year's items, where the
/// summary holds a row per grid, category, state and day (issue 18: 42 ms against
/// 2 ms for a district of 100,000 items).
fn summary_count(f: &DemandFilter) -> Option<crate::summaries::DemandCount<'_>> {
    let p = plain(f)?;
    if !p.status.is_empty() && p.status.iter().all(|s| s.is_open()) && p.categories.is_empty() {
        return None;
    }
    Some(crate::summaries::DemandCount {
        under_path: p.under_path,
        statuses: p.status.iter().map(|s| s.code()).collect(),
        categories: p.categories,
        from_day: p.from_day,
        to_day: p.to_day,
    })
}

/// The open items a filter selects when the roll-up of open items should answer
/// it (migration 0076, where [`crate::summaries::open_items_rolled_up`]): every open status, under a place, created on
/// whole days, nothing else (the ledger's first page). The area's path (`/` for
/// everything) and the summary days.
fn open_count(f: &DemandFilter) -> Option<(&str, Option<i64>, Option<i64>)> {
    let p = plain(f)?;
    let open = DemandStatus::open();
    let every_open = p.status.len() == open.len() && open.iter().all(|s| p.status.contains(s));
    (every_open && p.categories.is_empty()).then(|| (p.under_path.unwrap_or("/"), p.from_day, p.to_day))
}

/// The ledger, newest first. Its total comes from a summary when the filter
/// allows (the unfiltered ledger of a street does not count 100,000 items for its
/// page count), else from the items.
pub async fn list(db: &Db, f: &DemandFilter, page: PageRequest) -> StoreResult<Page<Demand>> {
    let now = now_millis();
    let c = conditions(f, now);
    let open = open_count(f).filter(|_| crate::summaries::open_items_rolled_up(db));
    let total = match (open, summary_count(f)) {
        (Some((path, from, to)), _) => crate::summaries::open_total(db, path, from, to).await?,
        (None, Some(s)) => crate::summaries::demand_total(db, &s).await?,
        (None, None) => {
            c.scalar(format!("SELECT COUNT(*) FROM demands {}", c.where_clause())).fetch_one(&db.pool).await?
        }
    };
    // The page's ids first, from an index when the filter allows (sorting small
    // index entries, not whole rows), then only those rows.
    let sql = format!(
        "{SELECT} WHERE id IN (SELECT id FROM demands {} ORDER BY created_at DESC, id DESC LIMIT {} OFFSET {})
         ORDER BY created_at DESC, id DESC",
        c.where_clause(),
        page.limit(),
        page.offset()
    );
    let rows = c.query(sql).fetch_all(&db.pool).await?;
    let items = rows.iter().map(|r| from_row(r, &db.vault, now)).collect::<StoreResult<Vec<_>>>()?;
    Ok(Page::new(items, page, total))
}

/// How many items of each category were reported under `under_path` (everywhere
/// when `None`) since `since` (Unix ms): the report forms list the most used first.
pub async fn category_usage(
    db: &Db,
    under_path: Option<&str>,
    since: i64,
) -> StoreResult<std::collections::HashMap<String, i64>> {
    let mut c = Conditions::default();
    if let Some(path) = under_path {
        c.under_path("path", path);
    }
    let p = c.int(since);
    c.push(format!("created_at >= {p}"));
    let sql = format!("SELECT category, COUNT(*) AS n FROM demands {} GROUP BY category", c.where_clause());
    let rows = c.query(sql).fetch_all(&db.pool).await?;
    rows.iter().map(|r| Ok((r.try_get("category")?, r.try_get("n")?))).collect()
}

/// The deadline that matters in each state, as SQL: accepting while submitted,
/// resolving after (what [`Demand::due`] is).
const DUE: &str = "CASE WHEN status = 'submitted' THEN accept_due ELSE resolve_due END";

/// At most `limit` items of a filter, the nearest deadline first (so the overdue
/// lead), with how many there are: a work list (今日). Meant for narrow filters (one
/// person's items, one state in one grid): the open items' index finds them and
/// only those are sorted.
pub async fn by_deadline(db: &Db, f: &DemandFilter, limit: u32) -> StoreResult<(Vec<Demand>, i64)> {
    let now = now_millis();
    let c = conditions(f, now);
    let total = c.scalar(format!("SELECT COUNT(*) FROM demands {}", c.where_clause())).fetch_one(&db.pool).await?;
    let sql = format!("{SELECT} {} ORDER BY {DUE}, created_at, id LIMIT {limit}", c.where_clause());
    let rows = c.query(sql).fetch_all(&db.pool).await?;
    let items = rows.iter().map(|r| from_row(r, &db.vault, now)).collect::<StoreResult<Vec<_>>>()?;
    Ok((items, total))
}

/// Items whose `created_at` is in `[from, to)` under a path, oldest first, at most
/// `limit`: what Open311 lists.
pub async fn between(db: &Db, f: &DemandFilter, limit: i64) -> StoreResult<Vec<Demand>> {
    between_from(db, f, limit, 0).await
}

/// [`between`], skipping the first `offset` items (a page of them).
pub async fn between_from(db: &Db, f: &DemandFilter, limit: i64, offset: i64) -> StoreResult<Vec<Demand>> {
    let now = now_millis();
    let c = conditions(f, now);
    let sql = format!("{SELECT} {} ORDER BY created_at DESC, id DESC LIMIT {limit} OFFSET {offset}", c.where_clause());
    let rows = c.query(sql).fetch_all(&db.pool).await?;
    rows.iter().map(|r| from_row(r, &db.vault, now)).collect()
}

/// The latest non-empty timeline note of each item: Open311's `status_notes`.
pub async fn latest_notes(db: &Db, ids: &[&str]) -> StoreResult<std::collections::HashMap<String, String>> {
    let mut notes = std::collections::HashMap::new();
    // In slices, to stay under SQLite's limit on bound values per statement.
    for chunk in ids.chunks(500) {
        let mut c = Conditions::default();
        let list: Vec<String> = chunk.iter().map(|id| c.text(*id)).collect();
        let sql = format!(
            "SELECT demand_id, note FROM demand_events WHERE demand_id IN ({}) AND note <> '' ORDER BY at, id",
            list.join(", ")
        );
        for row in c.query(sql).fetch_all(&db.pool).await? {
            notes.insert(row.try_get("demand_id")?, row.try_get("note")?);
        }
    }
    Ok(notes)
}

/// An open item that may be what a new report is about.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct SimilarItem {
    #[schema(format = Uuid)]
    pub id: String,
    pub title: String,
    pub category: String,
    pub status: DemandStatus,
    #[schema(format = Uuid)]
    pub building_id: Option<String>,
    /// In the same building as the new report (else in the same grid).
    pub same_building: bool,
    pub created_at: i64,
}

/// What a new report is compared with to find the open items it may duplicate.
#[derive(Clone, Copy, Debug, Default)]
pub struct LikeThis<'a> {
    /// Its title: offered items must read alike ([`title_likeness`]).
    pub title: Option<&'a str>,
    /// Where it is (latitude, longitude), when known: items within [`NEAR_METRES`].
    pub at: Option<(f64, f64)>,
}

/// How close two titles must be ([`title_likeness`]) for an item to be offered.
pub const LIKE_TITLES: f64 = 0.3;
/// How far (metres) an item with coordinates may be from a new report's to be offered.
pub const NEAR_METRES: f64 = 100.0;
/// At most this many items are offered.
pub const OFFER_AT_MOST: usize = 3;

/// The characters of a title that carry its meaning: letters and digits, lower case
/// (full-width digits and letters already made half-width by the builder).
fn title_chars(title: &str) -> Vec<char> {
    wangge_domain::text::normalize(title).chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

/// How alike two titles are, 0 to 1: the Dice coefficient of their character bigrams
/// (a title of one character is its own bigram). Chinese has no spaces between
/// words, and two adjacent characters are the usual unit of a word: 楼道灯不亮 and
/// 3号楼楼道灯坏了 share 楼道 and 道灯; a bench and a stair light share nothing.
pub fn title_likeness(a: &str, b: &str) -> f64 {
    fn bigrams(chars: &[char]) -> Vec<(char, char)> {
        match chars {
            [] => Vec::new(),
            [one] => vec![(*one, *one)],
            _ => chars.windows(2).map(|w| (w[0], w[1])).collect(),
        }
    }
    let (a, b) = (bigrams(&title_chars(a)), bigrams(&title_chars(b)));
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    // Each bigram of `b` matches at most once (a multiset intersection).
    let mut left = b.clone();
    let mut shared = 0usize;
    for g in &a {
        if let Some(i) = left.iter().position(|h| h == g) {
            left.swap_remove(i);
            shared += 1;
        }
    }
    2.0 * shared as f64 / (a.len() + b.len()) as f64
}

/// Metres between two points (latitude, longitude in degrees): the equirectangular
/// approximation, exact enough within a community.
pub fn metres_between(a: (f64, f64), b: (f64, f64)) -> f64 {
    const EARTH: f64 = 6_371_000.0;
    let mean = ((a.0 + b.0) / 2.0).to_radians();
    let x = (b.1 - a.1).to_radians() * mean.cos();
    let y = (b.0 - a.0).to_radians();
    (x * x + y * y).sqrt() * EARTH
}

/// Open items that may be what a new report is about: of `category`, under
/// `under_path` (the building's grid), and — when `like.title` is given, as every
/// report form gives it — only in the same building or within [`NEAR_METRES`] of
/// `like.at`, whose titles read alike ([`LIKE_TITLES`]), the most alike first, at
/// most `limit`. Without a title (the API asked only by category), the same building
/// first, then the rest of the area, newest first. Merged items are left out.
pub async fn similar(
    db: &Db,
    category: &str,
    building_id: Option<&str>,
    under_path: &str,
    like: LikeThis<'_>,
    limit: i64,
) -> StoreResult<Vec<SimilarItem>> {
    let mut c = Conditions::default();
    c.under_path("path", under_path);
    let cat = c.text(category);
    c.push(format!("category = {cat}"));
    let open: Vec<String> = DemandStatus::open().into_iter().map(|s| c.text(s.code())).collect();
    c.push(format!("status IN ({})", open.join(", ")));
    let same = match building_id {
        Some(b) => format!("CAST(CASE WHEN building_id = {} THEN 1 ELSE 0 END AS BIGINT)", c.text(b)),
        None => "CAST(0 AS BIGINT)".into(),
    };
    let strict = like.title.is_some();
    if strict {
        // The same building, or any item with a point (its distance is measured
        // below: the grid's few located open items of one category).
        let mut near = Vec::new();
        if let Some(b) = building_id {
            near.push(format!("building_id = {}", c.text(b)));
        }
        if like.at.is_some() {
            near.push("lat IS NOT NULL".to_owned());
        }
        if near.is_empty() {
            return Ok(Vec::new());
        }
        c.push(format!("({})", near.join(" OR ")));
    }
    // A title filter is applied here, so a generous number of the nearest candidates.
    let fetch = if strict { 200 } else { limit };
    let sql = format!(
        "SELECT id, title, category, status, building_id, created_at, lat, lng, {same} AS same_building FROM demands {}
         ORDER BY same_building DESC, created_at DESC LIMIT {fetch}",
        c.where_clause()
    );
    let rows = c.query(sql).fetch_all(&db.pool).await?;
    let mut found = Vec::new();
    for r in &rows {
        let status: DemandStatus = vocab(r, "status")?;
        let item = SimilarItem {
            id: r.try_get("id")?,
            title: r.try_get("title")?,
            category: r.try_get("category")?,
            status,
            building_id: r.try_get("building_id")?,
            same_building: r.try_get::<i64, _>("same_building")? != 0,
            created_at: r.try_get("created_at")?,
        };
        let point = match (r.try_get::<Option<f64>, _>("lat")?, r.try_get::<Option<f64>, _>("lng")?) {
            (Some(lat), Some(lng)) => Some((lat, lng)),
            _ => None,
        };
        found.push((item, point));
    }
    let Some(title) = like.title else {
        return Ok(found.into_iter().map(|(item, _)| item).collect());
    };
    let mut alike: Vec<(f64, SimilarItem)> = found
        .into_iter()
        .filter(|(item, point)| {
            item.same_building || matches!((like.at, point), (Some(a), Some(b)) if metres_between(a, *b) <= NEAR_METRES)
        })
        .map(|(item, _)| (title_likeness(title, &item.title), item))
        .filter(|(score, _)| *score >= LIKE_TITLES)
        .collect();
    alike.sort_by(|a, b| b.0.total_cmp(&a.0).then(b.1.created_at.cmp(&a.1.created_at)));
    Ok(alike.into_iter().take(usize::try_from(limit).unwrap_or(0)).map(|(_, item)| item).collect())
}

/// The accounts that reported the items merged into `id`: they hear of its progress.
pub async fn merged_reporters(db: &Db, id: &str) -> StoreResult<Vec<(String, String)>> {
    let rows = sqlx::query(
        "SELECT id, reporter_account_id FROM demands WHERE merged_into = $1 AND reporter_account_id IS NOT NULL",
    )
    .bind(id)
    .fetch_all(&db.pool)
    .await?;
    rows.iter().map(|r| Ok((r.try_get("id")?, r.try_get("reporter_account_id")?))).collect()
}

/// The items merged into `id`, oldest first: their reporters are followed up with it.
pub async fn merged_items(db: &Db, id: &str) -> StoreResult<Vec<Demand>> {
    let sql = format!("{SELECT} WHERE merged_into = $1 ORDER BY created_at, id");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_all(&db.pool).await?;
    let now = now_millis();
    rows.iter().map(|r| from_row(r, &db.vault, now)).collect()
}

/// Gives items recorded before tracking numbers existed (migration 0014) a number
/// and the index of their reporter's last four digits, so that every reporter —
/// not only those of new reports — can follow their report on the tracking page
/// and be found by phone suffix. Run by `Db::migrate`; a later start finds nothing
/// to do. Answers how many items it numbered.
pub async fn backfill_tracking(db: &Db) -> StoreResult<usize> {
    let rows = sqlx::query("SELECT id, reporter_phone_enc FROM demands WHERE tracking_no IS NULL ORDER BY id")
        .fetch_all(&db.pool)
        .await?;
    if rows.is_empty() {
        return Ok(0);
    }
    let mut tx = db.pool.begin().await?;
    let numbers = tracking::allocate(&mut tx, rows.len()).await?;
    for (row, number) in rows.iter().zip(&numbers) {
        let id: String = row.try_get("id")?;
        let sealed: Option<String> = row.try_get("reporter_phone_enc")?;
        let last4 = match sealed {
            Some(sealed) => {
                let phone = db.vault.open(&sealed, &aad(&id))?;
                Phone::parse(&phone).map(|p| db.vault.blind(PHONE_LAST4_PURPOSE, p.last4())).ok()
            }
            None => None,
        };
        sqlx::query(
            "UPDATE demands SET tracking_no = $1, reporter_phone_last4_hash = COALESCE(reporter_phone_last4_hash, $2)
             WHERE id = $3",
        )
        .bind(number)
        .bind(last4)
        .bind(&id)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(rows.len())
}

/// Seals every reporter phone again under `new`, inside the key rotation's
/// transaction (see `residents::rekey`).
pub(crate) async fn rekey(conn: &mut AnyConnection, old: &Vault, new: &Vault) -> StoreResult<usize> {
    let rows = sqlx::query("SELECT id, reporter_phone_enc FROM demands WHERE reporter_phone_enc IS NOT NULL")
        .fetch_all(&mut *conn)
        .await?;
    for row in &rows {
        let id: String = row.try_get("id")?;
        let sealed: String = row.try_get("reporter_phone_enc")?;
        let phone = old.open(&sealed, &aad(&id))?;
        let last4 = Phone::parse(&phone).map(|p| new.blind(PHONE_LAST4_PURPOSE, p.last4())).ok();
        sqlx::query(
            "UPDATE demands SET reporter_phone_enc = $1, reporter_phone_hash = $2, reporter_phone_last4_hash = $3
             WHERE id = $4",
        )
        .bind(new.seal(&phone, &aad(&id)))
        .bind(new.blind(PHONE_PURPOSE, &phone))
        .bind(last4)
        .bind(&id)
        .execute(&mut *conn)
        .await?;
    }
    crate::webhooks::rekey(conn, old, new).await?;
    // Pending reports live an hour; rather than re-seal them, they are let go.
    drafts::clear_on(conn).await?;
    Ok(rows.len())
}

#[cfg(test)]
mod tests;
