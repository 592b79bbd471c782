//! A campaign's files: its form as XLSForm (download, and upload as the next
//! version), and its results as .xlsx, one row per target with the registry's
//! columns and one column per question (audited, for those who see names).

use std::collections::{BTreeMap, HashMap};

use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::value::Serde;
use minijinja::{Value, context};
use wangge_domain::{AuditAction, msg};
use wangge_ledger::xlsform::{FormError, form_xlsx_bytes, read_form_bytes};
use wangge_store::campaigns::{self, Which};
use wangge_store::registry::areas;

use crate::shared::audit::{self, Target};
use crate::shared::auth::{ClientAddress, Principal};
use crate::shared::render::{Lang, frame, label, render, say};
use crate::{ApiError, AppState};

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// An .xlsx file as a download named `ascii_name` (also the surveys' downloads).
pub(crate) fn download(bytes: Vec<u8>, ascii_name: &str) -> Result<Response, ApiError> {
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(XLSX));
    let disposition = format!("attachment; filename=\"{ascii_name}\"");
    headers.insert(header::CONTENT_DISPOSITION, HeaderValue::from_str(&disposition).map_err(ApiError::internal)?);
    Ok(response)
}

/// The campaign's current form as an XLSForm workbook ODK and KoBoToolbox open.
async fn form_download(State(s): State<AppState>, p: Principal, Path(id): Path<String>) -> Result<Response, ApiError> {
    let (campaign, _) = super::reachable(&s, &p, &id).await?;
    let form = campaigns::form(&s.db, &campaign.id, campaign.form_version).await?;
    let bytes = form_xlsx_bytes(&form).map_err(ApiError::internal)?;
    download(bytes, &format!("{}-v{}.xlsx", form.id, campaign.form_version))
}

/// The campaign a form is uploaded to: one the caller runs.
async fn run_here(s: &AppState, p: &Principal, id: &str) -> Result<campaigns::Campaign, ApiError> {
    let (campaign, seen) = super::reachable(s, p, id).await?;
    if seen != campaign.path || !p.can_change(&campaign.path) {
        return Err(ApiError::forbidden(msg!("campaigns.error.not_yours")));
    }
    Ok(campaign)
}

fn upload_page(
    p: &Principal,
    lang: Lang,
    campaign: &campaigns::Campaign,
    status: StatusCode,
    errors: Vec<String>,
) -> Response {
    let ctx = context! {
        campaign => Value::from(Serde(campaign)), errors, ..frame(p, lang, "/campaigns")
    };
    render(lang, status, "campaigns/upload.html", ctx)
}

async fn upload_form_page(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let campaign = run_here(&s, &p, &id).await?;
    Ok(upload_page(&p, lang, &campaign, StatusCode::OK, Vec::new()))
}

/// A changed form (XLSForm) becomes the campaign's next version; answers already
/// given stay pinned to theirs. Every error comes back with its sheet, row and
/// column, and nothing changes.
async fn upload_form(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
    request: Request,
) -> Result<Response, ApiError> {
    let campaign = run_here(&s, &p, &id).await?;
    let not_multipart = |e: axum::extract::multipart::MultipartError| {
        ApiError::bad_request(msg!("error.not_multipart", detail = e.body_text()))
    };
    let mut multipart = Multipart::from_request(request, &s)
        .await
        .map_err(|e| ApiError::bad_request(msg!("error.not_multipart", detail = e.body_text())))?;
    let mut file: Option<Bytes> = None;
    while let Some(field) = multipart.next_field().await.map_err(not_multipart)? {
        if field.name() == Some("file") {
            file = Some(field.bytes().await.map_err(not_multipart)?);
        }
    }
    let bytes = file.unwrap_or_default();
    let form = match read_form_bytes(&bytes) {
        Ok(f) => f,
        Err(e @ (FormError::File(_) | FormError::Rows(_))) => {
            let errors = e.messages().iter().map(|m| say(m, lang.code)).collect();
            return Ok(upload_page(&p, lang, &campaign, StatusCode::UNPROCESSABLE_ENTITY, errors));
        }
    };
    let version = campaigns::revise_form(&s.db, &campaign.id, &form).await?;
    let summary = serde_json::json!({ "form_id": form.id, "version": version, "questions": form.questions.len() });
    audit::change(
        &s.db,
        (&p, &address),
        AuditAction::CampaignForm,
        Target("campaign", &campaign.id, &campaign.path),
        None,
        &summary,
    )
    .await?;
    Ok(Redirect::to(&format!("/campaigns/{}?form=1", campaign.id)).into_response())
}

