//! Activities (社区活动, issue 25): a community's events, sign-ups with a capacity
//! and a waiting list, check-in and check-out at the door, and one question of
//! satisfaction afterwards. The rules are `wangge_domain::activities`.
//!
//! Every change of places happens in one transaction: a sign-up counts the places
//! taken and lands on a place or the waiting list; a cancellation of a place
//! moves the first of the waiting list up. Volunteers' minutes are check-out
//! minus check-in.

#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::any::AnyRow;
use utoipa::ToSchema;
use wangge_domain::activities::{self as rules, ActivityKind, SignupChannel, SignupState};
use wangge_domain::{AreaLevel, Message, Vocabulary, msg, new_id, now_millis, text};

use crate::registry::areas;
use crate::{Db, StoreError, StoreResult, Thing, subtree_bounds};

fn bad(m: Message) -> StoreError {
    StoreError::Invalid(m)
}

fn term<V: Vocabulary>(row: &AnyRow, column: &str) -> StoreResult<V> {
    crate::party::term(row, column)
}

/// An activity with its places taken and its waiting list's length.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Activity {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub community_id: String,
    pub path: String,
    pub kind: ActivityKind,
    pub title: String,
    pub detail: String,
    pub place: String,
    /// Unix ms.
    pub starts_at: i64,
    pub ends_at: i64,
    /// None: as many as come.
    pub capacity: Option<i64>,
    pub cancelled: bool,
    pub confirmed: i64,
    pub waiting: i64,
    pub created_by_name: String,
}

/// An activity to announce.
#[derive(Clone, Debug, Deserialize, ToSchema)]
pub struct NewActivity {
    /// The community or one of its grids.
    #[schema(format = Uuid)]
    pub area_id: String,
    pub kind: ActivityKind,
    pub title: String,
    #[serde(default)]
    pub detail: String,
    pub place: String,
    pub starts_at: i64,
    pub ends_at: i64,
    #[serde(default)]
    pub capacity: Option<i64>,
}

const ACTIVITY: &str = "SELECT a.id, a.community_id, a.path, a.kind, a.title, a.detail, a.place, a.starts_at,
        a.ends_at, a.capacity, a.cancelled_at, a.created_by_name,
        (SELECT count(*) FROM activity_signups s WHERE s.activity_id = a.id AND s.state = 'confirmed') AS confirmed,
        (SELECT count(*) FROM activity_signups s WHERE s.activity_id = a.id AND s.state = 'waiting') AS waiting
     FROM activities a";

fn activity_from(r: &AnyRow) -> StoreResult<Activity> {
    let cancelled: Option<i64> = r.try_get("cancelled_at")?;
    Ok(Activity {
        id: r.try_get("id")?,
        community_id: r.try_get("community_id")?,
        path: r.try_get("path")?,
        kind: term(r, "kind")?,
        title: r.try_get("title")?,
        detail: r.try_get("detail")?,
        place: r.try_get("place")?,
        starts_at: r.try_get("starts_at")?,
        ends_at: r.try_get("ends_at")?,
        capacity: r.try_get("capacity")?,
        cancelled: cancelled.is_some(),
        confirmed: r.try_get("confirmed")?,
        waiting: r.try_get("waiting")?,
        created_by_name: r.try_get("created_by_name")?,
    })
}

