//! Micro venture capital (微创投, issue 25): calls, applications, judges' scores,
//! ranking and amounts, grants, spending, evaluations and residents' ratings. The
//! rules (weights, totals, grades, [`allocate`]) are `wangge_domain::ventures`;
//! here they are kept, one transaction per step: publishing a call ranks every
//! application and writes its grade and amount at once, and spending is checked
//! against the grant inside the transaction that records it.

#[cfg(test)]
mod tests;

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;
use wangge_domain::ventures::{
    self as rules, ApplicationState, CallState, Criterion, Entry, Grade, Stage, Weight, allocate, judge_total,
    mean_total,
};
use wangge_domain::{AreaLevel, Message, Vocabulary, msg, new_id, text};

use crate::registry::areas;
use crate::{Db, StoreError, StoreResult, Thing, subtree_bounds};

fn bad(m: Message) -> StoreError {
    StoreError::Invalid(m)
}

fn term<V: Vocabulary>(row: &AnyRow, column: &str) -> StoreResult<V> {
    crate::party::term(row, column)
}

/// A call for projects.
#[derive(Clone, Debug, Serialize)]
pub struct Call {
    pub id: String,
    pub community_id: String,
    pub community_name: String,
    pub path: String,
    pub title: String,
    pub intro: String,
    pub budget_fen: i64,
    pub weights: Vec<Weight>,
    pub state: CallState,
    /// `YYYY-MM-DD`: the last day for applications.
    pub closes_on: String,
    pub published_at: Option<i64>,
    pub created_by_name: String,
    pub created_at: i64,
    pub applications: i64,
    /// What was given (the amounts of the funded), in fen.
    pub given_fen: i64,
}

/// A call to open.
#[derive(Clone, Debug, Default)]
pub struct NewCall {
    pub community_id: String,
    pub title: String,
    pub intro: String,
    pub budget_fen: i64,
    pub closes_on: String,
    /// None: the seven default criteria and weights.
    pub weights: Option<Vec<Weight>>,
}

const CALL: &str = "SELECT c.id, c.community_id, a.name AS community_name, c.path, c.title, c.intro, c.budget_fen,
        c.weights, c.state, c.closes_on, c.published_at, c.created_by_name, c.created_at,
        (SELECT count(*) FROM venture_applications x WHERE x.call_id = c.id) AS applications,
        (SELECT CAST(COALESCE(SUM(x.amount_fen), 0) AS BIGINT) FROM venture_applications x WHERE x.call_id = c.id) AS given_fen
     FROM venture_calls c JOIN areas a ON a.id = c.community_id";

fn call_from(r: &AnyRow) -> StoreResult<Call> {
    let weights: String = r.try_get("weights")?;
    Ok(Call {
        id: r.try_get("id")?,
        community_id: r.try_get("community_id")?,
        community_name: r.try_get("community_name")?,
        path: r.try_get("path")?,
        title: r.try_get("title")?,
        intro: r.try_get("intro")?,
        budget_fen: r.try_get("budget_fen")?,
        weights: serde_json::from_str(&weights)
            .map_err(|_| bad(msg!("error.stored_value", what = "weights", value = &weights)))?,
        state: term(r, "state")?,
        closes_on: r.try_get("closes_on")?,
        published_at: r.try_get("published_at")?,
        created_by_name: r.try_get("created_by_name")?,
        created_at: r.try_get("created_at")?,
        applications: r.try_get("applications")?,
        given_fen: r.try_get("given_fen")?,
    })
}

