//! Signing in for residents, at the portal's sizes: the phone number and the
//! password (`/portal/login`), and a forgotten password, set again with the one-time
//! code their grid member gives them after seeing them (`/portal/forgot`,
//! `/portal/reset`). The grid member's side is `security::pages::recovery`; the store
//! side `store::security::recovery`.

use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::value::Serde;
use minijinja::{Value, context};
use serde::Deserialize;
use wangge_domain::{AuditAction, Phone, Role};
use wangge_store::StoreError;
use wangge_store::registry::areas;
use wangge_store::security::recovery::{self, Redeemed};
use wangge_store::security::{accounts, sessions};

use crate::security::api::session::{LoginOutcome, authenticate, session_cookie};
use crate::shared::audit::{self, Event};
use crate::shared::auth::{ClientAddress, Principal};
use crate::shared::render::{Lang, home_of, render, say, tr};
use crate::shared::site::Reached;
use crate::{ApiError, AppState};

/// The grid a resident's phone last signed in from, kept on the phone itself so that
/// the forgotten-password page can show that grid's duty phone without asking the
/// server where a number lives.
const GRID_COOKIE: &str = "wangge_grid";

fn remembered_grid(headers: &HeaderMap) -> Option<String> {
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|p| {
        let (name, value) = p.trim().split_once('=')?;
        (name == GRID_COOKIE && !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit())).then(|| value.into())
    })
}

/// The grid code at the end of a household's path (`/…/370602004011001/`).
fn grid_code_of(path: &str) -> Option<&str> {
    path.trim_end_matches('/').rsplit('/').next().filter(|c| c.len() == 15)
}

fn page(lang: Lang, status: StatusCode, template: &str, ctx: Value) -> Response {
    render(lang, status, template, ctx)
}

pub async fn login_form(lang: Lang, principal: Option<Principal>) -> Response {
    if let Some(p) = principal {
        return Redirect::to(home_of(p.role)).into_response();
    }
    page(lang, StatusCode::OK, "portal/login.html", context! { lang => lang.code, phone => "" })
}

#[derive(Deserialize)]
pub struct LoginForm {
    phone: String,
    password: String,
}

/// Logs a resident in with their phone number (or, for accounts made before phones,
/// their user name): the same checks, throttling and audit as the staff login.
pub async fn login_submit(
    State(s): State<AppState>,
    lang: Lang,
    address: ClientAddress,
    reached: Reached,
    Form(form): Form<LoginForm>,
) -> Result<Response, ApiError> {
    let again = |status, error: &str| {
        let ctx = context! { lang => lang.code, phone => form.phone.trim(), error => tr(error, lang.code) };
        Ok(page(lang, status, "portal/login.html", ctx))
    };
    match authenticate(&s, &form.phone, &form.password, &address).await? {
        LoginOutcome::LoggedIn { account, session } => {
            let mut headers = session_cookie(&session, &reached);
            if account.role == Role::Resident
                && let Some(household) = &account.household_id
            {
                let household = wangge_store::registry::households::get(&s.db, household).await?;
                if let Some(code) = grid_code_of(&household.path) {
                    let cookie = format!("{GRID_COOKIE}={code}; Path=/; Max-Age=31536000; HttpOnly; SameSite=Lax");
                    headers.append(header::SET_COOKIE, HeaderValue::from_str(&cookie).expect("digits"));
                }
            }
            let to = if account.must_change_password { "/password" } else { home_of(account.role) };
            Ok((headers, Redirect::to(to)).into_response())
        }
        LoginOutcome::Throttled(_) => again(StatusCode::TOO_MANY_REQUESTS, "login.throttled"),
        LoginOutcome::Invalid => again(StatusCode::UNAUTHORIZED, "portal_login.failed"),
    }
}

/// "Forgot your password? Ask your grid member": what to do, and the duty phones of
/// the grid this phone last signed in from, when the team has made them public.
pub async fn forgot(State(s): State<AppState>, lang: Lang, headers: HeaderMap) -> Result<Response, ApiError> {
    let mut grid_name = None;
    let mut team = Vec::new();
    let mut hotline = None;
    if let Some(code) = remembered_grid(&headers)
        && let Ok(grid) = areas::get_by_code(&s.db, &code).await
        && grid.level == wangge_domain::AreaLevel::Grid
    {
        team = crate::team::public::public_team(&s, &grid, lang)
            .await?
            .into_iter()
            .filter(|p| p.duty_phone.is_some())
            .collect();
        hotline = wangge_store::demands::routing::settings_at(&s.db, &grid.path).await?.hotline;
        grid_name = Some(grid.name);
    }
    let ctx = context! {
        lang => lang.code, grid_name => grid_name, team => Value::from(Serde(&team)), hotline => hotline,
    };
    Ok(page(lang, StatusCode::OK, "portal/forgot.html", ctx))
}

