//! One target at the door: where and who, "nobody home" / refused / no such
//! household in one tap, and the form page by page. Without JavaScript a question
//! whose condition reads an answer on its own page could not appear in time, so
//! `Form::pages` moves it to the next page and the server decides, page by page,
//! which questions are asked; answers of earlier pages travel in hidden fields and
//! only the last page stores anything (all through `Form::check`).

use std::collections::BTreeMap;

use axum::Form as Posted;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::value::Serde;
use minijinja::{Value, context};
use serde::{Deserialize, Serialize};
use wangge_domain::campaigns::{Form, Question, QuestionKind, TargetStatus};
use wangge_domain::{Action, AuditAction, Vocabulary, msg};
use wangge_store::campaigns::{self, AnswerOutcome, Phase, TargetLine};

use crate::shared::audit::{self, Target};
use crate::shared::auth::{ClientAddress, Principal};
use crate::shared::render::{Lang, frame, label, render, say};
use crate::{ApiError, AppState};

/// A choice of a question, ticked or not.
#[derive(Serialize)]
struct ChoiceView {
    value: String,
    label: String,
    checked: bool,
}

/// A question as the page shows it.
#[derive(Serialize)]
struct QuestionView {
    name: String,
    /// `text`, `integer`, `decimal`, `date`, `one`, `many`, `photo`, `note`.
    kind: &'static str,
    label: String,
    hint: String,
    required: bool,
    value: String,
    choices: Vec<ChoiceView>,
    error: Option<String>,
}

/// Whether a page shows a photo question (its form is then sent as
/// multipart/form-data).
fn has_photo(questions: &[QuestionView]) -> bool {
    questions.iter().any(|q| q.kind == "photo")
}

fn text_in(l: &wangge_domain::campaigns::Label, lang: Lang) -> String {
    if lang.code == "en" { l.en.clone() } else { l.zh.clone() }
}

fn view(
    form: &Form,
    q: &Question,
    answers: &BTreeMap<String, String>,
    error: Option<String>,
    lang: Lang,
) -> QuestionView {
    let value = answers.get(&q.name).cloned().unwrap_or_default();
    let picked: Vec<&str> = value.split_whitespace().collect();
    let choices = q
        .kind
        .list()
        .and_then(|l| form.lists.get(l))
        .map(|items| {
            items
                .iter()
                .map(|c| ChoiceView {
                    value: c.name.clone(),
                    label: text_in(&c.label, lang),
                    checked: picked.contains(&c.name.as_str()),
                })
                .collect()
        })
        .unwrap_or_default();
    let kind = match q.kind {
        QuestionKind::Text => "text",
        QuestionKind::Integer => "integer",
        QuestionKind::Decimal => "decimal",
        QuestionKind::Date => "date",
        QuestionKind::SelectOne(_) => "one",
        QuestionKind::SelectMultiple(_) => "many",
        QuestionKind::Photo => "photo",
        QuestionKind::Note => "note",
    };
    QuestionView {
        name: q.name.clone(),
        kind,
        label: text_in(&q.label, lang),
        hint: text_in(&q.hint, lang),
        required: q.required,
        value,
        choices,
        error,
    }
}

/// The page numbers that have a question asked under the answers so far.
fn asked_pages(form: &Form, answers: &BTreeMap<String, String>, today: &str) -> Vec<usize> {
    let pages = form.pages();
    let mut out: Vec<usize> = Vec::new();
    for (q, &page) in form.questions.iter().zip(&pages) {
        if form.is_relevant(q, answers, today) && !out.contains(&page) {
            out.push(page);
        }
    }
    out
}

struct Shown<'a> {
    line: &'a TargetLine,
    form: &'a Form,
    version: i64,
    page: usize,
    /// When the form was first shown (milliseconds): a registry fact changed after
    /// it is not overwritten by these answers.
    opened: i64,
    answers: &'a BTreeMap<String, String>,
    errors: &'a BTreeMap<String, String>,
    error: Option<String>,
}

