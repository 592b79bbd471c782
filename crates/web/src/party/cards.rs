//! 亮身份 (bright identity): a member consents on `/party/mine` to a public card
//! (name, post, grid, their commitment, a photo if they give one) on their grid's
//! public page `/g/<code>` and its printed board; staff record a consent given on
//! paper on the member's page; either revokes it, and the card is gone at once.
//! The rules are `wangge_store::party::cards`.

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use wangge_domain::{AreaLevel, AuditAction, msg};
use wangge_store::Thing;
use wangge_store::party::cards::{self, ConsentSource};
use wangge_store::registry::areas;

use super::pages::err_text;
use crate::shared::audit::{self, Target};
use crate::shared::auth::{ClientAddress, Principal, unknown};
use crate::shared::render::{Lang, tr};
use crate::{ApiError, AppState};

/// Whether a form's box was ticked.
fn ticked(value: Option<&str>) -> bool {
    value.is_some_and(|v| !v.is_empty())
}

async fn audited(
    s: &AppState,
    p: &Principal,
    address: &ClientAddress,
    member: &wangge_store::party::Member,
    action: AuditAction,
    summary: serde_json::Value,
) -> Result<(), ApiError> {
    audit::change(&s.db, (p, address), action, Target("party_member", &member.id, &member.path), None, &summary)
        .await?;
    Ok(())
}

/// A member consents to their card (multipart: the commitment, the box, a photo).
pub(crate) async fn consent_own(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    request: axum::extract::Request,
) -> Result<Response, ApiError> {
    let sent = crate::shared::multipart::read(request, &(), wangge_store::demands::attachments::MAX_BYTES).await?;
    let field = |name: &str| sent.pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_owned());
    let m = super::pages::own(&s, &p, &field("member_id").unwrap_or_default()).await?;
    let photo = match sent.files.iter().find(|f| f.field == "photo") {
        None => None,
        Some(f) => match &f.data {
            Some(d) => Some(d.clone()),
            None => {
                let text = tr("photos.too_big", lang.code).replace("%{name}", &f.file_name);
                return super::pages::mine_page(&s, &p, lang, StatusCode::UNPROCESSABLE_ENTITY, Some(text), None).await;
            }
        },
    };
    let result = async {
        if !ticked(field("agree").as_deref()) {
            return Err(ApiError::invalid(msg!("party.card.error.agree").field("agree")));
        }
        let commitment = field("commitment").unwrap_or_default();
        let given = cards::consent(&s.db, &m.id, &commitment, photo.as_deref(), ConsentSource::Member, &m.name).await?;
        let summary = serde_json::json!({ "source": "member", "photo": given.has_photo });
        audited(&s, &p, &address, &m, AuditAction::PartyCardConsent, summary).await
    }
    .await;
    let done = tr("party.card.shown", lang.code);
    answer(&s, &p, lang, result, done).await
}

#[derive(Deserialize)]
pub struct OwnForm {
    member_id: String,
}

/// A member revokes their consent.
pub(crate) async fn revoke_own(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    axum::Form(f): axum::Form<OwnForm>,
) -> Result<Response, ApiError> {
    let m = super::pages::own(&s, &p, &f.member_id).await?;
    let result = async {
        cards::revoke(&s.db, &m.id, &m.name).await?;
        let summary = serde_json::json!({ "by": "member" });
        audited(&s, &p, &address, &m, AuditAction::PartyCardRevoke, summary).await
    }
    .await;
    answer(&s, &p, lang, result, tr("party.card.revoked", lang.code)).await
}

async fn answer(
    s: &AppState,
    p: &Principal,
    lang: Lang,
    result: Result<(), ApiError>,
    done: String,
) -> Result<Response, ApiError> {
    match result {
        Ok(()) => super::pages::mine_page(s, p, lang, StatusCode::OK, None, Some(done)).await,
        Err(e) => match err_text(&e, lang) {
            Some(text) if e.status == StatusCode::UNPROCESSABLE_ENTITY || e.status == StatusCode::CONFLICT => {
                super::pages::mine_page(s, p, lang, StatusCode::UNPROCESSABLE_ENTITY, Some(text), None).await
            }
            _ => Err(e),
        },
    }
}

