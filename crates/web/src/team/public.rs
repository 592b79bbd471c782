//! The grid's public face (网格公示): a page per grid anyone may open without an
//! account (`/g/<grid code>`, linked from the buildings' posters) and the printable
//! A4 board (网格公示牌) the community puts up, with the same content and a QR code.
//!
//! What it shows is public by nature: the grid's name, its team's names, posts and
//! duties, the duty phones of those who agreed (with the date recorded,
//! `GridPost::public`), the community's hotline, and the Party members' cards
//! (亮身份) of those whose consent stands (`party::cards`). Never a private phone, a resident
//! record, an account, or a building's address. The report links need the board's
//! key (`?k=`, as the posters' links do), so that walking grid codes does not lead to
//! every building's report form.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::value::Serde;
use minijinja::{Value, context};
use serde::{Deserialize, Serialize};
use wangge_domain::{AreaLevel, Vocabulary};
use wangge_store::Thing;
use wangge_store::registry::areas::{self, Area};
use wangge_store::registry::buildings::{self, BuildingFilter};
use wangge_store::team::{self, Phones};
use wangge_store::{PageRequest, StoreError};

use crate::shared::auth::{Principal, unknown};
use crate::shared::render::{Lang, frame, label, render, tr};
use crate::{ApiError, AppState};

/// The key in the board's link: it opens the grid's report links.
pub(crate) fn board_key(s: &AppState, grid_id: &str) -> String {
    s.db.vault.blind("grid_board", grid_id).chars().take(16).collect()
}

/// A post as the public sees it.
#[derive(Serialize)]
pub(crate) struct PublicPost {
    post: &'static str,
    post_label: &'static str,
    name: String,
    duties: String,
    pub(crate) duty_phone: Option<String>,
}

#[derive(Serialize)]
struct ReportLink {
    title: String,
    url: String,
}

#[derive(Deserialize, Default)]
pub struct FaceQuery {
    k: Option<String>,
}

/// The grid's team as the public sees it, leader first.
pub(crate) async fn public_team(s: &AppState, grid: &Area, lang: Lang) -> Result<Vec<PublicPost>, ApiError> {
    let roster = team::roster(&s.db, &grid.id, Phones::Hidden, false).await?;
    Ok(roster
        .into_iter()
        .map(team::GridPost::public)
        .map(|p| PublicPost {
            post: p.post.code(),
            post_label: label(p.post, lang),
            name: p.person_name.unwrap_or_default(),
            duties: p.duties,
            duty_phone: p.duty_phone,
        })
        .collect())
}

async fn grid_by_code(s: &AppState, code: &str) -> Result<Area, ApiError> {
    match areas::get_by_code(&s.db, code).await {
        Ok(a) if a.level == AreaLevel::Grid => Ok(a),
        Ok(_) | Err(StoreError::NotFound { .. }) => Err(unknown(Thing::Area, code)),
        Err(e) => Err(e.into()),
    }
}

async fn community_of(s: &AppState, grid: &Area) -> Result<Option<Area>, ApiError> {
    match &grid.parent_id {
        Some(parent) => Ok(Some(areas::get(&s.db, parent).await?)),
        None => Ok(None),
    }
}

/// The grid's public page: no account needed.
pub async fn public_face(
    State(s): State<AppState>,
    lang: Lang,
    Path(code): Path<String>,
    Query(q): Query<FaceQuery>,
) -> Result<Response, ApiError> {
    let grid = grid_by_code(&s, &code).await?;
    let community = community_of(&s, &grid).await?;
    let settings = wangge_store::demands::routing::settings_at(&s.db, &grid.path).await?;
    let keyed = q.k.as_deref().is_some_and(|k| k == board_key(&s, &grid.id));
    let mut reports = Vec::new();
    if keyed {
        let filter = BuildingFilter { grid_id: Some(grid.id.clone()), ..Default::default() };
        let page = buildings::list(&s.db, &filter, PageRequest::new(Some(1), Some(PageRequest::MAX_PER_PAGE))).await?;
        for b in page.items {
            let key = crate::demands::pages::posters::poster_key(&s, &b.id);
            let title = tr("building.number", lang.code).replace("%{number}", &b.number);
            reports.push(ReportLink { title, url: format!("/report/{}?k={key}", b.id) });
        }
    }
    let team = public_team(&s, &grid, lang).await?;
    let cards = crate::party::cards::of_grid(&s, &grid, lang).await?;
    let projects = crate::party::projects::published(&s, &grid).await?;
    let notices = crate::notices::of_grid(&s, &grid).await?;
    let ctx = context! {
        notices => Value::from(Serde(&notices)),
        lang => lang.code, grid_name => grid.name, grid_code => grid.code,
        community_name => community.map(|c| c.name),
        team => Value::from(Serde(&team)), cards => Value::from(Serde(&cards)),
        projects => projects,
        hotline => settings.hotline, reports => Value::from(Serde(&reports)),
    };
    Ok(render(lang, StatusCode::OK, "team/public.html", ctx))
}

/// The printable A4 board (网格公示牌): the team, the hotline and the QR code of
/// the grid's public page with its report links.
pub async fn board(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    reached: crate::shared::site::Reached,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let grid = super::pages::grid_in_scope(&s, &p, &id).await?;
    let community = community_of(&s, &grid).await?;
    let settings = wangge_store::demands::routing::settings_at(&s.db, &grid.path).await?;
    let url = format!("{}/g/{}?k={}", reached.base, grid.code, board_key(&s, &grid.id));
    let svg = crate::demands::pages::posters::qr_svg(&url, 220)?;
    let ctx = context! {
        grid => Value::from(Serde(&grid)), community_name => community.map(|c| c.name),
        team => Value::from(Serde(&public_team(&s, &grid, lang).await?)),
        cards => Value::from(Serde(&crate::party::cards::of_grid(&s, &grid, lang).await?)),
        hotline => settings.hotline, url => url, svg => Value::from_safe_string(svg),
        ..frame(&p, lang, "/registry"),
    };
    Ok(render(lang, StatusCode::OK, "team/board.html", ctx))
}
