//! Importing a community's resident ledger in the browser, and downloading it.
//!
//! Upload → check (a dry run: the header found, which column holds what, every row
//! error with its row and column) → map unusual column names if needed and check
//! again → confirm → progress while writing → result. The job lives in the database
//! (`store::import_jobs`) between these steps; checking and writing are
//! `wangge_ledger::import`, the same code as `wangge import residents`, so the page
//! and the command line cannot disagree. Writing is all-or-nothing.
//!
//! A newer version of a ledger already imported (communities send theirs every
//! month) is checked in update mode: the check lists the new, the changed (field by
//! field), the unchanged and the missing people; confirming writes the new and the
//! changes in one transaction, each change in the audit log with before and after.
//! Nobody is deleted. Errors are [`Message`]s, put into both languages once, when
//! the check is stored, and shown in the page's.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use wangge_store::Thing;

use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, body::Bytes};
use minijinja::value::Serde;
use minijinja::{Value, context};
use serde::{Deserialize, Serialize};
use wangge_domain::AuditAction;
use wangge_domain::{Action, AreaLevel, Explain, Message};
use wangge_ledger::columns::{Field, locate_header};
use wangge_ledger::import::{Actor, ImportOptions, ImportReport, import_residents};
use wangge_ledger::table::{Table, read_table_bytes};
use wangge_store::registry::areas::{self, Area};
use wangge_store::registry::import_jobs::{self, ImportJob, JobStatus, NewJob};

use crate::shared::audit::{self, Event};
use crate::shared::auth::{ClientAddress, Principal};
use crate::shared::render::{Lang, frame, render, say, tr};
use crate::{ApiError, AppState};

/// Row errors shown on the page; the count says how many more there are.
const ERRORS_SHOWN: usize = 200;

/// What a check found, kept with the job as JSON.
#[derive(Serialize, Deserialize, Default)]
struct Check {
    /// The file as a whole could not be used (no header, a missing column…), in
    /// English and in Chinese.
    problem: Option<String>,
    #[serde(default)]
    problem_zh: Option<String>,
    /// Every row error, in both languages.
    #[serde(default)]
    errors: Vec<ErrorText>,
    /// Checked (and to be written) as an update of the registered people.
    #[serde(default)]
    update: bool,
    header_row: usize,
    /// Header text → field key, for the columns recognised.
    columns: Vec<(String, String)>,
    /// Header texts that match no field (ignored unless mapped).
    unrecognised: Vec<String>,
    report: Option<ImportReport>,
}

/// A row error in both languages.
#[derive(Serialize, Deserialize, Clone)]
struct ErrorText {
    row: usize,
    column: Option<String>,
    message: String,
    message_zh: String,
}

impl Check {
    fn problem(message: &Message) -> Self {
        let mut found = Self::default();
        found.set_problem(message);
        found
    }

    fn set_problem(&mut self, message: &Message) {
        self.problem = Some(say(message, "en"));
        self.problem_zh = Some(say(message, "zh-CN"));
    }

    /// Keeps the report, its errors said in both languages.
    fn set_report(&mut self, report: ImportReport) {
        self.errors = report
            .errors
            .iter()
            .map(|e| ErrorText {
                row: e.row,
                column: e.column.clone(),
                message: say(&e.reason, "en"),
                message_zh: say(&e.reason, "zh-CN"),
            })
            .collect();
        self.report = Some(report);
    }
}

/// The communities whose ledger the caller may import or download: their own
/// community scopes (grid members work in the browser one resident at a time).
async fn communities_of(s: &AppState, p: &Principal) -> Result<Vec<Area>, ApiError> {
    let mut found = Vec::new();
    for scope in &p.scopes {
        let area = areas::get(&s.db, &scope.area_id).await?;
        if area.level == AreaLevel::Community {
            found.push(area);
        }
    }
    Ok(found)
}

fn field_label(field: Field, lang: Lang) -> String {
    if lang.code == "en" { field.header_en().to_owned() } else { field.header_zh().to_owned() }
}

#[derive(Serialize)]
struct FieldOption {
    key: &'static str,
    label: String,
}

