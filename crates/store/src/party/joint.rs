//! Joint meetings (联席会议) of a community's Party organisation with the units in
//! its area: when and where, which units took part (and anyone else, in words),
//! the minutes, and each topic with what was resolved. A resolution is noted, or
//! becomes a project of the three lists (`projects::from_resolution`, in one
//! transaction with the resolution's outcome) or an instruction sent down to the
//! grids (`instructions::send`, then [`mark_instruction`]).

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;
use utoipa::ToSchema;
use wangge_domain::party_joint::Outcome;
use wangge_domain::{Vocabulary, msg, new_id, now_millis};

use super::{bad, free, line, term};
use crate::registry::areas;
use crate::{Db, StoreError, StoreResult, Thing, subtree_bounds};

/// Most topics a meeting records.
pub const MAX_TOPICS: usize = 10;

/// A joint meeting with its units and resolutions.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct JointMeeting {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub community_id: String,
    pub community_name: String,
    pub path: String,
    /// Unix ms.
    pub held_at: i64,
    pub place: String,
    pub title: String,
    /// Who else took part, in words.
    pub others: String,
    pub minutes: String,
    pub recorded_by_name: String,
    /// The units that took part: id and name.
    pub units: Vec<(String, String)>,
    pub resolutions: Vec<Resolution>,
}

/// A topic of a joint meeting and what was resolved on it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Resolution {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub meeting_id: String,
    pub path: String,
    /// 1, 2, … in the meeting's order.
    pub position: i64,
    pub topic: String,
    pub decision: String,
    pub outcome: Outcome,
    /// The project it became.
    #[schema(format = Uuid)]
    pub project_id: Option<String>,
    /// The instruction it became.
    #[schema(format = Uuid)]
    pub instruction_id: Option<String>,
}

/// A joint meeting to record.
#[derive(Clone, Debug, Default)]
pub struct NewJointMeeting {
    pub community_id: String,
    pub held_at: i64,
    pub place: String,
    pub title: String,
    pub others: String,
    pub minutes: String,
    pub unit_ids: Vec<String>,
    /// Topic and decision, in order; a row with neither is skipped.
    pub topics: Vec<(String, String)>,
}

const MEETING: &str = "SELECT m.id, m.community_id, a.name AS community_name, m.path, m.held_at, m.place, m.title,
        m.others, m.minutes, m.recorded_by_name
     FROM party_joint_meetings m JOIN areas a ON a.id = m.community_id";

fn meeting_from(r: &AnyRow) -> StoreResult<JointMeeting> {
    Ok(JointMeeting {
        id: r.try_get("id")?,
        community_id: r.try_get("community_id")?,
        community_name: r.try_get("community_name")?,
        path: r.try_get("path")?,
        held_at: r.try_get("held_at")?,
        place: r.try_get("place")?,
        title: r.try_get("title")?,
        others: r.try_get("others")?,
        minutes: r.try_get("minutes")?,
        recorded_by_name: r.try_get("recorded_by_name")?,
        units: Vec::new(),
        resolutions: Vec::new(),
    })
}

const RESOLUTION: &str = "SELECT r.id, r.meeting_id, r.path, r.position, r.topic, r.decision, r.outcome,
        r.instruction_id, p.id AS project_id
     FROM party_resolutions r LEFT JOIN party_projects p ON p.resolution_id = r.id";

fn resolution_from(r: &AnyRow) -> StoreResult<Resolution> {
    Ok(Resolution {
        id: r.try_get("id")?,
        meeting_id: r.try_get("meeting_id")?,
        path: r.try_get("path")?,
        position: r.try_get("position")?,
        topic: r.try_get("topic")?,
        decision: r.try_get("decision")?,
        outcome: term(r, "outcome")?,
        project_id: r.try_get("project_id")?,
        instruction_id: r.try_get("instruction_id")?,
    })
}

