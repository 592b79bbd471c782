//! What a resident reaches of the registry: their own household, once a grid member
//! has confirmed their account. The portal pages are built on these.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use wangge_domain::AuditAction;
use wangge_domain::ResidentStatus;
use wangge_store::Thing;
use wangge_store::registry::households::{self, Household};
use wangge_store::registry::residents::{self, Resident, ResidentFilter};
use wangge_store::security::accounts::{self, Account};
use wangge_store::{PageRequest, StoreError};

use crate::shared::api::{ApiResult, Id, JsonBody};
use crate::shared::audit::{self, Event};
use crate::shared::auth::{Actor, ClientAddress, Principal};
use crate::shared::error::ErrorBody;
use crate::{ApiError, AppState};

#[derive(Deserialize, ToSchema)]
pub struct BindAccount {
    /// The resident's user name.
    pub username: String,
}

/// Confirm a resident's account and bind it to this household (a grid member, having
/// checked who the person is).
#[utoipa::path(post, path = "/api/v1/households/{id}/bind-account", tag = "households",
    params(("id" = String, Path, description = "Household id")), request_body = BindAccount,
    responses((status = 200, body = Account), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn bind_account(
    State(s): State<AppState>,
    p: Principal,
    address: ClientAddress,
    Id(id): Id<String>,
    JsonBody(req): JsonBody<BindAccount>,
) -> ApiResult<Account> {
    let household = p.refer(households::get(&s.db, &id).await, Thing::Household, &id, |r| &r.path)?;
    // The account must belong where the household is or where the caller works:
    // another community's resident is answered as an unknown name is.
    let account = match accounts::get_by_username(&s.db, &req.username).await {
        Ok(a) if a.scopes.iter().any(|sc| household.path.starts_with(&sc.path) || p.can_see(&sc.path)) => a,
        Ok(_) | Err(wangge_store::StoreError::NotFound { .. }) => {
            return Err(crate::shared::auth::unknown(Thing::Account, &req.username));
        }
        Err(e) => return Err(e.into()),
    };
    let bound = accounts::bind_household(&s.db, &account.id, &household.id).await?;
    let event = Event {
        target_kind: Some("account"),
        target_id: Some(&account.id),
        path: Some(&household.path),
        before: audit::json(&account),
        after: audit::json(&bound),
        ..Event::of(AuditAction::AccountBindHousehold)
    };
    audit::log(&s.db, Some(&p), None, &address, event).await?;
    Ok(Json(bound))
}

#[derive(Serialize, ToSchema)]
pub struct MyHousehold {
    pub household: Household,
    /// The people living there (ID numbers and phones masked).
    pub members: Vec<Resident>,
}

/// A resident's own household and the people in it.
#[utoipa::path(get, path = "/api/v1/me/household", tag = "session",
    responses((status = 200, body = MyHousehold), (status = 404, body = ErrorBody)))]
pub async fn my_household(State(s): State<AppState>, p: Principal) -> ApiResult<MyHousehold> {
    let Actor::Account { id, .. } = &p.actor else {
        return Err(ApiError::from(StoreError::not_found(Thing::Household, "an API token")));
    };
    let account = accounts::get(&s.db, id).await?;
    let household_id = account.household_id.ok_or_else(|| {
        ApiError::from(StoreError::not_found(Thing::Household, "this account (a grid member confirms it first)"))
    })?;
    let household = households::get(&s.db, &household_id).await?;
    let filter =
        ResidentFilter { household_id: Some(household_id), status: Some(ResidentStatus::Active), ..Default::default() };
    let members = residents::list(&s.db, &filter, PageRequest::new(Some(1), Some(100))).await?.items;
    Ok(Json(MyHousehold { household, members }))
}

/// This module's routes, each with who may call it (`crate::shared::routes`).
pub(crate) fn routes() -> crate::shared::routes::Routes {
    use crate::shared::auth::Access::*;
    use utoipa_axum::routes;
    use wangge_domain::Action::*;
    crate::shared::routes::Routes::new()
        .api(Role(EditRegistry), routes!(bind_account))
        .api(Authenticated, routes!(my_household))
}
