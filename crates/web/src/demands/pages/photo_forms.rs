//! What the three report forms share — the field form of staff (`/demands`), the
//! portal's (`/portal/requests`) and the building poster's (`/report/{id}`): reading
//! a form with photos, the "is it one of these?" offer with its pending report, and
//! serving an item's photos to those who may see the item.
//!
//! **The offer and the photos.** On submit, open items of the same category in the
//! same building (then the same grid) are looked up. When there are any, the form's
//! fields and photos are kept as a pending report (`store::demands::drafts`, an
//! hour) and the offer page asks "is it one of these?"; its two answers post only
//! the pending report's id back to the same address. We chose this over asking
//! before the upload because, on an old phone, the upload is the slow and fragile
//! part: the reporter fills in one form and sends it once, the photos travel once,
//! and answering the question is one tap with nothing to choose or type again. When
//! nothing similar is open — most reports — there is no extra step at all.
//!
//! **Limits.** At most [`attachments::MAX_PER_ITEM`] photos of
//! [`attachments::MAX_BYTES`] each, told to be JPEG, PNG or WebP by their first
//! bytes (not the name or the type the phone claims); the body as a whole is cut
//! off at [`PHOTO_FORM_LIMIT`] before it is read. A refused photo is named on the
//! form, in the reader's language, with what was typed kept; nothing is recorded.

use std::collections::HashMap;

use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::value::Serde;
use minijinja::{Value, context};
use serde::Serialize;
use wangge_domain::AuditAction;
use wangge_store::demands::attachments::{self, Attachment};
use wangge_store::demands::{self, Demand, NewFile};

use crate::shared::audit;
use crate::shared::auth::{ClientAddress, Principal};
use crate::shared::render::{Lang, local_time, tr};
use crate::{ApiError, AppState};

/// The largest body a report form may send: five photos at the limit and the text.
pub const PHOTO_FORM_LIMIT: usize = attachments::MAX_BYTES * attachments::MAX_PER_ITEM as usize + 256 * 1024;

/// The name of the file inputs.
const PHOTOS: &str = "photos";

/// A photo that was not taken, and why.
#[derive(Clone, Debug)]
pub enum Refusal {
    TooBig(String),
    NotAPhoto(String),
    TooMany,
}

impl Refusal {
    pub fn message(&self, lang: Lang) -> String {
        let text = match self {
            Self::TooBig(name) => tr("photos.too_big", lang.code).replace("%{name}", name),
            Self::NotAPhoto(name) => tr("photos.not_photo", lang.code).replace("%{name}", name),
            Self::TooMany => tr("photos.too_many", lang.code),
        };
        format!("{text} {}", tr("photos.again", lang.code))
    }
}

/// A submitted report form: its text fields and the photos it carried. Read from
/// `multipart/form-data` (the forms) or `application/x-www-form-urlencoded` (the
/// answers of the offer page, which carry no files).
pub struct PhotoForm {
    fields: HashMap<String, String>,
    pub files: Vec<NewFile>,
    /// The first photo refused, if any.
    pub refused: Option<Refusal>,
}

impl PhotoForm {
    /// A field's value, trimmed; empty when absent.
    pub fn get(&self, name: &str) -> &str {
        self.fields.get(name).map_or("", |v| v.trim())
    }

    /// A field's value if it is not blank.
    pub fn opt(&self, name: &str) -> Option<String> {
        Some(self.get(name).to_owned()).filter(|v| !v.is_empty())
    }

    /// The typed fields (for the pending report and for refilling the form).
    pub fn fields(&self) -> &HashMap<String, String> {
        &self.fields
    }

    /// The form rebuilt from a pending report's fields and photos.
    pub fn from_draft(draft: &demands::drafts::Draft) -> Self {
        let fields = serde_json::from_str(&draft.fields).unwrap_or_default();
        Self { fields, files: draft.files.clone(), refused: None }
    }
}

impl<S: Send + Sync> FromRequest<S> for PhotoForm {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let parts = crate::shared::multipart::read(request, state, attachments::MAX_BYTES).await?;
        let fields = parts.pairs.into_iter().collect();
        let (mut files, mut refused) = (Vec::new(), None);
        let mut offered = 0;
        for file in parts.files.into_iter().filter(|f| f.field == PHOTOS) {
            offered += 1;
            let refusal = match &file.data {
                None => Some(Refusal::TooBig(file.file_name.clone())),
                Some(data) if !attachments::sniff(data).is_some_and(|t| t.starts_with("image/")) => {
                    Some(Refusal::NotAPhoto(file.file_name.clone()))
                }
                Some(_) => None,
            };
            match (refusal, file.data) {
                (Some(r), _) => {
                    refused.get_or_insert(r);
                }
                (None, Some(data)) => files.push(NewFile { name: file.file_name, data }),
                (None, None) => {}
            }
        }
        if refused.is_none() && offered > attachments::MAX_PER_ITEM {
            refused = Some(Refusal::TooMany);
        }
        Ok(Self { fields, files, refused })
    }
}

