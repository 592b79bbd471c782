//! The route table: every route declared once, by the module it belongs to, with
//! who may call it and how large a body it accepts.
//!
//! A module declares its slice as a [`Routes`] (`api::areas::routes()`,
//! `pages::demands::routes()`, …); [`crate::router`] joins the slices in one place.
//! Declaring a route *is* giving it an access rule and a body limit: there is no way
//! to add a route here without them. From the same declarations come
//!
//! - the axum router, each route under its own body limit,
//! - the OpenAPI document (JSON API operations are declared through their
//!   handler's `#[utoipa::path]` with `utoipa_axum::routes!`, so path and method are
//!   spelled once, in the annotation),
//! - the [`RouteTable`] the `auth::guard` middleware enforces and answers `HEAD`,
//!   `OPTIONS` and undeclared methods from,
//! - the route table in docs/security.md (a test keeps the two equal).

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::fmt::Write as _;

use axum::extract::DefaultBodyLimit;
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{MethodFilter, MethodRouter};
use tower_http::limit::RequestBodyLimitLayer;
use utoipa::openapi::path::PathItem;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter};
use wangge_domain::Vocabulary;

use crate::AppState;
use crate::shared::auth::Access;

/// How large a request body a route accepts: announced lengths over it are refused
/// before anything reads the request, and bodies without a length are cut off there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit {
    /// JSON bodies and plain forms.
    Small,
    /// A ledger file with the rest of its form.
    Upload,
    /// A report form with up to five photos.
    Photos,
    /// One photo or file attached to a demand through the API.
    Attachment,
}

impl Limit {
    pub fn bytes(self) -> usize {
        match self {
            Limit::Small => 2 * 1024 * 1024,
            Limit::Upload => wangge_store::registry::import_jobs::MAX_FILE_BYTES + 64 * 1024,
            Limit::Photos => crate::demands::pages::photo_forms::PHOTO_FORM_LIMIT,
            Limit::Attachment => crate::demands::api::ATTACHMENT_BODY_LIMIT,
        }
    }
}

/// Who answers on a route, which decides how a refusal looks and whether the route
/// is in the OpenAPI document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Face {
    /// The JSON API under `/api/v1` (and `/healthz`): in the OpenAPI document.
    Api,
    /// A server-rendered page: refusals and errors come back as pages in the
    /// reader's language.
    Page,
    /// Machine answers outside the OpenAPI document: the document itself, Open311.
    Machine,
}

/// One route: a method on a path pattern (axum's syntax, `{id}`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    pub method: Method,
    pub path: String,
    pub access: Access,
    pub limit: Limit,
    pub face: Face,
}

/// A slice of the router being declared: the routes and the table that describes them.
pub struct Routes {
    router: OpenApiRouter<AppState>,
    table: Vec<Route>,
}

impl Default for Routes {
    fn default() -> Self {
        Self::new()
    }
}

impl Routes {
    pub fn new() -> Self {
        Self { router: OpenApiRouter::new(), table: Vec::new() }
    }

    /// A JSON API operation, declared by its handler's `#[utoipa::path]`:
    /// `.api(Role(ViewAreas), routes!(get_area))`.
    pub fn api(self, access: Access, operation: UtoipaMethodRouter<AppState>) -> Self {
        self.api_limited(access, Limit::Small, operation)
    }

    /// The same, for an operation that takes a larger body.
    pub fn api_limited(mut self, access: Access, limit: Limit, operation: UtoipaMethodRouter<AppState>) -> Self {
        let (schemas, paths, method_router) = operation;
        for (path, item) in &paths.paths {
            for method in methods_of(item) {
                self.table.push(Route { method, path: path.clone(), access, limit, face: Face::Api });
            }
        }
        self.router = self.router.routes((schemas, paths, limited(method_router, limit)));
        self
    }

    /// A page answering `GET`.
    pub fn get<H, T>(self, path: &str, access: Access, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.add(Face::Page, Method::GET, path, access, Limit::Small, handler)
    }