#[derive(Deserialize)]
pub struct PaperForm {
    commitment: Option<String>,
    paper: Option<String>,
}

/// Staff record a consent the member gave on paper.
pub(crate) async fn consent_paper(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<PaperForm>,
) -> Result<Response, ApiError> {
    let m = super::member_on_roll(&s, &p, &id).await?;
    let result = async {
        if !p.can_change(&m.path) {
            return Err(super::not_here());
        }
        if !ticked(f.paper.as_deref()) {
            return Err(ApiError::invalid(msg!("party.card.error.paper").field("paper")));
        }
        let commitment = f.commitment.unwrap_or_default();
        cards::consent(&s.db, &m.id, &commitment, None, ConsentSource::Paper, &p.actor_name()).await?;
        audited(&s, &p, &address, &m, AuditAction::PartyCardConsent, serde_json::json!({ "source": "paper" })).await
    }
    .await;
    staff_answer(&s, &p, lang, &m.id, result).await
}

/// Staff revoke a member's consent (the member asked, or left the grid's work).
pub(crate) async fn revoke_staff(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let m = super::member_on_roll(&s, &p, &id).await?;
    let result = async {
        if !p.can_change(&m.path) {
            return Err(super::not_here());
        }
        cards::revoke(&s.db, &m.id, &p.actor_name()).await?;
        audited(&s, &p, &address, &m, AuditAction::PartyCardRevoke, serde_json::json!({ "by": "staff" })).await
    }
    .await;
    staff_answer(&s, &p, lang, &m.id, result).await
}

async fn staff_answer(
    s: &AppState,
    p: &Principal,
    lang: Lang,
    member_id: &str,
    result: Result<(), ApiError>,
) -> Result<Response, ApiError> {
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/party/members/{member_id}")).into_response()),
        Err(e) => match err_text(&e, lang) {
            Some(text) if e.status == StatusCode::UNPROCESSABLE_ENTITY || e.status == StatusCode::CONFLICT => {
                super::pages::member_page(s, p, lang, member_id, None, Some(text)).await
            }
            _ => Err(e),
        },
    }
}

/// A shown card's photo, on the grid's public page: none once consent is revoked,
/// and only under the grid of the address (walking ids across grids finds nothing).
pub(crate) async fn photo(
    State(s): State<AppState>,
    Path((code, member_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let grid = match areas::get_by_code(&s.db, &code).await {
        Ok(a) if a.level == AreaLevel::Grid => a,
        _ => return Err(unknown(Thing::Area, &code)),
    };
    match cards::shown_photo(&s.db, &member_id).await? {
        Some((kind, data, path)) if path.starts_with(&grid.path) => {
            Ok(([(header::CONTENT_TYPE, kind), (header::CACHE_CONTROL, "no-store".to_owned())], data).into_response())
        }
        _ => Err(unknown(Thing::PartyMember, &member_id)),
    }
}

/// The cards of a grid for its public page and board, each with its photo's address.
pub(crate) async fn of_grid(s: &AppState, grid: &areas::Area, lang: Lang) -> Result<Vec<PublicCard>, ApiError> {
    Ok(cards::shown_under(&s.db, &grid.path)
        .await?
        .into_iter()
        .map(|c| PublicCard {
            photo: c.has_photo.then(|| format!("/g/{}/cards/{}/photo", grid.code, c.member_id)),
            post: if c.post.is_empty() { crate::shared::render::label(c.kind, lang).to_owned() } else { c.post },
            name: c.name,
            org: c.org_name.unwrap_or_default(),
            commitment: c.commitment,
        })
        .collect())
}

/// A card as the public page shows it.
#[derive(serde::Serialize)]
pub(crate) struct PublicCard {
    name: String,
    post: String,
    org: String,
    commitment: String,
    photo: Option<String>,
}