/// Opens a call of a community: a title, a budget of at least one project's
/// least amount, a closing day, weights that add up to 100.
pub async fn create_call(db: &Db, new: NewCall, by: &str, now: i64) -> StoreResult<Call> {
    let area = areas::get(db, &new.community_id).await?;
    if area.level != AreaLevel::Community {
        return Err(bad(msg!("ventures.error.community").field("community_id")));
    }
    let title = text::normalize(&new.title);
    if title.is_empty() || title.chars().count() > 80 {
        return Err(bad(msg!("ventures.error.title").field("title")));
    }
    if !(rules::MIN_FEN..=10_000_000_000).contains(&new.budget_fen) {
        return Err(bad(msg!("ventures.error.budget").field("budget")));
    }
    if time::Date::parse(&new.closes_on, &time::macros::format_description!("[year]-[month]-[day]")).is_err() {
        return Err(bad(msg!("ventures.error.closes_on").field("closes_on")));
    }
    let weights = new.weights.unwrap_or_else(rules::default_weights);
    rules::check_weights(&weights).map_err(|m| bad(m.field("weights")))?;
    let id = new_id();
    sqlx::query(
        "INSERT INTO venture_calls (id, community_id, path, title, intro, budget_fen, weights, state, closes_on,
             created_by_name, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'open', $8, $9, $10)",
    )
    .bind(&id)
    .bind(&area.id)
    .bind(&area.path)
    .bind(&title)
    .bind(new.intro.trim())
    .bind(new.budget_fen)
    .bind(serde_json::to_string(&weights).unwrap_or_default())
    .bind(&new.closes_on)
    .bind(by)
    .bind(now)
    .execute(&db.pool)
    .await?;
    get_call(db, &id).await
}

pub async fn get_call(db: &Db, id: &str) -> StoreResult<Call> {
    let sql = format!("{CALL} WHERE c.id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&db.pool).await?;
    call_from(&row.ok_or_else(|| StoreError::not_found(Thing::VentureCall, id))?)
}

/// The calls of communities at or under `path`, newest first.
pub async fn calls_under(db: &Db, path: &str) -> StoreResult<Vec<Call>> {
    let (lo, hi) = subtree_bounds(path);
    let sql = format!("{CALL} WHERE c.path >= $1 AND c.path < $2 ORDER BY c.created_at DESC, c.id LIMIT 200");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(&lo).bind(&hi).fetch_all(&db.pool).await?;
    rows.iter().map(call_from).collect()
}

/// An application with its figures.
#[derive(Clone, Debug, Serialize)]
pub struct Application {
    pub id: String,
    pub call_id: String,
    pub path: String,
    pub unit_id: Option<String>,
    pub applicant: String,
    pub contact: String,
    pub title: String,
    pub need: String,
    pub plan: String,
    pub requested_fen: i64,
    pub state: ApplicationState,
    /// The mean of the judges' totals, in tenths of a point, once published.
    pub score_tenths: Option<i64>,
    pub rank: Option<i64>,
    pub grade: Option<Grade>,
    pub amount_fen: i64,
    pub granted_at: Option<i64>,
    pub result: String,
    pub submitted_at: i64,
    pub spent_fen: i64,
    pub judges: i64,
}

/// An application on the call's template.
#[derive(Clone, Debug, Default)]
pub struct NewApplication {
    /// The social organisation or unit applying, if registered.
    pub unit_id: Option<String>,
    /// The group's or organisation's name as written.
    pub applicant: String,
    /// Who to call (a name and a phone as written on the form).
    pub contact: String,
    pub title: String,
    /// Which need of the residents it meets.
    pub need: String,
    /// What will be done, when, with whom.
    pub plan: String,
    pub requested_fen: i64,
}

const APPLICATION: &str = "SELECT x.id, x.call_id, x.path, x.unit_id, x.applicant, x.contact, x.title, x.need,
        x.plan, x.requested_fen, x.state, x.score_tenths, x.rank_no, x.grade, x.amount_fen, x.granted_at, x.result,
        x.submitted_at,
        (SELECT CAST(COALESCE(SUM(s.amount_fen), 0) AS BIGINT) FROM venture_spending s WHERE s.application_id = x.id) AS spent_fen,
        (SELECT count(DISTINCT j.judge) FROM venture_scores j WHERE j.application_id = x.id) AS judges
     FROM venture_applications x";

fn application_from(r: &AnyRow) -> StoreResult<Application> {
    let grade: Option<String> = r.try_get("grade")?;
    Ok(Application {
        id: r.try_get("id")?,
        call_id: r.try_get("call_id")?,
        path: r.try_get("path")?,
        unit_id: r.try_get("unit_id")?,
        applicant: r.try_get("applicant")?,
        contact: r.try_get("contact")?,
        title: r.try_get("title")?,
        need: r.try_get("need")?,
        plan: r.try_get("plan")?,
        requested_fen: r.try_get("requested_fen")?,
        state: term(r, "state")?,
        score_tenths: r.try_get("score_tenths")?,
        rank: r.try_get("rank_no")?,
        grade: grade.as_deref().and_then(Grade::from_code),
        amount_fen: r.try_get("amount_fen")?,
        granted_at: r.try_get("granted_at")?,
        result: r.try_get("result")?,
        submitted_at: r.try_get("submitted_at")?,
        spent_fen: r.try_get("spent_fen")?,
        judges: r.try_get("judges")?,
    })
}

/// Takes an application while the call is open: a title, an applicant, a need, a
/// plan and an amount asked of at least the least a project is given.
pub async fn apply(db: &Db, call_id: &str, new: NewApplication, now: i64) -> StoreResult<Application> {
    let call = get_call(db, call_id).await?;
    if call.state != CallState::Open {
        return Err(StoreError::Conflict(Message::new("ventures.error.not_open").term("state", call.state)));
    }
    let title = text::normalize(&new.title);
    let applicant = text::normalize(&new.applicant);
    if title.is_empty() || title.chars().count() > 80 {
        return Err(bad(msg!("ventures.error.title").field("title")));
    }
    if applicant.is_empty() || applicant.chars().count() > 80 {
        return Err(bad(msg!("ventures.error.applicant").field("applicant")));
    }
    for (field, value) in [("need", &new.need), ("plan", &new.plan)] {
        if value.trim().is_empty() || value.chars().count() > 4000 {
            return Err(bad(msg!("ventures.error.template").field(field)));
        }
    }
    if !(rules::MIN_FEN..=call.budget_fen).contains(&new.requested_fen) {
        return Err(bad(msg!(
            "ventures.error.requested",
            least = rules::yuan(rules::MIN_FEN),
            budget = rules::yuan(call.budget_fen)
        )
        .field("requested")));
    }
    if let Some(unit) = &new.unit_id {
        let o = crate::registry::organisations::get(db, unit).await?;
        if !o.path.starts_with(&call.path) {
            return Err(StoreError::not_found(Thing::Organisation, unit));
        }
    }
    let id = new_id();
    sqlx::query(
        "INSERT INTO venture_applications (id, call_id, path, unit_id, applicant, contact, title, need, plan,
             requested_fen, state, submitted_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'submitted', $11)",
    )
    .bind(&id)
    .bind(&call.id)
    .bind(&call.path)
    .bind(&new.unit_id)
    .bind(&applicant)
    .bind(new.contact.trim())
    .bind(&title)
    .bind(new.need.trim())
    .bind(new.plan.trim())
    .bind(new.requested_fen)
    .bind(now)
    .execute(&db.pool)
    .await?;
    application(db, &id).await
}

