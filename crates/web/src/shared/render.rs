//! Rendering the server-side pages. They work without JavaScript; every visible
//! string comes from the catalogue in `locales/<module>.yml` (zh-CN first, English second), chosen by
//! `?lang=`, then the `lang` cookie, then the browser's Accept-Language.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use minijinja::{Environment, State, Value};

pub use super::frame::frame;

/// The pages every module shares: the front door and the stylesheet.
pub(crate) fn routes() -> crate::shared::routes::Routes {
    use crate::shared::auth::Access::Public;
    crate::shared::routes::Routes::new().get("/", Public, front_door).get("/static/app.css", Public, stylesheet)
}

/// Where a role starts: residents in their portal, grid members at 今日 (their
/// day's work), the auxiliary network (building heads, volunteers, property staff)
/// at what they reported (with "report a problem"), everyone else in the cockpit of
/// their area.
pub fn home_of(role: wangge_domain::Role) -> &'static str {
    use wangge_domain::{Action, Role};
    match role {
        Role::Resident => "/portal",
        Role::GridMember => "/today",
        r if !r.may(Action::ViewFigures) && r.may(Action::SubmitDemand) => "/reported",
        _ => "/cockpit",
    }
}

/// Each to their own start page; strangers to the login.
async fn front_door(p: Option<crate::shared::auth::Principal>) -> Redirect {
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
    let said = response.extensions().get::<crate::shared::error::Said>().cloned();
    let message = match said {
        // Whatever went wrong inside stays in the log.
        Some(said) if said.code == "internal" => tr("error.internal", lang.code),
        _ if status == StatusCode::NOT_FOUND => tr("error.not_found", lang.code),
        Some(said) if matches!(said.code, "forbidden" | "csrf") => tr("error.forbidden", lang.code),
        Some(said) => say(&said.message, lang.code),
        None => tr("error.internal", lang.code),
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

/// A [`Message`](wangge_domain::Message) in a language: its text from the catalogue
/// with each `%{name}` replaced by its argument (keys and nested messages translated
/// in the same language). The one place a message becomes prose, for pages, the
/// API and the command line alike.
pub fn say(message: &wangge_domain::Message, lang: &str) -> String {
    use wangge_domain::Arg;
    let mut text = tr(message.key, lang);
    for (name, arg) in &message.args {
        let value = match arg {
            Arg::Text(t) => t.clone(),
            Arg::Key(k) => tr(k, lang),
            Arg::Message(m) => say(m, lang),
            Arg::Lang { zh, en } => {
                if lang == "en" {
                    en.clone()
                } else {
                    zh.clone()
                }
            }
        };
        text = text.replace(&format!("%{{{name}}}"), &value);
    }
    text
}

/// The language of the command line: `WANGGE_LANG` if set, else `LC_ALL`, then
/// `LANG`, as the C library reads them; `en…` speaks English, anything else (a
/// clerk's machine, none set) Chinese.
pub fn cli_lang() -> &'static str {
    let get = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    lang_of_locale(get("WANGGE_LANG").or_else(|| get("LC_ALL")).or_else(|| get("LANG")).as_deref())
}

/// [`cli_lang`] for a given locale name (`en_US.UTF-8`, `zh_CN.UTF-8`, none).
pub fn lang_of_locale(locale: Option<&str>) -> &'static str {
    match locale {
        Some(l) if l.starts_with("en") => "en",
        _ => "zh-CN",
    }
}

/// The templates of `templates/`, named by their path there (`registry/resident.html`).
/// Debug builds read them from disk when a page is rendered, so that a template edit
/// shows on the next request without rebuilding; release builds carry them inside
/// (minijinja-embed, run by `build.rs` only for builds without debug assertions).
fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    #[cfg(debug_assertions)]
    env.set_loader(minijinja::path_loader(TEMPLATE_DIR));
    // Debug builds (every test) refuse to print a variable the handler did not pass,
    // so the route walk (tests/it/authz.rs) renders every page with its handler's
    // own variables and a missing one fails there; `{% if x %}` on an absent value
    // stays allowed. Release builds print nothing for it rather than fail a page.
    #[cfg(debug_assertions)]
    env.set_undefined_behavior(minijinja::UndefinedBehavior::SemiStrict);
    #[cfg(not(debug_assertions))]
    minijinja_embed::load_templates!(&mut env);
    env.add_function("t", |state: &State, key: &str| {
        let lang = state.lookup("lang").and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_else(|| "zh-CN".into());
        tr(key, &lang)
    });
    env
}

