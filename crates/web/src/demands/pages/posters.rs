//! The buildings' QR posters, one building or a grid's at once, one to a page.

use super::*;
use wangge_store::Thing;

/// The key in a building's QR link: without it the report form does not open, so
/// that building ids cannot be walked to post reports anywhere.
/// A QR code of `url` as inline SVG, at least `size` pixels square (posters, the
/// grid's board).
pub(crate) fn qr_svg(url: &str, size: u32) -> Result<String, ApiError> {
    let code = qrcode::QrCode::new(url.as_bytes()).map_err(|e| ApiError::internal(format!("QR code of {url}: {e}")))?;
    Ok(code.render::<qrcode::render::svg::Color>().min_dimensions(size, size).quiet_zone(true).build())
}

pub(crate) fn poster_key(s: &AppState, building_id: &str) -> String {
    s.db.vault.blind("building_poster", building_id).chars().take(16).collect()
}

/// A printable A4 poster for a building's stairwell: what to report and a QR code
/// that opens the report form for this building, no account needed.
pub async fn poster(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    reached: crate::shared::site::Reached,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let building = p.refer(buildings::get(&s.db, &id).await, Thing::Building, &id, |r| &r.path)?;
    let url = format!("{}/report/{}?k={}", reached.base, building.id, poster_key(&s, &building.id));
    let svg = qr_svg(&url, 280)?;
    let grid_url = item::code_of(building.path.clone()).map(|code| format!("{}/g/{code}", reached.base));
    let ctx = context! {
        building => Value::from(Serde(&building)), url => url, svg => Value::from_safe_string(svg), grid_url => grid_url,
        title => tr("building.number", lang.code).replace("%{number}", &building.number),
        ..frame(&p, lang, "/registry"),
    };
    Ok(render(lang, StatusCode::OK, "demands/poster.html", ctx))
}

/// Most posters one page prints: a grid's buildings (a community's would be a
/// stack of paper better printed grid by grid).
pub(super) const POSTERS_AT_MOST: i64 = 300;

#[derive(Serialize)]
pub(super) struct PosterView {
    title: String,
    address: Option<String>,
    url: String,
    svg: String,
    /// The grid's public page (who looks after this building, the hotline).
    grid_url: Option<String>,
}

/// Every building's poster of a grid, one to a printed page.
pub async fn grid_posters(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    reached: crate::shared::site::Reached,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let area = p.refer(areas::get(&s.db, &id).await, Thing::Area, &id, |r| &r.path)?;
    let filter = buildings::BuildingFilter { under_path: Some(area.path.clone()), ..Default::default() };
    let page = buildings::list(&s.db, &filter, PageRequest::new(Some(1), Some(POSTERS_AT_MOST as u32))).await?;
    if page.total > POSTERS_AT_MOST {
        let why = wangge_domain::msg!("demands.error.posters_many", area = &area.name, count = page.total);
        return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "too_many", why));
    }
    let base = &reached.base;
    let mut posters = Vec::with_capacity(page.items.len());
    for b in page.items {
        let url = format!("{base}/report/{}?k={}", b.id, poster_key(&s, &b.id));
        let svg = qr_svg(&url, 280)?;
        let title = tr("building.number", lang.code).replace("%{number}", &b.number);
        let grid_url = item::code_of(b.path.clone()).map(|code| format!("{base}/g/{code}"));
        posters.push(PosterView { title, address: b.address, url, svg, grid_url });
    }
    let ctx = context! {
        area => Value::from(Serde(&area)), posters => Value::from(Serde(&posters)),
        ..frame(&p, lang, "/registry"),
    };
    Ok(render(lang, StatusCode::OK, "demands/posters.html", ctx))
}
