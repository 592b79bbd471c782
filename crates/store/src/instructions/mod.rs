//! Instructions down, reports up (指令, issue 21). An area (a street, a
//! community, a district) sends an instruction to areas below it; each receiver
//! gets a receipt. A receiver may pass the instruction further down (a street to
//! its communities): the new receipts hang under its own (`parent_id`), and it
//! reviews them as the sender reviews its own. The rules — the states, the figures
//! table, lateness — are `wangge_domain::instructions`; this module keeps them.
//!
//! Every step on a receipt is one guarded `UPDATE … WHERE state = <the state read>`,
//! so two people acting at once cannot both win, and an accepted report never
//! changes again.

use serde::{Deserialize, Serialize};
use sqlx::Row;
use time::Date;
use utoipa::ToSchema;
use wangge_domain::demands::CHINA;
use wangge_domain::instructions::{self as rules, Figures, ReceiptState, ReceiptStep, Table};
use wangge_domain::{Message, Vocabulary, msg, new_id, now_millis};

use crate::conditions::Conditions;
use crate::demands::attachments;
use crate::{Db, Page, PageRequest, StoreError, StoreResult, Thing};

#[cfg(test)]
mod tests;

/// Most files an instruction, or one report, carries.
pub const MAX_FILES: usize = 5;

/// An instruction as it was sent.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Instruction {
    #[schema(format = Uuid)]
    pub id: String,
    /// The area that sent it.
    #[schema(format = Uuid)]
    pub area_id: String,
    pub area_name: String,
    pub path: String,
    pub title: String,
    pub body: String,
    /// The day reports are due (China time), `YYYY-MM-DD`.
    #[schema(format = Date)]
    pub due_on: String,
    /// The figures each receiver reports, if the sender asked for any.
    pub table: Option<Table>,
    /// A campaign the receivers are to run, if one.
    #[schema(format = Uuid)]
    pub campaign_id: Option<String>,
    pub sent_by_name: String,
    pub created_at: i64,
}

/// One receiver's receipt of an instruction, and its report.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Receipt {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub instruction_id: String,
    /// The receipt whose area passed the instruction down to this one (and reviews
    /// it); none: received from the sender.
    #[schema(format = Uuid)]
    pub parent_id: Option<String>,
    #[schema(format = Uuid)]
    pub area_id: String,
    pub area_name: String,
    pub path: String,
    pub state: ReceiptState,
    pub read_at: Option<i64>,
    pub read_by_name: Option<String>,
    pub reported_at: Option<i64>,
    /// The day of the latest report, China time.
    #[schema(format = Date)]
    pub reported_on: Option<String>,
    pub reported_by_name: Option<String>,
    pub report_text: Option<String>,
    pub figures: Option<Figures>,
    /// How many times the report was returned.
    pub returns: i64,
    pub returned_reason: Option<String>,
    pub returned_at: Option<i64>,
    pub returned_by_name: Option<String>,
    pub accepted_at: Option<i64>,
    pub accepted_by_name: Option<String>,
    /// Late on the day of reading: past the due day with nothing reported, or
    /// reported after it.
    pub late: bool,
}

/// An instruction to send.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
pub struct NewInstruction {
    /// The sending area: the caller's own (a street, a community, a district).
    #[schema(format = Uuid)]
    pub area_id: String,
    pub title: String,
    pub body: String,
    #[schema(format = Date)]
    pub due_on: String,
    /// The areas it goes to, each below the sender.
    pub receivers: Vec<String>,
    #[serde(default)]
    pub table: Option<Table>,
    #[serde(default)]
    #[schema(format = Uuid)]
    pub campaign_id: Option<String>,
}

/// A file given with an instruction or a report.
#[derive(Clone, Debug)]
pub struct NewFile {
    pub name: String,
    pub data: Vec<u8>,
}

/// A file's description.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct File {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub instruction_id: String,
    /// The report it came with; none: the sender's.
    #[schema(format = Uuid)]
    pub receipt_id: Option<String>,
    pub name: String,
    pub content_type: String,
    pub size: i64,
    pub created_at: i64,
}

/// What someone does to a receipt.
#[derive(Clone, Debug)]
pub enum Step {
    Read,
    /// Text and, when the instruction has a table, its figures.
    Report {
        text: String,
        figures: Option<Figures>,
        files: Vec<NewFile>,
    },
    /// Back to the receiver, with the reason they will read.
    Return {
        reason: String,
    },
    Accept,
}

