//! Helping a resident back in (找回密码): the grid member (or community staff) finds
//! the resident's account in their scope by phone or name, confirms they have seen
//! the person or their ID card, and issues a one-time code the resident types at
//! `/portal/reset` with their phone and a new password. Issuing is audited with the
//! confirmation; the code is shown once and stored only as a keyed hash
//! (`store::security::recovery`).

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::value::Serde;
use minijinja::{Value, context};
use serde::{Deserialize, Serialize};
use wangge_domain::{AuditAction, Phone};
use wangge_store::security::recovery::{self, ResidentAccount};
use wangge_store::{StoreError, Thing};

use crate::shared::audit::{self, Event};
use crate::shared::auth::{ClientAddress, Principal, unknown};
use crate::shared::render::{Lang, frame, local_time, render, say, tr};
use crate::{ApiError, AppState};

#[derive(Serialize)]
struct Row {
    id: String,
    name: String,
    address: String,
    phone: String,
}

fn address(a: &ResidentAccount, lang: Lang) -> String {
    tr("address.format", lang.code)
        .replace("%{building}", &a.building_number)
        .replace("%{unit}", if a.unit.is_empty() { "-" } else { &a.unit })
        .replace("%{room}", &a.room)
}

#[derive(Deserialize)]
pub struct FindQuery {
    q: Option<String>,
}

/// Find the resident: by the phone they sign in with (exactly) or by name, in the
/// caller's own subtrees.
pub async fn find(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    Query(q): Query<FindQuery>,
) -> Result<Response, ApiError> {
    let query = q.q.unwrap_or_default();
    let mut rows = Vec::new();
    for scope in &p.scopes {
        for a in recovery::find_under(&s.db, &scope.path, &query).await? {
            rows.push(Row {
                address: address(&a, lang),
                phone: a.phone.clone().unwrap_or_else(|| tr("recovery.no_phone", lang.code)),
                id: a.id,
                name: a.name,
            });
        }
    }
    let searched = !query.trim().is_empty();
    let ctx = context! {
        q => query, searched => searched, rows => Value::from(Serde(&rows)),
        ..frame(&p, lang, "/registry/signups")
    };
    Ok(render(lang, StatusCode::OK, "security/recovery_find.html", ctx))
}

/// The account, if it is a resident's in the caller's own subtrees (not through a
/// grant: issuing a code changes the account).
async fn in_scope(s: &AppState, p: &Principal, id: &str) -> Result<ResidentAccount, ApiError> {
    let account = p.refer(recovery::resident_account(&s.db, id).await, Thing::Account, id, |a| &a.path)?;
    if !p.can_change(&account.path) {
        return Err(unknown(Thing::Account, id));
    }
    Ok(account)
}

fn confirm_page(
    p: &Principal,
    lang: Lang,
    status: StatusCode,
    account: &ResidentAccount,
    error: Option<String>,
) -> Response {
    let ctx = context! {
        account => Value::from(Serde(account)), address => address(account, lang), error => error,
        ..frame(p, lang, "/registry/signups")
    };
    render(lang, status, "security/recovery_confirm.html", ctx)
}

pub async fn confirm_form(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let account = in_scope(&s, &p, &id).await?;
    Ok(confirm_page(&p, lang, StatusCode::OK, &account, None))
}

#[derive(Deserialize)]
pub struct IssueForm {
    /// The checkbox "I have seen this person or their ID card"; absent when unticked.
    seen: Option<String>,
    /// The phone to sign in with, when the account has none yet.
    #[serde(default)]
    phone: String,
}

/// Issues the code after the confirmation, audited with it, and shows it once.
pub async fn issue(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address_of: ClientAddress,
    Path(id): Path<String>,
    Form(form): Form<IssueForm>,
) -> Result<Response, ApiError> {
    let account = in_scope(&s, &p, &id).await?;
    let again = |status, error: String| Ok(confirm_page(&p, lang, status, &account, Some(error)));
    let seen = form.seen.is_some();
    let phone = match form.phone.trim() {
        "" => None,
        typed => match Phone::parse(typed) {
            Ok(phone) => Some(phone),
            Err(e) => {
                let error = say(&wangge_domain::Explain::message(&e), lang.code);
                return again(StatusCode::UNPROCESSABLE_ENTITY, error);
            }
        },
    };
    let issued = match recovery::issue(&s.db, &id, p.actor_id(), seen, phone.as_ref()).await {
        Ok(issued) => issued,
        Err(StoreError::Invalid(m)) => return again(StatusCode::UNPROCESSABLE_ENTITY, say(&m, lang.code)),
        Err(StoreError::Conflict(m)) => return again(StatusCode::CONFLICT, say(&m, lang.code)),
        Err(e) => return Err(e.into()),
    };
    // Recorded with the confirmation and the expiry, never the code.
    let after = serde_json::json!({
        "seen_in_person": true, "expires_at": issued.expires_at, "phone_set": phone.is_some(),
    });
    let event = Event {
        target_kind: Some("account"),
        target_id: Some(&id),
        path: Some(&issued.path),
        after: audit::json(&after),
        ..Event::of(AuditAction::RecoveryCodeIssue)
    };
    audit::log(&s.db, Some(&p), None, &address_of, event).await?;
    let account = recovery::resident_account(&s.db, &id).await?;
    let ctx = context! {
        account => Value::from(Serde(&account)), address => address(&account, lang),
        code => issued.readable(), until => local_time(issued.expires_at).chars().take(16).collect::<String>(),
        ..frame(&p, lang, "/registry/signups")
    };
    Ok(render(lang, StatusCode::OK, "security/recovery_code.html", ctx))
}

/// This module's pages, each with who may open it (`crate::shared::routes`).
pub(crate) fn routes() -> crate::shared::routes::Routes {
    use crate::shared::auth::Access::*;
    use wangge_domain::Action::*;
    crate::shared::routes::Routes::new()
        .get("/registry/recovery", Role(HelpSignIn), find)
        .get("/registry/recovery/{id}", Role(HelpSignIn), confirm_form)
        .post("/registry/recovery/{id}", Role(HelpSignIn), issue)
}
