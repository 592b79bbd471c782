//! The three lists (三张清单, issue 23): resources, needs and projects of a
//! community side by side (`/party/lists`), a resource with the needs it fits, a
//! need with the resources that fit it (`wangge_domain::party_joint::fits`: the
//! same field, overlapping places), a project with its needs, resources, result
//! and the residents' ratings; residents read finished projects and rate them on
//! the portal (`/portal/projects`), and the grid's public page shows them.
//!
//! Who: everyone with `view_party` in sight reads the lists; those who keep the
//! registry (`manage_party`) over a record's place add resources and projects,
//! say a need's field, link needs and resources to a project and move it on; a
//! resident (`rate_demand`) rates a finished project of their community once.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use minijinja::value::{Serde, Value};
use serde::{Deserialize, Serialize};
use wangge_domain::party::china_day;
use wangge_domain::party_joint::{ProjectState, ProjectStep, ResourceKind, ServiceField};
use wangge_domain::{Action, AuditAction, Explain, Vocabulary, format_date, msg, now_millis};
use wangge_store::Thing;
use wangge_store::party::projects::{self, NewResource, Project, Resource};
use wangge_store::party::service::{self, Need};
use wangge_store::party::{self};
use wangge_store::registry::areas::{self, Area};

use super::pages::{area_of, choices, community_of, places};
use super::sees;
use crate::shared::audit::{self, Target};
use crate::shared::auth::{Actor, ClientAddress, Principal, unknown};
use crate::shared::render::{Lang, frame, label, render, tr};
use crate::{ApiError, AppState};

fn today() -> time::Date {
    china_day(now_millis())
}

/// How far back the lists show needs: a quarter.
const NEEDS_BACK_DAYS: i64 = 92;

fn keeps(p: &Principal, path: &str) -> bool {
    p.role.may(Action::ManageParty) && p.can_see(path)
}

/// "5,000.00 元" from fen.
pub(crate) fn yuan(fen: i64) -> String {
    let whole = fen / 100;
    let mut digits = whole.to_string();
    let mut out = String::new();
    while digits.len() > 3 {
        let tail = digits.split_off(digits.len() - 3);
        out = format!(",{tail}{out}");
    }
    format!("{digits}{out}.{:02}", fen % 100)
}

/// Amount typed in yuan ("5000", "5000.5") to fen.
fn fen_of(text: &str) -> Option<i64> {
    let t = text.trim().replace([',', '，'], "");
    if t.is_empty() {
        return None;
    }
    let (whole, part) = t.split_once('.').unwrap_or((&t, ""));
    let whole: i64 = whole.parse().ok()?;
    let part = match part.len() {
        0 => 0,
        1 => part.parse::<i64>().ok()? * 10,
        2 => part.parse().ok()?,
        _ => return None,
    };
    whole.checked_mul(100)?.checked_add(part)
}

#[derive(Serialize)]
struct ResourceRow {
    id: String,
    title: String,
    kind: String,
    field: String,
    area: String,
    offered_by: String,
    amount: Option<String>,
    withdrawn: bool,
    fits: Vec<(String, String)>,
}

fn resource_row(r: &Resource, fits: Vec<(String, String)>, lang: Lang) -> ResourceRow {
    ResourceRow {
        id: r.id.clone(),
        title: r.title.clone(),
        kind: label(r.kind, lang).to_owned(),
        field: label(r.field, lang).to_owned(),
        area: r.area_name.clone(),
        offered_by: r.offered_by.clone(),
        amount: r.amount_fen.map(yuan),
        withdrawn: r.withdrawn,
        fits,
    }
}

#[derive(Serialize)]
struct NeedRow {
    id: String,
    title: String,
    day: String,
    area: String,
    source: String,
    field: Option<String>,
    fits: Vec<(String, String)>,
}