impl Step {
    fn kind(&self) -> ReceiptStep {
        match self {
            Step::Read => ReceiptStep::Read,
            Step::Report { .. } => ReceiptStep::Report,
            Step::Return { .. } => ReceiptStep::Return,
            Step::Accept => ReceiptStep::Accept,
        }
    }
}

fn bad(m: Message) -> StoreError {
    StoreError::Invalid(m)
}

fn day(text: &str, field: &'static str) -> StoreResult<Date> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(text.trim(), format).map_err(|_| bad(msg!("instructions.error.date", value = text).field(field)))
}

fn iso(d: Date) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    d.format(format).expect("a date formats")
}

/// Today in China.
pub fn today() -> Date {
    time::OffsetDateTime::now_utc().to_offset(CHINA).date()
}

fn day_of(millis: i64) -> Date {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
        .map(|t| t.to_offset(CHINA).date())
        .unwrap_or_else(|_| today())
}

fn json_err(e: serde_json::Error) -> StoreError {
    StoreError::Invalid(crate::error::operator(e))
}

fn instruction_from(r: &sqlx::any::AnyRow) -> StoreResult<Instruction> {
    let table: Option<String> = r.try_get("figures_table")?;
    Ok(Instruction {
        id: r.try_get("id")?,
        area_id: r.try_get("area_id")?,
        area_name: r.try_get("area_name")?,
        path: r.try_get("path")?,
        title: r.try_get("title")?,
        body: r.try_get("body")?,
        due_on: r.try_get("due_on")?,
        table: table.map(|t| serde_json::from_str(&t)).transpose().map_err(json_err)?,
        campaign_id: r.try_get("campaign_id")?,
        sent_by_name: r.try_get("sent_by_name")?,
        created_at: r.try_get("created_at")?,
    })
}

const INSTRUCTION: &str = "SELECT i.id, i.area_id, a.name AS area_name, i.path, i.title, i.body, i.due_on,
        i.figures_table, i.campaign_id, i.sent_by_name, i.created_at
     FROM instructions i JOIN areas a ON a.id = i.area_id";

const RECEIPT: &str = "SELECT r.id, r.instruction_id, r.parent_id, r.area_id, a.name AS area_name, r.path, r.state,
        r.read_at, r.read_by_name, r.reported_at, r.reported_on, r.reported_by_name, r.report_text, r.figures,
        r.returns, r.returned_reason, r.returned_at, r.returned_by_name, r.accepted_at, r.accepted_by_name,
        i.due_on
     FROM instruction_receipts r JOIN areas a ON a.id = r.area_id JOIN instructions i ON i.id = r.instruction_id";

fn receipt_from(r: &sqlx::any::AnyRow, today: Date) -> StoreResult<Receipt> {
    let state_code: String = r.try_get("state")?;
    let state = ReceiptState::from_code(&state_code)
        .ok_or_else(|| StoreError::Invalid(crate::error::operator(format!("receipt state {state_code}"))))?;
    let figures: Option<String> = r.try_get("figures")?;
    let due_on: String = r.try_get("due_on")?;
    let reported_on: Option<String> = r.try_get("reported_on")?;
    let due = day(&due_on, "due_on")?;
    let reported = reported_on.as_deref().map(|d| day(d, "reported_on")).transpose()?;
    Ok(Receipt {
        id: r.try_get("id")?,
        instruction_id: r.try_get("instruction_id")?,
        parent_id: r.try_get("parent_id")?,
        area_id: r.try_get("area_id")?,
        area_name: r.try_get("area_name")?,
        path: r.try_get("path")?,
        state,
        read_at: r.try_get("read_at")?,
        read_by_name: r.try_get("read_by_name")?,
        reported_at: r.try_get("reported_at")?,
        reported_on,
        reported_by_name: r.try_get("reported_by_name")?,
        report_text: r.try_get("report_text")?,
        figures: figures.map(|f| serde_json::from_str(&f)).transpose().map_err(json_err)?,
        returns: r.try_get("returns")?,
        returned_reason: r.try_get("returned_reason")?,
        returned_at: r.try_get("returned_at")?,
        returned_by_name: r.try_get("returned_by_name")?,
        accepted_at: r.try_get("accepted_at")?,
        accepted_by_name: r.try_get("accepted_by_name")?,
        late: rules::is_late(due, today, state, reported),
    })
}

