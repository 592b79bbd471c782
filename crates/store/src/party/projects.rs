//! The three lists (三张清单) of "one core, many parties": resources the units
//! offer (skills, spaces, funds), the community's needs (`service::Need`, from
//! demands, visits and its own plans, each with the field it is about) and the
//! projects that meet needs with resources. Matching goes both ways by one rule
//! (`wangge_domain::party_joint::fits`: the same field, overlapping places): a
//! need lists the resources that fit it, a resource the needs it fits. A project
//! is owned by a unit or someone named, has a deadline, moves planned → under way
//! → done (its result published) or dropped, and once done is rated by residents
//! (1–5 stars, chosen, once per account).

use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::any::AnyRow;
use time::Date;
use utoipa::ToSchema;
use wangge_domain::party_joint::{
    self as rules, ByState, Outcome, ProjectState, ProjectStep, ResourceKind, ServiceField,
};
use wangge_domain::{AreaLevel, Message, Vocabulary, format_date, msg, new_id, now_millis, parse_date};

use super::service::{self, Need};
use super::{bad, free, line, term};
use crate::registry::areas;
use crate::{Db, StoreError, StoreResult, Thing, subtree_bounds};

/// A resource of the community's list.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Resource {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub community_id: String,
    pub path: String,
    /// The grid's name, or the community's.
    pub area_name: String,
    #[schema(format = Uuid)]
    pub unit_id: Option<String>,
    /// The unit's name, or whoever offers it.
    pub offered_by: String,
    pub kind: ResourceKind,
    pub field: ServiceField,
    pub title: String,
    pub detail: String,
    /// Funds: the amount in fen.
    pub amount_fen: Option<i64>,
    pub withdrawn: bool,
    pub created_at: i64,
}

/// A resource to record.
#[derive(Clone, Debug, Deserialize, ToSchema)]
pub struct NewResource {
    /// The community or one of its grids.
    #[schema(format = Uuid)]
    pub area_id: String,
    /// The unit offering it; none: `offered_by` names who.
    #[serde(default)]
    #[schema(format = Uuid)]
    pub unit_id: Option<String>,
    #[serde(default)]
    pub offered_by: String,
    pub kind: ResourceKind,
    pub field: ServiceField,
    pub title: String,
    #[serde(default)]
    pub detail: String,
    #[serde(default)]
    pub amount_fen: Option<i64>,
}

const RESOURCE: &str = "SELECT r.id, r.community_id, r.path, a.name AS area_name, r.unit_id, r.offered_by, r.kind,
        r.field, r.title, r.detail, r.amount_fen, r.withdrawn_at, r.created_at
     FROM party_resources r JOIN areas a ON a.path = r.path";

fn resource_from(r: &AnyRow) -> StoreResult<Resource> {
    let withdrawn: Option<i64> = r.try_get("withdrawn_at")?;
    Ok(Resource {
        id: r.try_get("id")?,
        community_id: r.try_get("community_id")?,
        path: r.try_get("path")?,
        area_name: r.try_get("area_name")?,
        unit_id: r.try_get("unit_id")?,
        offered_by: r.try_get("offered_by")?,
        kind: term(r, "kind")?,
        field: term(r, "field")?,
        title: r.try_get("title")?,
        detail: r.try_get("detail")?,
        amount_fen: r.try_get("amount_fen")?,
        withdrawn: withdrawn.is_some(),
        created_at: r.try_get("created_at")?,
    })
}

/// The community of an area that is a community or a grid, else refused.
async fn placed(db: &Db, area_id: &str) -> StoreResult<(areas::Area, areas::Area)> {
    let area = areas::get(db, area_id).await?;
    if !matches!(area.level, AreaLevel::Community | AreaLevel::Grid) {
        return Err(bad(msg!("party.joint.error.community").field("area_id")));
    }
    let community = super::community_of(db, &area).await?;
    Ok((area, community))
}