fn need_row(n: &Need, fits: Vec<(String, String)>, lang: Lang) -> NeedRow {
    NeedRow {
        id: n.id.clone(),
        title: n.title.clone(),
        day: n.needed_on.clone(),
        area: n.area_name.clone(),
        source: label(n.source_kind, lang).to_owned(),
        field: n.field.map(|f| label(f, lang).to_owned()),
        fits,
    }
}

#[derive(Serialize)]
struct ProjectRow {
    id: String,
    title: String,
    field: String,
    area: String,
    owner: String,
    deadline: String,
    state: String,
    state_code: String,
    overdue: bool,
    result: Option<String>,
    mean: Option<String>,
    ratings: i64,
    needs: usize,
    resources: usize,
}

fn project_row(p: &Project, lang: Lang, today: time::Date) -> ProjectRow {
    ProjectRow {
        id: p.id.clone(),
        title: p.title.clone(),
        field: label(p.field, lang).to_owned(),
        area: p.area_name.clone(),
        owner: p.owner_name.clone(),
        deadline: p.deadline.clone(),
        state: label(p.state, lang).to_owned(),
        state_code: p.state.code().to_owned(),
        overdue: p.overdue(today),
        result: p.result.clone(),
        mean: p.mean().map(|m| format!("{m:.1}")),
        ratings: p.ratings,
        needs: p.needs.len(),
        resources: p.resources.len(),
    }
}

fn pairs_of_resources(v: Vec<Resource>) -> Vec<(String, String)> {
    v.into_iter().map(|r| (r.id, format!("{} · {}", r.title, r.offered_by))).collect()
}

fn pairs_of_needs(v: Vec<Need>) -> Vec<(String, String)> {
    v.into_iter().map(|n| (n.id, format!("{} · {}", n.title, n.needed_on))).collect()
}

#[derive(Deserialize, Default)]
pub struct ListsQuery {
    area: Option<String>,
    state: Option<String>,
}

/// The three lists of the caller's area: resources with the needs each fits,
/// needs (a quarter back and ahead) with the resources that fit each, projects.
async fn lists(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    Query(q): Query<ListsQuery>,
) -> Result<Response, ApiError> {
    lists_view(&s, &p, lang, q, StatusCode::OK, None).await
}

async fn lists_view(
    s: &AppState,
    p: &Principal,
    lang: Lang,
    q: ListsQuery,
    status: StatusCode,
    error: Option<String>,
) -> Result<Response, ApiError> {
    let area = area_of(s, p, q.area.as_deref()).await?;
    let today = today();
    let from = today - time::Duration::days(NEEDS_BACK_DAYS);
    let resources = projects::resources_under(&s.db, &area.path).await?;
    let needs = service::needs_under(&s.db, &area.path, from).await?;
    // Matching in memory by the one rule: a community has tens of each.
    let resource_rows: Vec<ResourceRow> = resources
        .iter()
        .map(|r| {
            let fits = needs
                .iter()
                .filter(|n| {
                    !r.withdrawn
                        && n.field.is_some_and(|f| wangge_domain::party_joint::fits(r.field, &r.path, f, &n.path))
                })
                .map(|n| (n.id.clone(), n.title.clone()))
                .collect();
            resource_row(r, fits, lang)
        })
        .collect();
    let need_rows: Vec<NeedRow> = needs
        .iter()
        .map(|n| {
            let fits = resources
                .iter()
                .filter(|r| {
                    !r.withdrawn
                        && n.field.is_some_and(|f| wangge_domain::party_joint::fits(r.field, &r.path, f, &n.path))
                })
                .map(|r| (r.id.clone(), r.title.clone()))
                .collect();
            need_row(n, fits, lang)
        })
        .collect();
    let state = q.state.as_deref().and_then(ProjectState::from_code);
    let project_rows: Vec<ProjectRow> = projects::projects_under(&s.db, &area.path, state, 200)
        .await?
        .iter()
        .map(|x| project_row(x, lang, today))
        .collect();
    let counts = projects::by_state(&s.db, &area.path, today).await?;
    let community = community_of(s, &area).await;
    let manage = community.is_some() && keeps(p, &area.path);
    let (places, owners) = match &community {
        Some(c) if manage => (
            if c.id == area.id { places(s, c).await? } else { vec![(area.id.clone(), area.name.clone())] },
            party::units_under(&s.db, &c.path).await?.into_iter().map(|u| (u.id, u.name)).collect(),
        ),
        _ => (Vec::new(), Vec::new()),
    };
    let states: Vec<(String, String)> = choices::<ProjectState>(lang);
    let ctx = context! {
        area_name => &area.name, area => &area.code, resources => Value::from(Serde(&resource_rows)),
        needs => Value::from(Serde(&need_rows)), projects => Value::from(Serde(&project_rows)),
        counts => Value::from(Serde(&counts)), state => q.state.unwrap_or_default(), states => states,
        manage => manage, places => places, owners => owners, fields => choices::<ServiceField>(lang),
        kinds => choices::<ResourceKind>(lang), deadline => format_date(today + time::Duration::days(60)),
        from => format_date(from), error => error,
        ..frame(p, lang, "/party")
    };
    Ok(render(lang, status, "party/lists.html", ctx))
}

