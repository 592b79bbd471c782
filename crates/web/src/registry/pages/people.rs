//! The facts of a person in a form: every field of the roll (name, gender, birth date,
//! ID card number, phone, residence type, relation, political status, ethnicity,
//! care tags, notes), shared by adding someone to a household and editing them.
//!
//! ID card numbers and phones are never put back into a form in full: their fields
//! start empty with the masked value as a hint, and an empty field leaves the stored
//! value as it is.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::value::Serde;
use minijinja::{Value, context};
use serde::Serialize;
use wangge_domain::AuditAction;
use wangge_domain::{Gender, PoliticalStatus, Relation, ResidenceType, Vocabulary};
use wangge_store::StoreError;
use wangge_store::Thing;
use wangge_store::registry::residents::{self, NewResident, ResidentUpdate};
use wangge_store::registry::{households, tags};

use crate::shared::audit::{self, Target};
use crate::shared::auth::{ClientAddress, Principal};
use crate::shared::render::{Lang, frame, label, render, say, tr};
use crate::{ApiError, AppState};

#[derive(Serialize)]
struct Choice {
    code: String,
    label: String,
    sensitive: bool,
}

fn choices<V: Vocabulary>(lang: Lang) -> Vec<Choice> {
    V::all()
        .iter()
        .map(|&v| Choice { code: v.code().to_owned(), label: label(v, lang).to_owned(), sensitive: false })
        .collect()
}

/// The choices of every select and the tag catalogue, in the page's language.
pub(super) async fn person_options(s: &AppState, lang: Lang) -> Result<Value, ApiError> {
    let catalogue: Vec<Choice> = tags::list(&s.db)
        .await?
        .into_iter()
        .map(|t| Choice {
            label: if lang.code == "en" { t.name_en } else { t.name_zh },
            code: t.code,
            sensitive: t.sensitive,
        })
        .collect();
    Ok(context! {
        genders => Value::from(Serde(&choices::<Gender>(lang))),
        residence_types => Value::from(Serde(&choices::<ResidenceType>(lang))),
        relations => Value::from(Serde(&choices::<Relation>(lang))),
        political_statuses => Value::from(Serde(&choices::<PoliticalStatus>(lang))),
        tag_choices => Value::from(Serde(&catalogue)),
    })
}

/// A person form as sent: pairs, since the tag checkboxes repeat one name.
pub type PersonForm = Vec<(String, String)>;

fn field<'a>(form: &'a PersonForm, name: &str) -> Option<&'a str> {
    form.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim())
}

fn term<V: Vocabulary>(form: &PersonForm, name: &str, lang: Lang) -> Result<Option<V>, String> {
    match field(form, name).filter(|v| !v.is_empty()) {
        Some(v) => V::parse(v).map(Some).map_err(|e| say(&wangge_domain::Explain::message(&e), lang.code)),
        None => Ok(None),
    }
}

/// The changes a form asks for. Fields absent or left empty stay as they are (the
/// notes field clears when sent empty); tags are replaced when the form carried them.
pub(super) fn update_from(form: &PersonForm, lang: Lang) -> Result<ResidentUpdate, String> {
    let text = |name: &str| field(form, name).filter(|v| !v.is_empty()).map(str::to_owned);
    let tags_sent = field(form, "tags_sent").is_some();
    Ok(ResidentUpdate {
        name: text("name"),
        gender: term(form, "gender", lang)?,
        birth_date: text("birth_date"),
        id_card: text("id_card"),
        phone: text("phone"),
        residence_type: term(form, "residence_type", lang)?,
        relation: term(form, "relation", lang)?,
        political_status: term(form, "political_status", lang)?,
        ethnicity: text("ethnicity"),
        notes: field(form, "notes").map(str::to_owned),
        tags: tags_sent.then(|| form.iter().filter(|(k, _)| k == "tags").map(|(_, v)| v.clone()).collect()),
    })
}

