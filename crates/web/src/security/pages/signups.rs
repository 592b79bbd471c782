//! Residents' sign-ups waiting for their grid member: who asked, for which
//! household, and a button to confirm or reject each. Confirming binds the account
//! to the household and lets the person log in to the portal.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::value::Serde;
use minijinja::{Value, context};
use serde::{Deserialize, Serialize};
use wangge_domain::AuditAction;
use wangge_store::Thing;
use wangge_store::security::signups;

use crate::shared::audit::{self, Event};
use crate::shared::auth::{ClientAddress, Principal};
use crate::shared::render::{Lang, frame, local_time, render, tr};
use crate::{ApiError, AppState};

#[derive(Serialize)]
struct Row {
    id: String,
    name: String,
    phone: String,
    address: String,
    requested: String,
}

#[derive(Deserialize)]
pub struct SignupsQuery {
    done: Option<String>,
}

pub async fn signups_page(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    Query(q): Query<SignupsQuery>,
) -> Result<Response, ApiError> {
    let mut rows = Vec::new();
    for scope in &p.scopes {
        for signup in signups::pending_under(&s.db, Some(&scope.path)).await? {
            rows.push(Row {
                address: tr("address.format", lang.code)
                    .replace("%{building}", &signup.building_number)
                    .replace("%{unit}", if signup.unit.is_empty() { "-" } else { &signup.unit })
                    .replace("%{room}", &signup.room),
                requested: local_time(signup.requested_at),
                id: signup.id,
                name: signup.resident_name,
                phone: signup.phone.unwrap_or_else(|| signup.username.clone()),
            });
        }
    }
    let notice = match q.done.as_deref() {
        Some("confirmed") => Some(tr("signups.confirmed", lang.code)),
        Some("rejected") => Some(tr("signups.rejected", lang.code)),
        _ => None,
    };
    let ctx = context! { rows => Value::from(Serde(&rows)), notice => notice, ..frame(&p, lang, "/registry/signups") };
    Ok(render(lang, StatusCode::OK, "security/signups.html", ctx))
}

async fn decide(
    s: &AppState,
    p: &Principal,
    address: &ClientAddress,
    id: &str,
    confirm: bool,
) -> Result<Response, ApiError> {
    p.refer(signups::get(&s.db, id).await, Thing::SignUp, id, |r| &r.path)?;
    let decided = signups::decide(&s.db, id, confirm, p.actor_id()).await?;
    let event = Event {
        target_kind: Some("account"),
        target_id: Some(&decided.account_id),
        path: Some(&decided.path),
        after: audit::json(&decided),
        ..Event::of(if confirm { AuditAction::SignupConfirm } else { AuditAction::SignupReject })
    };
    audit::log(&s.db, Some(p), None, address, event).await?;
    let done = if confirm { "confirmed" } else { "rejected" };
    Ok(Redirect::to(&format!("/registry/signups?done={done}")).into_response())
}

pub async fn confirm_signup(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    decide(&s, &p, &address, &id, true).await
}

pub async fn reject_signup(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    decide(&s, &p, &address, &id, false).await
}

/// This module's pages, each with who may open it (`crate::shared::routes`).
pub(crate) fn routes() -> crate::shared::routes::Routes {
    use crate::shared::auth::Access::*;
    use wangge_domain::Action::*;
    crate::shared::routes::Routes::new()
        .get("/registry/signups", Role(EditRegistry), signups_page)
        .post("/registry/signups/{id}/confirm", Role(EditRegistry), confirm_signup)
        .post("/registry/signups/{id}/reject", Role(EditRegistry), reject_signup)
}
