//! The registry (基础台账, module 1): the hierarchy, buildings, households, people,
//! organisations and tags — their JSON API, their pages and the ledger imports.
//! The store side is `wangge_store::{areas, buildings, households, residents,
//! organisations, tags}`; the templates are `templates/registry/`, the strings
//! `locales/registry.yml`.

pub(crate) mod api {
    pub(crate) mod areas;
    pub(crate) mod buildings;
    pub(crate) mod households;
    pub(crate) mod organisations;
    pub(crate) mod residents;
    pub(crate) mod tags;
}

pub(crate) mod pages {
    pub(crate) mod imports;
    pub(crate) mod overview;
    pub(crate) mod people;
    pub(crate) mod places;
}

/// Every route of the registry.
pub(crate) fn routes() -> crate::shared::routes::Routes {
    crate::shared::routes::Routes::new()
        .merge(api::areas::routes())
        .merge(api::buildings::routes())
        .merge(api::households::routes())
        .merge(api::residents::routes())
        .merge(api::organisations::routes())
        .merge(api::tags::routes())
        .merge(pages::overview::routes())
        .merge(pages::places::routes())
        .merge(pages::people::routes())
        .merge(pages::imports::routes())
}
