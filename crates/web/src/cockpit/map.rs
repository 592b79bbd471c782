//! The map (`/cockpit/map`): the scope's children (the grids of a community, the
//! communities of a street) from their stored GeoJSON boundaries, coloured by a
//! chosen figure (`?map=<figure key>`), with the buildings as dots, a legend and a
//! text list of the same values — drawn on the server as SVG, with no tile server
//! (an office may have no internet) and no JavaScript. The projection is
//! equirectangular around the drawing's centre: at a community's or a street's size
//! the distortion is far below a line's width.
//!
//! `/cockpit/boundaries` imports a community's boundaries from a GeoJSON file
//! (`wangge_store::cockpit::map::import_boundaries` checks it); `wangge boundaries`
//! does the same from the command line.

use std::fmt::Write;

use axum::extract::{Multipart, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::value::Serde;
use minijinja::{Value as Ctx, context};
use serde::{Deserialize, Serialize};
use wangge_domain::{Action, AreaLevel, AuditAction, Message, msg, now_millis};
use wangge_store::cockpit::map::{self, Polygon};
use wangge_store::cockpit::{self, Figure, FigureQuery};
use wangge_store::registry::areas::{self, Area};

use super::charts::esc;
use super::pages::{PERIODS, area_of, children_of, period_bounds, value_text, visible};
use crate::shared::audit;
use crate::shared::auth::{ClientAddress, Principal};
use crate::shared::render::{Lang, frame, render, say, tr, urlencode};
use crate::{ApiError, AppState};

/// A sequential blue scale, light to dark (ColorBrewer "Blues"), told apart without
/// colour too: every area carries its value as text on the map and in the list.
pub const SCALE: [&str; 5] = ["#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c"];
/// An area without a value (no figure, or a rate of nothing).
pub const NO_VALUE: &str = "#f0f0f0";
/// Buildings are drawn only up to this many (a community has a few hundred).
const MOST_BUILDINGS: i64 = 3000;
const W: f64 = 640.0;

/// One area on the map.
pub struct Shape {
    pub code: String,
    pub label: String,
    pub value: String,
    pub polygons: Vec<Polygon>,
    pub fill: &'static str,
    pub href: Option<String>,
}

/// `[min, max]` of every class of five equal steps between the values' extremes.
pub fn classes(values: &[f64]) -> Vec<(f64, f64)> {
    let (lo, hi) = values.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| (l.min(v), h.max(v)));
    if !lo.is_finite() {
        return Vec::new();
    }
    if hi <= lo {
        return vec![(lo, hi)];
    }
    let step = (hi - lo) / SCALE.len() as f64;
    (0..SCALE.len())
        .map(|i| (lo + step * i as f64, if i + 1 == SCALE.len() { hi } else { lo + step * (i + 1) as f64 }))
        .collect()
}

/// The class (index into `SCALE`) of `v`.
pub fn class_of(classes: &[(f64, f64)], v: f64) -> usize {
    if classes.len() == 1 {
        return SCALE.len() / 2;
    }
    classes.iter().position(|&(_, hi)| v <= hi).unwrap_or(classes.len() - 1)
}

/// Projects (longitude, latitude) onto the drawing.
struct Projection {
    west: f64,
    north: f64,
    k: f64,
    scale: f64,
    pad: f64,
}

impl Projection {
    fn new(points: impl Iterator<Item = (f64, f64)>) -> Option<(Projection, f64)> {
        let (mut w, mut e, mut s, mut n) = (f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY, f64::NEG_INFINITY);
        for (x, y) in points {
            (w, e, s, n) = (w.min(x), e.max(x), s.min(y), n.max(y));
        }
        if !w.is_finite() {
            return None;
        }
        let k = ((s + n) / 2.0).to_radians().cos();
        let (width, height) = (((e - w) * k).max(1e-6), (n - s).max(1e-6));
        let pad = 12.0;
        let scale = (W - 2.0 * pad) / width;
        let h = (height * scale + 2.0 * pad).clamp(160.0, 900.0);
        // A tall drawing is scaled down to fit its height.
        let scale = scale.min((h - 2.0 * pad) / height);
        Some((Projection { west: w, north: n, k, scale, pad }, h))
    }