pub async fn application(db: &Db, id: &str) -> StoreResult<Application> {
    let sql = format!("{APPLICATION} WHERE x.id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&db.pool).await?;
    application_from(&row.ok_or_else(|| StoreError::not_found(Thing::VentureApplication, id))?)
}

/// A call's applications: by rank once published, else in the order they came.
pub async fn applications(db: &Db, call_id: &str) -> StoreResult<Vec<Application>> {
    let sql = format!(
        "{APPLICATION} WHERE x.call_id = $1 ORDER BY CASE WHEN x.rank_no IS NULL THEN 1 ELSE 0 END, x.rank_no,
         x.submitted_at, x.id"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(call_id).fetch_all(&db.pool).await?;
    rows.iter().map(application_from).collect()
}

/// One judge's scores of an application and their weighted total.
#[derive(Clone, Debug, Serialize)]
pub struct JudgeScores {
    pub judge: String,
    pub scores: Vec<(Criterion, i64)>,
    /// Tenths of a point.
    pub total: i64,
}

/// The judges' scores of an application, by judge name.
pub async fn scores(db: &Db, application_id: &str) -> StoreResult<Vec<JudgeScores>> {
    let x = application(db, application_id).await?;
    let call = get_call(db, &x.call_id).await?;
    let rows: Vec<(String, String, i64)> =
        sqlx::query_as("SELECT judge, criterion, score FROM venture_scores WHERE application_id = $1")
            .bind(application_id)
            .fetch_all(&db.pool)
            .await?;
    let mut out: Vec<JudgeScores> = Vec::new();
    for (judge, criterion, score) in rows {
        let Some(c) = Criterion::from_code(&criterion) else { continue };
        match out.iter_mut().find(|j| j.judge == judge) {
            Some(j) => j.scores.push((c, score)),
            None => out.push(JudgeScores { judge, scores: vec![(c, score)], total: 0 }),
        }
    }
    for j in &mut out {
        // In the call's order of criteria.
        j.scores.sort_by_key(|(c, _)| call.weights.iter().position(|w| w.criterion == *c));
    }
    for j in &mut out {
        j.total = judge_total(&call.weights, &j.scores).unwrap_or(0);
    }
    // By name in code-point order on both engines (PostgreSQL's collation may differ).
    out.sort_by(|a, b| a.judge.cmp(&b.judge));
    Ok(out)
}

/// A named judge scores every weighted criterion 0–10 while the call is under
/// review; scoring again replaces the judge's earlier scores.
pub async fn score(
    db: &Db,
    application_id: &str,
    judge: &str,
    given: &[(Criterion, i64)],
    now: i64,
) -> StoreResult<JudgeScores> {
    let x = application(db, application_id).await?;
    let call = get_call(db, &x.call_id).await?;
    if call.state != CallState::Review {
        return Err(StoreError::Conflict(Message::new("ventures.error.not_review").term("state", call.state)));
    }
    let judge = text::normalize(judge);
    if judge.is_empty() || judge.chars().count() > 40 {
        return Err(bad(msg!("ventures.error.judge").field("judge")));
    }
    let total = judge_total(&call.weights, given).map_err(bad)?;
    // The call's criteria in its order, each scored (judge_total refused a gap).
    let scores: Vec<(Criterion, i64)> = call
        .weights
        .iter()
        .map(|w| (w.criterion, given.iter().find(|(c, _)| *c == w.criterion).map_or(0, |g| g.1)))
        .collect();
    let mut tx = db.pool.begin().await?;
    sqlx::query("DELETE FROM venture_scores WHERE application_id = $1 AND judge = $2")
        .bind(&x.id)
        .bind(&judge)
        .execute(&mut *tx)
        .await?;
    for (criterion, score) in &scores {
        sqlx::query(
            "INSERT INTO venture_scores (application_id, judge, criterion, score, scored_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&x.id)
        .bind(&judge)
        .bind(criterion.code())
        .bind(score)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(JudgeScores { judge, scores, total })
}

/// Moves a call on: open → review (no more applications) → published (every
/// application ranked, graded and given its amount at once; each needs at least
/// one judge) → closed.
pub async fn advance(db: &Db, call_id: &str, now: i64) -> StoreResult<Call> {
    let call = get_call(db, call_id).await?;
    let to = match call.state {
        CallState::Open => CallState::Review,
        CallState::Review => CallState::Published,
        CallState::Published => CallState::Closed,
        CallState::Closed => {
            return Err(StoreError::Conflict(Message::new("ventures.error.closed").term("state", call.state)));
        }
    };
    if to == CallState::Review && call.applications == 0 {
        return Err(StoreError::Conflict(msg!("ventures.error.no_applications")));
    }
    // Everything read first, then written in one transaction.
    let mut ranked = Vec::new();
    if to == CallState::Published {
        let mut entries = Vec::new();
        for x in applications(db, &call.id).await? {
            let totals: Vec<i64> = scores(db, &x.id).await?.iter().map(|j| j.total).collect();
            let Some(mean) = mean_total(&totals) else {
                return Err(StoreError::Conflict(msg!("ventures.error.unjudged", title = &x.title)));
            };
            entries.push(Entry {
                id: x.id.clone(),
                score_tenths: mean,
                requested_fen: x.requested_fen,
                submitted_at: x.submitted_at,
            });
        }
        for a in allocate(call.budget_fen, &entries) {
            let score = entries.iter().find(|e| e.id == a.id).map_or(0, |e| e.score_tenths);
            ranked.push((a, score));
        }
    }
    let mut tx = db.pool.begin().await?;
    for (a, score) in &ranked {
        let state = if a.amount_fen > 0 { ApplicationState::Funded } else { ApplicationState::Declined };
        sqlx::query(
            "UPDATE venture_applications SET score_tenths = $1, rank_no = $2, grade = $3, amount_fen = $4,
                 state = $5 WHERE id = $6 AND state = 'submitted'",
        )
        .bind(score)
        .bind(a.rank)
        .bind(a.grade.code())
        .bind(a.amount_fen)
        .bind(state.code())
        .bind(&a.id)
        .execute(&mut *tx)
        .await?;
    }
    let done = sqlx::query(
        "UPDATE venture_calls SET state = $1, published_at = CASE WHEN $1 = 'published' THEN $2 ELSE published_at END
         WHERE id = $3 AND state = $4",
    )
    .bind(to.code())
    .bind(now)
    .bind(&call.id)
    .bind(call.state.code())
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() != 1 {
        return Err(StoreError::Conflict(msg!("ventures.error.changed")));
    }
    tx.commit().await?;
    get_call(db, &call.id).await
}

/// Grants a funded project its amount (the agreement signed, the money paid).
pub async fn grant(db: &Db, application_id: &str, now: i64) -> StoreResult<Application> {
    let done = sqlx::query(
        "UPDATE venture_applications SET state = 'granted', granted_at = $1 WHERE id = $2 AND state = 'funded'",
    )
    .bind(now)
    .bind(application_id)
    .execute(&db.pool)
    .await?;
    if done.rows_affected() != 1 {
        let x = application(db, application_id).await?;
        return Err(StoreError::Conflict(Message::new("ventures.error.not_funded").term("state", x.state)));
    }
    application(db, application_id).await
}

/// A line of spending.
#[derive(Clone, Debug, Serialize)]
pub struct Spending {
    pub id: String,
    pub spent_on: String,
    pub amount_fen: i64,
    pub what: String,
    /// The recorded decision that allowed going over the grant, if this did.
    pub decision: Option<String>,
    pub by_name: String,
}

/// Spending to record.
#[derive(Clone, Debug, Default)]
pub struct NewSpending {
    pub spent_on: String,
    pub amount_fen: i64,
    pub what: String,
    pub decision: Option<String>,
}

/// Records spending on a granted project: never beyond the grant unless a
/// decision is recorded with it (who decided, when, why), checked against what is
/// already spent in the same transaction.
pub async fn spend(db: &Db, application_id: &str, new: NewSpending, by: &str, now: i64) -> StoreResult<Spending> {
    let x = application(db, application_id).await?;
    if !matches!(x.state, ApplicationState::Granted | ApplicationState::Midterm) {
        return Err(StoreError::Conflict(Message::new("ventures.error.not_granted").term("state", x.state)));
    }
    let what = text::normalize(&new.what);
    if what.is_empty() || what.chars().count() > 200 {
        return Err(bad(msg!("ventures.error.what").field("what")));
    }
    if time::Date::parse(&new.spent_on, &time::macros::format_description!("[year]-[month]-[day]")).is_err() {
        return Err(bad(msg!("ventures.error.spent_on").field("spent_on")));
    }
    let decision = new.decision.map(|d| d.trim().to_owned()).filter(|d| !d.is_empty());
    let mut tx = db.pool.begin().await?;
    let spent: i64 = sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(amount_fen), 0) AS BIGINT) FROM venture_spending WHERE application_id = $1",
    )
    .bind(&x.id)
    .fetch_one(&mut *tx)
    .await?;
    rules::within_grant(x.amount_fen, spent, new.amount_fen, decision.as_deref())
        .map_err(|m| bad(m.field("amount")))?;
    // A decision is kept only where it was needed.
    let decision = decision.filter(|_| spent + new.amount_fen > x.amount_fen);
    let id = new_id();
    sqlx::query(
        "INSERT INTO venture_spending (id, application_id, spent_on, amount_fen, what, decision, by_name, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&id)
    .bind(&x.id)
    .bind(&new.spent_on)
    .bind(new.amount_fen)
    .bind(&what)
    .bind(&decision)
    .bind(by)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Spending { id, spent_on: new.spent_on, amount_fen: new.amount_fen, what, decision, by_name: by.to_owned() })
}

pub async fn spending(db: &Db, application_id: &str) -> StoreResult<Vec<Spending>> {
    let rows = sqlx::query(
        "SELECT id, spent_on, amount_fen, what, decision, by_name FROM venture_spending WHERE application_id = $1
         ORDER BY spent_on, created_at, id",
    )
    .bind(application_id)
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Spending {
                id: r.try_get("id")?,
                spent_on: r.try_get("spent_on")?,
                amount_fen: r.try_get("amount_fen")?,
                what: r.try_get("what")?,
                decision: r.try_get("decision")?,
                by_name: r.try_get("by_name")?,
            })
        })
        .collect()
}

