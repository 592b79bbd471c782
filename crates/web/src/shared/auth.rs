//! Who is asking, and whether they may: authentication (session cookie or bearer
//! token), the route policy table, CSRF, and scope checks.
//!
//! Every route is declared with what it needs ([`crate::shared::routes`]). The `guard`
//! middleware looks the matched route up in that table and refuses before any
//! handler runs. `HEAD` follows `GET`'s rule; `OPTIONS` is answered here (204 with
//! `Allow`, no login needed); a method the path does not declare gets 405 with
//! `Allow`. A route the router knows but the table does not (added to axum by hand)
//! is refused with 500, so forgetting the declaration fails closed. Scope — *where* —
//! is checked against the hierarchy path of the record through [`Principal`]'s
//! methods, the same few for every handler.

use axum::extract::{ConnectInfo, FromRequestParts, MatchedPath, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use wangge_domain::{Action, Role};
use wangge_store::security::accounts::{self, Scope};
use wangge_store::security::sessions;
use wangge_store::{Db, StoreError, Thing};

use std::sync::Arc;

use crate::shared::routes::{Face, Route, RouteTable};
use crate::{ApiError, AppState};
use wangge_domain::msg;

pub const SESSION_COOKIE: &str = "wangge_session";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// What a route needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Anyone, logged in or not.
    Public,
    /// Any logged-in person or token, whatever the role.
    Authenticated,
    /// A role that may take this action.
    Role(Action),
    /// The Party membership roll (member list, member pages): a role that keeps
    /// the Party registry (`manage_party`), or one that works with it (`view_party`)
    /// whose account the community's Party secretary or secretary granted the roll
    /// by name (`/party/access`). Which community's members it opens is checked
    /// where the record is read (`party::roll_open`).
    PartyRoll,
}

/// Routes a person who must change their password may still use.
const ALLOWED_BEFORE_PASSWORD_CHANGE: [&str; 5] =
    ["/api/v1/session", "/api/v1/me", "/api/v1/me/password", "/password", "/logout"];

#[derive(Clone, Debug)]
pub enum Actor {
    Account { id: String, username: String, must_change_password: bool },
    Token { id: String, name: String },
}

/// The authenticated caller of a request.
#[derive(Clone, Debug)]
pub struct Principal {
    pub actor: Actor,
    pub role: Role,
    pub scopes: Vec<Scope>,
    /// Set for cookie sessions: state-changing requests must echo it.
    pub csrf_token: Option<String>,
    /// Paths under which a live "break the glass" grant shows names.
    pub grants: Vec<String>,
    /// Whether the request only reads: grants open records to reading, never to
    /// changing them.
    pub reading: bool,
}

/// The caller's address, for throttling and the audit log.
#[derive(Clone, Debug)]
pub struct ClientAddress(pub String);

impl Principal {
    pub fn actor_id(&self) -> &str {
        match &self.actor {
            Actor::Account { id, .. } | Actor::Token { id, .. } => id,
        }
    }

    pub fn actor_name(&self) -> String {
        match &self.actor {
            Actor::Account { username, .. } => username.clone(),
            Actor::Token { name, .. } => format!("token:{name}"),
        }
    }

    /// Platform administrators work across the whole deployment.
    fn unrestricted(&self) -> bool {
        self.role == Role::PlatformAdmin
    }

    /// The subtrees whose audit entries the caller reads: `None` (the whole log) for
    /// administrators, their scopes for everyone else.
    pub fn audit_paths(&self) -> Option<Vec<String>> {
        (!self.unrestricted()).then(|| self.scopes.iter().map(|s| s.path.clone()).collect())
    }

    /// Whether a record at `path` lies in one of the caller's subtrees — or, for a
    /// request that only reads, under a live grant (which may reach a neighbouring
    /// area, see [`Principal::may_reach`]).
    pub fn can_see(&self, path: &str) -> bool {
        self.unrestricted()
            || self.scopes.iter().any(|s| path.starts_with(&s.path))
            || (self.reading && self.grants.iter().any(|g| path.starts_with(g.as_str())))
    }