/// Checks the receivers named: each an area strictly below `above` (the sender's
/// path, or the receipt's that passes it down). Answers them in the order given,
/// each once.
async fn receivers_below(db: &Db, above: &str, ids: &[String]) -> StoreResult<Vec<crate::registry::areas::Area>> {
    if ids.is_empty() {
        return Err(bad(msg!("instructions.error.no_receivers").field("receivers")));
    }
    let mut out: Vec<crate::registry::areas::Area> = Vec::new();
    for id in ids {
        let area = match crate::registry::areas::get(db, id).await {
            Ok(a) => a,
            Err(StoreError::NotFound { .. }) => {
                return Err(bad(msg!("instructions.error.outside", area = id).field("receivers")));
            }
            Err(e) => return Err(e),
        };
        if area.path == above || !area.path.starts_with(above) {
            return Err(bad(msg!("instructions.error.outside", area = &area.name).field("receivers")));
        }
        if !out.iter().any(|a| a.id == area.id) {
            out.push(area);
        }
    }
    Ok(out)
}

async fn insert_receipts(
    conn: &mut sqlx::AnyConnection,
    instruction_id: &str,
    parent_id: Option<&str>,
    areas: &[crate::registry::areas::Area],
    now: i64,
) -> StoreResult<()> {
    for area in areas {
        sqlx::query(
            "INSERT INTO instruction_receipts (id, instruction_id, parent_id, area_id, path, state, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, 'sent', $6, $6)",
        )
        .bind(new_id())
        .bind(instruction_id)
        .bind(parent_id)
        .bind(&area.id)
        .bind(&area.path)
        .bind(now)
        .execute(&mut *conn)
        .await
        .map_err(|e| StoreError::on_unique(e, || msg!("instructions.error.already", area = &area.name)))?;
    }
    Ok(())
}

