//! The cockpit (驾驶舱, module 9): every scope's figures at a glance, its children
//! side by side, the year's trends and charts drawn on the server. The figures come
//! from `wangge_store::cockpit` (each module adds its own through one `Source`);
//! the templates are `templates/cockpit/`, the strings `locales/cockpit.yml`.

pub(crate) mod charts;
pub(crate) mod pages;

/// Every route of the cockpit.
pub(crate) fn routes() -> crate::shared::routes::Routes {
    use crate::shared::auth::Access::*;
    use wangge_domain::Action::*;
    crate::shared::routes::Routes::new().get("/cockpit", Role(ViewFigures), pages::cockpit_page).get(
        "/static/cockpit.css",
        Public,
        pages::stylesheet,
    )
}