/// Records a joint meeting of a community: held already (not after `now`), with
/// at least one unit of the community and at least one topic with its decision,
/// in one transaction.
pub async fn record(db: &Db, new: NewJointMeeting, by: &str, now: i64) -> StoreResult<JointMeeting> {
    let community = areas::get(db, &new.community_id).await?;
    if community.level != wangge_domain::AreaLevel::Community {
        return Err(bad(msg!("party.joint.error.community").field("area")));
    }
    if new.held_at > now {
        return Err(bad(msg!("party.life.error.future").field("held_at")));
    }
    let place = line(&new.place, "place", 100)?;
    let title = line(&new.title, "title", 100)?;
    let others = free(&new.others, "others", 500)?;
    let minutes = free(&new.minutes, "minutes", 10_000)?;
    let mut units = new.unit_ids.clone();
    units.sort();
    units.dedup();
    if units.is_empty() {
        return Err(bad(msg!("party.joint.error.no_unit").field("units")));
    }
    for u in &units {
        let unit = super::unit(db, u).await?;
        if unit.community_id != community.id {
            return Err(StoreError::not_found(Thing::PartyUnit, u));
        }
    }
    let mut topics = Vec::new();
    for (i, (topic, decision)) in new.topics.iter().enumerate() {
        if topic.trim().is_empty() && decision.trim().is_empty() {
            continue;
        }
        let n = i + 1;
        let topic =
            line(topic, "topics", 200).map_err(|_| bad(msg!("party.joint.error.topic", n = n).field("topics")))?;
        let decision = line(decision, "topics", 2000)
            .map_err(|_| bad(msg!("party.joint.error.decision", n = n).field("topics")))?;
        topics.push((topic, decision));
    }
    if topics.is_empty() {
        return Err(bad(msg!("party.joint.error.no_topic").field("topics")));
    }
    if topics.len() > MAX_TOPICS {
        return Err(bad(msg!("party.joint.error.topics", most = MAX_TOPICS).field("topics")));
    }
    let id = new_id();
    let mut tx = db.pool.begin().await?;
    sqlx::query(
        "INSERT INTO party_joint_meetings (id, community_id, path, held_at, place, title, others, minutes,
             recorded_by_name, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&id)
    .bind(&community.id)
    .bind(&community.path)
    .bind(new.held_at)
    .bind(&place)
    .bind(&title)
    .bind(&others)
    .bind(&minutes)
    .bind(by)
    .bind(now_millis())
    .execute(&mut *tx)
    .await?;
    for u in &units {
        sqlx::query("INSERT INTO party_joint_units (meeting_id, unit_id) VALUES ($1, $2)")
            .bind(&id)
            .bind(u)
            .execute(&mut *tx)
            .await?;
    }
    for (i, (topic, decision)) in topics.iter().enumerate() {
        sqlx::query(
            "INSERT INTO party_resolutions (id, meeting_id, path, position, topic, decision, outcome)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(new_id())
        .bind(&id)
        .bind(&community.path)
        .bind(i as i64 + 1)
        .bind(topic)
        .bind(decision)
        .bind(Outcome::Noted.code())
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    meeting(db, &id).await
}

/// One joint meeting with its units and resolutions.
pub async fn meeting(db: &Db, id: &str) -> StoreResult<JointMeeting> {
    let sql = format!("{MEETING} WHERE m.id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&db.pool).await?;
    let mut m = meeting_from(&row.ok_or_else(|| StoreError::not_found(Thing::PartyJointMeeting, id))?)?;
    m.units = sqlx::query_as(
        "SELECT u.id, u.name FROM party_joint_units j JOIN party_units u ON u.id = j.unit_id
         WHERE j.meeting_id = $1 ORDER BY u.name",
    )
    .bind(id)
    .fetch_all(&db.pool)
    .await?;
    let sql = format!("{RESOLUTION} WHERE r.meeting_id = $1 ORDER BY r.position");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_all(&db.pool).await?;
    m.resolutions = rows.iter().map(resolution_from).collect::<StoreResult<_>>()?;
    Ok(m)
}

/// The joint meetings of the communities at or under `path`, and of the community
/// above it when `path` is a grid's; newest first, at most `limit`, each with its
/// units and resolutions.
pub async fn meetings_under(db: &Db, path: &str, limit: i64) -> StoreResult<Vec<JointMeeting>> {
    let (lo, hi) = subtree_bounds(path);
    let sql = format!(
        "{MEETING} WHERE (m.path >= $1 AND m.path < $2) OR $3 LIKE m.path || '%'
         ORDER BY m.held_at DESC, m.id LIMIT $4"
    );
    let rows =
        sqlx::query(sqlx::AssertSqlSafe(sql)).bind(&lo).bind(&hi).bind(path).bind(limit).fetch_all(&db.pool).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let id: String = r.try_get("id")?;
        out.push(meeting(db, &id).await?);
    }
    Ok(out)
}

/// One resolution.
pub async fn resolution(db: &Db, id: &str) -> StoreResult<Resolution> {
    let sql = format!("{RESOLUTION} WHERE r.id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&db.pool).await?;
    resolution_from(&row.ok_or_else(|| StoreError::not_found(Thing::PartyResolution, id))?)
}

/// Refuses a resolution that became something already.
pub fn still_noted(r: &Resolution) -> StoreResult<()> {
    if r.outcome != Outcome::Noted {
        return Err(StoreError::Conflict(
            wangge_domain::Message::new("party.joint.error.decided").term("outcome", r.outcome),
        ));
    }
    Ok(())
}

/// Records that a resolution became the instruction `instruction_id` — once: a
/// resolution that became something meanwhile is refused.
pub async fn mark_instruction(db: &Db, resolution_id: &str, instruction_id: &str) -> StoreResult<Resolution> {
    let done =
        sqlx::query("UPDATE party_resolutions SET outcome = $1, instruction_id = $2 WHERE id = $3 AND outcome = $4")
            .bind(Outcome::Instruction.code())
            .bind(instruction_id)
            .bind(resolution_id)
            .bind(Outcome::Noted.code())
            .execute(&db.pool)
            .await?;
    let r = resolution(db, resolution_id).await?;
    if done.rows_affected() == 0 {
        still_noted(&r)?;
    }
    Ok(r)
}
