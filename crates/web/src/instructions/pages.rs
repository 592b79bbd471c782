//! The pages of instructions: the list (received at one's own area, then sent from
//! one's area and below), sending one, an instruction's page (one's own receipt and
//! report; the receivers one reviews, side by side, with the accepted figures
//! summed), and the steps posted from it.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::value::Serde;
use minijinja::{Value, context};
use serde::{Deserialize, Serialize};
use wangge_domain::instructions::{Figures, ReceiptState, Table};
use wangge_domain::{Action, AreaLevel, AuditAction, Vocabulary, msg};
use wangge_store::instructions::{self, Instruction, NewFile, NewInstruction, Receipt, Step};
use wangge_store::registry::areas::{self, Area};
use wangge_store::{PageRequest, Thing};

use crate::shared::audit;
use crate::shared::auth::{ClientAddress, Principal, unknown};
use crate::shared::multipart::{self, Parts};
use crate::shared::render::{Lang, frame, label, local_time, render, say, tr, urlencode};
use crate::{ApiError, AppState};

/// A choice on a form.
#[derive(Serialize)]
struct Check {
    value: String,
    label: String,
    checked: bool,
}

/// A row of figures with its label.
#[derive(Serialize)]
struct FigureRow {
    label: String,
    cells: Vec<String>,
}

fn figure_rows(table: &Table, figures: &Figures) -> Vec<FigureRow> {
    table
        .rows
        .iter()
        .zip(figures)
        .map(|(label, row)| FigureRow { label: label.clone(), cells: row.iter().map(|v| v.to_string()).collect() })
        .collect()
}

/// The caller's own areas they may send from (above the grid), in scope order.
async fn own_senders(s: &AppState, p: &Principal) -> Result<Vec<Area>, ApiError> {
    let mut out = Vec::new();
    if !p.role.may(Action::SendInstructions) {
        return Ok(out);
    }
    for sc in &p.scopes {
        let area = areas::get_by_path(&s.db, &sc.path).await?;
        if area.level != AreaLevel::Grid {
            out.push(area);
        }
    }
    Ok(out)
}

// ---- the list ----

#[derive(Serialize)]
struct ListRow {
    href: String,
    title: String,
    from: String,
    due_on: String,
    state: String,
    state_code: &'static str,
    late: bool,
}

#[derive(Serialize)]
struct SentRow {
    href: String,
    title: String,
    from: String,
    due_on: String,
    counts: String,
    late: i64,
}

#[derive(Deserialize)]
pub struct ListQuery {
    area: Option<String>,
    /// Words the title holds.
    q: Option<String>,
    /// The page of what was received, and of what was sent: each list pages on its own.
    rpage: Option<u32>,
    spage: Option<u32>,
}

/// Cards per page of each list: a phone's few screens.
const PER_PAGE: u32 = 20;

async fn list_page(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    Query(q): Query<ListQuery>,
) -> Result<Response, ApiError> {
    let path = p.list_path(&s.db, q.area.as_deref()).await?.unwrap_or_else(|| "/".into());
    let search = q.q.as_deref().map(str::trim).unwrap_or_default().to_owned();
    let (rpage, spage) = (PageRequest::new(q.rpage, Some(PER_PAGE)), PageRequest::new(q.spage, Some(PER_PAGE)));
    let got = instructions::received_page(&s.db, &super::own_paths(&p, &path), &search, rpage).await?;
    let received: Vec<ListRow> = got
        .items
        .into_iter()
        .map(|(i, r)| ListRow {
            href: format!("/instructions/{}", i.id),
            title: i.title,
            from: i.area_name,
            due_on: i.due_on,
            state: label(r.state, lang).to_owned(),
            state_code: r.state.code(),
            late: r.late,
        })
        .collect();
    let sent_page = instructions::sent_page(&s.db, &path, &search, spage).await?;
    let sent: Vec<SentRow> = sent_page
        .items
        .into_iter()
        .map(|x| SentRow {
            href: format!("/instructions/{}", x.instruction.id),
            counts: say(
                &msg!(
                    "instructions.counts",
                    read = x.read,
                    reported = x.reported,
                    accepted = x.accepted,
                    receivers = x.receivers
                ),
                lang.code,
            ),
            late: x.late,
            title: x.instruction.title,
            from: x.instruction.area_name,
            due_on: x.instruction.due_on,
        })
        .collect();
    // Each list's pages keep the other's place, the area and the search.
    let link = |r: u32, s: u32| {
        let mut url = format!("/instructions?rpage={r}&spage={s}");
        for (k, v) in [("area", q.area.as_deref().unwrap_or_default()), ("q", search.as_str())] {
            if !v.is_empty() {
                url.push_str(&format!("&{k}={}", urlencode(v)));
            }
        }
        url
    };
    let last = |total: i64| ((total.max(1) - 1) / i64::from(PER_PAGE) + 1) as u32;
    let (r, sp) = (rpage.page, spage.page);
    let ctx = context! {
        received => Value::from(Serde(&received)), sent => Value::from(Serde(&sent)), area => &q.area,
        q => &search, received_total => got.total, sent_total => sent_page.total,
        received_prev => (r > 1).then(|| link(r - 1, sp)), received_next => (r < last(got.total)).then(|| link(r + 1, sp)),
        sent_prev => (sp > 1).then(|| link(r, sp - 1)), sent_next => (sp < last(sent_page.total)).then(|| link(r, sp + 1)),
        may_send => !own_senders(&s, &p).await?.is_empty(),
        ..frame(&p, lang, "/instructions")
    };
    Ok(render(lang, StatusCode::OK, "instructions/list.html", ctx))
}

