//! What every module of the HTTP face shares, kept once: authentication and the
//! guard (`auth`), the route table (`routes`), errors (`error`), the audit log
//! (`audit`), the JSON extractors and `/healthz` (`api`), forms carrying files
//! (`multipart`), page rendering, languages
//! and the catalogue (`render`), the staff frame (`frame`), notifications in the reader's language (`notices`), the OpenAPI document
//! (`openapi`), how people reach the server — its public address and trusted
//! proxies (`site`) — and outgoing webhooks (`webhooks`). A product module (`registry`,
//! `demands`, …) uses these and never another module's internals, except through
//! the few `pub(crate)` items named in ARCHITECTURE.md.

pub(crate) mod api;
pub(crate) mod audit;
pub mod auth;
pub(crate) mod error;
pub(crate) mod frame;
pub(crate) mod multipart;
pub(crate) mod notices;
pub(crate) mod openapi;
pub(crate) mod render;
pub mod routes;
pub mod site;
pub mod webhooks;

/// What the shared core serves itself: `/healthz`, the OpenAPI document, the front
/// door and the stylesheet.
pub(crate) fn own_routes() -> routes::Routes {
    routes::Routes::new().merge(api::routes()).merge(openapi::routes()).merge(render::routes()).merge(notices::routes())
}
