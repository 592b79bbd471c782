//! Residents' demands in the browser: the ledger of an area with the three rates,
//! taking in an item (a phone call, a visit, the field), one item with its timeline
//! and a form for every step the caller may take from where it stands, the building
//! posters with their QR code, and the public report form the code opens.
//!
//! Every step goes through `api::demands::take` (scope, state machine, audit log,
//! notifications, webhooks): the pages and the API cannot disagree.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::value::Serde;
use minijinja::{Value, context};
use serde::{Deserialize, Serialize};
use wangge_domain::demands::{CHINA, ItemState, transition};
use wangge_domain::{Action, Channel, DemandKind, DemandStatus, HandlerKind, Role, Step, Vocabulary};
use wangge_store::demands::{self, Category, Demand, DemandFilter, NewDemand, StepInput};
use wangge_store::{PageRequest, buildings};

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
    let filter = DemandFilter {
        under_path: under_path.clone(),
        status,
        category: q.category.clone().filter(|c| !c.is_empty()),
        channel: q.channel.as_deref().and_then(Channel::from_code),
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
        prev_url => (request.page > 1).then(|| link(request.page - 1)),
        next_url => (request.page < last).then(|| link(request.page + 1)),
        ..frame(&p, lang, "/demands"),
    };
    Ok(render(lang, StatusCode::OK, "demands.html", ctx))
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
    /// The last report was taken (for reporters who do not see the ledger).
    sent: bool,
}

async fn new_form(
    s: &AppState,
    p: &Principal,
    lang: Lang,
    status: StatusCode,
    notice: Notice,
) -> Result<Response, ApiError> {
    let channels = [Channel::Phone, Channel::Visit, Channel::GridMember, Channel::Instruction];
    let ctx = context! {
        categories => Value::from(Serde(&category_choices(s, lang).await?)),
        kinds => Value::from(Serde(&vocab_choices::<DemandKind>(lang, &[]))),
        channels => Value::from(Serde(&vocab_choices::<Channel>(lang, &channels))),
        buildings => Value::from(Serde(&building_choices(s, p, lang).await?)),
        default_channel => if matches!(p.role, Role::GridMember | Role::GridLeader) { "grid_member" } else { "phone" },
        error => notice.error, sent => notice.sent, can_view => p.role.may(Action::ViewDemands),
        ..frame(p, lang, "/demands"),
    };
    Ok(render(lang, status, "demand_new.html", ctx))
}

#[derive(Deserialize)]
pub struct SentQuery {
    sent: Option<u8>,
}

pub async fn new_demand_form(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    Query(q): Query<SentQuery>,
) -> Result<Response, ApiError> {
    if p.role == Role::Resident {
        // Residents report from their portal, in plainer words.
        return Ok(Redirect::to("/portal").into_response());
    }
    new_form(&s, &p, lang, StatusCode::OK, Notice { error: None, sent: q.sent.is_some() }).await
}

#[derive(Deserialize)]
pub struct IntakeForm {
    category: String,
    kind: Option<String>,
    channel: Option<String>,
    building: Option<String>,
    title: String,
    #[serde(default)]
    description: String,
    reporter_name: Option<String>,
    reporter_phone: Option<String>,
}

