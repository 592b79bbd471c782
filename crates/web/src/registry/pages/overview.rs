//! The registry in the browser: the caller's area, search, a resident's page with
//! editing and moving out.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::value::Serde;
use minijinja::{Value, context};
use serde::{Deserialize, Serialize};
use wangge_domain::AuditAction;
use wangge_domain::ResidentStatus;
use wangge_store::Thing;
use wangge_store::registry::areas;
use wangge_store::registry::residents::{self, Move, Relocation, Resident, ResidentFilter, ResidentSort};
use wangge_store::{PageRequest, StoreError, stats};

use crate::registry::api::residents::in_scope;
use crate::shared::audit::{self, Target};
use crate::shared::auth::{ClientAddress, Principal};
use crate::shared::render::{Lang, error_page, frame, label, render, say, tr, urlencode};
use crate::{ApiError, AppState};

fn address(r: &Resident, lang: Lang) -> String {
    match (&r.building_number, &r.room) {
        (Some(building), Some(room)) => tr("address.format", lang.code)
            .replace("%{building}", building)
            .replace("%{unit}", r.unit.as_deref().filter(|u| !u.is_empty()).unwrap_or("-"))
            .replace("%{room}", room),
        _ => String::new(),
    }
}

/// Turns store errors into the error page, in the caller's language.
fn page_error(lang: Lang, err: ApiError) -> Response {
    let message = match err.status {
        StatusCode::NOT_FOUND => tr("error.not_found", lang.code),
        StatusCode::FORBIDDEN => tr("error.forbidden", lang.code),
        _ => err.said(lang.code),
    };
    error_page(lang, err.status, &message)
}

pub async fn home(State(s): State<AppState>, lang: Lang, p: Principal) -> Response {
    let result: Result<Response, ApiError> = async {
        if p.scopes.len() > 1 {
            // Several areas: choose one (the header's switcher does the same later).
            let ctx = context! { areas => Value::from(Serde(&p.scopes)), ..frame(&p, lang, "/registry") };
            return Ok(render(lang, StatusCode::OK, "security/scopes.html", ctx));
        }
        let Some(path) = p.list_path(&s.db, None).await? else {
            // Administrators start from the cities of the deployment.
            let filter = areas::AreaFilter { level: Some(wangge_domain::AreaLevel::City), ..Default::default() };
            let cities = areas::list(&s.db, &filter, PageRequest::new(Some(1), Some(200))).await?.items;
            let tiles: Vec<wangge_store::security::accounts::Scope> = cities.into_iter().map(Into::into).collect();
            let ctx = context! { areas => Value::from(Serde(&tiles)), ..frame(&p, lang, "/registry") };
            return Ok(render(lang, StatusCode::OK, "security/scopes.html", ctx));
        };
        let area = areas::get_by_path(&s.db, &path).await?;
        if area.level == wangge_domain::AreaLevel::Grid {
            // A grid member's home is their grid: its buildings, a tap from each household.
            return Ok(Redirect::to(&format!("/registry/areas/{}", area.id)).into_response());
        }
        let counts = stats::counts_under(&s.db, &area.path).await?;
        let grids = areas::children(&s.db, &area.id).await?;
        let ctx = context! {
            area => Value::from(Serde(&area)), counts => Value::from(Serde(&counts)),
            grids => Value::from(Serde(&grids)), q => "",
            can_export => area.level == wangge_domain::AreaLevel::Community
                && p.role.may(wangge_domain::Action::ExportRegistry) && p.can_change(&area.path),
            ..frame(&p, lang, "/registry"),
        };
        Ok(render(lang, StatusCode::OK, "registry/registry.html", ctx))
    }
    .await;
    result.unwrap_or_else(|e| page_error(lang, e))
}

#[derive(Deserialize)]
pub struct SearchQuery {
    q: Option<String>,
    area: Option<String>,
    page: Option<u32>,
    /// A key of `ResidentSort` (`name`, `birth_date`, `-birth_date`…).
    sort: Option<String>,
    /// A care tag's code: only people with it (独居老人, 留守儿童…).
    tag: Option<String>,
}

#[derive(Serialize)]
struct SortLink {
    href: String,
    /// `ascending`/`descending` on the column the list is sorted by.
    aria_sort: Option<&'static str>,
}

#[derive(Serialize)]
struct Row {
    id: String,
    name: String,
    gender_label: &'static str,
    birth_date: String,
    address: String,
    phone: Option<String>,
}

