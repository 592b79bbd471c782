//! Errors as the API reports them: a JSON body with a stable `code` a client can
//! branch on, a `message` a person can read — in the request's language (its
//! `Accept-Language`, zh-CN when it names none) — and the `field` it is about when
//! there is one.
//!
//! ```json
//! {"error": {"code": "invalid", "message": "身份证号校验位不符：…", "field": "id_card"}}
//! ```
//!
//! An error carries a [`Message`] (a catalogue key and its arguments), never prose:
//! [`localise`] says it in the reader's language once, at the edge, and the pages'
//! error screen ([`crate::shared::render::html_errors`]) does the same for people.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;
use wangge_domain::{Message, msg};
use wangge_store::StoreError;

use crate::shared::render::say;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: Message,
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
    /// For a person, in the request's `Accept-Language` (zh-CN by default).
    pub message: String,
    /// The field of the request the error is about (`id_card`, `phone`, `title`…), when one is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: Message) -> Self {
        Self { status, code, message }
    }

    pub fn bad_request(message: Message) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    /// 422 `invalid`: the request is well-formed but a value in it is wrong.
    pub fn invalid(message: Message) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", message)
    }

    /// 404 `not_found` with `message` (say what was not found, never whether it
    /// exists outside the caller's area).
    pub fn not_found(message: Message) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 403 `forbidden` with `message`.
    pub fn forbidden(message: Message) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// 500 `internal`: the detail goes to the log, not to the client.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!("{detail}");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", msg!("error.internal"))
    }

    /// The disk of the database is full: 503 `disk_full`.
    pub fn disk_full() -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, DISK_FULL, msg!("error.disk_full"))
    }

    /// The message in a language: for pages that show an error inside a form.
    pub fn said(&self, lang: &str) -> String {
        say(&self.message, lang)
    }

    fn body(&self, lang: &str) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code: self.code.to_owned(),
                message: say(&self.message, lang),
                field: self.message.field.map(str::to_owned),
            },
        }
    }
}

/// The code of a change refused because the database's disk is full.
pub const DISK_FULL: &str = "disk_full";

/// How long a client is asked to wait before trying a refused change again.
pub const RETRY_AFTER_SECS: &str = "30";

/// What an error answer said, kept on the response so that [`localise`] and the
/// pages' error screen can say it again in the reader's language.
#[derive(Clone, Debug)]
pub(crate) struct Said {
    pub code: &'static str,
    pub message: Message,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        // zh-CN here (the handler does not know the reader); `localise` answers in theirs.
        let mut response = (self.status, Json(self.body("zh-CN"))).into_response();
        if self.code == DISK_FULL {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER_SECS));
        }
        response.extensions_mut().insert(Said { code: self.code, message: self.message });
        response
    }
}

/// Says every JSON error in the language of the request (its `?lang=`, `lang`
/// cookie or `Accept-Language`; zh-CN when none is given); every 503 carries
/// `Retry-After`.
pub(crate) async fn localise(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let lang = crate::shared::render::Lang::from_headers(request.uri().query(), request.headers());
    let query = request.uri().query().map(str::to_owned);
    let mut response = crate::shared::render::REQUEST_QUERY.scope(query, next.run(request)).await;
    if response.status() == StatusCode::SERVICE_UNAVAILABLE && !response.headers().contains_key(header::RETRY_AFTER) {
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER_SECS));
    }
    let is_json =
        response.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    let Some(said) = response.extensions().get::<Said>().cloned() else { return response };
    if lang.code == "zh-CN" || !is_json {
        return response;
    }
    let error = ApiError::new(response.status(), said.code, said.message);
    let mut localised = (error.status, Json(error.body(lang.code))).into_response();
    for (name, value) in response.headers() {
        if name != header::CONTENT_LENGTH && name != header::CONTENT_TYPE {
            localised.headers_mut().insert(name.clone(), value.clone());
        }
    }
    localised.extensions_mut().insert(Said { code: said.code, message: error.message });
    localised
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound { what, .. } => {
                Self::not_found(Message::new("error.not_found_what").key_arg("what", what.key()))
            }
            StoreError::Conflict(m) => Self::new(StatusCode::CONFLICT, "conflict", m),
            StoreError::Invalid(m) => Self::invalid(m),
            StoreError::Forbidden(m) => Self::forbidden(m),
            StoreError::TooLarge(m) => Self::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", m),
            StoreError::DiskFull(_) => {
                tracing::error!("{err}: changes are refused until space is freed");
                Self::disk_full()
            }
            // The detail may name tables or values: log it, do not send it.
            StoreError::Database(_) | StoreError::Migrate(_) | StoreError::Key(_) => Self::internal(err),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::JsonDataError(e) => Self::invalid(msg!("error.bad_json", detail = e.body_text())),
            JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Self::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", msg!("error.too_large"))
            }
            other => Self::bad_request(msg!("error.bad_json", detail = other.body_text())),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        Self::bad_request(msg!("error.bad_query", detail = rejection.body_text()))
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        Self::bad_request(msg!("error.bad_path", detail = rejection.body_text()))
    }
}

pub async fn not_found() -> ApiError {
    ApiError::not_found(msg!("error.no_endpoint"))
}