/// An evaluation as kept.
#[derive(Clone, Debug, Serialize)]
pub struct Evaluation {
    pub stage: Stage,
    pub score: i64,
    pub text: String,
    pub by_name: String,
    pub at: i64,
}

/// The mid-term evaluation of a granted project, or the final one of a project
/// evaluated at mid-term (its result, public in the library): a score 0–100 and
/// what was found.
pub async fn evaluate(
    db: &Db,
    application_id: &str,
    stage: Stage,
    score: i64,
    found: &str,
    by: &str,
    now: i64,
) -> StoreResult<Application> {
    let x = application(db, application_id).await?;
    let (from, to) = match stage {
        Stage::Midterm => (ApplicationState::Granted, ApplicationState::Midterm),
        Stage::Final => (ApplicationState::Midterm, ApplicationState::Finished),
    };
    if x.state != from {
        return Err(StoreError::Conflict(
            Message::new("ventures.error.stage").term("state", x.state).term("stage", stage),
        ));
    }
    if !(0..=100).contains(&score) {
        return Err(bad(msg!("ventures.error.evaluation_score").field("score")));
    }
    let found = found.trim();
    if found.is_empty() || found.chars().count() > 4000 {
        return Err(bad(msg!("ventures.error.found").field("text")));
    }
    let mut tx = db.pool.begin().await?;
    sqlx::query(
        "INSERT INTO venture_evaluations (application_id, stage, score, text, by_name, at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&x.id)
    .bind(stage.code())
    .bind(score)
    .bind(found)
    .bind(by)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    let result = if stage == Stage::Final { found } else { x.result.as_str() };
    let done = sqlx::query("UPDATE venture_applications SET state = $1, result = $2 WHERE id = $3 AND state = $4")
        .bind(to.code())
        .bind(result)
        .bind(&x.id)
        .bind(from.code())
        .execute(&mut *tx)
        .await?;
    if done.rows_affected() != 1 {
        return Err(StoreError::Conflict(msg!("ventures.error.changed")));
    }
    tx.commit().await?;
    application(db, &x.id).await
}

pub async fn evaluations(db: &Db, application_id: &str) -> StoreResult<Vec<Evaluation>> {
    let rows = sqlx::query(
        "SELECT stage, score, text, by_name, at FROM venture_evaluations WHERE application_id = $1 ORDER BY at",
    )
    .bind(application_id)
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Evaluation {
                stage: term(r, "stage")?,
                score: r.try_get("score")?,
                text: r.try_get("text")?,
                by_name: r.try_get("by_name")?,
                at: r.try_get("at")?,
            })
        })
        .collect()
}

