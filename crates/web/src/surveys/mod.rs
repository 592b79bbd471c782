//! Surveys (问卷调查): staff build a questionnaire (`/surveys/{id}`: single and
//! multiple choice, rating, text, number; required; skip logic as an XLSForm
//! `relevant` expression, judged by the campaigns' `Form::check`), open it, set
//! quotas per grid, read the results as tables and server-drawn SVG charts
//! (`cockpit::charts`) cross-tabulated by grid, age band, residence type and
//! channel with small cells suppressed, and download them as .xlsx. Residents
//! answer on the portal; a grid member enters an answer with a resident at the
//! door, by phone, or from a paper sheet (`/surveys/{id}/enter`). The rules are
//! `wangge_store::surveys` and `wangge_domain::surveys`.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::value::Serde;
use minijinja::{Value, context};
use serde::{Deserialize, Serialize};
use wangge_domain::campaigns::{Choice as FormChoice, Expr, Form, Label, Question, QuestionKind};
use wangge_domain::surveys::{Channel, RATING_LIST, SurveyState, cross_tab, rating_choices, tally};
use wangge_domain::{AuditAction, ResidenceType, Vocabulary, msg};
use wangge_ledger::xlsx_out::{ReportCell, ReportSheet, report_xlsx_bytes};
use wangge_store::registry::areas;
use wangge_store::registry::residents::{self, ResidentFilter};
use wangge_store::surveys::{self, AnswerRow, Survey};
use wangge_store::{PageRequest, StoreError, Thing};

use crate::cockpit::charts;
use crate::shared::audit::{self, Target};
use crate::shared::auth::{ClientAddress, Principal, unknown};
use crate::shared::render::{Lang, frame, label, render, say, tr};
use crate::{ApiError, AppState};

type Pairs = Vec<(String, String)>;

fn field<'a>(pairs: &'a Pairs, name: &str) -> &'a str {
    pairs.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.trim())
}

fn text_of(l: &Label, lang: Lang) -> String {
    if lang.code == "en" && !l.en.is_empty() { l.en.clone() } else { l.zh.clone() }
}

/// A survey the caller may see (of an area at or under their scope).
async fn survey_in_scope(s: &AppState, p: &Principal, id: &str) -> Result<Survey, ApiError> {
    p.refer(surveys::get(&s.db, id).await, Thing::Survey, id, |x| &x.path)
}

/// Today in China time.
fn today() -> String {
    wangge_domain::party::china_day(wangge_domain::now_millis()).to_string()
}

// ---- the form as a page shows it ------------------------------------------------

#[derive(Serialize)]
struct Opt {
    value: String,
    label: String,
    checked: bool,
}

#[derive(Serialize)]
struct Shown {
    name: String,
    label: String,
    kind: &'static str,
    kind_label: String,
    required: bool,
    condition: String,
    options: Vec<Opt>,
    value: String,
    error: Option<String>,
}

/// The questions of `form` for a page, with the answers given and their errors.
fn shown(form: &Form, lang: Lang, given: &BTreeMap<String, String>, errors: &BTreeMap<String, String>) -> Vec<Shown> {
    form.questions
        .iter()
        .filter(|q| q.kind != QuestionKind::Note)
        .map(|q| {
            let value = given.get(&q.name).cloned().unwrap_or_default();
            let kind = match &q.kind {
                QuestionKind::SelectOne(_) => "single",
                QuestionKind::SelectMultiple(_) => "multiple",
                QuestionKind::Integer | QuestionKind::Decimal => "number",
                _ => "text",
            };
            let options = q
                .kind
                .list()
                .and_then(|l| form.lists.get(l))
                .map(|choices| {
                    choices
                        .iter()
                        .map(|c| Opt {
                            checked: value.split_whitespace().any(|v| v == c.name),
                            value: c.name.clone(),
                            label: text_of(&c.label, lang),
                        })
                        .collect()
                })
                .unwrap_or_default();
            let rating = q.kind.list() == Some(RATING_LIST);
            let kind_label = tr(&format!("surveys.kind.{}", if rating { "rating" } else { kind }), lang.code);
            Shown {
                name: q.name.clone(),
                label: text_of(&q.label, lang),
                kind,
                kind_label,
                required: q.required,
                condition: condition_text(form, q, lang),
                options,
                value,
                error: errors.get(&q.name).cloned(),
            }
        })
        .collect()
}

/// A question's condition in words: "answer only if …" with the expression.
fn condition_text(form: &Form, q: &Question, lang: Lang) -> String {
    let Some(r) = &q.relevant else { return String::new() };
    let mut names = Vec::new();
    for f in r.fields() {
        if let Some(other) = form.question(f) {
            names.push(text_of(&other.label, lang));
        }
    }
    tr("surveys.condition", lang.code).replace("%{questions}", &names.join("、"))
}

/// The answers in a form's pairs (`a_<name>`, repeated for a multiple choice).
fn answers_of(pairs: &Pairs) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    for (k, v) in pairs {
        if let Some(name) = k.strip_prefix("a_") {
            let entry = out.entry(name.to_owned()).or_default();
            if !entry.is_empty() {
                entry.push(' ');
            }
            entry.push_str(v.trim());
        }
    }
    out
}