/// A form's value.
fn get(sent: &[(String, String)], name: &str) -> String {
    sent.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_owned()).unwrap_or_default()
}

/// An area of a form in the caller's sight where they keep the registry.
async fn kept_area(s: &AppState, p: &Principal, id: &str) -> Result<Area, ApiError> {
    let a = p.refer(areas::get(&s.db, id).await, Thing::Area, id, |a| &a.path)?;
    if !keeps(p, &a.path) {
        return Err(super::not_here());
    }
    Ok(a)
}

/// Records a resource.
async fn add_resource(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    axum::Form(sent): axum::Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let area = get(&sent, "area");
    let result = async {
        let placed = kept_area(&s, &p, &get(&sent, "area_id")).await?;
        let kind =
            ResourceKind::parse(&get(&sent, "kind")).map_err(|e| ApiError::invalid(e.message().field("kind")))?;
        let field = super::pages::field_of(Some(&get(&sent, "field")))?
            .ok_or_else(|| ApiError::invalid(msg!("party.joint.error.field").field("field")))?;
        let amount = get(&sent, "amount");
        let amount_fen = match fen_of(&amount) {
            Some(f) => Some(f),
            None if amount.is_empty() => None,
            None => return Err(ApiError::invalid(msg!("party.joint.error.amount").field("amount"))),
        };
        let new = NewResource {
            area_id: placed.id,
            unit_id: Some(get(&sent, "unit_id")).filter(|u| !u.is_empty()),
            offered_by: get(&sent, "offered_by"),
            kind,
            field,
            title: get(&sent, "title"),
            detail: get(&sent, "detail"),
            amount_fen,
        };
        let r = projects::add_resource(&s.db, new, &p.actor_name()).await?;
        audit::change(
            &s.db,
            (&p, &address),
            AuditAction::PartyResourceSave,
            Target("party_resource", &r.id, &r.path),
            None,
            &r,
        )
        .await?;
        Ok::<_, ApiError>(r)
    }
    .await;
    match result {
        Ok(r) => Ok(Redirect::to(&format!("/party/resources/{}", r.id)).into_response()),
        Err(e) if e.status == StatusCode::UNPROCESSABLE_ENTITY => {
            let text = e.said(lang.code);
            let q = ListsQuery { area: Some(area), state: None };
            lists_view(&s, &p, lang, q, StatusCode::UNPROCESSABLE_ENTITY, Some(text)).await
        }
        Err(e) => Err(e),
    }
}

async fn resource_in_sight(s: &AppState, p: &Principal, id: &str) -> Result<Resource, ApiError> {
    match projects::resource(&s.db, id).await {
        Ok(r) if sees(p, &r.path) => Ok(r),
        Ok(_) | Err(wangge_store::StoreError::NotFound { .. }) => Err(unknown(Thing::PartyResource, id)),
        Err(e) => Err(e.into()),
    }
}