/// A post to a report form: the report, and for an answer to the offer page the
/// pending report it finishes (`draft`) with the answer as posted (`into`: an
/// offered item's id, or `new`).
pub struct Posted {
    pub form: PhotoForm,
    pub answer: Option<(String, PhotoForm)>,
}

impl Posted {
    /// The pending report this post finishes, if it answers the offer page.
    pub fn draft(&self) -> Option<&str> {
        self.answer.as_ref().map(|(draft, _)| draft.as_str())
    }

    /// Whether the reporter chose an item that `chosen` no longer found open.
    pub fn chose_gone(&self, chosen: Option<&String>) -> bool {
        self.answer.as_ref().is_some_and(|(_, a)| a.get("into") != "new") && chosen.is_none()
    }
}

/// Splits a post into its report and answer; `None` when it answers a pending
/// report of `owner` that is gone (sent already, or older than an hour).
pub async fn split(s: &AppState, owner: &str, posted: PhotoForm) -> Result<Option<Posted>, ApiError> {
    let Some(draft_id) = posted.opt("draft") else { return Ok(Some(Posted { form: posted, answer: None })) };
    Ok(demands::drafts::get(&s.db, &draft_id, owner)
        .await?
        .map(|draft| Posted { form: PhotoForm::from_draft(&draft), answer: Some((draft.id, posted)) }))
}

/// An open item offered as what the report may be about: what and where it stands,
/// never who reported it.
#[derive(Serialize)]
pub struct Offer {
    pub id: String,
    pub title: String,
    pub status: String,
    pub date: String,
    pub same_building: bool,
}

/// Where similar items are looked for.
#[derive(Clone, Copy)]
pub struct Around<'a> {
    pub building: Option<&'a str>,
    /// The building's grid (or the caller's area without a building).
    pub under_path: &'a str,
    /// Only the same building: the poster's form, which has no account, shows
    /// nothing of the rest of the grid to whoever stands in the stairwell.
    pub building_only: bool,
    /// The new report's title and point: only like items nearby are offered.
    pub title: &'a str,
    pub at: Option<(f64, f64)>,
}

async fn similar(s: &AppState, category: &str, around: Around<'_>) -> Result<Vec<demands::SimilarItem>, ApiError> {
    let like = demands::LikeThis { title: Some(around.title), at: around.at };
    let at_most = demands::OFFER_AT_MOST as i64;
    let found = demands::similar(&s.db, category, around.building, around.under_path, like, at_most).await?;
    Ok(found.into_iter().filter(|d| !around.building_only || d.same_building).collect())
}

/// Open items of `category` in the building, then elsewhere under the path.
pub async fn offers(s: &AppState, category: &str, around: Around<'_>, lang: Lang) -> Result<Vec<Offer>, ApiError> {
    Ok(similar(s, category, around)
        .await?
        .into_iter()
        .map(|d| Offer {
            // The state's own name: the plain words of the portal speak to the
            // item's reporter ("您不满意…"), and this is somebody else's item.
            status: crate::shared::render::label(d.status, lang).to_owned(),
            date: local_time(d.created_at).chars().take(10).collect(),
            id: d.id,
            title: d.title,
            same_building: d.same_building,
        })
        .collect())
}

