//! The team page of a grid (grid page → 网格队伍): the current team as cards with
//! their buildings and phones (`tel:` links for those who keep the team), the posts
//! that ended, and for those who keep it the forms to add, edit and end a post.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::value::Serde;
use minijinja::{Value, context};
use serde::{Deserialize, Serialize};
use wangge_domain::AuditAction;
use wangge_domain::{AreaLevel, TeamPost, Vocabulary};
use wangge_store::StoreError;
use wangge_store::Thing;
use wangge_store::registry::areas::{self, Area};
use wangge_store::registry::buildings::{self, BuildingFilter};
use wangge_store::team::{self, GridPost, NewPost, Phones};
use wangge_store::{Db, PageRequest};

use crate::shared::audit::{self, Target};
use crate::shared::auth::{ClientAddress, Principal, unknown};
use crate::shared::render::{Lang, frame, label, render, say, tr};
use crate::{ApiError, AppState};

/// A post as its card shows it.
#[derive(Serialize)]
struct Card {
    id: String,
    post: &'static str,
    post_label: &'static str,
    name: String,
    duties: String,
    phone: Option<String>,
    duty_phone: Option<String>,
    duty_public: bool,
    buildings: Vec<String>,
    starts_on: String,
    ends_on: String,
    has_account: bool,
}

#[derive(Serialize)]
struct BuildingChoice {
    id: String,
    label: String,
    checked: bool,
}

#[derive(Deserialize)]
pub struct TeamQuery {
    saved: Option<u8>,
}

pub(super) async fn grid_in_scope(s: &AppState, p: &Principal, id: &str) -> Result<Area, ApiError> {
    let grid = p.refer(areas::get(&s.db, id).await, Thing::Area, id, |a| &a.path)?;
    if grid.level != AreaLevel::Grid {
        return Err(ApiError::invalid(wangge_domain::msg!("registry.error.not_a_grid", code = &grid.code)));
    }
    Ok(grid)
}

/// The grid's buildings by id, with their labels ("3号楼").
async fn grid_buildings(db: &Db, grid_id: &str, lang: Lang) -> Result<Vec<(String, String)>, ApiError> {
    let filter = BuildingFilter { grid_id: Some(grid_id.to_owned()), ..Default::default() };
    let page = buildings::list(db, &filter, PageRequest::new(Some(1), Some(PageRequest::MAX_PER_PAGE))).await?;
    Ok(page
        .items
        .into_iter()
        .map(|b| (b.id, tr("building.number", lang.code).replace("%{number}", &b.number)))
        .collect())
}

fn card(post: GridPost, names: &[(String, String)], lang: Lang) -> Card {
    Card {
        post: post.post.code(),
        post_label: label(post.post, lang),
        name: post.person_name.clone().unwrap_or_default(),
        duties: post.duties.clone(),
        duty_public: post.duty_phone_consent_at.is_some(),
        duty_phone: post.duty_phone.clone(),
        buildings: post
            .building_ids
            .iter()
            .map(|b| names.iter().find(|(id, _)| id == b).map_or_else(|| b.clone(), |(_, l)| l.clone()))
            .collect(),
        starts_on: post.starts_on.clone().unwrap_or_default(),
        ends_on: post.ends_on.clone().unwrap_or_default(),
        has_account: post.account_id.is_some(),
        phone: post.phone,
        id: post.id,
    }
}

fn post_choices(lang: Lang) -> Vec<(&'static str, &'static str)> {
    TeamPost::all().iter().map(|&t| (t.code(), label(t, lang))).collect()
}

/// The team page, with the add form (and its error) for those who keep the team.
async fn team_page(
    s: &AppState,
    p: &Principal,
    lang: Lang,
    grid: &Area,
    status: StatusCode,
    error: Option<String>,
    saved: bool,
) -> Result<Response, ApiError> {
    let manages = super::manages(p, &grid.path);
    let phones = if manages { Phones::Full } else { Phones::Hidden };
    let names = grid_buildings(&s.db, &grid.id, lang).await?;
    let roster = team::roster(&s.db, &grid.id, phones, manages).await?;
    let (current, ended): (Vec<_>, Vec<_>) = roster.into_iter().partition(GridPost::current);
    let show = |p: GridPost| card(if manages { p } else { p.public() }, &names, lang);
    let current: Vec<Card> = current.into_iter().map(show).collect();
    let ended: Vec<Card> = ended.into_iter().map(show).collect();
    let buildings: Vec<BuildingChoice> =
        names.into_iter().map(|(id, label)| BuildingChoice { id, label, checked: false }).collect();
    let ctx = context! {
        grid => Value::from(Serde(grid)), current => Value::from(Serde(&current)),
        ended => Value::from(Serde(&ended)), manages => manages, error => error, saved => saved,
        posts => post_choices(lang), buildings => Value::from(Serde(&buildings)), account => "",
        ..frame(p, lang, "/registry"),
    };
    Ok(render(lang, status, "team/roster.html", ctx))
}