pub async fn reset_form(lang: Lang) -> Response {
    page(lang, StatusCode::OK, "portal/reset.html", context! { lang => lang.code, phone => "" })
}

#[derive(Deserialize)]
pub struct ResetForm {
    phone: String,
    code: String,
    new_password: String,
}

/// Sets a new password with the phone and the grid member's one-time code, then logs
/// the resident in. Wrong codes count as failed logins (the same throttle, by
/// account and by address), and a code dies after five of them.
pub async fn reset_submit(
    State(s): State<AppState>,
    lang: Lang,
    address: ClientAddress,
    reached: Reached,
    Form(form): Form<ResetForm>,
) -> Result<Response, ApiError> {
    let again = |status, error: String| {
        let ctx = context! { lang => lang.code, phone => form.phone.trim(), error => error };
        Ok(page(lang, status, "portal/reset.html", ctx))
    };
    let phone = match Phone::parse(&form.phone) {
        Ok(phone) => phone,
        Err(e) => {
            let error = format!(
                "{}: {}",
                tr("portal_login.phone", lang.code),
                say(&wangge_domain::Explain::message(&e), lang.code)
            );
            return again(StatusCode::UNPROCESSABLE_ENTITY, error);
        }
    };
    let known = recovery::account_by_phone(&s.db, &phone).await?;
    // Throttled under the same names as logins: the account's user name, or the
    // number's blind index.
    let name = known.as_ref().map_or_else(|| format!("phone:{}", recovery::phone_key(&s.db, &phone)), |k| k.1.clone());
    if sessions::throttled(&s.db, &name, &address.0).await?.is_some() {
        let event = Event { outcome: "denied", ..Event::of(AuditAction::LoginThrottled) };
        audit::log(&s.db, None, Some(&name), &address, event).await?;
        return again(StatusCode::TOO_MANY_REQUESTS, tr("login.throttled", lang.code));
    }
    let redeemed = match recovery::redeem(&s.db, &phone, &form.code, &form.new_password).await {
        Ok(redeemed) => redeemed,
        Err(StoreError::Invalid(message)) => return again(StatusCode::UNPROCESSABLE_ENTITY, say(&message, lang.code)),
        Err(e) => return Err(e.into()),
    };
    match redeemed {
        Redeemed::Refused { account } => {
            sessions::record_failure(&s.db, &name, &address.0).await?;
            let event = Event {
                outcome: "denied",
                target_kind: account.as_ref().map(|_| "account"),
                target_id: account.as_ref().map(|a| a.0.as_str()),
                ..Event::of(AuditAction::RecoveryCodeRefused)
            };
            audit::log(&s.db, None, Some(&name), &address, event).await?;
            again(StatusCode::UNAUTHORIZED, tr("reset.refused", lang.code))
        }
        Redeemed::Done { account_id, username, path } => {
            sessions::clear_failures(&s.db, &username, &address.0).await?;
            let event = Event {
                target_kind: Some("account"),
                target_id: Some(&account_id),
                path: Some(&path),
                ..Event::of(AuditAction::RecoveryCodeUse)
            };
            audit::log(&s.db, None, Some(&username), &address, event).await?;
            let session = sessions::create(&s.db, &account_id, Some(&address.0)).await?;
            let account = accounts::get(&s.db, &account_id).await?;
            Ok((session_cookie(&session, &reached), Redirect::to(home_of(account.role))).into_response())
        }
    }
}

/// The sign-in pages of the portal, each with who may open it (`crate::shared::routes`).
pub(crate) fn routes() -> crate::shared::routes::Routes {
    use crate::shared::auth::Access::*;
    crate::shared::routes::Routes::new()
        .get("/portal/login", Public, login_form)
        .post("/portal/login", Public, login_submit)
        .get("/portal/forgot", Public, forgot)
        .get("/portal/reset", Public, reset_form)
        .post("/portal/reset", Public, reset_submit)
}