async fn need_in_sight(s: &AppState, p: &Principal, id: &str) -> Result<Need, ApiError> {
    match service::need(&s.db, id).await {
        Ok(n) if sees(p, &n.path) => Ok(n),
        Ok(_) | Err(wangge_store::StoreError::NotFound { .. }) => Err(unknown(Thing::PartyNeed, id)),
        Err(e) => Err(e.into()),
    }
}

pub(crate) async fn project_in_sight(s: &AppState, p: &Principal, id: &str) -> Result<Project, ApiError> {
    match projects::project(&s.db, id).await {
        Ok(x) if sees(p, &x.path) => Ok(x),
        Ok(_) | Err(wangge_store::StoreError::NotFound { .. }) => Err(unknown(Thing::PartyProject, id)),
        Err(e) => Err(e.into()),
    }
}

/// The projects of a community that are still open: to link a need or a resource to.
async fn open_projects(s: &AppState, community_id: &str) -> Result<Vec<(String, String)>, ApiError> {
    let c = areas::get(&s.db, community_id).await?;
    Ok(projects::projects_under(&s.db, &c.path, None, 200)
        .await?
        .into_iter()
        .filter(|x| matches!(x.state, ProjectState::Planned | ProjectState::Doing))
        .map(|x| (x.id, x.title))
        .collect())
}

/// A resource with the needs it fits and the projects using it.
async fn resource_page(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let r = resource_in_sight(&s, &p, &id).await?;
    let fits = pairs_of_needs(projects::needs_for(&s.db, &r, today() - time::Duration::days(NEEDS_BACK_DAYS)).await?);
    let community = areas::get(&s.db, &r.community_id).await?;
    let used: Vec<(String, String)> = projects::projects_under(&s.db, &community.path, None, 500)
        .await?
        .into_iter()
        .filter(|x| x.resources.iter().any(|(rid, _)| rid == &r.id))
        .map(|x| (x.id, x.title))
        .collect();
    let manage = keeps(&p, &r.path);
    let open = if manage { open_projects(&s, &r.community_id).await? } else { Vec::new() };
    let ctx = context! {
        r => Value::from(Serde(&resource_row(&r, fits, lang))), detail => &r.detail, used => used,
        manage => manage, open => open, area => &community.code,
        ..frame(&p, lang, "/party")
    };
    Ok(render(lang, StatusCode::OK, "party/resource.html", ctx))
}

async fn withdraw_resource(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let r = resource_in_sight(&s, &p, &id).await?;
    if !keeps(&p, &r.path) {
        return Err(super::not_here());
    }
    let after = projects::withdraw_resource(&s.db, &r.id).await?;
    audit::change(
        &s.db,
        (&p, &address),
        AuditAction::PartyResourceSave,
        Target("party_resource", &r.id, &r.path),
        Some(&r),
        &after,
    )
    .await?;
    Ok(Redirect::to(&format!("/party/resources/{}", r.id)).into_response())
}

/// A need with the resources that fit it and the projects meeting it; those who
/// keep it say its field.
async fn need_page(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let n = need_in_sight(&s, &p, &id).await?;
    let fits = pairs_of_resources(projects::resources_for(&s.db, &n).await?);
    let community = areas::get(&s.db, &n.community_id).await?;
    let meeting: Vec<(String, String)> = projects::projects_under(&s.db, &community.path, None, 500)
        .await?
        .into_iter()
        .filter(|x| x.needs.iter().any(|(nid, _)| nid == &n.id))
        .map(|x| (x.id, x.title))
        .collect();
    let manage = keeps(&p, &n.path);
    let open = if manage { open_projects(&s, &n.community_id).await? } else { Vec::new() };
    let ctx = context! {
        n => Value::from(Serde(&need_row(&n, fits, lang))), detail => &n.detail, field => n.field.map(|f| f.code()),
        projects => meeting, manage => manage, open => open, fields => choices::<ServiceField>(lang),
        area => &community.code, slots => n.slots, claimed => n.claimed,
        ..frame(&p, lang, "/party")
    };
    Ok(render(lang, StatusCode::OK, "party/need.html", ctx))
}

