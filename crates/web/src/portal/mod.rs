//! The residents' portal: their household, reporting a problem, following and
//! rating it, and signing up — the API (`/api/v1/me/...`) and the pages
//! (`/portal/...`, with their own larger frame `templates/portal/base.html`). It
//! reuses the demand module's report form (`crate::demands::pages::photo_forms`).

pub(crate) mod api;
pub(crate) mod pages;

/// Every route of the portal.
pub(crate) fn routes() -> crate::shared::routes::Routes {
    crate::shared::routes::Routes::new().merge(api::routes()).merge(pages::routes())
}
