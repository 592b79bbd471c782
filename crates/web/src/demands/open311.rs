//! Open311 GeoReport v2 under `/open311/v2`: the service list and definitions from
//! the category catalogue, and service requests (our demands) to post and read, in
//! JSON or XML by the path's suffix. Field names and error bodies follow the spec
//! (<https://wiki.open311.org/GeoReport_v2/>).
//!
//! `api_key` is an API token's secret. Posting needs a role that may submit demands.
//! Reading needs no key, as the spec has it, and then shows only items of the
//! catalogue's public categories (streets, lights, sanitation by default; never care
//! of the elderly, disputes or the epidemic): their category, status, dates and
//! building, and — only for items reported after their category became public —
//! their description and photo. Never the reporter, never staff's notes or names.
//! Keyless reads are paged (100 a page, `page=`) and throttled per address. Reading
//! with a key needs a role that may view demands and shows the key's area in full,
//! as before. Services are public.

use std::collections::HashMap;

use axum::extract::{Form, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use wangge_domain::demands::CHINA;
use wangge_domain::{Action, Channel, DemandKind, DemandStatus, Vocabulary};
use wangge_store::demands::{self, Actor, Category, Demand, DemandFilter, NewDemand, attachments};
use wangge_store::security::accounts::{self, ApiToken};

use crate::AppState;
use crate::shared::site::Reached;

/// Open311 authenticates with `api_key` in the request itself (see above), so its
/// routes are public to the guard; reads and writes check the key here.
pub(crate) fn routes() -> crate::shared::routes::Routes {
    use axum::http::Method;

    use crate::shared::auth::Access::Public;
    crate::shared::routes::Routes::new()
        .machine(Method::GET, "/open311/v2/services.json", Public, services_json)
        .machine(Method::GET, "/open311/v2/services.xml", Public, services_xml)
        .machine(Method::GET, "/open311/v2/services/{id}", Public, service_definition)
        .machine(Method::GET, "/open311/v2/requests.json", Public, requests_json)
        .machine(Method::POST, "/open311/v2/requests.json", Public, post_json)
        .machine(Method::GET, "/open311/v2/requests.xml", Public, requests_xml)
        .machine(Method::POST, "/open311/v2/requests.xml", Public, post_xml)
        .machine(Method::GET, "/open311/v2/requests/{id}", Public, one_request)
        // The photo behind a request's media_url: the link's key is the permission.
        .machine(Method::GET, "/open311/v2/media/{id}", Public, media)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Xml,
}

/// Splits `name.json` / `name.xml`.
fn suffixed(name: &str) -> Result<(&str, Format), Open311Error> {
    if let Some(base) = name.strip_suffix(".json") {
        Ok((base, Format::Json))
    } else if let Some(base) = name.strip_suffix(".xml") {
        Ok((base, Format::Xml))
    } else {
        Err(Open311Error::new(404, "add .json or .xml to the path", Format::Json))
    }
}

/// An error as the spec writes it: `[{"code": 403, "description": "…"}]`.
struct Open311Error {
    status: u16,
    description: String,
    format: Format,
    /// Ask the client to wait (a throttled keyless read).
    retry_after: bool,
}

impl Open311Error {
    fn new(status: u16, description: impl Into<String>, format: Format) -> Self {
        Self { status, description: description.into(), format, retry_after: false }
    }

    fn from_store(e: wangge_store::StoreError, format: Format) -> Self {
        use wangge_store::StoreError::*;
        match e {
            // GeoReport clients are generic tools: their descriptions are in English.
            NotFound { .. } => Self::new(404, crate::shared::render::tr("error.not_found", "en"), format),
            Invalid(m) | Conflict(m) => Self::new(400, crate::say(&m, "en"), format),
            Forbidden(m) => Self::new(403, crate::say(&m, "en"), format),
            DiskFull(_) => {
                tracing::error!("open311: {e}");
                Self::new(503, crate::shared::render::tr("error.disk_full", "en"), format)
            }
            other => {
                tracing::error!("open311: {other}");
                Self::new(500, "the server could not complete the request", format)
            }
        }
    }
}

impl IntoResponse for Open311Error {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let errors = json!([{"code": self.status, "description": self.description}]);
        let mut response = (status, answer(self.format, "errors", "error", &errors)).into_response();
        if self.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from_static("60"));
        }
        response
    }
}