async fn set_field(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
    axum::Form(sent): axum::Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let n = need_in_sight(&s, &p, &id).await?;
    if !keeps(&p, &n.path) {
        return Err(super::not_here());
    }
    let field = super::pages::field_of(Some(&get(&sent, "field")))?;
    let after = service::set_need_field(&s.db, &n.id, field).await?;
    audit::change(
        &s.db,
        (&p, &address),
        AuditAction::PartyNeedAdd,
        Target("party_need", &n.id, &n.path),
        Some(&n),
        &after,
    )
    .await?;
    Ok(Redirect::to(&format!("/party/needs/{}", n.id)).into_response())
}

/// Starts a project of the community's own.
async fn add_project(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    axum::Form(sent): axum::Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let area = get(&sent, "area");
    let result = async {
        let new = super::joint::project_form(&sent)?;
        kept_area(&s, &p, &new.area_id).await?;
        let x = projects::add_project(&s.db, new, &p.actor_name(), today()).await?;
        audit::change(
            &s.db,
            (&p, &address),
            AuditAction::PartyProjectSave,
            Target("party_project", &x.id, &x.path),
            None,
            &x,
        )
        .await?;
        Ok::<_, ApiError>(x)
    }
    .await;
    match result {
        Ok(x) => Ok(Redirect::to(&format!("/party/projects/{}", x.id)).into_response()),
        Err(e) if e.status == StatusCode::UNPROCESSABLE_ENTITY => {
            let text = e.said(lang.code);
            let q = ListsQuery { area: Some(area), state: None };
            lists_view(&s, &p, lang, q, StatusCode::UNPROCESSABLE_ENTITY, Some(text)).await
        }
        Err(e) => Err(e),
    }
}

/// A project: owner, deadline, state, the needs it meets and resources it uses,
/// the ones that would fit (both ways), its result and the residents' ratings.
async fn project_page(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let x = project_in_sight(&s, &p, &id).await?;
    project_view(&s, &p, lang, x, StatusCode::OK, None).await
}

async fn project_view(
    s: &AppState,
    p: &Principal,
    lang: Lang,
    x: Project,
    status: StatusCode,
    error: Option<String>,
) -> Result<Response, ApiError> {
    let today = today();
    let community = areas::get(&s.db, &x.community_id).await?;
    let from = today - time::Duration::days(NEEDS_BACK_DAYS);
    // Suggestions both ways: resources fitting the project's needs (or its field
    // and place when it has none), needs fitting its resources.
    let resources = projects::resources_under(&s.db, &community.path).await?;
    let needs = service::needs_under(&s.db, &community.path, from).await?;
    let linked_needs: Vec<&Need> = needs.iter().filter(|n| x.needs.iter().any(|(id, _)| id == &n.id)).collect();
    let linked_resources: Vec<&Resource> =
        resources.iter().filter(|r| x.resources.iter().any(|(id, _)| id == &r.id)).collect();
    use wangge_domain::party_joint::fits;
    let suggest_resources: Vec<(String, String)> = resources
        .iter()
        .filter(|r| !r.withdrawn && !x.resources.iter().any(|(id, _)| id == &r.id))
        .filter(|r| {
            if linked_needs.is_empty() {
                fits(r.field, &r.path, x.field, &x.path)
            } else {
                linked_needs.iter().any(|n| n.field.is_some_and(|f| fits(r.field, &r.path, f, &n.path)))
            }
        })
        .map(|r| (r.id.clone(), format!("{} · {}", r.title, r.offered_by)))
        .collect();
    let suggest_needs: Vec<(String, String)> = needs
        .iter()
        .filter(|n| !x.needs.iter().any(|(id, _)| id == &n.id))
        .filter(|n| {
            let Some(f) = n.field else { return false };
            if linked_resources.is_empty() {
                fits(x.field, &x.path, f, &n.path)
            } else {
                linked_resources.iter().any(|r| fits(r.field, &r.path, f, &n.path))
            }
        })
        .map(|n| (n.id.clone(), format!("{} · {}", n.title, n.needed_on)))
        .collect();
    let manage = keeps(p, &x.path) || keeps(p, &community.path);
    let open = matches!(x.state, ProjectState::Planned | ProjectState::Doing);
    let steps: Vec<(String, String)> = ProjectStep::all()
        .iter()
        .filter(|st| wangge_domain::party_joint::project_next(x.state, **st).is_ok())
        .map(|st| (st.code().to_owned(), label(*st, lang).to_owned()))
        .collect();
    let comments = projects::comments(&s.db, &x.id).await?;
    let ctx = context! {
        x => Value::from(Serde(&project_row(&x, lang, today))), detail => &x.detail, reason => &x.reason,
        needs => &x.needs, resources => &x.resources, meeting_id => &x.meeting_id,
        suggest_resources => suggest_resources, suggest_needs => suggest_needs, manage => manage, open => open,
        steps => steps, comments => comments, area => &community.code, error => error,
        created_by => &x.created_by_name,
        ..frame(p, lang, "/party")
    };
    Ok(render(lang, status, "party/project.html", ctx))
}

