//! Residents' demands and events: intake, the ledger, each step of the loop, the
//! three rates, the catalogue, notifications and webhooks.
//!
//! Scope as everywhere: an item lies at its place's path. Who may take a step is the
//! route's `Action` (auth::POLICY) and, for the state it is in, the domain's state
//! machine. Residents see and rate only their own items. Reporters' names and phones
//! are shown only to roles that see names.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};
use utoipa::{IntoParams, ToSchema};
use wangge_domain::AuditAction;
use wangge_domain::demands::CHINA;
use wangge_domain::{Channel, DemandStatus, Explain, Message, Module, Role, Step, Vocabulary, msg, parse_date};
use wangge_store::Thing;
use wangge_store::demands::attachments::{self, Attachment};
use wangge_store::demands::digest::{self, Digest};
use wangge_store::demands::{
    self, Actor, Category, Demand, DemandEvent, DemandFilter, Holiday, NewDemand, Rates, SimilarItem, StepInput,
    StepTaken,
};
use wangge_store::notifications::{self, Audience, Notice};
use wangge_store::webhooks::{self, Delivery, NewWebhook, Webhook};
use wangge_store::{Page, PageRequest};

use crate::shared::api::{ApiResult, Id, JsonBody, Params};
use crate::shared::audit;
use crate::shared::auth::{ClientAddress, Principal};
use crate::shared::error::ErrorBody;
use crate::shared::render::{Lang, say, tr};
use crate::{ApiError, AppState};

/// The caller as the timeline and the state machine know them.
pub(crate) fn actor(p: &Principal) -> Actor {
    Actor { id: Some(p.actor_id().to_owned()), name: p.actor_name(), role: p.role }
}

/// Hides the reporter from callers who do not see names at the item's place.
pub(crate) fn demand_as_seen_by(p: &Principal, mut d: Demand) -> Demand {
    let own = d.reporter_account_id.as_deref() == Some(p.actor_id());
    if !own && !p.sees_names(&d.path) {
        d.reporter_name = d.reporter_name.map(|_| "***".into());
        d.reporter_phone = None;
    }
    d
}

/// The item, if the caller may see it: in scope, and for a resident their own.
pub(crate) async fn visible(s: &AppState, p: &Principal, id: &str) -> Result<Demand, ApiError> {
    let d = p.refer(demands::get(&s.db, id).await, Thing::Demand, id, |d| &d.path)?;
    if p.role == Role::Resident && d.reporter_account_id.as_deref() != Some(p.actor_id()) {
        return Err(crate::shared::auth::unknown(Thing::Demand, id));
    }
    Ok(d)
}