type Answer = Result<Response, Open311Error>;

/// A JSON array as the body, or as XML: `<root><item>…</item></root>`.
fn answer(format: Format, root: &str, item: &str, list: &Value) -> Response {
    match format {
        Format::Json => axum::Json(list.clone()).into_response(),
        Format::Xml => {
            let mut xml = format!("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<{root}>");
            for value in list.as_array().into_iter().flatten() {
                xml.push_str(&format!("<{item}>"));
                for (key, field) in value.as_object().into_iter().flatten() {
                    xml_field(&mut xml, key, field);
                }
                xml.push_str(&format!("</{item}>"));
            }
            xml.push_str(&format!("</{root}>"));
            ([(header::CONTENT_TYPE, "text/xml; charset=utf-8")], xml).into_response()
        }
    }
}

fn xml_field(xml: &mut String, key: &str, value: &Value) {
    match value {
        Value::Null => xml.push_str(&format!("<{key}/>")),
        Value::Array(items) => {
            xml.push_str(&format!("<{key}>"));
            for item in items {
                match item {
                    Value::Object(fields) => {
                        let inner = if key == "values" { "value" } else { "attribute" };
                        xml.push_str(&format!("<{inner}>"));
                        fields.iter().for_each(|(k, v)| xml_field(xml, k, v));
                        xml.push_str(&format!("</{inner}>"));
                    }
                    other => xml_field(xml, "keyword", other),
                }
            }
            xml.push_str(&format!("</{key}>"));
        }
        Value::String(s) => xml.push_str(&format!("<{key}>{}</{key}>", escape(s))),
        other => xml.push_str(&format!("<{key}>{other}</{key}>")),
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&apos;")
}

fn service(c: &Category) -> Value {
    let consultation = c.code == "policy";
    json!({
        "service_code": c.code,
        "service_name": c.name_zh,
        "description": format!("{} ({}); 受理时限 {} 个工作日，办结时限 {} 个工作日", c.name_zh, c.name_en, c.accept_days, c.resolve_days),
        "metadata": true,
        "type": "realtime",
        "keywords": if consultation { "咨询,consultation" } else { "" },
        "group": c.level.label_zh(),
    })
}

async fn services(s: &AppState, format: Format) -> Answer {
    let all = demands::categories(&s.db).await.map_err(|e| Open311Error::from_store(e, format))?;
    let list: Vec<Value> = all.iter().filter(|c| c.active).map(service).collect();
    Ok(answer(format, "services", "service", &Value::Array(list)))
}

async fn services_json(State(s): State<AppState>) -> Answer {
    services(&s, Format::Json).await
}

async fn services_xml(State(s): State<AppState>) -> Answer {
    services(&s, Format::Xml).await
}

/// The attributes every service takes: the kind of demand and the reporter's name
/// (the phone is the spec's own `phone` field).
async fn service_definition(State(s): State<AppState>, Path(name): Path<String>) -> Answer {
    let (code, format) = suffixed(&name)?;
    let c = demands::category(&s.db, code).await.map_err(|e| Open311Error::from_store(e, format))?;
    let kinds: Vec<Value> = DemandKind::all().iter().map(|k| json!({"key": k.code(), "name": k.label_zh()})).collect();
    let definition = json!({
        "service_code": c.code,
        "attributes": [
            {"variable": true, "code": "kind", "datatype": "singlevaluelist", "required": false,
             "datatype_description": "求助、投诉、问题反映、建议或咨询", "order": 1, "description": "诉求类型", "values": kinds},
        ],
    });
    match format {
        Format::Json => Ok(axum::Json(definition).into_response()),
        Format::Xml => {
            let mut xml = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<service_definition>");
            for (k, v) in definition.as_object().into_iter().flatten() {
                xml_field(&mut xml, k, v);
            }
            xml.push_str("</service_definition>");
            Ok(([(header::CONTENT_TYPE, "text/xml; charset=utf-8")], xml).into_response())
        }
    }
}

/// The token behind `api_key`, if it may take `action`.
async fn authorised(
    s: &AppState,
    key: Option<&String>,
    action: Action,
    format: Format,
) -> Result<ApiToken, Open311Error> {
    let key = key.map(|k| k.trim()).filter(|k| !k.is_empty());
    let key = key.ok_or_else(|| Open311Error::new(403, "api_key is required", format))?;
    // Remembered for up to 2 s, like bearer tokens (store::cache).
    let token = accounts::verified_token(&s.db, key).await.map_err(|e| Open311Error::from_store(e, format))?;
    let token = token.map(|(token, _grants)| token);
    let token = token.ok_or_else(|| Open311Error::new(403, "api_key is unknown, expired or revoked", format))?;
    if !token.role.may(action) {
        return Err(Open311Error::new(403, format!("this api_key may not {}", action.code()), format));
    }
    Ok(token)
}

async fn post_json(State(s): State<AppState>, Form(f): Form<HashMap<String, String>>) -> Answer {
    post(&s, f, Format::Json).await
}

async fn post_xml(State(s): State<AppState>, Form(f): Form<HashMap<String, String>>) -> Answer {
    post(&s, f, Format::Xml).await
}

fn number(f: &HashMap<String, String>, name: &str, format: Format) -> Result<Option<f64>, Open311Error> {
    match f.get(name).map(|v| v.trim()).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => {
            v.parse().map(Some).map_err(|_| Open311Error::new(400, format!("{name} '{v}' is not a number"), format))
        }
    }
}