// ---- sending ----

/// The sending form as typed.
#[derive(Default, Serialize)]
struct SendForm {
    area: String,
    title: String,
    body: String,
    due_on: String,
    receivers: Vec<String>,
    rows: String,
    columns: String,
    campaign: String,
}

impl SendForm {
    fn from_parts(parts: &Parts) -> Self {
        let field = |name: &str| {
            parts.pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_owned()).unwrap_or_default()
        };
        SendForm {
            area: field("area"),
            title: field("title"),
            body: field("body"),
            due_on: field("due_on"),
            receivers: parts.pairs.iter().filter(|(k, _)| k == "receivers").map(|(_, v)| v.clone()).collect(),
            rows: field("rows"),
            columns: field("columns"),
            campaign: field("campaign"),
        }
    }
}

#[derive(Deserialize)]
pub struct NewQuery {
    area: Option<String>,
}

async fn new_page(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    Query(q): Query<NewQuery>,
) -> Result<Response, ApiError> {
    // An area named must be in scope (one's own senders are chosen from it).
    p.list_path(&s.db, q.area.as_deref()).await?;
    let form = SendForm {
        area: q.area.unwrap_or_default(),
        due_on: (instructions::today() + time::Duration::days(7)).to_string(),
        ..Default::default()
    };
    send_page(&s, &p, lang, form, StatusCode::OK, None).await
}

async fn send_page(
    s: &AppState,
    p: &Principal,
    lang: Lang,
    form: SendForm,
    status: StatusCode,
    error: Option<String>,
) -> Result<Response, ApiError> {
    let senders = own_senders(s, p).await?;
    let Some(sender) = senders.iter().find(|a| a.id == form.area || a.code == form.area).or(senders.first()) else {
        return Err(ApiError::forbidden(msg!("instructions.error.not_yours")));
    };
    let receivers: Vec<Check> = areas::children(&s.db, &sender.id)
        .await?
        .into_iter()
        .map(|a| Check { checked: form.receivers.contains(&a.id), value: a.id, label: a.name })
        .collect();
    let today = instructions::today().to_string();
    let campaigns: Vec<Check> = wangge_store::campaigns::touching(&s.db, &sender.path)
        .await?
        .into_iter()
        .filter(|c| c.closes_on >= today)
        .map(|c| Check { checked: form.campaign == c.id, value: c.id, label: c.title })
        .collect();
    let from: Vec<Check> = senders
        .iter()
        .map(|a| Check { checked: a.id == sender.id, value: a.id.clone(), label: a.name.clone() })
        .collect();
    let ctx = context! {
        form => Value::from(Serde(&form)), sender_id => &sender.id, sender_name => &sender.name,
        from => Value::from(Serde(&from)), receivers => Value::from(Serde(&receivers)),
        campaigns => Value::from(Serde(&campaigns)), error,
        ..frame(p, lang, "/instructions")
    };
    Ok(render(lang, status, "instructions/new.html", ctx))
}