async fn new_form(
    s: &AppState,
    p: &Principal,
    lang: Lang,
    household_id: &str,
    status: StatusCode,
    error: Option<String>,
) -> Result<Response, ApiError> {
    let household = households::get(&s.db, household_id).await?;
    if !p.can_change(&household.path) {
        return Err(crate::shared::auth::unknown(Thing::Household, household_id));
    }
    let key = if household.unit.is_empty() { "household.label_no_unit" } else { "household.label" };
    let place = format!(
        "{} {}",
        tr("building.number", lang.code).replace("%{number}", &household.building_number),
        tr(key, lang.code).replace("%{unit}", &household.unit).replace("%{room}", &household.room)
    );
    let ctx = context! {
        household => Value::from(Serde(&household)), place => place, error => error,
        options => person_options(s, lang).await?,
        ..frame(p, lang, "/registry"),
    };
    Ok(render(lang, status, "registry/resident_new.html", ctx))
}

pub async fn new_resident_form(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    new_form(&s, &p, lang, &id, StatusCode::OK, None).await
}

/// Adds a person to a household: registered today (or on the date given), recorded in
/// their history and in the audit log.
pub async fn create_resident(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
    Form(form): Form<PersonForm>,
) -> Result<Response, ApiError> {
    let household = households::get(&s.db, &id).await?;
    if !p.can_change(&household.path) {
        return Err(crate::shared::auth::unknown(Thing::Household, &id));
    }
    let again = |message: String| new_form(&s, &p, lang, &id, StatusCode::UNPROCESSABLE_ENTITY, Some(message));
    let facts = match update_from(&form, lang) {
        Ok(facts) => facts,
        Err(message) => return again(message).await,
    };
    let new = NewResident {
        household_id: id.clone(),
        name: facts.name.unwrap_or_default(),
        gender: facts.gender,
        birth_date: facts.birth_date,
        id_card: facts.id_card,
        phone: facts.phone,
        residence_type: facts.residence_type,
        relation: facts.relation,
        political_status: facts.political_status,
        ethnicity: facts.ethnicity,
        notes: facts.notes,
        tags: facts.tags.unwrap_or_default(),
        moved_in_on: field(&form, "moved_in_on").filter(|v| !v.is_empty()).map(str::to_owned),
    };
    match residents::create(&s.db, new).await {
        Ok(created) => {
            let target = Target("resident", &created.id, &created.path);
            audit::change(&s.db, (&p, &address), AuditAction::ResidentCreate, target, None, &created).await?;
            Ok(Redirect::to(&format!("/registry/residents/{}?saved=1", created.id)).into_response())
        }
        Err(StoreError::Invalid(message) | StoreError::Conflict(message)) => again(say(&message, lang.code)).await,
        Err(e) => Err(e.into()),
    }
}

#[derive(serde::Deserialize)]
pub struct HouseholdForm {
    #[serde(default)]
    unit: String,
    room: String,
    occupancy: String,
}

/// Adds a household (a unit and room) to a building, then opens the form for its
/// first person.
pub async fn create_household(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    Path(building_id): Path<String>,
    Form(form): Form<HouseholdForm>,
) -> Result<Response, ApiError> {
    let building = wangge_store::registry::buildings::get(&s.db, &building_id).await;
    let building = p.refer(building, Thing::Building, &building_id, |b| &b.path)?;
    let occupancy = wangge_domain::Occupancy::parse(&form.occupancy)
        .map_err(|e| ApiError::invalid(wangge_domain::Explain::message(&e).field("occupancy")))?;
    let new =
        households::NewHousehold { building_id: building.id.clone(), unit: form.unit, room: form.room, occupancy };
    match households::create(&s.db, new).await {
        Ok(created) => {
            let target = Target("household", &created.id, &created.path);
            audit::change(&s.db, (&p, &address), AuditAction::HouseholdCreate, target, None, &created).await?;
            Ok(Redirect::to(&format!("/registry/households/{}/new-resident", created.id)).into_response())
        }
        Err(StoreError::Invalid(message) | StoreError::Conflict(message)) => Err(ApiError::invalid(message)),
        Err(e) => Err(e.into()),
    }
}

/// This module's pages, each with who may open it (`crate::shared::routes`).
pub(crate) fn routes() -> crate::shared::routes::Routes {
    use crate::shared::auth::Access::*;
    use wangge_domain::Action::*;
    crate::shared::routes::Routes::new()
        .post("/registry/buildings/{id}/households", Role(EditRegistry), create_household)
        .get("/registry/households/{id}/new-resident", Role(EditRegistry), new_resident_form)
        .post("/registry/households/{id}/new-resident", Role(EditRegistry), create_resident)
}
