//! The cockpit (驾驶舱, module 9): every scope's figures at a glance, its children
//! side by side, the year's trends and charts drawn on the server. The figures come
//! from `wangge_store::cockpit` (each module adds its own through one `Source`);
//! the templates are `templates/cockpit/`, the strings `locales/cockpit.yml`.

pub(crate) mod api;
pub(crate) mod charts;
pub(crate) mod map;
pub(crate) mod pages;
pub(crate) mod report;

/// Every route of the cockpit.
pub(crate) fn routes() -> crate::shared::routes::Routes {
    use crate::shared::auth::Access::*;
    use crate::shared::routes::Limit;
    use wangge_domain::Action::*;
    crate::shared::routes::Routes::new()
        .get("/cockpit", Role(ViewFigures), pages::cockpit_page)
        .get("/cockpit/map", Role(ViewFigures), map::map_page)
        .get("/cockpit/report", Role(ViewFigures), report::report_page)
        .get("/cockpit/boundaries", Role(EditRegistry), map::boundaries_page)
        .post_limited("/cockpit/boundaries", Role(EditRegistry), Limit::Upload, map::import_boundaries)
        .get("/static/cockpit.css", Public, pages::stylesheet)
        .merge(api::routes())
}