/// The files a form carried (input `files`), or why one was refused.
fn files_of(parts: Parts, lang: Lang) -> Result<(Parts, Vec<NewFile>), String> {
    let mut files = Vec::new();
    for f in parts.files.iter().filter(|f| f.field == "files") {
        match &f.data {
            Some(data) => files.push(NewFile { name: f.file_name.clone(), data: data.clone() }),
            None => return Err(tr("photos.too_big", lang.code).replace("%{name}", &f.file_name)),
        }
    }
    let rest = Parts { pairs: parts.pairs, files: Vec::new() };
    Ok((rest, files))
}

async fn create(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    request: axum::extract::Request,
) -> Result<Response, ApiError> {
    let parts = multipart::read(request, &(), wangge_store::demands::attachments::MAX_BYTES).await?;
    let form = SendForm::from_parts(&parts);
    let (_, files) = match files_of(parts, lang) {
        Ok(x) => x,
        Err(why) => return send_page(&s, &p, lang, form, StatusCode::UNPROCESSABLE_ENTITY, Some(why)).await,
    };
    let table = match Table::parse(&form.rows, &form.columns) {
        Ok(t) => t,
        Err(m) => {
            let why = say(&m, lang.code);
            return send_page(&s, &p, lang, form, StatusCode::UNPROCESSABLE_ENTITY, Some(why)).await;
        }
    };
    let new = NewInstruction {
        area_id: form.area.clone(),
        title: form.title.clone(),
        body: form.body.clone(),
        due_on: form.due_on.clone(),
        receivers: form.receivers.clone(),
        table,
        campaign_id: Some(form.campaign.clone()).filter(|c| !c.is_empty()),
    };
    match super::send(&s, &p, &address, new, &files).await {
        Ok(i) => Ok(Redirect::to(&format!("/instructions/{}?sent=1", i.id)).into_response()),
        Err(e) if e.status == StatusCode::UNPROCESSABLE_ENTITY => {
            let why = say(&e.message, lang.code);
            send_page(&s, &p, lang, form, StatusCode::UNPROCESSABLE_ENTITY, Some(why)).await
        }
        Err(e) => Err(e),
    }
}

// ---- an instruction's page ----

/// A file, linked.
#[derive(Serialize)]
struct FileLink {
    href: String,
    name: String,
    image: bool,
}

async fn file_links(s: &AppState, i: &str, r: Option<&str>) -> Result<Vec<FileLink>, ApiError> {
    Ok(instructions::files(&s.db, i, r)
        .await?
        .into_iter()
        .map(|f| FileLink {
            href: format!("/instructions/files/{}", f.id),
            image: f.content_type.starts_with("image/"),
            name: f.name,
        })
        .collect())
}

/// A receipt as the page shows it.
#[derive(Serialize)]
struct ReceiptView {
    id: String,
    area: String,
    state: String,
    state_code: &'static str,
    late: bool,
    read: Option<String>,
    reported: Option<String>,
    accepted: Option<String>,
    text: Option<String>,
    figures: Vec<FigureRow>,
    returns: i64,
    returned_reason: Option<String>,
    files: Vec<FileLink>,
    may_review: bool,
    /// Passed down by another receiver (shown under it).
    passed_by: Option<String>,
}

async fn view(
    s: &AppState,
    i: &Instruction,
    r: &Receipt,
    seen: &[Receipt],
    may_review: bool,
    lang: Lang,
) -> Result<ReceiptView, ApiError> {
    let when = |at: Option<i64>, by: &Option<String>| {
        at.map(|t| format!("{} {}", local_time(t), by.clone().unwrap_or_default()).trim().to_owned())
    };
    let figures = match (&i.table, &r.figures) {
        (Some(t), Some(f)) => figure_rows(t, f),
        _ => Vec::new(),
    };
    Ok(ReceiptView {
        id: r.id.clone(),
        area: r.area_name.clone(),
        state: label(r.state, lang).to_owned(),
        state_code: r.state.code(),
        late: r.late,
        read: when(r.read_at, &r.read_by_name),
        reported: when(r.reported_at, &r.reported_by_name),
        accepted: when(r.accepted_at, &r.accepted_by_name),
        text: r.report_text.clone().filter(|t| !t.is_empty()),
        figures,
        returns: r.returns,
        returned_reason: r.returned_reason.clone(),
        files: file_links(s, &i.id, Some(&r.id)).await?,
        may_review: may_review && r.state == ReceiptState::Reported,
        passed_by: r.parent_id.as_ref().and_then(|pid| seen.iter().find(|x| &x.id == pid)).map(|x| x.area_name.clone()),
    })
}

