//! The HTTP face of Wangge: the JSON API under `/api/v1`, its OpenAPI document at
//! `/api/openapi.json`, `/healthz`, and the pages.
//!
//! Handlers are thin: they parse the request into domain and store types, call the
//! store, and turn its answer or error into JSON. Business rules live in the store
//! and domain crates so that the command line and the importer obey the same ones.

// The zh-CN / English catalogue of the pages (locales/app.yml), compiled in.
rust_i18n::i18n!("locales", fallback = "zh-CN");

mod api;
mod audit;
pub mod auth;
mod error;
mod open311;
mod openapi;
pub mod pages;
pub mod webhooks;

use axum::Router;
use axum::routing::get;
use tower_http::limit::RequestBodyLimitLayer;
use wangge_store::Db;

pub use error::ApiError;
pub use openapi::openapi_json;

/// What every handler can reach. Cheap to clone: the pool is shared.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
}

/// Request bodies larger than this are refused before they are read (JSON bodies of
/// this API are small; file uploads get their own limit where they are accepted).
const BODY_LIMIT: usize = 2 * 1024 * 1024;

/// An uploaded ledger file with the rest of its form.
pub(crate) const UPLOAD_LIMIT: usize = wangge_store::import_jobs::MAX_FILE_BYTES + 64 * 1024;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(api::health))
        .route("/api/openapi.json", get(openapi::serve))
        .nest("/api/v1", api::routes())
        .merge(pages::routes())
        .merge(open311::routes())
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
        // Ledger uploads are the one place a large body is expected.
        .merge(pages::upload_routes().layer(RequestBodyLimitLayer::new(UPLOAD_LIMIT)))
        // The report forms carry up to five photos.
        .merge(pages::photo_form_routes().layer(RequestBodyLimitLayer::new(pages::PHOTO_FORM_LIMIT)))
        .nest("/api/v1", api::attachment_routes().layer(RequestBodyLimitLayer::new(api::ATTACHMENT_BODY_LIMIT)))
        .fallback(error::not_found)
        .layer(axum::middleware::from_fn_with_state(state.clone(), auth::guard))
        .layer(axum::middleware::from_fn(refuse_announced_oversize))
        .layer(axum::middleware::from_fn(auth::security_headers))
        .with_state(state)
}

/// Refuses a body whose announced length is over the route's limit before anything
/// else (authentication included) looks at the request; bodies without a length are
/// cut off by the limit layers as they are read.
async fn refuse_announced_oversize(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let path = request.uri().path();
    let photo_form = request.method() == axum::http::Method::POST && pages::is_photo_form(path);
    let limit = if path == "/registry/import" {
        UPLOAD_LIMIT
    } else if photo_form {
        pages::PHOTO_FORM_LIMIT
    } else if path.starts_with("/api/v1/demands/") && path.ends_with("/attachments") {
        api::ATTACHMENT_BODY_LIMIT
    } else {
        BODY_LIMIT
    };
    let announced = request
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if announced.is_some_and(|n| n > limit) {
        if photo_form {
            // A person on a phone: a page in their language, not JSON.
            let lang = pages::Lang::from_headers(request.uri().query(), request.headers());
            let message = pages::tr("photos.too_large_all", lang.code);
            return pages::error_page(lang, axum::http::StatusCode::PAYLOAD_TOO_LARGE, &message);
        }
        let error = ApiError::new(
            axum::http::StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the request body is larger than {} MB", limit >> 20),
        );
        return error.into_response();
    }
    next.run(request).await
}

/// Serves until the process is asked to stop (Ctrl-C or SIGTERM).
pub async fn serve(listener: tokio::net::TcpListener, state: AppState) -> std::io::Result<()> {
    // Webhook retries live in the database; this server takes its share of them.
    let outbox = tokio::spawn(webhooks::run_outbox(state.db.clone()));
    let app = router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    let served = axum::serve(listener, app).with_graceful_shutdown(shutdown_signal()).await;
    outbox.abort();
    served
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