async fn project_kept(s: &AppState, p: &Principal, id: &str) -> Result<Project, ApiError> {
    let x = project_in_sight(s, p, id).await?;
    let community = areas::get(&s.db, &x.community_id).await?;
    if !keeps(p, &x.path) && !keeps(p, &community.path) {
        return Err(super::not_here());
    }
    Ok(x)
}

/// Links a need or a resource (each checked to lie in the caller's sight; the
/// store checks they lie in the project's community) to a project, audited.
async fn link_into(
    s: &AppState,
    p: &Principal,
    address: &ClientAddress,
    x: &Project,
    need: Option<String>,
    resource: Option<String>,
) -> Result<Project, ApiError> {
    if let Some(n) = &need {
        need_in_sight(s, p, n).await?;
    }
    if let Some(r) = &resource {
        resource_in_sight(s, p, r).await?;
    }
    let after = projects::link(&s.db, &x.id, need.as_deref(), resource.as_deref()).await?;
    let summary = serde_json::json!({ "need": need, "resource": resource });
    audit::change(
        &s.db,
        (p, address),
        AuditAction::PartyProjectSave,
        Target("party_project", &x.id, &x.path),
        None,
        &summary,
    )
    .await?;
    Ok(after)
}

/// Links a need or a resource to a project, from the project's page.
async fn link(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
    axum::Form(sent): axum::Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let x = project_kept(&s, &p, &id).await?;
    let need = Some(get(&sent, "need_id")).filter(|v| !v.is_empty());
    let resource = Some(get(&sent, "resource_id")).filter(|v| !v.is_empty());
    match link_into(&s, &p, &address, &x, need, resource).await {
        Ok(after) => Ok(Redirect::to(&format!("/party/projects/{}", after.id)).into_response()),
        Err(e) if matches!(e.status, StatusCode::UNPROCESSABLE_ENTITY | StatusCode::CONFLICT) => {
            let text = e.said(lang.code);
            project_view(&s, &p, lang, x, StatusCode::UNPROCESSABLE_ENTITY, Some(text)).await
        }
        Err(e) => Err(e),
    }
}

/// Adds a resource to the project chosen on the resource's page.
async fn link_resource(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
    axum::Form(sent): axum::Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let r = resource_in_sight(&s, &p, &id).await?;
    let x = project_kept(&s, &p, &get(&sent, "project")).await?;
    link_into(&s, &p, &address, &x, None, Some(r.id)).await?;
    Ok(Redirect::to(&format!("/party/projects/{}", x.id)).into_response())
}

