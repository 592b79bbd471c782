//! Residents' demands in the browser: the ledger of an area with the three rates,
//! taking in an item (a phone call, a visit, the field), one item with its timeline
//! and a form for every step the caller may take from where it stands, the building
//! posters with their QR code, and the public report form the code opens.
//!
//! Every step goes through `api::demands::take` (scope, state machine, audit log,
//! notifications, webhooks): the pages and the API cannot disagree.

use std::collections::HashMap;

use axum::Form;
use axum::extract::{FromRequest, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::value::Serde;
use minijinja::{Value, context};
use serde::{Deserialize, Serialize};
use wangge_domain::demands::{CHINA, ItemState, transition};
use wangge_domain::{Action, AreaLevel, Channel, DemandKind, DemandStatus, HandlerKind, Role, Step, Vocabulary};
use wangge_store::demands::{self, Category, Demand, DemandFilter, Extras, NewDemand, StepInput};
use wangge_store::{PageRequest, areas, buildings, households};

use super::photo_forms::{self, Next, PhotoForm};
use super::{Lang, frame, label, local_time, render, tr, urlencode};
use crate::api::demands as api;
use crate::audit;
use crate::auth::{ClientAddress, Principal};
use crate::{ApiError, AppState};

#[derive(Serialize)]
pub(super) struct Choice {
    code: String,
    label: String,
}

pub(super) async fn category_choices(s: &AppState, lang: Lang) -> Result<Vec<Choice>, ApiError> {
    Ok(demands::categories(&s.db)
        .await?
        .into_iter()
        .filter(|c| c.active)
        .map(|c| Choice { label: if lang.code == "en" { c.name_en } else { c.name_zh }, code: c.code })
        .collect())
}

fn vocab_choices<V: Vocabulary + PartialEq>(lang: Lang, only: &[V]) -> Vec<Choice> {
    V::all()
        .iter()
        .filter(|v| only.is_empty() || only.contains(v))
        .map(|&v| Choice { code: v.code().to_owned(), label: label(v, lang).to_owned() })
        .collect()
}

fn category_name(categories: &[Category], code: &str, lang: Lang) -> String {
    categories
        .iter()
        .find(|c| c.code == code)
        .map(|c| if lang.code == "en" { c.name_en.clone() } else { c.name_zh.clone() })
        .unwrap_or_else(|| code.to_owned())
}

#[derive(Serialize)]
struct Row {
    id: String,
    title: String,
    category: String,
    status: String,
    status_code: &'static str,
    level: String,
    handler: String,
    due: String,
    overdue: bool,
    due_soon: bool,
    created: String,
}

fn percent(rate: Option<f64>) -> String {
    rate.map_or_else(|| "—".to_owned(), |r| format!("{:.1}%", r * 100.0))
}

#[derive(Deserialize, Default)]
pub struct LedgerQuery {
    area: Option<String>,
    building: Option<String>,
    /// `1`: only the open items dispatched to the caller ("my items").
    mine: Option<String>,
    status: Option<String>,
    category: Option<String>,
    channel: Option<String>,
    overdue: Option<String>,
    from: Option<String>,
    to: Option<String>,
    page: Option<u32>,
}

/// Day `YYYY-MM-DD` at midnight China time in Unix ms (`next`: the day after).
fn day_ms(value: &str, next: bool) -> Option<i64> {
    let day = wangge_domain::parse_date(value)?;
    let start = day.midnight().assume_offset(CHINA) + time::Duration::days(i64::from(next));
    Some((start.unix_timestamp_nanos() / 1_000_000) as i64)
}

fn today() -> time::Date {
    time::OffsetDateTime::now_utc().to_offset(CHINA).date()
}

/// The ledger of the caller's area: filters, the table, and the three rates of the
/// period with how each is computed.
pub async fn ledger(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    Query(q): Query<LedgerQuery>,
) -> Result<Response, ApiError> {
    let under_path = p.list_path(&s.db, q.area.as_deref().filter(|a| !a.is_empty())).await?;
    let status = match q.status.as_deref().unwrap_or("open") {
        "open" => DemandStatus::open(),
        "all" | "" => Vec::new(),
        code => DemandStatus::from_code(code).into_iter().collect(),
    };
    let from_day = q
        .from
        .clone()
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| wangge_domain::format_date(today() - time::Duration::days(365)));
    let to_day = q.to.clone().filter(|d| !d.is_empty()).unwrap_or_else(|| wangge_domain::format_date(today()));
    let (from, to) = (day_ms(&from_day, false), day_ms(&to_day, true));
    let mine = q.mine.as_deref() == Some("1");
    let filter = DemandFilter {
        under_path: under_path.clone(),
        status,
        category: q.category.clone().filter(|c| !c.is_empty()),
        channel: q.channel.as_deref().and_then(Channel::from_code),
        building_id: q.building.clone().filter(|b| !b.is_empty()),
        handler_id: mine.then(|| p.actor_id().to_owned()),
        overdue: q.overdue.as_deref() == Some("1"),
        from,
        to,
        ..Default::default()
    };
    let request = PageRequest::new(q.page, Some(30));
    let page = demands::list(&s.db, &filter, request).await?;
    let categories = demands::categories(&s.db).await?;
    let rows: Vec<Row> = page
        .items
        .iter()
        .map(|d| Row {
            id: d.id.clone(),
            title: d.title.clone(),
            category: category_name(&categories, &d.category, lang),
            status: label(d.status, lang).to_owned(),
            status_code: d.status.code(),
            level: label(d.level, lang).to_owned(),
            handler: d.handler_name.clone().unwrap_or_default(),
            due: if d.status.is_open() { local_time(d.due).chars().take(10).collect() } else { String::new() },
            overdue: d.overdue,
            due_soon: d.due_soon,
            created: local_time(d.created_at).chars().take(16).collect(),
        })
        .collect();
    let rates = demands::rates(&s.db, under_path.as_deref(), from.unwrap_or(0), to.unwrap_or(i64::MAX)).await?;
    let (from_param, to_param) = (Some(from_day.clone()), Some(to_day.clone()));
    let link = |n: u32| {
        let mut url = format!("/demands?page={n}");
        for (k, v) in [
            ("area", &q.area),
            ("building", &q.building),
            ("mine", &q.mine),
            ("status", &q.status),
            ("category", &q.category),
            ("channel", &q.channel),
            ("overdue", &q.overdue),
            ("from", &from_param),
            ("to", &to_param),
        ] {
            if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                url.push_str(&format!("&{k}={}", urlencode(v)));
            }
        }
        url
    };
    let last = ((page.total.max(1) - 1) / i64::from(request.per_page) + 1) as u32;
    let ctx = context! {
        rows => Value::from(Serde(&rows)),
        found => tr("demands.found", lang.code).replace("%{count}", &page.total.to_string()),
        rates => Value::from(Serde(&rates)),
        response_rate => percent(rates.response_rate), resolution_rate => percent(rates.resolution_rate),
        satisfaction_rate => percent(rates.satisfaction_rate),
        categories => Value::from(Serde(&category_choices(&s, lang).await?)),
        channels => Value::from(Serde(&vocab_choices::<Channel>(lang, &[]))),
        statuses => Value::from(Serde(&vocab_choices::<DemandStatus>(lang, &[]))),
        status => q.status.clone().unwrap_or_else(|| "open".into()), category => q.category.clone().unwrap_or_default(),
        channel => q.channel.clone().unwrap_or_default(), overdue => q.overdue.as_deref() == Some("1"),
        from => from_day, to => to_day, area => q.area.clone().unwrap_or_default(),
        can_submit => p.role.may(Action::SubmitDemand),
        mine, building => q.building.clone().unwrap_or_default(),
        my_open => my_open_count(&s, &p).await?,
        grids => Value::from(Serde(&grid_choices(&s, &p).await?)),
        buildings => Value::from(Serde(&ledger_buildings(&s, under_path.as_deref(), lang).await?)),
        prev_url => (request.page > 1).then(|| link(request.page - 1)),
        next_url => (request.page < last).then(|| link(request.page + 1)),
        ..frame(&p, lang, "/demands"),
    };
    Ok(render(lang, StatusCode::OK, "demands.html", ctx))
}