/// Announces an activity of a community or one of its grids: a title and a place,
/// an end after its start, a capacity of at least one when given.
pub async fn create(db: &Db, new: NewActivity, by: &str) -> StoreResult<Activity> {
    let area = areas::get(db, &new.area_id).await?;
    let community = match area.level {
        AreaLevel::Community => area.clone(),
        AreaLevel::Grid => areas::get(db, area.parent_id.as_deref().unwrap_or_default()).await?,
        _ => return Err(bad(msg!("activities.error.place").field("area_id"))),
    };
    let title = text::normalize(&new.title);
    if title.is_empty() || title.chars().count() > 80 {
        return Err(bad(msg!("activities.error.title").field("title")));
    }
    let place = text::normalize(&new.place);
    if place.is_empty() || place.chars().count() > 100 {
        return Err(bad(msg!("activities.error.where").field("place")));
    }
    if new.ends_at <= new.starts_at {
        return Err(bad(msg!("activities.error.ends").field("ends_at")));
    }
    if new.capacity.is_some_and(|c| !(1..=10_000).contains(&c)) {
        return Err(bad(msg!("activities.error.capacity").field("capacity")));
    }
    let id = new_id();
    sqlx::query(
        "INSERT INTO activities (id, community_id, path, kind, title, detail, place, starts_at, ends_at, capacity,
             created_by_name, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(&id)
    .bind(&community.id)
    .bind(&area.path)
    .bind(new.kind.code())
    .bind(&title)
    .bind(new.detail.trim())
    .bind(&place)
    .bind(new.starts_at)
    .bind(new.ends_at)
    .bind(new.capacity)
    .bind(by)
    .bind(now_millis())
    .execute(&db.pool)
    .await?;
    get(db, &id).await
}

/// One activity.
pub async fn get(db: &Db, id: &str) -> StoreResult<Activity> {
    let sql = format!("{ACTIVITY} WHERE a.id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&db.pool).await?;
    activity_from(&row.ok_or_else(|| StoreError::not_found(Thing::Activity, id))?)
}

/// The activities that concern the area at `path` (under it, and its community's
/// own) starting in `[from, to)`, by start.
pub async fn under(db: &Db, path: &str, from: i64, to: i64) -> StoreResult<Vec<Activity>> {
    let (lo, hi) = subtree_bounds(path);
    let sql = format!(
        "{ACTIVITY} WHERE ((a.path >= $1 AND a.path < $2) OR $3 LIKE a.path || '%')
           AND a.starts_at >= $4 AND a.starts_at < $5 ORDER BY a.starts_at, a.id LIMIT 500"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(&lo)
        .bind(&hi)
        .bind(path)
        .bind(from)
        .bind(to)
        .fetch_all(&db.pool)
        .await?;
    rows.iter().map(activity_from).collect()
}

/// A sign-up as staff and the person see it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Signup {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub activity_id: String,
    #[schema(format = Uuid)]
    pub resident_id: Option<String>,
    #[schema(format = Uuid)]
    pub account_id: Option<String>,
    pub name: String,
    pub channel: SignupChannel,
    pub state: SignupState,
    pub signed_at: i64,
    pub checked_in_at: Option<i64>,
    pub checked_out_at: Option<i64>,
    pub score: Option<i64>,
    pub comment: Option<String>,
}

impl Signup {
    /// Minutes between check-in and check-out (volunteers' hours), when both.
    pub fn minutes(&self) -> Option<i64> {
        Some((self.checked_out_at? - self.checked_in_at?) / 60_000)
    }
}

const SIGNUP: &str = "SELECT id, activity_id, resident_id, account_id, name, channel, state, signed_at,
        checked_in_at, checked_out_at, score, comment FROM activity_signups";

fn signup_from(r: &AnyRow) -> StoreResult<Signup> {
    Ok(Signup {
        id: r.try_get("id")?,
        activity_id: r.try_get("activity_id")?,
        resident_id: r.try_get("resident_id")?,
        account_id: r.try_get("account_id")?,
        name: r.try_get("name")?,
        channel: term(r, "channel")?,
        state: term(r, "state")?,
        signed_at: r.try_get("signed_at")?,
        checked_in_at: r.try_get("checked_in_at")?,
        checked_out_at: r.try_get("checked_out_at")?,
        score: r.try_get::<Option<i64>, _>("score")?,
        comment: r.try_get("comment")?,
    })
}

/// One sign-up.
pub async fn signup(db: &Db, id: &str) -> StoreResult<Signup> {
    let sql = format!("{SIGNUP} WHERE id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&db.pool).await?;
    signup_from(&row.ok_or_else(|| StoreError::not_found(Thing::ActivitySignup, id))?)
}

/// An activity's sign-ups: places first, then the waiting list in its order, then
/// the cancelled.
pub async fn signups(db: &Db, activity_id: &str) -> StoreResult<Vec<Signup>> {
    let sql = format!(
        "{SIGNUP} WHERE activity_id = $1
         ORDER BY CASE state WHEN 'confirmed' THEN 0 WHEN 'waiting' THEN 1 ELSE 2 END, seq"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(activity_id).fetch_all(&db.pool).await?;
    rows.iter().map(signup_from).collect()
}

/// Who signs up: a resident of the registry, an account, or both; by name.
#[derive(Clone, Debug, Default)]
pub struct Who {
    pub resident_id: Option<String>,
    pub account_id: Option<String>,
    pub name: String,
}

/// Signs someone up before the activity starts: a place while places are left,
/// else the waiting list; once per resident and per account (a cancelled sign-up
/// may sign up again, at the end of the list). Answers the sign-up.
pub async fn sign_up(
    db: &Db,
    activity_id: &str,
    who: &Who,
    channel: SignupChannel,
    by: &str,
    now: i64,
) -> StoreResult<Signup> {
    let a = get(db, activity_id).await?;
    if a.cancelled {
        return Err(StoreError::Conflict(msg!("activities.error.cancelled")));
    }
    if now >= a.starts_at && channel != SignupChannel::Door {
        return Err(StoreError::Conflict(msg!("activities.error.started")));
    }
    let name = text::normalize(&who.name);
    if name.is_empty() || name.chars().count() > 40 {
        return Err(bad(msg!("activities.error.name").field("name")));
    }
    if who.resident_id.is_none() && who.account_id.is_none() {
        return Err(bad(msg!("activities.error.who").field("resident_id")));
    }
    let mut tx = db.pool.begin().await?;
    let twice: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM activity_signups WHERE activity_id = $1 AND state <> 'cancelled'
           AND (resident_id = $2 OR account_id = $3)",
    )
    .bind(&a.id)
    .bind(&who.resident_id)
    .bind(&who.account_id)
    .fetch_one(&mut *tx)
    .await?;
    if twice > 0 {
        return Err(StoreError::Conflict(msg!("activities.error.twice", name = &name)));
    }
    let confirmed: i64 =
        sqlx::query_scalar("SELECT count(*) FROM activity_signups WHERE activity_id = $1 AND state = 'confirmed'")
            .bind(&a.id)
            .fetch_one(&mut *tx)
            .await?;
    // At the door a person who came takes a place whatever the list says.
    let state =
        if channel == SignupChannel::Door { SignupState::Confirmed } else { rules::place_for(confirmed, a.capacity) };
    let seq: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) + 1 FROM activity_signups WHERE activity_id = $1")
        .bind(&a.id)
        .fetch_one(&mut *tx)
        .await?;
    let id = new_id();
    sqlx::query(
        "INSERT INTO activity_signups (id, activity_id, resident_id, account_id, name, channel, state, seq,
             signed_at, by_name, checked_in_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(&id)
    .bind(&a.id)
    .bind(&who.resident_id)
    .bind(&who.account_id)
    .bind(&name)
    .bind(channel.code())
    .bind(state.code())
    .bind(seq)
    .bind(now)
    .bind(by)
    .bind((channel == SignupChannel::Door).then_some(now))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    signup(db, &id).await
}

/// Cancels a sign-up before the activity starts; when it held a place, the first
/// of the waiting list moves up, in the same transaction. Answers who moved up.
pub async fn cancel(db: &Db, signup_id: &str, now: i64) -> StoreResult<Option<Signup>> {
    let s = signup(db, signup_id).await?;
    let a = get(db, &s.activity_id).await?;
    if s.state == SignupState::Cancelled {
        return Ok(None);
    }
    if now >= a.starts_at {
        return Err(StoreError::Conflict(msg!("activities.error.started")));
    }
    let mut tx = db.pool.begin().await?;
    let done = sqlx::query("UPDATE activity_signups SET state = 'cancelled' WHERE id = $1 AND state = $2")
        .bind(&s.id)
        .bind(s.state.code())
        .execute(&mut *tx)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::Conflict(msg!("activities.error.changed")));
    }
    let mut moved = None;
    if s.state == SignupState::Confirmed {
        let waiting: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM activity_signups WHERE activity_id = $1 AND state = 'waiting' ORDER BY seq LIMIT 1",
        )
        .bind(&a.id)
        .fetch_all(&mut *tx)
        .await?;
        if let Some(first) = rules::promoted(&waiting, 1).into_iter().next() {
            sqlx::query("UPDATE activity_signups SET state = 'confirmed' WHERE id = $1")
                .bind(&first)
                .execute(&mut *tx)
                .await?;
            moved = Some(first);
        }
    }
    tx.commit().await?;
    match moved {
        Some(id) => Ok(Some(signup(db, &id).await?)),
        None => Ok(None),
    }
}