/// Take in a demand from any channel.
#[utoipa::path(post, path = "/api/v1/demands", tag = "demands", request_body = NewDemand,
    responses((status = 201, body = Demand), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_demand(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    JsonBody(new): JsonBody<NewDemand>,
) -> Result<(StatusCode, Json<Demand>), ApiError> {
    let d = create_checked(&s, &p, &address, new).await?;
    Ok((StatusCode::CREATED, Json(demand_as_seen_by(&p, d))))
}

/// Takes in a new item for `p`: the place and every record it names checked
/// against the caller's scope (one outside answered as an unknown id), a resident's
/// report marked as from the portal, the audit entry committed with the item.
pub(crate) async fn create_checked(
    s: &AppState,
    p: &Principal,
    address: &ClientAddress,
    mut new: NewDemand,
) -> Result<Demand, ApiError> {
    // The place is resolved once: it and every record the item names (household,
    // resident, building, area) checked against the caller's scope, then used. One
    // outside the scope is answered as an unknown id.
    let place = demands::locate(&s.db, &new, |path| p.can_see(path)).await?;
    p.check(&place.path)?;
    let resident = p.role == Role::Resident;
    if resident {
        new.channel = Some(Channel::Portal);
    }
    let reporter = resident.then(|| p.actor_id().to_owned());
    // The audit entry commits with the item: one durable write per report.
    let entry = |d: &Demand| {
        let event = audit::Event {
            target_kind: Some("demand"),
            target_id: Some(&d.id),
            path: Some(&d.path),
            after: audit::json(d),
            ..audit::Event::of(AuditAction::DemandCreate)
        };
        Some(audit::entry(Some(p), None, address, event))
    };
    let intake = demands::prepare(&s.db, new, place, &actor(p), reporter.as_deref()).await?;
    // Committed (durably, with its timeline and audit entries) when this returns.
    Ok(demands::submit(&s.db, intake, entry).await?)
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct DemandQuery {
    /// Only items under this area (id or code).
    pub area: Option<String>,
    /// Comma-separated statuses, or `open` for every open one.
    pub status: Option<String>,
    pub category: Option<String>,
    pub channel: Option<String>,
    pub kind: Option<String>,
    /// Building id.
    pub building: Option<String>,
    /// `true`: only items past their deadline.
    pub overdue: Option<bool>,
    /// Created on or after this day (YYYY-MM-DD, China time).
    pub from: Option<String>,
    /// Created on or before this day.
    pub to: Option<String>,
    /// Search: an 8-digit tracking number, the reporter's phone or its last four
    /// digits (for those who may see reporters' names), or words of the title or
    /// the address.
    pub q: Option<String>,
    /// Household id.
    pub household: Option<String>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

fn statuses(value: Option<&str>) -> Result<Vec<DemandStatus>, ApiError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(Vec::new()),
        Some("open") => Ok(DemandStatus::open()),
        Some(list) => list
            .split(',')
            .map(|s| DemandStatus::parse(s).map_err(|e| ApiError::bad_request(e.message().field("status"))))
            .collect(),
    }
}

fn parsed<V: Vocabulary>(value: Option<&str>) -> Result<Option<V>, ApiError> {
    value
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(|v| V::parse(v).map_err(|e| ApiError::bad_request(e.message())))
        .transpose()
}

/// The start of a day in China time, in Unix ms; `end` gives the start of the next day.
fn day_millis(value: &str, field: &'static str, end: bool) -> Result<i64, ApiError> {
    let day =
        parse_date(value).ok_or_else(|| ApiError::bad_request(msg!("error.not_a_date", value = value).field(field)))?;
    let start = day.midnight().assume_offset(CHINA) + if end { Duration::days(1) } else { Duration::ZERO };
    Ok((start.unix_timestamp_nanos() / 1_000_000) as i64)
}

/// The demand ledger of an area, newest first, with filters.
#[utoipa::path(get, path = "/api/v1/demands", tag = "demands", params(DemandQuery),
    responses((status = 200, body = Page<Demand>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_demands(
    State(s): State<AppState>,
    p: Principal,
    Params(q): Params<DemandQuery>,
) -> ApiResult<Page<Demand>> {
    let filter = ledger_filter(&s, &p, &q).await?;
    let mut page = demands::list(&s.db, &filter, PageRequest::new(q.page, q.per_page)).await?;
    page.items = page.items.into_iter().map(|d| demand_as_seen_by(&p, d)).collect();
    Ok(Json(page))
}

/// The ledger's filters from the query, limited to the caller's scope.
async fn ledger_filter(s: &AppState, p: &Principal, q: &DemandQuery) -> Result<DemandFilter, ApiError> {
    let mut filter = DemandFilter {
        under_path: p.list_path(&s.db, q.area.as_deref()).await?,
        status: statuses(q.status.as_deref())?,
        category: q.category.clone().filter(|c| !c.trim().is_empty()),
        channel: parsed(q.channel.as_deref())?,
        kind: parsed(q.kind.as_deref())?,
        building_id: q.building.clone().filter(|b| !b.trim().is_empty()),
        overdue: q.overdue.unwrap_or(false),
        from: q.from.as_deref().map(|d| day_millis(d, "from", false)).transpose()?,
        to: q.to.as_deref().map(|d| day_millis(d, "to", true)).transpose()?,
        household_id: q.household.clone().filter(|h| !h.trim().is_empty()),
        ..Default::default()
    };
    search(s, p, q.q.as_deref(), &mut filter);
    Ok(filter)
}

/// Narrows `filter` (already limited to the caller's scope) to what was typed in the
/// search box. A phone, whole or its last four digits, finds items only for those
/// who see reporters' names there: the others see no phones, and a search must not
/// tell them whose report an item is.
pub(crate) fn search(s: &AppState, p: &Principal, typed: Option<&str>, filter: &mut DemandFilter) {
    use demands::search::Query;
    let Some(query) = typed.and_then(Query::read) else { return };
    let phone = matches!(query, Query::Phone(_) | Query::PhoneSuffix(_));
    if phone && !p.sees_names(filter.under_path.as_deref().unwrap_or("/")) {
        // No blind index is ever this value: nothing is found.
        filter.phone_last4_hash = Some(String::new());
        return;
    }
    query.apply(&s.db, filter);
}

/// Most rows one export writes.
const EXPORT_LIMIT: i64 = 100_000;

/// China time, to the minute, for people reading the ledger.
fn when(millis: i64) -> String {
    let at = OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000).map(|t| t.to_offset(CHINA)).ok();
    at.map(|t| format!("{:04}-{:02}-{:02} {:02}:{:02}", t.year(), u8::from(t.month()), t.day(), t.hour(), t.minute()))
        .unwrap_or_default()
}

const EXPORT_HEADERS: [&str; 20] = [
    "编号",
    "登记时间",
    "类别",
    "类型",
    "渠道",
    "标题",
    "内容",
    "地址",
    "反映人",
    "联系电话",
    "状态",
    "办理层级",
    "承办",
    "受理期限",
    "办结期限",
    "是否超期",
    "结案时间",
    "评价",
    "评价意见",
    "是否重办",
];

/// The demand ledger as an Excel file, with the list's filters (at most 100,000
/// items, newest first); reporters' phones masked. Audited as `export.demands`.
#[utoipa::path(get, path = "/api/v1/demands/export", tag = "demands", params(DemandQuery),
    responses((status = 200, description = "The ledger (.xlsx)",
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn export_demands(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    Params(q): Params<DemandQuery>,
) -> Result<axum::response::Response, ApiError> {
    use axum::http::header;
    use axum::response::IntoResponse;
    let filter = ledger_filter(&s, &p, &q).await?;
    let items = demands::between(&s.db, &filter, EXPORT_LIMIT).await?;
    let names: std::collections::HashMap<String, String> =
        demands::categories(&s.db).await?.into_iter().map(|c| (c.code, c.name_zh)).collect();
    let rows = items.into_iter().map(|d| demand_as_seen_by(&p, d)).map(|d| {
        let opt = |v: Option<String>| v.unwrap_or_default();
        vec![
            d.id.clone(),
            when(d.created_at),
            names.get(&d.category).cloned().unwrap_or(d.category.clone()),
            d.kind.label_zh().to_owned(),
            d.channel.label_zh().to_owned(),
            d.title,
            d.description,
            opt(d.address),
            opt(d.reporter_name),
            opt(d.reporter_phone),
            d.status.label_zh().to_owned(),
            d.level.label_zh().to_owned(),
            opt(d.handler_name),
            when(d.accept_due),
            when(d.resolve_due),
            if d.overdue { "超期".into() } else { String::new() },
            d.closed_at.map(when).unwrap_or_default(),
            d.rating.map(|r| r.to_string()).unwrap_or_default(),
            opt(d.rating_comment),
            if d.reopened { "是".into() } else { String::new() },
        ]
    });
    let (bytes, written) =
        wangge_ledger::xlsx_out::ledger_xlsx_bytes("民情诉求台账", Some("民情诉求台账"), &EXPORT_HEADERS, rows)
            .map_err(|e| ApiError::internal(format!("writing the demand ledger: {e}")))?;
    let path = filter.under_path.clone().unwrap_or_else(|| "/".into());
    let event = audit::Event {
        target_kind: Some("demand"),
        path: Some(&path),
        reason: Some(&format!("{written} items")),
        ..audit::Event::of(AuditAction::ExportDemands)
    };
    audit::log(&s.db, Some(&p), None, &address, event).await?;
    let disposition = "attachment; filename=\"demands.xlsx\"; filename*=UTF-8''%E6%B0%91%E6%83%85%E8%AF%89%E6%B1%82%E5%8F%B0%E8%B4%A6.xlsx";
    Ok((
        [
            (header::CONTENT_TYPE, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct MineQuery {
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

/// "My items": a resident's own reports, or the items dispatched to the caller.
#[utoipa::path(get, path = "/api/v1/me/demands", tag = "demands", params(MineQuery),
    responses((status = 200, body = Page<Demand>)))]
pub async fn my_demands(
    State(s): State<AppState>,
    p: Principal,
    Params(q): Params<MineQuery>,
) -> ApiResult<Page<Demand>> {
    let me = Some(p.actor_id().to_owned());
    let filter = if p.role == Role::Resident {
        DemandFilter { reporter_account_id: me, ..Default::default() }
    } else {
        DemandFilter { handler_ids: my_handler_ids(&s, &p).await?, status: DemandStatus::open(), ..Default::default() }
    };
    let mut page = demands::list(&s.db, &filter, PageRequest::new(q.page, q.per_page)).await?;
    page.items = page.items.into_iter().map(|d| demand_as_seen_by(&p, d)).collect();
    Ok(Json(page))
}

/// A timeline entry as the resident reads it: the state in plain words.
#[derive(Serialize, ToSchema)]
pub struct TimelineEntry {
    #[serde(flatten)]
    pub event: DemandEvent,
    /// What this means for the resident, in plain words in the request's language.
    pub plain: String,
}

#[derive(Serialize, ToSchema)]
pub struct DemandDetail {
    pub demand: Demand,
    pub timeline: Vec<TimelineEntry>,
}

/// One item with its timeline.
#[utoipa::path(get, path = "/api/v1/demands/{id}", tag = "demands", params(("id" = String, Path, description = "Demand id")),
    responses((status = 200, body = DemandDetail), (status = 404, body = ErrorBody)))]
pub async fn get_demand(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    Id(id): Id<String>,
) -> ApiResult<DemandDetail> {
    let d = visible(&s, &p, &id).await?;
    detail(&s, &p, d, lang).await
}

/// One of the caller's own reports with its timeline in plain words: what the
/// portal shows a resident.
#[utoipa::path(get, path = "/api/v1/me/demands/{id}", tag = "demands", params(("id" = String, Path, description = "Demand id")),
    responses((status = 200, body = DemandDetail), (status = 404, body = ErrorBody)))]
pub async fn my_demand(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    Id(id): Id<String>,
) -> ApiResult<DemandDetail> {
    let d = demands::get(&s.db, &id).await?;
    if d.reporter_account_id.as_deref() != Some(p.actor_id()) {
        return Err(crate::shared::auth::unknown(Thing::Demand, &id));
    }
    detail(&s, &p, d, lang).await
}

async fn detail(s: &AppState, p: &Principal, d: Demand, lang: Lang) -> ApiResult<DemandDetail> {
    let mut timeline: Vec<TimelineEntry> = demands::timeline(&s.db, &d.id)
        .await?
        .into_iter()
        .map(|event| TimelineEntry { plain: tr(event.to_status.plain_key(), lang.code), event })
        .collect();
    // A merged duplicate goes on in the item it was merged into: its reporter reads
    // that item's steps from the merge on, as part of their own timeline.
    if let Some(into) = &d.merged_into {
        let merged_at = timeline.last().map_or(0, |e| e.event.at);
        for event in demands::timeline(&s.db, into).await? {
            if event.at >= merged_at && event.step != wangge_domain::EventKind::MergedIn {
                let plain = say(&msg!("timeline.merged").key_arg("status", event.to_status.plain_key()), lang.code);
                timeline.push(TimelineEntry { plain, event });
            }
        }
    }
    Ok(Json(DemandDetail { demand: demand_as_seen_by(p, d), timeline }))
}

/// The unit's name when the caller records work on an item dispatched to a unit they
/// are not a member of (its progress recorded on its behalf).
async fn on_behalf_of(s: &AppState, p: &Principal, d: &Demand, step: Step) -> Result<Option<String>, ApiError> {
    if !matches!(step, Step::Start | Step::Progress | Step::ReportDone) {
        return Ok(None);
    }
    let Some(handler) = &d.handler_id else { return Ok(None) };
    if handler == p.actor_id() || wangge_store::registry::organisations::get(&s.db, handler).await.is_err() {
        return Ok(None);
    }
    let mine = my_handler_ids(s, p).await?;
    Ok((!mine.contains(handler)).then(|| d.handler_name.clone().unwrap_or_default()))
}

/// Whether `p` may call the reporter of `d` back (see the full phone): its current
/// handler (themselves, or a unit they belong to), the person who dispatched it
/// last, or one of the community's call-back desk (回访组: a unit holding the
/// `call_back` role over an area covering the item, see `UnitRole::CallBack`).
/// The caller must see the item too.
pub(crate) async fn may_call_back(s: &AppState, p: &Principal, d: &Demand) -> Result<bool, ApiError> {
    if p.role == Role::Resident || !p.can_see(&d.path) {
        return Ok(false);
    }
    let mine = my_handler_ids(s, p).await?;
    if d.handler_id.as_ref().is_some_and(|h| mine.contains(h)) {
        return Ok(true);
    }
    if demands::routing::dispatcher(&s.db, &d.id).await?.as_deref() == Some(p.actor_id()) {
        return Ok(true);
    }
    let desks = wangge_store::units::serving(&s.db, wangge_domain::UnitRole::CallBack, &d.path).await?;
    Ok(desks.iter().any(|desk| mine.contains(&desk.organisation.id)))
}

/// The reporter's full phone for a call-back, audited (`reveal.phone`, the item as
/// target and reason); refused with 403 and nothing logged as a reveal for anyone
/// [`may_call_back`] says no to.
pub(crate) async fn call_back_phone(
    s: &AppState,
    p: &Principal,
    address: &ClientAddress,
    id: &str,
) -> Result<(Demand, Option<String>), ApiError> {
    let d = visible(s, p, id).await?;
    if !may_call_back(s, p, &d).await? {
        return Err(ApiError::forbidden(msg!("demands.error.call_back_forbidden")));
    }
    let phone = demands::reveal_phone(&s.db, id).await?;
    let reason = format!("回访 {}", d.tracking_no.as_deref().unwrap_or(&d.id));
    let event = audit::Event {
        target_kind: Some("demand"),
        target_id: Some(id),
        path: Some(&d.path),
        reason: Some(&reason),
        ..audit::Event::of(AuditAction::RevealPhone)
    };
    audit::log(&s.db, Some(p), None, address, event).await?;
    Ok((d, phone))
}

/// The reporter's phone, to call them back.
#[derive(Serialize, ToSchema)]
pub struct CallBackPhone {
    #[schema(format = Uuid)]
    pub demand_id: String,
    /// In full; null when the reporter left none.
    pub phone: Option<String>,
}

/// The reporter's full phone, for the item's handler, its dispatcher and the
/// community's call-back desk; every reveal audited with the item as the reason.
#[utoipa::path(post, path = "/api/v1/demands/{id}/call-back", tag = "demands", params(("id" = String, Path, description = "Demand id")),
    responses((status = 200, body = CallBackPhone), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn call_back(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    Id(id): Id<String>,
) -> ApiResult<CallBackPhone> {
    let (d, phone) = call_back_phone(&s, &p, &address, &id).await?;
    Ok(Json(CallBackPhone { demand_id: d.id, phone }))
}

/// Who the caller handles items as: themselves and the units they are a member of
/// (an item dispatched to the property company is in each of its people's 我的待办).
pub(crate) async fn my_handler_ids(s: &AppState, p: &Principal) -> Result<Vec<String>, ApiError> {
    let mut ids = vec![p.actor_id().to_owned()];
    ids.extend(wangge_store::units::of_account(&s.db, p.actor_id()).await?.into_iter().map(|o| o.id));
    Ok(ids)
}

/// Runs one step: scope, the state machine, the audit log, notifications, webhooks.
pub(crate) async fn take(
    s: &AppState,
    p: &Principal,
    address: &ClientAddress,
    id: &str,
    step: Step,
    input: StepInput,
) -> ApiResult<StepTaken> {
    let before = visible(s, p, id).await?;
    if let Some(into) = input.into.as_deref().map(str::trim).filter(|i| !i.is_empty()) {
        p.refer(demands::get(&s.db, into).await, Thing::Demand, into, |d| &d.path)?;
    }
    if step == Step::Dispatch
        && let Some(handler) = input.handler_id.as_deref().map(str::trim).filter(|h| !h.is_empty())
    {
        handler_in_reach(s, p, &before, handler).await?;
    }
    let mut input = input;
    if let Some(unit) = on_behalf_of(s, p, &before, step).await? {
        // A unit nobody in it can log in to: the dispatcher records its work, and the
        // timeline says so (in the words the timeline is kept in, as "派遣给 …").
        let typed = input.note.trim();
        input.note =
            if typed.is_empty() { format!("（代{unit}记录）") } else { format!("（代{unit}记录）{typed}") };
    }
    let mut taken = demands::take_step(&s.db, id, step, &actor(p), input).await?;
    let target = audit::Target("demand", id, &before.path);
    audit::change(&s.db, (p, address), AuditAction::of_step(step), target, Some(&before), &taken.demand).await?;
    notify(s, &taken).await?;
    crate::shared::webhooks::fire(s.db.clone(), s.site.public_url(), taken.demand.clone(), taken.event.clone());
    taken.demand = demand_as_seen_by(p, taken.demand);
    Ok(Json(taken))
}

/// A resident's new report, dispatched at once when its community says so
/// ([`demands::routing::auto_dispatch`]): audited as done automatically, the grid
/// member (or unit) told, webhooks fired. The report is already kept: a failure
/// here is logged and leaves it waiting for a dispatcher, never lost.
pub(crate) async fn auto_dispatch(s: &AppState, address: &ClientAddress, d: Demand) -> Demand {
    let taken = match demands::routing::auto_dispatch(&s.db, &d).await {
        Ok(Some((taken, _))) => taken,
        Ok(None) => return d,
        Err(e) => {
            tracing::warn!(demand = %d.id, error = %e, "automatic dispatch failed; the item waits for a dispatcher");
            return d;
        }
    };
    let event = audit::Event {
        target_kind: Some("demand"),
        target_id: Some(&d.id),
        path: Some(&d.path),
        reason: Some("auto_dispatch"),
        ..audit::Event::of(AuditAction::of_step(Step::Dispatch))
    };
    let logged = audit::log(&s.db, None, Some(demands::routing::AUTOMATIC), address, event).await;
    if let Err(e) = logged.map_err(ApiError::from).and(notify(s, &taken).await) {
        tracing::warn!(demand = %d.id, error = ?e.status, "automatic dispatch: audit or notice failed");
    }
    crate::shared::webhooks::fire(s.db.clone(), s.site.public_url(), taken.demand.clone(), taken.event.clone());
    taken.demand
}

/// A handler an item is dispatched to is an account or a unit ([`wangge_store::units`])
/// that works where the caller may see, or that serves the item's place (an
/// account scoped to an area above it, a unit holding a role over such an area).
/// Anything else — another city's grid member, an id that does not exist — is
/// answered alike: "handler <id> was not found".
async fn handler_in_reach(s: &AppState, p: &Principal, item: &Demand, handler: &str) -> Result<(), ApiError> {
    let serves = |path: &str| p.can_see(path) || item.path.starts_with(path);
    match wangge_store::security::accounts::get(&s.db, handler).await {
        Ok(account) if account.scopes.iter().any(|scope| serves(&scope.path)) => return Ok(()),
        Ok(_) | Err(wangge_store::StoreError::NotFound { .. }) => {}
        Err(e) => return Err(e.into()),
    }
    match wangge_store::registry::organisations::get(&s.db, handler).await {
        Ok(unit) if p.can_see(&unit.path) => return Ok(()),
        Ok(_) => {
            let held = wangge_store::units::roles(&s.db, handler).await?;
            if held.iter().any(|h| item.path.starts_with(&h.path)) {
                return Ok(());
            }
        }
        Err(wangge_store::StoreError::NotFound { .. }) => {}
        Err(e) => return Err(e.into()),
    }
    Err(crate::shared::auth::unknown(Thing::Handler, handler))
}

/// Tells the reporter (when they have an account) and a newly dispatched handler:
/// an account, or every member of a unit ([`wangge_store::units`]) with one.
async fn notify(s: &AppState, t: &StepTaken) -> Result<(), ApiError> {
    let d = &t.demand;
    let notice = |id: &str, link: String, message: Message| Notice {
        module: Module::Demands,
        subject_id: Some(id.to_owned()),
        path: d.path.clone(),
        link: Some(link),
        message,
    };
    if let Some(reporter) = &d.reporter_account_id {
        let message = msg!("notice.demand_status", title = &d.title).key_arg("status", d.status.plain_key());
        let n = notice(&d.id, format!("/portal/requests/{}", d.id), message);
        notifications::notify(&s.db, &Audience::Account(reporter.clone()), &n).await?;
    }
    // Reporters of duplicates merged into this item follow it as their own.
    for (merged, reporter) in demands::merged_reporters(&s.db, &d.id).await? {
        if Some(&reporter) != d.reporter_account_id.as_ref() {
            let message = msg!("notice.demand_merged", title = &d.title).key_arg("status", d.status.plain_key());
            let n = notice(&merged, format!("/portal/requests/{merged}"), message);
            notifications::notify(&s.db, &Audience::Account(reporter), &n).await?;
        }
    }
    if t.event.step == wangge_domain::EventKind::Step(Step::Dispatch)
        && let Some(handler) = &d.handler_id
    {
        let n = notice(&d.id, format!("/demands/{}", d.id), msg!("notice.dispatched", title = &d.title));
        // A handler id names an account or a unit; the other audience is empty.
        notifications::notify(&s.db, &Audience::Account(handler.clone()), &n).await?;
        notifications::notify(&s.db, &Audience::Unit(handler.clone()), &n).await?;
    }
    Ok(())
}

macro_rules! step_route {
    ($name:ident, $step:expr, $path:literal, $doc:literal) => {
        #[doc = $doc]
        #[utoipa::path(post, path = $path, tag = "demands", params(("id" = String, Path, description = "Demand id")),
            request_body = StepInput,
            responses((status = 200, body = StepTaken), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
                (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
        pub async fn $name(
            State(s): State<AppState>,
            p: Principal,
            address: ClientAddress,
            Id(id): Id<String>,
            JsonBody(input): JsonBody<StepInput>,
        ) -> ApiResult<StepTaken> {
            take(&s, &p, &address, &id, $step, input).await
        }
    };
}

step_route!(accept_demand, Step::Accept, "/api/v1/demands/{id}/accept", "Accept (受理) a submitted item.");
step_route!(reject_demand, Step::Reject, "/api/v1/demands/{id}/reject", "Refuse an item; `note` says why.");
step_route!(merge_demand, Step::Merge, "/api/v1/demands/{id}/merge", "Merge a duplicate `into` another open item.");
step_route!(
    dispatch_demand,
    Step::Dispatch,
    "/api/v1/demands/{id}/dispatch",
    "Dispatch (派遣) to `handler_kind` / `handler_name` (`handler_id`: an account, notified)."
);
step_route!(start_demand, Step::Start, "/api/v1/demands/{id}/start", "Start handling (处置).");
step_route!(progress_demand, Step::Progress, "/api/v1/demands/{id}/progress", "Add a progress note; the state stays.");
step_route!(report_demand_done, Step::ReportDone, "/api/v1/demands/{id}/report-done", "Report the work done.");
step_route!(verify_demand, Step::Verify, "/api/v1/demands/{id}/verify", "Verify (核查) the work on the spot.");
step_route!(
    send_back_demand,
    Step::SendBack,
    "/api/v1/demands/{id}/send-back",
    "Verification failed: back to the handler; `note` says what is left."
);
step_route!(close_demand, Step::Close, "/api/v1/demands/{id}/close", "Close (结案) a verified item.");
step_route!(
    answer_demand,
    Step::Answer,
    "/api/v1/demands/{id}/answer",
    "Answer a consultation (`note`); it is closed."
);
step_route!(
    rate_demand,
    Step::Rate,
    "/api/v1/demands/{id}/rate",
    "Rate (评价) a closed item: `score` 1–5, `note` a comment. 1–3 reopens it once."
);
step_route!(
    escalate_demand,
    Step::Escalate,
    "/api/v1/demands/{id}/escalate",
    "Escalate (上报) one level up; `note` says why."
);
step_route!(
    hand_back_demand,
    Step::HandBack,
    "/api/v1/demands/{id}/hand-back",
    "Hand back one level down; `note` says why."
);

#[derive(Debug, Deserialize, IntoParams)]
pub struct RatesQuery {
    /// The area (id or code).
    pub area: Option<String>,
    /// First day of the period (YYYY-MM-DD, China time); default a year ago.
    pub from: Option<String>,
    /// Last day of the period; default today.
    pub to: Option<String>,
}

/// The three rates of an area and period, and the counts they are made of (how
/// each is computed: docs/demands.md).
#[utoipa::path(get, path = "/api/v1/demands/rates", tag = "demands", params(RatesQuery),
    responses((status = 200, body = Rates), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn demand_rates(State(s): State<AppState>, p: Principal, Params(q): Params<RatesQuery>) -> ApiResult<Rates> {
    let path = p.list_path(&s.db, q.area.as_deref()).await?;
    let now = OffsetDateTime::now_utc();
    let from = match q.from.as_deref() {
        Some(d) => day_millis(d, "from", false)?,
        None => ((now - Duration::days(365)).unix_timestamp_nanos() / 1_000_000) as i64,
    };
    let to = match q.to.as_deref() {
        Some(d) => day_millis(d, "to", true)?,
        None => (now.unix_timestamp_nanos() / 1_000_000) as i64 + 1,
    };
    Ok(Json(demands::rates(&s.db, path.as_deref(), from, to).await?))
}

/// A community's days to rate a closed item in.
#[derive(Deserialize, ToSchema)]
pub struct RatingDays {
    /// 1–90; null: back to the default (7). Applies to items closed from now on.
    pub days: Option<i64>,
}

/// The days to rate in force for a community.
#[derive(Serialize, ToSchema)]
pub struct RatingDaysSet {
    #[schema(format = Uuid)]
    pub area_id: String,
    pub days: i64,
}

/// Set how many days after closing an item of the community may be rated; not rated
/// by then, it counts as "not rated", never as satisfied.
#[utoipa::path(post, path = "/api/v1/areas/{id}/rating-days", tag = "demands", request_body = RatingDays,
    params(("id" = String, Path, description = "The community's id")),
    responses((status = 200, body = RatingDaysSet), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_rating_days(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    Id(id): Id<String>,
    JsonBody(body): JsonBody<RatingDays>,
) -> ApiResult<RatingDaysSet> {
    let area = p.refer(wangge_store::registry::areas::get(&s.db, &id).await, Thing::Area, &id, |a| &a.path)?;
    demands::set_rating_days(&s.db, &area.id, body.days).await?;
    let set = RatingDaysSet { days: demands::rating_days(&s.db, &area.path).await?, area_id: area.id.clone() };
    let target = audit::Target("area", &area.id, &area.path);
    audit::change(&s.db, (&p, &address), AuditAction::RatingDaysSet, target, None, &set).await?;
    Ok(Json(set))
}

/// The category catalogue.
#[utoipa::path(get, path = "/api/v1/demand-categories", tag = "demands", responses((status = 200, body = Vec<Category>)))]
pub async fn list_categories(State(s): State<AppState>) -> ApiResult<Vec<Category>> {
    Ok(Json(demands::categories(&s.db).await?))
}

/// Add a category, or change the one with the same code.
#[utoipa::path(post, path = "/api/v1/demand-categories", tag = "demands", request_body = Category,
    responses((status = 200, body = Category), (status = 422, body = ErrorBody)))]
pub async fn save_category(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    JsonBody(c): JsonBody<Category>,
) -> ApiResult<Category> {
    let saved = demands::save_category(&s.db, c).await?;
    audit::change(
        &s.db,
        (&p, &address),
        AuditAction::DemandCategorySave,
        audit::Target("demand_category", &saved.code, "/"),
        None,
        &saved,
    )
    .await?;
    Ok(Json(saved))
}

/// Holidays and make-up working days (调休) that deadlines count with.
#[utoipa::path(get, path = "/api/v1/holidays", tag = "demands", responses((status = 200, body = Vec<Holiday>)))]
pub async fn list_holidays(State(s): State<AppState>) -> ApiResult<Vec<Holiday>> {
    Ok(Json(demands::holidays(&s.db).await?))
}

/// Record a holiday or a make-up working day.
#[utoipa::path(post, path = "/api/v1/holidays", tag = "demands", request_body = Holiday,
    responses((status = 200, body = Holiday), (status = 422, body = ErrorBody)))]
pub async fn set_holiday(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    JsonBody(h): JsonBody<Holiday>,
) -> ApiResult<Holiday> {
    let saved = demands::set_holiday(&s.db, h).await?;
    audit::change(
        &s.db,
        (&p, &address),
        AuditAction::HolidaySet,
        audit::Target("holiday", &saved.day, "/"),
        None,
        &saved,
    )
    .await?;
    Ok(Json(saved))
}

/// The outgoing webhooks.
#[utoipa::path(get, path = "/api/v1/webhooks", tag = "demands", responses((status = 200, body = Vec<Webhook>)))]
pub async fn list_webhooks(State(s): State<AppState>) -> ApiResult<Vec<Webhook>> {
    Ok(Json(webhooks::list(&s.db).await?))
}

/// Register a webhook for state changes of items under an area.
#[utoipa::path(post, path = "/api/v1/webhooks", tag = "demands", request_body = NewWebhook,
    responses((status = 201, body = Webhook), (status = 422, body = ErrorBody)))]
pub async fn create_webhook(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    JsonBody(new): JsonBody<NewWebhook>,
) -> Result<(StatusCode, Json<Webhook>), ApiError> {
    let path = p.list_path(&s.db, new.area.as_deref()).await?.unwrap_or_else(|| "/".into());
    let hook = webhooks::create(&s.db, new, &path).await?;
    audit::change(
        &s.db,
        (&p, &address),
        AuditAction::WebhookCreate,
        audit::Target("webhook", &hook.id, &path),
        None,
        &hook,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(hook)))
}

/// Stop a webhook (its delivery log stays).
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/deactivate", tag = "demands", params(("id" = String, Path, description = "Webhook id")),
    responses((status = 200, body = Webhook), (status = 404, body = ErrorBody)))]