/// How many open items are dispatched to the caller, for the "my items" link of
/// those who handle items; `None` for the others.
async fn my_open_count(s: &AppState, p: &Principal) -> Result<Option<i64>, ApiError> {
    if !p.role.may(Action::HandleDemand) {
        return Ok(None);
    }
    let filter =
        DemandFilter { handler_id: Some(p.actor_id().to_owned()), status: DemandStatus::open(), ..Default::default() };
    Ok(Some(demands::list(&s.db, &filter, PageRequest::new(Some(1), Some(1))).await?.total))
}

/// Most grids or buildings a ledger filter offers as a list; above it (a city's
/// thousands) the area is chosen with the scope switcher instead.
const CHOICES_AT_MOST: i64 = 300;

#[derive(Serialize)]
struct AreaChoice {
    code: String,
    name: String,
}

/// The grids of the caller's own area, for the ledger's grid filter.
async fn grid_choices(s: &AppState, p: &Principal) -> Result<Vec<AreaChoice>, ApiError> {
    let under = p.list_path(&s.db, None).await.ok().flatten();
    let filter = areas::AreaFilter { level: Some(AreaLevel::Grid), under_path: under, ..Default::default() };
    let page = areas::list(&s.db, &filter, PageRequest::new(Some(1), Some(CHOICES_AT_MOST as u32))).await?;
    if page.total > CHOICES_AT_MOST || page.items.len() < 2 {
        return Ok(Vec::new());
    }
    Ok(page.items.into_iter().map(|a| AreaChoice { code: a.code, name: a.name }).collect())
}

