//! Notifications in the reader's language: the in-app list every module's notices
//! land in (`/notifications`, `GET /api/v1/me/notifications`) and marking them read.
//! The store keeps each notice as a [`Message`](wangge_domain::Message); it becomes
//! prose here, for the person reading it, in the language of their page or request.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::value::Serde;
use minijinja::{Value, context};
use serde::Serialize;
use utoipa::ToSchema;
use wangge_domain::{Module, Role};
use wangge_store::notifications::{self, Notification};

use crate::AppState;
use crate::shared::api::ApiResult;
use crate::shared::auth::Principal;
use crate::shared::error::ErrorBody;
use crate::shared::render::{Lang, frame, label, local_time, render, say};

/// How many of the latest notifications a list shows.
const LATEST: i64 = 100;

/// A notification as its reader sees it.
#[derive(Serialize, ToSchema)]
pub struct NotificationOut {
    #[schema(format = Uuid)]
    pub id: String,
    pub module: Module,
    /// The record it is about, in its module.
    pub subject_id: Option<String>,
    /// The item, for notifications of the demands module (kept for older clients:
    /// the same as `subject_id` there).
    #[schema(format = Uuid)]
    pub demand_id: Option<String>,
    /// The page to open, relative to the site.
    pub link: Option<String>,
    /// What it says, in the request's language (`Accept-Language`, zh-CN by default).
    pub message: String,
    pub created_at: i64,
    pub read_at: Option<i64>,
}

fn said(n: Notification, lang: Lang) -> NotificationOut {
    NotificationOut {
        message: say(&n.message, lang.code),
        id: n.id,
        module: n.module,
        subject_id: n.subject_id,
        demand_id: n.demand_id,
        link: n.link,
        created_at: n.created_at,
        read_at: n.read_at,
    }
}

/// The caller's latest notifications (at most 100), newest first, in the request's language.
#[utoipa::path(get, path = "/api/v1/me/notifications", tag = "notifications",
    responses((status = 200, body = Vec<NotificationOut>), (status = 401, body = ErrorBody)))]
pub async fn my_notifications(State(s): State<AppState>, lang: Lang, p: Principal) -> ApiResult<Vec<NotificationOut>> {
    let mine = notifications::mine(&s.db, p.actor_id(), LATEST).await?;
    Ok(Json(mine.into_iter().map(|n| said(n, lang)).collect()))
}

#[derive(Serialize, ToSchema)]
pub struct MarkedRead {
    pub marked: u64,
}

/// Mark all of the caller's notifications read.
#[utoipa::path(post, path = "/api/v1/me/notifications/read", tag = "notifications",
    responses((status = 200, body = MarkedRead), (status = 401, body = ErrorBody)))]
pub async fn read_notifications(State(s): State<AppState>, p: Principal) -> ApiResult<MarkedRead> {
    Ok(Json(MarkedRead { marked: notifications::mark_read(&s.db, p.actor_id()).await? }))
}

#[derive(Serialize)]
struct Card {
    module: &'static str,
    message: String,
    link: Option<String>,
    at: String,
    unread: bool,
}

/// The notifications page: staff in their frame, residents in the portal's large type.
async fn page(State(s): State<AppState>, lang: Lang, p: Principal) -> Result<Response, crate::ApiError> {
    let mine = notifications::mine(&s.db, p.actor_id(), LATEST).await?;
    let unread = mine.iter().filter(|n| n.read_at.is_none()).count();
    let cards: Vec<Card> = mine
        .into_iter()
        .map(|n| Card {
            module: label(n.module, lang),
            message: say(&n.message, lang.code),
            link: n.link.filter(|l| l.starts_with('/')),
            at: local_time(n.created_at).chars().take(16).collect(),
            unread: n.read_at.is_none(),
        })
        .collect();
    let resident = p.role == Role::Resident;
    let layout = if resident { "portal/base.html" } else { "shared/base.html" };
    let unread = (unread > 0).then(|| say(&wangge_domain::msg!("notices.unread", count = unread), lang.code));
    let ctx = context! {
        layout, cards => Value::from(Serde(&cards)), unread, resident,
        ..frame(&p, lang, "/notifications")
    };
    Ok(render(lang, StatusCode::OK, "shared/notifications.html", ctx))
}

/// Marks them all read and shows the list again.
async fn mark_read(State(s): State<AppState>, p: Principal) -> Result<Response, crate::ApiError> {
    notifications::mark_read(&s.db, p.actor_id()).await?;
    Ok(Redirect::to("/notifications").into_response())
}

pub(crate) fn routes() -> crate::shared::routes::Routes {
    use crate::shared::auth::Access::Authenticated;
    use utoipa_axum::routes;
    crate::shared::routes::Routes::new()
        .get("/notifications", Authenticated, page)
        .post("/notifications/read", Authenticated, mark_read)
        .api(Authenticated, routes!(my_notifications))
        .api(Authenticated, routes!(read_notifications))
}
