//! The residents' portal: their household, reporting a problem, following and
//! rating it, signing up and signing in with a phone number (`sign_in`: the login,
//! a forgotten password set again with the grid member's one-time code) — the API (`/api/v1/me/...`) and the pages
//! (`/portal/...`, with their own larger frame `templates/portal/base.html`). It
//! reuses the demand module's report form (`crate::demands::pages::photo_forms`).

pub(crate) mod api;
pub(crate) mod pages;
pub(crate) mod sign_in;

/// Every route of the portal.
pub(crate) fn routes() -> crate::shared::routes::Routes {
    crate::shared::routes::Routes::new().merge(api::routes()).merge(pages::routes()).merge(sign_in::routes())
}