/// The buildings under the ledger's area, for its building filter, when few enough.
async fn ledger_buildings(s: &AppState, under: Option<&str>, lang: Lang) -> Result<Vec<BuildingChoice>, ApiError> {
    let Some(under) = under else { return Ok(Vec::new()) };
    let filter = buildings::BuildingFilter { under_path: Some(under.to_owned()), ..Default::default() };
    let page = buildings::list(&s.db, &filter, PageRequest::new(Some(1), Some(CHOICES_AT_MOST as u32))).await?;
    if page.total > CHOICES_AT_MOST {
        return Ok(Vec::new());
    }
    Ok(page
        .items
        .into_iter()
        .map(|b| BuildingChoice { label: tr("building.number", lang.code).replace("%{number}", &b.number), id: b.id })
        .collect())
}

#[derive(Serialize)]
struct BuildingChoice {
    id: String,
    label: String,
}

/// The buildings an item can be put at: those of the caller's area (a grid member's
/// grid, a community's buildings), for the field form's two taps.
async fn building_choices(s: &AppState, p: &Principal, lang: Lang) -> Result<Vec<BuildingChoice>, ApiError> {
    let under = p.list_path(&s.db, None).await.ok().flatten();
    let filter = buildings::BuildingFilter { under_path: under, ..Default::default() };
    let page = buildings::list(&s.db, &filter, PageRequest::new(Some(1), Some(PageRequest::MAX_PER_PAGE))).await?;
    Ok(page
        .items
        .into_iter()
        .map(|b| BuildingChoice { label: tr("building.number", lang.code).replace("%{number}", &b.number), id: b.id })
        .collect())
}

/// What the intake form says above itself.
struct Notice {
    error: Option<String>,
    /// The last report was taken (1), or added to an item already open (2) (for
    /// reporters who do not see the ledger).
    sent: Option<u8>,
}

async fn new_form(
    s: &AppState,
    p: &Principal,
    lang: Lang,
    status: StatusCode,
    notice: Notice,
    values: &HashMap<String, String>,
) -> Result<Response, ApiError> {
    let channels = [Channel::Phone, Channel::Visit, Channel::GridMember, Channel::Instruction];
    let default_channel = if matches!(p.role, Role::GridMember | Role::GridLeader) { "grid_member" } else { "phone" };
    let ctx = context! {
        categories => Value::from(Serde(&category_choices(s, lang).await?)),
        kinds => Value::from(Serde(&vocab_choices::<DemandKind>(lang, &[]))),
        channels => Value::from(Serde(&vocab_choices::<Channel>(lang, &channels))),
        buildings => Value::from(Serde(&building_choices(s, p, lang).await?)),
        households => Value::from(Serde(&household_choices(s, p, values.get("building"), lang).await?)),
        default_channel => values.get("channel").map_or(default_channel, String::as_str),
        values => values, max_photos => demands::attachments::MAX_PER_ITEM,
        error => notice.error, sent => notice.sent == Some(1), sent_merged => notice.sent == Some(2),
        can_view => p.role.may(Action::ViewDemands),
        ..frame(p, lang, "/demands"),
    };
    Ok(render(lang, status, "demand_new.html", ctx))
}