pub async fn residents_page(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    Query(q): Query<SearchQuery>,
) -> Response {
    let result: Result<Response, ApiError> = async {
        let under_path = p.list_path(&s.db, q.area.as_deref()).await?;
        if let Some(path) = under_path.as_deref().filter(|path| !p.sees_names(path)) {
            // Figures-only officials see the roll once they take access for a reason.
            let area = areas::get_by_path(&s.db, path).await?;
            let ctx = context! { grant_area => area.id, ..frame(&p, lang, "/registry/residents") };
            return Ok(render(lang, StatusCode::OK, "registry/residents.html", ctx));
        }
        let request = PageRequest::new(q.page, Some(20));
        let sort = q.sort.as_deref().and_then(ResidentSort::parse).unwrap_or_default();
        let tag = q.tag.clone().filter(|t| !t.is_empty());
        let filter = ResidentFilter {
            under_path,
            status: Some(ResidentStatus::Active),
            q: q.q.clone().filter(|v| !v.trim().is_empty()),
            tag: tag.clone(),
            sort,
            ..Default::default()
        };
        let page = residents::list(&s.db, &filter, request).await?;
        let items: Vec<Row> = page
            .items
            .iter()
            .map(|r| Row {
                id: r.id.clone(),
                name: r.name.clone(),
                gender_label: label(r.gender, lang),
                birth_date: r.birth_date.clone(),
                address: address(r, lang),
                phone: r.phone.clone(),
            })
            .collect();
        let link_to = |n: u32, sort: ResidentSort| {
            let mut url = format!("/registry/residents?page={n}&sort={}", urlencode(sort.key()));
            for (k, v) in [("q", &q.q), ("area", &q.area), ("tag", &tag)] {
                if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                    url.push_str(&format!("&{k}={}", urlencode(v)));
                }
            }
            url
        };
        let link = |n: u32| link_to(n, sort);
        // A column's header sorts by it; on the sorted column it turns the order round.
        let sort_link = |asc: ResidentSort, desc: Option<ResidentSort>| {
            let (next, aria) = match (sort, desc) {
                (s, Some(d)) if s == asc => (d, Some("ascending")),
                (s, Some(d)) if s == d => (asc, Some("descending")),
                (s, None) if s == asc => (asc, Some("ascending")),
                _ => (asc, None),
            };
            SortLink { href: link_to(1, next), aria_sort: aria }
        };
        let sorts = context! {
            place => Value::from(Serde(&sort_link(ResidentSort::Place, None))),
            name => Value::from(Serde(&sort_link(ResidentSort::Name, None))),
            birth => Value::from(Serde(&sort_link(ResidentSort::BirthDate, Some(ResidentSort::BirthDateDesc)))),
        };
        let tag_choices: Vec<(String, String)> = wangge_store::registry::tags::list(&s.db)
            .await?
            .into_iter()
            .map(|t| (t.code, if lang.code == "en" { t.name_en } else { t.name_zh }))
            .collect();
        let last = ((page.total.max(1) - 1) / i64::from(request.per_page) + 1) as u32;
        let found = tr("residents.found", lang.code).replace("%{count}", &page.total.to_string());
        let ctx = context! {
            q => q.q.clone().unwrap_or_default(), sorts => sorts, sort => sort.key(),
            tag => tag.clone().unwrap_or_default(), tag_choices => Value::from(Serde(&tag_choices)),
            search_area => q.area.clone(),
            page => context! { items => Value::from(Serde(&items)) }, found => found,
            prev_url => (request.page > 1).then(|| link(request.page - 1)),
            next_url => (request.page < last).then(|| link(request.page + 1)),
            ..frame(&p, lang, "/registry/residents"),
        };
        Ok(render(lang, StatusCode::OK, "registry/residents.html", ctx))
    }
    .await;
    result.unwrap_or_else(|e| page_error(lang, e))
}

#[derive(Deserialize, Default)]
pub struct Notice {
    saved: Option<u8>,
    moved: Option<u8>,
    relocated: Option<u8>,
}

#[derive(Serialize)]
struct HistoryLine {
    occurred_on: String,
    label: String,
    note: String,
}

