//! Logging in and out, who am I, changing one's password.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use wangge_domain::AuditAction;
use wangge_store::security::accounts::{self, Account};
use wangge_store::security::{recovery, sessions};

use crate::shared::api::{ApiResult, JsonBody};
use crate::shared::audit::{self, Event};
use crate::shared::auth::{Actor, ClientAddress, Principal, SESSION_COOKIE, session_secret};
use crate::shared::error::ErrorBody;
use crate::shared::site::Reached;
use crate::{ApiError, AppState};

#[derive(Deserialize, ToSchema)]
pub struct Login {
    /// A user name, or the phone number a resident signed up with.
    pub username: String,
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct LoggedIn {
    pub account: Account,
    /// Send it back in the `X-CSRF-Token` header of every request that changes something.
    pub csrf_token: String,
}

/// The session cookie. `Secure` when the browser's connection is https (the public
/// URL is, or a trusted proxy says so: `shared::site`): over plain http from another
/// PC of the office a browser would drop a `Secure` cookie, and nobody could log in.
fn cookie(value: &str, max_age_secs: i64, secure: bool) -> HeaderValue {
    let secure = if secure { " Secure;" } else { "" };
    let text = format!("{SESSION_COOKIE}={value}; Path=/; HttpOnly;{secure} SameSite=Lax; Max-Age={max_age_secs}");
    HeaderValue::from_str(&text).expect("cookie text is ASCII")
}

fn invalid() -> ApiError {
    // The same answer whether the name is unknown, the password wrong or the account disabled.
    ApiError::new(StatusCode::UNAUTHORIZED, "invalid_credentials", wangge_domain::msg!("security.error.login"))
}

/// What a login attempt came to.
pub enum LoginOutcome {
    LoggedIn {
        account: Account,
        session: sessions::NewSession,
    },
    /// Throttled for this many more minutes.
    Throttled(i64),
    Invalid,
}

/// Checks a user name and password with throttling and auditing, and opens a
/// session; shared by the API and the login page.
pub async fn authenticate(
    s: &AppState,
    username: &str,
    password: &str,
    address: &ClientAddress,
) -> Result<LoginOutcome, ApiError> {
    let name = login_name(s, username).await?;
    if let Some(minutes) = sessions::throttled(&s.db, &name, &address.0).await? {
        let event = Event { outcome: "denied", ..Event::of(AuditAction::LoginThrottled) };
        audit::log(&s.db, None, Some(&name), address, event).await?;
        return Ok(LoginOutcome::Throttled(minutes));
    }
    let found = accounts::credentials(&s.db, &name).await?;
    let verified = accounts::verify_password_async(password, found.as_ref().map(|(_, h)| h.as_str())).await?;
    let Some((account_id, _)) = found.filter(|_| verified) else {
        sessions::record_failure(&s.db, &name, &address.0).await?;
        let event = Event { outcome: "denied", ..Event::of(AuditAction::LoginFailed) };
        audit::log(&s.db, None, Some(&name), address, event).await?;
        return Ok(LoginOutcome::Invalid);
    };
    sessions::clear_failures(&s.db, &name, &address.0).await?;
    let session = sessions::create(&s.db, &account_id, Some(&address.0)).await?;
    let account = accounts::get(&s.db, &account_id).await?;
    let event = Event { target_kind: Some("account"), target_id: Some(&account.id), ..Event::of(AuditAction::Login) };
    audit::log(&s.db, None, Some(&name), address, event).await?;
    Ok(LoginOutcome::LoggedIn { account, session })
}

/// The name a login attempt is checked, throttled and audited under. Residents sign
/// in with their phone number: it is found through its blind index
/// (`recovery::account_by_phone`) and becomes the account's generated user name, so
/// the same five tries hold whichever of the two is typed. A number nobody signs in
/// with is throttled under its blind index, never written down in plain text.
async fn login_name(s: &AppState, typed: &str) -> Result<String, ApiError> {
    let name = typed.trim().to_lowercase();
    let Ok(phone) = wangge_domain::Phone::parse(&name) else { return Ok(name) };
    if let Some((_, username)) = recovery::account_by_phone(&s.db, &phone).await? {
        return Ok(username);
    }
    if accounts::credentials(&s.db, &name).await?.is_some() {
        return Ok(name); // a user name made of digits
    }
    Ok(format!("phone:{}", recovery::phone_key(&s.db, &phone)))
}

/// The Set-Cookie header of a new session.
pub fn session_cookie(session: &sessions::NewSession, reached: &Reached) -> HeaderMap {
    let mut headers = HeaderMap::new();
    let max_age = sessions::ABSOLUTE_TIMEOUT_MS / 1000;
    headers.insert(header::SET_COOKIE, cookie(&session.secret, max_age, reached.secure));
    headers
}

/// The Set-Cookie header that ends a session in the browser.
pub fn cleared_cookie(reached: &Reached) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(header::SET_COOKIE, cookie("", 0, reached.secure));
    headers
}