pub async fn deactivate_webhook(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    Id(id): Id<String>,
) -> ApiResult<Webhook> {
    let hook = webhooks::deactivate(&s.db, &id).await?;
    audit::change(
        &s.db,
        (&p, &address),
        AuditAction::WebhookDeactivate,
        audit::Target("webhook", &id, &hook.path),
        None,
        &hook,
    )
    .await?;
    Ok(Json(hook))
}

/// The webhook's latest delivery attempts (at most 200), newest first.
#[utoipa::path(get, path = "/api/v1/webhooks/{id}/deliveries", tag = "demands", params(("id" = String, Path, description = "Webhook id")),
    responses((status = 200, body = Vec<Delivery>), (status = 404, body = ErrorBody)))]
pub async fn webhook_deliveries(State(s): State<AppState>, Id(id): Id<String>) -> ApiResult<Vec<Delivery>> {
    webhooks::get(&s.db, &id).await?;
    Ok(Json(webhooks::deliveries(&s.db, &id, 200).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct AttachQuery {
    /// The file's name, when the body is the file itself rather than a multipart form.
    pub name: Option<String>,
}

/// Attach a photo or file to an item: a `multipart/form-data` body whose first file
/// field is taken, or the file itself as the body with `?name=`. JPEG, PNG, WebP or
/// PDF (told by the content, not the name), at most 5 MB, at most 5 per item.
/// Residents attach to their own reports.
#[utoipa::path(post, path = "/api/v1/demands/{id}/attachments", tag = "demands",
    params(("id" = String, Path, description = "Demand id"), AttachQuery),
    request_body(content = Vec<u8>, description = "multipart/form-data with a file field, or the file's bytes",
        content_type = "multipart/form-data"),
    responses((status = 201, body = Attachment), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn attach_to_demand(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    Id(id): Id<String>,
    Params(q): Params<AttachQuery>,
    request: axum::extract::Request,
) -> Result<(StatusCode, Json<Attachment>), ApiError> {
    // Scope first: a caller outside it learns nothing from how the body is parsed.
    let d = visible(&s, &p, &id).await?;
    let (name, data) = crate::shared::multipart::one_file(request, ATTACHMENT_BODY_LIMIT, q.name).await?;
    let a = attachments::add(&s.db, &d.id, &name, &data).await?;
    audit::change(&s.db, (&p, &address), AuditAction::DemandAttach, audit::Target("demand", &d.id, &d.path), None, &a)
        .await?;
    Ok((StatusCode::CREATED, Json(a)))
}

/// The largest body the attachment route reads: a 5 MB file and its form around it.
pub(crate) const ATTACHMENT_BODY_LIMIT: usize = attachments::MAX_BYTES + 64 * 1024;

/// An item's photos and files.
#[utoipa::path(get, path = "/api/v1/demands/{id}/attachments", tag = "demands",
    params(("id" = String, Path, description = "Demand id")),
    responses((status = 200, body = Vec<Attachment>), (status = 404, body = ErrorBody)))]
pub async fn demand_attachments(
    State(s): State<AppState>,
    p: Principal,
    Id(id): Id<String>,
) -> ApiResult<Vec<Attachment>> {
    let d = visible(&s, &p, &id).await?;
    Ok(Json(attachments::list(&s.db, &d.id).await?))
}

/// Download one photo or file, with its type; audited.
#[utoipa::path(get, path = "/api/v1/demand-attachments/{id}", tag = "demands",
    params(("id" = String, Path, description = "Attachment id")),
    responses((status = 200, description = "The file", content_type = "application/octet-stream"),
        (status = 404, body = ErrorBody)))]
