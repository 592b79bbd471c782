//! Pages. The web interface proper (issue #4) replaces this placeholder home page,
//! which only says where the API is.

use axum::response::Html;

pub async fn home() -> Html<&'static str> {
    Html(concat!(
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">",
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>网格 Wangge</title></head>",
        "<body><h1>网格 Wangge</h1><p>社区网格化治理平台 · Community grid governance</p>",
        "<ul><li><a href=\"/api/v1/areas\">/api/v1</a> — JSON API</li>",
        "<li><a href=\"/api/openapi.json\">/api/openapi.json</a> — OpenAPI</li>",
        "<li><a href=\"/healthz\">/healthz</a></li></ul></body></html>"
    ))
}