/// The households of the building picked, for the field form's second tap; none
/// when no building is picked or it lies outside the caller's area.
async fn household_choices(
    s: &AppState,
    p: &Principal,
    building: Option<&String>,
    lang: Lang,
) -> Result<Vec<BuildingChoice>, ApiError> {
    let Some(building) = building.map(|b| b.trim()).filter(|b| !b.is_empty()) else { return Ok(Vec::new()) };
    let Ok(found) = buildings::get(&s.db, building).await else { return Ok(Vec::new()) };
    if !p.can_see(&found.path) {
        return Ok(Vec::new());
    }
    let filter = households::HouseholdFilter { building_id: Some(found.id), ..Default::default() };
    let page = households::list(&s.db, &filter, PageRequest::new(Some(1), Some(PageRequest::MAX_PER_PAGE))).await?;
    Ok(page
        .items
        .into_iter()
        .map(|h| {
            let key = if h.unit.is_empty() { "household.label_no_unit" } else { "household.label" };
            let label = tr(key, lang.code).replace("%{unit}", &h.unit).replace("%{room}", &h.room);
            BuildingChoice { id: h.id, label }
        })
        .collect())
}

/// The field form. Its "pick the household" button submits the form back here by
/// GET (no JavaScript), so what was typed comes back in the query and the chosen
/// building's households are offered: the household in two taps.
pub async fn new_demand_form(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    Query(mut values): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    if p.role == Role::Resident {
        // Residents report from their portal, in plainer words.
        return Ok(Redirect::to("/portal").into_response());
    }
    let sent = values.remove("sent").and_then(|v| v.parse().ok());
    values.remove("lang");
    new_form(&s, &p, lang, StatusCode::OK, Notice { error: None, sent }, &values).await
}