pub async fn roster_page(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    Path(id): Path<String>,
    Query(q): Query<TeamQuery>,
) -> Result<Response, ApiError> {
    let grid = grid_in_scope(&s, &p, &id).await?;
    team_page(&s, &p, lang, &grid, StatusCode::OK, None, q.saved.is_some()).await
}

/// The form of a post, as the browser sends it (checkboxes repeat `building_ids`).
type PostForm = Vec<(String, String)>;

fn field(form: &PostForm, name: &str) -> Option<String> {
    form.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// The post a form describes; the account is named by its user name and must work
/// in the grid's community (else it is "not found", as any account out of reach).
async fn new_post(s: &AppState, grid: &Area, form: &PostForm) -> Result<NewPost, StoreError> {
    let account_id = match field(form, "account") {
        None => None,
        Some(username) => {
            let account = wangge_store::security::accounts::get_by_username(&s.db, &username).await?;
            let community = team::community_path(&grid.path);
            if !account.scopes.iter().any(|sc| sc.path.starts_with(community)) {
                return Err(StoreError::not_found(Thing::Account, username));
            }
            Some(account.id)
        }
    };
    Ok(NewPost {
        post: field(form, "post"),
        person_name: field(form, "person_name").unwrap_or_default(),
        phone: field(form, "phone"),
        clear_phone: field(form, "clear_phone").is_some(),
        duty_phone: field(form, "duty_phone"),
        duty_phone_consent: field(form, "duty_phone_consent").is_some(),
        duties: field(form, "duties").unwrap_or_default(),
        account_id,
        resident_id: None,
        building_ids: form.iter().filter(|(k, _)| k == "building_ids").map(|(_, v)| v.clone()).collect(),
        starts_on: field(form, "starts_on"),
    })
}

/// What the audit log keeps of a post: never its private phone.
fn audited(post: &GridPost) -> GridPost {
    GridPost { phone: post.phone.as_ref().map(|_| "***".into()), ..post.clone() }
}

/// A refusal said on the page it came from; anything else is the error page.
fn said(err: StoreError, lang: Lang) -> Result<String, ApiError> {
    match err {
        StoreError::Invalid(m) | StoreError::Conflict(m) => Ok(say(&m, lang.code)),
        StoreError::NotFound { .. } => Ok(say(&ApiError::from(err).message, lang.code)),
        e => Err(e.into()),
    }
}

pub async fn add_post(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
    Form(form): Form<PostForm>,
) -> Result<Response, ApiError> {
    let grid = grid_in_scope(&s, &p, &id).await?;
    if !super::manages(&p, &grid.path) {
        return Err(unknown(Thing::Area, &id));
    }
    let added = match new_post(&s, &grid, &form).await {
        Ok(new) => team::add(&s.db, &grid.id, &new).await,
        Err(e) => Err(e),
    };
    match added {
        Ok(post) => {
            let target = Target("team_post", &post.id, &grid.path);
            audit::change(&s.db, (&p, &address), AuditAction::TeamAdd, target, None, &audited(&post)).await?;
            Ok(Redirect::to(&format!("/registry/areas/{}/team?saved=1", grid.id)).into_response())
        }
        Err(e) => {
            let message = said(e, lang)?;
            team_page(&s, &p, lang, &grid, StatusCode::UNPROCESSABLE_ENTITY, Some(message), false).await
        }
    }
}

/// The post and its grid, for one who keeps that grid's team.
async fn kept_post(s: &AppState, p: &Principal, id: &str) -> Result<(GridPost, Area), ApiError> {
    let post = match team::get(&s.db, id, Phones::Full).await {
        Ok(post) => post,
        Err(StoreError::NotFound { .. }) => return Err(unknown(Thing::TeamPost, id)),
        Err(e) => return Err(e.into()),
    };
    let grid = areas::get(&s.db, &post.grid_id).await?;
    if !super::manages(p, &grid.path) {
        return Err(unknown(Thing::TeamPost, id));
    }
    Ok((post, grid))
}

async fn edit_page(
    s: &AppState,
    p: &Principal,
    lang: Lang,
    (post, grid): (GridPost, Area),
    status: StatusCode,
    error: Option<String>,
) -> Result<Response, ApiError> {
    let names = grid_buildings(&s.db, &grid.id, lang).await?;
    let buildings: Vec<BuildingChoice> = names
        .iter()
        .map(|(id, label)| BuildingChoice {
            checked: post.building_ids.contains(id),
            id: id.clone(),
            label: label.clone(),
        })
        .collect();
    let account = match &post.account_id {
        Some(a) => wangge_store::security::accounts::get(&s.db, a).await.map(|a| a.username).unwrap_or_default(),
        None => String::new(),
    };
    let ctx = context! {
        grid => Value::from(Serde(&grid)), post => Value::from(Serde(&post)), account => account,
        post_label => label(post.post, lang), posts => post_choices(lang),
        buildings => Value::from(Serde(&buildings)), error => error, current => post.current(),
        ..frame(p, lang, "/registry"),
    };
    Ok(render(lang, status, "team/edit.html", ctx))
}

pub async fn edit_form(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let kept = kept_post(&s, &p, &id).await?;
    edit_page(&s, &p, lang, kept, StatusCode::OK, None).await
}

pub async fn save_post(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
    Form(form): Form<PostForm>,
) -> Result<Response, ApiError> {
    let (before, grid) = kept_post(&s, &p, &id).await?;
    let saved = match new_post(&s, &grid, &form).await {
        Ok(new) => team::update(&s.db, &id, &new).await,
        Err(e) => Err(e),
    };
    settle(&s, (&p, &address), lang, AuditAction::TeamUpdate, (before, grid), saved).await
}

/// Ends a post (the person leaves the team on the date given, today by default);
/// it stays in the team's history.
pub async fn end_post(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
    Form(form): Form<PostForm>,
) -> Result<Response, ApiError> {
    let (before, grid) = kept_post(&s, &p, &id).await?;
    let ended = team::end(&s.db, &id, field(&form, "ends_on").as_deref()).await;
    settle(&s, (&p, &address), lang, AuditAction::TeamEnd, (before, grid), ended).await
}

/// After a change to a kept post: audited with the post before and after, and back
/// to the team; refused, the post's edit page again with what was wrong.
async fn settle(
    s: &AppState,
    (p, address): (&Principal, &ClientAddress),
    lang: Lang,
    action: AuditAction,
    (before, grid): (GridPost, Area),
    changed: Result<GridPost, StoreError>,
) -> Result<Response, ApiError> {
    match changed {
        Ok(post) => {
            let target = Target("team_post", &post.id, &grid.path);
            audit::change(&s.db, (p, address), action, target, Some(&audited(&before)), &audited(&post)).await?;
            Ok(Redirect::to(&format!("/registry/areas/{}/team?saved=1", grid.id)).into_response())
        }
        Err(e) => {
            let message = said(e, lang)?;
            edit_page(s, p, lang, (before, grid), StatusCode::UNPROCESSABLE_ENTITY, Some(message)).await
        }
    }
}

/// This module's pages, each with who may open it (`crate::shared::routes`).
pub(crate) fn routes() -> crate::shared::routes::Routes {
    use crate::shared::auth::Access::*;
    use crate::shared::routes::Limit;
    use wangge_domain::Action::*;
    crate::shared::routes::Routes::new()
        .get("/registry/areas/{id}/team", Role(ViewAreas), roster_page)
        .post("/registry/areas/{id}/team", Role(ManageTeam), add_post)
        .get("/registry/areas/{id}/team/import", Role(ManageTeam), super::import::import_form)
        .post_limited("/registry/areas/{id}/team/import", Role(ManageTeam), Limit::Upload, super::import::import_upload)
        .get("/registry/team/{id}", Role(ManageTeam), edit_form)
        .post("/registry/team/{id}", Role(ManageTeam), save_post)
        .post("/registry/team/{id}/end", Role(ManageTeam), end_post)
        // The grid's public face: nothing private on it (team::public).
        .get("/g/{code}", Public, super::public::public_face)
        .get("/registry/areas/{id}/board", Role(ViewBuildings), super::public::board)
}
