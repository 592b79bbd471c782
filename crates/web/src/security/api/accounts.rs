//! Accounts and API tokens, for platform administrators.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use wangge_domain::AuditAction;
use wangge_store::security::accounts::{self, Account, ApiToken, NewAccount, NewApiToken};

use crate::shared::api::{ApiResult, Id, JsonBody};
use crate::shared::audit::{self, Event};
use crate::shared::auth::{ClientAddress, Principal};
use crate::shared::error::ErrorBody;
use crate::{ApiError, AppState};

/// All accounts.
#[utoipa::path(get, path = "/api/v1/accounts", tag = "accounts", responses((status = 200, body = Vec<Account>), (status = 403, body = ErrorBody)))]
pub async fn list_accounts(State(s): State<AppState>) -> ApiResult<Vec<Account>> {
    Ok(Json(accounts::list(&s.db).await?))
}

/// Create an account with a role and scopes; the person changes the password at first login.
#[utoipa::path(post, path = "/api/v1/accounts", tag = "accounts", request_body = NewAccount,
    responses((status = 201, body = Account), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_account(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    JsonBody(new): JsonBody<NewAccount>,
) -> Result<(StatusCode, Json<Account>), ApiError> {
    Ok((StatusCode::CREATED, Json(create(&s, &p, &address, new).await?)))
}

/// Creates an account and records it in the audit log (the API and the page).
pub(crate) async fn create(
    s: &AppState,
    p: &Principal,
    address: &ClientAddress,
    new: NewAccount,
) -> Result<Account, ApiError> {
    let account = accounts::create(&s.db, new).await?;
    let after = audit::json(&account);
    let event = Event {
        target_kind: Some("account"),
        target_id: Some(&account.id),
        after,
        ..Event::of(AuditAction::AccountCreate)
    };
    audit::log(&s.db, Some(p), None, address, event).await?;
    Ok(account)
}

pub(crate) async fn set_disabled(
    s: &AppState,
    p: &Principal,
    address: &ClientAddress,
    id: &str,
    disabled: bool,
) -> Result<Account, ApiError> {
    let before = accounts::get(&s.db, id).await?;
    accounts::set_disabled(&s.db, id, disabled).await?;
    let after = accounts::get(&s.db, id).await?;
    let action = if disabled { AuditAction::AccountDisable } else { AuditAction::AccountEnable };
    let event = Event {
        target_kind: Some("account"),
        target_id: Some(id),
        before: audit::json(&before),
        after: audit::json(&after),
        ..Event::of(action)
    };
    audit::log(&s.db, Some(p), None, address, event).await?;
    Ok(after)
}

/// Disable an account: it can no longer log in, and its sessions end.
#[utoipa::path(post, path = "/api/v1/accounts/{id}/disable", tag = "accounts", params(("id" = String, Path, description = "Account id")),
    responses((status = 200, body = Account), (status = 404, body = ErrorBody)))]
pub async fn disable_account(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    Id(id): Id<String>,
) -> ApiResult<Account> {
    Ok(Json(set_disabled(&s, &p, &address, &id, true).await?))
}

/// Enable a disabled account.
#[utoipa::path(post, path = "/api/v1/accounts/{id}/enable", tag = "accounts", params(("id" = String, Path, description = "Account id")),
    responses((status = 200, body = Account), (status = 404, body = ErrorBody)))]