fn non_empty(v: Option<String>) -> Option<String> {
    v.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// The field form's report as a new item: at the building picked, else at the
/// caller's own area.
async fn staff_report(s: &AppState, p: &Principal, form: &PhotoForm) -> NewDemand {
    let building_id = form.opt("building");
    NewDemand {
        // The household, when picked, places the item (and its building) itself.
        household_id: form.opt("household"),
        area: if building_id.is_none() {
            p.list_path(&s.db, None).await.ok().flatten().and_then(code_of)
        } else {
            None
        },
        building_id,
        category: form.get("category").to_owned(),
        kind: DemandKind::from_code(form.get("kind")),
        channel: Channel::from_code(form.get("channel")),
        title: form.get("title").to_owned(),
        description: form.get("description").to_owned(),
        reporter_name: form.opt("reporter_name"),
        reporter_phone: form.opt("reporter_phone"),
        ..Default::default()
    }
}

/// Staff take in an item: a phone call, a visit, something seen in the field, with
/// photos; "is it one of these?" first when the same matter is already open nearby.
pub async fn create_demand(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    posted: PhotoForm,
) -> Result<Response, ApiError> {
    let owner = p.actor_id().to_owned();
    let Some(posted) = photo_forms::split(&s, &owner, posted).await? else {
        let notice = Notice { error: Some(tr("offer.expired", lang.code)), sent: None };
        return new_form(&s, &p, lang, StatusCode::CONFLICT, notice, &HashMap::new()).await;
    };
    let form = &posted.form;
    let again = |error: String| {
        let values = form.fields().clone();
        let (s, p) = (s.clone(), p.clone());
        async move {
            let notice = Notice { error: Some(error), sent: None };
            new_form(&s, &p, lang, StatusCode::UNPROCESSABLE_ENTITY, notice, &values).await
        }
    };
    if let Some(refusal) = &form.refused {
        return again(refusal.message(lang)).await;
    }
    let new = staff_report(&s, &p, form).await;
    let place = match photo_forms::place_of(&s, &new).await? {
        Ok(place) => place,
        Err(refusal) => return again(refusal).await,
    };
    p.check(&place)?;
    let building = new.building_id.clone();
    let around = photo_forms::Around { building: building.as_deref(), under_path: &place, building_only: false };
    let duplicate_of = match photo_forms::next(&s, &posted, &new.category, around, &owner, lang).await? {
        Next::Record(into) => into,
        Next::Busy => return again(tr("offer.busy", lang.code)).await,
        Next::Offer { draft, offers } => {
            let ctx = frame(&p, lang, "/demands");
            return Ok(photo_forms::offer_page(lang, true, "/demands", &draft, &offers, form.files.len(), ctx));
        }
    };
    let extras = Extras { files: &form.files, duplicate_of: duplicate_of.as_deref(), draft: posted.draft() };
    match demands::create_with(&s.db, new, &api::actor(&p), None, extras, |_| None).await {
        Ok(d) => {
            let target = audit::Target("demand", &d.id, &d.path);
            audit::change(&s.db, (&p, &address), "demand.create", target, None, &d).await?;
            let may_view = p.role.may(Action::ViewDemands);
            Ok(match (&d.merged_into, may_view) {
                (Some(into), true) => Redirect::to(&format!("/demands/{into}")),
                (None, true) => Redirect::to(&format!("/demands/{}", d.id)),
                // Reporters who do not work items (building heads…) report the next one.
                (Some(_), false) => Redirect::to("/demands/new?sent=2"),
                (None, false) => Redirect::to("/demands/new?sent=1"),
            }
            .into_response())
        }
        Err(wangge_store::StoreError::Invalid(m) | wangge_store::StoreError::TooLarge(m)) => again(m).await,
        Err(wangge_store::StoreError::Conflict(_)) if posted.answer.is_some() => {
            again(tr("offer.expired", lang.code)).await
        }
        Err(e) => Err(e.into()),
    }
}

/// The area code at the end of a path (`/…/370602004011/` → `370602004011`).
fn code_of(path: String) -> Option<String> {
    path.trim_end_matches('/').rsplit('/').next().map(str::to_owned).filter(|c| !c.is_empty())
}

#[derive(Serialize)]
struct StepForm {
    code: &'static str,
    label: String,
    note: bool,
    note_required: bool,
    dispatch: bool,
    merge: bool,
    score: bool,
}

/// The steps `role` may take on `d` now, each with the fields it needs.
fn steps_for(d: &Demand, role: Role, lang: Lang) -> Vec<StepForm> {
    let item = ItemState { status: d.status, kind: d.kind, level: d.level, reopened: d.reopened };
    Step::ALL
        .into_iter()
        .filter(|&step| transition(item, step, role, Some(5)).is_ok())
        .map(|step| StepForm {
            code: step.code(),
            label: tr(&format!("step.{}", step.code()), lang.code),
            note: !matches!(step, Step::Accept | Step::Start | Step::Verify | Step::Close),
            note_required: matches!(
                step,
                Step::Reject | Step::Escalate | Step::HandBack | Step::SendBack | Step::Progress | Step::Answer
            ),
            dispatch: step == Step::Dispatch,
            merge: step == Step::Merge,
            score: step == Step::Rate,
        })
        .collect()
}

#[derive(Serialize)]
struct Event {
    at: String,
    step: String,
    status: String,
    actor: String,
    note: String,
}

#[derive(Deserialize, Default)]
pub struct ItemQuery {
    error: Option<String>,
}

pub async fn item(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    Path(id): Path<String>,
    Query(q): Query<ItemQuery>,
) -> Result<Response, ApiError> {
    let d = api::visible(&s, &p, &id).await?;
    let d = api::demand_as_seen_by(&p, d);
    let categories = demands::categories(&s.db).await?;
    let timeline: Vec<Event> = demands::timeline(&s.db, &id)
        .await?
        .into_iter()
        .map(|e| Event {
            at: local_time(e.at).chars().take(16).collect(),
            step: tr(&format!("step.{}", e.step), lang.code),
            status: label(e.to_status, lang).to_owned(),
            actor: e.actor_name,
            note: e.note,
        })
        .collect();
    let photos = photo_forms::photo_links(&s, &id, lang).await?;
    let merged_into = match &d.merged_into {
        Some(into) => Some(demands::get(&s.db, into).await?).filter(|t| p.can_see(&t.path)),
        None => None,
    };
    let duplicates: Vec<Duplicate> = demands::merged_items(&s.db, &id)
        .await?
        .into_iter()
        .map(|m| api::demand_as_seen_by(&p, m))
        .map(|m| Duplicate {
            created: local_time(m.created_at).chars().take(16).collect(),
            reporter: [m.reporter_name.unwrap_or_default(), m.reporter_phone.unwrap_or_default()].join(" "),
            channel: label(m.channel, lang).to_owned(),
            id: m.id,
            title: m.title,
        })
        .collect();
    let ctx = context! {
        d => Value::from(Serde(&d)),
        photos => Value::from(Serde(&photos)), duplicates => Value::from(Serde(&duplicates)),
        merged_into => merged_into.map(|t| context! { id => t.id, title => t.title }),
        category => category_name(&categories, &d.category, lang),
        kind => label(d.kind, lang), channel => label(d.channel, lang), status => label(d.status, lang),
        level => label(d.level, lang), created => local_time(d.created_at),
        due => local_time(d.due), timeline => Value::from(Serde(&timeline)),
        steps => Value::from(Serde(&steps_for(&d, p.role, lang))),
        handler_kinds => Value::from(Serde(&vocab_choices::<HandlerKind>(lang, &[]))),
        error => q.error,
        ..frame(&p, lang, "/demands"),
    };
    Ok(render(lang, StatusCode::OK, "demand.html", ctx))
}

/// A duplicate merged into the item: its reporter is to be told too.
#[derive(Serialize)]
struct Duplicate {
    id: String,
    title: String,
    created: String,
    channel: String,
    reporter: String,
}

/// A photo of an item, for those who may see the item (the same check as its page).
pub async fn item_photo(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    Path((id, photo)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let d = api::visible(&s, &p, &id).await?;
    photo_forms::serve_photo(&s, &p, &address, &d, &photo).await
}

#[derive(Deserialize)]
pub struct StepFormInput {
    #[serde(default)]
    note: String,
    handler_kind: Option<String>,
    handler_name: Option<String>,
    into: Option<String>,
    score: Option<u8>,
}

/// Takes one step from the item page; a refusal comes back to the page as a message.
pub async fn take_step(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    Path((id, step)): Path<(String, String)>,
    Form(form): Form<StepFormInput>,
) -> Result<Response, ApiError> {
    let step = Step::from_code(&step).ok_or_else(|| ApiError::bad_request(format!("unknown step {step}")))?;
    let input = StepInput {
        note: form.note.trim().to_owned(),
        handler_kind: form.handler_kind.as_deref().and_then(HandlerKind::from_code),
        handler_name: non_empty(form.handler_name),
        into: non_empty(form.into),
        score: form.score,
        ..Default::default()
    };
    match api::take(&s, &p, &address, &id, step, input).await {
        Ok(_) => Ok(Redirect::to(&format!("/demands/{id}")).into_response()),
        Err(e) if e.status == StatusCode::NOT_FOUND => Err(e),
        Err(e) => Ok(Redirect::to(&format!("/demands/{id}?error={}", urlencode(&e.message))).into_response()),
    }
}

// ---- building posters and the public report form ----

/// The key in a building's QR link: without it the report form does not open, so
/// that building ids cannot be walked to post reports anywhere.
fn poster_key(s: &AppState, building_id: &str) -> String {
    s.db.vault.blind("building_poster", building_id).chars().take(16).collect()
}

/// The address people reach this server at, from the request.
pub(crate) fn public_base(headers: &HeaderMap) -> String {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1:8080");
    let scheme = headers.get("x-forwarded-proto").and_then(|h| h.to_str().ok()).unwrap_or("http");
    format!("{scheme}://{host}")
}

/// A printable A4 poster for a building's stairwell: what to report and a QR code
/// that opens the report form for this building, no account needed.
pub async fn poster(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let building = buildings::get(&s.db, &id).await?;
    p.check(&building.path)?;
    let url = format!("{}/report/{}?k={}", public_base(&headers), building.id, poster_key(&s, &building.id));
    let code = qrcode::QrCode::new(url.as_bytes()).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let svg = code.render::<qrcode::render::svg::Color>().min_dimensions(280, 280).quiet_zone(true).build();
    let ctx = context! {
        building => Value::from(Serde(&building)), url => url, svg => Value::from_safe_string(svg),
        title => tr("building.number", lang.code).replace("%{number}", &building.number),
        ..frame(&p, lang, "/registry"),
    };
    Ok(render(lang, StatusCode::OK, "poster.html", ctx))
}

/// Most posters one page prints: a grid's buildings (a community's would be a
/// stack of paper better printed grid by grid).
const POSTERS_AT_MOST: i64 = 300;

#[derive(Serialize)]
struct PosterView {
    title: String,
    address: Option<String>,
    url: String,
    svg: String,
}

/// Every building's poster of a grid, one to a printed page.
pub async fn grid_posters(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let area = areas::get(&s.db, &id).await?;
    p.check(&area.path)?;
    let filter = buildings::BuildingFilter { under_path: Some(area.path.clone()), ..Default::default() };
    let page = buildings::list(&s.db, &filter, PageRequest::new(Some(1), Some(POSTERS_AT_MOST as u32))).await?;
    if page.total > POSTERS_AT_MOST {
        let why = format!("{} has {} buildings; print the posters grid by grid", area.name, page.total);
        return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "too_many", why));
    }
    let base = public_base(&headers);
    let mut posters = Vec::with_capacity(page.items.len());
    for b in page.items {
        let url = format!("{base}/report/{}?k={}", b.id, poster_key(&s, &b.id));
        let code = qrcode::QrCode::new(url.as_bytes()).map_err(|e| ApiError::bad_request(e.to_string()))?;
        let svg = code.render::<qrcode::render::svg::Color>().min_dimensions(280, 280).quiet_zone(true).build();
        let title = tr("building.number", lang.code).replace("%{number}", &b.number);
        posters.push(PosterView { title, address: b.address, url, svg });
    }
    let ctx = context! {
        area => Value::from(Serde(&area)), posters => Value::from(Serde(&posters)),
        ..frame(&p, lang, "/registry"),
    };
    Ok(render(lang, StatusCode::OK, "posters.html", ctx))
}