async fn insert_files(
    conn: &mut sqlx::AnyConnection,
    instruction_id: &str,
    receipt_id: Option<&str>,
    files: &[NewFile],
) -> StoreResult<()> {
    if files.len() > MAX_FILES {
        return Err(bad(msg!("instructions.error.files", most = MAX_FILES).field("files")));
    }
    for f in files {
        let content_type = attachments::check(&f.data)?;
        let name: String =
            f.name.rsplit(['/', '\\']).next().unwrap_or("").chars().filter(|c| !c.is_control()).take(100).collect();
        sqlx::query(
            "INSERT INTO instruction_files (id, instruction_id, receipt_id, name, content_type, size, data, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(new_id())
        .bind(instruction_id)
        .bind(receipt_id)
        .bind(if name.trim().is_empty() { "file".to_owned() } else { name })
        .bind(content_type)
        .bind(f.data.len() as i64)
        .bind(&f.data)
        .bind(now_millis())
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Sends an instruction: kept with a receipt for every receiver, in one
/// transaction. Refuses a receiver that is not below the sender, a due day already
/// past (on `today`), a campaign outside the sender's area.
pub async fn send(
    db: &Db,
    new: NewInstruction,
    files: &[NewFile],
    by_id: Option<&str>,
    by_name: &str,
    today: Date,
) -> StoreResult<Instruction> {
    let title = wangge_domain::text::normalize(&new.title);
    if title.is_empty() || title.chars().count() > 80 {
        return Err(bad(msg!("instructions.error.title").field("title")));
    }
    let body = new.body.trim().to_owned();
    if body.chars().count() > 5000 {
        return Err(bad(msg!("instructions.error.body").field("body")));
    }
    let due = day(&new.due_on, "due_on")?;
    if due < today {
        return Err(bad(msg!("instructions.error.due_past", day = iso(due)).field("due_on")));
    }
    let sender = crate::registry::areas::get(db, &new.area_id).await?;
    let receivers = receivers_below(db, &sender.path, &new.receivers).await?;
    if let Some(c) = &new.campaign_id {
        let campaign = crate::campaigns::get(db, c).await?;
        if !campaign.path.starts_with(&sender.path) && !sender.path.starts_with(&campaign.path) {
            return Err(bad(msg!("instructions.error.campaign").field("campaign_id")));
        }
    }
    let table = new.table.as_ref().filter(|t| !t.rows.is_empty() || !t.columns.is_empty());
    if let Some(t) = table {
        // The same rules as the page's two lists.
        let checked = Table::parse(&t.rows.join("\n"), &t.columns.join("\n")).map_err(|m| bad(m.field("table")))?;
        if checked.as_ref() != Some(t) {
            return Err(bad(msg!("instructions.error.table").field("table")));
        }
    }
    let table_json = table.map(serde_json::to_string).transpose().map_err(json_err)?;
    let id = new_id();
    let now = now_millis();
    let mut tx = db.pool.begin().await?;
    sqlx::query(
        "INSERT INTO instructions (id, area_id, path, title, body, due_on, figures_table, campaign_id, sent_by_id,
                                   sent_by_name, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(&id)
    .bind(&sender.id)
    .bind(&sender.path)
    .bind(&title)
    .bind(&body)
    .bind(iso(due))
    .bind(&table_json)
    .bind(&new.campaign_id)
    .bind(by_id)
    .bind(by_name)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    insert_receipts(&mut tx, &id, None, &receivers, now).await?;
    insert_files(&mut tx, &id, None, files).await?;
    tx.commit().await?;
    get(db, &id).await
}

/// One instruction.
pub async fn get(db: &Db, id: &str) -> StoreResult<Instruction> {
    let sql = format!("{INSTRUCTION} WHERE i.id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&db.pool).await?;
    instruction_from(&row.ok_or_else(|| StoreError::not_found(Thing::Instruction, id))?)
}

/// One receipt.
pub async fn receipt(db: &Db, id: &str) -> StoreResult<Receipt> {
    let sql = format!("{RECEIPT} WHERE r.id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&db.pool).await?;
    receipt_from(&row.ok_or_else(|| StoreError::not_found(Thing::InstructionReceipt, id))?, today())
}

/// Every receipt of an instruction, in the order of the hierarchy (a receipt
/// passed down follows the one that passed it).
pub async fn receipts(db: &Db, instruction_id: &str) -> StoreResult<Vec<Receipt>> {
    let sql = format!("{RECEIPT} WHERE r.instruction_id = $1 ORDER BY r.path");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(instruction_id).fetch_all(&db.pool).await?;
    let today = today();
    rows.iter().map(|r| receipt_from(r, today)).collect()
}

/// The path of whoever reviews a receipt: the area that passed it down, or the
/// instruction's sender.
pub async fn reviewer_path(db: &Db, r: &Receipt) -> StoreResult<String> {
    match &r.parent_id {
        Some(parent) => Ok(receipt(db, parent).await?.path),
        None => Ok(get(db, &r.instruction_id).await?.path),
    }
}

/// Passes an instruction received by `receipt_id` further down, to areas below
/// the receiver. A receipt already accepted passes nothing.
pub async fn pass_down(db: &Db, receipt_id: &str, receivers: &[String]) -> StoreResult<Vec<Receipt>> {
    let r = receipt(db, receipt_id).await?;
    if r.state == ReceiptState::Accepted {
        return Err(StoreError::Conflict(msg!("instructions.error.locked")));
    }
    let areas = receivers_below(db, &r.path, receivers).await?;
    let mut tx = db.pool.begin().await?;
    insert_receipts(&mut tx, &r.instruction_id, Some(&r.id), &areas, now_millis()).await?;
    tx.commit().await?;
    Ok(receipts(db, &r.instruction_id).await?.into_iter().filter(|x| x.parent_id.as_deref() == Some(&r.id)).collect())
}

/// Takes a step on a receipt (who may was checked by the caller). Reading keeps the
/// first reader and time; a report needs text or figures, and the figures of the
/// instruction's table when it has one; a return needs a reason; an accepted
/// report is locked. Answers the receipt as it now stands.
pub async fn step(db: &Db, receipt_id: &str, step: Step, by_name: &str) -> StoreResult<Receipt> {
    let r = receipt(db, receipt_id).await?;
    let to = rules::next(r.state, step.kind()).map_err(|e| match e {
        rules::StepError::Locked => StoreError::Conflict(e.message()),
        rules::StepError::NotFrom(..) => StoreError::Conflict(e.message()),
    })?;
    let instruction = get(db, &r.instruction_id).await?;
    let now = now_millis();
    let mut tx = db.pool.begin().await?;
    let guard = r.state.code();
    let changed =
        match &step {
            Step::Read => {
                sqlx::query(
                    "UPDATE instruction_receipts SET state = $1, read_at = COALESCE(read_at, $2),
                        read_by_name = COALESCE(read_by_name, $3), updated_at = $2
                 WHERE id = $4 AND state = $5",
                )
                .bind(to.code())
                .bind(now)
                .bind(by_name)
                .bind(&r.id)
                .bind(guard)
                .execute(&mut *tx)
                .await?
            }
            Step::Report { text, figures, files } => {
                let text = text.trim().to_owned();
                if text.chars().count() > 5000 {
                    return Err(bad(msg!("instructions.error.body").field("text")));
                }
                let figures = match (&instruction.table, figures) {
                    (Some(t), Some(f)) if t.fits(f) => Some(serde_json::to_string(f).map_err(json_err)?),
                    (Some(_), _) => return Err(bad(msg!("instructions.error.figures").field("figures"))),
                    (None, _) => None,
                };
                if figures.is_none() && text.is_empty() {
                    return Err(bad(msg!("instructions.error.empty_report").field("text")));
                }
                insert_files(&mut tx, &r.instruction_id, Some(&r.id), files).await?;
                sqlx::query(
                    "UPDATE instruction_receipts SET state = $1, read_at = COALESCE(read_at, $2),
                        read_by_name = COALESCE(read_by_name, $3), reported_at = $2, reported_on = $4,
                        reported_by_name = $3, report_text = $5, figures = $6, updated_at = $2
                 WHERE id = $7 AND state = $8",
                )
                .bind(to.code())
                .bind(now)
                .bind(by_name)
                .bind(iso(day_of(now)))
                .bind(&text)
                .bind(&figures)
                .bind(&r.id)
                .bind(guard)
                .execute(&mut *tx)
                .await?
            }
            Step::Return { reason } => {
                let reason = reason.trim();
                if reason.is_empty() || reason.chars().count() > 500 {
                    return Err(bad(msg!("instructions.error.reason").field("reason")));
                }
                sqlx::query(
                    "UPDATE instruction_receipts SET state = $1, returns = returns + 1, returned_reason = $2,
                        returned_at = $3, returned_by_name = $4, updated_at = $3
                 WHERE id = $5 AND state = $6",
                )
                .bind(to.code())
                .bind(reason)
                .bind(now)
                .bind(by_name)
                .bind(&r.id)
                .bind(guard)
                .execute(&mut *tx)
                .await?
            }
            Step::Accept => sqlx::query(
                "UPDATE instruction_receipts SET state = $1, accepted_at = $2, accepted_by_name = $3, updated_at = $2
                 WHERE id = $4 AND state = $5",
            )
            .bind(to.code())
            .bind(now)
            .bind(by_name)
            .bind(&r.id)
            .bind(guard)
            .execute(&mut *tx)
            .await?,
        };
    if changed.rows_affected() != 1 {
        return Err(StoreError::Conflict(msg!("instructions.error.changed")));
    }
    tx.commit().await?;
    receipt(db, &r.id).await
}

/// The figures a receiver that passed the instruction down may report: the sum of
/// its children's accepted reports, with how many of how many were accepted.
/// `None` when the instruction has no table or the receipt passed nothing down.
pub async fn children_sum(db: &Db, receipt_id: &str) -> StoreResult<Option<(Figures, usize, usize)>> {
    let r = receipt(db, receipt_id).await?;
    let instruction = get(db, &r.instruction_id).await?;
    let Some(table) = instruction.table else { return Ok(None) };
    let children: Vec<Receipt> =
        receipts(db, &r.instruction_id).await?.into_iter().filter(|c| c.parent_id.as_deref() == Some(&r.id)).collect();
    if children.is_empty() {
        return Ok(None);
    }
    let accepted: Vec<&Figures> =
        children.iter().filter(|c| c.state == ReceiptState::Accepted).filter_map(|c| c.figures.as_ref()).collect();
    Ok(Some((table.sum(accepted.iter().copied()), accepted.len(), children.len())))
}

/// An instruction with where its receipts stand, for lists.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Summary {
    #[serde(flatten)]
    pub instruction: Instruction,
    pub receivers: i64,
    pub read: i64,
    pub reported: i64,
    pub accepted: i64,
    pub late: i64,
}

/// The words of a search, each held by the instruction's title as typed.
fn title_holds(c: &mut Conditions, search: &str) {
    for word in search.split_whitespace() {
        c.contains("i.title", word);
    }
}

/// `{column} IN ($a, $b, …)` over `values`, bound.
fn one_of<'v>(c: &mut Conditions, column: &str, values: impl IntoIterator<Item = &'v String>) {
    let places: Vec<String> = values.into_iter().map(|v| c.text(v.as_str())).collect();
    c.push(format!("{column} IN ({})", places.join(", ")));
}

/// One page of the instructions sent from the area at `path` or below it, newest
/// first, with the counts of the receipts each sender addressed; `search`: words
/// the title holds, every one.
pub async fn sent_page(db: &Db, path: &str, search: &str, page: PageRequest) -> StoreResult<Page<Summary>> {
    let mut c = Conditions::default();
    c.under_path("i.path", path);
    title_holds(&mut c, search);
    let total =
        c.scalar(format!("SELECT COUNT(*) FROM instructions i {}", c.where_clause())).fetch_one(&db.pool).await?;
    let (limit, offset) = (c.int(page.limit()), c.int(page.offset()));
    let sql = format!(
        "{INSTRUCTION} {} ORDER BY i.created_at DESC, i.id DESC LIMIT {limit} OFFSET {offset}",
        c.where_clause()
    );
    let instructions: Vec<Instruction> =
        c.query(sql).fetch_all(&db.pool).await?.iter().map(instruction_from).collect::<StoreResult<_>>()?;
    // The page's receipts in one query, not one per instruction. Only those the
    // sender itself addressed: the ones passed down are counted by whoever passed them.
    let mut own: std::collections::HashMap<String, Vec<Receipt>> = std::collections::HashMap::new();
    if !instructions.is_empty() {
        let mut c = Conditions::default();
        c.push("r.parent_id IS NULL".into());
        one_of(&mut c, "r.instruction_id", instructions.iter().map(|i| &i.id));
        let today = today();
        for row in c.query(format!("{RECEIPT} {}", c.where_clause())).fetch_all(&db.pool).await? {
            let r = receipt_from(&row, today)?;
            own.entry(r.instruction_id.clone()).or_default().push(r);
        }
    }
    let items = instructions
        .into_iter()
        .map(|instruction| {
            let own = own.get(&instruction.id).map(Vec::as_slice).unwrap_or_default();
            let count = |f: &dyn Fn(&Receipt) -> bool| own.iter().filter(|r| f(r)).count() as i64;
            Summary {
                receivers: own.len() as i64,
                read: count(&|r| r.state != ReceiptState::Sent),
                reported: count(&|r| matches!(r.state, ReceiptState::Reported | ReceiptState::Accepted)),
                accepted: count(&|r| r.state == ReceiptState::Accepted),
                late: count(&|r| r.late),
                instruction,
            }
        })
        .collect();
    Ok(Page::new(items, page, total))
}

/// One page of the receipts addressed to the areas at `paths` themselves (a
/// caller's scopes), newest instruction first; `search` as [`sent_page`]'s.
pub async fn received_page(
    db: &Db,
    paths: &[String],
    search: &str,
    page: PageRequest,
) -> StoreResult<Page<(Instruction, Receipt)>> {
    if paths.is_empty() {
        return Ok(Page::new(Vec::new(), page, 0));
    }
    let mut c = Conditions::default();
    one_of(&mut c, "r.path", paths);
    title_holds(&mut c, search);
    let count = format!(
        "SELECT COUNT(*) FROM instruction_receipts r JOIN instructions i ON i.id = r.instruction_id {}",
        c.where_clause()
    );
    let total = c.scalar(count).fetch_one(&db.pool).await?;
    let (limit, offset) = (c.int(page.limit()), c.int(page.offset()));
    let sql = format!(
        "{RECEIPT} {} ORDER BY i.created_at DESC, i.id DESC, r.id LIMIT {limit} OFFSET {offset}",
        c.where_clause()
    );
    let today = today();
    let receipts: Vec<Receipt> =
        c.query(sql).fetch_all(&db.pool).await?.iter().map(|r| receipt_from(r, today)).collect::<StoreResult<_>>()?;
    let mut items = Vec::with_capacity(receipts.len());
    if !receipts.is_empty() {
        // Their instructions in one more query.
        let mut c = Conditions::default();
        one_of(&mut c, "i.id", receipts.iter().map(|r| &r.instruction_id));
        let instructions: std::collections::HashMap<String, Instruction> = c
            .query(format!("{INSTRUCTION} {}", c.where_clause()))
            .fetch_all(&db.pool)
            .await?
            .iter()
            .map(|row| instruction_from(row).map(|i| (i.id.clone(), i)))
            .collect::<StoreResult<_>>()?;
        for r in receipts {
            let i = instructions
                .get(&r.instruction_id)
                .cloned()
                .ok_or_else(|| StoreError::not_found(Thing::Instruction, &r.instruction_id))?;
            items.push((i, r));
        }
    }
    Ok(Page::new(items, page, total))
}

/// The receipts addressed to the area at `path` itself, newest instruction first;
/// `open_only`: those still to read, report or report again.
pub async fn received_at(db: &Db, path: &str, open_only: bool, limit: i64) -> StoreResult<Vec<(Instruction, Receipt)>> {
    let states = if open_only { "AND r.state IN ('sent', 'read', 'returned')" } else { "" };
    let sql = format!("{RECEIPT} WHERE r.path = $1 {states} ORDER BY i.created_at DESC, r.id LIMIT $2");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(path).bind(limit).fetch_all(&db.pool).await?;
    // Their instructions in one more query, not one per receipt (今日 reads this).
    let sql = format!(
        "{INSTRUCTION} WHERE i.id IN (SELECT r.instruction_id FROM instruction_receipts r WHERE r.path = $1 {states})"
    );
    let instructions: std::collections::HashMap<String, Instruction> = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(path)
        .fetch_all(&db.pool)
        .await?
        .iter()
        .map(|row| instruction_from(row).map(|i| (i.id.clone(), i)))
        .collect::<StoreResult<_>>()?;
    let today = today();
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let r = receipt_from(row, today)?;
        let i = instructions
            .get(&r.instruction_id)
            .cloned()
            .ok_or_else(|| StoreError::not_found(Thing::Instruction, &r.instruction_id))?;
        out.push((i, r));
    }
    Ok(out)
}

/// The files of an instruction: the sender's (`receipt_id` none) or one report's.
pub async fn files(db: &Db, instruction_id: &str, receipt_id: Option<&str>) -> StoreResult<Vec<File>> {
    const COLUMNS: &str = "SELECT id, instruction_id, receipt_id, name, content_type, size, created_at
         FROM instruction_files WHERE instruction_id = $1";
    let rows = match receipt_id {
        Some(r) => {
            let sql = format!("{COLUMNS} AND receipt_id = $2 ORDER BY created_at, id");
            sqlx::query(sqlx::AssertSqlSafe(sql)).bind(instruction_id).bind(r).fetch_all(&db.pool).await?
        }
        None => {
            let sql = format!("{COLUMNS} AND receipt_id IS NULL ORDER BY created_at, id");
            sqlx::query(sqlx::AssertSqlSafe(sql)).bind(instruction_id).fetch_all(&db.pool).await?
        }
    };
    rows.iter().map(file_from).collect()
}

fn file_from(r: &sqlx::any::AnyRow) -> StoreResult<File> {
    Ok(File {
        id: r.try_get("id")?,
        instruction_id: r.try_get("instruction_id")?,
        receipt_id: r.try_get("receipt_id")?,
        name: r.try_get("name")?,
        content_type: r.try_get("content_type")?,
        size: r.try_get("size")?,
        created_at: r.try_get("created_at")?,
    })
}

/// One file's description and bytes.
pub async fn file(db: &Db, id: &str) -> StoreResult<(File, Vec<u8>)> {
    let row = sqlx::query(
        "SELECT id, instruction_id, receipt_id, name, content_type, size, created_at, data FROM instruction_files
         WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&db.pool)
    .await?
    .ok_or_else(|| StoreError::not_found(Thing::InstructionFile, id))?;
    Ok((file_from(&row)?, row.try_get("data")?))
}

/// A receipt of an instruction of the past (the demo's history), as it ended.
#[derive(Clone, Debug)]
pub struct PastReceipt {
    pub area_id: String,
    /// The receipt (an index into the same list) whose area passed it down.
    pub parent: Option<usize>,
    pub state: ReceiptState,
    pub read_at: Option<i64>,
    pub reported_at: Option<i64>,
    pub report_text: Option<String>,
    pub figures: Option<Figures>,
    pub returns: i64,
    pub returned_reason: Option<String>,
    pub accepted_at: Option<i64>,
    /// Who acted for the receiving area, and for the reviewing one.
    pub by_name: String,
    pub reviewer_name: String,
}

/// An instruction of the past with its receipts, written as they ended.
#[derive(Clone, Debug)]
pub struct PastInstruction {
    pub area_id: String,
    pub title: String,
    pub body: String,
    pub due_on: Date,
    pub table: Option<Table>,
    pub sent_by_name: String,
    pub created_at: i64,
    pub receipts: Vec<PastReceipt>,
}

/// Writes instructions of the past (the demo's months of history) in one
/// transaction, with the times and states given: the live path refuses a due day
/// already past, and stamps everything now.
pub async fn record_past(db: &Db, past: &[PastInstruction]) -> StoreResult<()> {
    let mut tx = db.pool.begin().await?;
    for p in past {
        let sender = crate::registry::areas::get(db, &p.area_id).await?;
        let id = new_id();
        let table = p.table.as_ref().map(serde_json::to_string).transpose().map_err(json_err)?;
        sqlx::query(
            "INSERT INTO instructions (id, area_id, path, title, body, due_on, figures_table, sent_by_name, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&id)
        .bind(&sender.id)
        .bind(&sender.path)
        .bind(&p.title)
        .bind(&p.body)
        .bind(iso(p.due_on))
        .bind(&table)
        .bind(&p.sent_by_name)
        .bind(p.created_at)
        .execute(&mut *tx)
        .await?;
        let mut ids: Vec<String> = Vec::with_capacity(p.receipts.len());
        for r in &p.receipts {
            let area = crate::registry::areas::get(db, &r.area_id).await?;
            let rid = new_id();
            let figures = r.figures.as_ref().map(serde_json::to_string).transpose().map_err(json_err)?;
            let updated = [r.accepted_at, r.reported_at, r.read_at].into_iter().flatten().max().unwrap_or(p.created_at);
            sqlx::query(
                "INSERT INTO instruction_receipts (id, instruction_id, parent_id, area_id, path, state, read_at,
                     read_by_name, reported_at, reported_on, reported_by_name, report_text, figures, returns,
                     returned_reason, returned_at, returned_by_name, accepted_at, accepted_by_name, created_at,
                     updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)",
            )
            .bind(&rid)
            .bind(&id)
            .bind(r.parent.and_then(|i| ids.get(i)).cloned())
            .bind(&area.id)
            .bind(&area.path)
            .bind(r.state.code())
            .bind(r.read_at)
            .bind(r.read_at.map(|_| r.by_name.clone()))
            .bind(r.reported_at)
            .bind(r.reported_at.map(|t| iso(day_of(t))))
            .bind(r.reported_at.map(|_| r.by_name.clone()))
            .bind(&r.report_text)
            .bind(&figures)
            .bind(r.returns)
            .bind(&r.returned_reason)
            .bind(r.returned_reason.as_ref().and(r.reported_at))
            .bind(r.returned_reason.as_ref().map(|_| r.reviewer_name.clone()))
            .bind(r.accepted_at)
            .bind(r.accepted_at.map(|_| r.reviewer_name.clone()))
            .bind(p.created_at)
            .bind(updated)
            .execute(&mut *tx)
            .await?;
            ids.push(rid);
        }
    }
    tx.commit().await?;
    Ok(())
}

/// Who acts for an area of `level`: those a notice about it is for.
pub fn roles_at(level: wangge_domain::AreaLevel) -> &'static [wangge_domain::Role] {
    use wangge_domain::{AreaLevel, Role};
    match level {
        AreaLevel::City => &[Role::CityOfficial],
        AreaLevel::District => &[Role::DistrictOfficial],
        AreaLevel::Street => &[Role::StreetOfficial],
        AreaLevel::Community => &[Role::CommunitySecretary, Role::CommunityStaff],
        AreaLevel::Grid => &[Role::GridLeader, Role::GridMember],
    }
}

/// Reminds the receivers of open receipts (unread, not reported, returned) through
/// the shared notifications: once the day before the due day ("soon"), once when it
/// has passed ("late"). Each receipt and kind is claimed by a guarded update, so the
/// sweep may run as often as it likes on as many servers as share the database.
/// Answers how many receipts were reminded.
pub async fn remind(db: &Db, today: Date) -> StoreResult<u64> {
    use crate::notifications::{self, Audience, Notice};
    let tomorrow = iso(today + time::Duration::days(1));
    let today = iso(today);
    let mut sent = 0;
    for (kind, column, key) in [
        ("soon", "reminded_soon_at", "instructions.reminder.soon"),
        ("late", "reminded_late_at", "instructions.reminder.late"),
    ] {
        let due = if kind == "soon" { "i.due_on = $1" } else { "i.due_on < $1" };
        let day = if kind == "soon" { &tomorrow } else { &today };
        let sql = format!(
            "SELECT r.id FROM instruction_receipts r JOIN instructions i ON i.id = r.instruction_id
             WHERE r.state IN ('sent', 'read', 'returned') AND r.{column} IS NULL AND {due}"
        );
        let ids: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(day).fetch_all(&db.pool).await?;
        for id in ids {
            let claim = format!("UPDATE instruction_receipts SET {column} = $1 WHERE id = $2 AND {column} IS NULL");
            let claimed =
                sqlx::query(sqlx::AssertSqlSafe(claim)).bind(now_millis()).bind(&id).execute(&db.pool).await?;
            if claimed.rows_affected() != 1 {
                continue;
            }
            let r = receipt(db, &id).await?;
            let i = get(db, &r.instruction_id).await?;
            let area = crate::registry::areas::get(db, &r.area_id).await?;
            for role in roles_at(area.level) {
                let notice = Notice {
                    module: wangge_domain::Module::Instructions,
                    subject_id: Some(i.id.clone()),
                    path: area.path.clone(),
                    link: Some(format!("/instructions/{}", i.id)),
                    message: msg!(key, title = &i.title, due = &i.due_on),
                };
                notifications::notify(db, &Audience::Role { role: *role, path: area.path.clone() }, &notice).await?;
            }
            sent += 1;
        }
    }
    Ok(sent)
}