/// Checks someone in at the door (the first time is kept), or out (volunteers'
/// minutes): only a sign-up holding a place, from an hour before the start to the end.
pub async fn check(db: &Db, signup_id: &str, out: bool, at: i64) -> StoreResult<Signup> {
    let s = signup(db, signup_id).await?;
    let a = get(db, &s.activity_id).await?;
    if s.state != SignupState::Confirmed {
        return Err(StoreError::Conflict(Message::new("activities.error.no_place").term("state", s.state)));
    }
    if at < a.starts_at - 3_600_000 || at > a.ends_at + 3_600_000 {
        return Err(StoreError::Conflict(msg!("activities.error.not_now")));
    }
    let sql = if out {
        if s.checked_in_at.is_none() {
            return Err(StoreError::Conflict(msg!("activities.error.not_there")));
        }
        "UPDATE activity_signups SET checked_out_at = $1 WHERE id = $2"
    } else {
        "UPDATE activity_signups SET checked_in_at = COALESCE(checked_in_at, $1) WHERE id = $2"
    };
    sqlx::query(sql).bind(at).bind(&s.id).execute(&db.pool).await?;
    signup(db, &s.id).await
}

/// One question afterwards: 1–5 (chosen, never preset) and a comment, from someone
/// who was checked in, once the activity is over; once.
pub async fn rate(db: &Db, signup_id: &str, score: Option<i64>, comment: &str, now: i64) -> StoreResult<Signup> {
    let s = signup(db, signup_id).await?;
    let a = get(db, &s.activity_id).await?;
    rules::may_rate(s.checked_in_at.is_some(), now >= a.ends_at, s.score.is_some()).map_err(StoreError::Conflict)?;
    let score = match score {
        Some(n @ 1..=5) => n,
        _ => return Err(bad(msg!("activities.error.score").field("score"))),
    };
    let comment = comment.trim();
    if comment.chars().count() > 200 {
        return Err(bad(msg!("activities.error.comment").field("comment")));
    }
    let done = sqlx::query(
        "UPDATE activity_signups SET score = $1, comment = $2, rated_at = $3 WHERE id = $4 AND score IS NULL",
    )
    .bind(score)
    .bind(comment)
    .bind(now)
    .bind(&s.id)
    .execute(&db.pool)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::Conflict(msg!("activities.error.rated")));
    }
    signup(db, &s.id).await
}