pub async fn enable_account(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    Id(id): Id<String>,
) -> ApiResult<Account> {
    Ok(Json(set_disabled(&s, &p, &address, &id, false).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct PasswordReset {
    /// A temporary password; the person must change it at their next login.
    pub password: String,
}

/// Set a temporary password; the person must change it at the next login.
#[utoipa::path(post, path = "/api/v1/accounts/{id}/reset-password", tag = "accounts", params(("id" = String, Path, description = "Account id")),
    request_body = PasswordReset, responses((status = 204), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn reset_password(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    Id(id): Id<String>,
    JsonBody(reset): JsonBody<PasswordReset>,
) -> Result<StatusCode, ApiError> {
    reset_to(&s, &p, &address, &id, &reset.password).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sets a temporary password, ends the person's sessions, records it.
pub(crate) async fn reset_to(
    s: &AppState,
    p: &Principal,
    address: &ClientAddress,
    id: &str,
    password: &str,
) -> Result<(), ApiError> {
    accounts::set_password(&s.db, id, password, true).await?;
    wangge_store::security::sessions::revoke_all(&s.db, id).await?;
    let event =
        Event { target_kind: Some("account"), target_id: Some(id), ..Event::of(AuditAction::AccountResetPassword) };
    audit::log(&s.db, Some(p), None, address, event).await?;
    Ok(())
}

/// API tokens (without their secrets).
#[utoipa::path(get, path = "/api/v1/tokens", tag = "accounts", responses((status = 200, body = Vec<ApiToken>)))]
pub async fn list_tokens(State(s): State<AppState>) -> ApiResult<Vec<ApiToken>> {
    Ok(Json(accounts::list_tokens(&s.db).await?))
}

#[derive(Serialize, ToSchema)]
pub struct IssuedToken {
    pub token: ApiToken,
    /// Shown once: send it as `Authorization: Bearer <secret>`.
    pub secret: String,
}

/// Issue a bearer token with a role and a scope.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "accounts", request_body = NewApiToken,
    responses((status = 201, body = IssuedToken), (status = 422, body = ErrorBody)))]
pub async fn issue_token(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    JsonBody(new): JsonBody<NewApiToken>,
) -> Result<(StatusCode, Json<IssuedToken>), ApiError> {
    Ok((StatusCode::CREATED, Json(issue(&s, &p, &address, new).await?)))
}

/// Issues a token and records it (never its secret) in the audit log.
pub(crate) async fn issue(
    s: &AppState,
    p: &Principal,
    address: &ClientAddress,
    new: NewApiToken,
) -> Result<IssuedToken, ApiError> {
    let (token, secret) = accounts::issue_token(&s.db, new, Some(p.actor_id())).await?;
    let event = Event {
        target_kind: Some("api_token"),
        target_id: Some(&token.id),
        after: audit::json(&token),
        ..Event::of(AuditAction::TokenIssue)
    };
    audit::log(&s.db, Some(p), None, address, event).await?;
    Ok(IssuedToken { token, secret })
}

/// Revoke a token: it stops working at once.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "accounts", params(("id" = String, Path, description = "Token id")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn revoke_token(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    Id(id): Id<String>,
) -> Result<StatusCode, ApiError> {
    revoke(&s, &p, &address, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(crate) async fn revoke(s: &AppState, p: &Principal, address: &ClientAddress, id: &str) -> Result<(), ApiError> {
    accounts::revoke_token(&s.db, id).await?;
    let event = Event { target_kind: Some("api_token"), target_id: Some(id), ..Event::of(AuditAction::TokenRevoke) };
    audit::log(&s.db, Some(p), None, address, event).await?;
    Ok(())
}

/// This module's routes, each with who may call it (`crate::shared::routes`).
pub(crate) fn routes() -> crate::shared::routes::Routes {
    use crate::shared::auth::Access::*;
    use utoipa_axum::routes;
    use wangge_domain::Action::*;
    crate::shared::routes::Routes::new()
        .api(Role(ManageAccounts), routes!(list_accounts))
        .api(Role(ManageAccounts), routes!(create_account))
        .api(Role(ManageAccounts), routes!(disable_account))
        .api(Role(ManageAccounts), routes!(enable_account))
        .api(Role(ManageAccounts), routes!(reset_password))
        .api(Role(ManageAccounts), routes!(list_tokens))
        .api(Role(ManageAccounts), routes!(issue_token))
        .api(Role(ManageAccounts), routes!(revoke_token))
}
