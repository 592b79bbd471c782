//! Notices (通知公告): staff write them (`/notices`), a reviewer publishes them at
//! once or at a set time, residents read them on the portal (`/portal/notices`,
//! read tracking) and everyone on the grid's public page (`/g/<code>`, notices for
//! everyone or for the grid only); a printable A4 poster with a QR code to the
//! notice; the grid member's list of residents who have not read an important
//! notice. The rules are `wangge_store::notices`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::value::Serde;
use minijinja::{Value, context};
use serde::Serialize;
use wangge_domain::notices::{NoticeStep, TargetKind};
use wangge_domain::{Action, AreaLevel, AuditAction, Role, Vocabulary, msg, now_millis};
use wangge_store::notices::{self, Notice, NoticeInput};
use wangge_store::registry::areas::{self, AreaFilter};
use wangge_store::registry::buildings::{self, BuildingFilter};
use wangge_store::{PageRequest, Thing};

use crate::shared::audit::{self, Target};
use crate::shared::auth::{Actor, ClientAddress, Principal};
use crate::shared::render::{Lang, frame, label, local_time, render, tr};
use crate::{ApiError, AppState};

/// The form's fields, in order, as sent (`target` repeats).
type Pairs = Vec<(String, String)>;

fn field<'a>(pairs: &'a Pairs, name: &str) -> &'a str {
    pairs.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.trim())
}

/// `YYYY-MM-DDTHH:MM` in China time to Unix ms; empty is `None`.
fn when(pairs: &Pairs, name: &'static str) -> Result<Option<i64>, ApiError> {
    let v = field(pairs, name);
    if v.is_empty() {
        return Ok(None);
    }
    crate::demands::pages::parse_local(v)
        .map(Some)
        .ok_or_else(|| ApiError::invalid(msg!("notices.error.when", value = v).field(name)))
}

fn input_of(pairs: &Pairs) -> Result<NoticeInput, ApiError> {
    let targets = pairs
        .iter()
        .filter(|(k, _)| k == "target")
        .filter_map(|(_, v)| v.split_once(':'))
        .filter_map(|(kind, id)| Some((TargetKind::from_code(kind)?, id.to_owned())))
        .collect();
    Ok(NoticeInput {
        title: field(pairs, "title").to_owned(),
        body: field(pairs, "body").to_owned(),
        important: !field(pairs, "important").is_empty(),
        pinned: !field(pairs, "pinned").is_empty(),
        publish_at: when(pairs, "publish_at")?,
        expires_at: when(pairs, "expires_at")?,
        targets,
    })
}

/// A notice the caller may see (written at or under their scope).
async fn notice_in_scope(s: &AppState, p: &Principal, id: &str) -> Result<Notice, ApiError> {
    p.refer(notices::get(&s.db, id).await, Thing::Notice, id, |n| &n.path)
}

#[derive(Serialize)]
struct Choice {
    value: String,
    label: String,
    checked: bool,
}

