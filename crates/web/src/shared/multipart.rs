//! Reading a page's form that may carry files: `multipart/form-data` (a form with
//! a file input) or `application/x-www-form-urlencoded` (the same form sent
//! without one), into its text fields in order and its files. A file over the
//! limit is read to its end and dropped, so the form can say which one was too
//! large instead of failing as a whole; an input left empty sends an empty part,
//! which is skipped. The body as a whole is cut off by the route's own limit
//! (`routes::Limit`) before this reads it.

use axum::extract::{FromRequest, Multipart, Request};
use axum::http::{StatusCode, header};
use wangge_domain::msg;

use crate::ApiError;

/// A file a form carried.
pub struct File {
    /// The input's name.
    pub field: String,
    /// The name the phone gave the file.
    pub file_name: String,
    /// Its bytes; none when it was larger than the limit.
    pub data: Option<Vec<u8>>,
}

/// A form as sent: its text fields in order (a repeated name repeats) and files.
pub struct Parts {
    pub pairs: Vec<(String, String)>,
    pub files: Vec<File>,
}

fn too_large() -> ApiError {
    ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", msg!("photos.too_large_all"))
}

fn not_multipart(status: StatusCode, detail: String) -> ApiError {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        too_large()
    } else {
        ApiError::bad_request(msg!("error.not_multipart", detail = detail))
    }
}

/// Reads a form, each file up to `max_file` bytes.
pub async fn read<S: Send + Sync>(request: Request, state: &S, max_file: usize) -> Result<Parts, ApiError> {
    let content_type = request.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !content_type.starts_with("multipart/form-data") {
        let axum::Form(pairs) = axum::Form::<Vec<(String, String)>>::from_request(request, state)
            .await
            .map_err(|e| ApiError::invalid(msg!("error.bad_json", detail = e.body_text())))?;
        return Ok(Parts { pairs, files: Vec::new() });
    }
    let mut multipart =
        Multipart::from_request(request, state).await.map_err(|e| not_multipart(e.status(), e.body_text()))?;
    let read_error = |e: axum::extract::multipart::MultipartError| not_multipart(e.status(), e.body_text());
    let (mut pairs, mut files) = (Vec::new(), Vec::new());
    while let Some(mut field) = multipart.next_field().await.map_err(read_error)? {
        let name = field.name().unwrap_or("").to_owned();
        let Some(file_name) = field.file_name().map(str::to_owned) else {
            let text = field.text().await.map_err(read_error)?;
            pairs.push((name, text));
            continue;
        };
        // Read in pieces, so that an oversized file is refused without keeping it.
        let (mut data, mut over) = (Vec::new(), false);
        while let Some(chunk) = field.chunk().await.map_err(read_error)? {
            if over || data.len() + chunk.len() > max_file {
                over = true;
                data = Vec::new();
            } else {
                data.extend_from_slice(&chunk);
            }
        }
        if data.is_empty() && !over {
            continue;
        }
        files.push(File { field: name, file_name, data: (!over).then_some(data) });
    }
    Ok(Parts { pairs, files })
}

/// The one file a request carries: the first file of a `multipart/form-data` body,
/// or the body itself, named `name`. Larger than `max` bytes: 413.
pub async fn one_file(request: Request, max: usize, name: Option<String>) -> Result<(String, Vec<u8>), ApiError> {
    let too_large = || {
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", msg!("error.file_too_large", mb = max >> 20))
    };
    let multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if multipart {
        let parts = read(request, &(), max).await?;
        let file =
            parts.files.into_iter().next().ok_or_else(|| ApiError::bad_request(msg!("error.no_file").field("file")))?;
        return Ok((file.file_name, file.data.ok_or_else(too_large)?));
    }
    let bytes = axum::body::to_bytes(request.into_body(), max).await.map_err(|_| too_large())?;
    Ok((name.unwrap_or_default(), bytes.to_vec()))
}
