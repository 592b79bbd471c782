//! Demands and events (民情诉求, module 2): the JSON API, Open311, and the pages —
//! the ledger, the item and its steps, the staff's report form, the buildings' QR
//! posters and the public report form they lead to. The rules live in
//! `wangge_domain::demands` (the state machine) and `wangge_store::demands`; the
//! templates are `templates/demands/`, the strings `locales/demands.yml`.

pub(crate) mod api;
pub(crate) mod open311;
pub(crate) mod pages;
pub(crate) mod reported;
pub(crate) mod today;

/// Every route of the demand module.
pub(crate) fn routes() -> crate::shared::routes::Routes {
    crate::shared::routes::Routes::new()
        .merge(api::routes())
        .merge(pages::routes())
        .merge(open311::routes())
        .merge(reported::routes())
}
