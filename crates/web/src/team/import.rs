//! Importing a grid team roster from the Excel file a community keeps
//! (`wangge_ledger::roster`): from a grid's team page, for that grid, or for a whole
//! community with a 网格 column. One step: the file is checked row by row and written
//! all at once, or its errors are listed with their rows and columns and nothing is
//! written.

use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::value::Serde;
use minijinja::{Value, context};
use wangge_domain::{AreaLevel, AuditAction, Explain, msg};
use wangge_ledger::roster::{RosterField, import_roster};
use wangge_ledger::table::read_table_bytes;
use wangge_store::Thing;
use wangge_store::registry::areas::{self, Area};

use crate::shared::audit::{self, Target};
use crate::shared::auth::{ClientAddress, Principal, unknown};
use crate::shared::render::{Lang, frame, render, say, tr};
use crate::{ApiError, AppState};

/// The grid or community, if the caller keeps its team (in their own scope).
async fn area_kept(s: &AppState, p: &Principal, id: &str) -> Result<Area, ApiError> {
    let area = p.refer(areas::get(&s.db, id).await, Thing::Area, id, |a| &a.path)?;
    if !matches!(area.level, AreaLevel::Grid | AreaLevel::Community) || !super::manages(p, &area.path) {
        return Err(unknown(Thing::Area, id));
    }
    Ok(area)
}

struct Outcome {
    done: Option<String>,
    error: Option<String>,
    row_errors: Vec<String>,
}

fn page(p: &Principal, lang: Lang, area: &Area, status: StatusCode, out: Outcome) -> Response {
    let columns = RosterField::ALL.map(RosterField::header_zh).join("、");
    let ctx = context! {
        area => Value::from(Serde(area)), is_grid => area.level == AreaLevel::Grid, columns => columns,
        done => out.done, error => out.error, row_errors => out.row_errors,
        ..frame(p, lang, "/registry"),
    };
    render(lang, status, "team/import.html", ctx)
}

pub async fn import_form(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let area = area_kept(&s, &p, &id).await?;
    Ok(page(&p, lang, &area, StatusCode::OK, Outcome { done: None, error: None, row_errors: Vec::new() }))
}

/// The upload (multipart; the CSRF token in the query string, as for the resident
/// import).
pub async fn import_upload(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
    request: Request,
) -> Result<Response, ApiError> {
    // The place is checked before the body is read: one out of scope is "not found"
    // whatever was sent.
    let area = area_kept(&s, &p, &id).await?;
    let mut multipart = Multipart::from_request(request, &s)
        .await
        .map_err(|e| ApiError::bad_request(msg!("error.not_multipart", detail = e.body_text())))?;
    let refused = |error: String, rows: Vec<String>| -> Result<Response, ApiError> {
        let out = Outcome { done: None, error: Some(error), row_errors: rows };
        Ok(page(&p, lang, &area, StatusCode::UNPROCESSABLE_ENTITY, out))
    };
    let mut file: Option<(String, Bytes)> = None;
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| ApiError::bad_request(msg!("error.not_multipart", detail = e.body_text())))?
    {
        if field.name() == Some("file") {
            let name = field.file_name().unwrap_or("").to_owned();
            let bytes = field
                .bytes()
                .await
                .map_err(|e| ApiError::bad_request(msg!("error.not_multipart", detail = e.body_text())))?;
            file = Some((name, bytes));
        }
    }
    let Some((name, bytes)) = file.filter(|(name, _)| !name.is_empty()) else {
        return refused(tr("roster.import.no_file", lang.code), Vec::new());
    };
    let table = match read_table_bytes(&name, &bytes) {
        Ok(t) => t,
        Err(e) => return refused(say(&e.message(), lang.code), Vec::new()),
    };
    let report = match import_roster(&s.db, &table, &area).await {
        Ok(r) => r,
        Err(wangge_ledger::roster::RosterError::Store(e)) => return Err(e.into()),
        Err(e) => return refused(say(&e.message(), lang.code), Vec::new()),
    };
    if !report.errors.is_empty() {
        let rows: Vec<String> = report.errors.iter().map(|e| say(&e.message(), lang.code)).collect();
        let head = say(&msg!("roster.import.rejected", count = rows.len()), lang.code);
        return refused(head, rows);
    }
    for post in &report.added {
        let grid = areas::get(&s.db, &post.grid_id).await?;
        let kept = wangge_store::team::GridPost { phone: post.phone.as_ref().map(|_| "***".into()), ..post.clone() };
        let target = Target("team_post", &post.id, &grid.path);
        audit::change(&s.db, (&p, &address), AuditAction::TeamAdd, target, None, &kept).await?;
    }
    let done = say(&msg!("roster.import.done", added = report.added.len(), already = report.already), lang.code);
    Ok(page(&p, lang, &area, StatusCode::OK, Outcome { done: Some(done), error: None, row_errors: Vec::new() }))
}