    /// Whether the caller may change a record at `path`: in their own subtrees only,
    /// never through a grant.
    pub fn can_change(&self, path: &str) -> bool {
        self.unrestricted() || self.scopes.iter().any(|s| path.starts_with(&s.path))
    }

    /// Whether the caller may take a grant ("break the glass") on the area at `path`:
    /// within their own subtrees, or beside them — under the parent of one of their
    /// scopes (a street official looking at one case in the next street, a
    /// secretary at a family that moved from the next community). Never across a
    /// whole city: the root is nobody's parent here.
    pub fn may_reach(&self, path: &str) -> bool {
        self.can_see(path)
            || self.scopes.iter().any(|s| {
                let parent = parent_path(&s.path);
                parent != "/" && path.starts_with(parent)
            })
    }

    /// Whether `path` is an ancestor of one of the caller's scopes (a parent area
    /// they may name, but not list beneath).
    pub fn is_above_scope(&self, path: &str) -> bool {
        self.scopes.iter().any(|s| s.path.starts_with(path))
    }

    /// Whether names (and room numbers, notes, sensitive tags) of records at `path`
    /// are shown to the caller: by role, or through a live grant; otherwise the
    /// registry is shown pseudonymised.
    pub fn sees_names(&self, path: &str) -> bool {
        self.role.may(Action::ViewRegistry) || self.grants.iter().any(|g| path.starts_with(g.as_str()))
    }

    /// Refuses a record outside the caller's scope as if it did not exist, so that
    /// ids cannot be probed.
    pub fn check(&self, path: &str) -> Result<(), ApiError> {
        if self.can_see(path) { Ok(()) } else { Err(ApiError::not_found(msg!("error.not_in_area"))) }
    }

    /// A record a request names — in its path or in its body (a resident on a new
    /// item, the item to merge into, a household to move into) — as the store found
    /// it: one outside the caller's scope answers exactly as an unknown id does (404,
    /// "<what> <id> was not found"), so that a body cannot probe which ids exist.
    pub fn refer<T>(
        &self,
        found: Result<T, StoreError>,
        what: Thing,
        id: &str,
        path: impl FnOnce(&T) -> &str,
    ) -> Result<T, ApiError> {
        match found {
            Ok(record) if self.can_see(path(&record)) => Ok(record),
            Ok(_) | Err(StoreError::NotFound { .. }) => Err(unknown(what, id)),
            Err(e) => Err(e.into()),
        }
    }

    /// [`Principal::refer`] for a record whose path is already known.
    pub fn refer_path(&self, what: Thing, id: &str, path: &str) -> Result<(), ApiError> {
        if self.can_see(path) { Ok(()) } else { Err(unknown(what, id)) }
    }

    /// The subtree a list is limited to: the `area` asked for (id or code), which must
    /// lie in scope, or else the caller's single scope. `None` only for
    /// administrators asking for everything.
    pub async fn list_path(&self, db: &Db, area: Option<&str>) -> Result<Option<String>, ApiError> {
        if let Some(path) = crate::shared::api::area_path(db, area).await? {
            if !self.can_see(&path) {
                return Err(ApiError::forbidden(msg!("error.area_outside").field("area")));
            }
            return Ok(Some(path));
        }
        if self.unrestricted() {
            return Ok(None);
        }
        match self.scopes.as_slice() {
            [one] => Ok(Some(one.path.clone())),
            [] => Err(ApiError::forbidden(msg!("error.no_scope"))),
            _ => Err(ApiError::bad_request(msg!("error.several_scopes").field("area"))),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Principal>().cloned().ok_or_else(unauthenticated)
    }
}

impl<S: Send + Sync> axum::extract::OptionalFromRequestParts<S> for Principal {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Option<Self>, Self::Rejection> {
        Ok(parts.extensions.get::<Principal>().cloned())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts.extensions.get::<ClientAddress>().cloned().unwrap_or(ClientAddress("unknown".into())))
    }
}

