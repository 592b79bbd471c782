//! Searching and exporting the audit log, scoped like everything else.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;
use wangge_domain::AuditAction;
use wangge_store::audit::{self, AuditFilter, Entry};
use wangge_store::{Page, PageRequest};

use crate::shared::api::{ApiResult, Params};
use crate::shared::audit::Event;
use crate::shared::auth::{ClientAddress, Principal};
use crate::shared::error::ErrorBody;
use crate::{ApiError, AppState};

#[derive(Debug, Deserialize, IntoParams)]
pub struct AuditQuery {
    /// e.g. `login_failed`, `reveal`, `export`, `resident.update`.
    pub action: Option<String>,
    /// The user name of whoever acted.
    pub actor: Option<String>,
    /// From this time (Unix ms).
    pub since: Option<i64>,
    /// Before this time (Unix ms).
    pub until: Option<i64>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

/// Administrators see the whole log; others the entries about records in their scope.
fn filter_for(p: &Principal, q: &AuditQuery) -> AuditFilter {
    AuditFilter {
        under_paths: p.audit_paths(),
        action: q.action.clone(),
        actor_name: q.actor.clone(),
        since: q.since,
        until: q.until,
    }
}

/// Search the audit log.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditQuery),
    responses((status = 200, body = Page<Entry>), (status = 403, body = ErrorBody)))]
pub async fn search_audit(
    State(s): State<AppState>,
    p: Principal,
    Params(q): Params<AuditQuery>,
) -> ApiResult<Page<Entry>> {
    Ok(Json(audit::search(&s.db, &filter_for(&p, &q), PageRequest::new(q.page, q.per_page)).await?))
}

fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_owned()
    }
}

/// Export the matching entries (up to 100,000) as CSV. The export is itself audited.
#[utoipa::path(get, path = "/api/v1/audit/export", tag = "audit", params(AuditQuery),
    responses((status = 200, content_type = "text/csv", body = String), (status = 403, body = ErrorBody)))]
pub async fn export_audit(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    Params(q): Params<AuditQuery>,
) -> Result<Response, ApiError> {
    let filter = filter_for(&p, &q);
    let mut csv = String::from("at,actor,address,action,target_kind,target_id,path,reason,outcome,before,after\n");
    let mut page = 1;
    let mut rows = 0;
    loop {
        let batch =
            audit::search(&s.db, &filter, PageRequest::new(Some(page), Some(PageRequest::MAX_PER_PAGE))).await?;
        for e in &batch.items {
            let fields = [
                e.at.to_string(),
                e.actor_name.clone(),
                e.address.clone().unwrap_or_default(),
                e.action.clone(),
                e.target_kind.clone().unwrap_or_default(),
                e.target_id.clone().unwrap_or_default(),
                e.path.clone().unwrap_or_default(),
                e.reason.clone().unwrap_or_default(),
                e.outcome.clone(),
                e.before.clone().unwrap_or_default(),
                e.after.clone().unwrap_or_default(),
            ];
            csv.push_str(&fields.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(","));
            csv.push('\n');
        }
        rows += batch.items.len();
        if batch.items.len() < PageRequest::MAX_PER_PAGE as usize || rows >= 100_000 {
            break;
        }
        page += 1;
    }
    let event = Event {
        target_kind: Some("audit_log"),
        reason: Some(&format!("{rows} entries")),
        ..Event::of(AuditAction::AuditExport)
    };
    crate::shared::audit::log(&s.db, Some(&p), None, &address, event).await?;
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    headers.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment; filename=\"audit-log.csv\""));
    Ok((headers, csv).into_response())
}

/// This module's routes, each with who may call it (`crate::shared::routes`).
pub(crate) fn routes() -> crate::shared::routes::Routes {
    use crate::shared::auth::Access::*;
    use utoipa_axum::routes;
    use wangge_domain::Action::*;
    crate::shared::routes::Routes::new()
        .api(Role(ViewAudit), routes!(search_audit))
        .api(Role(ViewAudit), routes!(export_audit))
}
