//! Accounts and API tokens in the browser, for platform administrators: the same
//! operations as `/api/v1/accounts` and `/api/v1/tokens` (and `wangge user …`),
//! through the same functions, so each is checked and audited once.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::value::Serde;
use minijinja::{Value, context};
use serde::{Deserialize, Serialize};
use wangge_domain::{Role, Vocabulary};
use wangge_store::security::accounts::{self, NewAccount, NewApiToken};

use crate::security::api::accounts as ops;
use crate::shared::auth::{ClientAddress, Principal};
use crate::shared::render::{Lang, frame, label, local_time, render, tr};
use crate::{ApiError, AppState};

#[derive(Serialize)]
struct RoleOption {
    code: &'static str,
    label: &'static str,
}

fn role_options(lang: Lang, staff_only: bool) -> Vec<RoleOption> {
    Role::all()
        .iter()
        .filter(|r| !staff_only || **r != Role::Resident)
        .map(|&r| RoleOption { code: r.code(), label: label(r, lang) })
        .collect()
}

#[derive(Serialize)]
struct AccountRow {
    id: String,
    username: String,
    display_name: String,
    role_label: &'static str,
    scopes: String,
    disabled: bool,
    must_change_password: bool,
}

#[derive(Deserialize, Default)]
pub struct AccountsQuery {
    q: Option<String>,
    page: Option<u32>,
    done: Option<String>,
}

const PER_PAGE: usize = 50;

/// What the page shows after an action, as a catalogue key.
fn notice_key(done: Option<&str>) -> Option<&'static str> {
    match done? {
        "created" => Some("accounts.created"),
        "disabled" => Some("accounts.disabled_done"),
        "enabled" => Some("accounts.enabled_done"),
        "reset" => Some("accounts.reset_done"),
        "revoked" => Some("tokens.revoked_done"),
        _ => None,
    }
}

async fn accounts_view(
    s: &AppState,
    p: &Principal,
    lang: Lang,
    q: &AccountsQuery,
    status: StatusCode,
    error: Option<String>,
) -> Result<Response, ApiError> {
    let needle = q.q.as_deref().map(str::trim).unwrap_or("").to_lowercase();
    let all: Vec<AccountRow> = accounts::list(&s.db)
        .await?
        .into_iter()
        .filter(|a| {
            needle.is_empty() || a.username.contains(&needle) || a.display_name.to_lowercase().contains(&needle)
        })
        .map(|a| AccountRow {
            role_label: label(a.role, lang),
            scopes: a.scopes.iter().map(|s| format!("{} {}", s.name, s.code)).collect::<Vec<_>>().join("、"),
            id: a.id,
            username: a.username,
            display_name: a.display_name,
            disabled: a.disabled,
            must_change_password: a.must_change_password,
        })
        .collect();
    let total = all.len();
    let page = q.page.unwrap_or(1).max(1) as usize;
    let rows: Vec<&AccountRow> = all.iter().skip((page - 1) * PER_PAGE).take(PER_PAGE).collect();
    let link = |n: usize| format!("/admin/accounts?page={n}&q={}", crate::shared::render::urlencode(&needle));
    let ctx = context! {
        q => needle.clone(), rows => Value::from(Serde(&rows)), roles => Value::from(Serde(&role_options(lang, false))),
        found => tr("accounts.found", lang.code).replace("%{count}", &total.to_string()),
        notice => notice_key(q.done.as_deref()).map(|k| tr(k, lang.code)), error => error,
        prev_url => (page > 1).then(|| link(page - 1)),
        next_url => (page * PER_PAGE < total).then(|| link(page + 1)),
        ..frame(p, lang, "/admin/accounts"),
    };
    Ok(render(lang, status, "security/accounts.html", ctx))
}

pub async fn accounts_page(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    Query(q): Query<AccountsQuery>,
) -> Result<Response, ApiError> {
    accounts_view(&s, &p, lang, &q, StatusCode::OK, None).await
}

#[derive(Deserialize)]
pub struct NewAccountForm {
    username: String,
    display_name: String,
    role: String,
    scopes: String,
    password: String,
}

pub async fn create_account(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    Form(form): Form<NewAccountForm>,
) -> Result<Response, ApiError> {
    let Some(role) = Role::from_code(&form.role) else {
        let error = tr("accounts.bad_role", lang.code);
        return accounts_view(&s, &p, lang, &AccountsQuery::default(), StatusCode::UNPROCESSABLE_ENTITY, Some(error))
            .await;
    };
    let new = NewAccount {
        username: form.username,
        display_name: form.display_name,
        role,
        // Codes may be separated by spaces, commas or the Chinese enumeration comma.
        scopes: form
            .scopes
            .split([' ', ',', '，', '、', '\n'])
            .filter(|c| !c.trim().is_empty())
            .map(Into::into)
            .collect(),
        password: form.password,
    };
    match ops::create(&s, &p, &address, new).await {
        Ok(_) => Ok(Redirect::to("/admin/accounts?done=created").into_response()),
        Err(e) if e.status.is_client_error() => {
            accounts_view(
                &s,
                &p,
                lang,
                &AccountsQuery::default(),
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(e.said(lang.code)),
            )
            .await
        }
        Err(e) => Err(e),
    }
}

pub async fn disable_account(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    ops::set_disabled(&s, &p, &address, &id, true).await?;
    Ok(Redirect::to("/admin/accounts?done=disabled").into_response())
}

