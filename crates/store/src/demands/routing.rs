//! Who an item goes to without typing: a category's default route (category ×
//! level → a post of the grid's team or a kind of unit) and, per community,
//! automatic dispatch of residents' reports to the building's grid member.
//!
//! Categories are shared by every community, so a route names a post
//! ([`TeamPost`]) or a unit role ([`UnitRole`]), never one community's person: the
//! item's place decides who holds that post or role there ([`resolve`]).

use sqlx::Row;
use wangge_domain::{
    AreaLevel, DemandKind, DemandStatus, HandlerKind, Level, Role, Step, TeamPost, UnitRole, Vocabulary, msg,
    now_millis,
};

use super::{Actor, Demand, StepInput, StepTaken, take_step};
use crate::registry::areas;
use crate::{Db, StoreError, StoreResult, team, units};

/// Where a category's items go by default.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    /// The holder of this post looking after the item's building, else in its grid.
    Post(TeamPost),
    /// The nearest unit holding this role over the item's place.
    Unit(UnitRole),
}

impl Route {
    /// `post:member`, `unit:property_company`: how it is stored and sent by forms.
    pub fn code(self) -> String {
        match self {
            Route::Post(p) => format!("post:{}", p.code()),
            Route::Unit(u) => format!("unit:{}", u.code()),
        }
    }

    pub fn parse(code: &str) -> Option<Route> {
        let (kind, value) = code.trim().split_once(':')?;
        match kind {
            "post" => TeamPost::from_code(value).map(Route::Post),
            "unit" => UnitRole::from_code(value).map(Route::Unit),
            _ => None,
        }
    }

    /// Every route a category may have, posts first.
    pub fn all() -> Vec<Route> {
        let posts = [TeamPost::Leader, TeamPost::Member, TeamPost::BuildingHead, TeamPost::Property];
        let unit_roles = [UnitRole::HandlerDepartment, UnitRole::PropertyCompany];
        posts.into_iter().map(Route::Post).chain(unit_roles.into_iter().map(Route::Unit)).collect()
    }
}

/// A category's default route at `level`, if it has one.
pub async fn route(db: &Db, category: &str, level: Level) -> StoreResult<Option<Route>> {
    let target: Option<String> =
        sqlx::query_scalar("SELECT target FROM category_routes WHERE category = $1 AND level = $2")
            .bind(category)
            .bind(level.code())
            .fetch_optional(&db.pool)
            .await?;
    Ok(target.as_deref().and_then(Route::parse))
}

/// Every default route: (category, level, route).
pub async fn routes(db: &Db) -> StoreResult<Vec<(String, Level, Route)>> {
    let rows = sqlx::query("SELECT category, level, target FROM category_routes ORDER BY category, level")
        .fetch_all(&db.pool)
        .await?;
    let mut out = Vec::new();
    for r in &rows {
        let (category, level, target): (String, String, String) =
            (r.try_get("category")?, r.try_get("level")?, r.try_get("target")?);
        if let (Some(level), Some(route)) = (Level::from_code(&level), Route::parse(&target)) {
            out.push((category, level, route));
        }
    }
    Ok(out)
}

/// Sets (or with `None` removes) a category's default route at `level`.
pub async fn set_route(db: &Db, category: &str, level: Level, route: Option<Route>) -> StoreResult<()> {
    super::category(db, category).await?;
    sqlx::query("DELETE FROM category_routes WHERE category = $1 AND level = $2")
        .bind(category)
        .bind(level.code())
        .execute(&db.pool)
        .await?;
    if let Some(route) = route {
        sqlx::query("INSERT INTO category_routes (category, level, target, updated_at) VALUES ($1, $2, $3, $4)")
            .bind(category)
            .bind(level.code())
            .bind(route.code())
            .bind(now_millis())
            .execute(&db.pool)
            .await?;
    }
    Ok(())
}

