//! Home visits (走访, module 3): the due list of a grid in walking order, the
//! one-screen visit form, and the JSON API (due list, recording, a household's
//! visits, coverage). The rules are `wangge_domain::visits`, the SQL
//! `wangge_store::visits`; the templates are `templates/visits/`, the strings
//! `locales/visits.yml`.

pub(crate) mod api;
pub(crate) mod cadences;
pub(crate) mod pages;
pub(crate) mod record;
pub(crate) mod today;

use time::Date;
use wangge_store::Db;
use wangge_store::registry::areas::{self, Area};

use crate::ApiError;
use crate::shared::auth::Principal;

/// Today in China, the day the cadences count in.
pub(crate) fn today() -> Date {
    time::OffsetDateTime::now_utc().to_offset(wangge_domain::demands::CHINA).date()
}

/// The community a path lies in (itself or an ancestor): visits are kept per
/// community, so a scope above one (a street) has no due list.
pub(crate) async fn community_of(db: &Db, path: &str) -> Result<Area, ApiError> {
    let code = path.split('/').filter(|s| !s.is_empty()).nth(3);
    match code {
        Some(code) => Ok(areas::community_by_code(db, code).await?),
        None => Err(ApiError::invalid(wangge_domain::msg!("visits.error.not_in_community").field("area"))),
    }
}

/// The subtree a visit list covers: the `area` asked for, else the caller's scope.
pub(crate) async fn scope_path(db: &Db, p: &Principal, area: Option<&str>) -> Result<String, ApiError> {
    p.list_path(db, area)
        .await?
        .ok_or_else(|| ApiError::invalid(wangge_domain::msg!("visits.error.not_in_community").field("area")))
}

/// Who recorded a visit: an account's id (a token is not an account).
pub(crate) fn visitor_id(p: &Principal) -> Option<&str> {
    match &p.actor {
        crate::shared::auth::Actor::Account { id, .. } => Some(id),
        crate::shared::auth::Actor::Token { .. } => None,
    }
}

/// How often [`run_reminders`] sweeps.
const REMINDERS_EVERY: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// Sends the visits' reminders (`store::visits::reminders`: due tomorrow, missed)
/// every quarter of an hour for as long as the server runs and its database is
/// open; each subject and due date is reminded once whichever server sweeps.
pub async fn run_reminders(db: Db) {
    while !db.pool.is_closed() {
        if let Err(e) = wangge_store::visits::reminders::sweep(&db, today()).await {
            if db.pool.is_closed() {
                break;
            }
            tracing::error!("visit reminders: {e}");
        }
        tokio::time::sleep(REMINDERS_EVERY).await;
    }
}

/// Every route of visits.
pub(crate) fn routes() -> crate::shared::routes::Routes {
    pages::routes().merge(record::routes()).merge(cadences::routes()).merge(api::routes())
}
