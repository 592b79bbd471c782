//! One's own password, and the audit log page.

use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::value::Serde;
use minijinja::{Value, context};
use serde::{Deserialize, Serialize};
use wangge_domain::{AuditAction, Vocabulary};
use wangge_store::PageRequest;
use wangge_store::audit::{self, AuditFilter};
use wangge_store::security::accounts;

use crate::shared::audit::Event;
use crate::shared::auth::{Actor, ClientAddress, Principal};
use crate::shared::render::{Lang, error_page, frame, label, local_time, render, tr, urlencode};
use crate::{ApiError, AppState};

fn must_change(p: &Principal) -> bool {
    matches!(p.actor, Actor::Account { must_change_password: true, .. })
}

/// Residents change their password on a page at the portal's sizes.
fn password_template(p: &Principal) -> &'static str {
    if p.role == wangge_domain::Role::Resident { "portal/password.html" } else { "security/password.html" }
}

pub async fn password_form(lang: Lang, p: Principal) -> Response {
    let ctx =
        context! { lang => lang.code, user => p.actor_name(), csrf => p.csrf_token.clone(), must => must_change(&p) };
    render(lang, StatusCode::OK, password_template(&p), ctx)
}

#[derive(Deserialize)]
pub struct PasswordForm {
    current_password: String,
    new_password: String,
}

pub async fn password_submit(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    Form(form): Form<PasswordForm>,
) -> Result<Response, ApiError> {
    let again = |error: String| {
        let ctx = context! {
            lang => lang.code, user => p.actor_name(), csrf => p.csrf_token.clone(), must => must_change(&p), error => error,
        };
        Ok(render(lang, StatusCode::UNPROCESSABLE_ENTITY, password_template(&p), ctx))
    };
    let Actor::Account { id, username, .. } = &p.actor else {
        return Ok(error_page(lang, StatusCode::BAD_REQUEST, &tr("error.forbidden", lang.code)));
    };
    let Some((_, hash)) = accounts::credentials(&s.db, username).await? else {
        return Ok(Redirect::to("/login").into_response());
    };
    if !accounts::verify_password_async(&form.current_password, Some(&hash)).await? {
        return again(tr("password.wrong", lang.code));
    }
    if form.new_password == form.current_password {
        return again(tr("password.same", lang.code));
    }
    if let Err(e) = accounts::set_password(&s.db, id, &form.new_password, false).await {
        return again(ApiError::from(e).said(lang.code));
    }
    // Logged where the account works, so the audit log of its scope shows it.
    let path = p.scopes.first().map(|scope| scope.path.as_str());
    let event =
        Event { target_kind: Some("account"), target_id: Some(id), path, ..Event::of(AuditAction::PasswordChange) };
    crate::shared::audit::log(&s.db, Some(&p), None, &address, event).await?;
    Ok(Redirect::to(crate::shared::render::home_of(p.role)).into_response())
}

#[derive(Deserialize)]
pub struct AuditQuery {
    action: Option<String>,
    actor: Option<String>,
    page: Option<u32>,
}

#[derive(Serialize)]
struct Line {
    when: String,
    actor_name: String,
    address: Option<String>,
    action: String,
    /// The kind in the page's language (the code when the log holds one no longer known).
    action_label: String,
    target_kind: Option<String>,
    target_id: Option<String>,
    reason: Option<String>,
    outcome: String,
}

pub async fn audit_page(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    Query(q): Query<AuditQuery>,
) -> Result<Response, ApiError> {
    let filter = AuditFilter {
        under_paths: p.audit_paths(),
        action: q.action.clone().filter(|a| !a.trim().is_empty()),
        actor_name: q.actor.clone().filter(|a| !a.trim().is_empty()),
        ..Default::default()
    };
    let request = PageRequest::new(q.page, Some(50));
    let page = audit::search(&s.db, &filter, request).await?;
    let entries: Vec<Line> = page
        .items
        .into_iter()
        .map(|e| Line {
            when: local_time(e.at),
            actor_name: e.actor_name,
            address: e.address,
            action_label: AuditAction::from_code(&e.action).map_or_else(|| e.action.clone(), |a| label(a, lang).into()),
            action: e.action,
            target_kind: e.target_kind,
            target_id: e.target_id,
            reason: e.reason,
            outcome: e.outcome,
        })
        .collect();
    let link = |n: u32| {
        format!(
            "/audit?page={n}&action={}&actor={}",
            urlencode(q.action.as_deref().unwrap_or_default()),
            urlencode(q.actor.as_deref().unwrap_or_default())
        )
    };
    let last = ((page.total.max(1) - 1) / i64::from(request.per_page) + 1) as u32;
    #[derive(Serialize)]
    struct Kind {
        code: &'static str,
        label: &'static str,
    }
    let kinds: Vec<Kind> = AuditAction::all().iter().map(|&a| Kind { code: a.code(), label: label(a, lang) }).collect();
    let ctx = context! {
        action => q.action.clone().unwrap_or_default(), actor => q.actor.clone().unwrap_or_default(),
        kinds => Value::from(Serde(&kinds)),
        found => tr("audit.found", lang.code).replace("%{count}", &page.total.to_string()),
        entries => Value::from(Serde(&entries)),
        prev_url => (request.page > 1).then(|| link(request.page - 1)),
        next_url => (request.page < last).then(|| link(request.page + 1)),
        ..frame(&p, lang, "/audit"),
    };
    Ok(render(lang, StatusCode::OK, "security/audit.html", ctx))
}

/// This module's pages, each with who may open it (`crate::shared::routes`).
pub(crate) fn routes() -> crate::shared::routes::Routes {
    use crate::shared::auth::Access::*;
    use wangge_domain::Action::*;
    crate::shared::routes::Routes::new()
        .get("/password", Authenticated, password_form)
        .post("/password", Authenticated, password_submit)
        .get("/audit", Role(ViewAudit), audit_page)
}