    fn at(&self, (lng, lat): (f64, f64)) -> (f64, f64) {
        (self.pad + (lng - self.west) * self.k * self.scale, self.pad + (self.north - lat) * self.scale)
    }
}

fn path_of(pr: &Projection, polygons: &[Polygon]) -> String {
    let mut d = String::new();
    for polygon in polygons {
        for ring in &polygon.rings {
            for (i, &p) in ring.iter().enumerate() {
                let (x, y) = pr.at(p);
                let _ = write!(d, "{}{x:.1},{y:.1}", if i == 0 { "M" } else { "L" });
            }
            d.push('Z');
        }
    }
    d
}

/// The centre of the first outer ring's vertices (a label's place).
fn label_at(polygons: &[Polygon]) -> Option<(f64, f64)> {
    let ring = polygons.first()?.rings.first()?;
    let pts = &ring[..ring.len().saturating_sub(1).max(1)];
    let n = pts.len() as f64;
    Some((pts.iter().map(|p| p.0).sum::<f64>() / n, pts.iter().map(|p| p.1).sum::<f64>() / n))
}

/// The map as SVG: each shape a `<path class="map-area">` (one per area, inside a
/// link when it has one) with its name and value written on it, the outline of the
/// scope, and the buildings as dots.
pub fn draw(
    id: &str,
    title: &str,
    desc: &str,
    shapes: &[Shape],
    outline: &[Polygon],
    buildings: &[(f64, f64)],
) -> Option<String> {
    let vertices = shapes
        .iter()
        .flat_map(|s| s.polygons.iter())
        .chain(outline.iter())
        .flat_map(|p| p.rings.iter().flatten().copied())
        .chain(buildings.iter().copied());
    let (pr, h) = Projection::new(vertices)?;
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart map" id="{id}" viewBox="0 0 {W} {h:.0}" role="group" aria-labelledby="{id}-t {id}-d" preserveAspectRatio="xMidYMid meet"><title id="{id}-t">{}</title><desc id="{id}-d">{}</desc>"#,
        esc(title),
        esc(desc)
    );
    if !outline.is_empty() {
        let _ = write!(
            out,
            r##"<path class="map-outline" d="{}" fill="none" stroke="#1f2933" stroke-width="3" fill-rule="evenodd"/>"##,
            path_of(&pr, outline)
        );
    }
    for s in shapes {
        let path = format!(
            r##"<path class="map-area" data-code="{}" d="{}" fill="{}" fill-rule="evenodd" stroke="#1f2933" stroke-width="1.5"><title>{}: {}</title></path>"##,
            esc(&s.code),
            path_of(&pr, &s.polygons),
            s.fill,
            esc(&s.label),
            esc(&s.value)
        );
        match &s.href {
            Some(href) => {
                let _ = write!(out, r#"<a href="{}">{path}</a>"#, esc(href));
            }
            None => out.push_str(&path),
        }
    }
    for &b in buildings {
        let (x, y) = pr.at(b);
        let _ = write!(out, r##"<circle class="map-building" cx="{x:.1}" cy="{y:.1}" r="2.2" fill="#3a3a3a"/>"##);
    }
    for s in shapes {
        if let Some(at) = label_at(&s.polygons) {
            let (x, y) = pr.at(at);
            let _ = write!(
                out,
                r##"<text x="{x:.1}" y="{y:.1}" font-size="13" text-anchor="middle" fill="#111" stroke="#fff" stroke-width="3" paint-order="stroke">{}</text><text x="{x:.1}" y="{:.1}" font-size="15" font-weight="bold" text-anchor="middle" fill="#111" stroke="#fff" stroke-width="3" paint-order="stroke">{}</text>"##,
                esc(&s.label),
                y + 17.0,
                esc(&s.value)
            );
        }
    }
    out.push_str("</svg>");
    Some(out)
}

#[derive(Deserialize, Default)]
pub struct MapQuery {
    area: Option<String>,
    period: Option<String>,
    /// The figure key the areas are coloured by (`registry.residents` by default).
    map: Option<String>,
}

#[derive(Serialize)]
struct Choice {
    key: String,
    label: String,
    selected: bool,
}

#[derive(Serialize)]
struct ListRow {
    name: String,
    href: String,
    value: String,
    fill: &'static str,
    /// Whether the area has a boundary on the map.
    drawn: bool,
}

#[derive(Serialize)]
struct LegendRow {
    fill: &'static str,
    text: String,
}

fn number_text(v: f64, rate: bool) -> String {
    if rate { format!("{:.1}%", v * 100.0) } else { format!("{}", v.round() as i64) }
}

/// The map page.
pub async fn map_page(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    Query(q): Query<MapQuery>,
) -> Result<Response, ApiError> {
    let area = match area_of(&s, &p, q.area.as_deref()).await? {
        Ok(area) => area,
        Err(mine) => return Ok(super::pages::choose_area(&p, lang, &mine, "/cockpit/map")),
    };
    let period = q.period.as_deref().filter(|p| PERIODS.contains(p)).unwrap_or("month");
    let now = now_millis();
    let (from, to, _) = period_bounds(period, now);
    let path = area.as_ref().map_or_else(|| "/".to_owned(), |a| a.path.clone());
    let fq = FigureQuery { path: path.clone(), from, to, now, past: false };
    let figures: Vec<Figure> =
        cockpit::figures(&s.db, &fq).await?.into_iter().filter(|f| visible(&p, &path, f)).collect();
    let key =
        q.map.as_deref().filter(|k| figures.iter().any(|f| f.key == *k)).unwrap_or("registry.residents").to_owned();
    let chosen = cockpit::find(&figures, &key);
    let chosen_label = chosen.map_or_else(String::new, |f| say(&f.label, lang.code));
    let is_rate = matches!(chosen.map(|f| f.value), Some(cockpit::Value::Rate { .. }));

    // The areas drawn: the children, or a grid itself.
    let mut drawn: Vec<Area> = children_of(&s.db, area.as_ref()).await?;
    if drawn.is_empty() {
        drawn.extend(area.clone());
    }
    let mut values: Vec<(Area, Option<f64>, String)> = Vec::with_capacity(drawn.len());
    let queries = drawn.iter().map(|c| FigureQuery { path: c.path.clone(), from, to, now, past: false }).collect();
    // Only the chosen figure's section is computed for each area drawn.
    let section = chosen.map_or(cockpit::Section::Registry, |f| f.section);
    for (child, f) in drawn.into_iter().zip(cockpit::figures_each_in(&s.db, queries, &[section]).await?) {
        let found = cockpit::find(&f, &key).filter(|f| visible(&p, &child.path, f));
        let (number, text) = match found {
            Some(f) => (f.value.number(), value_text(&f.value).0),
            None => (None, "—".to_owned()),
        };
        values.push((child, number, text));
    }
    let numbers: Vec<f64> = values.iter().filter_map(|(_, n, _)| *n).collect();
    let classes = classes(&numbers);
    let mut shapes = Vec::new();
    let mut list = Vec::new();
    for (child, number, text) in &values {
        let fill = number.map_or(NO_VALUE, |n| SCALE[class_of(&classes, n)]);
        let polygons = map::polygons_of(child);
        let href = format!("/cockpit/map?area={}&period={period}&map={}", child.id, urlencode(&key));
        list.push(ListRow {
            name: child.name.clone(),
            href: href.clone(),
            value: text.clone(),
            fill,
            drawn: !polygons.is_empty(),
        });
        if !polygons.is_empty() {
            let href = (Some(&child.id) != area.as_ref().map(|a| &a.id)).then_some(href);
            shapes.push(Shape {
                code: child.code.clone(),
                label: child.name.clone(),
                value: text.clone(),
                polygons,
                fill,
                href,
            });
        }
    }
    list.sort_by(|a, b| a.name.cmp(&b.name));
    let mut legend: Vec<LegendRow> = if classes.len() == 1 {
        vec![LegendRow { fill: SCALE[SCALE.len() / 2], text: number_text(classes[0].0, is_rate) }]
    } else {
        classes
            .iter()
            .enumerate()
            .map(|(i, &(lo, hi))| LegendRow {
                fill: SCALE[i],
                text: format!("{} – {}", number_text(lo, is_rate), number_text(hi, is_rate)),
            })
            .collect()
    };
    if values.iter().any(|(_, n, _)| n.is_none()) {
        legend.push(LegendRow { fill: NO_VALUE, text: tr("cockpit.map.no_value", lang.code) });
    }

    // Buildings: on the map of a community or a grid.
    let (buildings, building_total) = match area.as_ref().map(|a| a.level) {
        Some(AreaLevel::Community | AreaLevel::Grid) => map::buildings_under(&s.db, &path, MOST_BUILDINGS).await?,
        _ => (Vec::new(), 0),
    };
    let dots: Vec<(f64, f64)> = buildings.iter().map(|b| (b.lng, b.lat)).collect();
    let outline = area.as_ref().map(map::polygons_of).unwrap_or_default();
    let area_name = area.as_ref().map_or_else(|| tr("cockpit.deployment", lang.code), |a| a.name.clone());
    let title = say(&msg!("cockpit.map.title", area = &area_name, figure = &chosen_label), lang.code);
    let desc = say(&msg!("cockpit.map.desc", areas = shapes.len(), buildings = dots.len()), lang.code);
    let svg = if shapes.is_empty() && outline.is_empty() {
        None
    } else {
        draw("cockpit-map", &title, &desc, &shapes, &outline, &dots)
    };
    let choices: Vec<Choice> = figures
        .iter()
        .map(|f| Choice { key: f.key.clone(), label: say(&f.label, lang.code), selected: f.key == key })
        .collect();
    // Community staff may import the boundaries of a community in their scope.
    let import_href = match area.as_ref() {
        Some(a) if a.level == AreaLevel::Community && p.role.may(Action::EditRegistry) && p.can_change(&a.path) => {
            Some(format!("/cockpit/boundaries?area={}", a.id))
        }
        _ => None,
    };
    let ctx = context! {
        area_name => area_name,
        area_id => area.as_ref().map(|a| a.id.clone()),
        period => period,
        title => title,
        svg => svg,
        key => key,
        choices => Ctx::from(Serde(&choices)),
        legend => Ctx::from(Serde(&legend)),
        list => Ctx::from(Serde(&list)),
        buildings_shown => dots.len(),
        buildings_total => building_total,
        import_href => import_href,
        back_href => format!("/cockpit?{}period={period}", area.as_ref().map_or_else(String::new, |a| format!("area={}&", a.id))),
        ..frame(&p, lang, "/cockpit"),
    };
    Ok(render(lang, StatusCode::OK, "cockpit/map.html", ctx).into_response())
}

#[derive(Deserialize, Default)]
pub struct BoundariesQuery {
    area: Option<String>,
}

/// The community whose boundaries are imported: one the caller may change.
async fn community_for(s: &AppState, p: &Principal, asked: Option<&str>) -> Result<Area, ApiError> {
    let path = p.list_path(&s.db, asked).await?.ok_or_else(|| {
        ApiError::invalid(msg!("cockpit.map.error.not_community", code = asked.unwrap_or("")).field("area"))
    })?;
    let area = areas::get_by_path(&s.db, &path).await?;
    if area.level != AreaLevel::Community {
        return Err(ApiError::invalid(msg!("cockpit.map.error.not_community", code = &area.code).field("area")));
    }
    if !p.can_change(&area.path) {
        return Err(ApiError::not_found(msg!("error.not_in_area")));
    }
    Ok(area)
}

fn boundaries_form(p: &Principal, lang: Lang, community: &Area, problems: &[Message], status: StatusCode) -> Response {
    let problems: Vec<String> = problems.iter().map(|m| say(m, lang.code)).collect();
    let ctx = context! {
        community => community.name.clone(),
        community_code => community.code.clone(),
        area_id => community.id.clone(),
        problems => problems,
        ..frame(p, lang, "/cockpit"),
    };
    render(lang, status, "cockpit/boundaries.html", ctx)
}

/// The import form.
pub async fn boundaries_page(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    Query(q): Query<BoundariesQuery>,
) -> Result<Response, ApiError> {
    let community = community_for(&s, &p, q.area.as_deref()).await?;
    Ok(boundaries_form(&p, lang, &community, &[], StatusCode::OK))
}

/// Imports the uploaded GeoJSON file: every problem shown with the feature it is
/// about, or the map with the new boundaries.
pub async fn import_boundaries(
    State(s): State<AppState>,
    lang: Lang,
    p: Principal,
    address: ClientAddress,
    Query(q): Query<BoundariesQuery>,
    mut form: Multipart,
) -> Result<Response, ApiError> {
    let community = community_for(&s, &p, q.area.as_deref()).await?;
    let mut text = None;
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|e| ApiError::bad_request(msg!("cockpit.map.error.not_json", detail = e.to_string())))?
    {
        if field.name() == Some("file") || field.file_name().is_some() {
            let bytes = field
                .bytes()
                .await
                .map_err(|e| ApiError::bad_request(msg!("cockpit.map.error.not_json", detail = e.to_string())))?;
            text = Some(String::from_utf8_lossy(&bytes).into_owned());
        }
    }
    let Some(text) = text.filter(|t| !t.trim().is_empty()) else {
        return Ok(boundaries_form(
            &p,
            lang,
            &community,
            &[msg!("cockpit.map.error.empty")],
            StatusCode::UNPROCESSABLE_ENTITY,
        ));
    };
    match map::import_boundaries(&s.db, &community, &text).await? {
        Ok(done) => {
            let summary = serde_json::json!({"community": done.community, "grids": done.grids});
            let target = audit::Target("area", &community.id, &community.path);
            audit::change(&s.db, (&p, &address), AuditAction::AreaUpdate, target, None, &summary).await?;
            Ok(Redirect::to(&format!("/cockpit/map?area={}", community.id)).into_response())
        }
        Err(problems) => Ok(boundaries_form(&p, lang, &community, &problems, StatusCode::UNPROCESSABLE_ENTITY)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square(w: f64, s: f64, e: f64, n: f64) -> Polygon {
        Polygon { rings: vec![vec![(w, s), (e, s), (e, n), (w, n), (w, s)]] }
    }

    #[test]
    fn classes_split_the_range_in_five() {
        let c = classes(&[0.0, 10.0, 5.0]);
        assert_eq!(c.len(), 5);
        assert_eq!(c[0], (0.0, 2.0));
        assert_eq!(class_of(&c, 0.0), 0);
        assert_eq!(class_of(&c, 5.0), 2);
        assert_eq!(class_of(&c, 10.0), 4);
        assert_eq!(classes(&[3.0, 3.0]).len(), 1);
        assert!(classes(&[]).is_empty());
    }

    #[test]
    fn one_path_per_area_and_a_dot_per_building() {
        let shapes: Vec<Shape> = (0..3)
            .map(|i| Shape {
                code: format!("g{i}"),
                label: format!("网格{i}"),
                value: i.to_string(),
                polygons: vec![square(121.0 + i as f64 * 0.01, 37.5, 121.01 + i as f64 * 0.01, 37.51)],
                fill: SCALE[i],
                href: Some(format!("/cockpit?area={i}")),
            })
            .collect();
        let svg = draw("m", "标题", "说明", &shapes, &[], &[(121.005, 37.505), (121.015, 37.505)]).unwrap();
        assert_eq!(svg.matches("class=\"map-area\"").count(), 3);
        assert_eq!(svg.matches("class=\"map-building\"").count(), 2);
        assert!(svg.contains("网格2") && svg.contains("role=\"group\""));
        // West is left, north is up: the first square's path starts left of the third's.
        let x_of = |code: &str| -> f64 {
            let d = svg.split(&format!("data-code=\"{code}\" d=\"M")).nth(1).unwrap();
            d.split(',').next().unwrap().parse().unwrap()
        };
        assert!(x_of("g0") < x_of("g2"));
        assert!(draw("m", "", "", &[], &[], &[]).is_none());
    }
}