/// A resident rates a finished project once: 1–5, chosen, and a comment.
pub async fn rate(
    db: &Db,
    application_id: &str,
    account_id: &str,
    score: Option<i64>,
    comment: &str,
    now: i64,
) -> StoreResult<()> {
    let x = application(db, application_id).await?;
    if x.state != ApplicationState::Finished {
        return Err(StoreError::Conflict(msg!("ventures.error.not_finished")));
    }
    let Some(score @ 1..=5) = score else {
        return Err(bad(msg!("ventures.error.rating").field("score")));
    };
    let comment = comment.trim();
    if comment.chars().count() > 200 {
        return Err(bad(msg!("ventures.error.comment").field("comment")));
    }
    let done = sqlx::query(
        "INSERT INTO venture_ratings (application_id, account_id, score, comment, at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (application_id, account_id) DO NOTHING",
    )
    .bind(&x.id)
    .bind(account_id)
    .bind(score)
    .bind(comment)
    .bind(now)
    .execute(&db.pool)
    .await?;
    if done.rows_affected() != 1 {
        return Err(StoreError::Conflict(msg!("ventures.error.rated")));
    }
    Ok(())
}

/// A finished project as the public library shows it.
#[derive(Clone, Debug, Serialize)]
pub struct Finished {
    pub application: Application,
    pub call_title: String,
    pub ratings: i64,
    /// The mean rating in tenths (43 = 4.3), with ratings.
    pub mean_tenths: Option<i64>,
    /// The rating of the account asking, if any.
    pub mine: Option<i64>,
}