/// The answer for an unknown id: the store's own words, so that an id outside the
/// caller's scope cannot be told from one that does not exist.
pub fn unknown(what: Thing, id: &str) -> ApiError {
    StoreError::not_found(what, id).into()
}

/// The materialised path of the parent of the node at `path` (`/a/b/` → `/a/`).
fn parent_path(path: &str) -> &str {
    let trimmed = path.trim_end_matches('/');
    trimmed.rfind('/').map_or("/", |i| &path[..=i])
}

fn unauthenticated() -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", msg!("error.log_in_first"))
}

/// Reads the session cookie's secret from the request headers.
pub fn session_secret(headers: &HeaderMap) -> Option<String> {
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|pair| {
        let (name, value) = pair.trim().split_once('=')?;
        (name == SESSION_COOKIE && !value.is_empty()).then(|| value.to_owned())
    })
}

async fn identify(db: &Db, headers: &HeaderMap) -> Result<Option<Principal>, ApiError> {
    if let Some(auth) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        let secret = auth
            .strip_prefix("Bearer ")
            .ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", msg!("error.bearer_form")))?;
        // Remembered for up to 2 s; revocation here is immediate (store::cache).
        let (token, grants) = accounts::verified_token(db, secret.trim())
            .await?
            .ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", msg!("error.token_unknown")))?;
        return Ok(Some(Principal {
            actor: Actor::Token { id: token.id, name: token.name },
            role: token.role,
            scopes: vec![token.scope],
            csrf_token: None,
            grants,
            reading: true,
        }));
    }
    let Some(secret) = session_secret(headers) else { return Ok(None) };
    let Some(live) = sessions::touch(db, &secret).await? else { return Ok(None) };
    let account = accounts::get(db, &live.account_id).await?;
    let grants = wangge_store::security::grants::active_paths(db, &account.id).await?;
    Ok(Some(Principal {
        grants,
        actor: Actor::Account {
            id: account.id,
            username: account.username,
            must_change_password: account.must_change_password,
        },
        role: account.role,
        scopes: account.scopes,
        csrf_token: Some(live.csrf_token),
        reading: true,
    }))
}

/// Authenticates, then applies the route's policy, the forced password change and
/// CSRF, before the handler runs. Pages answer a refusal with a page (or, when nobody
/// is logged in, with the login page); the API with JSON.
pub async fn guard(
    State((state, table)): State<(AppState, Arc<RouteTable>)>,
    request: Request,
    next: Next,
) -> Response {
    let matched = request.extensions().get::<MatchedPath>().map(|m| m.as_str().to_owned());
    let route = matched.as_deref().and_then(|path| table.get(request.method(), path));
    let lang = crate::shared::render::Lang::from_headers(request.uri().query(), request.headers());
    let Some(route) = route.cloned() else {
        return match matched {
            // No route matched: the fallback answers 404.
            None => next.run(request).await,
            Some(path) => unrouted(&table, request.method(), &path, lang),
        };
    };
    let page = route.face == Face::Page;
    match admit(&state, &route, request).await {
        Ok(request) => next.run(request).await,
        Err(err) if page && err.status == StatusCode::UNAUTHORIZED => {
            // Residents sign in on the portal's own page, with their phone.
            let login =
                if matched.as_deref().is_some_and(|m| m.starts_with("/portal")) { "/portal/login" } else { "/login" };
            axum::response::Redirect::to(login).into_response()
        }
        Err(err) if page && err.code == "password_change_required" => {
            axum::response::Redirect::to("/password").into_response()
        }
        Err(err) if page => {
            let message = match err.code {
                // A refusal that explains itself is said; the role matrix's is the general page.
                "forbidden" if err.message.key.starts_with("party.") => err.said(lang.code),
                "forbidden" | "csrf" => crate::shared::render::tr("error.forbidden", lang.code),
                crate::shared::error::DISK_FULL => crate::shared::render::tr("error.disk_full", lang.code),
                _ => err.said(lang.code),
            };
            crate::shared::render::error_page(lang, err.status, &message)
        }
        Err(err) => err.into_response(),
    }
}