/// Satisfaction per kind of activity under `path` for activities starting in
/// `[from, to)`: (kind, unsatisfied answers, all answers) — the seed's 12 %.
pub async fn satisfaction(db: &Db, path: &str, from: i64, to: i64) -> StoreResult<Vec<(ActivityKind, i64, i64)>> {
    let (lo, hi) = subtree_bounds(path);
    let rows: Vec<(String, i64, i64)> = sqlx::query_as(
        "SELECT a.kind, SUM(CASE WHEN s.score <= 2 THEN 1 ELSE 0 END), count(*)
         FROM activity_signups s JOIN activities a ON a.id = s.activity_id
         WHERE a.path >= $1 AND a.path < $2 AND a.starts_at >= $3 AND a.starts_at < $4 AND s.score IS NOT NULL
         GROUP BY a.kind ORDER BY a.kind",
    )
    .bind(&lo)
    .bind(&hi)
    .bind(from)
    .bind(to)
    .fetch_all(&db.pool)
    .await?;
    rows.into_iter()
        .map(|(k, part, whole)| {
            let kind = ActivityKind::from_code(&k)
                .ok_or_else(|| bad(msg!("error.stored_value", what = ActivityKind::NAME, value = &k)))?;
            Ok((kind, part, whole))
        })
        .collect()
}