/// Adds a need to the project chosen on the need's page.
async fn link_need(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
    axum::Form(sent): axum::Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let n = need_in_sight(&s, &p, &id).await?;
    let x = project_kept(&s, &p, &get(&sent, "project")).await?;
    link_into(&s, &p, &address, &x, Some(n.id), None).await?;
    Ok(Redirect::to(&format!("/party/projects/{}", x.id)).into_response())
}

/// Moves a project on (start, finish with the result, drop with the reason);
/// finishing tells the residents of its place through the portal's list.
async fn step(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
    axum::Form(sent): axum::Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let x = project_kept(&s, &p, &id).await?;
    let result = async {
        let st = ProjectStep::parse(&get(&sent, "step")).map_err(|e| ApiError::invalid(e.message().field("step")))?;
        let text = sent.iter().find(|(k, _)| k == "text").map(|(_, v)| v.clone()).unwrap_or_default();
        let after = projects::step(&s.db, &x.id, st, &text).await?;
        let summary = serde_json::json!({ "from": x.state, "to": after.state, "text": text.trim() });
        audit::change(
            &s.db,
            (&p, &address),
            AuditAction::PartyProjectStep,
            Target("party_project", &x.id, &x.path),
            None,
            &summary,
        )
        .await?;
        Ok::<_, ApiError>(after)
    }
    .await;
    match result {
        Ok(after) => Ok(Redirect::to(&format!("/party/projects/{}", after.id)).into_response()),
        Err(e) if matches!(e.status, StatusCode::UNPROCESSABLE_ENTITY | StatusCode::CONFLICT) => {
            let text = e.said(lang.code);
            project_view(&s, &p, lang, x, StatusCode::UNPROCESSABLE_ENTITY, Some(text)).await
        }
        Err(e) => Err(e),
    }
}

// ---- residents ----

/// The community paths a resident's account lies in (their scopes' communities).
async fn resident_communities(s: &AppState, p: &Principal) -> Result<Vec<Area>, ApiError> {
    let mut out: Vec<Area> = Vec::new();
    for scope in &p.scopes {
        let a = areas::get_by_path(&s.db, &scope.path).await?;
        if let Ok(c) = party::community_of(&s.db, &a).await
            && !out.iter().any(|o| o.id == c.id)
        {
            out.push(c);
        }
    }
    Ok(out)
}

/// Whether a finished project concerns the resident: their grid's, or their
/// community's own.
fn concerns(p: &Principal, x: &Project) -> bool {
    p.scopes.iter().any(|s| s.path.starts_with(&x.path) || x.path.starts_with(&s.path))
}

#[derive(Serialize)]
struct PublicProject {
    id: String,
    title: String,
    area: String,
    owner: String,
    result: String,
    ended: String,
    mean: Option<String>,
    ratings: i64,
    mine: Option<i64>,
}

fn public_row(x: &Project, mine: Option<i64>) -> PublicProject {
    PublicProject {
        id: x.id.clone(),
        title: x.title.clone(),
        area: x.area_name.clone(),
        owner: x.owner_name.clone(),
        result: x.result.clone().unwrap_or_default(),
        ended: x.ended_at.map(|t| format_date(china_day(t))).unwrap_or_default(),
        mean: x.mean().map(|m| format!("{m:.1}")),
        ratings: x.ratings,
        mine,
    }
}

/// The finished projects of the resident's community and grid, newest first,
/// each with its result, mean rating and the resident's own.
async fn portal_list(State(s): State<AppState>, lang: Lang, p: Principal) -> Result<Response, ApiError> {
    if p.role != wangge_domain::Role::Resident {
        return Ok(Redirect::to("/party/lists").into_response());
    }
    let Actor::Account { id: account, .. } = &p.actor else { return Err(super::not_here()) };
    let mut rows = Vec::new();
    for c in resident_communities(&s, &p).await? {
        for x in projects::projects_under(&s.db, &c.path, Some(ProjectState::Done), 100).await? {
            if concerns(&p, &x) {
                let mine = projects::rated_by(&s.db, &x.id, account).await?;
                rows.push(public_row(&x, mine));
            }
        }
    }
    let ctx = context! {
        projects => Value::from(Serde(&rows)), scores => crate::portal::pages::scores(lang),
        ..crate::portal::pages::portal_ctx(&p, lang)
    };
    Ok(render(lang, StatusCode::OK, "party/portal_projects.html", ctx))
}