/// What the form offers: the areas one may write in (one's scopes and the grids
/// under them), and the grids, buildings and tags one may target.
async fn form_ctx(s: &AppState, p: &Principal, lang: Lang, n: Option<&Notice>) -> Result<Value, ApiError> {
    let chosen = |kind: TargetKind, id: &str| n.is_some_and(|n| n.targets.iter().any(|t| t.kind == kind && t.id == id));
    let mut places = Vec::new();
    let mut grids = Vec::new();
    let mut blocks = Vec::new();
    for scope in &p.scopes {
        places.push(Choice {
            value: scope.area_id.clone(),
            label: scope.name.clone(),
            checked: n.is_some_and(|n| n.area_id == scope.area_id),
        });
        let filter =
            AreaFilter { level: Some(AreaLevel::Grid), under_path: Some(scope.path.clone()), ..Default::default() };
        for g in areas::list(&s.db, &filter, PageRequest::new(Some(1), Some(PageRequest::MAX_PER_PAGE))).await?.items {
            if g.id != scope.area_id {
                places.push(Choice {
                    value: g.id.clone(),
                    label: format!("{} › {}", scope.name, g.name),
                    checked: n.is_some_and(|n| n.area_id == g.id),
                });
            }
            grids.push(Choice {
                checked: chosen(TargetKind::Grid, &g.id),
                value: format!("grid:{}", g.id),
                label: g.name,
            });
        }
        let filter = BuildingFilter { under_path: Some(scope.path.clone()), ..Default::default() };
        for b in
            buildings::list(&s.db, &filter, PageRequest::new(Some(1), Some(PageRequest::MAX_PER_PAGE))).await?.items
        {
            let name = tr("building.number", lang.code).replace("%{number}", &b.number);
            blocks.push(Choice {
                checked: chosen(TargetKind::Building, &b.id),
                value: format!("building:{}", b.id),
                label: name,
            });
        }
    }
    let tags: Vec<Choice> = wangge_store::registry::tags::list(&s.db)
        .await?
        .into_iter()
        .map(|t| Choice {
            checked: chosen(TargetKind::Tag, &t.id),
            value: format!("tag:{}", t.id),
            label: if lang.code == "en" { t.name_en } else { t.name_zh },
        })
        .collect();
    let local = |ms: Option<i64>| ms.map(|t| local_time(t).replacen(' ', "T", 1).chars().take(16).collect::<String>());
    Ok(context! {
        places => Value::from(Serde(&places)), grids => Value::from(Serde(&grids)),
        buildings => Value::from(Serde(&blocks)), tags => Value::from(Serde(&tags)),
        title => n.map(|n| n.title.clone()).unwrap_or_default(), body => n.map(|n| n.body.clone()).unwrap_or_default(),
        important => n.is_some_and(|n| n.important), pinned => n.is_some_and(|n| n.pinned),
        publish_at => local(n.and_then(|n| n.publish_at)).unwrap_or_default(),
        expires_at => local(n.and_then(|n| n.expires_at)).unwrap_or_default(),
    })
}

#[derive(Serialize)]
struct Row {
    id: String,
    title: String,
    area: String,
    state: &'static str,
    important: bool,
    pinned: bool,
    when: String,
}

fn row(n: &Notice, lang: Lang) -> Row {
    Row {
        id: n.id.clone(),
        title: n.title.clone(),
        area: n.area_name.clone(),
        state: label(n.state, lang),
        important: n.important,
        pinned: n.pinned,
        when: n.publish_at.map(local_time).unwrap_or_default(),
    }
}

/// The notices written at or under the caller's scopes.
pub async fn list(State(s): State<AppState>, lang: Lang, p: Principal) -> Result<Response, ApiError> {
    let mut rows = Vec::new();
    for scope in &p.scopes {
        rows.extend(notices::list_under(&s.db, &scope.path).await?.iter().map(|n| row(n, lang)));
    }
    let ctx = context! { rows => Value::from(Serde(&rows)), ..frame(&p, lang, "/notices") };
    Ok(render(lang, StatusCode::OK, "notices/list.html", ctx))
}

pub async fn new_form(State(s): State<AppState>, lang: Lang, p: Principal) -> Result<Response, ApiError> {
    form_page(&s, &p, lang, None, None, StatusCode::OK).await
}