/// The sign-ups of an account (the portal's "mine"), newest activity first.
pub async fn of_account(db: &Db, account_id: &str) -> StoreResult<Vec<Signup>> {
    let rows = sqlx::query(
        "SELECT s.id, s.activity_id, s.resident_id, s.account_id, s.name, s.channel, s.state, s.signed_at,
            s.checked_in_at, s.checked_out_at, s.score, s.comment
         FROM activity_signups s JOIN activities a ON a.id = s.activity_id
         WHERE s.account_id = $1 ORDER BY a.starts_at DESC, s.seq DESC LIMIT 200",
    )
    .bind(account_id)
    .fetch_all(&db.pool)
    .await?;
    rows.iter().map(signup_from).collect()
}

/// A resident checks themself in at the door, on the page its QR code opens: the
/// name and the last four digits of the phone the registry holds (compared as the
/// vault's blind index, never decrypted) must match one sign-up of this activity
/// holding a place. Someone not signed up asks the staff at the door. Answers the
/// sign-up checked in (now, or already earlier), or `None` when nothing matches.
pub async fn door_check_in(
    db: &Db,
    activity_id: &str,
    name: &str,
    last4: &str,
    now: i64,
) -> StoreResult<Option<Signup>> {
    let name = text::normalize(name);
    let last4: String = last4.chars().filter(char::is_ascii_digit).collect();
    if name.is_empty() || last4.len() != 4 {
        return Ok(None);
    }
    let hash = db.vault.blind(crate::registry::residents::PHONE_LAST4, &last4);
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT s.id FROM activity_signups s JOIN residents r ON r.id = s.resident_id
         WHERE s.activity_id = $1 AND s.state = 'confirmed' AND s.name = $2 AND r.phone_last4_hash = $3",
    )
    .bind(activity_id)
    .bind(&name)
    .bind(&hash)
    .fetch_all(&db.pool)
    .await?;
    match ids.as_slice() {
        [one] => Ok(Some(check(db, one, false, now).await?)),
        _ => Ok(None),
    }
}

/// How far ahead the reminder goes out: the day before.
pub const REMIND_AHEAD: i64 = 24 * 3_600_000;