fn field_options(lang: Lang) -> Vec<FieldOption> {
    Field::ALL.iter().map(|&f| FieldOption { key: f.key(), label: field_label(f, lang) }).collect()
}

async fn form_page(
    s: &AppState,
    p: &Principal,
    lang: Lang,
    status: StatusCode,
    error: Option<String>,
) -> Result<Response, ApiError> {
    let communities = communities_of(s, p).await?;
    let ctx = context! {
        communities => Value::from(Serde(&communities)), error => error,
        limit_mb => import_jobs::MAX_FILE_BYTES >> 20,
        required => Field::REQUIRED.iter().map(|&f| field_label(f, lang)).collect::<Vec<_>>().join("、"),
        ..frame(p, lang, "/registry/import"),
    };
    Ok(render(lang, status, "registry/import.html", ctx))
}

pub async fn import_form(State(s): State<AppState>, lang: Lang, p: Principal) -> Result<Response, ApiError> {
    form_page(&s, &p, lang, StatusCode::OK, None).await
}

/// Runs the importer as a dry run with the job's mapping and records what it found.
async fn check(
    s: &AppState,
    job: &ImportJob,
    table: &Table,
    community_code: &str,
    update: bool,
) -> Result<(), ApiError> {
    let mapping: Vec<(String, Field)> =
        job.mapping.iter().filter_map(|(h, f)| Field::parse_name(f).map(|f| (h.clone(), f))).collect();
    let mut found = Check { update, ..Default::default() };
    match locate_header(table, &mapping) {
        Ok(header) => {
            found.header_row = header.header_row;
            found.columns = header.columns.iter().map(|c| (c.header.clone(), c.field.key().to_owned())).collect();
            found.unrecognised = header.unrecognised.clone();
            let options = ImportOptions {
                community_code: community_code.to_owned(),
                dry_run: true,
                mapping: mapping.clone(),
                update,
                actor: None,
            };
            match import_residents(&s.db, table, &options, |_| {}).await {
                Ok(report) => found.set_report(report),
                Err(e) => found.set_problem(&e.message()),
            }
        }
        Err(e) => {
            found.set_problem(&e.message());
            // Offer every text of the first non-blank rows for mapping.
            found.unrecognised = table
                .rows
                .iter()
                .take(10)
                .find(|r| !r.is_blank())
                .map(|r| r.cells.iter().filter(|c| !c.trim().is_empty()).cloned().collect())
                .unwrap_or_default();
        }
    }
    let json = serde_json::to_string(&found).unwrap_or_default();
    import_jobs::checked(&s.db, &job.id, &job.mapping, &json).await?;
    Ok(())
}

/// The upload: the file and the community, as multipart form data. The CSRF token
/// comes in the query string (`?csrf_token=`), as a multipart body is not read
/// before the policy check.
pub async fn upload(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    mut multipart: Multipart,
) -> Result<Response, ApiError> {
    let (mut community_id, mut file, mut update) = (None, None, false);
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| ApiError::bad_request(wangge_domain::msg!("error.not_multipart", detail = e.body_text())))?
    {
        match field.name() {
            Some("community") => {
                community_id = Some(field.text().await.map_err(|e| {
                    ApiError::bad_request(wangge_domain::msg!("error.not_multipart", detail = e.body_text()))
                })?)
            }
            Some("update") => update = field.text().await.is_ok_and(|v| v == "1"),
            Some("file") => {
                let name = field.file_name().unwrap_or("").to_owned();
                let bytes: Bytes = field.bytes().await.map_err(|e| {
                    ApiError::bad_request(wangge_domain::msg!("error.not_multipart", detail = e.body_text()))
                })?;
                file = Some((name, bytes));
            }
            _ => {}
        }
    }
    let communities = communities_of(&s, &p).await?;
    let Some(community) = communities.into_iter().find(|c| Some(&c.id) == community_id.as_ref()) else {
        return form_page(&s, &p, lang, StatusCode::UNPROCESSABLE_ENTITY, Some(tr("import.no_community", lang.code)))
            .await;
    };
    // An empty file is said as such by the reader below, not as "no file chosen".
    let Some((file_name, bytes)) = file.filter(|(name, _)| !name.is_empty()) else {
        return form_page(&s, &p, lang, StatusCode::UNPROCESSABLE_ENTITY, Some(tr("import.no_file", lang.code))).await;
    };
    let table = match read_table_bytes(&file_name, &bytes) {
        Ok(table) => table,
        Err(e) => {
            let message = say(&e.message(), lang.code);
            return form_page(&s, &p, lang, StatusCode::UNPROCESSABLE_ENTITY, Some(message)).await;
        }
    };
    let new = NewJob {
        account_id: p.actor_id(),
        community_id: &community.id,
        path: &community.path,
        file_name: &file_name,
        content: &bytes,
    };
    let job = import_jobs::create(&s.db, new).await?;
    check(&s, &job, &table, &community.code, update).await?;
    Ok(Redirect::to(&format!("/registry/import/{}", job.id)).into_response())
}