pub async fn enable_account(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    ops::set_disabled(&s, &p, &address, &id, false).await?;
    Ok(Redirect::to("/admin/accounts?done=enabled").into_response())
}

#[derive(Deserialize)]
pub struct ResetForm {
    password: String,
}

pub async fn reset_password(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
    Form(form): Form<ResetForm>,
) -> Result<Response, ApiError> {
    match ops::reset_to(&s, &p, &address, &id, &form.password).await {
        Ok(()) => Ok(Redirect::to("/admin/accounts?done=reset").into_response()),
        Err(e) if e.status == StatusCode::UNPROCESSABLE_ENTITY || e.status == StatusCode::BAD_REQUEST => {
            accounts_view(&s, &p, lang, &AccountsQuery::default(), e.status, Some(e.said(lang.code))).await
        }
        Err(e) => Err(e),
    }
}

/// What the tokens page says above the table.
#[derive(Default)]
struct TokenNotes {
    notice: Option<String>,
    error: Option<String>,
    secret: Option<String>,
    issued_name: Option<String>,
}

#[derive(Serialize)]
struct TokenRow {
    id: String,
    name: String,
    role_label: &'static str,
    scope: String,
    created: String,
    expires: Option<String>,
    revoked: Option<String>,
}

async fn tokens_view(
    s: &AppState,
    p: &Principal,
    lang: Lang,
    status: StatusCode,
    extra: TokenNotes,
) -> Result<Response, ApiError> {
    let rows: Vec<TokenRow> = accounts::list_tokens(&s.db)
        .await?
        .into_iter()
        .map(|t| TokenRow {
            role_label: label(t.role, lang),
            scope: format!("{} {}", t.scope.name, t.scope.code),
            created: local_time(t.created_at),
            expires: t.expires_at.map(local_time),
            revoked: t.revoked_at.map(local_time),
            id: t.id,
            name: t.name,
        })
        .collect();
    let ctx = context! {
        rows => Value::from(Serde(&rows)), roles => Value::from(Serde(&role_options(lang, true))),
        notice => extra.notice, error => extra.error, secret => extra.secret, issued_name => extra.issued_name,
        ..frame(p, lang, "/admin/accounts"),
    };
    Ok(render(lang, status, "security/tokens.html", ctx))
}

#[derive(Deserialize)]
pub struct TokensQuery {
    done: Option<String>,
}

pub async fn tokens_page(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    Query(q): Query<TokensQuery>,
) -> Result<Response, ApiError> {
    let notice = notice_key(q.done.as_deref()).map(|k| tr(k, lang.code));
    tokens_view(&s, &p, lang, StatusCode::OK, TokenNotes { notice, ..Default::default() }).await
}

#[derive(Deserialize)]
pub struct NewTokenForm {
    name: String,
    role: String,
    scope: String,
    expires_in_days: Option<String>,
}

/// Issues a token and shows its secret on this one answer; it is never shown again.
pub async fn issue_token(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    Form(form): Form<NewTokenForm>,
) -> Result<Response, ApiError> {
    let invalid = |message: String| TokenNotes { error: Some(message), ..Default::default() };
    let Some(role) = Role::from_code(&form.role) else {
        return tokens_view(
            &s,
            &p,
            lang,
            StatusCode::UNPROCESSABLE_ENTITY,
            invalid(tr("accounts.bad_role", lang.code)),
        )
        .await;
    };
    let days = form.expires_in_days.as_deref().map(str::trim).filter(|d| !d.is_empty());
    let expires_in_days = match days.map(str::parse::<u32>).transpose() {
        Ok(days) => days,
        Err(_) => {
            let message = tr("tokens.bad_days", lang.code);
            return tokens_view(&s, &p, lang, StatusCode::UNPROCESSABLE_ENTITY, invalid(message)).await;
        }
    };
    let new = NewApiToken { name: form.name, role, scope: form.scope.trim().to_owned(), expires_in_days };
    match ops::issue(&s, &p, &address, new).await {
        Ok(issued) => {
            let extra =
                TokenNotes { secret: Some(issued.secret), issued_name: Some(issued.token.name), ..Default::default() };
            tokens_view(&s, &p, lang, StatusCode::CREATED, extra).await
        }
        Err(e) if e.status.is_client_error() => {
            tokens_view(&s, &p, lang, StatusCode::UNPROCESSABLE_ENTITY, invalid(e.said(lang.code))).await
        }
        Err(e) => Err(e),
    }
}

pub async fn revoke_token(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    ops::revoke(&s, &p, &address, &id).await?;
    Ok(Redirect::to("/admin/tokens?done=revoked").into_response())
}

/// This module's pages, each with who may open it (`crate::shared::routes`).
pub(crate) fn routes() -> crate::shared::routes::Routes {
    use crate::shared::auth::Access::*;
    use wangge_domain::Action::*;
    crate::shared::routes::Routes::new()
        .get("/admin/accounts", Role(ManageAccounts), accounts_page)
        .post("/admin/accounts", Role(ManageAccounts), create_account)
        .post("/admin/accounts/{id}/disable", Role(ManageAccounts), disable_account)
        .post("/admin/accounts/{id}/enable", Role(ManageAccounts), enable_account)
        .post("/admin/accounts/{id}/reset-password", Role(ManageAccounts), reset_password)
        .get("/admin/tokens", Role(ManageAccounts), tokens_page)
        .post("/admin/tokens", Role(ManageAccounts), issue_token)
        .post("/admin/tokens/{id}/revoke", Role(ManageAccounts), revoke_token)
}