/// Reminds everyone holding a place with an account, once, within a day of the
/// start, through their notifications (with the place and the time). Each
/// reminder is claimed by one update, so two servers sweeping send it once.
/// Answers how many were sent.
pub async fn remind(db: &Db, now: i64) -> StoreResult<usize> {
    type Due = (String, String, String, String, String, i64, String);
    let due: Vec<Due> = sqlx::query_as(
        "SELECT s.id, s.account_id, a.id, a.title, a.place, a.starts_at, a.path
         FROM activity_signups s JOIN activities a ON a.id = s.activity_id
         WHERE s.state = 'confirmed' AND s.account_id IS NOT NULL AND s.reminded_at IS NULL
           AND a.cancelled_at IS NULL AND a.starts_at > $1 AND a.starts_at <= $2
         ORDER BY a.starts_at, s.seq LIMIT 500",
    )
    .bind(now)
    .bind(now + REMIND_AHEAD)
    .fetch_all(&db.pool)
    .await?;
    let mut sent = 0;
    for (signup, account, activity, title, place, starts_at, path) in due {
        let claimed = sqlx::query("UPDATE activity_signups SET reminded_at = $1 WHERE id = $2 AND reminded_at IS NULL")
            .bind(now)
            .bind(&signup)
            .execute(&db.pool)
            .await?;
        if claimed.rows_affected() != 1 {
            continue;
        }
        // To the minute.
        let when: String = wangge_domain::format_china_time(starts_at).chars().take(16).collect();
        let notice = crate::notifications::Notice {
            module: wangge_domain::Module::Participation,
            subject_id: Some(activity.clone()),
            path,
            link: Some(format!("/portal/activities/{activity}")),
            message: msg!("activities.notice.reminder", title = &title, when = &when, place = &place),
        };
        crate::notifications::notify(db, &crate::notifications::Audience::Account(account), &notice).await?;
        sent += 1;
    }
    Ok(sent)
}

/// A photo of an activity (its bytes come from [`photo`]).
#[derive(Clone, Debug, Serialize)]
pub struct Photo {
    pub id: String,
    pub activity_id: String,
    pub name: String,
    pub content_type: String,
    pub size: i64,
}

/// Most photos of one activity.
pub const MAX_PHOTOS: i64 = 12;

/// Adds a photo (JPEG, PNG or WebP, told by its content, within the demands' size)
/// to an activity; at most [`MAX_PHOTOS`].
pub async fn add_photo(db: &Db, activity_id: &str, name: &str, data: &[u8], by: &str, now: i64) -> StoreResult<Photo> {
    let content_type = crate::demands::attachments::check(data)?;
    if !content_type.starts_with("image/") {
        return Err(bad(msg!("activities.error.photo_type").field("photo")));
    }
    let a = get(db, activity_id).await?;
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM activity_photos WHERE activity_id = $1")
        .bind(&a.id)
        .fetch_one(&db.pool)
        .await?;
    if count >= MAX_PHOTOS {
        return Err(bad(msg!("activities.error.photos", max = MAX_PHOTOS).field("photo")));
    }
    let name: String = text::normalize(name).chars().take(120).collect();
    let id = new_id();
    sqlx::query(
        "INSERT INTO activity_photos (id, activity_id, name, content_type, size, data, created_by_name, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&id)
    .bind(&a.id)
    .bind(if name.is_empty() { "photo" } else { name.as_str() })
    .bind(content_type)
    .bind(data.len() as i64)
    .bind(data)
    .bind(by)
    .bind(now)
    .execute(&db.pool)
    .await?;
    Ok(photo(db, &id).await?.0)
}

fn photo_from(r: &AnyRow) -> StoreResult<Photo> {
    Ok(Photo {
        id: r.try_get("id")?,
        activity_id: r.try_get("activity_id")?,
        name: r.try_get("name")?,
        content_type: r.try_get("content_type")?,
        size: r.try_get("size")?,
    })
}

/// An activity's photos, oldest first.
pub async fn photos(db: &Db, activity_id: &str) -> StoreResult<Vec<Photo>> {
    let rows = sqlx::query(
        "SELECT id, activity_id, name, content_type, size FROM activity_photos WHERE activity_id = $1
         ORDER BY created_at, id",
    )
    .bind(activity_id)
    .fetch_all(&db.pool)
    .await?;
    rows.iter().map(photo_from).collect()
}

/// A photo with its bytes.
pub async fn photo(db: &Db, id: &str) -> StoreResult<(Photo, Vec<u8>)> {
    let row = sqlx::query("SELECT id, activity_id, name, content_type, size, data FROM activity_photos WHERE id = $1")
        .bind(id)
        .fetch_optional(&db.pool)
        .await?
        .ok_or_else(|| StoreError::not_found(Thing::ActivityPhoto, id))?;
    Ok((photo_from(&row)?, row.try_get("data")?))
}