pub async fn download_attachment(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    Id(id): Id<String>,
) -> Result<axum::response::Response, ApiError> {
    use axum::http::header;
    use axum::response::IntoResponse;
    // An attachment of an item out of sight is answered as an unknown attachment.
    let hidden = |e: ApiError| {
        if e.status == StatusCode::NOT_FOUND { crate::shared::auth::unknown(Thing::Attachment, &id) } else { e }
    };
    let a = attachments::get(&s.db, &id).await.map_err(|e| hidden(e.into()))?;
    let d = visible(&s, &p, &a.demand_id).await.map_err(hidden)?;
    let data = attachments::content(&s.db, &a.id).await?;
    let event = audit::Event {
        target_kind: Some("demand_attachment"),
        target_id: Some(&a.id),
        path: Some(&d.path),
        ..audit::Event::of(AuditAction::DemandAttachmentDownload)
    };
    audit::log(&s.db, Some(&p), None, &address, event).await?;
    // The name in both forms of RFC 6266: ASCII fallback and UTF-8.
    let ascii: String = a.name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '.' { c } else { '_' }).collect();
    let encoded: String = a
        .name
        .bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b == b'.' { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect();
    let disposition = format!("inline; filename=\"{ascii}\"; filename*=UTF-8''{encoded}");
    Ok((
        [
            (header::CONTENT_TYPE, a.content_type.clone()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
        ],
        data,
    )
        .into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct SimilarQuery {
    /// The category of the report about to be submitted.
    pub category: Option<String>,
    /// The building it is about; its grid is searched.
    pub building: Option<String>,
    /// Without a building: the area (id or code) to search.
    pub area: Option<String>,
    /// The title of the report: when given, only items of the same building (or
    /// within 100 m of `lat`/`lng`) whose titles read alike, at most three, the most
    /// alike first — what the report forms offer.
    pub title: Option<String>,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
}

/// Open items of the same category in the same building, then in the same grid:
/// offered before a report is submitted ("is it one of these?"). Shows what the
/// item is and where it stands, never who reported it.
#[utoipa::path(get, path = "/api/v1/demands/similar", tag = "demands", params(SimilarQuery),
    responses((status = 200, body = Vec<Similar>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn similar_demands(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    Params(q): Params<SimilarQuery>,
) -> ApiResult<Vec<Similar>> {
    let building = q.building.as_deref().map(str::trim).filter(|b| !b.is_empty());
    // Scope first, then the rest of the question.
    let path = match building {
        Some(b) => {
            p.refer(wangge_store::registry::buildings::get(&s.db, b).await, Thing::Building, b, |b| &b.path)?.path
        }
        None => p
            .list_path(&s.db, q.area.as_deref())
            .await?
            .ok_or_else(|| ApiError::bad_request(msg!("demands.error.say_where").field("area")))?,
    };
    let category = q.category.as_deref().map(str::trim).filter(|c| !c.is_empty());
    let category =
        category.ok_or_else(|| ApiError::bad_request(msg!("demands.error.category_needed").field("category")))?;
    let title = q.title.as_deref().map(str::trim).filter(|t| !t.is_empty());
    let like = demands::LikeThis { title, at: q.lat.zip(q.lng) };
    let limit = if title.is_some() { demands::OFFER_AT_MOST as i64 } else { 10 };
    let found = demands::similar(&s.db, category, building, &path, like, limit).await?;
    let said = |item: SimilarItem| Similar { plain: crate::shared::render::label(item.status, lang).to_owned(), item };
    Ok(Json(found.into_iter().map(said).collect()))
}

/// An open item like the one being reported.
#[derive(Serialize, ToSchema)]
pub struct Similar {
    #[serde(flatten)]
    pub item: SimilarItem,
    /// Where it stands, in the request's language (the state's name: this is
    /// somebody else's item, so not the reporter's plain words).
    pub plain: String,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct DigestQuery {
    /// The area (id or code); default the caller's scope.
    pub area: Option<String>,
}

/// Items past or within a day of their deadline, per community and grid under the
/// area, with the most overdue few of each: the daily digest.
#[utoipa::path(get, path = "/api/v1/demands/digest", tag = "demands", params(DigestQuery),
    responses((status = 200, body = Digest), (status = 403, body = ErrorBody)))]
pub async fn demand_digest(
    State(s): State<AppState>,
    p: Principal,
    Params(q): Params<DigestQuery>,
) -> ApiResult<Digest> {
    let path = p.list_path(&s.db, q.area.as_deref()).await?;
    Ok(Json(digest::digest(&s.db, path.as_deref(), wangge_domain::now_millis()).await?))
}

/// This module's routes, each with who may call it (`crate::shared::routes`).
pub(crate) fn routes() -> crate::shared::routes::Routes {
    use crate::shared::auth::Access::*;
    use utoipa_axum::routes;
    use wangge_domain::Action::*;
    crate::shared::routes::Routes::new()
        .api(Role(SubmitDemand), routes!(create_demand))
        .api(Role(ViewDemands), routes!(list_demands))
        .api(Role(ViewDemands), routes!(export_demands))
        // A person's own reports: the handlers check the reporter is the caller.
        .api(Authenticated, routes!(my_demands))
        .api(Role(ViewDemands), routes!(get_demand))
        .api(Authenticated, routes!(my_demand))
        // Each step needs what the state machine says (`Step::needs`); the state
        // machine checks the same again for the item's state.
        .api(Role(Step::Accept.needs()), routes!(accept_demand))
        .api(Role(Step::Reject.needs()), routes!(reject_demand))
        .api(Role(Step::Merge.needs()), routes!(merge_demand))
        .api(Role(Step::Dispatch.needs()), routes!(dispatch_demand))
        .api(Role(Step::Start.needs()), routes!(start_demand))
        .api(Role(Step::Progress.needs()), routes!(progress_demand))
        .api(Role(Step::ReportDone.needs()), routes!(report_demand_done))
        .api(Role(Step::Verify.needs()), routes!(verify_demand))
        .api(Role(Step::SendBack.needs()), routes!(send_back_demand))
        .api(Role(Step::Close.needs()), routes!(close_demand))
        .api(Role(Step::Answer.needs()), routes!(answer_demand))
        .api(Role(Step::Rate.needs()), routes!(rate_demand))
        .api(Role(Step::Escalate.needs()), routes!(escalate_demand))
        .api(Role(Step::HandBack.needs()), routes!(hand_back_demand))
        // Who may is decided per item (may_call_back); the route lets in who sees items.
        .api(Role(ViewDemands), routes!(call_back))
        .api(Role(ViewFigures), routes!(demand_rates))
        // A community's days to rate: those who decide what happens to its items.
        .api(Role(DispatchDemand), routes!(set_rating_days))
        .api(Authenticated, routes!(list_categories))
        .api(Role(ManageCategories), routes!(save_category))
        .api(Authenticated, routes!(list_holidays))
        .api(Role(ManageCategories), routes!(set_holiday))
        .api(Role(ManageWebhooks), routes!(list_webhooks))
        .api(Role(ManageWebhooks), routes!(create_webhook))
        .api(Role(ManageWebhooks), routes!(deactivate_webhook))
        .api(Role(ManageWebhooks), routes!(webhook_deliveries))
        // Photos and files: whoever may report may attach and see them, within the
        // item's scope (residents: their own reports).
        .api_limited(Role(SubmitDemand), crate::shared::routes::Limit::Attachment, routes!(attach_to_demand))
        .api(Role(SubmitDemand), routes!(demand_attachments))
        .api(Role(SubmitDemand), routes!(download_attachment))
        // "Is it one of these?" before submitting: titles and states, no reporters.
        .api(Role(SubmitDemand), routes!(similar_demands))
        .api(Role(ViewDemands), routes!(demand_digest))
}