fn errors_of(errors: &[wangge_domain::campaigns::AnswerError], lang: Lang) -> BTreeMap<String, String> {
    errors.iter().map(|e| (e.question.clone(), say(&e.message, lang.code))).collect()
}

// ---- staff: list, create, build -----------------------------------------------

#[derive(Serialize)]
struct Row {
    id: String,
    title: String,
    area: String,
    state: &'static str,
    anonymous: bool,
    questions: usize,
}

pub async fn list(State(s): State<AppState>, lang: Lang, p: Principal) -> Result<Response, ApiError> {
    let mut rows = Vec::new();
    for scope in &p.scopes {
        for x in surveys::list_under(&s.db, &scope.path).await? {
            rows.push(Row {
                state: label(x.state, lang),
                questions: x.form.questions.len(),
                id: x.id,
                title: x.title,
                area: x.area_name,
                anonymous: x.anonymous,
            });
        }
    }
    let places: Vec<(String, String)> = p.scopes.iter().map(|s| (s.area_id.clone(), s.name.clone())).collect();
    let ctx = context! { rows => Value::from(Serde(&rows)), places => places, ..frame(&p, lang, "/surveys") };
    Ok(render(lang, StatusCode::OK, "surveys/list.html", ctx))
}

pub async fn create(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    axum::Form(pairs): axum::Form<Pairs>,
) -> Result<Response, ApiError> {
    let area_id = field(&pairs, "area_id").to_owned();
    let area = p.refer(areas::get(&s.db, &area_id).await, Thing::Area, &area_id, |a| &a.path)?;
    let empty = Form {
        id: "survey".into(),
        title: Label::both(field(&pairs, "title")),
        version: "1".into(),
        questions: Vec::new(),
        lists: BTreeMap::new(),
    };
    let anonymous = !field(&pairs, "anonymous").is_empty();
    let x = surveys::create(
        &s.db,
        &area.id,
        field(&pairs, "title"),
        field(&pairs, "intro"),
        &empty,
        anonymous,
        &p.actor_name(),
    )
    .await?;
    audit::change(&s.db, (&p, &address), AuditAction::SurveySave, Target("survey", &x.id, &x.path), None, &x.title)
        .await?;
    Ok(Redirect::to(&format!("/surveys/{}", x.id)).into_response())
}

pub async fn page(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let x = survey_in_scope(&s, &p, &id).await?;
    builder_page(&s, &p, lang, &x, Vec::new(), StatusCode::OK).await
}

#[derive(Serialize)]
struct GridRow {
    id: String,
    name: String,
    answers: i64,
    quota: i64,
}

async fn builder_page(
    s: &AppState,
    p: &Principal,
    lang: Lang,
    x: &Survey,
    errors: Vec<String>,
    status: StatusCode,
) -> Result<Response, ApiError> {
    let grids: Vec<GridRow> = surveys::by_grid(&s.db, &x.id)
        .await?
        .into_iter()
        .map(|(id, name, answers, quota)| GridRow { id, name, answers, quota })
        .collect();
    let questions = shown(&x.form, lang, &BTreeMap::new(), &BTreeMap::new());
    let kinds: Vec<(&str, String)> = ["single", "multiple", "matrix", "rating", "text", "number"]
        .iter()
        .map(|k| (*k, tr(&format!("surveys.kind.{k}"), lang.code)))
        .collect();
    let ctx = context! {
        x => Value::from(Serde(x)), state => label(x.state, lang), errors => errors,
        questions => Value::from(Serde(&questions)), kinds => kinds, grids => Value::from(Serde(&grids)),
        draft => x.state == SurveyState::Draft, open => x.state == SurveyState::Open,
        ..frame(p, lang, "/surveys")
    };
    Ok(render(lang, status, "surveys/survey.html", ctx))
}