#[derive(Deserialize)]
pub struct RateForm {
    score: Option<i64>,
    #[serde(default)]
    comment: String,
}

/// A resident rates a finished project of their community, once.
async fn portal_rate(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<RateForm>,
) -> Result<Response, ApiError> {
    // Staff rate nothing here: they are sent to the project's page (once it is
    // known to be in their sight), as the portal sends them to their own side.
    if p.role != wangge_domain::Role::Resident {
        let x = project_in_sight(&s, &p, &id).await?;
        return Ok(Redirect::to(&format!("/party/projects/{}", x.id)).into_response());
    }
    let Actor::Account { id: account, .. } = &p.actor else { return Err(super::not_here()) };
    let x = match projects::project(&s.db, &id).await {
        Ok(x) if concerns(&p, &x) => x,
        Ok(_) | Err(wangge_store::StoreError::NotFound { .. }) => return Err(unknown(Thing::PartyProject, &id)),
        Err(e) => return Err(e.into()),
    };
    let after = projects::rate(&s.db, &x.id, account, f.score, &f.comment).await?;
    let summary = serde_json::json!({ "stars": f.score, "ratings": after.ratings });
    audit::change(
        &s.db,
        (&p, &address),
        AuditAction::PartyProjectRate,
        Target("party_project", &x.id, &x.path),
        None,
        &summary,
    )
    .await?;
    Ok(Redirect::to(&format!("/portal/projects#project-{}", x.id)).into_response())
}

/// The finished projects shown on a grid's public page: the grid's and its
/// community's own, latest 10 — the result and mean rating, never who rated.
pub(crate) async fn published(s: &AppState, grid: &Area) -> Result<Value, ApiError> {
    let community = party::community_of(&s.db, grid).await?;
    let rows: Vec<PublicProject> = projects::projects_under(&s.db, &grid.path, Some(ProjectState::Done), 10)
        .await?
        .iter()
        .filter(|x| x.path == grid.path || x.path == community.path)
        .map(|x| public_row(x, None))
        .collect();
    Ok(Value::from(Serde(&rows)))
}

/// The words of the portal's task.
pub(crate) fn portal_task(lang: Lang) -> String {
    tr("party.joint.portal.title", lang.code)
}

pub(crate) fn routes() -> crate::shared::routes::Routes {
    use crate::shared::auth::Access::{Authenticated, Role};
    use wangge_domain::Action::{ManageParty, RateDemand, ViewParty};
    crate::shared::routes::Routes::new()
        .get("/party/lists", Role(ViewParty), lists)
        .post("/party/resources", Role(ManageParty), add_resource)
        .get("/party/resources/{id}", Role(ViewParty), resource_page)
        .post("/party/resources/{id}/withdraw", Role(ManageParty), withdraw_resource)
        .post("/party/resources/{id}/link", Role(ManageParty), link_resource)
        .get("/party/needs/{id}", Role(ViewParty), need_page)
        .post("/party/needs/{id}/field", Role(ManageParty), set_field)
        .post("/party/needs/{id}/link", Role(ManageParty), link_need)
        .post("/party/projects", Role(ManageParty), add_project)
        .get("/party/projects/{id}", Role(ViewParty), project_page)
        .post("/party/projects/{id}/link", Role(ManageParty), link)
        .post("/party/projects/{id}/step", Role(ManageParty), step)
        .get("/portal/projects", Authenticated, portal_list)
        .post("/portal/projects/{id}/rate", Role(RateDemand), portal_rate)
}