/// Records a resource: offered by a unit of the community, or by someone named.
pub async fn add_resource(db: &Db, new: NewResource, by: &str) -> StoreResult<Resource> {
    let (area, community) = placed(db, &new.area_id).await?;
    let title = line(&new.title, "title", 80)?;
    let detail = free(&new.detail, "detail", 2000)?;
    let (unit_id, offered_by) = match new.unit_id.as_deref().filter(|u| !u.is_empty()) {
        Some(u) => {
            let unit = super::unit(db, u).await?;
            if unit.community_id != community.id {
                return Err(StoreError::not_found(Thing::PartyUnit, u));
            }
            (Some(unit.id), unit.name)
        }
        None => (None, line(&new.offered_by, "offered_by", 80)?),
    };
    let amount = match (new.kind, new.amount_fen) {
        (ResourceKind::Fund, Some(fen)) if fen > 0 => Some(fen),
        (ResourceKind::Fund, _) => return Err(bad(msg!("party.joint.error.amount").field("amount"))),
        _ => None,
    };
    let id = new_id();
    sqlx::query(
        "INSERT INTO party_resources (id, community_id, path, unit_id, offered_by, kind, field, title, detail,
             amount_fen, created_by_name, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(&id)
    .bind(&community.id)
    .bind(&area.path)
    .bind(&unit_id)
    .bind(&offered_by)
    .bind(new.kind.code())
    .bind(new.field.code())
    .bind(&title)
    .bind(&detail)
    .bind(amount)
    .bind(by)
    .bind(now_millis())
    .execute(&db.pool)
    .await?;
    resource(db, &id).await
}

/// One resource.
pub async fn resource(db: &Db, id: &str) -> StoreResult<Resource> {
    let sql = format!("{RESOURCE} WHERE r.id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&db.pool).await?;
    resource_from(&row.ok_or_else(|| StoreError::not_found(Thing::PartyResource, id))?)
}

/// Withdraws a resource (the unit no longer offers it): it fits no need from now
/// on; the projects that used it keep it.
pub async fn withdraw_resource(db: &Db, id: &str) -> StoreResult<Resource> {
    sqlx::query("UPDATE party_resources SET withdrawn_at = $1 WHERE id = $2 AND withdrawn_at IS NULL")
        .bind(now_millis())
        .bind(id)
        .execute(&db.pool)
        .await?;
    resource(db, id).await
}

/// The resources that concern the area at `path` — under it, and its community's
/// own — withdrawn ones last.
pub async fn resources_under(db: &Db, path: &str) -> StoreResult<Vec<Resource>> {
    let (lo, hi) = subtree_bounds(path);
    let sql = format!(
        "{RESOURCE} WHERE (r.path >= $1 AND r.path < $2) OR $3 LIKE r.path || '%'
         ORDER BY (CASE WHEN r.withdrawn_at IS NULL THEN 0 ELSE 1 END), r.field, r.title, r.id LIMIT 1000"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(&lo).bind(&hi).bind(path).fetch_all(&db.pool).await?;
    rows.iter().map(resource_from).collect()
}

/// The resources of its community that fit a need (none when the need's field is
/// not said).
pub async fn resources_for(db: &Db, need: &Need) -> StoreResult<Vec<Resource>> {
    let Some(field) = need.field else { return Ok(Vec::new()) };
    let community = areas::get(db, &need.community_id).await?;
    Ok(resources_under(db, &community.path)
        .await?
        .into_iter()
        .filter(|r| !r.withdrawn && rules::fits(r.field, &r.path, field, &need.path))
        .collect())
}

/// The needs of its community from `from` on that a resource fits.
pub async fn needs_for(db: &Db, resource: &Resource, from: Date) -> StoreResult<Vec<Need>> {
    if resource.withdrawn {
        return Ok(Vec::new());
    }
    let community = areas::get(db, &resource.community_id).await?;
    Ok(service::needs_under(db, &community.path, from)
        .await?
        .into_iter()
        .filter(|n| n.field.is_some_and(|f| rules::fits(resource.field, &resource.path, f, &n.path)))
        .collect())
}

/// A project with its needs, resources and the residents' ratings.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Project {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub community_id: String,
    pub path: String,
    /// The grid's name, or the community's.
    pub area_name: String,
    /// The resolution it came from, and its meeting.
    #[schema(format = Uuid)]
    pub resolution_id: Option<String>,
    #[schema(format = Uuid)]
    pub meeting_id: Option<String>,
    pub title: String,
    pub detail: String,
    pub field: ServiceField,
    #[schema(format = Uuid)]
    pub owner_unit_id: Option<String>,
    pub owner_name: String,
    #[schema(format = Date)]
    pub deadline: String,
    pub state: ProjectState,
    /// What was done, published when done.
    pub result: Option<String>,
    /// Why it was dropped.
    pub reason: Option<String>,
    pub started_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub created_by_name: String,
    pub created_at: i64,
    /// How many residents rated it and their stars added up.
    pub ratings: i64,
    pub stars: i64,
    /// The needs it meets and the resources it uses: id and title.
    pub needs: Vec<(String, String)>,
    pub resources: Vec<(String, String)>,
}

impl Project {
    /// Planned or under way past its deadline, on `today` (China).
    pub fn overdue(&self, today: Date) -> bool {
        matches!(self.state, ProjectState::Planned | ProjectState::Doing)
            && parse_date(&self.deadline).is_some_and(|d| d < today)
    }

    /// The residents' mean rating, to one decimal; none before anyone rated.
    pub fn mean(&self) -> Option<f64> {
        rules::mean_rating(self.stars, self.ratings)
    }
}

/// A project to start.
#[derive(Clone, Debug, Deserialize, ToSchema)]
pub struct NewProject {
    /// The community or one of its grids.
    #[schema(format = Uuid)]
    pub area_id: String,
    pub title: String,
    #[serde(default)]
    pub detail: String,
    pub field: ServiceField,
    /// The unit owning it; none: `owner_name` names who.
    #[serde(default)]
    #[schema(format = Uuid)]
    pub owner_unit_id: Option<String>,
    #[serde(default)]
    pub owner_name: String,
    #[schema(format = Date)]
    pub deadline: String,
}

const PROJECT: &str = "SELECT p.id, p.community_id, p.path, a.name AS area_name, p.resolution_id,
        r.meeting_id, p.title, p.detail, p.field, p.owner_unit_id, p.owner_name, p.deadline, p.state, p.result,
        p.reason, p.started_at, p.ended_at, p.created_by_name, p.created_at,
        (SELECT count(*) FROM party_project_ratings g WHERE g.project_id = p.id) AS ratings,
        (SELECT COALESCE(SUM(g.stars), 0) FROM party_project_ratings g WHERE g.project_id = p.id) AS stars
     FROM party_projects p JOIN areas a ON a.path = p.path
     LEFT JOIN party_resolutions r ON r.id = p.resolution_id";

fn project_from(r: &AnyRow) -> StoreResult<Project> {
    Ok(Project {
        id: r.try_get("id")?,
        community_id: r.try_get("community_id")?,
        path: r.try_get("path")?,
        area_name: r.try_get("area_name")?,
        resolution_id: r.try_get("resolution_id")?,
        meeting_id: r.try_get("meeting_id")?,
        title: r.try_get("title")?,
        detail: r.try_get("detail")?,
        field: term(r, "field")?,
        owner_unit_id: r.try_get("owner_unit_id")?,
        owner_name: r.try_get("owner_name")?,
        deadline: r.try_get("deadline")?,
        state: term(r, "state")?,
        result: r.try_get("result")?,
        reason: r.try_get("reason")?,
        started_at: r.try_get("started_at")?,
        ended_at: r.try_get("ended_at")?,
        created_by_name: r.try_get("created_by_name")?,
        created_at: r.try_get("created_at")?,
        ratings: r.try_get("ratings")?,
        stars: r.try_get("stars")?,
        needs: Vec::new(),
        resources: Vec::new(),
    })
}

async fn with_links(db: &Db, mut p: Project) -> StoreResult<Project> {
    p.needs = sqlx::query_as(
        "SELECT n.id, n.title FROM party_project_needs l JOIN party_needs n ON n.id = l.need_id
         WHERE l.project_id = $1 ORDER BY n.needed_on, n.id",
    )
    .bind(&p.id)
    .fetch_all(&db.pool)
    .await?;
    p.resources = sqlx::query_as(
        "SELECT r.id, r.title FROM party_project_resources l JOIN party_resources r ON r.id = l.resource_id
         WHERE l.project_id = $1 ORDER BY r.title, r.id",
    )
    .bind(&p.id)
    .fetch_all(&db.pool)
    .await?;
    Ok(p)
}

/// One project with its needs and resources.
pub async fn project(db: &Db, id: &str) -> StoreResult<Project> {
    let sql = format!("{PROJECT} WHERE p.id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&db.pool).await?;
    with_links(db, project_from(&row.ok_or_else(|| StoreError::not_found(Thing::PartyProject, id))?)?).await
}

/// The projects that concern the area at `path` (under it, and its community's
/// own), newest first, at most `limit`; only `state`'s when given.
pub async fn projects_under(db: &Db, path: &str, state: Option<ProjectState>, limit: i64) -> StoreResult<Vec<Project>> {
    let (lo, hi) = subtree_bounds(path);
    let sql = format!(
        "{PROJECT} WHERE ((p.path >= $1 AND p.path < $2) OR $3 LIKE p.path || '%') AND ($4 = '' OR p.state = $4)
         ORDER BY p.created_at DESC, p.id LIMIT $5"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(&lo)
        .bind(&hi)
        .bind(path)
        .bind(state.map_or("", |s| s.code()))
        .bind(limit)
        .fetch_all(&db.pool)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        out.push(with_links(db, project_from(r)?).await?);
    }
    Ok(out)
}

/// Checks a new project and answers its place, community, owner and deadline.
async fn checked(
    db: &Db,
    new: &NewProject,
    today: Date,
) -> StoreResult<(areas::Area, areas::Area, Option<String>, String, Date)> {
    let (area, community) = placed(db, &new.area_id).await?;
    let (owner_unit, owner_name) = match new.owner_unit_id.as_deref().filter(|u| !u.is_empty()) {
        Some(u) => {
            let unit = super::unit(db, u).await?;
            if unit.community_id != community.id {
                return Err(StoreError::not_found(Thing::PartyUnit, u));
            }
            (Some(unit.id), unit.name)
        }
        None => (None, line(&new.owner_name, "owner_name", 80)?),
    };
    let deadline = parse_date(&new.deadline)
        .ok_or_else(|| bad(msg!("party.error.date", value = &new.deadline).field("deadline")))?;
    if deadline < today {
        return Err(bad(msg!("party.joint.error.deadline_past").field("deadline")));
    }
    Ok((area, community, owner_unit, owner_name, deadline))
}

async fn insert(
    conn: &mut sqlx::AnyConnection,
    new: &NewProject,
    resolution_id: Option<&str>,
    by: &str,
    parts: (areas::Area, areas::Area, Option<String>, String, Date),
) -> StoreResult<String> {
    let (area, community, owner_unit, owner_name, deadline) = parts;
    let title = line(&new.title, "title", 80)?;
    let detail = free(&new.detail, "detail", 2000)?;
    let id = new_id();
    let now = now_millis();
    sqlx::query(
        "INSERT INTO party_projects (id, community_id, path, resolution_id, title, detail, field, owner_unit_id,
             owner_name, deadline, state, created_by_name, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)",
    )
    .bind(&id)
    .bind(&community.id)
    .bind(&area.path)
    .bind(resolution_id)
    .bind(&title)
    .bind(&detail)
    .bind(new.field.code())
    .bind(&owner_unit)
    .bind(&owner_name)
    .bind(format_date(deadline))
    .bind(ProjectState::Planned.code())
    .bind(by)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(id)
}

/// Starts a project of its own (not from a joint meeting).
pub async fn add_project(db: &Db, new: NewProject, by: &str, today: Date) -> StoreResult<Project> {
    let parts = checked(db, &new, today).await?;
    let mut conn = db.pool.acquire().await?;
    let id = insert(&mut conn, &new, None, by, parts).await?;
    drop(conn);
    project(db, &id).await
}

/// Turns a resolution into a project, in one transaction with the resolution's
/// outcome; the project lies in the resolution's community.
pub async fn from_resolution(
    db: &Db,
    resolution_id: &str,
    new: NewProject,
    by: &str,
    today: Date,
) -> StoreResult<Project> {
    let r = super::joint::resolution(db, resolution_id).await?;
    super::joint::still_noted(&r)?;
    let parts = checked(db, &new, today).await?;
    if parts.1.path != r.path {
        return Err(StoreError::not_found(Thing::Area, &new.area_id));
    }
    let mut tx = db.pool.begin().await?;
    let changed = sqlx::query("UPDATE party_resolutions SET outcome = $1 WHERE id = $2 AND outcome = $3")
        .bind(Outcome::Project.code())
        .bind(&r.id)
        .bind(Outcome::Noted.code())
        .execute(&mut *tx)
        .await?;
    if changed.rows_affected() == 0 {
        return Err(StoreError::Conflict(msg!("party.joint.error.decided_now")));
    }
    let id = insert(&mut tx, &new, Some(&r.id), by, parts).await?;
    tx.commit().await?;
    project(db, &id).await
}

/// Links a need (of the project's community) to a project, or a resource; a
/// link made already is kept as it is. A withdrawn resource is not linked anew.
pub async fn link(db: &Db, project_id: &str, need_id: Option<&str>, resource_id: Option<&str>) -> StoreResult<Project> {
    let p = project(db, project_id).await?;
    if matches!(p.state, ProjectState::Done | ProjectState::Dropped) {
        return Err(StoreError::Conflict(Message::new("party.joint.error.final").term("state", p.state)));
    }
    if let Some(n) = need_id {
        let need = service::need(db, n).await?;
        if need.community_id != p.community_id {
            return Err(StoreError::not_found(Thing::PartyNeed, n));
        }
        if !p.needs.iter().any(|(id, _)| id == n) {
            sqlx::query("INSERT INTO party_project_needs (project_id, need_id) VALUES ($1, $2)")
                .bind(&p.id)
                .bind(n)
                .execute(&db.pool)
                .await?;
        }
    }
    if let Some(r) = resource_id {
        let res = resource(db, r).await?;
        if res.community_id != p.community_id {
            return Err(StoreError::not_found(Thing::PartyResource, r));
        }
        if !p.resources.iter().any(|(id, _)| id == r) {
            if res.withdrawn {
                return Err(bad(msg!("party.joint.error.withdrawn", title = &res.title).field("resource_id")));
            }
            sqlx::query("INSERT INTO party_project_resources (project_id, resource_id) VALUES ($1, $2)")
                .bind(&p.id)
                .bind(r)
                .execute(&db.pool)
                .await?;
        }
    }
    project(db, project_id).await
}

/// Moves a project on: finishing needs its result (published), dropping its
/// reason.
pub async fn step(db: &Db, project_id: &str, step: ProjectStep, text: &str) -> StoreResult<Project> {
    let p = project(db, project_id).await?;
    let next = rules::project_next(p.state, step).map_err(StoreError::Conflict)?;
    let text = free(text, "text", 2000)?;
    let now = now_millis();
    let sql = match step {
        ProjectStep::Start => {
            "UPDATE party_projects SET state = $1, started_at = $2, updated_at = $2
                               WHERE id = $3 AND state = $4"
        }
        ProjectStep::Finish => {
            if text.is_empty() {
                return Err(bad(msg!("party.joint.error.result").field("text")));
            }
            "UPDATE party_projects SET state = $1, ended_at = $2, updated_at = $2, result = $5,
                    started_at = COALESCE(started_at, $2) WHERE id = $3 AND state = $4"
        }
        ProjectStep::Drop => {
            if text.is_empty() {
                return Err(bad(msg!("party.joint.error.reason").field("text")));
            }
            "UPDATE party_projects SET state = $1, ended_at = $2, updated_at = $2, reason = $5
             WHERE id = $3 AND state = $4"
        }
    };
    let done = sqlx::query(sql)
        .bind(next.code())
        .bind(now)
        .bind(&p.id)
        .bind(p.state.code())
        .bind(&text)
        .execute(&db.pool)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::Conflict(msg!("party.joint.error.decided_now")));
    }
    project(db, project_id).await
}

