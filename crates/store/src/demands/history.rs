//! Writing items that already happened: a ledger's past, as the demo's year of
//! history or a paper ledger typed in afterwards.
//!
//! Each item is replayed step by step through the same state machine
//! ([`wangge_domain::transition`]) and the same rules as [`super::take_step`]
//! (deadlines from the catalogue and the business-day calendar, the fields each step
//! sets, the timeline notes), only with the times given instead of the clock, and
//! then written with multi-row inserts in the caller's transaction.

use crate::Thing;
use std::collections::HashMap;

use sqlx::AnyConnection;
use wangge_domain::{
    BusinessCalendar, Channel, DemandKind, DemandStatus, EventKind, Explain, ItemState, Message, Step, msg, new_id,
    now_millis, transition,
};

use super::builder::{self, Row, Texts, deadline};
use super::{
    Actor, Category, DAY_MS, Demand, DemandEvent, RATING_DAYS_DEFAULT, RatingSource, StepInput, needs_note,
    rating_due_of, rating_source_of, step_note,
};
use crate::bulk::insert_chunked;
use crate::vault::Vault;
use crate::{StoreError, StoreResult};

/// One step of a past item: what, when, by whom, with what.
#[derive(Clone, Debug)]
pub struct PastStep {
    pub step: Step,
    pub at: i64,
    pub by: Actor,
    pub input: StepInput,
}

/// An item that was taken in at `created_at` and then went through `steps`.
#[derive(Clone, Debug)]
pub struct PastDemand {
    pub id: String,
    /// Where it lies: the place's path and area (its building's grid, or an area).
    pub path: String,
    pub area_id: String,
    pub building_id: Option<String>,
    pub household_id: Option<String>,
    pub resident_id: Option<String>,
    pub category: String,
    pub kind: DemandKind,
    pub channel: Channel,
    pub title: String,
    pub description: String,
    pub address: Option<String>,
    pub reporter_name: Option<String>,
    pub reporter_phone: Option<String>,
    pub created_at: i64,
    pub submitted_by: Actor,
    pub steps: Vec<PastStep>,
}