    /// A page's form posted with `POST`.
    pub fn post<H, T>(self, path: &str, access: Access, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.add(Face::Page, Method::POST, path, access, Limit::Small, handler)
    }

    /// A page's form that carries files (photos, a ledger), under a larger limit.
    pub fn post_limited<H, T>(self, path: &str, access: Access, limit: Limit, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.add(Face::Page, Method::POST, path, access, limit, handler)
    }

    /// A machine-readable route outside the OpenAPI document (Open311, the document).
    pub fn machine<H, T>(self, method: Method, path: &str, access: Access, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.add(Face::Machine, method, path, access, Limit::Small, handler)
    }

    fn add<H, T>(mut self, face: Face, method: Method, path: &str, access: Access, limit: Limit, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        let filter = MethodFilter::try_from(method.clone()).expect("a method axum routes");
        let mut method_router = limited(axum::routing::on(filter, handler), limit);
        if face == Face::Page {
            // People never see JSON: a handler's API error becomes a page.
            method_router = method_router.layer(axum::middleware::from_fn(crate::shared::render::html_errors));
        }
        self.router = self.router.route(path, method_router);
        self.table.push(Route { method, path: path.to_owned(), access, limit, face });
        self
    }

    /// Joins another module's slice to this one.
    pub fn merge(mut self, other: Routes) -> Self {
        self.router = self.router.merge(other.router);
        self.table.extend(other.table);
        self
    }

    /// The router, the OpenAPI paths of its API operations, and the table.
    pub fn split(self) -> (axum::Router<AppState>, utoipa::openapi::OpenApi, RouteTable) {
        let (router, openapi) = self.router.split_for_parts();
        (router, openapi, RouteTable::new(self.table))
    }
}

/// Puts a route under its body limit: axum's extractors read at most `limit`, and a
/// body streamed without a length is cut off there.
fn limited(method_router: MethodRouter<AppState>, limit: Limit) -> MethodRouter<AppState> {
    method_router
        .layer::<_, Infallible>(DefaultBodyLimit::max(limit.bytes()))
        .layer::<_, Infallible>(RequestBodyLimitLayer::new(limit.bytes()))
}

fn methods_of(item: &PathItem) -> Vec<Method> {
    [
        (Method::GET, item.get.is_some()),
        (Method::POST, item.post.is_some()),
        (Method::PUT, item.put.is_some()),
        (Method::PATCH, item.patch.is_some()),
        (Method::DELETE, item.delete.is_some()),
        (Method::HEAD, item.head.is_some()),
        (Method::OPTIONS, item.options.is_some()),
        (Method::TRACE, item.trace.is_some()),
    ]
    .into_iter()
    .filter_map(|(method, present)| present.then_some(method))
    .collect()
}

/// Every route of the router, looked up by method and matched path.
#[derive(Debug)]
pub struct RouteTable {
    routes: Vec<Route>,
    /// Path pattern → the routes on it, in declaration order.
    by_path: BTreeMap<String, Vec<usize>>,
}

impl RouteTable {
    fn new(routes: Vec<Route>) -> Self {
        let mut by_path: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (i, route) in routes.iter().enumerate() {
            let same = by_path.entry(route.path.clone()).or_default();
            assert!(
                !same.iter().any(|&j| routes[j].method == route.method),
                "{} {} is declared twice",
                route.method,
                route.path
            );
            same.push(i);
        }
        Self { routes, by_path }
    }

    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    /// The route a request was matched to. `HEAD` follows `GET`'s rule (axum answers
    /// it with the `GET` handler, without the body).
    pub fn get(&self, method: &Method, path: &str) -> Option<&Route> {
        let method = if method == Method::HEAD { &Method::GET } else { method };
        self.by_path.get(path)?.iter().map(|&i| &self.routes[i]).find(|r| r.method == method)
    }