async fn render_target(
    s: &AppState,
    p: &Principal,
    lang: Lang,
    status: StatusCode,
    shown: Shown<'_>,
) -> Result<Response, ApiError> {
    let line = shown.line;
    let campaign = campaigns::get(&s.db, &line.target.campaign_id).await?;
    let today = super::today();
    let today_text = today.to_string();
    let pages = shown.form.pages();
    let asked = asked_pages(shown.form, shown.answers, &today_text);
    let questions: Vec<QuestionView> = shown
        .form
        .questions
        .iter()
        .zip(&pages)
        .filter(|(q, page)| **page == shown.page && shown.form.is_relevant(q, shown.answers, &today_text))
        .map(|(q, _)| view(shown.form, q, shown.answers, shown.errors.get(&q.name).cloned(), lang))
        .collect();
    // Answers of the other pages ride along; this page's are the inputs themselves.
    let on_page: Vec<&str> = questions.iter().map(|q| q.name.as_str()).collect();
    let carried: Vec<(String, String)> = shown
        .answers
        .iter()
        .filter(|(k, _)| !on_page.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    // A later page may still be asked when one of its conditions reads an answer
    // not given yet (on this page or after it): the button says "next" then, and
    // the server decides once the answers are in.
    let unanswered: Vec<&str> = shown
        .form
        .questions
        .iter()
        .zip(&pages)
        .filter(|(q, pg)| **pg >= shown.page && !shown.answers.contains_key(&q.name))
        .map(|(q, _)| q.name.as_str())
        .collect();
    let mut maybe: Vec<usize> = asked.iter().copied().filter(|pg| *pg <= shown.page).collect();
    for (q, &pg) in shown.form.questions.iter().zip(&pages) {
        let possible = shown.form.is_relevant(q, shown.answers, &today_text)
            || q.relevant.as_ref().is_some_and(|r| r.fields().iter().any(|f| unanswered.contains(f)));
        if pg > shown.page && possible && !maybe.contains(&pg) {
            maybe.push(pg);
        }
    }
    let position = maybe.iter().filter(|pg| **pg < shown.page).count();
    let last = !maybe.iter().any(|pg| *pg > shown.page);
    let open = line.target.status.is_open() && campaign.phase(today) != Phase::Upcoming;
    let answered = if line.target.status == TargetStatus::Done {
        let given = campaigns::answers(&s.db, &line.target.id).await?.unwrap_or_default();
        let pinned = line.target.form_version.unwrap_or(campaign.form_version);
        let form = campaigns::form(&s.db, &campaign.id, pinned).await?;
        form.questions
            .iter()
            .filter_map(|q| {
                let v = given.get(&q.name)?;
                // A photo is shown, by its id; every other answer as text.
                if q.kind == QuestionKind::Photo {
                    return Some((text_in(&q.label, lang), String::new(), v.clone()));
                }
                let shown = match q.kind.list() {
                    Some(list) => v
                        .split_whitespace()
                        .map(|c| form.choice(list, c).map_or_else(|| c.to_owned(), |c| text_in(&c.label, lang)))
                        .collect::<Vec<_>>()
                        .join("、"),
                    None => v.clone(),
                };
                Some((text_in(&q.label, lang), shown, String::new()))
            })
            .collect::<Vec<_>>()
    } else {
        Vec::new()
    };
    let step = say(&msg!("campaigns.page_of", page = position + 1, pages = maybe.len().max(1)), lang.code);
    let ctx = context! {
        campaign => Value::from(Serde(&campaign)), target_id => &line.target.id,
        place => super::pages::place(line, lang), who => &line.resident_name,
        status => label(line.target.status, lang), status_code => line.target.status.code(),
        attempts => line.target.attempts, open, answered, version => shown.version, opened => shown.opened,
        has_photo => has_photo(&questions),
        questions => Value::from(Serde(&questions)), carried => carried, page => shown.page, last, step,
        first => position == 0, error => shown.error, may_exempt => p.role.may(Action::RunCampaigns),
        form_title => text_in(&shown.form.title, lang),
        ..frame(p, lang, "/campaigns")
    };
    Ok(render(lang, status, "campaigns/target.html", ctx))
}

#[derive(Deserialize)]
pub struct PageQuery {
    page: Option<usize>,
}

/// The target's page: the first page of questions asked, or its answers when done.
async fn target_page(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> Result<Response, ApiError> {
    let line = super::target_in_scope(&s, &p, &id).await?;
    let campaign = campaigns::get(&s.db, &line.target.campaign_id).await?;
    let form = campaigns::form(&s.db, &campaign.id, campaign.form_version).await?;
    let answers = BTreeMap::new();
    let today = super::today().to_string();
    let first = asked_pages(&form, &answers, &today).first().copied().unwrap_or(0);
    let shown = Shown {
        line: &line,
        form: &form,
        version: campaign.form_version,
        page: q.page.filter(|p| *p == first).unwrap_or(first),
        opened: wangge_domain::now_millis(),
        answers: &answers,
        errors: &BTreeMap::new(),
        error: None,
    };
    render_target(&s, &p, lang, StatusCode::OK, shown).await
}

/// A page of answers sent: `a.<name>` per answer (a multiple choice repeats its
/// name), `version`, `page`, and `go` = `next`, `back` or `save`.
async fn answer_page(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
    request: axum::extract::Request,
) -> Result<Response, ApiError> {
    let line = super::target_in_scope(&s, &p, &id).await?;
    let campaign = campaigns::get(&s.db, &line.target.campaign_id).await?;
    // A page with a photo question is sent as multipart/form-data, the others as
    // a plain form.
    let sent = crate::shared::multipart::read(request, &(), wangge_store::demands::attachments::MAX_BYTES).await?;
    let pairs = sent.pairs;
    let field = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or("");
    let version: i64 = field("version").parse().unwrap_or(0);
    let page: usize = field("page").parse().unwrap_or(0);
    let opened: Option<i64> = field("opened").parse().ok();
    let go = field("go").to_owned();
    let form = campaigns::form(&s.db, &campaign.id, campaign.form_version).await?;
    if version != campaign.form_version {
        // The form changed while this one was open: start again on the new one.
        let error = say(&msg!("campaigns.error.version", current = campaign.form_version), lang.code);
        let shown = Shown {
            line: &line,
            form: &form,
            version: campaign.form_version,
            page: 0,
            opened: wangge_domain::now_millis(),
            answers: &BTreeMap::new(),
            errors: &BTreeMap::new(),
            error: Some(error),
        };
        return render_target(&s, &p, lang, StatusCode::CONFLICT, shown).await;
    }
    let mut answers: BTreeMap<String, String> = BTreeMap::new();
    for (k, v) in &pairs {
        if let Some(name) = k.strip_prefix("a.") {
            let v = v.trim();
            if v.is_empty() {
                continue;
            }
            answers
                .entry(name.to_owned())
                .and_modify(|e| {
                    e.push(' ');
                    e.push_str(v);
                })
                .or_insert_with(|| v.to_owned());
        }
    }
    // Photos are stored as their page is sent; the answer is the photo's id.
    let mut refused: BTreeMap<String, String> = BTreeMap::new();
    if line.target.status.is_open() && !sent.files.is_empty() {
        for (name, taken) in super::photos::take(&s, &p, &address, &line, &form, sent.files).await? {
            match taken {
                Ok(photo) => {
                    answers.insert(name, photo);
                }
                Err(why) => {
                    refused.insert(name, say(&why, lang.code));
                }
            }
        }
    }
    let today = super::today();
    let today_text = today.to_string();
    let pages = form.pages();
    // Judge the pages up to this one; later pages are not asked yet.
    let errors: BTreeMap<String, String> = match form.check(&answers, &today_text) {
        Ok(_) => BTreeMap::new(),
        Err(errs) => errs.into_iter().map(|e| (e.question, say(&e.message, lang.code))).collect(),
    };
    let page_of = |name: &str| form.questions.iter().position(|q| q.name == name).map_or(usize::MAX, |i| pages[i]);
    let mut here: BTreeMap<String, String> =
        errors.iter().filter(|(k, _)| page_of(k) <= page).map(|(k, v)| (k.clone(), v.clone())).collect();
    here.extend(refused);
    let asked = asked_pages(&form, &answers, &today_text);
    let no_errors = BTreeMap::new();
    macro_rules! show {
        ($page:expr, $errors:expr, $status:expr, $error:expr) => {{
            let shown = Shown {
                line: &line,
                form: &form,
                version,
                page: $page,
                opened: opened.unwrap_or_else(wangge_domain::now_millis),
                answers: &answers,
                errors: $errors,
                error: $error,
            };
            render_target(&s, &p, lang, $status, shown).await
        }};
    }
    if go == "back" {
        let previous = asked.iter().rev().find(|&&pg| pg < page).copied().unwrap_or(page);
        return show!(previous, &no_errors, StatusCode::OK, None);
    }
    if !here.is_empty() {
        let error = say(&msg!("campaigns.error.answers", count = here.len()), lang.code);
        let first_bad = here.keys().map(|k| page_of(k)).min().unwrap_or(page);
        return show!(first_bad, &here, StatusCode::UNPROCESSABLE_ENTITY, Some(error));
    }
    if let Some(next) = asked.iter().find(|&&pg| pg > page).copied() {
        return show!(next, &no_errors, StatusCode::OK, None);
    }
    match record(&s, &p, &address, &line, &answers, version, opened).await {
        // Answers held back from the registry are said on the campaign's page.
        Ok(done) => {
            let held = done.conflicts.len();
            let flag = if held > 0 { format!("&held={held}") } else { String::new() };
            Ok(Redirect::to(&format!("/campaigns/{}?saved=1{flag}#mine", campaign.id)).into_response())
        }
        Err(Failed::Answers(errs)) => {
            let all: BTreeMap<String, String> =
                errs.into_iter().map(|e| (e.question, say(&e.message, lang.code))).collect();
            let error = say(&msg!("campaigns.error.answers", count = all.len()), lang.code);
            let first_bad = all.keys().map(|k| page_of(k)).min().unwrap_or(page);
            show!(first_bad, &all, StatusCode::UNPROCESSABLE_ENTITY, Some(error))
        }
        Err(Failed::Api(e)) if e.status.is_client_error() && e.status != StatusCode::NOT_FOUND => {
            show!(page, &no_errors, e.status, Some(say(&e.message, lang.code)))
        }
        Err(Failed::Api(e)) => Err(e),
    }
}

/// Why answers were not kept.
pub(crate) enum Failed {
    Api(ApiError),
    Answers(Vec<wangge_domain::campaigns::AnswerError>),
}

/// The one way answers are kept, for the page and the API: judged by the form,
/// sealed, the registry facts the form names written back (or held as conflicts),
/// audited without their content. Returns what the registry took and held back.
pub(crate) async fn record(
    s: &AppState,
    p: &Principal,
    address: &ClientAddress,
    line: &TargetLine,
    answers: &BTreeMap<String, String>,
    version: i64,
    opened: Option<i64>,
) -> Result<campaigns::Answered, Failed> {
    let today = super::today();
    let by_name = p.actor_name();
    match campaigns::answer(&s.db, &line.target.id, answers, version, opened, super::account_id(p), &by_name, today)
        .await
    {
        Ok(done) => {
            let t = &done.target;
            let summary = serde_json::json!({
                "status": t.status, "form_version": t.form_version, "answers": answers.len(),
                "written": done.written, "held": done.conflicts.iter().map(|c| c.fact).collect::<Vec<_>>(),
            });
            audit::change(
                &s.db,
                (p, address),
                AuditAction::CampaignAnswer,
                Target("campaign_target", &t.id, &t.path),
                None,
                &summary,
            )
            .await
            .map_err(|e| Failed::Api(e.into()))?;
            Ok(done)
        }
        Err(AnswerOutcome::Answers(errs)) => Err(Failed::Answers(errs)),
        Err(AnswerOutcome::Store(e)) => Err(Failed::Api(e.into())),
    }
}

#[derive(Deserialize)]
pub struct MarkForm {
    status: String,
}

/// Nobody home (to the revisit queue), refused, no such household, or exempt
/// (those who run campaigns only).
async fn mark(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
    Posted(f): Posted<MarkForm>,
) -> Result<Response, ApiError> {
    let line = super::target_in_scope(&s, &p, &id).await?;
    let status = TargetStatus::from_code(&f.status)
        .ok_or_else(|| ApiError::invalid(msg!("campaigns.error.mark").field("status")))?;
    mark_target(&s, &p, &address, &line, status).await?;
    Ok(Redirect::to(&format!("/campaigns/{}?marked={}#mine", line.target.campaign_id, status.code())).into_response())
}

/// The one way a target is marked, for the page and the API.
pub(crate) async fn mark_target(
    s: &AppState,
    p: &Principal,
    address: &ClientAddress,
    line: &TargetLine,
    status: TargetStatus,
) -> Result<wangge_store::campaigns::Target, ApiError> {
    if status == TargetStatus::Exempt && !p.role.may(Action::RunCampaigns) {
        return Err(ApiError::forbidden(msg!("campaigns.error.exempt").field("status")));
    }
    if !line.target.status.is_open() && status != TargetStatus::Exempt {
        return Err(ApiError::new(StatusCode::CONFLICT, "conflict", msg!("campaigns.error.settled").field("status")));
    }
    let t = campaigns::mark(&s.db, &line.target.id, status, super::account_id(p), &p.actor_name()).await?;
    let summary = serde_json::json!({ "status": t.status, "attempts": t.attempts });
    audit::change(
        &s.db,
        (p, address),
        AuditAction::CampaignMark,
        Target("campaign_target", &t.id, &t.path),
        None,
        &summary,
    )
    .await?;
    Ok(t)
}

pub(crate) fn routes() -> crate::shared::routes::Routes {
    use crate::shared::auth::Access::Role;
    use crate::shared::routes::Limit;
    use wangge_domain::Action::VisitHouseholds;
    crate::shared::routes::Routes::new()
        .get("/campaigns/targets/{id}", Role(VisitHouseholds), target_page)
        // A page with a photo question carries its photo.
        .post_limited("/campaigns/targets/{id}", Role(VisitHouseholds), Limit::Photos, answer_page)
        .post("/campaigns/targets/{id}/mark", Role(VisitHouseholds), mark)
}
