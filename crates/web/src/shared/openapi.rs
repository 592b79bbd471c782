//! The OpenAPI document of the JSON API, generated from the handlers' annotations so
//! that it cannot drift from the code: this file holds the document's frame (title,
//! tags, the two ways to authenticate); the operations come from the route table
//! (`crate::shared::routes`), where each is declared once with its access rule.

use axum::Json;
use axum::response::IntoResponse;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Wangge API",
        description = "Community grid governance: the hierarchy (city › district › street › community › grid) and the \
            ledgers of buildings, households, residents and organisations. Errors are JSON \
            `{\"error\": {\"code\", \"message\"}}` with a stable code.",
    ),
    modifiers(&Security),
    security(("bearer" = []), ("session" = [])),
    tags(
        (name = "areas", description = "The administrative hierarchy and grids"),
        (name = "buildings", description = "Buildings (楼栋)"),
        (name = "households", description = "Households (户)"),
        (name = "residents", description = "Residents (居民), their moves and history"),
        (name = "organisations", description = "Organisations in the area"),
        (name = "tags", description = "The catalogue of care tags"),
        (name = "demands", description = "Residents' demands and events (民情诉求), worked to closure"),
        (name = "visits", description = "Home visits (走访): due lists from the registry's cadences, recording, coverage"),
        (name = "campaigns", description = "Door-to-door campaigns (排查): forms, targets, answers, photos, progress"),
        (name = "instructions", description = "Instructions down, reports up (指令): receipts, reports, return and accept"),
        (name = "party", description = "Party building (党建): members, units, double registration, needs, service, feedback to units"),
        (name = "cockpit", description = "The cockpit (驾驶舱): an area's figures for a period and its children side by side"),
        (name = "notifications", description = "The caller's notifications from every module, in the request's language"),
        (name = "session", description = "Logging in and out"),
        (name = "accounts", description = "Accounts and API tokens (administrators)"),
        (name = "audit", description = "The audit log"),
        (name = "system", description = "Health"),
    )
)]
struct ApiDoc;

/// Declares the two ways to authenticate: a bearer token, or the session cookie
/// set by `POST /api/v1/session` (with `X-CSRF-Token` on changes).
struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components
            .add_security_scheme("session", SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new("wangge_session"))));
    }
}

/// The whole document: the frame above with every operation the routes declare.
pub fn document() -> utoipa::openapi::OpenApi {
    let (_, operations, _) = crate::routes().split();
    let mut doc = ApiDoc::openapi();
    doc.merge(operations);
    doc
}

/// The document as JSON text (also written by `wangge openapi`).
pub fn openapi_json() -> String {
    document().to_pretty_json().expect("the OpenAPI document serialises")
}

/// Built once per process: the routes do not change while it runs.
static DOCUMENT: std::sync::LazyLock<utoipa::openapi::OpenApi> = std::sync::LazyLock::new(document);

async fn serve() -> impl IntoResponse {
    Json(&*DOCUMENT)
}

pub(crate) fn routes() -> crate::shared::routes::Routes {
    crate::shared::routes::Routes::new().machine(
        axum::http::Method::GET,
        "/api/openapi.json",
        crate::shared::auth::Access::Public,
        serve,
    )
}