/// Log in with a user name (or, for residents, the phone number they signed up with)
/// and password; sets the session cookie.
#[utoipa::path(post, path = "/api/v1/session", tag = "session", request_body = Login, responses(
    (status = 200, body = LoggedIn), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn login(
    State(s): State<AppState>,
    address: ClientAddress,
    reached: Reached,
    JsonBody(login): JsonBody<Login>,
) -> Result<Response, ApiError> {
    match authenticate(&s, &login.username, &login.password, &address).await? {
        LoginOutcome::LoggedIn { account, session } => {
            let headers = session_cookie(&session, &reached);
            Ok((headers, Json(LoggedIn { account, csrf_token: session.csrf_token })).into_response())
        }
        LoginOutcome::Throttled(minutes) => Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_attempts",
            wangge_domain::msg!("security.error.throttled", minutes = minutes),
        )),
        LoginOutcome::Invalid => Err(invalid()),
    }
}

/// Log out: ends this session.
#[utoipa::path(delete, path = "/api/v1/session", tag = "session", responses((status = 204), (status = 401, body = ErrorBody)))]
pub async fn logout(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    reached: Reached,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if let Some(secret) = session_secret(&headers) {
        sessions::revoke(&s.db, &secret).await?;
    }
    audit::log(&s.db, Some(&p), None, &address, Event { ..Event::of(AuditAction::Logout) }).await?;
    Ok((StatusCode::NO_CONTENT, cleared_cookie(&reached)).into_response())
}

#[derive(Serialize, ToSchema)]
pub struct Me {
    pub name: String,
    pub role: wangge_domain::Role,
    pub scopes: Vec<wangge_store::security::accounts::Scope>,
    pub must_change_password: bool,
}

/// Who the caller is, with their role and scopes.
#[utoipa::path(get, path = "/api/v1/me", tag = "session", responses((status = 200, body = Me), (status = 401, body = ErrorBody)))]
pub async fn me(p: Principal) -> ApiResult<Me> {
    let must_change_password = matches!(p.actor, Actor::Account { must_change_password: true, .. });
    Ok(Json(Me { name: p.actor_name(), role: p.role, scopes: p.scopes, must_change_password }))
}

#[derive(Deserialize, ToSchema)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
}

/// Change one's own password (required before anything else after the first login).
#[utoipa::path(post, path = "/api/v1/me/password", tag = "session", request_body = PasswordChange,
    responses((status = 204), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn change_password(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    JsonBody(change): JsonBody<PasswordChange>,
) -> Result<StatusCode, ApiError> {
    let Actor::Account { id, username, .. } = &p.actor else {
        return Err(ApiError::bad_request(wangge_domain::msg!("security.error.token_password")));
    };
    let (_, hash) = accounts::credentials(&s.db, username).await?.ok_or_else(invalid)?;
    if !accounts::verify_password_async(&change.current_password, Some(&hash)).await? {
        let wrong = wangge_domain::msg!("security.error.current_password").field("current_password");
        return Err(ApiError::new(StatusCode::UNAUTHORIZED, "invalid_credentials", wrong));
    }
    if change.new_password == change.current_password {
        return Err(ApiError::invalid(wangge_domain::msg!("security.error.same_password").field("new_password")));
    }
    accounts::set_password(&s.db, id, &change.new_password, false).await?;
    // Logged where the account works, so the audit log of its scope shows it.
    let path = p.scopes.first().map(|scope| scope.path.as_str());
    let event =
        Event { target_kind: Some("account"), target_id: Some(id), path, ..Event::of(AuditAction::PasswordChange) };
    audit::log(&s.db, Some(&p), None, &address, event).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// This module's routes, each with who may call it (`crate::shared::routes`).
pub(crate) fn routes() -> crate::shared::routes::Routes {
    use crate::shared::auth::Access::*;
    use utoipa_axum::routes;
    crate::shared::routes::Routes::new()
        .api(Public, routes!(login))
        .api(Authenticated, routes!(logout))
        .api(Authenticated, routes!(me))
        .api(Authenticated, routes!(change_password))
}