/// Where the templates are read from in debug builds.
#[cfg(debug_assertions)]
const TEMPLATE_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/templates");

#[cfg(not(debug_assertions))]
static TEMPLATES: std::sync::LazyLock<Environment<'static>> = std::sync::LazyLock::new(environment);

/// Renders `template` with `ctx`: from a fresh environment in debug builds (a loader
/// parses only the templates the page uses), from the compiled-in one in release.
fn render_template(template: &str, ctx: Value) -> Result<String, minijinja::Error> {
    #[cfg(debug_assertions)]
    let env = environment();
    #[cfg(not(debug_assertions))]
    let env = &*TEMPLATES;
    env.get_template(template).and_then(|t| t.render(ctx))
}

tokio::task_local! {
    /// The query of the request being answered, set around every handler by
    /// [`crate::shared::error::localise`]: the language links keep it.
    pub(crate) static REQUEST_QUERY: Option<String>;
}

/// The link that shows this page in `code`: the page's own query (its filters, its
/// period, its area, the key of a page reached by one) with the language replaced,
/// so switching language keeps the viewer where they were.
pub(crate) fn lang_href(query: Option<&str>, code: &str) -> String {
    let mut href = format!("?lang={code}");
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty() && !p.starts_with("lang=")) {
        href.push('&');
        href.push_str(pair);
    }
    href
}

/// The language of a request, and whether it was chosen just now (then remembered).
#[derive(Clone, Copy, Debug)]
pub struct Lang {
    pub code: &'static str,
    chosen: bool,
}

impl Lang {
    /// A language by its code (`zh-CN`, `en`); Chinese for any other.
    pub fn from_code(code: &str) -> Self {
        let code = LANGUAGES.iter().find(|l| **l == code).copied().unwrap_or("zh-CN");
        Self { code, chosen: false }
    }

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
    // Every page's language links: this page (its query: area, period, filters, a
    // door's key) in the other language.
    let query = REQUEST_QUERY.try_with(Clone::clone).ok().flatten();
    let ctx = minijinja::context! {
        lang_zh_href => lang_href(query.as_deref(), "zh-CN"),
        lang_en_href => lang_href(query.as_deref(), "en"),
        ..ctx
    };
    let page = render_template(template, ctx);
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
    render(lang, status, "shared/error.html", minijinja::context! { lang => lang.code, message => message })
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
    wangge_domain::format_china_time(ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The catalogue, one file per module (`locales/<module>.yml`), read from disk.
    fn catalogue() -> Vec<(String, String)> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/locales");
        let mut files: Vec<_> = std::fs::read_dir(dir).unwrap().map(|f| f.unwrap().path()).collect();
        files.sort();
        files.into_iter().map(|p| (p.display().to_string(), std::fs::read_to_string(&p).unwrap())).collect()
    }