fn non_empty(v: Option<String>) -> Option<String> {
    v.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// Staff take in an item: a phone call, a visit, something seen in the field.
pub async fn create_demand(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    Form(form): Form<IntakeForm>,
) -> Result<Response, ApiError> {
    let building_id = non_empty(form.building);
    let new = NewDemand {
        area: if building_id.is_none() {
            p.list_path(&s.db, None).await.ok().flatten().and_then(code_of)
        } else {
            None
        },
        building_id,
        category: form.category,
        kind: form.kind.as_deref().and_then(DemandKind::from_code),
        channel: form.channel.as_deref().and_then(Channel::from_code),
        title: form.title.trim().to_owned(),
        description: form.description,
        reporter_name: non_empty(form.reporter_name),
        reporter_phone: non_empty(form.reporter_phone),
        ..Default::default()
    };
    let place = match demands::locate(&s.db, &new).await {
        Ok(place) => place,
        Err(e) => {
            let notice = Notice { error: Some(e.to_string()), sent: false };
            return new_form(&s, &p, lang, StatusCode::UNPROCESSABLE_ENTITY, notice).await;
        }
    };
    p.check(&place.path)?;
    let created = match demands::prepare(&s.db, new, place, &api::actor(&p), None).await {
        Ok(intake) => demands::submit(&s.db, intake, |_| None).await,
        Err(e) => Err(e),
    };
    match created {
        Ok(d) => {
            let target = audit::Target("demand", &d.id, &d.path);
            audit::change(&s.db, (&p, &address), "demand.create", target, None, &d).await?;
            if !p.role.may(Action::ViewDemands) {
                // Reporters who do not work items (building heads…) report the next one.
                return Ok(Redirect::to("/demands/new?sent=1").into_response());
            }
            Ok(Redirect::to(&format!("/demands/{}", d.id)).into_response())
        }
        Err(wangge_store::StoreError::Invalid(m)) => {
            new_form(&s, &p, lang, StatusCode::UNPROCESSABLE_ENTITY, Notice { error: Some(m), sent: false }).await
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
    let ctx = context! {
        d => Value::from(Serde(&d)),
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
fn public_base(headers: &HeaderMap) -> String {
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

#[derive(Deserialize)]
pub struct KeyQuery {
    k: Option<String>,
}

async fn report_page(
    s: &AppState,
    lang: Lang,
    building_id: &str,
    key: &str,
    status: StatusCode,
    extra: (Option<String>, Option<Demand>),
) -> Result<Response, ApiError> {
    let building = buildings::get(&s.db, building_id).await?;
    let (error, sent) = extra;
    let ctx = context! {
        lang => lang.code, building => Value::from(Serde(&building)), key => key,
        title => tr("building.number", lang.code).replace("%{number}", &building.number),
        categories => Value::from(Serde(&category_choices(s, lang).await?)),
        error => error, sent => sent.map(|d| d.id.chars().rev().take(6).collect::<String>().chars().rev().collect::<String>()),
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
    report_page(&s, lang, &id, &key, StatusCode::OK, (None, None)).await
}

#[derive(Deserialize)]
pub struct ReportForm {
    category: String,
    #[serde(default)]
    description: String,
    name: Option<String>,
    phone: Option<String>,
}

/// A report from the building's poster, without an account: the description, a
/// call-back number, a name if given.
pub async fn report_submit(
    State(s): State<AppState>,
    lang: Lang,
    address: ClientAddress,
    Path(id): Path<String>,
    Query(q): Query<KeyQuery>,
    Form(form): Form<ReportForm>,
) -> Result<Response, ApiError> {
    let key = check_key(&s, &id, q.k.as_deref())?;
    let description = form.description.trim().to_owned();
    if description.chars().count() < 4 {
        let error = Some(tr("report.too_short", lang.code));
        return report_page(&s, lang, &id, &key, StatusCode::UNPROCESSABLE_ENTITY, (error, None)).await;
    }
    let title: String = description.chars().take(30).collect();
    let new = NewDemand {
        building_id: Some(id.clone()),
        category: form.category,
        channel: Some(Channel::BuildingQr),
        title,
        description,
        reporter_name: non_empty(form.name),
        reporter_phone: non_empty(form.phone),
        ..Default::default()
    };
    let by = demands::Actor { id: None, name: "building-qr".into(), role: Role::Resident };
    match demands::create(&s.db, new, &by, None).await {
        Ok(d) => {
            let event = audit::Event {
                action: "demand.create",
                target_kind: Some("demand"),
                target_id: Some(&d.id),
                path: Some(&d.path),
                ..Default::default()
            };
            audit::log(&s.db, None, Some("building-qr"), &address, event).await?;
            report_page(&s, lang, &id, &key, StatusCode::CREATED, (None, Some(d))).await
        }
        Err(wangge_store::StoreError::Invalid(m)) => {
            report_page(&s, lang, &id, &key, StatusCode::UNPROCESSABLE_ENTITY, (Some(m), None)).await
        }
        Err(e) => Err(e.into()),
    }
}