/// The community over `path` (a place's path), if there is one.
async fn community_of(db: &Db, path: &str) -> StoreResult<Option<areas::Area>> {
    let codes: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();
    if codes.len() < 4 {
        return Ok(None);
    }
    let community_path = format!("/{}/", codes[..4].join("/"));
    match areas::get_by_path(db, &community_path).await {
        Ok(a) if a.level == AreaLevel::Community => Ok(Some(a)),
        Ok(_) | Err(StoreError::NotFound { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// A community's settings for its grids' work: automatic dispatch and the hotline.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct CommunitySettings {
    /// Residents' reports go straight to the building's grid member (or the
    /// category's default route).
    pub auto_dispatch: bool,
    /// The community's hotline, printed on the grids' public face.
    pub hotline: Option<String>,
}

/// The settings of the community over `path`; defaults outside any community.
pub async fn settings_at(db: &Db, path: &str) -> StoreResult<CommunitySettings> {
    let Some(community) = community_of(db, path).await? else { return Ok(CommunitySettings::default()) };
    let row = sqlx::query("SELECT auto_dispatch, hotline FROM areas WHERE id = $1")
        .bind(&community.id)
        .fetch_one(&db.pool)
        .await?;
    Ok(CommunitySettings {
        auto_dispatch: row.try_get::<i16, _>("auto_dispatch")? != 0,
        hotline: row.try_get("hotline")?,
    })
}

/// Sets a community's settings.
pub async fn set_settings(db: &Db, community_id: &str, settings: &CommunitySettings) -> StoreResult<()> {
    let area = areas::get(db, community_id).await?;
    if area.level != AreaLevel::Community {
        return Err(StoreError::Invalid(msg!("demands.error.settings_community").field("area")));
    }
    let hotline = settings.hotline.as_deref().map(wangge_domain::text::normalize).filter(|h| !h.is_empty());
    if let Some(h) = &hotline
        && (h.chars().count() > 20 || !h.chars().all(|c| c.is_ascii_digit() || c == '-' || c == ' '))
    {
        return Err(StoreError::Invalid(msg!("team.error.hotline", value = h).field("hotline")));
    }
    sqlx::query("UPDATE areas SET auto_dispatch = $1, hotline = $2 WHERE id = $3")
        .bind(i16::from(settings.auto_dispatch))
        .bind(hotline)
        .bind(community_id)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Someone an item can go to: an account (a team post's holder) or a unit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The account's or the unit's id: the item's `handler_id`.
    pub id: String,
    pub kind: HandlerKind,
    pub name: String,
}

/// Who holds `route` for the item `d`: for a post, the holder with an account
/// looking after its building, else the first in its grid; for a unit role, the
/// nearest unit serving its place.
pub async fn resolve(db: &Db, d: &Demand, route: Route) -> StoreResult<Option<Target>> {
    match route {
        Route::Post(post) => {
            if let Some(building) = &d.building_id
                && let Some(p) = team::looking_after(db, building, post).await?
                && let (Some(account), Some(name)) = (p.account_id, p.person_name)
            {
                return Ok(Some(Target { id: account, kind: HandlerKind::GridMember, name }));
            }
            let grid = match areas::get_by_path(db, &d.path).await {
                Ok(g) if g.level == AreaLevel::Grid => g,
                Ok(_) | Err(StoreError::NotFound { .. }) => return Ok(None),
                Err(e) => return Err(e),
            };
            let roster = team::roster(db, &grid.id, team::Phones::Hidden, false).await?;
            Ok(roster
                .into_iter()
                .filter(|p| p.post == post)
                .find_map(|p| Some(Target { id: p.account_id?, kind: HandlerKind::GridMember, name: p.person_name? })))
        }
        Route::Unit(role) => {
            let kind = match role {
                UnitRole::PropertyCompany => HandlerKind::PropertyCompany,
                UnitRole::HandlerDepartment => HandlerKind::CommunityDepartment,
                _ => HandlerKind::Organisation,
            };
            let unit = units::serving(db, role, &d.path).await?.into_iter().next();
            Ok(unit.map(|u| Target { id: u.organisation.id, kind, name: u.organisation.name }))
        }
    }
}

/// The name automatic steps are recorded under in the timeline.
pub const AUTOMATIC: &str = "自动派遣";

/// Dispatches a resident's new report at once when its community says so: to the
/// category's default route if it names someone there, else to the grid member
/// looking after its building. Recorded in the timeline as automatic (受理 and 派遣
/// by [`AUTOMATIC`]). `None` when nothing was done: the setting is off, the item
/// is a consultation, merged, or nobody with an account looks after the building.
pub async fn auto_dispatch(db: &Db, d: &Demand) -> StoreResult<Option<(StepTaken, Target)>> {
    if d.status != DemandStatus::Submitted || d.kind == DemandKind::Consultation || d.building_id.is_none() {
        return Ok(None);
    }
    if !settings_at(db, &d.path).await?.auto_dispatch {
        return Ok(None);
    }
    let mut target = None;
    if let Some(r) = route(db, &d.category, d.level).await? {
        target = resolve(db, d, r).await?;
    }
    if target.is_none() {
        target = resolve(db, d, Route::Post(TeamPost::Member)).await?;
    }
    let Some(target) = target else { return Ok(None) };
    let by = Actor { id: None, name: AUTOMATIC.into(), role: Role::CommunitySecretary };
    let accept = StepInput { note: "自动受理".into(), ..Default::default() };
    take_step(db, &d.id, Step::Accept, &by, accept).await?;
    let input = StepInput {
        note: "自动派遣".into(),
        handler_kind: Some(target.kind),
        handler_id: Some(target.id.clone()),
        handler_name: Some(target.name.clone()),
        ..Default::default()
    };
    let taken = take_step(db, &d.id, Step::Dispatch, &by, input).await?;
    Ok(Some((taken, target)))
}

/// Who dispatched the item last (the account id of its latest dispatch), if a
/// person did.
pub async fn dispatcher(db: &Db, demand_id: &str) -> StoreResult<Option<String>> {
    let actor: Option<Option<String>> = sqlx::query_scalar(
        "SELECT actor_id FROM demand_events WHERE demand_id = $1 AND step = $2 ORDER BY at DESC, id DESC LIMIT 1",
    )
    .bind(demand_id)
    .bind(Step::Dispatch.code())
    .fetch_optional(&db.pool)
    .await?;
    Ok(actor.flatten())
}