#[derive(Deserialize)]
pub struct KeyQuery {
    k: Option<String>,
}

/// What the poster's form shows above itself, besides the form.
#[derive(Default)]
struct ReportNotice {
    error: Option<String>,
    /// The report was recorded (its short number), …
    sent: Option<Demand>,
    /// … and added to this open item (its title and state in plain words).
    merged: Option<(String, String)>,
    /// The item chosen was finished meanwhile: the report was recorded as a new one.
    gone: bool,
}

async fn report_page(
    s: &AppState,
    lang: Lang,
    building_id: &str,
    key: &str,
    status: StatusCode,
    notice: ReportNotice,
    values: &HashMap<String, String>,
) -> Result<Response, ApiError> {
    let building = buildings::get(&s.db, building_id).await?;
    let callback = notice.sent.as_ref().is_some_and(|d| d.reporter_phone.is_some());
    let merged = notice
        .merged
        .map(|(title, state)| tr("report.merged", lang.code).replace("%{title}", &title).replace("%{status}", &state));
    let ctx = context! {
        lang => lang.code, building => Value::from(Serde(&building)), key => key,
        title => tr("building.number", lang.code).replace("%{number}", &building.number),
        categories => Value::from(Serde(&category_choices(s, lang).await?)),
        values => values, max_photos => demands::attachments::MAX_PER_ITEM,
        error => notice.error, merged => merged, callback => callback, gone => notice.gone,
        sent => notice.sent.map(|d| d.id.chars().rev().take(6).collect::<String>().chars().rev().collect::<String>()),
    };
    Ok(render(lang, status, "report.html", ctx))
}

