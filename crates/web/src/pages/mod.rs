//! Server-rendered pages. They work without JavaScript; every visible string comes
//! from the catalogue in `locales/app.yml` (zh-CN first, English second), chosen by
//! `?lang=`, then the `lang` cookie, then the browser's Accept-Language.

mod account;
mod admin;
pub(crate) mod demands;
mod frame;
mod imports;
mod login;
mod people;
mod photo_forms;
mod places;
mod portal;
mod registry;
mod signups;

use std::sync::LazyLock;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use minijinja::{Environment, State, Value};

pub use account::{audit_page, password_form, password_submit};
pub use frame::frame;
pub use login::{login_form, login_submit, logout};
pub use places::{area_page, building_page};
pub use registry::{
    edit_resident, home as registry_home, move_house_resident, move_in_resident, move_out_resident, resident_page,
    residents_page,
};

/// Every page: each module's slice, the front door and the stylesheet.
pub(crate) fn routes() -> crate::routes::Routes {
    use crate::auth::Access::Public;
    crate::routes::Routes::new()
        .get("/", Public, front_door)
        .get("/static/app.css", Public, stylesheet)
        .merge(login::routes())
        .merge(account::routes())
        .merge(registry::routes())
        .merge(places::routes())
        .merge(people::routes())
        .merge(signups::routes())
        .merge(imports::routes())
        .merge(admin::routes())
        .merge(demands::routes())
        .merge(portal::routes())
}

pub use photo_forms::PHOTO_FORM_LIMIT;

/// Where a role starts: residents in their portal, the auxiliary network (building
/// heads, volunteers, property staff) at reporting a problem, everyone else in the
/// registry of their area.
pub fn home_of(role: wangge_domain::Role) -> &'static str {
    use wangge_domain::{Action, Role};
    match role {
        Role::Resident => "/portal",
        r if !r.may(Action::ViewFigures) && r.may(Action::SubmitDemand) => "/demands/new",
        _ => "/registry",
    }
}

/// Each to their own start page; strangers to the login.
async fn front_door(p: Option<crate::auth::Principal>) -> Redirect {
    Redirect::to(p.map_or("/login", |p| home_of(p.role)))
}

/// A page handler that fails with the API's JSON error answers with the error page
/// instead, in the reader's language: people never see JSON.
pub(crate) async fn html_errors(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let lang = Lang::from_headers(request.uri().query(), request.headers());
    let response = next.run(request).await;
    let is_json =
        response.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !is_json || !(response.status().is_client_error() || response.status().is_server_error()) {
        return response;
    }
    let status = response.status();
    let retry_after = response.headers().get(header::RETRY_AFTER).cloned();
    let body = axum::body::to_bytes(response.into_body(), 64 * 1024).await.unwrap_or_default();
    let detail: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let message = match (status, detail["error"]["code"].as_str()) {
        (_, Some(crate::error::DISK_FULL)) => tr("error.disk_full", lang.code),
        (StatusCode::NOT_FOUND, _) => tr("error.not_found", lang.code),
        (StatusCode::FORBIDDEN, Some("forbidden" | "csrf")) => tr("error.forbidden", lang.code),
        (_, Some("internal")) | (_, None) => tr("error.internal", lang.code),
        _ => detail["error"]["message"].as_str().unwrap_or_default().to_owned(),
    };
    let mut page = error_page(lang, status, &message);
    if let Some(value) = retry_after {
        page.headers_mut().insert(header::RETRY_AFTER, value);
    }
    page
}

/// The languages of the interface: zh-CN first.
pub const LANGUAGES: [&str; 2] = ["zh-CN", "en"];

/// A term of a vocabulary (gender, relation…) in the page's language.
pub fn label<V: wangge_domain::Vocabulary>(v: V, lang: Lang) -> &'static str {
    if lang.code == "en" { v.label_en() } else { v.label_zh() }
}

/// One string of the catalogue in a language.
pub fn tr(key: &str, lang: &str) -> String {
    rust_i18n::t!(key, locale = lang).into_owned()
}