/// The job, if the caller may work on it: in their own scope (never through a grant).
async fn job_in_scope(s: &AppState, p: &Principal, id: &str) -> Result<ImportJob, ApiError> {
    let job = import_jobs::get(&s.db, id).await?;
    if !p.can_change(&job.path) {
        return Err(crate::shared::auth::unknown(Thing::Import, id));
    }
    Ok(job)
}

#[derive(Serialize)]
struct ColumnView {
    header: String,
    field: String,
}

/// One changed field of one person, for the table of an update's check.
#[derive(Serialize)]
struct ChangeView {
    row: usize,
    name: String,
    field: String,
    before: String,
    after: String,
}

#[derive(Serialize)]
struct ErrorView {
    row: usize,
    column: String,
    message: String,
}

pub async fn job_page(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let job = job_in_scope(&s, &p, &id).await?;
    let community = areas::get(&s.db, &job.community_id).await?;
    let found = checked(&job);
    let report = found.report.clone().unwrap_or_default();
    let columns: Vec<ColumnView> = found
        .columns
        .iter()
        .map(|(header, key)| ColumnView {
            header: header.clone(),
            field: Field::parse_name(key).map(|f| field_label(f, lang)).unwrap_or_default(),
        })
        .collect();
    let errors: Vec<ErrorView> = found
        .errors
        .iter()
        .take(ERRORS_SHOWN)
        .map(|e| ErrorView {
            row: e.row,
            column: e.column.clone().unwrap_or_default(),
            message: lang.pick(&e.message, &e.message_zh).to_owned(),
        })
        .collect();
    let changes: Vec<ChangeView> = report
        .changed
        .iter()
        .take(ERRORS_SHOWN)
        .flat_map(|c| {
            c.changes.iter().map(move |f| ChangeView {
                row: c.row,
                name: c.name.clone(),
                field: field_label(f.field, lang),
                before: f.before.clone(),
                after: f.after.clone(),
            })
        })
        .collect();
    let mapped: Vec<(String, String)> = job.mapping.clone();
    let unrecognised: Vec<(String, String)> = found
        .unrecognised
        .iter()
        .map(|h| (h.clone(), mapped.iter().find(|(m, _)| m == h).map(|(_, f)| f.clone()).unwrap_or_default()))
        .collect();
    let ready = job.status == JobStatus::Checked && found.problem.is_none() && found.errors.is_empty();
    let ctx = context! {
        job_id => job.id.clone(), file_name => job.file_name.clone(), status => job.status.as_str(),
        community => Value::from(Serde(&community)),
        problem => found.problem.as_deref().map(|en| lang.pick(en, found.problem_zh.as_deref().unwrap_or(""))), header_row => found.header_row, columns => Value::from(Serde(&columns)),
        unrecognised => Value::from(Serde(&unrecognised)), fields => Value::from(Serde(&field_options(lang))),
        report => Value::from(Serde(&report)), errors => Value::from(Serde(&errors)),
        error_count => found.errors.len(), update => found.update,
        changes => Value::from(Serde(&changes)), changed_count => report.changed.len(),
        more_changed => report.changed.len().saturating_sub(ERRORS_SHOWN),
        missing => Value::from(Serde(&report.missing.iter().take(ERRORS_SHOWN).collect::<Vec<_>>())),
        more_missing => report.missing.len().saturating_sub(ERRORS_SHOWN),
        more_errors => found.errors.len().saturating_sub(ERRORS_SHOWN), ready => ready,
        done => job.done, total => job.total,
        percent => if job.total > 0 { job.done * 100 / job.total } else { 0 },
        ..frame(&p, lang, "/registry/import"),
    };
    let mut response = render(lang, StatusCode::OK, "registry/import_job.html", ctx);
    if job.status == JobStatus::Running {
        // The page follows the progress by itself, without JavaScript.
        response.headers_mut().insert("refresh", HeaderValue::from_static("1"));
    }
    Ok(response)
}