/// Keeps the form as a pending report of `owner`; answers its id, or `None` when too
/// many of theirs are waiting already.
pub async fn keep(
    s: &AppState,
    owner: &str,
    building: Option<&str>,
    form: &PhotoForm,
) -> Result<Option<String>, ApiError> {
    let typed: HashMap<&String, &String> =
        form.fields().iter().filter(|(k, _)| !matches!(k.as_str(), "csrf_token" | "draft" | "into")).collect();
    let fields = serde_json::to_string(&typed).unwrap_or_default();
    match demands::drafts::save(&s.db, owner, building, &fields, &form.files).await {
        Ok(id) => Ok(Some(id)),
        Err(wangge_store::StoreError::Conflict(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The offer page: `action` is where the answers go (the form's own address),
/// `layout` the staff frame or the portal's, `ctx` the frame's context.
pub fn offer_page(
    lang: Lang,
    staff: bool,
    action: &str,
    draft: &str,
    offers: &[Offer],
    photos: usize,
    ctx: Value,
) -> Response {
    let ctx = context! {
        staff => staff, action => action, draft => draft, offers => Value::from(Serde(offers)),
        photos => tr("offer.photos_kept", lang.code).replace("%{count}", &photos.to_string()), photo_count => photos,
        ..ctx
    };
    crate::shared::render::render(lang, StatusCode::OK, "demands/demand_offer.html", ctx)
}

/// The chosen item, if it is still among those offered for this report (a posted id
/// is never trusted to name an item the reporter was not shown).
pub async fn chosen(
    s: &AppState,
    form: &PhotoForm,
    category: &str,
    around: Around<'_>,
) -> Result<Option<String>, ApiError> {
    let Some(into) = form.opt("into").filter(|i| i != "new") else { return Ok(None) };
    let open = similar(s, category, around).await?;
    Ok(open.into_iter().find(|d| d.id == into).map(|d| d.id))
}

/// Checks a new report as the store will record it: its place's path, or (inner
/// `Err`) what to say on the form — a field refused or a place that does not exist.
/// A place (or a record the report names) where `sees` says no is one that does not
/// exist ([`demands::locate`]).
pub async fn place_of(
    s: &AppState,
    new: &demands::NewDemand,
    lang: Lang,
    sees: impl Fn(&str) -> bool,
) -> Result<Result<String, String>, ApiError> {
    match demands::check_new(&s.db, new, sees).await {
        Ok(place) => Ok(Ok(place)),
        Err(wangge_store::StoreError::Invalid(m)) => Ok(Err(crate::say(&m, lang.code))),
        Err(e @ wangge_store::StoreError::NotFound { .. }) => Ok(Err(ApiError::from(e).said(lang.code))),
        Err(e) => Err(e.into()),
    }
}

/// What a checked report leads to.
pub enum Next {
    /// Record it; merged at once into this item when the reporter chose one.
    Record(Option<String>),
    /// Ask "is it one of these?": the pending report kept, and what is offered.
    Offer { draft: String, offers: Vec<Offer> },
    /// Too many of the reporter's pending reports wait already.
    Busy,
}

/// The reporter's answer to an offer, or an offer to make, or nothing to ask.
pub async fn next(
    s: &AppState,
    posted: &Posted,
    category: &str,
    around: Around<'_>,
    owner: &str,
    lang: Lang,
) -> Result<Next, ApiError> {
    if let Some((_, answer)) = &posted.answer {
        return Ok(Next::Record(chosen(s, answer, category, around).await?));
    }
    let offers = offers(s, category, around, lang).await?;
    if offers.is_empty() {
        return Ok(Next::Record(None));
    }
    Ok(match keep(s, owner, around.building, &posted.form).await? {
        Some(draft) => Next::Offer { draft, offers },
        None => Next::Busy,
    })
}

/// A photo or file of an item, for its page: the page links it under its own address
/// (`/demands/{id}/photos/{photo}`, `/portal/requests/{id}/photos/{photo}`).
#[derive(Serialize)]
pub struct PhotoLink {
    pub id: String,
    pub name: String,
    pub image: bool,
    pub alt: String,
}

/// An item's photos and files, oldest first.
pub async fn photo_links(s: &AppState, id: &str, lang: Lang) -> Result<Vec<PhotoLink>, ApiError> {
    Ok(attachments::list(&s.db, id)
        .await?
        .into_iter()
        .map(|a| PhotoLink {
            alt: tr("photos.alt", lang.code).replace("%{name}", &a.name),
            image: a.content_type.starts_with("image/"),
            id: a.id,
            name: a.name,
        })
        .collect())
}

/// Answers attachment `photo` of item `d` (which the caller has been checked to see):
/// with its stored type, never sniffed by the browser; the view is audited.
pub async fn serve_photo(
    s: &AppState,
    p: &Principal,
    address: &ClientAddress,
    d: &Demand,
    photo: &str,
) -> Result<Response, ApiError> {
    let a: Attachment = attachments::get(&s.db, photo).await?;
    if a.demand_id != d.id {
        return Err(ApiError::not_found(wangge_domain::msg!("demands.error.no_photo")));
    }
    let data = attachments::content(&s.db, &a.id).await?;
    let event = audit::Event {
        target_kind: Some("demand_attachment"),
        target_id: Some(&a.id),
        path: Some(&d.path),
        ..audit::Event::of(AuditAction::DemandAttachmentView)
    };
    audit::log(&s.db, Some(p), None, address, event).await?;
    let disposition = if a.content_type.starts_with("image/") { "inline" } else { "attachment" };
    Ok(crate::shared::api::private_file(&a.content_type, disposition, data))
}