/// Every template, compiled into the binary.
const TEMPLATE_SOURCES: &[(&str, &str)] = &[
    ("accounts.html", include_str!("../../templates/accounts.html")),
    ("area.html", include_str!("../../templates/area.html")),
    ("audit.html", include_str!("../../templates/audit.html")),
    ("base.html", include_str!("../../templates/base.html")),
    ("building.html", include_str!("../../templates/building.html")),
    ("error.html", include_str!("../../templates/error.html")),
    ("grant_form.html", include_str!("../../templates/grant_form.html")),
    ("report.html", include_str!("../../templates/report.html")),
    ("poster.html", include_str!("../../templates/poster.html")),
    ("posters.html", include_str!("../../templates/posters.html")),
    ("demand.html", include_str!("../../templates/demand.html")),
    ("demand_new.html", include_str!("../../templates/demand_new.html")),
    ("demand_offer.html", include_str!("../../templates/demand_offer.html")),
    ("demands.html", include_str!("../../templates/demands.html")),
    ("import.html", include_str!("../../templates/import.html")),
    ("person_fields.html", include_str!("../../templates/person_fields.html")),
    ("photo_fields.html", include_str!("../../templates/photo_fields.html")),
    ("photo_list.html", include_str!("../../templates/photo_list.html")),
    ("resident_new.html", include_str!("../../templates/resident_new.html")),
    ("import_job.html", include_str!("../../templates/import_job.html")),
    ("login.html", include_str!("../../templates/login.html")),
    ("password.html", include_str!("../../templates/password.html")),
    ("place_fields.html", include_str!("../../templates/place_fields.html")),
    ("portal_base.html", include_str!("../../templates/portal_base.html")),
    ("portal_home.html", include_str!("../../templates/portal_home.html")),
    ("portal_household.html", include_str!("../../templates/portal_household.html")),
    ("portal_request.html", include_str!("../../templates/portal_request.html")),
    ("portal_request_new.html", include_str!("../../templates/portal_request_new.html")),
    ("portal_requests.html", include_str!("../../templates/portal_requests.html")),
    ("portal_signup.html", include_str!("../../templates/portal_signup.html")),
    ("portal_signup_sent.html", include_str!("../../templates/portal_signup_sent.html")),
    ("registry.html", include_str!("../../templates/registry.html")),
    ("resident.html", include_str!("../../templates/resident.html")),
    ("residents.html", include_str!("../../templates/residents.html")),
    ("scopes.html", include_str!("../../templates/scopes.html")),
    ("search.html", include_str!("../../templates/search.html")),
    ("signups.html", include_str!("../../templates/signups.html")),
    ("tokens.html", include_str!("../../templates/tokens.html")),
];

static TEMPLATES: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    for (name, source) in TEMPLATE_SOURCES {
        env.add_template(name, source).expect("templates parse");
    }
    env.add_function("t", |state: &State, key: &str| {
        let lang = state.lookup("lang").and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_else(|| "zh-CN".into());
        tr(key, &lang)
    });
    env
});

/// The language of a request, and whether it was chosen just now (then remembered).
#[derive(Clone, Copy, Debug)]
pub struct Lang {
    pub code: &'static str,
    chosen: bool,
}

impl Lang {
    /// Whether the page speaks Chinese.
    pub fn zh(self) -> bool {
        self.code == "zh-CN"
    }

    /// Of a message kept in English and Chinese, the one this page speaks (English
    /// when the Chinese is missing).
    pub fn pick<'a>(self, en: &'a str, zh: &'a str) -> &'a str {
        if self.zh() && !zh.is_empty() { zh } else { en }
    }

    pub fn from_headers(query: Option<&str>, headers: &HeaderMap) -> Self {
        let asked = query.and_then(|q| {
            q.split('&').find_map(|pair| pair.strip_prefix("lang=")).and_then(|v| LANGUAGES.iter().find(|l| **l == v))
        });
        if let Some(code) = asked {
            return Self { code, chosen: true };
        }
        let cookie = headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .find_map(|p| p.trim().strip_prefix("lang=").map(str::to_owned));
        if let Some(code) = cookie.and_then(|c| LANGUAGES.iter().find(|l| **l == c)) {
            return Self { code, chosen: false };
        }
        let accept = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or("");
        let english_first = accept.trim_start().to_ascii_lowercase().starts_with("en");
        Self { code: if english_first { "en" } else { "zh-CN" }, chosen: false }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self::from_headers(parts.uri.query(), &parts.headers))
    }
}