    /// Every template, by its name under `templates/`.
    fn templates() -> Vec<(String, String)> {
        fn walk(dir: &std::path::Path, base: &std::path::Path, out: &mut Vec<(String, String)>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, base, out);
                } else {
                    let name = path.strip_prefix(base).unwrap().display().to_string();
                    out.push((name, std::fs::read_to_string(&path).unwrap()));
                }
            }
        }
        let base = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/templates"));
        let mut out = Vec::new();
        walk(base, base, &mut out);
        out.sort();
        out
    }

    /// Every key of the catalogue has a text in every language, and no key is in two
    /// files. Read from the files themselves: through `t!` a missing English text
    /// would quietly fall back to Chinese.
    #[test]
    fn every_key_exists_in_both_languages() {
        let mut entries: Vec<(String, Vec<String>)> = Vec::new();
        let mut seen = std::collections::HashMap::new();
        for (file, text) in catalogue() {
            for line in text.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('_') && !l.starts_with('#')) {
                if let Some(lang_line) = line.strip_prefix("  ") {
                    let lang = lang_line.split(':').next().unwrap_or("").to_owned();
                    entries.last_mut().expect("a key comes first").1.push(lang);
                } else {
                    let key = line.trim_end_matches(':').to_owned();
                    if let Some(other) = seen.insert(key.clone(), file.clone()) {
                        panic!("{key} is in both {other} and {file}");
                    }
                    entries.push((key, Vec::new()));
                }
            }
        }
        assert!(entries.len() > 350, "the catalogue was read: {} keys", entries.len());
        let missing: Vec<String> = entries
            .iter()
            .filter(|(_, langs)| {
                LANGUAGES.iter().any(|l| !langs.iter().any(|x| x == l)) || langs.len() != LANGUAGES.len()
            })
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

    /// A message is said in the reader's language, its arguments too: a term by its
    /// label, a nested message in the same language.
    #[test]
    fn the_command_line_speaks_its_locale() {
        assert_eq!(lang_of_locale(Some("en_US.UTF-8")), "en");
        assert_eq!(lang_of_locale(Some("en")), "en");
        assert_eq!(lang_of_locale(Some("zh_CN.UTF-8")), "zh-CN");
        assert_eq!(lang_of_locale(Some("C.UTF-8")), "zh-CN");
        assert_eq!(lang_of_locale(None), "zh-CN");
    }

    #[test]
    fn say_translates_arguments() {
        use wangge_domain::{Explain, Gender, IdCardNumber, Vocabulary};
        let wrong = IdCardNumber::parse("11010519491231002").unwrap_err().message();
        assert_eq!(say(&wrong, "zh-CN"), "身份证号应为 18 位，实为 17 位");
        assert_eq!(say(&wrong, "en"), "an ID card number has 18 characters, this one has 17");
        let unknown = Gender::parse("unknown").unwrap_err().message();
        assert_eq!(say(&unknown, "zh-CN"), "“unknown”不是有效的性别；可填：男、女");
        assert_eq!(say(&unknown, "en"), "'unknown' is not a known gender; use one of: Male, Female");
        let nested =
            wangge_domain::msg!("vocab.unknown", term = "x").nested("vocabulary", wrong).lang_arg("known", "甲", "A");
        assert_eq!(
            say(&nested, "en"),
            "'x' is not a known an ID card number has 18 characters, this one has 17; use one of: A"
        );
    }

    /// No key is written twice across the catalogue's files: the loader keeps one
    /// silently, so a module's key could change another's words on every page.
    #[test]
    fn no_key_is_defined_twice() {
        let mut seen = std::collections::HashMap::new();
        let mut twice = Vec::new();
        for (file, text) in catalogue() {
            for key in text.lines().filter(|l| !l.starts_with([' ', '#', '_']) && l.ends_with(':')) {
                if let Some(first) = seen.insert(key.to_owned(), file.clone()) {
                    twice.push(format!("{key} in {first} and {file}"));
                }
            }
        }
        assert!(seen.len() > 500, "the catalogue was read: {} keys", seen.len());
        assert!(twice.is_empty(), "keys defined twice:\n{}", twice.join("\n"));
    }

    /// Every catalogue key the code names in a message (`msg!("…"`,
    /// `Message::new("…"`, `.key_arg(…, "…"`) is in the catalogue: a message whose key
    /// is missing would reach a person as the bare key.
    #[test]
    fn messages_use_only_known_keys() {
        let catalogue: String = catalogue().into_iter().map(|(_, text)| format!("\n{text}")).collect();
        fn walk(dir: &std::path::Path, out: &mut Vec<(String, String)>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, out);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    out.push((path.display().to_string(), std::fs::read_to_string(&path).unwrap()));
                }
            }
        }
        let root = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
        let mut sources = Vec::new();
        for dir in ["crates/domain/src", "crates/store/src", "crates/ledger/src", "crates/web/src", "src"] {
            walk(&root.join(dir), &mut sources);
        }
        let mut used = 0;
        for (file, source) in sources {
            for opener in ["msg!(\"", "Message::new(\"", "key_arg("] {
                for part in source.split(opener).skip(1) {
                    let part = if opener == "key_arg(" {
                        // Only a literal second argument of this very call.
                        match part.split_once(", \"") {
                            Some((first, rest)) if !first.contains(')') => rest,
                            _ => continue,
                        }
                    } else {
                        part
                    };
                    let key = &part[..part.find('"').unwrap()];
                    if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_') {
                        continue;
                    }
                    used += 1;
                    assert!(catalogue.contains(&format!("\n{key}:")), "{file}: key {key} is not in locales/");
                }
            }
        }
        assert!(used > 20, "the sources were read: {used} keys");
    }

    /// Keys the code names through a function rather than a literal message: the
    /// kinds of record not found and the reasons a division code is malformed.
    #[test]
    fn named_kinds_have_catalogue_names() {
        use wangge_domain::ShapeReason;
        let mut keys: Vec<&str> = wangge_store::Thing::ALL.iter().map(|t| t.key()).collect();
        keys.extend(
            [
                ShapeReason::Digits,
                ShapeReason::GridLength,
                ShapeReason::Length,
                ShapeReason::BelowZero,
                ShapeReason::OwnZero,
            ]
            .map(ShapeReason::key),
        );
        keys.extend(wangge_domain::EventKind::all().map(wangge_domain::EventKind::key));
        for key in keys {
            for lang in LANGUAGES {
                assert_ne!(tr(key, lang), key, "{lang}: {key} has no text");
            }
        }
        let gone =
            wangge_domain::Message::new("error.not_found_what").key_arg("what", wangge_store::Thing::SignUp.key());
        assert_eq!(say(&gone, "en"), "no such sign-up in your area");
    }

    /// Every key the templates use is in the catalogue.
    #[test]
    fn templates_use_only_known_keys() {
        let catalogue: String = catalogue().into_iter().map(|(_, text)| format!("\n{text}")).collect();
        let all = templates();
        assert!(all.len() > 30, "the templates were read");
        for (name, source) in all {
            for part in source.split("t(").skip(1) {
                let quote = part.chars().next().unwrap();
                if quote != '"' && quote != '\'' {
                    continue;
                }
                let key = &part[1..part[1..].find(quote).unwrap() + 1];
                assert!(catalogue.contains(&format!("\n{key}:")), "{name}: key {key} is not in locales/");
            }
        }
    }

    /// Every template parses and renders (a syntax or filter error shows here, not on
    /// a user's screen), through the same environment the pages use.
    #[test]
    fn every_template_renders() {
        for (name, _) in templates() {
            let ctx = minijinja::context! { lang => "en", user => "u", csrf => "c", q => "" };
            // Missing page data is expected here; anything else is a broken template.
            if let Err(e) = render_template(&name, ctx) {
                assert_eq!(e.kind(), minijinja::ErrorKind::UndefinedError, "{name}: {e:#}");
            }
        }
    }

    #[test]
    fn language_links_keep_the_page_query() {
        assert_eq!(lang_href(None, "en"), "?lang=en");
        assert_eq!(lang_href(Some(""), "zh-CN"), "?lang=zh-CN");
        assert_eq!(
            lang_href(Some("area=0193&period=year&lang=zh-CN&cols=age"), "en"),
            "?lang=en&area=0193&period=year&cols=age"
        );
        assert_eq!(lang_href(Some("month=2026-11"), "zh-CN"), "?lang=zh-CN&month=2026-11");
        assert_eq!(lang_href(Some("k=abc"), "en"), "?lang=en&k=abc", "a door's key stays");
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
