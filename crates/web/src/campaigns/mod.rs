//! Door-to-door campaigns (排查, module 4): the list of campaigns touching the
//! caller's area, starting one from a shipped form or an earlier campaign's, a
//! campaign's progress per grid and the grid member's own targets (pending, then
//! the revisit queue), the form asked at the door page by page, XLSForm in and
//! out, photos taken at the door, the results as .xlsx, the registry conflicts of answers written back, the
//! JSON API and the 今日 section. The rules are
//! `wangge_domain::campaigns`, the SQL `wangge_store::campaigns`; the templates
//! are `templates/campaigns/`, the strings `locales/campaigns.yml`.
//!
//! Who sees what: a campaign is seen by those whose scope contains it (the staff
//! of its community, officials above) and by those inside it (a grid member sees
//! the part of it in their grid); a target only by those whose scope contains the
//! target's household, fail-closed as ODK's per-user form lists are.

pub(crate) mod api;
pub(crate) mod conflicts;
pub(crate) mod files;
pub(crate) mod fill;
pub(crate) mod pages;
pub(crate) mod photos;
pub(crate) mod templates;
pub(crate) mod today;

use time::Date;
use wangge_store::Thing;
use wangge_store::campaigns::{self, Campaign, TargetLine};

use crate::shared::auth::{Principal, unknown};
use crate::{ApiError, AppState};

/// Today in China, the day campaigns open and close in.
pub(crate) fn today() -> Date {
    campaigns::today()
}

/// A campaign the caller may see, and the subtree of it they see: the whole
/// campaign when their scope contains it, else their own area inside it. One
/// outside both answers as an unknown id.
pub(crate) async fn reachable(s: &AppState, p: &Principal, id: &str) -> Result<(Campaign, String), ApiError> {
    let campaign = match campaigns::get(&s.db, id).await {
        Ok(c) => c,
        Err(wangge_store::StoreError::NotFound { .. }) => return Err(unknown(Thing::Campaign, id)),
        Err(e) => return Err(e.into()),
    };
    if p.can_see(&campaign.path) {
        let path = campaign.path.clone();
        return Ok((campaign, path));
    }
    match p.scopes.iter().find(|sc| sc.path.starts_with(&campaign.path)) {
        Some(sc) => {
            let path = sc.path.clone();
            Ok((campaign, path))
        }
        None => Err(unknown(Thing::Campaign, id)),
    }
}

/// A target the caller may work on: its household lies in their scope.
pub(crate) async fn target_in_scope(s: &AppState, p: &Principal, id: &str) -> Result<TargetLine, ApiError> {
    let line = p.refer(campaigns::line(&s.db, id).await, Thing::CampaignTarget, id, |l| &l.target.path)?;
    if !p.can_change(&line.target.path) {
        return Err(unknown(Thing::CampaignTarget, id));
    }
    Ok(line)
}

/// Who answered: an account's id (a token is not an account).
pub(crate) fn account_id(p: &Principal) -> Option<&str> {
    match &p.actor {
        crate::shared::auth::Actor::Account { id, .. } => Some(id),
        crate::shared::auth::Actor::Token { .. } => None,
    }
}

/// Every route of campaigns.
pub(crate) fn routes() -> crate::shared::routes::Routes {
    pages::routes()
        .merge(fill::routes())
        .merge(files::routes())
        .merge(api::routes())
        .merge(conflicts::routes())
        .merge(templates::routes())
        .merge(photos::routes())
}