async fn show_resident(
    s: &AppState,
    lang: Lang,
    p: &Principal,
    id: &str,
    notice: Notice,
    error: Option<String>,
) -> Result<Response, ApiError> {
    let r = in_scope(s, p, id).await?;
    // Figures-only officials see the person pseudonymised, with the way to take access.
    let names = p.sees_names(&r.path);
    let grant_area = if names { None } else { areas::get_by_path(&s.db, &r.path).await.ok().map(|a| a.id) };
    let r = crate::registry::api::residents::as_seen_by(s, p, r).await?;
    let catalogue = wangge_store::registry::tags::list(&s.db).await?;
    let tags: Vec<String> = r
        .tags
        .iter()
        .filter_map(|code| catalogue.iter().find(|t| &t.code == code))
        .map(|t| if lang.code == "en" { t.name_en.clone() } else { t.name_zh.clone() })
        .collect();
    let history: Vec<HistoryLine> = if names { residents::history(&s.db, id).await? } else { Vec::new() }
        .into_iter()
        .map(|e| HistoryLine {
            label: tr(&format!("event.{}", wangge_domain::Vocabulary::code(e.kind)), lang.code),
            occurred_on: e.occurred_on,
            note: e.note,
        })
        .collect();
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    // The household's items, and a way to report one for it (issue 15).
    let item_lines = match (&r.household_id, names) {
        (Some(h), true) => {
            let filter = wangge_store::demands::DemandFilter { household_id: Some(h.clone()), ..Default::default() };
            crate::demands::pages::item_lines(s, p, filter, lang).await?
        }
        _ => Vec::new(),
    };
    let may_report = names
        && r.household_id.is_some()
        && p.role.may(wangge_domain::Action::SubmitDemand)
        && p.role != wangge_domain::Role::Resident;
    let ctx = context! {
        shows_items => names && r.household_id.is_some() && p.role.may(wangge_domain::Action::ViewDemands),
        item_lines => Value::from(Serde(&item_lines)), may_report => may_report,
        gender_label => label(r.gender, lang), status_label => label(r.status, lang),
        relation_label => label(r.relation, lang), residence_label => label(r.residence_type, lang),
        political_label => label(r.political_status, lang), address => address(&r, lang),
        tags => tags, history => Value::from(Serde(&history)), can_edit => names && p.role.may(wangge_domain::Action::EditRegistry) && p.can_change(&r.path),
        saved => notice.saved.is_some(), moved => notice.moved.is_some(), relocated => notice.relocated.is_some(),
        error => error, r => Value::from(Serde(&r)), grant_area => grant_area,
        options => crate::registry::pages::people::person_options(s, lang).await?,
        ..frame(p, lang, "/registry/residents"),
    };
    Ok(render(lang, status, "registry/resident.html", ctx))
}

pub async fn resident_page(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    Path(id): Path<String>,
    Query(notice): Query<Notice>,
) -> Response {
    show_resident(&s, lang, &p, &id, notice, None).await.unwrap_or_else(|e| page_error(lang, e))
}

pub async fn edit_resident(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
    Form(form): Form<crate::registry::pages::people::PersonForm>,
) -> Response {
    let result: Result<Response, ApiError> = async {
        let before = in_scope(&s, &p, &id).await?;
        if !p.can_change(&before.path) {
            return Err(crate::shared::auth::unknown(Thing::Resident, &id));
        }
        let update = match crate::registry::pages::people::update_from(&form, lang) {
            Ok(update) => update,
            Err(message) => return show_resident(&s, lang, &p, &id, Notice::default(), Some(message)).await,
        };
        match residents::update(&s.db, &id, update).await {
            Ok(after) => {
                let target = Target("resident", &id, &after.path);
                audit::change(&s.db, (&p, &address), AuditAction::ResidentUpdate, target, Some(&before), &after)
                    .await?;
                Ok(Redirect::to(&format!("/registry/residents/{id}?saved=1")).into_response())
            }
            Err(StoreError::Invalid(message) | StoreError::Conflict(message)) => {
                show_resident(&s, lang, &p, &id, Notice::default(), Some(say(&message, lang.code))).await
            }
            Err(e) => Err(e.into()),
        }
    }
    .await;
    result.unwrap_or_else(|e| page_error(lang, e))
}

#[derive(Deserialize)]
pub struct MoveOutForm {
    #[serde(default)]
    note: String,
}

pub async fn move_out_resident(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
    Form(form): Form<MoveOutForm>,
) -> Response {
    let result: Result<Response, ApiError> = async {
        let before = in_scope(&s, &p, &id).await?;
        let after = residents::move_out(&s.db, &id, Move { note: form.note, ..Default::default() }).await?;
        let target = Target("resident", &id, &before.path);
        audit::change(&s.db, (&p, &address), AuditAction::ResidentMoveOut, target, Some(&before), &after).await?;
        Ok(Redirect::to(&format!("/registry/residents/{id}?moved=1")).into_response())
    }
    .await;
    result.unwrap_or_else(|e| page_error(lang, e))
}

/// Where a person moves to, as typed on the form. Every field may be left out so
/// that the scope is checked before the form is judged.
#[derive(Deserialize, Default)]
pub struct PlaceForm {
    #[serde(default)]
    building: String,
    #[serde(default)]
    unit: String,
    #[serde(default)]
    room: String,
    #[serde(default)]
    note: String,
}