/// Adds a question to a draft: its kind, text, choices (one a line), whether it is
/// required, and when it is asked (an XLSForm `relevant` expression such as
/// `${q1} = 'yes'`, read by the campaigns' expression reader). A matrix (several
/// statements rated on the same choices) becomes one single-choice question per
/// statement sharing one list, as XLSForm writes a matrix: each row is counted,
/// cross-tabulated and exported on its own.
pub async fn add_question(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
    axum::Form(pairs): axum::Form<Pairs>,
) -> Result<Response, ApiError> {
    let x = survey_in_scope(&s, &p, &id).await?;
    let result = async {
        let mut form = x.form.clone();
        let text = field(&pairs, "label");
        if text.is_empty() {
            return Err(ApiError::invalid(msg!("surveys.error.required").field("label")));
        }
        // The next free name: an uploaded XLSForm may have used any.
        let name = (form.questions.len() + 1..)
            .map(|n| format!("q{n}"))
            .find(|n| {
                !form.lists.contains_key(n)
                    && !form.questions.iter().any(|q| q.name == *n || q.name.starts_with(&format!("{n}_")))
            })
            .unwrap_or_default();
        let choices: Vec<FormChoice> = field(&pairs, "choices")
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .enumerate()
            .map(|(i, l)| FormChoice { name: format!("c{}", i + 1), label: Label::both(l) })
            .collect();
        let relevant = match field(&pairs, "relevant") {
            "" => None,
            e => Some(Expr::parse(e).map_err(|m| ApiError::invalid(m.field("relevant")))?),
        };
        if let Some(r) = &relevant
            && let Some(unknown) = r.fields().into_iter().find(|f| form.question(f).is_none())
        {
            return Err(ApiError::invalid(msg!("surveys.error.unknown_question", name = unknown).field("relevant")));
        }
        let required = !field(&pairs, "required").is_empty();
        let question = |name: String, kind: QuestionKind, text: &str| Question {
            name,
            kind,
            label: Label::both(text),
            hint: Label::default(),
            required,
            relevant: relevant.clone(),
            constraint: None,
            constraint_message: Label::default(),
            save_to: None,
            page_break: false,
        };
        if field(&pairs, "kind") == "matrix" {
            let rows: Vec<&str> = field(&pairs, "rows").lines().map(str::trim).filter(|l| !l.is_empty()).collect();
            if rows.len() < 2 {
                return Err(ApiError::invalid(msg!("surveys.error.rows").field("rows")));
            }
            if choices.len() < 2 {
                return Err(ApiError::invalid(msg!("surveys.error.choices").field("choices")));
            }
            form.lists.insert(name.clone(), choices);
            for (i, row) in rows.iter().enumerate() {
                let q = question(
                    format!("{name}_{}", i + 1),
                    QuestionKind::SelectOne(name.clone()),
                    &format!("{text} — {row}"),
                );
                form.questions.push(q);
            }
        } else {
            let kind = match field(&pairs, "kind") {
                "single" | "multiple" => {
                    if choices.len() < 2 {
                        return Err(ApiError::invalid(msg!("surveys.error.choices").field("choices")));
                    }
                    form.lists.insert(name.clone(), choices);
                    if field(&pairs, "kind") == "single" {
                        QuestionKind::SelectOne(name.clone())
                    } else {
                        QuestionKind::SelectMultiple(name.clone())
                    }
                }
                "rating" => {
                    form.lists.insert(RATING_LIST.into(), rating_choices());
                    QuestionKind::SelectOne(RATING_LIST.into())
                }
                "number" => QuestionKind::Decimal,
                _ => QuestionKind::Text,
            };
            form.questions.push(question(name, kind, text));
        }
        surveys::set_form(&s.db, &x.id, &form).await?;
        audit::change(&s.db, (&p, &address), AuditAction::SurveySave, Target("survey", &x.id, &x.path), None, &text)
            .await?;
        Ok(())
    }
    .await;
    staff_answer(&s, &p, lang, &x, result).await
}