/// A resident rates a finished project: 1–5 stars, once per account; answers
/// the project with its new mean.
pub async fn rate(
    db: &Db,
    project_id: &str,
    account_id: &str,
    stars: Option<i64>,
    comment: &str,
) -> StoreResult<Project> {
    let p = project(db, project_id).await?;
    if p.state != ProjectState::Done {
        return Err(StoreError::Conflict(msg!("party.joint.error.not_done")));
    }
    let stars = rules::stars(stars).map_err(|m| bad(m.field("stars")))?;
    let comment = free(comment, "comment", 200)?;
    let already: Option<i64> =
        sqlx::query_scalar("SELECT stars FROM party_project_ratings WHERE project_id = $1 AND account_id = $2")
            .bind(&p.id)
            .bind(account_id)
            .fetch_optional(&db.pool)
            .await?;
    if already.is_some() {
        return Err(StoreError::Conflict(msg!("party.joint.error.rated")));
    }
    sqlx::query(
        "INSERT INTO party_project_ratings (project_id, account_id, stars, comment, created_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&p.id)
    .bind(account_id)
    .bind(stars)
    .bind(&comment)
    .bind(now_millis())
    .execute(&db.pool)
    .await?;
    project(db, project_id).await
}

/// The stars an account gave a project, if it did.
pub async fn rated_by(db: &Db, project_id: &str, account_id: &str) -> StoreResult<Option<i64>> {
    Ok(sqlx::query_scalar("SELECT stars FROM party_project_ratings WHERE project_id = $1 AND account_id = $2")
        .bind(project_id)
        .bind(account_id)
        .fetch_optional(&db.pool)
        .await?)
}

/// The residents' comments on a project, newest first (no names: they are public).
pub async fn comments(db: &Db, project_id: &str) -> StoreResult<Vec<(i64, String)>> {
    Ok(sqlx::query_as(
        "SELECT stars, comment FROM party_project_ratings WHERE project_id = $1 AND comment <> ''
         ORDER BY created_at DESC LIMIT 50",
    )
    .bind(project_id)
    .fetch_all(&db.pool)
    .await?)
}

/// The projects under `path` by state, and those overdue on `today` — for the
/// cockpit (projects are few: a community starts a handful a year).
pub async fn by_state(db: &Db, path: &str, today: Date) -> StoreResult<ByState> {
    let (lo, hi) = subtree_bounds(path);
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT state, deadline FROM party_projects WHERE path >= $1 AND path < $2")
            .bind(&lo)
            .bind(&hi)
            .fetch_all(&db.pool)
            .await?;
    let mut out = ByState::default();
    let today = format_date(today);
    for (state, deadline) in rows {
        let open = match ProjectState::from_code(&state) {
            Some(ProjectState::Planned) => {
                out.planned += 1;
                true
            }
            Some(ProjectState::Doing) => {
                out.doing += 1;
                true
            }
            Some(ProjectState::Done) => {
                out.done += 1;
                false
            }
            Some(ProjectState::Dropped) => {
                out.dropped += 1;
                false
            }
            None => false,
        };
        if open && deadline < today {
            out.overdue += 1;
        }
    }
    Ok(out)
}