/// The results: one row per target in walking order, the registry's columns, the
/// status and attempts, then every question of the current form (answers given
/// with an earlier version fill the columns of questions that kept their name).
async fn results(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let campaign = run_here(&s, &p, &id).await?;
    // Officials above the community see households pseudonymised, as in the
    // registry: no unit, door, name or who answered.
    let names = p.sees_names(&campaign.path);
    let form = campaigns::form(&s.db, &campaign.id, campaign.form_version).await?;
    let lines = campaigns::lines(&s.db, &campaign.id, &campaign.path, Which::Every, i64::MAX).await?;
    let mut headers: Vec<String> =
        ["网格", "楼栋", "单元", "门牌", "姓名", "状态", "走访次数", "填写人", "完成时间", "表单版本"]
            .iter()
            .filter(|h| names || !matches!(**h, "单元" | "门牌" | "姓名" | "填写人"))
            .map(|h| (*h).to_owned())
            .collect();
    let questions: Vec<_> =
        form.questions.iter().filter(|q| q.kind != wangge_domain::campaigns::QuestionKind::Note).collect();
    headers.extend(questions.iter().map(|q| q.label.zh.clone()));
    let mut grid_names: HashMap<String, String> = HashMap::new();
    let mut rows = Vec::with_capacity(lines.len());
    for l in &lines {
        if !grid_names.contains_key(&l.target.path) {
            let name = areas::get_by_path(&s.db, &l.target.path).await.map(|a| a.name).unwrap_or_default();
            grid_names.insert(l.target.path.clone(), name);
        }
        let answers: BTreeMap<String, String> = if l.target.form_version.is_some() {
            campaigns::answers(&s.db, &l.target.id).await?.unwrap_or_default()
        } else {
            BTreeMap::new()
        };
        let settled = l.target.settled_at.map(crate::shared::render::local_time).unwrap_or_default();
        let mut row = vec![grid_names[&l.target.path].clone(), l.building.clone()];
        if names {
            row.extend([l.unit.clone(), l.room.clone(), l.resident_name.clone().unwrap_or_default()]);
        }
        row.extend([label(l.target.status, Lang::from_code("zh-CN")).to_owned(), l.target.attempts.to_string()]);
        if names {
            row.push(l.target.by_name.clone().unwrap_or_default());
        }
        row.extend([settled, l.target.form_version.map(|v| v.to_string()).unwrap_or_default()]);
        for q in &questions {
            let v = answers.get(&q.name).cloned().unwrap_or_default();
            // A photo: where those who see names open it; for the others, that there is one.
            if q.kind == wangge_domain::campaigns::QuestionKind::Photo {
                let shown = match (v.is_empty(), names) {
                    (true, _) => String::new(),
                    (false, true) => {
                        format!("{}/campaigns/photos/{v}", s.site.public_url().unwrap_or("").trim_end_matches('/'))
                    }
                    (false, false) => "有照片".to_owned(),
                };
                row.push(shown);
                continue;
            }
            let shown = match q.kind.list() {
                Some(list) => v
                    .split_whitespace()
                    .map(|c| form.choice(list, c).map_or_else(|| c.to_owned(), |c| c.label.zh.clone()))
                    .collect::<Vec<_>>()
                    .join("、"),
                None => v,
            };
            row.push(shown);
        }
        rows.push(row);
    }
    let header_refs: Vec<&str> = headers.iter().map(String::as_str).collect();
    let title = format!("{}（{}—{}）", campaign.title, campaign.opens_on, campaign.closes_on);
    let (bytes, written) = wangge_ledger::xlsx_out::ledger_xlsx_bytes("排查结果", Some(&title), &header_refs, rows)
        .map_err(|e| ApiError::internal(format!("writing a campaign's results: {e}")))?;
    let event = audit::Event {
        target_kind: Some("campaign"),
        target_id: Some(&campaign.id),
        path: Some(&campaign.path),
        reason: Some(&format!("{written} targets")),
        ..audit::Event::of(AuditAction::ExportCampaign)
    };
    audit::log(&s.db, Some(&p), None, &address, event).await?;
    download(bytes, "campaign-results.xlsx")
}

pub(crate) fn routes() -> crate::shared::routes::Routes {
    use crate::shared::auth::Access::Role;
    use crate::shared::routes::Limit;
    use wangge_domain::Action::{RunCampaigns, ViewCampaigns};
    crate::shared::routes::Routes::new()
        .get("/campaigns/{id}/form.xlsx", Role(ViewCampaigns), form_download)
        .get("/campaigns/{id}/form", Role(RunCampaigns), upload_form_page)
        .post_limited("/campaigns/{id}/form", Role(RunCampaigns), Limit::Upload, upload_form)
        .get("/campaigns/{id}/results.xlsx", Role(RunCampaigns), results)
}
