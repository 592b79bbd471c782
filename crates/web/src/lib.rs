//! The HTTP face of Wangge: the JSON API under `/api/v1`, its OpenAPI document at
//! `/api/openapi.json`, `/healthz`, and the pages.
//!
//! Handlers are thin: they parse the request into domain and store types, call the
//! store, and turn its answer or error into JSON. Business rules live in the store
//! and domain crates so that the command line and the importer obey the same ones.

// The zh-CN / English catalogue of the pages (locales/<module>.yml), compiled in.
rust_i18n::i18n!("locales", fallback = "zh-CN");

// The shared core, then one folder per product module (ARCHITECTURE.md, "Code map").
mod shared;

mod activities;
mod campaigns;
mod cockpit;
mod demands;
mod instructions;
mod notices;
mod party;
mod portal;
mod registry;
mod security;
mod surveys;
mod team;
mod today;
mod ventures;
mod visits;

pub use cockpit::report::queue_weekly;
pub use party::life::send_due as send_party_life_alerts;
pub use shared::render::{cli_lang, home_of, lang_of_locale, say};
pub use shared::site::{Reached, Site};
pub use shared::{auth, routes, webhooks};

use std::sync::Arc;

use axum::Router;
use axum::extract::{MatchedPath, State};
use wangge_store::Db;

use routes::{Face, Limit, RouteTable, Routes};
pub use shared::error::ApiError;
pub use shared::openapi::openapi_json;

/// What every handler can reach. Cheap to clone: the pool is shared.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    /// The public address and the trusted proxies (`shared::site`).
    pub site: Arc<Site>,
    /// Open311 reads without a key, counted per address for throttling.
    pub(crate) keyless: Arc<demands::open311::KeylessReads>,
}

impl AppState {
    /// A state with no public URL and no trusted proxy: links from the request's
    /// `Host`, as on the machine itself or a LAN.
    pub fn new(db: Db) -> AppState {
        AppState { db, site: Arc::default(), keyless: Arc::default() }
    }

    /// The same, reached at `site`'s public URL and through its proxies.
    pub fn with_site(self, site: Site) -> AppState {
        AppState { site: Arc::new(site), ..self }
    }
}

/// Every route of the server: the one place the modules' slices are joined.
pub(crate) fn routes() -> Routes {
    Routes::new()
        .merge(shared::own_routes())
        .merge(security::routes())
        .merge(registry::routes())
        .merge(team::routes())
        .merge(portal::routes())
        .merge(demands::routes())
        .merge(visits::routes())
        .merge(campaigns::routes())
        .merge(instructions::routes())
        .merge(party::routes())
        .merge(notices::routes())
        .merge(activities::routes())
        .merge(ventures::routes())
        .merge(surveys::routes())
        .merge(today::routes())
        .merge(cockpit::routes())
}

/// Leaves `notice` in the in-app list of everyone in `to`, and sends it through the
/// webhooks that carry its module (demand steps send their own, richer event from
/// `api::demands`). Answers how many accounts it reached.
pub(crate) async fn notify(
    db: &Db,
    public_url: Option<&str>,
    to: &wangge_store::notifications::Audience,
    notice: wangge_store::notifications::Notice,
) -> wangge_store::StoreResult<u64> {
    let reached = wangge_store::notifications::notify(db, to, &notice).await?;
    webhooks::fire_notice(db.clone(), public_url, notice);
    Ok(reached)
}

/// The route table the server enforces (for tests and docs/security.md).
pub fn route_table() -> RouteTable {
    routes().split().2
}

pub fn router(state: AppState) -> Router {
    let (router, _, table) = routes().split();
    let table = Arc::new(table);
    router
        .fallback(shared::error::not_found)
        .layer(axum::middleware::from_fn_with_state((state.clone(), table.clone()), auth::guard))
        .layer(axum::middleware::from_fn_with_state(table, refuse_announced_oversize))
        .layer(axum::middleware::from_fn(auth::security_headers))
        .layer(axum::middleware::from_fn(shared::error::localise))
        .with_state(state)
}

