//! The login page and logging out.

use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use serde::Deserialize;
use wangge_store::security::sessions;

use crate::security::api::session::{LoginOutcome, authenticate, cleared_cookie, session_cookie};
use crate::shared::auth::{ClientAddress, Principal, session_secret};
use crate::shared::render::{Lang, render};
use crate::shared::site::Reached;
use crate::{ApiError, AppState};

pub async fn login_form(lang: Lang, principal: Option<Principal>) -> Response {
    if let Some(p) = principal {
        return Redirect::to(crate::shared::render::home_of(p.role)).into_response();
    }
    render(lang, StatusCode::OK, "security/login.html", context! { lang => lang.code, username => "" })
}

#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
}

pub async fn login_submit(
    State(s): State<AppState>,
    lang: Lang,
    address: ClientAddress,
    reached: Reached,
    Form(form): Form<LoginForm>,
) -> Result<Response, ApiError> {
    let again = |status, error: &str| {
        let ctx = context! { lang => lang.code, username => form.username.trim(), error => error };
        Ok(render(lang, status, "security/login.html", ctx))
    };
    match authenticate(&s, &form.username, &form.password, &address).await? {
        LoginOutcome::LoggedIn { account, session } if account.must_change_password => {
            Ok((session_cookie(&session, &reached), Redirect::to("/password")).into_response())
        }
        LoginOutcome::LoggedIn { account, session } => {
            let home = crate::shared::render::home_of(account.role);
            Ok((session_cookie(&session, &reached), Redirect::to(home)).into_response())
        }
        LoginOutcome::Throttled(_) => again(StatusCode::TOO_MANY_REQUESTS, "login.throttled"),
        LoginOutcome::Invalid => again(StatusCode::UNAUTHORIZED, "login.failed"),
    }
}

#[derive(Deserialize)]
pub struct LogoutQuery {
    /// `portal`: back to the residents' login page.
    to: Option<String>,
}

pub async fn logout(
    State(s): State<AppState>,
    reached: Reached,
    headers: HeaderMap,
    Query(q): Query<LogoutQuery>,
) -> Result<Response, ApiError> {
    if let Some(secret) = session_secret(&headers) {
        sessions::revoke(&s.db, &secret).await?;
    }
    let to = if q.to.as_deref() == Some("portal") { "/portal/login" } else { "/login" };
    Ok((cleared_cookie(&reached), Redirect::to(to)).into_response())
}

/// This module's pages, each with who may open it (`crate::shared::routes`).
pub(crate) fn routes() -> crate::shared::routes::Routes {
    use crate::shared::auth::Access::*;
    crate::shared::routes::Routes::new().get("/login", Public, login_form).post("/login", Public, login_submit).post(
        "/logout",
        Authenticated,
        logout,
    )
}