async fn staff_answer(
    s: &AppState,
    p: &Principal,
    lang: Lang,
    x: &Survey,
    result: Result<(), ApiError>,
) -> Result<Response, ApiError> {
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/surveys/{}", x.id)).into_response()),
        Err(e) if e.status.is_client_error() && e.status != StatusCode::NOT_FOUND => {
            let x = surveys::get(&s.db, &x.id).await?;
            builder_page(s, p, lang, &x, vec![e.said(lang.code)], StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => Err(e),
    }
}

/// Opens (`open=1`) or closes a survey.
pub async fn set_state(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
    axum::Form(pairs): axum::Form<Pairs>,
) -> Result<Response, ApiError> {
    let x = survey_in_scope(&s, &p, &id).await?;
    let result = async {
        let open = field(&pairs, "open") == "1";
        let done = surveys::set_open(&s.db, &x.id, open).await?;
        audit::change(
            &s.db,
            (&p, &address),
            AuditAction::SurveyState,
            Target("survey", &x.id, &x.path),
            None,
            &done.state.code(),
        )
        .await?;
        Ok(())
    }
    .await;
    staff_answer(&s, &p, lang, &x, result).await
}

/// Sets a grid's quota.
pub async fn set_quota(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
    axum::Form(pairs): axum::Form<Pairs>,
) -> Result<Response, ApiError> {
    let x = survey_in_scope(&s, &p, &id).await?;
    let grid_id = field(&pairs, "grid_id").to_owned();
    let result = async {
        let quota = field(&pairs, "quota")
            .parse::<i64>()
            .map_err(|_| ApiError::invalid(msg!("surveys.error.quota").field("quota")))?;
        match surveys::set_quota(&s.db, &x.id, &grid_id, quota).await {
            Err(StoreError::NotFound { .. }) => return Err(unknown(Thing::Area, &grid_id)),
            other => other?,
        }
        let summary = serde_json::json!({ "grid_id": grid_id, "quota": quota });
        audit::change(&s.db, (&p, &address), AuditAction::SurveySave, Target("survey", &x.id, &x.path), None, &summary)
            .await?;
        Ok(())
    }
    .await;
    staff_answer(&s, &p, lang, &x, result).await
}

// ---- results -------------------------------------------------------------------

#[derive(Deserialize)]
pub struct ResultsQuery {
    by: Option<String>,
}

/// The attribute an answer is cross-tabulated by.
fn attribute(row: &AnswerRow, by: &str, lang: Lang) -> String {
    let unknown = || tr("surveys.unknown", lang.code);
    match by {
        "age" if !row.age_band.is_empty() => row.age_band.clone(),
        "residence" => {
            ResidenceType::from_code(&row.residence_type).map_or_else(unknown, |r| label(r, lang).to_owned())
        }
        "channel" => label(row.channel, lang).to_owned(),
        "grid" if !row.grid.is_empty() => row.grid.clone(),
        _ => unknown(),
    }
}

#[derive(Serialize)]
struct QuestionResult {
    label: String,
    answered: i64,
    choices: Vec<(String, i64, String)>,
    chart: String,
    cross_rows: Vec<(String, Vec<String>)>,
}

fn results_of(x: &Survey, rows: &[AnswerRow], by: &str, lang: Lang) -> Vec<QuestionResult> {
    let answers: Vec<&BTreeMap<String, String>> = rows.iter().map(|r| &r.answers).collect();
    let attrs: Vec<String> = rows.iter().map(|r| attribute(r, by, lang)).collect();
    tally(&x.form, answers.iter().copied())
        .into_iter()
        .enumerate()
        .map(|(i, t)| {
            let q = x.form.question(&t.question);
            let list = q.and_then(|q| q.kind.list()).and_then(|l| x.form.lists.get(l));
            let name_of = |c: &str| {
                list.and_then(|l| l.iter().find(|x| x.name == c))
                    .map_or_else(|| c.to_owned(), |x| text_of(&x.label, lang))
            };
            let title = q.map(|q| text_of(&q.label, lang)).unwrap_or_default();
            let labels: Vec<String> = t.counts.iter().map(|(c, _)| name_of(c)).collect();
            let values: Vec<i64> = t.counts.iter().map(|(_, n)| *n).collect();
            let chart = charts::bars(&format!("chart-{i}"), &title, &title, &labels, &values);
            let choices = t
                .counts
                .iter()
                .map(|(c, n)| {
                    let share = t.per_mille(c).map(|pm| format!("{}.{}%", pm / 10, pm % 10)).unwrap_or_default();
                    (name_of(c), *n, share)
                })
                .collect();
            let cross = cross_tab(&x.form, &t.question, attrs.iter().map(String::as_str).zip(answers.iter().copied()));
            let cross_rows = cross
                .into_iter()
                .map(|(k, cells)| {
                    (k, cells.into_iter().map(|c| c.map_or_else(|| "<5".to_owned(), |n| n.to_string())).collect())
                })
                .collect();
            QuestionResult { label: title, answered: t.answered, choices, chart, cross_rows }
        })
        .collect()
}

pub async fn results(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    Path(id): Path<String>,
    Query(q): Query<ResultsQuery>,
) -> Result<Response, ApiError> {
    let x = survey_in_scope(&s, &p, &id).await?;
    let by = match q.by.as_deref() {
        Some(b @ ("age" | "residence" | "channel")) => b.to_owned(),
        _ => "grid".to_owned(),
    };
    let rows = surveys::answers_under(&s.db, &x.id, &x.path).await?;
    let results = results_of(&x, &rows, &by, lang);
    let mut channels: BTreeMap<&'static str, i64> = BTreeMap::new();
    for r in &rows {
        *channels.entry(label(r.channel, lang)).or_default() += 1;
    }
    let paper = rows.iter().filter(|r| r.paper).count();
    let bys: Vec<(&str, String)> = ["grid", "age", "residence", "channel"]
        .iter()
        .map(|b| (*b, tr(&format!("surveys.by.{b}"), lang.code)))
        .collect();
    let ctx = context! {
        x => Value::from(Serde(&x)), total => rows.len(), paper => paper, channels => channels,
        results => Value::from(Serde(&results)), by => by, bys => bys,
        ..frame(&p, lang, "/surveys")
    };
    // The charts are our own SVG (labels escaped by `charts`): `safe` in the template.
    Ok(render(lang, StatusCode::OK, "surveys/results.html", ctx))
}

/// The results and every answer (coarse attributes only) as an .xlsx workbook.
pub async fn export(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let x = survey_in_scope(&s, &p, &id).await?;
    let rows = surveys::answers_under(&s.db, &x.id, &x.path).await?;
    let results = results_of(&x, &rows, "grid", lang);
    let mut summary = Vec::new();
    for q in &results {
        for (choice, n, share) in &q.choices {
            let share = share
                .trim_end_matches('%')
                .parse::<f64>()
                .map_or(ReportCell::Empty, |v| ReportCell::Percent(v / 100.0));
            summary.push(vec![
                ReportCell::Text(q.label.clone()),
                ReportCell::Text(choice.clone()),
                ReportCell::Number(*n as f64),
                share,
            ]);
        }
    }
    let questions: Vec<&Question> = x.form.questions.iter().filter(|q| q.kind != QuestionKind::Note).collect();
    let mut headers: Vec<String> =
        ["surveys.by.grid", "surveys.by.age", "surveys.by.residence", "surveys.by.channel", "surveys.paper"]
            .iter()
            .map(|k| tr(k, lang.code))
            .collect();
    headers.extend(questions.iter().map(|q| text_of(&q.label, lang)));
    let answers: Vec<Vec<ReportCell>> = rows
        .iter()
        .map(|r| {
            let mut cells = vec![
                ReportCell::Text(r.grid.clone()),
                ReportCell::Text(r.age_band.clone()),
                ReportCell::Text(attribute(r, "residence", lang)),
                ReportCell::Text(label(r.channel, lang).to_owned()),
                ReportCell::Text(if r.paper { tr("surveys.yes", lang.code) } else { String::new() }),
            ];
            for q in &questions {
                let v = r.answers.get(&q.name).cloned().unwrap_or_default();
                let list = q.kind.list().and_then(|l| x.form.lists.get(l));
                let shown = match list {
                    Some(l) => v
                        .split_whitespace()
                        .map(|c| {
                            l.iter().find(|x| x.name == c).map_or_else(|| c.to_owned(), |x| text_of(&x.label, lang))
                        })
                        .collect::<Vec<_>>()
                        .join("、"),
                    None => v,
                };
                cells.push(ReportCell::Text(shown));
            }
            cells
        })
        .collect();
    let sheets = [
        ReportSheet {
            name: &tr("surveys.results", lang.code),
            title: &x.title,
            headers: ["surveys.question", "surveys.choice", "surveys.count", "surveys.share"]
                .iter()
                .map(|k| tr(k, lang.code))
                .collect(),
            rows: summary,
        },
        ReportSheet { name: &tr("surveys.answers", lang.code), title: &x.title, headers, rows: answers },
    ];
    let bytes = report_xlsx_bytes(&sheets).map_err(ApiError::internal)?;
    audit::change(
        &s.db,
        (&p, &address),
        AuditAction::SurveyExport,
        Target("survey", &x.id, &x.path),
        None,
        &rows.len(),
    )
    .await?;
    crate::campaigns::files::download(bytes, "survey.xlsx")
}

// ---- a grid member with a resident ---------------------------------------------

/// The open surveys over the caller's scopes: what a grid member takes to the door.
pub async fn field_list(State(s): State<AppState>, lang: Lang, p: Principal) -> Result<Response, ApiError> {
    let mut rows: Vec<(String, String)> = Vec::new();
    for scope in &p.scopes {
        for x in surveys::open_over(&s.db, &scope.path)
            .await?
            .into_iter()
            .chain(surveys::list_under(&s.db, &scope.path).await?.into_iter().filter(|x| x.state == SurveyState::Open))
        {
            if !rows.iter().any(|(id, _)| *id == x.id) {
                rows.push((x.id, x.title));
            }
        }
    }
    let ctx = context! { rows => rows, ..frame(&p, lang, "/surveys") };
    Ok(render(lang, StatusCode::OK, "surveys/field.html", ctx))
}

/// A survey a grid member may enter answers for: open, of an area over or under
/// their scope.
async fn survey_for_field(s: &AppState, p: &Principal, id: &str) -> Result<Survey, ApiError> {
    let found = surveys::get(&s.db, id).await;
    match found {
        Ok(x) if p.scopes.iter().any(|sc| sc.path.starts_with(&x.path) || x.path.starts_with(&sc.path)) => Ok(x),
        Ok(_) | Err(StoreError::NotFound { .. }) => Err(unknown(Thing::Survey, id)),
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct EnterQuery {
    household: Option<String>,
}

pub async fn enter_form(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    Path(id): Path<String>,
    Query(q): Query<EnterQuery>,
) -> Result<Response, ApiError> {
    let x = survey_for_field(&s, &p, &id).await?;
    enter_page(&s, &p, lang, &x, q.household.as_deref(), &BTreeMap::new(), &BTreeMap::new(), None, StatusCode::OK).await
}

#[allow(clippy::too_many_arguments)]
async fn enter_page(
    s: &AppState,
    p: &Principal,
    lang: Lang,
    x: &Survey,
    household: Option<&str>,
    given: &BTreeMap<String, String>,
    errors: &BTreeMap<String, String>,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response, ApiError> {
    let mut people: Vec<(String, String)> = Vec::new();
    let mut households: Vec<(String, String)> = Vec::new();
    if let Some(h) = household.filter(|h| !h.is_empty()) {
        let hh = p.refer(wangge_store::registry::households::get(&s.db, h).await, Thing::Household, h, |x| &x.path)?;
        let filter = ResidentFilter {
            household_id: Some(hh.id.clone()),
            status: Some(wangge_domain::ResidentStatus::Active),
            ..Default::default()
        };
        for r in residents::list(&s.db, &filter, PageRequest::new(Some(1), Some(100))).await?.items {
            people.push((r.id, r.name));
        }
    } else {
        for scope in &p.scopes {
            let filter = wangge_store::registry::households::HouseholdFilter {
                under_path: Some(scope.path.clone()),
                ..Default::default()
            };
            let page = wangge_store::registry::households::list(
                &s.db,
                &filter,
                PageRequest::new(Some(1), Some(PageRequest::MAX_PER_PAGE)),
            )
            .await?;
            for h in page.items {
                let unit = if h.unit.is_empty() { "-" } else { &h.unit };
                households.push((h.id, format!("{}-{}-{}", h.building_number, unit, h.room)));
            }
        }
    }
    let channels: Vec<(&str, &str)> =
        [Channel::Doorstep, Channel::Phone, Channel::Paper].iter().map(|c| (c.code(), label(*c, lang))).collect();
    let ctx = context! {
        x => Value::from(Serde(x)), household => household.unwrap_or_default(), people => people,
        households => households, channels => channels, error => error,
        questions => Value::from(Serde(&shown(&x.form, lang, given, errors))),
        ..frame(p, lang, "/surveys")
    };
    Ok(render(lang, status, "surveys/enter.html", ctx))
}

/// Enters an answer given at the door, by phone or on paper, for a resident of
/// the caller's scope.
pub async fn enter(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
    axum::Form(pairs): axum::Form<Pairs>,
) -> Result<Response, ApiError> {
    let x = survey_for_field(&s, &p, &id).await?;
    let resident_id = field(&pairs, "resident_id").to_owned();
    let resident = p.refer(residents::get(&s.db, &resident_id).await, Thing::Resident, &resident_id, |r| &r.path)?;
    let channel = match Channel::from_code(field(&pairs, "channel")) {
        Some(c @ (Channel::Doorstep | Channel::Phone | Channel::Paper)) => c,
        _ => Channel::Doorstep,
    };
    let given = answers_of(&pairs);
    let household = resident.household_id.clone().unwrap_or_default();
    let mut who = surveys::respondent_of_resident(&s.db, &resident.id).await?;
    who.entered_by = Some(p.actor_name());
    let again = |error: Option<String>, errors: BTreeMap<String, String>| {
        let (s, p, x, household, given) = (s.clone(), p.clone(), x.clone(), household.clone(), given.clone());
        async move {
            enter_page(&s, &p, lang, &x, Some(&household), &given, &errors, error, StatusCode::UNPROCESSABLE_ENTITY)
                .await
        }
    };
    match surveys::answer(&s.db, &x.id, &who, channel, &given, &today()).await {
        Ok(Ok(())) => {}
        Ok(Err(errors)) => return again(None, errors_of(&errors, lang)).await,
        Err(e @ (StoreError::Conflict(_) | StoreError::Invalid(_))) => {
            let e = ApiError::from(e);
            return again(Some(e.said(lang.code)), BTreeMap::new()).await;
        }
        Err(e) => return Err(e.into()),
    }
    // The audit names the survey and the channel, never the resident: an
    // anonymous survey's answer must not be traced through the log.
    let summary = serde_json::json!({ "channel": channel.code() });
    audit::change(
        &s.db,
        (&p, &address),
        AuditAction::SurveyAnswerOnBehalf,
        Target("survey", &x.id, &x.path),
        None,
        &summary,
    )
    .await?;
    Ok(Redirect::to(&format!("/surveys/{}/enter?household={household}&done=1", x.id)).into_response())
}

// ---- the link, the QR code and the paper sheet -----------------------------------

/// The key in a survey's public link: without it, walking ids finds no survey.
fn link_key(s: &AppState, id: &str) -> String {
    s.db.vault.blind("survey_link", id).chars().take(16).collect()
}

#[derive(Deserialize)]
pub struct LinkQuery {
    k: Option<String>,
}

/// An open survey by its public link, or unknown.
async fn by_link(s: &AppState, id: &str, key: Option<&str>) -> Result<Survey, ApiError> {
    match surveys::get(&s.db, id).await {
        Ok(x) if x.state == SurveyState::Open && key == Some(link_key(s, id).as_str()) => Ok(x),
        Ok(_) | Err(StoreError::NotFound { .. }) => Err(unknown(Thing::Survey, id)),
        Err(e) => Err(e.into()),
    }
}

fn link_page(
    lang: Lang,
    x: &Survey,
    key: &str,
    given: &BTreeMap<String, String>,
    errors: &BTreeMap<String, String>,
    done: bool,
    status: StatusCode,
) -> Response {
    let ctx = context! {
        lang => lang.code, x => Value::from(Serde(x)), key => key, done => done,
        questions => Value::from(Serde(&shown(&x.form, lang, given, errors))),
    };
    render(lang, status, "surveys/link.html", ctx)
}

/// The survey by its link or QR code, for anyone: answered without an account
/// (channel "online"), so nobody is stopped from answering twice and no grid is known.
pub async fn link_form(
    State(s): State<AppState>,
    lang: Lang,
    Path(id): Path<String>,
    Query(q): Query<LinkQuery>,
) -> Result<Response, ApiError> {
    let x = by_link(&s, &id, q.k.as_deref()).await?;
    Ok(link_page(
        lang,
        &x,
        q.k.as_deref().unwrap_or_default(),
        &BTreeMap::new(),
        &BTreeMap::new(),
        false,
        StatusCode::OK,
    ))
}

pub async fn link_answer(
    State(s): State<AppState>,
    lang: Lang,
    Path(id): Path<String>,
    Query(q): Query<LinkQuery>,
    axum::Form(pairs): axum::Form<Pairs>,
) -> Result<Response, ApiError> {
    let x = by_link(&s, &id, q.k.as_deref()).await?;
    let key = q.k.as_deref().unwrap_or_default();
    let given = answers_of(&pairs);
    match surveys::answer(&s.db, &x.id, &surveys::Respondent::default(), Channel::Online, &given, &today()).await {
        Ok(Ok(())) => Ok(link_page(lang, &x, key, &BTreeMap::new(), &BTreeMap::new(), true, StatusCode::OK)),
        Ok(Err(errors)) => {
            Ok(link_page(lang, &x, key, &given, &errors_of(&errors, lang), false, StatusCode::UNPROCESSABLE_ENTITY))
        }
        Err(StoreError::Conflict(_)) => Err(unknown(Thing::Survey, &id)),
        Err(e) => Err(e.into()),
    }
}

/// The printable paper questionnaire (A4): every question with boxes to tick, and
/// the QR code of the survey's link for those who would rather answer on a phone.
/// Sheets come back to the grid member, who types them in as paper answers.
pub async fn sheet(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    reached: crate::shared::site::Reached,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let x = survey_in_scope(&s, &p, &id).await?;
    let url = format!("{}/s/{}?k={}", reached.base, x.id, link_key(&s, &x.id));
    let svg = crate::demands::pages::posters::qr_svg(&url, 160)?;
    let ctx = context! {
        x => Value::from(Serde(&x)), url => url, svg => Value::from_safe_string(svg),
        questions => Value::from(Serde(&shown(&x.form, lang, &BTreeMap::new(), &BTreeMap::new()))),
        ..frame(&p, lang, "/surveys")
    };
    Ok(render(lang, StatusCode::OK, "surveys/sheet.html", ctx))
}

// ---- residents on the portal ---------------------------------------------------

fn portal_ctx(p: &Principal, lang: Lang) -> Value {
    context! { lang => lang.code, user => p.actor_name(), csrf => p.csrf_token.clone().unwrap_or_default() }
}

/// A resident's account and household, or nothing for staff and unbound accounts.
async fn resident_of(s: &AppState, p: &Principal) -> Result<Option<(String, String, String)>, ApiError> {
    Ok(crate::portal::pages::home_of(s, p).await?.map(|h| (h.account, h.household, h.path)))
}

#[derive(Serialize)]
struct PortalRow {
    id: String,
    title: String,
    answered: bool,
}

pub async fn portal_list(State(s): State<AppState>, lang: Lang, p: Principal) -> Result<Response, ApiError> {
    let Some((account, household, path)) = resident_of(&s, &p).await? else {
        return Ok(Redirect::to(crate::shared::render::home_of(p.role)).into_response());
    };
    let who = surveys::respondent_of_account(&s.db, &account, &household).await?;
    let mut rows = Vec::new();
    for x in surveys::open_over(&s.db, &path).await? {
        let answered = match &who.person_key {
            Some(k) => surveys::has_answered(&s.db, &x.id, k).await?,
            None => false,
        };
        rows.push(PortalRow { id: x.id, title: x.title, answered });
    }
    let ctx = context! { rows => Value::from(Serde(&rows)), ..portal_ctx(&p, lang) };
    Ok(render(lang, StatusCode::OK, "surveys/portal_list.html", ctx))
}

/// An open survey over the resident's household, or unknown.
async fn portal_survey(s: &AppState, path: &str, id: &str) -> Result<Survey, ApiError> {
    surveys::open_over(&s.db, path).await?.into_iter().find(|x| x.id == id).ok_or_else(|| unknown(Thing::Survey, id))
}

pub async fn portal_form(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let Some((account, household, path)) = resident_of(&s, &p).await? else { return Err(unknown(Thing::Survey, &id)) };
    let x = portal_survey(&s, &path, &id).await?;
    let who = surveys::respondent_of_account(&s.db, &account, &household).await?;
    let answered = match &who.person_key {
        Some(k) => surveys::has_answered(&s.db, &x.id, k).await?,
        None => false,
    };
    portal_page(&p, lang, &x, answered, &BTreeMap::new(), &BTreeMap::new(), None, StatusCode::OK)
}

#[allow(clippy::too_many_arguments)]
fn portal_page(
    p: &Principal,
    lang: Lang,
    x: &Survey,
    answered: bool,
    given: &BTreeMap<String, String>,
    errors: &BTreeMap<String, String>,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response, ApiError> {
    let ctx = context! {
        x => Value::from(Serde(x)), answered => answered, error => error,
        questions => Value::from(Serde(&shown(&x.form, lang, given, errors))), ..portal_ctx(p, lang)
    };
    Ok(render(lang, status, "surveys/portal_form.html", ctx))
}

pub async fn portal_answer(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    Path(id): Path<String>,
    axum::Form(pairs): axum::Form<Pairs>,
) -> Result<Response, ApiError> {
    let Some((account, household, path)) = resident_of(&s, &p).await? else { return Err(unknown(Thing::Survey, &id)) };
    let x = portal_survey(&s, &path, &id).await?;
    let who = surveys::respondent_of_account(&s.db, &account, &household).await?;
    let given = answers_of(&pairs);
    match surveys::answer(&s.db, &x.id, &who, Channel::Portal, &given, &today()).await {
        Ok(Ok(())) => Ok(Redirect::to("/portal/surveys").into_response()),
        Ok(Err(errors)) => {
            portal_page(&p, lang, &x, false, &given, &errors_of(&errors, lang), None, StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(e @ (StoreError::Conflict(_) | StoreError::Invalid(_))) => {
            let text = ApiError::from(e).said(lang.code);
            portal_page(&p, lang, &x, false, &given, &BTreeMap::new(), Some(text), StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(e) => Err(e.into()),
    }
}

/// The survey's form as an XLSForm workbook (survey, choices, settings), the one
/// the campaigns write: KoBoToolbox and ODK open it, and it comes back in through
/// [`form_upload`].
pub async fn form_download(
    State(s): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let x = survey_in_scope(&s, &p, &id).await?;
    let bytes = wangge_ledger::xlsform::form_xlsx_bytes(&x.form).map_err(ApiError::internal)?;
    crate::campaigns::files::download(bytes, &format!("survey-{}.xlsx", x.id))
}

/// An XLSForm workbook replaces a draft's questions. Every error comes back on the
/// builder's page with its sheet, row and column, and nothing changes.
pub async fn form_upload(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
    request: axum::extract::Request,
) -> Result<Response, ApiError> {
    use wangge_ledger::xlsform::{FormError, read_form_bytes};
    let x = survey_in_scope(&s, &p, &id).await?;
    let parts = crate::shared::multipart::read(request, &(), wangge_store::demands::attachments::MAX_BYTES).await?;
    let bytes = parts.files.iter().find(|f| f.field == "file").and_then(|f| f.data.clone()).unwrap_or_default();
    let refused =
        |errors: Vec<String>| async { builder_page(&s, &p, lang, &x, errors, StatusCode::UNPROCESSABLE_ENTITY).await };
    if x.state != SurveyState::Draft {
        return refused(vec![tr("surveys.error.not_draft", lang.code)]).await;
    }
    let form = match read_form_bytes(&bytes) {
        Ok(f) => f,
        Err(e @ (FormError::File(_) | FormError::Rows(_))) => {
            return refused(e.messages().iter().map(|m| say(m, lang.code)).collect()).await;
        }
    };
    if form.questions.iter().any(|q| q.save_to.is_some()) {
        return refused(vec![tr("surveys.error.save_to", lang.code)]).await;
    }
    match surveys::set_form(&s.db, &x.id, &form).await {
        Ok(_) => {}
        Err(StoreError::Conflict(m)) => return refused(vec![say(&m, lang.code)]).await,
        Err(e) => return Err(e.into()),
    }
    let summary = serde_json::json!({ "form_id": form.id, "questions": form.questions.len(), "xlsform": true });
    audit::change(&s.db, (&p, &address), AuditAction::SurveySave, Target("survey", &x.id, &x.path), None, &summary)
        .await?;
    Ok(Redirect::to(&format!("/surveys/{}", x.id)).into_response())
}

pub(crate) fn routes() -> crate::shared::routes::Routes {
    use crate::shared::auth::Access::*;
    use wangge_domain::Action::*;
    crate::shared::routes::Routes::new()
        .get("/surveys", Role(RunSurveys), list)
        .post("/surveys", Role(RunSurveys), create)
        .get("/surveys/field", Role(VisitHouseholds), field_list)
        .get("/surveys/{id}", Role(RunSurveys), page)
        .post("/surveys/{id}/questions", Role(RunSurveys), add_question)
        .post("/surveys/{id}/state", Role(RunSurveys), set_state)
        .post("/surveys/{id}/quotas", Role(RunSurveys), set_quota)
        .get("/surveys/{id}/results", Role(RunSurveys), results)
        .get("/surveys/{id}/export", Role(RunSurveys), export)
        .get("/surveys/{id}/form.xlsx", Role(RunSurveys), form_download)
        .post_limited("/surveys/{id}/form", Role(RunSurveys), crate::shared::routes::Limit::Upload, form_upload)
        .get("/surveys/{id}/sheet", Role(RunSurveys), sheet)
        // Anyone with the link (its key in `?k=`), while the survey is open.
        .get("/s/{id}", Public, link_form)
        .post("/s/{id}", Public, link_answer)
        .get("/surveys/{id}/enter", Role(VisitHouseholds), enter_form)
        .post("/surveys/{id}/enter", Role(VisitHouseholds), enter)
        // A resident's own: the handlers show only open surveys over their household.
        .get("/portal/surveys", Authenticated, portal_list)
        .get("/portal/surveys/{id}", Authenticated, portal_form)
        .post("/portal/surveys/{id}", Authenticated, portal_answer)
}