/// Replays `item`'s steps; answers its row as it stands after them, and adds its
/// timeline to `events`.
fn replay(
    item: &PastDemand,
    tracking_no: String,
    category: &Category,
    cal: &BusinessCalendar,
    vault: &Vault,
    now: i64,
    events: &mut Vec<DemandEvent>,
) -> StoreResult<Row> {
    let bad = |why: Message| StoreError::Invalid(msg!("demands.error.past_item", id = &item.id).nested("why", why));
    if item.created_at > now {
        return Err(bad(msg!("demands.error.past_future")));
    }
    let texts = Texts::check(&item.title, &item.description, item.reporter_phone.as_deref()).map_err(|e| match e {
        StoreError::Invalid(why) => bad(why),
        other => other,
    })?;
    let accept_due = cal.deadline_millis(item.created_at, category.accept_days as u32);
    let mut d = Demand {
        id: item.id.clone(),
        path: item.path.clone(),
        area_id: item.area_id.clone(),
        building_id: item.building_id.clone(),
        household_id: item.household_id.clone(),
        resident_id: item.resident_id.clone(),
        category: item.category.clone(),
        kind: item.kind,
        channel: item.channel,
        title: texts.title,
        description: texts.description,
        address: item.address.clone(),
        lat: None,
        lng: None,
        reporter_name: item.reporter_name.clone(),
        reporter_phone: None,
        reporter_account_id: None,
        status: DemandStatus::Submitted,
        level: category.level,
        handler_kind: None,
        handler_id: None,
        handler_name: None,
        merged_into: None,
        reopened: false,
        accept_due,
        resolve_due: cal.deadline_millis(item.created_at, category.resolve_days as u32),
        due: accept_due,
        overdue: false,
        due_soon: false,
        responded_at: None,
        closed_at: None,
        rating: None,
        rating_comment: None,
        created_at: item.created_at,
        updated_at: item.created_at,
        tracking_no: Some(tracking_no),
        rating_source: None,
        rated_at: None,
        rating_called_by: None,
        rating_called_at: None,
        rating_due: None,
    };
    let event = |step: EventKind, from, to, level, by: &Actor, note: String, at| DemandEvent {
        id: new_id(),
        demand_id: item.id.clone(),
        step,
        from_status: from,
        to_status: to,
        level,
        actor_id: by.id.clone(),
        actor_name: by.name.clone(),
        note,
        at,
    };
    events.push(event(EventKind::Submit, None, d.status, d.level, &item.submitted_by, String::new(), item.created_at));
    for s in &item.steps {
        if s.at < d.updated_at || s.at > now {
            return Err(bad(msg!("demands.error.past_order", at = s.at).term("step", s.step)));
        }
        needs_note(s.step, &s.input)?;
        let state = ItemState { status: d.status, kind: item.kind, level: d.level, reopened: d.reopened };
        let next = transition(state, s.step, s.by.role, s.input.score).map_err(|e| bad(e.message()))?;
        match s.step {
            Step::Accept | Step::Reject => d.responded_at = Some(s.at),
            // A past item's community keeps the default days to rate in: the
            // settings of today do not rewrite what was counted then.
            Step::Answer | Step::Close => {
                if s.step == Step::Answer {
                    d.responded_at = d.responded_at.or(Some(s.at));
                }
                d.closed_at = Some(s.at);
                d.rating_due = Some(s.at + RATING_DAYS_DEFAULT * DAY_MS);
            }
            Step::Dispatch => {
                let kind = s.input.handler_kind.ok_or_else(|| bad(msg!("demands.error.handler_kind_needed")))?;
                let name = s.input.handler_name.clone().or(s.input.handler_id.clone());
                let name = name.ok_or_else(|| bad(msg!("demands.error.handler_needed")))?;
                (d.handler_kind, d.handler_id, d.handler_name) = (Some(kind), s.input.handler_id.clone(), Some(name));
            }
            Step::Escalate | Step::HandBack => (d.handler_kind, d.handler_id, d.handler_name) = (None, None, None),
            Step::Merge => return Err(bad(msg!("demands.error.past_merge"))),
            Step::Rate => {
                if rating_due_of(&d) < s.at {
                    return Err(bad(msg!("demands.error.rating_closed")));
                }
                d.rating = s.input.score.map(i64::from);
                d.rating_comment = Some(s.input.note.trim().to_owned());
                let source = rating_source_of(&s.by);
                (d.rating_source, d.rated_at) = (Some(source), Some(s.at));
                if source == RatingSource::Staff {
                    d.rating_called_by = Some(s.input.called_by.clone().unwrap_or_else(|| s.by.name.clone()));
                    d.rating_called_at = Some(s.input.called_at.unwrap_or(s.at));
                }
                if next.status == DemandStatus::Reopened {
                    d.reopened = true;
                    d.rating_due = None;
                    d.closed_at = None;
                    d.resolve_due = cal.deadline_millis(s.at, category.resolve_days as u32);
                }
            }
            _ => {}
        }
        let note = step_note(s.step, &s.input);
        events.push(event(EventKind::Step(s.step), Some(d.status), next.status, next.level, &s.by, note, s.at));
        d.status = next.status;
        d.level = next.level;
        d.updated_at = s.at;
    }
    (d.due, d.overdue, d.due_soon) = deadline(d.status, d.accept_due, d.resolve_due, now);
    Ok(Row::new(d, texts.phone.as_ref(), vault))
}

/// Replays and writes `items` on `conn` (a transaction the caller commits), with the
/// catalogue and calendar given (read them before the transaction starts). Returns
/// the number of timeline entries written.
pub async fn record_history(
    conn: &mut AnyConnection,
    vault: &Vault,
    categories: &[Category],
    cal: &BusinessCalendar,
    items: &[PastDemand],
) -> StoreResult<usize> {
    let by_code: HashMap<&str, &Category> = categories.iter().map(|c| (c.code.as_str(), c)).collect();
    let now = now_millis();
    let mut events = Vec::with_capacity(items.len() * 6);
    let mut rows = Vec::with_capacity(items.len());
    let numbers = super::tracking::allocate(conn, items.len()).await?;
    for (item, number) in items.iter().zip(numbers) {
        let category = by_code
            .get(item.category.as_str())
            .ok_or_else(|| StoreError::not_found(Thing::Category, &item.category))?;
        rows.push(replay(item, number, category, cal, vault, now, &mut events)?);
    }
    insert_chunked(conn, "demands", builder::COLUMNS, &rows, builder::bind).await?;
    insert_chunked(conn, "demand_events", builder::EVENT_COLUMNS, &events, builder::bind_event).await?;
    // Statements of more than 64 items are summed into the summaries directly; a
    // last statement of fewer lands in PostgreSQL's queue (migration 0074), which
    // every figure reads beside them until the server's next fold: it goes in with
    // the items.
    crate::summaries::fold_demand_queue(conn).await?;
    Ok(events.len())
}