async fn form_page(
    s: &AppState,
    p: &Principal,
    lang: Lang,
    n: Option<&Notice>,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response, ApiError> {
    let ctx = context! {
        error => error, action => n.map_or("/notices".to_owned(), |n| format!("/notices/{}", n.id)),
        ..context! { ..form_ctx(s, p, lang, n).await?, ..frame(p, lang, "/notices") }
    };
    Ok(render(lang, status, "notices/form.html", ctx))
}

/// Writes a new draft in the chosen area (one of the caller's).
pub async fn create(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    axum::Form(pairs): axum::Form<Pairs>,
) -> Result<Response, ApiError> {
    let area_id = field(&pairs, "area_id").to_owned();
    let area = p.refer(areas::get(&s.db, &area_id).await, Thing::Area, &area_id, |a| &a.path)?;
    let result = async {
        let input = input_of(&pairs)?;
        let n = notices::create(&s.db, &area.id, &input, (p.actor_id(), &p.actor_name())).await?;
        audit::change(&s.db, (&p, &address), AuditAction::NoticeSave, Target("notice", &n.id, &n.path), None, &n.title)
            .await?;
        Ok::<_, ApiError>(n)
    }
    .await;
    match result {
        Ok(n) => Ok(Redirect::to(&format!("/notices/{}", n.id)).into_response()),
        Err(e) if e.status.is_client_error() => {
            form_page(&s, &p, lang, None, Some(e.said(lang.code)), StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => Err(e),
    }
}

/// A notice: its text, targets and state, its steps, how many it reached and read it.
pub async fn page(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let n = notice_in_scope(&s, &p, &id).await?;
    notice_page(&s, &p, lang, &n, None, StatusCode::OK).await
}

async fn notice_page(
    s: &AppState,
    p: &Principal,
    lang: Lang,
    n: &Notice,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response, ApiError> {
    let (reached, read) = notices::reach(&s.db, &n.id).await?;
    let reviewer = p.role.may(Action::PublishNotices);
    let steps: Vec<(&str, &str)> = NoticeStep::all()
        .iter()
        .filter(|&&st| wangge_domain::notices::next(n.state, st).is_ok())
        .filter(|&&st| st == NoticeStep::Submit || reviewer)
        .map(|&st| (st.code(), label(st, lang)))
        .collect();
    let targets: Vec<String> = n.targets.iter().map(|t| format!("{}：{}", label(t.kind, lang), t.name)).collect();
    let editable = n.state == wangge_domain::notices::NoticeState::Draft;
    let files = notices::files(&s.db, &n.id).await?;
    let ctx = context! {
        files => Value::from(Serde(&files)), max_files => notices::MAX_FILES,
        n => Value::from(Serde(n)), state => label(n.state, lang), steps => Value::from(Serde(&steps)),
        targets => targets, reached => reached, read => read, error => error, editable => editable,
        publish_at => n.publish_at.map(local_time), expires_at => n.expires_at.map(local_time),
        action => format!("/notices/{}", n.id),
        ..context! { ..form_ctx(s, p, lang, Some(n)).await?, ..frame(p, lang, "/notices") }
    };
    Ok(render(lang, status, "notices/notice.html", ctx))
}

/// Saves a draft.
pub async fn save(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
    axum::Form(pairs): axum::Form<Pairs>,
) -> Result<Response, ApiError> {
    let n = notice_in_scope(&s, &p, &id).await?;
    let result = async {
        if !p.can_change(&n.path) {
            return Err(ApiError::forbidden(msg!("error.area_outside")));
        }
        let changed = notices::update(&s.db, &n.id, &input_of(&pairs)?).await?;
        audit::change(
            &s.db,
            (&p, &address),
            AuditAction::NoticeSave,
            Target("notice", &n.id, &n.path),
            Some(&n.title),
            &changed.title,
        )
        .await?;
        Ok(())
    }
    .await;
    answer(&s, &p, lang, &n, result).await
}

async fn answer(
    s: &AppState,
    p: &Principal,
    lang: Lang,
    n: &Notice,
    result: Result<(), ApiError>,
) -> Result<Response, ApiError> {
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/notices/{}", n.id)).into_response()),
        Err(e) if e.status.is_client_error() && e.status != StatusCode::NOT_FOUND => {
            let n = notices::get(&s.db, &n.id).await?;
            notice_page(s, p, lang, &n, Some(e.said(lang.code)), StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => Err(e),
    }
}

/// Submits, publishes, returns or withdraws: only reviewers take the last three.
pub async fn step(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
    axum::Form(pairs): axum::Form<Pairs>,
) -> Result<Response, ApiError> {
    let n = notice_in_scope(&s, &p, &id).await?;
    let result = async {
        let st = NoticeStep::from_code(field(&pairs, "step"))
            .ok_or_else(|| ApiError::bad_request(msg!("notices.error.no_step").field("step")))?;
        if !p.can_change(&n.path) || (st != NoticeStep::Submit && !p.role.may(Action::PublishNotices)) {
            return Err(ApiError::forbidden(msg!("notices.error.reviewer")));
        }
        let done = notices::step(&s.db, &n.id, st, &p.actor_name()).await?;
        let summary = serde_json::json!({ "step": st.code(), "state": done.state.code() });
        audit::change(&s.db, (&p, &address), AuditAction::NoticeStep, Target("notice", &n.id, &n.path), None, &summary)
            .await?;
        Ok(())
    }
    .await;
    answer(&s, &p, lang, &n, result).await
}

/// The printable A4 poster: the notice and a QR code to it on the portal.
pub async fn poster(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    reached: crate::shared::site::Reached,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let n = notice_in_scope(&s, &p, &id).await?;
    let url = format!("{}/portal/notices/{}", reached.base, n.id);
    let svg = crate::demands::pages::posters::qr_svg(&url, 200)?;
    let ctx = context! {
        n => Value::from(Serde(&n)), url => url, svg => Value::from_safe_string(svg),
        publish_at => n.publish_at.map(local_time), ..frame(&p, lang, "/notices")
    };
    Ok(render(lang, StatusCode::OK, "notices/poster.html", ctx))
}

/// Residents of the caller's scopes who have not read an important notice meant
/// for them, by building and room: the grid member's list for visits.
pub async fn unread(State(s): State<AppState>, lang: Lang, p: Principal) -> Result<Response, ApiError> {
    let mut rows = Vec::new();
    for scope in &p.scopes {
        rows.extend(notices::unread_important(&s.db, &scope.path, now_millis()).await?);
    }
    let ctx = context! { rows => Value::from(Serde(&rows)), ..frame(&p, lang, "/notices") };
    Ok(render(lang, StatusCode::OK, "notices/unread.html", ctx))
}

fn portal_ctx(p: &Principal, lang: Lang) -> Value {
    context! { lang => lang.code, user => p.actor_name(), csrf => p.csrf_token.clone().unwrap_or_default() }
}

/// A resident's account id (staff have none).
fn resident(p: &Principal) -> Option<&str> {
    match &p.actor {
        Actor::Account { id, .. } if p.role == Role::Resident => Some(id),
        _ => None,
    }
}

#[derive(Serialize)]
struct PortalRow {
    id: String,
    title: String,
    when: String,
    important: bool,
    pinned: bool,
    read: bool,
}

/// The notices for the resident's household: pinned first, unread marked.
pub async fn portal_list(State(s): State<AppState>, lang: Lang, p: Principal) -> Result<Response, ApiError> {
    let Some(account) = resident(&p) else {
        return Ok(Redirect::to(crate::shared::render::home_of(p.role)).into_response());
    };
    let rows: Vec<PortalRow> = notices::for_account(&s.db, account, now_millis())
        .await?
        .into_iter()
        .map(|sh| PortalRow {
            when: sh.notice.publish_at.map(local_time).unwrap_or_default().chars().take(10).collect(),
            id: sh.notice.id,
            title: sh.notice.title,
            important: sh.notice.important,
            pinned: sh.notice.pinned,
            read: sh.read,
        })
        .collect();
    let ctx = context! { rows => Value::from(Serde(&rows)), ..portal_ctx(&p, lang) };
    Ok(render(lang, StatusCode::OK, "notices/portal_list.html", ctx))
}

/// One notice, marked read by the resident opening it.
pub async fn portal_notice(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    // Staff have no household: no notice reaches them here.
    let Some(account) = resident(&p) else { return Err(crate::shared::auth::unknown(Thing::Notice, &id)) };
    let n = notices::open(&s.db, &id, account, now_millis()).await?;
    let files = notices::files(&s.db, &n.id).await?;
    let ctx = context! {
        files => Value::from(Serde(&files)),
        n => Value::from(Serde(&n)), when => n.publish_at.map(local_time).unwrap_or_default(), ..portal_ctx(&p, lang)
    };
    Ok(render(lang, StatusCode::OK, "notices/portal_notice.html", ctx))
}

/// A notice as the grid's public page shows it.
#[derive(Serialize)]
pub(crate) struct PublicNotice {
    title: String,
    body: String,
    when: String,
    pinned: bool,
}

/// The live notices for everyone on a grid's public page.
pub(crate) async fn of_grid(s: &AppState, grid: &areas::Area) -> Result<Vec<PublicNotice>, ApiError> {
    Ok(notices::public_of_grid(&s.db, grid, now_millis())
        .await?
        .into_iter()
        .map(|n| PublicNotice {
            when: n.publish_at.map(local_time).unwrap_or_default().chars().take(10).collect(),
            title: n.title,
            body: n.body,
            pinned: n.pinned,
        })
        .collect())
}

/// Attaches a file (`file`: an image or a PDF) to a draft notice.
pub async fn add_file(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
    request: axum::extract::Request,
) -> Result<Response, ApiError> {
    let n = notice_in_scope(&s, &p, &id).await?;
    let result = async {
        if !p.can_change(&n.path) {
            return Err(ApiError::forbidden(msg!("error.area_outside")));
        }
        let max = wangge_store::demands::attachments::MAX_BYTES;
        let parts = crate::shared::multipart::read(request, &(), max).await?;
        let Some(upload) = parts.files.into_iter().find(|f| f.field == "file") else {
            return Err(ApiError::invalid(msg!("notices.error.no_file").field("file")));
        };
        let Some(data) = upload.data else {
            return Err(ApiError::invalid(msg!("notices.error.no_file").field("file")));
        };
        let f = notices::add_file(&s.db, &n.id, &upload.file_name, &data).await?;
        let summary = serde_json::json!({ "file": f.name, "size": f.size });
        audit::change(&s.db, (&p, &address), AuditAction::NoticeSave, Target("notice", &n.id, &n.path), None, &summary)
            .await?;
        Ok(())
    }
    .await;
    answer(&s, &p, lang, &n, result).await
}

/// The notice of an attachment, if the caller may see it; else the file is unknown.
async fn file_in_scope(
    s: &AppState,
    p: &Principal,
    id: &str,
) -> Result<(notices::NoticeFile, Vec<u8>, Notice), ApiError> {
    let (f, data) = notices::file(&s.db, id).await?;
    let n =
        notice_in_scope(s, p, &f.notice_id).await.map_err(|_| crate::shared::auth::unknown(Thing::NoticeFile, id))?;
    Ok((f, data, n))
}

fn serve(f: &notices::NoticeFile, data: Vec<u8>) -> Response {
    let disposition = if f.content_type.starts_with("image/") { "inline" } else { "attachment" };
    crate::shared::api::private_file(&f.content_type, disposition, data)
}

/// An attachment, to staff who see its notice.
pub async fn staff_file(State(s): State<AppState>, p: Principal, Path(id): Path<String>) -> Result<Response, ApiError> {
    let (f, data, _) = file_in_scope(&s, &p, &id).await?;
    Ok(serve(&f, data))
}

/// Removes an attachment of a draft notice.
pub async fn remove_file(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (f, _, n) = file_in_scope(&s, &p, &id).await?;
    let result = async {
        if !p.can_change(&n.path) {
            return Err(ApiError::forbidden(msg!("error.area_outside")));
        }
        notices::remove_file(&s.db, &f.id).await?;
        let summary = serde_json::json!({ "removed": f.name });
        audit::change(&s.db, (&p, &address), AuditAction::NoticeSave, Target("notice", &n.id, &n.path), None, &summary)
            .await?;
        Ok(())
    }
    .await;
    answer(&s, &p, lang, &n, result).await
}

/// An attachment of a notice that reaches the resident's household.
pub async fn portal_file(
    State(s): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let Some(account) = resident(&p) else { return Err(crate::shared::auth::unknown(Thing::NoticeFile, &id)) };
    let (f, data) = notices::file_for_account(&s.db, &id, account, now_millis()).await?;
    Ok(serve(&f, data))
}

pub(crate) fn routes() -> crate::shared::routes::Routes {
    use crate::shared::auth::Access::*;
    use wangge_domain::Action::*;
    crate::shared::routes::Routes::new()
        .get("/notices", Role(WriteNotices), list)
        .post("/notices", Role(WriteNotices), create)
        .get("/notices/new", Role(WriteNotices), new_form)
        .get("/notices/unread", Role(WriteNotices), unread)
        .get("/notices/{id}", Role(WriteNotices), page)
        .post("/notices/{id}", Role(WriteNotices), save)
        .post("/notices/{id}/step", Role(WriteNotices), step)
        .get("/notices/{id}/poster", Role(WriteNotices), poster)
        .post_limited("/notices/{id}/files", Role(WriteNotices), crate::shared::routes::Limit::Upload, add_file)
        .get("/notices/files/{id}", Role(WriteNotices), staff_file)
        .post("/notices/files/{id}/delete", Role(WriteNotices), remove_file)
        // A resident's own: the handlers show only what reaches their household.
        .get("/portal/notices", Authenticated, portal_list)
        .get("/portal/notices/{id}", Authenticated, portal_notice)
        .get("/portal/notice-files/{id}", Authenticated, portal_file)
}