/// The household at a building number, unit and room of the person's community,
/// within the caller's scope.
async fn household_at(
    s: &AppState,
    p: &Principal,
    resident: &Resident,
    form: &PlaceForm,
    lang: Lang,
) -> Result<Result<String, String>, ApiError> {
    let community_path: String = resident.path.split_inclusive('/').take(5).collect();
    let community = areas::get_by_path(&s.db, &community_path).await?;
    let (building, unit, room) = (form.building.trim(), form.unit.trim(), form.room.trim());
    let found = wangge_store::registry::buildings::of_community(&s.db, &community.id)
        .await?
        .into_iter()
        .find(|b| b.number == building);
    let home = match found {
        Some(b) => wangge_store::registry::households::keys_under(&s.db, &b.path)
            .await?
            .into_iter()
            .find(|h| h.building_id == b.id && h.unit == unit && h.room == room)
            .map(|h| (h.id, b.path)),
        None => None,
    };
    match home {
        Some((id, path)) if p.can_see(&path) => Ok(Ok(id)),
        _ => Ok(Err(tr("place.not_found", lang.code)
            .replace("%{building}", building)
            .replace("%{unit}", if unit.is_empty() { "-" } else { unit })
            .replace("%{room}", room))),
    }
}

async fn relocate(
    s: AppState,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    id: String,
    form: PlaceForm,
    how: Relocation,
) -> Response {
    let result: Result<Response, ApiError> = async {
        let before = in_scope(&s, &p, &id).await?;
        let household_id = match household_at(&s, &p, &before, &form, lang).await? {
            Ok(h) => h,
            Err(message) => return show_resident(&s, lang, &p, &id, Notice::default(), Some(message)).await,
        };
        let m = Move { household_id: Some(household_id), note: form.note.clone(), ..Default::default() };
        let moved = residents::relocate(&s.db, &id, how, m).await;
        let after = match moved {
            Ok(after) => after,
            Err(StoreError::Invalid(message) | StoreError::Conflict(message)) => {
                return show_resident(&s, lang, &p, &id, Notice::default(), Some(say(&message, lang.code))).await;
            }
            Err(e) => return Err(e.into()),
        };
        let target = Target("resident", &id, &before.path);
        audit::change(&s.db, (&p, &address), how.action(), target, Some(&before), &after).await?;
        Ok(Redirect::to(&format!("/registry/residents/{id}?relocated=1")).into_response())
    }
    .await;
    result.unwrap_or_else(|e| page_error(lang, e))
}

pub async fn move_house_resident(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
    Form(form): Form<PlaceForm>,
) -> Response {
    relocate(s, lang, p, address, id, form, Relocation::MoveHouse).await
}

pub async fn move_in_resident(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
    Form(form): Form<PlaceForm>,
) -> Response {
    relocate(s, lang, p, address, id, form, Relocation::MoveIn).await
}

#[derive(Deserialize)]
pub struct GrantForm {
    area: String,
    reason: String,
    hours: Option<u32>,
}

/// Breaks the glass from the browser: takes a time-limited grant on an area for the
/// stated reason (checked and audited like the API's), then shows the area.
pub async fn take_access(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    Form(form): Form<GrantForm>,
) -> Response {
    let request =
        crate::security::api::grants::AccessRequest { area: form.area.clone(), reason: form.reason, hours: form.hours };
    match crate::security::api::grants::take_grant(&s, &p, &address, &request).await {
        Ok(grant) => Redirect::to(&format!("/registry/areas/{}?granted=1", grant.area_id)).into_response(),
        Err(e) => page_error(lang, e),
    }
}

/// This module's pages, each with who may open it (`crate::shared::routes`).
pub(crate) fn routes() -> crate::shared::routes::Routes {
    use crate::shared::auth::Access::*;
    use wangge_domain::Action::*;
    crate::shared::routes::Routes::new()
        .get("/registry", Role(ViewFigures), home)
        .get("/registry/residents", Role(ViewPseudonymised), residents_page)
        .get("/registry/residents/{id}", Role(ViewPseudonymised), resident_page)
        .post("/registry/residents/{id}", Role(EditRegistry), edit_resident)
        .post("/registry/residents/{id}/move-out", Role(EditRegistry), move_out_resident)
        .post("/registry/residents/{id}/move-house", Role(EditRegistry), move_house_resident)
        .post("/registry/residents/{id}/move-in", Role(EditRegistry), move_in_resident)
        .post("/registry/access", Role(RequestAccess), take_access)
}