/// Renders a page; remembers a language chosen with `?lang=` in a cookie.
pub fn render(lang: Lang, status: StatusCode, template: &str, ctx: Value) -> Response {
    let page = TEMPLATES.get_template(template).and_then(|t| t.render(ctx));
    match page {
        Ok(html) => {
            let mut response = (status, Html(html)).into_response();
            if lang.chosen {
                let cookie = format!("lang={}; Path=/; Max-Age=31536000; SameSite=Lax", lang.code);
                response.headers_mut().insert(header::SET_COOKIE, HeaderValue::from_str(&cookie).expect("ASCII"));
            }
            response
        }
        Err(err) => {
            tracing::error!("rendering {template}: {err:#}");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

/// The error page for a refused or failed page request.
pub fn error_page(lang: Lang, status: StatusCode, message: &str) -> Response {
    render(lang, status, "error.html", minijinja::context! { lang => lang.code, message => message })
}

async fn stylesheet() -> Response {
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/css; charset=utf-8"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    (headers, include_str!("../../static/app.css")).into_response()
}

/// Percent-encodes a value for a query string.
pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// China Standard Time, as people read it.
pub fn local_time(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        .to_offset(time::UtcOffset::from_hms(8, 0, 0).expect("a valid offset"));
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every key of the catalogue has a text in every language. Read from the file
    /// itself: through `t!` a missing English text would quietly fall back to Chinese.
    #[test]
    fn every_key_exists_in_both_languages() {
        let catalogue = include_str!("../../locales/app.yml");
        let mut entries: Vec<(&str, Vec<&str>)> = Vec::new();
        for line in catalogue.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('_')) {
            if let Some(lang_line) = line.strip_prefix("  ") {
                let lang = lang_line.split(':').next().unwrap_or("");
                entries.last_mut().expect("a key comes first").1.push(lang);
            } else {
                entries.push((line.trim_end_matches(':'), Vec::new()));
            }
        }
        assert!(entries.len() > 50, "the catalogue was read: {} keys", entries.len());
        let missing: Vec<String> = entries
            .iter()
            .filter(|(_, langs)| LANGUAGES.iter().any(|l| !langs.contains(l)) || langs.len() != LANGUAGES.len())
            .map(|(key, langs)| format!("{key} has {langs:?}"))
            .collect();
        assert!(missing.is_empty(), "every key needs exactly zh-CN and en: {missing:?}");
        for (key, _) in &entries {
            for lang in LANGUAGES {
                assert!(!tr(key, lang).is_empty() && tr(key, lang) != *key, "{lang}: {key} has no text");
            }
        }
        assert_ne!(tr("login.title", "zh-CN"), tr("login.title", "en"));
    }

    /// Every key the templates use is in the catalogue.
    #[test]
    fn templates_use_only_known_keys() {
        let catalogue = include_str!("../../locales/app.yml");
        let sources = TEMPLATE_SOURCES.iter().map(|(_, source)| *source);
        for source in sources {
            for part in source.split("t(").skip(1) {
                let quote = part.chars().next().unwrap();
                if quote != '"' && quote != '\'' {
                    continue;
                }
                let key = &part[1..part[1..].find(quote).unwrap() + 1];
                assert!(catalogue.contains(&format!("\n{key}:")), "template key {key} is not in locales/app.yml");
            }
        }
    }

    /// Every template renders (a syntax or filter error shows here, not on a user's screen).
    #[test]
    fn every_template_renders() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/templates");
        for file in std::fs::read_dir(dir).unwrap() {
            let name = file.unwrap().file_name().into_string().unwrap();
            assert!(TEMPLATE_SOURCES.iter().any(|(n, _)| *n == name), "{name} is not in TEMPLATE_SOURCES");
        }
        for (name, _) in TEMPLATES.templates() {
            let ctx = minijinja::context! { lang => "en", user => "u", csrf => "c", q => "" };
            // Missing page data is expected here; anything else is a broken template.
            if let Err(e) = TEMPLATES.get_template(name).unwrap().render(ctx) {
                assert_eq!(e.kind(), minijinja::ErrorKind::UndefinedError, "{name}: {e:#}");
            }
        }
    }

    #[test]
    fn language_comes_from_query_cookie_then_browser() {
        let mut headers = HeaderMap::new();
        assert_eq!(Lang::from_headers(None, &headers).code, "zh-CN");
        headers.insert(header::ACCEPT_LANGUAGE, HeaderValue::from_static("en-GB,en;q=0.9"));
        assert_eq!(Lang::from_headers(None, &headers).code, "en");
        headers.insert(header::COOKIE, HeaderValue::from_static("lang=zh-CN"));
        assert_eq!(Lang::from_headers(None, &headers).code, "zh-CN");
        assert_eq!(Lang::from_headers(Some("q=1&lang=en"), &headers).code, "en");
    }
}