/// Most a form body may hold; forms carry a few fields.
const FORM_LIMIT: usize = 64 * 1024;

/// The CSRF token a request carries: the header, or for an HTML form the
/// `csrf_token` field (the body is read and put back for the handler).
async fn csrf_sent(request: Request) -> Result<(Request, Option<String>), ApiError> {
    if let Some(header) = request.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()) {
        let token = header.to_owned();
        return Ok((request, Some(token)));
    }
    let content_type =
        request.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    if content_type.starts_with("multipart/form-data") {
        // A file upload is not read here (it may be large): its form carries the
        // token in the action's query string instead.
        let token = request.uri().query().and_then(|q| form_urlencoded_field(q.as_bytes(), "csrf_token"));
        return Ok((request, token));
    }
    if !content_type.starts_with("application/x-www-form-urlencoded") {
        return Ok((request, None));
    }
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, FORM_LIMIT)
        .await
        .map_err(|_| ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", msg!("error.too_large")))?;
    let token = form_urlencoded_field(&bytes, "csrf_token");
    Ok((Request::from_parts(parts, axum::body::Body::from(bytes)), token))
}

fn form_urlencoded_field(body: &[u8], name: &str) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    text.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        // Tokens are hex, so they need no percent-decoding.
        (k == name).then(|| v.to_owned())
    })
}

/// A method the path does not declare: `OPTIONS` is told what is (204, no login),
/// anything else is refused with 405; both carry `Allow`. A path the router matched
/// but the table does not know was added without an access rule: refused (500).
fn unrouted(table: &RouteTable, method: &Method, path: &str, lang: crate::shared::render::Lang) -> Response {
    if !table.knows(path) {
        let error = ApiError::internal(format!("route {method} {path} was added without an access rule; refused"));
        return error.into_response();
    }
    let allow = header::HeaderValue::from_str(&table.allow(path)).expect("method names are header-safe");
    let mut response = if method == Method::OPTIONS {
        StatusCode::NO_CONTENT.into_response()
    } else if table.routes().iter().any(|r| r.path == path && r.face == Face::Page) {
        let message = crate::shared::render::tr("error.method_not_allowed", lang.code);
        crate::shared::render::error_page(lang, StatusCode::METHOD_NOT_ALLOWED, &message)
    } else {
        let message = msg!("error.method_not_allowed_api", path = path, allow = table.allow(path));
        ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", message).into_response()
    };
    response.headers_mut().insert(header::ALLOW, allow);
    response
}

async fn admit(state: &AppState, route: &Route, mut request: Request) -> Result<Request, ApiError> {
    // The browser's address and how it reached us: forwarded headers count only
    // from the trusted proxies (`shared::site`).
    let peer = request.extensions().get::<ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip());
    let reached = state.site.reached(peer, request.headers());
    request.extensions_mut().insert(ClientAddress(reached.client.clone()));
    request.extensions_mut().insert(reached);
    let access = route.access;
    let reading = matches!(*request.method(), Method::GET | Method::HEAD);
    let principal = identify(&state.db, request.headers()).await?.map(|p| Principal { reading, ..p });
    if access == Access::Public {
        if let Some(p) = principal {
            request.extensions_mut().insert(p);
        }
        return Ok(request);
    }
    let principal = principal.ok_or_else(unauthenticated)?;
    if let Access::Role(action) = access
        && !principal.role.may(action)
    {
        return Err(ApiError::forbidden(msg!("error.role_may_not").term("action", action)));
    }
    if access == Access::PartyRoll && !party_roll_open(&state.db, &principal).await? {
        return Err(ApiError::forbidden(msg!("party.error.roll_closed")));
    }
    if let Actor::Account { must_change_password: true, .. } = principal.actor
        && !ALLOWED_BEFORE_PASSWORD_CHANGE.contains(&route.path.as_str())
    {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "password_change_required",
            msg!("error.change_password_first"),
        ));
    }
    let changes_state = !matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if let (true, Some(expected)) = (changes_state, &principal.csrf_token) {
        let (back, sent) = csrf_sent(request).await?;
        request = back;
        if sent.as_deref() != Some(expected.as_str()) {
            return Err(ApiError::new(StatusCode::FORBIDDEN, "csrf", msg!("error.csrf")));
        }
    }
    request.extensions_mut().insert(principal);
    Ok(request)
}