/// Refuses a body whose announced length is over the route's limit before anything
/// else (authentication included) looks at the request; bodies without a length are
/// cut off by the route's own limit as they are read.
async fn refuse_announced_oversize(
    State(table): State<Arc<RouteTable>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let route = request.extensions().get::<MatchedPath>().and_then(|m| table.get(request.method(), m.as_str()));
    let limit = route.map_or(Limit::Small, |r| r.limit);
    let announced = request
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if announced.is_some_and(|n| n > limit.bytes()) {
        if route.is_some_and(|r| r.face == Face::Page) {
            // A person on a phone: a page in their language, not JSON.
            let lang = shared::render::Lang::from_headers(request.uri().query(), request.headers());
            let key = if limit == Limit::Photos { "photos.too_large_all" } else { "error.too_large" };
            return shared::render::error_page(
                lang,
                axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                &shared::render::tr(key, lang.code),
            );
        }
        let error = ApiError::new(
            axum::http::StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            wangge_domain::msg!("error.body_too_large", mb = limit.bytes() >> 20),
        );
        return error.into_response();
    }
    next.run(request).await
}

/// Serves until the process is asked to stop (Ctrl-C or SIGTERM).
pub async fn serve(listener: tokio::net::TcpListener, state: AppState) -> std::io::Result<()> {
    // Webhook retries live in the database; this server takes its share of them.
    let outbox = tokio::spawn(webhooks::run_outbox(state.db.clone()));
    // The cockpit's weekly reports, queued into the same outbox from Monday morning.
    let reports = tokio::spawn(cockpit::report::run_reports(state.db.clone()));
    // Visit reminders (due tomorrow, missed): each sent once, whichever server sweeps.
    let reminders = tokio::spawn(visits::run_reminders(state.db.clone()));
    // Campaign answers past their retention period: reduced to counts, audited.
    let purge = tokio::spawn(campaigns::templates::run_jobs(state.db.clone()));
    // Instructions due tomorrow or late: their receivers reminded once each.
    let instruction_reminders = tokio::spawn(instructions::run_reminders(state.db.clone()));
    // PostgreSQL's queue of demands entered, folded into their summaries (0074).
    let fold = tokio::spawn(fold_demand_queue(state.db.clone()));
    // The query planner's statistics, as the tables grow (`Db::refresh_statistics`).
    let statistics = tokio::spawn(refresh_statistics(state.db.clone()));
    // Each unit's feedback report, sent once its period (a quarter) is over.
    let feedback =
        tokio::spawn(party::feedback::run_feedback(state.db.clone(), state.site.public_url().map(str::to_owned)));
    // Branches behind on organisational life, terms ending: each alert sent once.
    let life = tokio::spawn(party::life::run_life(state.db.clone(), state.site.public_url().map(str::to_owned)));
    // Activities starting within a day: those holding a place reminded once each.
    let activity_reminders = tokio::spawn(activities::run_reminders(state.db.clone()));
    let app = router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    let served = axum::serve(listener, app).with_graceful_shutdown(shutdown_signal()).await;
    outbox.abort();
    reports.abort();
    reminders.abort();
    purge.abort();
    instruction_reminders.abort();
    statistics.abort();
    fold.abort();
    feedback.abort();
    life.abort();
    activity_reminders.abort();
    served
}

/// The planner's statistics at start and every six hours. Only an optimisation: a
/// failure (a full disk) is logged and tried again next time.
async fn refresh_statistics(db: wangge_store::Db) {
    loop {
        if let Err(e) = db.refresh_statistics().await {
            tracing::warn!(error = %e, "refreshing the query planner's statistics failed");
        }
        tokio::time::sleep(std::time::Duration::from_secs(6 * 3600)).await;
    }
}

/// Folds PostgreSQL's queue of demands entered into the summaries every second
/// (`wangge_store::summaries::fold_demand_queue`); nothing on SQLite. Only
/// housekeeping, no figure depends on it: a failure is logged and the next round
/// folds what is left.
async fn fold_demand_queue(db: wangge_store::Db) {
    if db.backend != wangge_store::Backend::Postgres {
        return;
    }
    loop {
        tokio::time::sleep(wangge_store::summaries::FOLD_EVERY).await;
        if let Err(e) = wangge_store::summaries::fold_demand_queue_now(&db).await {
            tracing::warn!(error = %e, "folding the queue of demands entered into their summaries failed");
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