#[derive(Deserialize)]
pub struct ShowQuery {
    /// `children`: the report form filled with the sum of the accepted reports below.
    fill: Option<String>,
    sent: Option<String>,
    done: Option<String>,
}

async fn show(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    Path(id): Path<String>,
    Query(q): Query<ShowQuery>,
) -> Result<Response, ApiError> {
    show_with(&s, &p, lang, &id, &q, StatusCode::OK, None, None).await
}

/// A cell of the report form.
#[derive(Serialize)]
struct CellInput {
    name: String,
    label: String,
    value: String,
}

/// A row of the report form: its label and its cells.
#[derive(Serialize)]
struct RowInputs {
    label: String,
    cells: Vec<CellInput>,
}

/// What was typed in a refused report, to show again.
#[derive(Default)]
struct Typed {
    text: String,
    cells: Vec<Vec<String>>,
}

#[allow(clippy::too_many_arguments)] // the page, as shown after each of its forms
async fn show_with(
    s: &AppState,
    p: &Principal,
    lang: Lang,
    id: &str,
    q: &ShowQuery,
    status: StatusCode,
    error: Option<String>,
    typed: Option<Typed>,
) -> Result<Response, ApiError> {
    let (i, seen) = super::reachable(s, p, id).await?;
    let mine = seen.iter().find(|r| super::acts_for(p, r)).cloned();
    let mut receivers = Vec::new();
    for r in seen.iter().filter(|r| mine.as_ref().is_none_or(|m| m.id != r.id)) {
        receivers.push(view(s, &i, r, &seen, super::reviews(p, &i, r, &seen), lang).await?);
    }
    // The accepted figures summed: of the receivers the caller addressed (the
    // sender's own, or those the caller's area passed down to).
    let addressed: Vec<&Receipt> = seen
        .iter()
        .filter(|r| match (&mine, &r.parent_id) {
            (Some(m), Some(parent)) => parent == &m.id,
            (None, None) => true,
            _ => false,
        })
        .collect();
    let total = i.table.as_ref().filter(|_| !addressed.is_empty()).map(|t| {
        let accepted: Vec<&Figures> =
            addressed.iter().filter(|r| r.state == ReceiptState::Accepted).filter_map(|r| r.figures.as_ref()).collect();
        let n = accepted.len();
        (figure_rows(t, &t.sum(accepted)), n)
    });
    let (total_rows, total_accepted) = match total {
        Some((rows, n)) => (Some(rows), n),
        None => (None, 0),
    };
    // One's own receipt: the report form, filled with what was reported, typed, or
    // the sum of the accepted reports below.
    let mut own = None;
    if let Some(m) = &mine {
        let children = instructions::children_sum(&s.db, &m.id).await?;
        let cells: Vec<Vec<String>> = match (&typed, q.fill.as_deref(), &children, &m.figures) {
            (Some(t), _, _, _) => t.cells.clone(),
            (None, Some("children"), Some((sum, _, _)), _) => {
                sum.iter().map(|r| r.iter().map(|v| v.to_string()).collect()).collect()
            }
            (None, _, _, Some(f)) => f.iter().map(|r| r.iter().map(|v| v.to_string()).collect()).collect(),
            _ => Vec::new(),
        };
        let inputs: Vec<RowInputs> = i
            .table
            .as_ref()
            .map(|t| {
                t.rows
                    .iter()
                    .enumerate()
                    .map(|(r, row)| RowInputs {
                        label: row.clone(),
                        cells: t
                            .columns
                            .iter()
                            .enumerate()
                            .map(|(c, col)| CellInput {
                                name: Table::input(r, c),
                                label: format!("{row} · {col}"),
                                value: cells.get(r).and_then(|x| x.get(c)).cloned().unwrap_or_default(),
                            })
                            .collect(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let already: Vec<String> = seen.iter().map(|r| r.area_id.clone()).collect();
        let area = areas::get(&s.db, &m.area_id).await?;
        let pass_to: Vec<Check> = if p.role.may(Action::SendInstructions) && m.state != ReceiptState::Accepted {
            areas::children(&s.db, &area.id)
                .await?
                .into_iter()
                .filter(|a| !already.contains(&a.id))
                .map(|a| Check { value: a.id, label: a.name, checked: false })
                .collect()
        } else {
            Vec::new()
        };
        let text = match &typed {
            Some(t) => t.text.clone(),
            None => m.report_text.clone().unwrap_or_default(),
        };
        let v = view(s, &i, m, &seen, false, lang).await?;
        own = Some(context! {
            receipt => Value::from(Serde(&v)), open => m.state != ReceiptState::Accepted,
            unread => m.state == ReceiptState::Sent, inputs => Value::from(Serde(&inputs)), text,
            children => children.map(|(_, n, of)| say(&msg!("instructions.children_accepted", accepted = n, of = of), lang.code)),
            pass_to => Value::from(Serde(&pass_to)),
        });
    }
    let columns = i.table.as_ref().map(|t| t.columns.clone()).unwrap_or_default();
    let ctx = context! {
        instruction => Value::from(Serde(&i)), columns, own, error,
        receivers => Value::from(Serde(&receivers)), total_rows => total_rows.map(|r| Value::from(Serde(&r))),
        total_accepted, addressed => addressed.len(),
        files => Value::from(Serde(&file_links(s, &i.id, None).await?)),
        sent => q.sent.is_some(), done => done_words(q.done.as_deref(), lang),
        campaign_href => i.campaign_id.as_ref().map(|c| format!("/campaigns/{c}")),
        ..frame(p, lang, "/instructions")
    };
    Ok(render(lang, status, "instructions/show.html", ctx))
}

/// What the step just taken did, in words.
fn done_words(done: Option<&str>, lang: Lang) -> Option<String> {
    let key = match done? {
        "read" => "instructions.done.read",
        "reported" => "instructions.done.reported",
        "returned" => "instructions.done.returned",
        "accepted" => "instructions.done.accepted",
        "passed" => "instructions.done.passed",
        _ => return None,
    };
    Some(tr(key, lang.code))
}

// ---- steps ----

/// After a step: back to the instruction, saying what was done; refused, the page
/// again with the reason (and what was typed).
async fn after_step(
    s: &AppState,
    p: &Principal,
    lang: Lang,
    receipt_id: &str,
    done: &str,
    result: Result<Receipt, ApiError>,
    typed: Option<Typed>,
) -> Result<Response, ApiError> {
    match result {
        Ok(r) => {
            Ok(Redirect::to(&format!("/instructions/{}?done={done}#receipt-{}", r.instruction_id, r.id))
                .into_response())
        }
        Err(e)
            if e.status.is_client_error() && e.status != StatusCode::NOT_FOUND && e.status != StatusCode::FORBIDDEN =>
        {
            let r = instructions::receipt(&s.db, receipt_id).await?;
            let q = ShowQuery { fill: None, sent: None, done: None };
            let why = say(&e.message, lang.code);
            show_with(s, p, lang, &r.instruction_id, &q, e.status, Some(why), typed).await
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
pub struct ReadForm {
    /// `today`: confirmed from 今日, which it goes back to.
    back: Option<String>,
}

async fn read(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<ReadForm>,
) -> Result<Response, ApiError> {
    let result = super::take(&s, &p, &address, &id, Step::Read).await;
    if f.back.as_deref() == Some("today") && result.is_ok() {
        return Ok(Redirect::to("/today").into_response());
    }
    after_step(&s, &p, lang, &id, "read", result, None).await
}

async fn report(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
    request: axum::extract::Request,
) -> Result<Response, ApiError> {
    // Scope first: a caller outside it learns nothing from how the body is parsed.
    let (i, _, _) = super::receipt_in_sight(&s, &p, &id).await?;
    let parts = multipart::read(request, &(), wangge_store::demands::attachments::MAX_BYTES).await?;
    let field = |name: &str| parts.pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let text = field("text").unwrap_or_default();
    let cells: Vec<Vec<String>> = i
        .table
        .as_ref()
        .map(|t| {
            (0..t.rows.len())
                .map(|r| (0..t.columns.len()).map(|c| field(&Table::input(r, c)).unwrap_or_default()).collect())
                .collect()
        })
        .unwrap_or_default();
    let typed = Typed { text: text.clone(), cells: cells.clone() };
    let figures = match &i.table {
        Some(t) => match t.read(|r, c| cells.get(r).and_then(|x| x.get(c)).cloned()) {
            Ok(f) => Some(f),
            Err(errors) => {
                let first = errors.first().map(|(_, m)| say(m, lang.code)).unwrap_or_default();
                let why = say(&msg!("instructions.error.cells", count = errors.len(), first = first), lang.code);
                let q = ShowQuery { fill: None, sent: None, done: None };
                return show_with(&s, &p, lang, &i.id, &q, StatusCode::UNPROCESSABLE_ENTITY, Some(why), Some(typed))
                    .await;
            }
        },
        None => None,
    };
    let (_, files) = match files_of(parts, lang) {
        Ok(x) => x,
        Err(why) => {
            let q = ShowQuery { fill: None, sent: None, done: None };
            return show_with(&s, &p, lang, &i.id, &q, StatusCode::UNPROCESSABLE_ENTITY, Some(why), Some(typed)).await;
        }
    };
    let result = super::take(&s, &p, &address, &id, Step::Report { text, figures, files }).await;
    after_step(&s, &p, lang, &id, "reported", result, Some(typed)).await
}

#[derive(Deserialize)]
pub struct ReturnForm {
    #[serde(default)]
    reason: String,
}

async fn send_back(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<ReturnForm>,
) -> Result<Response, ApiError> {
    let result = super::take(&s, &p, &address, &id, Step::Return { reason: f.reason }).await;
    after_step(&s, &p, lang, &id, "returned", result, None).await
}

async fn accept(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let result = super::take(&s, &p, &address, &id, Step::Accept).await;
    after_step(&s, &p, lang, &id, "accepted", result, None).await
}

async fn pass(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let receivers: Vec<String> = pairs.into_iter().filter(|(k, _)| k == "receivers").map(|(_, v)| v).collect();
    let result = super::pass_down(&s, &p, &address, &id, &receivers).await;
    let result = match result {
        Ok(_) => instructions::receipt(&s.db, &id).await.map_err(ApiError::from),
        Err(e) => Err(e),
    };
    after_step(&s, &p, lang, &id, "passed", result, None).await
}

/// A file of an instruction or of a report, to those who see it; audited.
async fn file(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (f, data) = match instructions::file(&s.db, &id).await {
        Ok(x) => x,
        Err(wangge_store::StoreError::NotFound { .. }) => return Err(unknown(Thing::InstructionFile, &id)),
        Err(e) => return Err(e.into()),
    };
    let (i, seen) =
        super::reachable(&s, &p, &f.instruction_id).await.map_err(|_| unknown(Thing::InstructionFile, &id))?;
    let path = match &f.receipt_id {
        None => i.path.clone(),
        Some(r) => seen
            .iter()
            .find(|x| &x.id == r)
            .map(|x| x.path.clone())
            .ok_or_else(|| unknown(Thing::InstructionFile, &id))?,
    };
    let event = audit::Event {
        target_kind: Some("instruction_file"),
        target_id: Some(&f.id),
        path: Some(&path),
        ..audit::Event::of(AuditAction::InstructionFileView)
    };
    audit::log(&s.db, Some(&p), None, &address, event).await?;
    let disposition = if f.content_type.starts_with("image/") { "inline" } else { "attachment" };
    Ok(crate::shared::api::private_file(&f.content_type, disposition, data))
}

pub(crate) fn routes() -> crate::shared::routes::Routes {
    use crate::shared::auth::Access::Role;
    use crate::shared::routes::Limit;
    use wangge_domain::Action::{SendInstructions, ViewInstructions};
    crate::shared::routes::Routes::new()
        .get("/instructions", Role(ViewInstructions), list_page)
        .get("/instructions/new", Role(SendInstructions), new_page)
        .post_limited("/instructions", Role(SendInstructions), Limit::Photos, create)
        .get("/instructions/{id}", Role(ViewInstructions), show)
        .get("/instructions/files/{id}", Role(ViewInstructions), file)
        .post("/instructions/receipts/{id}/read", Role(ViewInstructions), read)
        .post_limited("/instructions/receipts/{id}/report", Role(ViewInstructions), Limit::Photos, report)
        .post("/instructions/receipts/{id}/return", Role(SendInstructions), send_back)
        .post("/instructions/receipts/{id}/accept", Role(SendInstructions), accept)
        .post("/instructions/receipts/{id}/pass", Role(SendInstructions), pass)
}