fn check_key(s: &AppState, building_id: &str, key: Option<&str>) -> Result<String, ApiError> {
    let key = key.unwrap_or_default();
    if key != poster_key(s, building_id) {
        return Err(ApiError::new(StatusCode::NOT_FOUND, "not_found", "this code is not valid; scan the poster again"));
    }
    Ok(key.to_owned())
}

pub async fn report_form(
    State(s): State<AppState>,
    lang: Lang,
    Path(id): Path<String>,
    Query(q): Query<KeyQuery>,
) -> Result<Response, ApiError> {
    let key = check_key(&s, &id, q.k.as_deref())?;
    report_page(&s, lang, &id, &key, StatusCode::OK, ReportNotice::default(), &HashMap::new()).await
}

/// A report from the building's poster, without an account: what is wrong, photos,
/// a call-back number, a name if given. The key is checked before the body is read,
/// so that nobody without the poster can make the server read photos; pending
/// reports belong to the building's poster (`building-qr:<id>`), at most
/// `drafts::MAX_PENDING` of them at a time.
pub async fn report_submit(
    State(s): State<AppState>,
    lang: Lang,
    address: ClientAddress,
    Path(id): Path<String>,
    Query(q): Query<KeyQuery>,
    request: axum::extract::Request,
) -> Result<Response, ApiError> {
    let key = check_key(&s, &id, q.k.as_deref())?;
    let posted = PhotoForm::from_request(request, &s).await?;
    let owner = format!("building-qr:{id}");
    let Some(posted) = photo_forms::split(&s, &owner, posted).await? else {
        let notice = ReportNotice { error: Some(tr("offer.expired", lang.code)), ..Default::default() };
        return report_page(&s, lang, &id, &key, StatusCode::CONFLICT, notice, &HashMap::new()).await;
    };
    let form = &posted.form;
    let again = |error: String| {
        let values = form.fields().clone();
        let (s, id, key) = (s.clone(), id.clone(), key.clone());
        async move {
            let notice = ReportNotice { error: Some(error), ..Default::default() };
            report_page(&s, lang, &id, &key, StatusCode::UNPROCESSABLE_ENTITY, notice, &values).await
        }
    };
    let description = form.get("description").to_owned();
    if description.chars().count() < 4 {
        return again(tr("report.too_short", lang.code)).await;
    }
    if let Some(refusal) = &form.refused {
        return again(refusal.message(lang)).await;
    }
    let new = NewDemand {
        building_id: Some(id.clone()),
        category: form.get("category").to_owned(),
        channel: Some(Channel::BuildingQr),
        title: description.chars().take(30).collect(),
        description,
        reporter_name: form.opt("name"),
        reporter_phone: form.opt("phone"),
        ..Default::default()
    };
    let place = match photo_forms::place_of(&s, &new).await? {
        Ok(place) => place,
        Err(refusal) => return again(refusal).await,
    };
    let around = photo_forms::Around { building: Some(&id), under_path: &place, building_only: true };
    let duplicate_of = match photo_forms::next(&s, &posted, &new.category, around, &owner, lang).await? {
        Next::Record(into) => into,
        Next::Busy => return again(tr("offer.busy", lang.code)).await,
        Next::Offer { draft, offers } => {
            let action = format!("/report/{id}?k={key}");
            let ctx = context! { lang => lang.code };
            return Ok(photo_forms::offer_page(lang, false, &action, &draft, &offers, form.files.len(), ctx));
        }
    };
    let gone = posted.chose_gone(duplicate_of.as_ref());
    let extras = Extras { files: &form.files, duplicate_of: duplicate_of.as_deref(), draft: posted.draft() };
    let by = demands::Actor { id: None, name: "building-qr".into(), role: Role::Resident };
    match demands::create_with(&s.db, new, &by, None, extras, |_| None).await {
        Ok(d) => {
            let event = audit::Event {
                action: "demand.create",
                target_kind: Some("demand"),
                target_id: Some(&d.id),
                path: Some(&d.path),
                ..Default::default()
            };
            audit::log(&s.db, None, Some("building-qr"), &address, event).await?;
            let merged = match &d.merged_into {
                Some(into) => {
                    let target = demands::get(&s.db, into).await?;
                    Some((target.title, label(target.status, lang).to_owned()))
                }
                None => None,
            };
            let notice = ReportNotice { sent: Some(d), merged, gone, ..Default::default() };
            report_page(&s, lang, &id, &key, StatusCode::CREATED, notice, &HashMap::new()).await
        }
        Err(wangge_store::StoreError::Invalid(m) | wangge_store::StoreError::TooLarge(m)) => again(m).await,
        Err(wangge_store::StoreError::Conflict(_)) if posted.answer.is_some() => {
            again(tr("offer.expired", lang.code)).await
        }
        Err(e) => Err(e.into()),
    }
}

/// This module's pages, each with who may open it (`crate::routes`).
pub(crate) fn routes() -> crate::routes::Routes {
    use crate::auth::Access::*;
    use crate::routes::Limit;
    use wangge_domain::Action::*;
    crate::routes::Routes::new()
        .get("/demands", Role(ViewDemands), ledger)
        .get("/demands/new", Role(SubmitDemand), new_demand_form)
        .get("/demands/{id}", Role(ViewDemands), item)
        // An item's photo: the item page's check (scope; residents their own items).
        .get("/demands/{id}/photos/{photo}", Role(ViewDemands), item_photo)
        // The step's own action is checked by the state machine (Step::needs).
        .post("/demands/{id}/steps/{step}", Role(ViewDemands), take_step)
        .get("/registry/buildings/{id}/poster", Role(ViewBuildings), poster)
        .get("/registry/areas/{id}/posters", Role(ViewBuildings), grid_posters)
        // The poster's key in the link stands in for an account.
        .get("/report/{id}", Public, report_form)
        .post_limited("/demands", Role(SubmitDemand), Limit::Photos, create_demand)
        .post_limited("/report/{id}", Public, Limit::Photos, report_submit)
}
