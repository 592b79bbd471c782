//! Errors as the API reports them: a JSON body with a stable `code` a client can
//! branch on and a `message` a person can read.
//!
//! ```json
//! {"error": {"code": "invalid", "message": "ID card number checksum does not match: …"}}
//! ```

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;
use wangge_store::StoreError;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable: `bad_request`, `invalid`, `not_found`, `conflict`, `payload_too_large`,
    /// `disk_full` (503, with `Retry-After`: nothing was written, try again later), `internal`.
    pub code: String,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into() }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    /// The disk of the database is full: 503 `disk_full`, in the reader's language.
    pub fn disk_full(lang: &str) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, DISK_FULL, crate::shared::render::tr("error.disk_full", lang))
    }
}

/// The code of a change refused because the database's disk is full.
pub const DISK_FULL: &str = "disk_full";

/// How long a client is asked to wait before trying a refused change again.
pub const RETRY_AFTER_SECS: &str = "30";

/// Marks a response as a `disk_full` refusal, so that [`localise_disk_full`] can put
/// its message into the language of the request (the store does not know it).
#[derive(Clone, Copy, Debug)]
struct DiskFullAnswer;

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let disk_full = self.code == DISK_FULL;
        let body = ErrorBody { error: ErrorDetail { code: self.code.to_owned(), message: self.message } };
        let mut response = (self.status, Json(body)).into_response();
        if disk_full {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER_SECS));
            response.extensions_mut().insert(DiskFullAnswer);
        }
        response
    }
}

/// Rewrites a JSON `disk_full` answer in the language of the request (pages turn it
/// into an error page themselves, `shared::render::html_errors`); every 503 carries
/// `Retry-After`.
pub(crate) async fn localise_disk_full(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let lang = crate::shared::render::Lang::from_headers(request.uri().query(), request.headers());
    let mut response = next.run(request).await;
    if response.status() == StatusCode::SERVICE_UNAVAILABLE && !response.headers().contains_key(header::RETRY_AFTER) {
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER_SECS));
    }
    if response.extensions().get::<DiskFullAnswer>().is_none() || lang.code == "zh-CN" {
        return response;
    }
    let mut localised = ApiError::disk_full(lang.code).into_response();
    for (name, value) in response.headers() {
        if name != header::CONTENT_LENGTH && name != header::CONTENT_TYPE {
            localised.headers_mut().insert(name.clone(), value.clone());
        }
    }
    localised
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound { .. } => Self::new(StatusCode::NOT_FOUND, "not_found", err.to_string()),
            StoreError::Conflict(m) => Self::new(StatusCode::CONFLICT, "conflict", m),
            StoreError::Invalid(m) => Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", m),
            StoreError::Forbidden(m) => Self::new(StatusCode::FORBIDDEN, "forbidden", m),
            StoreError::TooLarge(m) => Self::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", m),
            StoreError::DiskFull(_) => {
                tracing::error!("{err}: changes are refused until space is freed");
                // zh-CN here; `localise_disk_full` answers in the reader's language.
                Self::disk_full("zh-CN")
            }
            StoreError::Database(_) | StoreError::Migrate(_) | StoreError::Key(_) => {
                // The detail may name tables or values: log it, do not send it.
                tracing::error!("{err}");
                Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "the server could not complete the request")
            }
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::JsonDataError(e) => Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", e.body_text()),
            JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Self::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", "the request body is too large")
            }
            other => Self::bad_request(other.body_text()),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        Self::bad_request(rejection.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        Self::bad_request(rejection.body_text())
    }
}

pub async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such page or endpoint")
}