/// What the last check of a job found.
fn checked(job: &ImportJob) -> Check {
    job.report.as_deref().and_then(|r| serde_json::from_str(r).ok()).unwrap_or_default()
}

/// Re-checks the job's file with the user's mapping of header texts to fields.
pub async fn set_mapping(
    State(s): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    Form(form): Form<std::collections::HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let mut job = job_in_scope(&s, &p, &id).await?;
    if job.status != JobStatus::Checked {
        return Err(ApiError::new(StatusCode::CONFLICT, "conflict", wangge_domain::msg!("import.error.started")));
    }
    // The form sends pairs h0/f0, h1/f1…: a header text and the field it holds.
    job.mapping = (0..form.len())
        .map_while(|i| Some((form.get(&format!("h{i}"))?.clone(), form.get(&format!("f{i}"))?.clone())))
        .filter(|(_, field)| Field::parse_name(field).is_some())
        .collect();
    let community = areas::get(&s.db, &job.community_id).await?;
    let content = import_jobs::content(&s.db, &job.id).await?;
    let table = read_table_bytes(&job.file_name, &content)
        .map_err(|e| ApiError::bad_request(wangge_domain::Explain::message(&e)))?;
    check(&s, &job, &table, &community.code, checked(&job).update).await?;
    Ok(Redirect::to(&format!("/registry/import/{}", job.id)).into_response())
}

/// Starts writing a checked file in the background and shows its progress.
pub async fn confirm(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let job = job_in_scope(&s, &p, &id).await?;
    let community = areas::get(&s.db, &job.community_id).await?;
    let content = import_jobs::content(&s.db, &job.id).await?;
    let table = read_table_bytes(&job.file_name, &content)
        .map_err(|e| ApiError::bad_request(wangge_domain::Explain::message(&e)))?;
    if !import_jobs::start(&s.db, &job.id, table.rows.len() as i64).await? {
        return Err(ApiError::new(StatusCode::CONFLICT, "conflict", wangge_domain::msg!("import.error.started")));
    }
    tokio::spawn(write(s.clone(), p, address, job.clone(), community, table));
    Ok(Redirect::to(&format!("/registry/import/{}", job.id)).into_response())
}

/// The writing itself, with progress saved twice a second for any server to show.
async fn write(s: AppState, p: Principal, address: ClientAddress, job: ImportJob, community: Area, table: Table) {
    let mapping = job.mapping.iter().filter_map(|(h, f)| Field::parse_name(f).map(|f| (h.clone(), f))).collect();
    let update = checked(&job).update;
    let actor =
        Actor { actor_id: Some(p.actor_id().to_owned()), actor_name: p.actor_name(), address: Some(address.0.clone()) };
    let options =
        ImportOptions { community_code: community.code.clone(), dry_run: false, mapping, update, actor: Some(actor) };
    let (done, total) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(table.rows.len())));
    let ticker = {
        let (s, id, done, total) = (s.clone(), job.id.clone(), done.clone(), total.clone());
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                let (d, t) = (done.load(Ordering::Relaxed) as i64, total.load(Ordering::Relaxed) as i64);
                let _ = import_jobs::progress(&s.db, &id, d, t).await;
            }
        })
    };
    let result = import_residents(&s.db, &table, &options, |progress| {
        // Checking and writing each pass over the rows: show them as two halves.
        let writing = progress.stage == wangge_ledger::import::Stage::Writing;
        total.store(progress.total * 2, Ordering::Relaxed);
        done.store(progress.done + if writing { progress.total } else { 0 }, Ordering::Relaxed);
    })
    .await;
    ticker.abort();
    let (status, mut found) = match result {
        Ok(report) => {
            let status = if report.committed { JobStatus::Done } else { JobStatus::Failed };
            let mut found = Check::default();
            found.set_report(report);
            (status, found)
        }
        Err(e) => (JobStatus::Failed, Check::problem(&e.message())),
    };
    found.update = update;
    let json = serde_json::to_string(&found).unwrap_or_default();
    if let Err(e) = import_jobs::finish(&s.db, &job.id, status, &json).await {
        tracing::error!("import {}: {e}", job.id);
    }
    if let (JobStatus::Done, Some(report)) = (status, &found.report) {
        let detail = serde_json::json!({
            "file": job.file_name, "residents": report.residents,
            "households_created": report.households_created, "buildings_created": report.buildings_created,
            "update": update, "changed": report.changed.len(), "unchanged": report.unchanged,
            "missing": report.missing.len(),
        });
        let event = Event {
            target_kind: Some("area"),
            target_id: Some(&community.id),
            path: Some(&community.path),
            after: Some(detail.to_string()),
            ..Event::of(AuditAction::ImportResidents)
        };
        if let Err(e) = audit::log(&s.db, Some(&p), None, &address, event).await {
            tracing::error!("auditing import {}: {e}", job.id);
        }
    }
}