    /// Whether any route is declared on this path pattern.
    pub fn knows(&self, path: &str) -> bool {
        self.by_path.contains_key(path)
    }

    /// The `Allow` header of a path: its declared methods, `HEAD` with `GET`, and
    /// `OPTIONS`, which every declared path answers.
    pub fn allow(&self, path: &str) -> String {
        let mut methods: Vec<&str> = Vec::new();
        for &i in self.by_path.get(path).into_iter().flatten() {
            let method = self.routes[i].method.as_str();
            methods.push(method);
            if method == "GET" {
                methods.push("HEAD");
            }
        }
        methods.push("OPTIONS");
        methods.join(", ")
    }

    /// The table as Markdown, for docs/security.md: one row per route, sorted by path.
    pub fn markdown(&self) -> String {
        let mut out = String::from("| method | path | who may | body limit |\n| --- | --- | --- | --- |\n");
        for indices in self.by_path.values() {
            for &i in indices {
                let r = &self.routes[i];
                let access = match r.access {
                    Access::Public => "anyone".to_owned(),
                    Access::Authenticated => "logged in".to_owned(),
                    Access::Role(action) => format!("`{}`", action.code()),
                    Access::PartyRoll => "`manage_party`, or `view_party` with a roll grant".to_owned(),
                };
                let limit = match r.limit {
                    Limit::Small => "2 MB".to_owned(),
                    other => format!("{} MB", other.bytes() >> 20),
                };
                let _ = writeln!(out, "| {} | `{}` | {access} | {limit} |", r.method, r.path);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use tower::ServiceExt;

    use super::*;

    #[test]
    fn the_documented_route_table_is_the_enforced_one() {
        let doc = include_str!("../../../../docs/security.md");
        let table = crate::route_table().markdown();
        assert!(
            doc.contains(&table),
            "docs/security.md must contain the route table exactly as `wangge_web::route_table().markdown()` prints it:\n{table}"
        );
    }

    #[test]
    fn head_follows_get_and_allow_lists_what_a_path_answers() {
        let table = crate::route_table();
        let head = table.get(&Method::HEAD, "/login").expect("HEAD /login follows GET /login");
        assert_eq!(head.method, Method::GET);
        assert_eq!(table.allow("/login"), "GET, HEAD, POST, OPTIONS");
        assert_eq!(table.allow("/api/v1/tokens/{id}"), "DELETE, OPTIONS");
        assert!(table.get(&Method::PUT, "/login").is_none());
        assert!(table.knows("/registry/import") && !table.knows("/nowhere"));
        let upload = table.get(&Method::POST, "/registry/import").unwrap();
        assert_eq!((upload.limit, upload.face), (Limit::Upload, Face::Page));
    }

    /// A route added to axum by hand, outside the table, has no access rule: the guard
    /// refuses it (fails closed) instead of letting it through.
    #[tokio::test]
    async fn a_route_without_an_access_rule_is_refused() {
        let db = wangge_store::testing::sqlite().await;
        let state = AppState::new(db.db.clone());
        let (router, _, table) = Routes::new().get("/declared", Access::Public, || async { "declared" }).split();
        let router = router
            .route("/undeclared", axum::routing::get(|| async { "secret" }))
            .layer(axum::middleware::from_fn_with_state(
                (state.clone(), std::sync::Arc::new(table)),
                crate::shared::auth::guard,
            ))
            .with_state(state);
        let ask = |path: &str| Request::get(path).body(Body::empty()).unwrap();
        let declared = router.clone().oneshot(ask("/declared")).await.unwrap();
        assert_eq!(declared.status(), StatusCode::OK);
        let undeclared = router.oneshot(ask("/undeclared")).await.unwrap();
        assert_eq!(undeclared.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = axum::body::to_bytes(undeclared.into_body(), 1024).await.unwrap();
        assert!(!String::from_utf8_lossy(&body).contains("secret"), "the handler never ran");
    }
}