/// The finished projects of the communities at or under `path`, newest first, with
/// residents' ratings (and `account`'s own).
pub async fn library(db: &Db, path: &str, account: Option<&str>) -> StoreResult<Vec<Finished>> {
    let (lo, hi) = subtree_bounds(path);
    let sql = format!(
        "{APPLICATION} WHERE x.path >= $1 AND x.path < $2 AND x.state = 'finished' ORDER BY x.granted_at DESC, x.id
         LIMIT 200"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(&lo).bind(&hi).fetch_all(&db.pool).await?;
    let mut out = Vec::new();
    for r in &rows {
        let a = application_from(r)?;
        let call = get_call(db, &a.call_id).await?;
        let (n, sum): (i64, Option<i64>) = sqlx::query_as(
            "SELECT count(*), CAST(SUM(score) AS BIGINT) FROM venture_ratings WHERE application_id = $1",
        )
        .bind(&a.id)
        .fetch_one(&db.pool)
        .await?;
        let mine: Option<i64> = match account {
            Some(acc) => {
                sqlx::query_scalar("SELECT score FROM venture_ratings WHERE application_id = $1 AND account_id = $2")
                    .bind(&a.id)
                    .bind(acc)
                    .fetch_optional(&db.pool)
                    .await?
            }
            None => None,
        };
        let mean_tenths = sum.filter(|_| n > 0).map(|s| (20 * s + n) / (2 * n));
        out.push(Finished { application: a, call_title: call.title, ratings: n, mean_tenths, mine });
    }
    Ok(out)
}

/// A photo of a project, with its caption (its bytes come from [`photo`]).
#[derive(Clone, Debug, Serialize)]
pub struct Photo {
    pub id: String,
    pub application_id: String,
    pub caption: String,
    pub content_type: String,
    pub at: i64,
}

/// Most photos of one project.
pub const MAX_PHOTOS: i64 = 20;

/// Adds a photo of a project (a milestone, its result): an image by the demands'
/// rules, a caption saying what it shows; at most [`MAX_PHOTOS`].
pub async fn add_photo(
    db: &Db,
    application_id: &str,
    caption: &str,
    data: &[u8],
    by: &str,
    now: i64,
) -> StoreResult<Photo> {
    let content_type = crate::demands::attachments::check(data)?;
    if !content_type.starts_with("image/") {
        return Err(bad(msg!("ventures.error.photo_type").field("photo")));
    }
    let x = application(db, application_id).await?;
    let caption = text::normalize(caption);
    if caption.is_empty() || caption.chars().count() > 100 {
        return Err(bad(msg!("ventures.error.caption").field("caption")));
    }
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM venture_photos WHERE application_id = $1")
        .bind(&x.id)
        .fetch_one(&db.pool)
        .await?;
    if count >= MAX_PHOTOS {
        return Err(bad(msg!("ventures.error.photos", max = MAX_PHOTOS).field("photo")));
    }
    let id = new_id();
    sqlx::query(
        "INSERT INTO venture_photos (id, application_id, caption, content_type, size, data, by_name, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&id)
    .bind(&x.id)
    .bind(&caption)
    .bind(content_type)
    .bind(data.len() as i64)
    .bind(data)
    .bind(by)
    .bind(now)
    .execute(&db.pool)
    .await?;
    Ok(Photo { id, application_id: x.id, caption, content_type: content_type.to_owned(), at: now })
}

fn photo_from(r: &AnyRow) -> StoreResult<Photo> {
    Ok(Photo {
        id: r.try_get("id")?,
        application_id: r.try_get("application_id")?,
        caption: r.try_get("caption")?,
        content_type: r.try_get("content_type")?,
        at: r.try_get("created_at")?,
    })
}

/// A project's photos, oldest first.
pub async fn photos(db: &Db, application_id: &str) -> StoreResult<Vec<Photo>> {
    let rows = sqlx::query(
        "SELECT id, application_id, caption, content_type, created_at FROM venture_photos WHERE application_id = $1
         ORDER BY created_at, id",
    )
    .bind(application_id)
    .fetch_all(&db.pool)
    .await?;
    rows.iter().map(photo_from).collect()
}

/// A photo with its bytes.
pub async fn photo(db: &Db, id: &str) -> StoreResult<(Photo, Vec<u8>)> {
    let row = sqlx::query(
        "SELECT id, application_id, caption, content_type, created_at, data FROM venture_photos WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&db.pool)
    .await?
    .ok_or_else(|| StoreError::not_found(Thing::VenturePhoto, id))?;
    Ok((photo_from(&row)?, row.try_get("data")?))
}