/// Whether the caller may open the Party roll anywhere: by role, or through a
/// live grant to their account (a role that does not work with the Party registry
/// never, whatever was granted).
async fn party_roll_open(db: &Db, p: &Principal) -> Result<bool, ApiError> {
    if p.role.may(Action::ManageParty) {
        return Ok(true);
    }
    if !p.role.may(Action::ViewParty) {
        return Ok(false);
    }
    match &p.actor {
        Actor::Account { id, .. } => Ok(!wangge_store::party::access::granted_paths(db, id).await?.is_empty()),
        Actor::Token { .. } => Ok(false),
    }
}

/// Security headers on every answer: no framing, no sniffing, no referrer leaks,
/// a CSP that allows no inline script, and `Cache-Control: no-store` unless the
/// answer set its own.
pub async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    let set = |h: &mut HeaderMap, name: &'static str, value: &'static str| {
        h.insert(name, header::HeaderValue::from_static(value));
    };
    set(
        h,
        "content-security-policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    );
    set(h, "x-content-type-options", "nosniff");
    set(h, "x-frame-options", "DENY");
    set(h, "referrer-policy", "no-referrer");
    set(h, "cross-origin-opener-policy", "same-origin");
    set(h, "permissions-policy", "camera=(), microphone=(), geolocation=(self)");
    // Pages and API answers carry personal data: no browser or proxy keeps them. An
    // answer that says otherwise for itself (the stylesheet, a photo) keeps its own.
    if !h.contains_key(header::CACHE_CONTROL) {
        set(h, "cache-control", "no-store");
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use wangge_domain::Vocabulary;

    #[test]
    fn every_demand_step_route_needs_what_the_state_machine_says() {
        let table = crate::route_table();
        for step in wangge_domain::Step::all().iter().copied() {
            let path = format!("/api/v1/demands/{{id}}/{}", step.code().replace('_', "-"));
            let route = table.get(&Method::POST, &path).unwrap_or_else(|| panic!("{path} is declared"));
            assert_eq!(route.access, Access::Role(step.needs()), "{path}");
        }
    }

    fn official(scope_path: &str, grants: &[&str], reading: bool) -> Principal {
        Principal {
            actor: Actor::Token { id: "t".into(), name: "t".into() },
            role: Role::StreetOfficial,
            scopes: vec![Scope { area_id: "a".into(), code: "c".into(), name: "n".into(), path: scope_path.into() }],
            csrf_token: None,
            grants: grants.iter().map(|g| (*g).to_owned()).collect(),
            reading,
        }
    }

    #[test]
    fn grants_reach_the_neighbours_and_open_records_to_reading_only() {
        let p = official("/37/3706/370602/370602004/", &[], true);
        assert!(p.may_reach("/37/3706/370602/370602004/370602004011/"), "own subtree");
        assert!(p.may_reach("/37/3706/370602/370602005/"), "the next street in the district");
        assert!(!p.may_reach("/37/3706/370613/"), "another district is beyond reach");
        assert_eq!(parent_path("/37/"), "/");
        assert!(!official("/37/", &[], true).may_reach("/44/"), "the root is nobody's parent");

        let granted = official("/37/3706/370602/370602004/", &["/37/3706/370602/370602005/"], true);
        assert!(granted.can_see("/37/3706/370602/370602005/x/"));
        let writing = Principal { reading: false, ..granted };
        assert!(!writing.can_see("/37/3706/370602/370602005/x/"), "a grant never opens a record to change");
        assert!(writing.can_see("/37/3706/370602/370602004/x/"));
    }
}
