//! Importing a community's resident ledger in the browser, and downloading it.
//!
//! Upload → check (a dry run: the header found, which column holds what, every row
//! error with its row and column) → map unusual column names if needed and check
//! again → confirm → progress while writing → result. The job lives in the database
//! (`store::import_jobs`) between these steps; checking and writing are
//! `wangge_ledger::import`, the same code as `wangge import residents`, so the page
//! and the command line cannot disagree. Writing is all-or-nothing.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, body::Bytes};
use minijinja::value::Serde;
use minijinja::{Value, context};
use serde::{Deserialize, Serialize};
use wangge_domain::{Action, AreaLevel};
use wangge_ledger::columns::{Field, locate_header};
use wangge_ledger::import::{ImportOptions, ImportReport, import_residents};
use wangge_ledger::table::{Table, read_table_bytes};
use wangge_store::registry::areas::{self, Area};
use wangge_store::registry::import_jobs::{self, ImportJob, JobStatus, NewJob};

use crate::shared::audit::{self, Event};
use crate::shared::auth::{ClientAddress, Principal};
use crate::shared::render::{Lang, frame, render, tr};
use crate::{ApiError, AppState};

/// Row errors shown on the page; the count says how many more there are.
const ERRORS_SHOWN: usize = 200;

/// What a check found, kept with the job as JSON.
#[derive(Serialize, Deserialize, Default)]
struct Check {
    /// The file as a whole could not be used (no header, a missing column…).
    problem: Option<String>,
    /// The same in Chinese (missing in checks stored before it existed).
    #[serde(default)]
    problem_zh: Option<String>,
    header_row: usize,
    /// Header text → field key, for the columns recognised.
    columns: Vec<(String, String)>,
    /// Header texts that match no field (ignored unless mapped).
    unrecognised: Vec<String>,
    report: Option<ImportReport>,
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
async fn check(s: &AppState, job: &ImportJob, table: &Table, community_code: &str) -> Result<(), ApiError> {
    let mapping: Vec<(String, Field)> =
        job.mapping.iter().filter_map(|(h, f)| Field::parse_name(f).map(|f| (h.clone(), f))).collect();
    let mut found = Check::default();
    match locate_header(table, &mapping) {
        Ok(header) => {
            found.header_row = header.header_row;
            found.columns = header.columns.iter().map(|c| (c.header.clone(), c.field.key().to_owned())).collect();
            found.unrecognised = header.unrecognised.clone();
            let options =
                ImportOptions { community_code: community_code.to_owned(), dry_run: true, mapping: mapping.clone() };
            match import_residents(&s.db, table, &options, |_| {}).await {
                Ok(report) => found.report = Some(report),
                Err(e) => {
                    found.problem = Some(e.to_string());
                    found.problem_zh = Some(e.message_zh());
                    found.problem_zh = Some(e.message_zh());
                }
            }
        }
        Err(e) => {
            found.problem = Some(e.to_string());
            found.problem_zh = Some(e.message_zh());
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
    let (mut community_id, mut file) = (None, None);
    while let Some(field) = multipart.next_field().await.map_err(|e| ApiError::bad_request(e.body_text()))? {
        match field.name() {
            Some("community") => {
                community_id = Some(field.text().await.map_err(|e| ApiError::bad_request(e.body_text()))?)
            }
            Some("file") => {
                let name = field.file_name().unwrap_or("").to_owned();
                let bytes: Bytes = field.bytes().await.map_err(|e| ApiError::bad_request(e.body_text()))?;
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
    let Some((file_name, bytes)) = file.filter(|(name, bytes)| !name.is_empty() && !bytes.is_empty()) else {
        return form_page(&s, &p, lang, StatusCode::UNPROCESSABLE_ENTITY, Some(tr("import.no_file", lang.code))).await;
    };
    let table = match read_table_bytes(&file_name, &bytes) {
        Ok(table) => table,
        Err(e) => {
            let message = if lang.zh() { e.message_zh() } else { e.to_string() };
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
    check(&s, &job, &table, &community.code).await?;
    Ok(Redirect::to(&format!("/registry/import/{}", job.id)).into_response())
}

/// The job, if the caller may work on it: in their own scope (never through a grant).
async fn job_in_scope(s: &AppState, p: &Principal, id: &str) -> Result<ImportJob, ApiError> {
    let job = import_jobs::get(&s.db, id).await?;
    if !p.can_change(&job.path) {
        return Err(crate::shared::auth::unknown("import", id));
    }
    Ok(job)
}

#[derive(Serialize)]
struct ColumnView {
    header: String,
    field: String,
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
    let found: Check = job.report.as_deref().and_then(|r| serde_json::from_str(r).ok()).unwrap_or_default();
    let report = found.report.clone().unwrap_or_default();
    let columns: Vec<ColumnView> = found
        .columns
        .iter()
        .map(|(header, key)| ColumnView {
            header: header.clone(),
            field: Field::parse_name(key).map(|f| field_label(f, lang)).unwrap_or_default(),
        })
        .collect();
    let errors: Vec<ErrorView> = report
        .errors
        .iter()
        .take(ERRORS_SHOWN)
        .map(|e| ErrorView {
            row: e.row,
            column: e.column.clone().unwrap_or_default(),
            message: lang.pick(&e.message, &e.message_zh).to_owned(),
        })
        .collect();
    let mapped: Vec<(String, String)> = job.mapping.clone();
    let unrecognised: Vec<(String, String)> = found
        .unrecognised
        .iter()
        .map(|h| (h.clone(), mapped.iter().find(|(m, _)| m == h).map(|(_, f)| f.clone()).unwrap_or_default()))
        .collect();
    let ready = job.status == JobStatus::Checked && found.problem.is_none() && report.errors.is_empty();
    let ctx = context! {
        job_id => job.id.clone(), file_name => job.file_name.clone(), status => job.status.as_str(),
        community => Value::from(Serde(&community)),
        problem => found.problem.as_deref().map(|en| lang.pick(en, found.problem_zh.as_deref().unwrap_or(""))), header_row => found.header_row, columns => Value::from(Serde(&columns)),
        unrecognised => Value::from(Serde(&unrecognised)), fields => Value::from(Serde(&field_options(lang))),
        report => Value::from(Serde(&report)), errors => Value::from(Serde(&errors)),
        more_errors => report.errors.len().saturating_sub(ERRORS_SHOWN), ready => ready,
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

/// Re-checks the job's file with the user's mapping of header texts to fields.
pub async fn set_mapping(
    State(s): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    Form(form): Form<std::collections::HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let mut job = job_in_scope(&s, &p, &id).await?;
    if job.status != JobStatus::Checked {
        return Err(ApiError::new(StatusCode::CONFLICT, "conflict", "this import has already started"));
    }
    // The form sends pairs h0/f0, h1/f1…: a header text and the field it holds.
    job.mapping = (0..form.len())
        .map_while(|i| Some((form.get(&format!("h{i}"))?.clone(), form.get(&format!("f{i}"))?.clone())))
        .filter(|(_, field)| Field::parse_name(field).is_some())
        .collect();
    let community = areas::get(&s.db, &job.community_id).await?;
    let content = import_jobs::content(&s.db, &job.id).await?;
    let table = read_table_bytes(&job.file_name, &content).map_err(|e| ApiError::bad_request(e.to_string()))?;
    check(&s, &job, &table, &community.code).await?;
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
    let table = read_table_bytes(&job.file_name, &content).map_err(|e| ApiError::bad_request(e.to_string()))?;
    if !import_jobs::start(&s.db, &job.id, table.rows.len() as i64).await? {
        return Err(ApiError::new(StatusCode::CONFLICT, "conflict", "this import has already started"));
    }
    tokio::spawn(write(s.clone(), p, address, job.clone(), community, table));
    Ok(Redirect::to(&format!("/registry/import/{}", job.id)).into_response())
}

/// The writing itself, with progress saved twice a second for any server to show.
async fn write(s: AppState, p: Principal, address: ClientAddress, job: ImportJob, community: Area, table: Table) {
    let mapping = job.mapping.iter().filter_map(|(h, f)| Field::parse_name(f).map(|f| (h.clone(), f))).collect();
    let options = ImportOptions { community_code: community.code.clone(), dry_run: false, mapping };
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
    let (status, found) = match result {
        Ok(report) if report.committed => (JobStatus::Done, Check { report: Some(report), ..Default::default() }),
        Ok(report) => (JobStatus::Failed, Check { report: Some(report), ..Default::default() }),
        Err(e) => (
            JobStatus::Failed,
            Check { problem: Some(e.to_string()), problem_zh: Some(e.message_zh()), ..Default::default() },
        ),
    };
    let json = serde_json::to_string(&found).unwrap_or_default();
    if let Err(e) = import_jobs::finish(&s.db, &job.id, status, &json).await {
        tracing::error!("import {}: {e}", job.id);
    }
    if let (JobStatus::Done, Some(report)) = (status, &found.report) {
        let detail = serde_json::json!({
            "file": job.file_name, "residents": report.residents,
            "households_created": report.households_created, "buildings_created": report.buildings_created,
        });
        let event = Event {
            action: "import.residents",
            target_kind: Some("area"),
            target_id: Some(&community.id),
            path: Some(&community.path),
            after: Some(detail.to_string()),
            ..Default::default()
        };
        if let Err(e) = audit::log(&s.db, Some(&p), None, &address, event).await {
            tracing::error!("auditing import {}: {e}", job.id);
        }
    }
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
        return Err(ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such community in your area"));
    }
    let (bytes, count) = wangge_ledger::export::export_residents_bytes(&s.db, &community.code)
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))?;
    let detail = serde_json::json!({ "residents": count, "format": "xlsx" });
    let event = Event {
        action: "export.residents",
        target_kind: Some("area"),
        target_id: Some(&community.id),
        path: Some(&community.path),
        after: Some(detail.to_string()),
        ..Default::default()
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
        .get("/registry/import/{id}", Role(EditRegistry), job_page)
        .post("/registry/import/{id}/mapping", Role(EditRegistry), set_mapping)
        .post("/registry/import/{id}/confirm", Role(EditRegistry), confirm)
        .get("/registry/export", Role(ExportRegistry), export)
        .post_limited("/registry/import", Role(EditRegistry), Limit::Upload, upload)
}