/// POST a service request: a demand through the Open311 channel.
async fn post(s: &AppState, f: HashMap<String, String>, format: Format) -> Answer {
    let token = authorised(s, f.get("api_key"), Action::SubmitDemand, format).await?;
    let field = |name: &str| f.get(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    let code = field("service_code").ok_or_else(|| Open311Error::new(400, "service_code is required", format))?;
    let (lat, lng) = (number(&f, "lat", format)?, number(&f, "long", format)?);
    let address_id = field("address_id");
    if lat.is_none() && field("address_string").is_none() && address_id.is_none() {
        return Err(Open311Error::new(
            400,
            "a location is required: lat and long, address_string or address_id",
            format,
        ));
    }
    let description = field("description").unwrap_or_default();
    let category = demands::category(&s.db, &code)
        .await
        .map_err(|_| Open311Error::new(404, format!("no service {code}"), format))?;
    let kind = match field("attribute[kind]") {
        Some(k) => Some(DemandKind::parse(&k).map_err(|e| Open311Error::new(400, e.to_string(), format))?),
        None => None,
    };
    let name = [field("last_name"), field("first_name")].into_iter().flatten().collect::<Vec<_>>().join("");
    let new = NewDemand {
        // address_id is one of our building ids; without it the item lies at the token's area.
        building_id: address_id,
        area: Some(token.scope.area_id.clone()),
        category: category.code.clone(),
        kind,
        channel: Some(Channel::Open311),
        title: if description.is_empty() { category.name_zh.clone() } else { description.chars().take(30).collect() },
        description,
        address: field("address_string"),
        lat,
        lng,
        reporter_name: (!name.is_empty()).then_some(name),
        reporter_phone: field("phone"),
        ..Default::default()
    };
    // A building (address_id) outside the key's area is answered as an unknown one.
    let sees = |path: &str| path.starts_with(&token.scope.path);
    let place = demands::locate(&s.db, &new, sees).await.map_err(|e| Open311Error::from_store(e, format))?;
    let by = Actor { id: Some(token.id.clone()), name: format!("token:{}", token.name), role: token.role };
    let store = |e| Open311Error::from_store(e, format);
    let intake = demands::prepare(&s.db, new, place, &by, None).await.map_err(store)?;
    let d = demands::submit(&s.db, intake, |_| None).await.map_err(store)?;
    let notice = format!("已收到，{}前受理", datetime(d.accept_due));
    let body = json!([{"service_request_id": d.id, "service_notice": notice, "account_id": null}]);
    Ok(answer(format, "service_requests", "request", &body))
}

/// Unix ms as ISO 8601 in China time, as the spec's datetimes are written.
fn datetime(millis: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
        .map(|t| t.to_offset(CHINA).format(&Rfc3339).unwrap_or_default())
        .unwrap_or_default()
}

fn parse_datetime(value: &str, name: &str, format: Format) -> Result<i64, Open311Error> {
    let t = OffsetDateTime::parse(value.trim(), &Rfc3339).map_err(|_| {
        Open311Error::new(400, format!("{name} '{value}' is not a w3 datetime (2025-10-01T08:00:00+08:00)"), format)
    })?;
    Ok((t.unix_timestamp_nanos() / 1_000_000) as i64)
}

/// The request as the spec names its fields, filled from our own state.
fn request(d: &Demand, service_name: &str, notes: &str, media_url: Option<String>) -> Value {
    json!({
        "service_request_id": d.id,
        "status": if d.status.is_open() { "open" } else { "closed" },
        "status_notes": if notes.is_empty() { d.status.label_zh() } else { notes },
        "service_name": service_name,
        "service_code": d.category,
        "description": d.description,
        "agency_responsible": d.handler_name.clone().unwrap_or_else(|| d.level.label_zh().to_owned()),
        "service_notice": "",
        "requested_datetime": datetime(d.created_at),
        "updated_datetime": datetime(d.updated_at),
        "expected_datetime": datetime(d.due),
        "address": d.address,
        "address_id": d.building_id,
        "zipcode": null,
        "lat": d.lat,
        "long": d.lng,
        "media_url": media_url,
    })
}

/// The key of a photo's link: links are given only to api_key holders who may see
/// the item, and work without one (as the spec's `media_url` must), so the link
/// itself is the permission — 128 bits of HMAC under the server's key.
fn media_key(s: &AppState, attachment_id: &str) -> String {
    s.db.vault.blind("open311_media", attachment_id).chars().take(32).collect()
}

/// Who reads: an api_key's holder (its area, everything in it), or anyone (public
/// categories only, see the module's notes).
enum Reader {
    Key(ApiToken),
    Public(PublicCategories),
}

/// The public categories by code, with when each became public.
type PublicCategories = HashMap<String, i64>;

/// Most items a keyless read returns (a page; `page=` for the next).
const PUBLIC_PAGE: i64 = 100;

/// Keyless reads one address may make per minute.
pub(crate) const PUBLIC_READS_PER_MINUTE: u32 = 60;

/// Counts keyless reads per address in a minute from its first (in memory: each
/// server counts its own share).
#[derive(Debug, Default)]
pub struct KeylessReads {
    counts: std::sync::Mutex<HashMap<String, (i64, u32)>>,
}

impl KeylessReads {
    /// Counts one read from `address`; false when it is over the limit.
    fn admit(&self, address: &str, now_ms: i64) -> bool {
        let fresh = |started: i64| now_ms - started < 60_000;
        let mut counts = self.counts.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if counts.len() > 10_000 {
            counts.retain(|_, (started, _)| fresh(*started));
        }
        let entry = counts.entry(address.to_owned()).or_insert((now_ms, 0));
        if !fresh(entry.0) {
            *entry = (now_ms, 0);
        }
        entry.1 += 1;
        entry.1 <= PUBLIC_READS_PER_MINUTE
    }
}

async fn reader(
    s: &AppState,
    q: &HashMap<String, String>,
    address: &str,
    format: Format,
) -> Result<Reader, Open311Error> {
    if q.get("api_key").is_some_and(|k| !k.trim().is_empty()) {
        return authorised(s, q.get("api_key"), Action::ViewDemands, format).await.map(Reader::Key);
    }
    if !s.keyless.admit(address, wangge_domain::now_millis()) {
        let mut refused = Open311Error::new(429, "too many requests without an api_key; wait a minute", format);
        refused.retry_after = true;
        return Err(refused);
    }
    let all = demands::categories(&s.db).await.map_err(|e| Open311Error::from_store(e, format))?;
    Ok(Reader::Public(all.into_iter().filter_map(|c| Some((c.code, c.public_since?))).collect()))
}

impl Reader {
    /// Whether this reader may see the item at all.
    fn sees(&self, d: &Demand) -> bool {
        match self {
            Reader::Key(token) => d.path.starts_with(&token.scope.path),
            Reader::Public(public) => public.contains_key(&d.category),
        }
    }
}

/// The item as anyone may read it: no reporter, no notes, no handler's name, the
/// building's address and position rather than the reporter's; the description and
/// photo only when its category was public when it was reported.
fn public_request(
    d: &Demand,
    service_name: &str,
    since: i64,
    building: Option<&wangge_store::registry::buildings::Building>,
    media_url: Option<String>,
) -> Value {
    let told = d.created_at >= since;
    let address =
        building.map(|b| b.address.clone().unwrap_or_else(|| format!("{}号楼", b.number.trim_end_matches("号楼"))));
    json!({
        "service_request_id": d.id,
        "status": if d.status.is_open() { "open" } else { "closed" },
        "status_notes": d.status.label_zh(),
        "service_name": service_name,
        "service_code": d.category,
        "description": if told { Value::from(d.description.clone()) } else { Value::Null },
        "agency_responsible": d.level.label_zh(),
        "service_notice": "",
        "requested_datetime": datetime(d.created_at),
        "updated_datetime": datetime(d.updated_at),
        "expected_datetime": datetime(d.due),
        "address": address,
        "address_id": d.building_id,
        "zipcode": null,
        "lat": building.and_then(|b| b.lat),
        "long": building.and_then(|b| b.lng),
        "media_url": if told { media_url } else { None },
    })
}

async fn requests_as_spec(
    s: &AppState,
    reached: &Reached,
    reader: &Reader,
    items: &[Demand],
    format: Format,
) -> Result<Value, Open311Error> {
    let store = |e| Open311Error::from_store(e, format);
    let names: HashMap<String, String> =
        demands::categories(&s.db).await.map_err(store)?.into_iter().map(|c| (c.code, c.name_zh)).collect();
    let ids: Vec<&str> = items.iter().map(|d| d.id.as_str()).collect();
    let photos = attachments::first_photos(&s.db, &ids).await.map_err(store)?;
    let base = &reached.base;
    let media = |d: &Demand| photos.get(&d.id).map(|a| format!("{base}/open311/v2/media/{a}?k={}", media_key(s, a)));
    let name = |d: &Demand| names.get(&d.category).map_or("", String::as_str).to_owned();
    let list = match reader {
        Reader::Key(_) => {
            let notes = demands::latest_notes(&s.db, &ids).await.map_err(store)?;
            items.iter().map(|d| request(d, &name(d), notes.get(&d.id).map_or("", String::as_str), media(d))).collect()
        }
        Reader::Public(public) => {
            let mut buildings = HashMap::new();
            for id in items.iter().filter_map(|d| d.building_id.as_deref()) {
                if !buildings.contains_key(id) {
                    let b = wangge_store::registry::buildings::get(&s.db, id).await.map_err(store)?;
                    buildings.insert(id.to_owned(), b);
                }
            }
            items
                .iter()
                .map(|d| {
                    let since = public.get(&d.category).copied().unwrap_or(i64::MAX);
                    let building = d.building_id.as_deref().and_then(|b| buildings.get(b));
                    public_request(d, &name(d), since, building, media(d))
                })
                .collect()
        }
    };
    Ok(Value::Array(list))
}

#[derive(serde::Deserialize)]
struct MediaQuery {
    k: Option<String>,
}

/// A request's photo, behind the keyed link its `media_url` gives.
async fn media(State(s): State<AppState>, Path(id): Path<String>, Query(q): Query<MediaQuery>) -> Response {
    let given = q.k.unwrap_or_default();
    let want = media_key(&s, &id);
    // Compared in constant time: the key is the only guard.
    let same = given.len() == want.len() && given.bytes().zip(want.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0;
    let not_found = || (StatusCode::NOT_FOUND, "no such media").into_response();
    if !same {
        return not_found();
    }
    let (Ok(file), Ok(bytes)) = (attachments::get(&s.db, &id).await, attachments::content(&s.db, &id).await) else {
        return not_found();
    };
    if !file.content_type.starts_with("image/") {
        return not_found();
    }
    let headers = [
        (header::CONTENT_TYPE, file.content_type),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
        (header::CACHE_CONTROL, "private, max-age=86400".to_owned()),
    ];
    (headers, bytes).into_response()
}

async fn requests_json(
    State(s): State<AppState>,
    reached: Reached,
    Query(q): Query<HashMap<String, String>>,
) -> Answer {
    list(&s, &reached, q, Format::Json).await
}

async fn requests_xml(State(s): State<AppState>, reached: Reached, Query(q): Query<HashMap<String, String>>) -> Answer {
    list(&s, &reached, q, Format::Xml).await
}

/// Most requests one GET with a key returns, and the window it covers by default
/// (the spec's).
const MAX_REQUESTS: i64 = 1000;
const DEFAULT_DAYS: i64 = 90;

/// GET requests: by ids, or by service, status and period (default: the last 90
/// days), newest first; at most 1,000 with a key, a page of 100 without.
async fn list(s: &AppState, reached: &Reached, q: HashMap<String, String>, format: Format) -> Answer {
    let reader = reader(s, &q, &reached.client, format).await?;
    let field = |name: &str| q.get(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    let store = |e| Open311Error::from_store(e, format);
    if let Some(ids) = field("service_request_id") {
        let mut found = Vec::new();
        for id in ids.split(',').map(str::trim).filter(|i| !i.is_empty()).take(PUBLIC_PAGE as usize) {
            match demands::get(&s.db, id).await {
                Ok(d) if reader.sees(&d) => found.push(d),
                Ok(_) | Err(wangge_store::StoreError::NotFound { .. }) => {}
                Err(e) => return Err(store(e)),
            }
        }
        let list = requests_as_spec(s, reached, &reader, &found, format).await?;
        return Ok(answer(format, "service_requests", "request", &list));
    }
    let now = wangge_domain::now_millis();
    let end = field("end_date").map(|v| parse_datetime(&v, "end_date", format)).transpose()?;
    let start = field("start_date").map(|v| parse_datetime(&v, "start_date", format)).transpose()?;
    let (start, end) = match (start, end) {
        (Some(a), Some(b)) => (a, b),
        (Some(a), None) => (a, a + DEFAULT_DAYS * 86_400_000),
        (None, Some(b)) => (b - DEFAULT_DAYS * 86_400_000, b),
        (None, None) => (now - DEFAULT_DAYS * 86_400_000, now + 1),
    };
    let status = match field("status").as_deref() {
        None => Vec::new(),
        Some("open") => DemandStatus::open(),
        Some("closed") => DemandStatus::all().iter().copied().filter(|s| !s.is_open()).collect(),
        Some(other) => return Err(Open311Error::new(400, format!("status '{other}' must be open or closed"), format)),
    };
    let mut filter = DemandFilter {
        category: field("service_code"),
        status,
        from: Some(start),
        to: Some(end),
        ..Default::default()
    };
    let items = match &reader {
        Reader::Key(token) => {
            filter.under_path = Some(token.scope.path.clone());
            demands::between(&s.db, &filter, MAX_REQUESTS).await.map_err(store)?
        }
        Reader::Public(public) => {
            filter.categories = public.keys().cloned().collect();
            let page = match field("page") {
                None => 1,
                Some(p) => p.parse::<i64>().ok().filter(|p| (1..=10_000).contains(p)).ok_or_else(|| {
                    Open311Error::new(400, format!("page '{p}' must be a number from 1 to 10000"), format)
                })?,
            };
            if filter.categories.is_empty() {
                Vec::new()
            } else {
                demands::between_from(&s.db, &filter, PUBLIC_PAGE, (page - 1) * PUBLIC_PAGE).await.map_err(store)?
            }
        }
    };
    let list = requests_as_spec(s, reached, &reader, &items, format).await?;
    Ok(answer(format, "service_requests", "request", &list))
}

/// GET one request (an array of one, as the spec has it). An id the reader may not
/// see is answered as one that does not exist.
async fn one_request(
    State(s): State<AppState>,
    reached: Reached,
    Path(name): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Answer {
    let (id, format) = suffixed(&name)?;
    let reader = reader(&s, &q, &reached.client, format).await?;
    let unknown = || Open311Error::new(404, format!("service request {id} was not found"), format);
    let d = match demands::get(&s.db, id).await {
        Ok(d) if reader.sees(&d) => d,
        Ok(_) | Err(wangge_store::StoreError::NotFound { .. }) => return Err(unknown()),
        Err(e) => return Err(Open311Error::from_store(e, format)),
    };
    let one = requests_as_spec(&s, &reached, &reader, std::slice::from_ref(&d), format).await?;
    Ok(answer(format, "service_requests", "request", &one))
}

#[cfg(test)]
mod tests {
    #[test]
    fn xml_is_escaped() {
        let body = super::answer(
            super::Format::Xml,
            "errors",
            "error",
            &serde_json::json!([{"code": 400, "description": "a<b & \"c\""}]),
        );
        assert_eq!(body.status(), 200);
        assert_eq!(super::escape("<&>"), "&lt;&amp;&gt;");
    }
}