/// The ledger template: every column we recognise, an example row, notes in both
/// languages (`wangge_ledger::template`). Holds nobody's data: not audited.
pub async fn template() -> Result<Response, ApiError> {
    let bytes = wangge_ledger::template::template_xlsx_bytes().map_err(ApiError::internal)?;
    let headers = [
        (header::CONTENT_TYPE, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_owned()),
        (header::CONTENT_DISPOSITION, "attachment; filename=\"wangge-ledger-template.xlsx\"".to_owned()),
    ];
    Ok((headers, bytes).into_response())
}

#[derive(Deserialize)]
pub struct ExportQuery {
    community: String,
}

/// The community's whole ledger as `.xlsx`, with full ID numbers and phones (it
/// must import again); recorded in the audit log.
pub async fn export(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    Query(q): Query<ExportQuery>,
) -> Result<Response, ApiError> {
    let community = areas::get(&s.db, &q.community).await?;
    if community.level != AreaLevel::Community || !p.can_change(&community.path) || !p.role.may(Action::ExportRegistry)
    {
        return Err(ApiError::not_found(wangge_domain::msg!("error.not_in_area")));
    }
    let (bytes, count) =
        wangge_ledger::export::export_residents_bytes(&s.db, &community.code).await.map_err(ApiError::internal)?;
    let detail = serde_json::json!({ "residents": count, "format": "xlsx" });
    let event = Event {
        target_kind: Some("area"),
        target_id: Some(&community.id),
        path: Some(&community.path),
        after: Some(detail.to_string()),
        ..Event::of(AuditAction::ExportResidents)
    };
    audit::log(&s.db, Some(&p), None, &address, event).await?;
    let today = wangge_domain::format_date(time::OffsetDateTime::now_utc().date());
    let file = format!("residents-{}-{today}.xlsx", community.code);
    let headers = [
        (header::CONTENT_TYPE, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_owned()),
        (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{file}\"")),
        (header::CACHE_CONTROL, "no-store".to_owned()),
    ];
    Ok((headers, bytes).into_response())
}

/// This module's pages, each with who may open it (`crate::shared::routes`).
pub(crate) fn routes() -> crate::shared::routes::Routes {
    use crate::shared::auth::Access::*;
    use crate::shared::routes::Limit;
    use wangge_domain::Action::*;
    crate::shared::routes::Routes::new()
        .get("/registry/import", Role(EditRegistry), import_form)
        .get("/registry/import/template", Role(EditRegistry), template)
        .get("/registry/import/{id}", Role(EditRegistry), job_page)
        .post("/registry/import/{id}/mapping", Role(EditRegistry), set_mapping)
        .post("/registry/import/{id}/confirm", Role(EditRegistry), confirm)
        .get("/registry/export", Role(ExportRegistry), export)
        .post_limited("/registry/import", Role(EditRegistry), Limit::Upload, upload)
}