/// An account that past items are handed to by [`adopt`].
#[derive(Clone, Copy, Debug)]
pub struct Adopter<'a> {
    pub account_id: &'a str,
    pub name: &'a str,
}

/// What [`adopt`] handed over.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Adopted {
    /// Items of the grid dispatched to a grid member, now `member`'s.
    pub handled: u64,
    /// Items of the grid that became `resident`'s own reports.
    pub reported: usize,
}

/// The states a resident meets in their own list, one item of each where the grid
/// has one: waiting to be taken in, being worked on, done and waiting for their
/// rating, rated, and an answered consultation.
const RESIDENT_PICKS: &[&str] = &[
    "status = 'submitted'",
    "status IN ('dispatched', 'in_hand')",
    "status = 'closed' AND rating IS NULL AND kind <> 'consultation'",
    "status = 'rated'",
    "status = 'closed' AND kind = 'consultation'",
];

/// Spreads the past items dispatched to grid members under `community_path` over the
/// grid members who really look after them: each goes to the current member post
/// (with an account) that looks after its building, else to its grid's first such
/// member; the dispatch entry of its timeline names them. The demo runs this once its
/// roster has accounts, so that every grid member's 我的待办 is their own. Returns
/// how many items moved.
pub async fn spread_to_team(db: &crate::Db, community_path: &str) -> StoreResult<u64> {
    use wangge_domain::TeamPost;
    let (lo, hi) = crate::subtree_bounds(community_path);
    let items: Vec<(String, String, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT id, area_id, building_id, handler_name FROM demands          WHERE path >= $1 AND path < $2 AND handler_kind = 'grid_member'",
    )
    .bind(&lo)
    .bind(&hi)
    .fetch_all(&db.pool)
    .await?;
    let mut moved = 0;
    let mut rosters: std::collections::HashMap<String, Vec<crate::team::GridPost>> = Default::default();
    for (id, area_id, building_id, old_name) in items {
        if !rosters.contains_key(&area_id) {
            let roster = crate::team::roster(db, &area_id, crate::team::Phones::Hidden, false).await?;
            rosters.insert(area_id.clone(), roster);
        }
        let members: Vec<&crate::team::GridPost> =
            rosters[&area_id].iter().filter(|p| p.post == TeamPost::Member && p.account_id.is_some()).collect();
        let by_building = building_id.as_ref().and_then(|b| members.iter().find(|p| p.building_ids.contains(b)));
        let Some(post) = by_building.or(members.first()) else { continue };
        let name = post.person_name.clone().unwrap_or_default();
        let mut tx = db.pool.begin().await?;
        sqlx::query("UPDATE demands SET handler_id = $1, handler_name = $2 WHERE id = $3")
            .bind(&post.account_id)
            .bind(&name)
            .bind(&id)
            .execute(&mut *tx)
            .await?;
        if let Some(old) = old_name.filter(|o| !o.is_empty() && *o != name) {
            sqlx::query(
                "UPDATE demand_events SET note = REPLACE(note, $1, $2) WHERE demand_id = $3 AND step = 'dispatch'",
            )
            .bind(&old)
            .bind(&name)
            .bind(&id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        moved += 1;
    }
    Ok(moved)
}

/// When none of the open grid-member items of the grid at `grid_path` is with
/// `account_id`, that grid member takes over the building of the newest one (the
/// demo's roster is synthetic) and the items are spread again: the demo's first
/// grid member login then has something in 我的待办. Whether it moved a building.
pub async fn give_an_open_item(
    db: &crate::Db,
    grid_path: &str,
    account_id: &str,
    community_path: &str,
) -> StoreResult<bool> {
    const OPEN: &str = "('dispatched', 'in_hand', 'reported_done')";
    // An open item of a grid member's first; failing that (the year's random draw
    // may leave none open in this grid), one dispatched elsewhere becomes theirs.
    let sql = format!(
        "SELECT id, building_id FROM demands WHERE path = $1 AND building_id IS NOT NULL
         AND status IN {OPEN} AND (handler_id IS NULL OR handler_id <> $2)
         AND NOT EXISTS (SELECT 1 FROM demands m WHERE m.handler_id = $2 AND m.status IN {OPEN})
         ORDER BY CASE WHEN handler_kind = 'grid_member' THEN 0 ELSE 1 END, created_at DESC LIMIT 1"
    );
    let found: Option<(String, String)> =
        sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(grid_path).bind(account_id).fetch_optional(&db.pool).await?;
    let (item, building) = found.unzip();
    let posts = crate::team::of_account(db, account_id).await?;
    let (Some(building), Some(post)) = (building, posts.first()) else { return Ok(false) };
    let mut tx = db.pool.begin().await?;
    sqlx::query("UPDATE demands SET handler_kind = 'grid_member' WHERE id = $1").bind(&item).execute(&mut *tx).await?;
    sqlx::query(
        "DELETE FROM grid_post_buildings WHERE building_id = $1 \
         AND post_id IN (SELECT id FROM grid_posts WHERE post = 'member')",
    )
    .bind(&building)
    .execute(&mut *tx)
    .await?;
    sqlx::query("INSERT INTO grid_post_buildings (post_id, building_id) VALUES ($1, $2)")
        .bind(&post.id)
        .bind(&building)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    spread_to_team(db, community_path).await?;
    Ok(true)
}

/// Hands past items of one grid to real accounts: the items dispatched to a grid
/// member become `member`'s (their "my items"), and a few (see [`RESIDENT_PICKS`])
/// become `resident`'s own reports from `household_id`, with the timeline's report
/// and rating theirs. The demo does this for its `gridmember` and `resident` logins,
/// so that their lists are filled on first start as the community's are.
pub async fn adopt(
    db: &crate::Db,
    grid_path: &str,
    member: Adopter<'_>,
    resident: Adopter<'_>,
    household_id: &str,
) -> StoreResult<Adopted> {
    let (lo, hi) = crate::subtree_bounds(grid_path);
    let home = crate::registry::households::get(db, household_id).await?;
    let building = crate::registry::buildings::get(db, &home.building_id).await?;
    let mut tx = db.pool.begin().await?;
    let handled = sqlx::query(
        "UPDATE demands SET handler_id = $1 WHERE path >= $2 AND path < $3 AND handler_kind = 'grid_member'",
    )
    .bind(member.account_id)
    .bind(&lo)
    .bind(&hi)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    let mut picked: Vec<String> = Vec::new();
    for condition in RESIDENT_PICKS {
        let sql = format!(
            "SELECT id FROM demands WHERE path >= $1 AND path < $2 AND reporter_account_id IS NULL AND {condition}
             ORDER BY created_at DESC LIMIT 1"
        );
        let id: Option<String> =
            sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(&lo).bind(&hi).fetch_optional(&mut *tx).await?;
        picked.extend(id);
    }
    for id in &picked {
        sqlx::query(
            "UPDATE demands SET reporter_account_id = $1, reporter_name = $2, channel = 'portal', household_id = $3,
             building_id = $4, path = $5, area_id = $6 WHERE id = $7",
        )
        .bind(resident.account_id)
        .bind(resident.name)
        .bind(household_id)
        .bind(&building.id)
        .bind(&building.path)
        .bind(&building.grid_id)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE demand_events SET actor_id = $1, actor_name = $2 WHERE demand_id = $3 AND step IN ('submit', 'rate')",
        )
        .bind(resident.account_id)
        .bind(resident.name)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(Adopted { handled, reported: picked.len() })
}
