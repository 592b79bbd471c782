//! The map's data: the boundaries of areas (GeoJSON geometry in `areas.boundary`)
//! and the coordinates of buildings, and the checked import of a community's grid
//! boundaries from a GeoJSON FeatureCollection.
//!
//! GeoJSON is read with `serde_json` (RFC 7946: positions are `[longitude, latitude]`,
//! a polygon is a list of linear rings, the first the outer one; a ring is closed —
//! its first and last positions equal — and has at least four positions). Only
//! `Polygon` and `MultiPolygon` geometries are boundaries.

use serde_json::{Value as Json, json};
use sqlx::Row;
use wangge_domain::{AreaLevel, Message, msg};

use crate::conditions::Conditions;
use crate::registry::areas::{self, Area};
use crate::{Db, StoreResult};

/// A position: (longitude, latitude).
pub type Position = (f64, f64);

/// One polygon: its outer ring first, then its holes.
#[derive(Clone, Debug, PartialEq)]
pub struct Polygon {
    pub rings: Vec<Vec<Position>>,
}

impl Polygon {
    /// Whether `p` lies inside the outer ring (on its edge counts as inside) and in
    /// no hole.
    pub fn contains(&self, p: Position) -> bool {
        let Some(outer) = self.rings.first() else { return false };
        if on_ring(outer, p) {
            return true;
        }
        ring_contains(outer, p) && !self.rings[1..].iter().any(|hole| ring_contains(hole, p) && !on_ring(hole, p))
    }
}

/// Ray casting: whether `p` is strictly inside the closed `ring`.
fn ring_contains(ring: &[Position], p: Position) -> bool {
    let mut inside = false;
    for w in ring.windows(2) {
        let ((x1, y1), (x2, y2)) = (w[0], w[1]);
        if (y1 > p.1) != (y2 > p.1) {
            let x = x1 + (p.1 - y1) * (x2 - x1) / (y2 - y1);
            if p.0 < x {
                inside = !inside;
            }
        }
    }
    inside
}

/// Whether `p` lies on an edge of `ring` (within about a centimetre).
fn on_ring(ring: &[Position], p: Position) -> bool {
    const EPS: f64 = 1e-7;
    ring.windows(2).any(|w| {
        let ((x1, y1), (x2, y2)) = (w[0], w[1]);
        let (dx, dy) = (x2 - x1, y2 - y1);
        let len2 = dx * dx + dy * dy;
        let t = if len2 == 0.0 { 0.0 } else { (((p.0 - x1) * dx + (p.1 - y1) * dy) / len2).clamp(0.0, 1.0) };
        let (cx, cy) = (x1 + t * dx, y1 + t * dy);
        (p.0 - cx).abs() <= EPS && (p.1 - cy).abs() <= EPS
    })
}

/// Whether every vertex of `inner` lies within one of `outer`'s polygons.
pub fn within(inner: &[Polygon], outer: &[Polygon]) -> bool {
    inner.iter().flat_map(|p| p.rings.first().into_iter().flatten()).all(|&v| outer.iter().any(|o| o.contains(v)))
}

/// Why a geometry is not a boundary (said with the feature it belongs to).
#[derive(Clone, Debug, PartialEq)]
pub enum GeometryError {
    /// Not a `Polygon` or `MultiPolygon`.
    NotAPolygon,
    /// A position is not two finite numbers within ±180 / ±90.
    BadPosition,
    /// A ring with fewer than four positions.
    ShortRing,
    /// A ring whose last position is not its first.
    OpenRing,
}

impl GeometryError {
    fn key(&self) -> &'static str {
        match self {
            GeometryError::NotAPolygon => "cockpit.map.error.not_a_polygon",
            GeometryError::BadPosition => "cockpit.map.error.bad_position",
            GeometryError::ShortRing => "cockpit.map.error.short_ring",
            GeometryError::OpenRing => "cockpit.map.error.open_ring",
        }
    }
}

fn ring(v: &Json) -> Result<Vec<Position>, GeometryError> {
    let positions = v.as_array().ok_or(GeometryError::BadPosition)?;
    let mut out = Vec::with_capacity(positions.len());
    for p in positions {
        let pair = p.as_array().ok_or(GeometryError::BadPosition)?;
        let (Some(lng), Some(lat)) = (pair.first().and_then(Json::as_f64), pair.get(1).and_then(Json::as_f64)) else {
            return Err(GeometryError::BadPosition);
        };
        if !(lng.is_finite() && lat.is_finite() && lng.abs() <= 180.0 && lat.abs() <= 90.0) {
            return Err(GeometryError::BadPosition);
        }
        out.push((lng, lat));
    }
    if out.len() < 4 {
        return Err(GeometryError::ShortRing);
    }
    if out.first() != out.last() {
        return Err(GeometryError::OpenRing);
    }
    Ok(out)
}

fn polygon(v: &Json) -> Result<Polygon, GeometryError> {
    let rings = v.as_array().ok_or(GeometryError::NotAPolygon)?;
    if rings.is_empty() {
        return Err(GeometryError::ShortRing);
    }
    Ok(Polygon { rings: rings.iter().map(ring).collect::<Result<_, _>>()? })
}

/// The polygons of a GeoJSON geometry (`Polygon` or `MultiPolygon`), checked.
pub fn parse_geometry(geometry: &Json) -> Result<Vec<Polygon>, GeometryError> {
    let coordinates = &geometry["coordinates"];
    match geometry["type"].as_str() {
        Some("Polygon") => Ok(vec![polygon(coordinates)?]),
        Some("MultiPolygon") => {
            let parts = coordinates.as_array().ok_or(GeometryError::NotAPolygon)?;
            if parts.is_empty() {
                return Err(GeometryError::NotAPolygon);
            }
            parts.iter().map(polygon).collect()
        }
        _ => Err(GeometryError::NotAPolygon),
    }
}

/// A stored boundary's polygons; none when absent or not a polygon (an older value).
pub fn polygons_of(area: &Area) -> Vec<Polygon> {
    let Some(b) = &area.boundary else { return Vec::new() };
    // A stored Feature is read as its geometry.
    let geometry = if b["type"] == "Feature" { &b["geometry"] } else { b };
    parse_geometry(geometry).unwrap_or_default()
}

/// A GeoJSON `Polygon` geometry of one ring.
pub fn ring_geometry(ring: &[Position]) -> Json {
    let coordinates: Vec<[f64; 2]> = ring.iter().map(|&(x, y)| [x, y]).collect();
    json!({"type": "Polygon", "coordinates": [coordinates]})
}

/// A building on the map.
#[derive(Clone, Debug, PartialEq)]
pub struct MapBuilding {
    pub id: String,
    pub grid_id: String,
    pub number: String,
    pub lng: f64,
    pub lat: f64,
}

/// The buildings with coordinates at or under `path`, at most `limit` (in path and
/// number order), and how many there are in all.
pub async fn buildings_under(db: &Db, path: &str, limit: i64) -> StoreResult<(Vec<MapBuilding>, i64)> {
    let mut c = Conditions::default();
    c.under_path("path", path);
    c.push("lat IS NOT NULL AND lng IS NOT NULL".into());
    let total: i64 =
        c.scalar(format!("SELECT COUNT(*) FROM buildings {}", c.where_clause())).fetch_one(&db.pool).await?;
    let limit_at = c.int(limit);
    let sql = format!(
        "SELECT id, grid_id, number, lat, lng FROM buildings {} ORDER BY path, number LIMIT {limit_at}",
        c.where_clause()
    );
    let rows = c.query(sql).fetch_all(&db.pool).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        out.push(MapBuilding {
            id: row.try_get("id")?,
            grid_id: row.try_get("grid_id")?,
            number: row.try_get("number")?,
            lat: row.try_get("lat")?,
            lng: row.try_get("lng")?,
        });
    }
    Ok((out, total))
}

/// What an import of boundaries changed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BoundaryImport {
    /// Whether the community's own boundary was in the file.
    pub community: bool,
    /// The codes of the grids given a boundary, in file order.
    pub grids: Vec<String>,
}

/// The feature a problem is about, as errors name it: its number in the file (from
/// 1) and its code or name when it has one.
fn feature_name(i: usize, feature: &Json) -> String {
    let props = &feature["properties"];
    let label = ["code", "grid_code", "name"].iter().find_map(|k| match &props[*k] {
        Json::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Json::Number(n) => Some(n.to_string()),
        _ => None,
    });
    match label {
        Some(label) => format!("#{} ({label})", i + 1),
        None => format!("#{}", i + 1),
    }
}

/// Reads a FeatureCollection of boundaries for `community`: a feature whose
/// `properties.code` (or `grid_code`) is one of its grids' codes sets that grid's
/// boundary; one with the community's own code sets the community's. Every ring
/// must be closed, and every grid must lie within the community's boundary (the one
/// in the file, else the stored one; a community with neither is refused). Nothing
/// is written unless every feature is right: the answer is then every problem, each
/// naming its feature.
pub async fn import_boundaries(
    db: &Db,
    community: &Area,
    text: &str,
) -> StoreResult<Result<BoundaryImport, Vec<Message>>> {
    let fail = |m: Message| Ok(Err(vec![m]));
    if community.level != AreaLevel::Community {
        return fail(msg!("cockpit.map.error.not_community", code = &community.code));
    }
    let doc: Json = match serde_json::from_str(text.trim_start_matches('\u{feff}')) {
        Ok(doc) => doc,
        Err(e) => return fail(msg!("cockpit.map.error.not_json", detail = e.to_string())),
    };
    let features = match (doc["type"].as_str(), doc["features"].as_array()) {
        (Some("FeatureCollection"), Some(features)) => features.clone(),
        (Some("Feature"), _) => vec![doc.clone()],
        _ => return fail(msg!("cockpit.map.error.not_collection")),
    };
    if features.is_empty() {
        return fail(msg!("cockpit.map.error.empty"));
    }
    let grids = areas::children(db, &community.id).await?;
    let mut problems = Vec::new();
    let mut community_boundary: Option<(Json, Vec<Polygon>)> = None;
    let mut grid_boundaries: Vec<(String, String, Json, Vec<Polygon>)> = Vec::new(); // (feature, code, geometry, polygons)
    for (i, feature) in features.iter().enumerate() {
        let name = feature_name(i, feature);
        let props = &feature["properties"];
        let code = ["code", "grid_code"].iter().find_map(|k| match &props[*k] {
            Json::String(s) => Some(s.trim().to_owned()),
            Json::Number(n) => Some(n.to_string()),
            _ => None,
        });
        let Some(code) = code.filter(|c| !c.is_empty()) else {
            problems.push(msg!("cockpit.map.error.no_code", feature = &name));
            continue;
        };
        let is_community = code == community.code;
        if !is_community && !grids.iter().any(|g| g.code == code) {
            problems.push(msg!(
                "cockpit.map.error.unknown_grid",
                feature = &name,
                code = &code,
                community = &community.name
            ));
            continue;
        }
        let geometry = &feature["geometry"];
        let polygons = match parse_geometry(geometry) {
            Ok(p) => p,
            Err(e) => {
                problems.push(Message::new(e.key()).arg("feature", &name));
                continue;
            }
        };
        if is_community {
            if community_boundary.is_some() {
                problems.push(msg!("cockpit.map.error.twice", feature = &name, code = &code));
            }
            community_boundary = Some((geometry.clone(), polygons));
        } else if grid_boundaries.iter().any(|(_, c, _, _)| *c == code) {
            problems.push(msg!("cockpit.map.error.twice", feature = &name, code = &code));
        } else {
            grid_boundaries.push((name, code, geometry.clone(), polygons));
        }
    }
    let outline = match &community_boundary {
        Some((_, polygons)) => polygons.clone(),
        None => polygons_of(community),
    };
    if outline.is_empty() && !grid_boundaries.is_empty() {
        problems.push(msg!("cockpit.map.error.no_community_boundary", code = &community.code));
    } else {
        for (name, code, _, polygons) in &grid_boundaries {
            if !within(polygons, &outline) {
                problems.push(msg!("cockpit.map.error.outside", feature = name, code = code));
            }
        }
    }
    if !problems.is_empty() {
        return Ok(Err(problems));
    }
    let now = wangge_domain::now_millis();
    let mut tx = db.pool.begin().await?;
    let mut done = BoundaryImport::default();
    if let Some((geometry, _)) = &community_boundary {
        set_boundary(&mut tx, &community.id, geometry, now).await?;
        done.community = true;
    }
    for (_, code, geometry, _) in &grid_boundaries {
        let grid = grids.iter().find(|g| g.code == *code).expect("a grid of the community");
        set_boundary(&mut tx, &grid.id, geometry, now).await?;
        done.grids.push(code.clone());
    }
    tx.commit().await?;
    Ok(Ok(done))
}

async fn set_boundary(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    id: &str,
    geometry: &Json,
    now: i64,
) -> StoreResult<()> {
    sqlx::query("UPDATE areas SET boundary = $1, updated_at = $2 WHERE id = $3")
        .bind(geometry.to_string())
        .bind(now)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing;

    /// A rectangle's closed ring, counter-clockwise.
    fn rect(w: f64, s: f64, e: f64, n: f64) -> Json {
        json!([[[w, s], [e, s], [e, n], [w, n], [w, s]]])
    }

    fn feature(code: &str, coordinates: Json) -> Json {
        json!({"type": "Feature", "properties": {"code": code}, "geometry": {"type": "Polygon", "coordinates": coordinates}})
    }

    fn collection(features: Vec<Json>) -> String {
        json!({"type": "FeatureCollection", "features": features}).to_string()
    }

    fn keys(problems: &[Message]) -> Vec<String> {
        problems.iter().map(|m| format!("{} {:?}", m.key, m.args)).collect()
    }

    #[test]
    fn rings_must_close_and_points_fall_inside() {
        let square = parse_geometry(&json!({"type": "Polygon", "coordinates": rect(0.0, 0.0, 1.0, 1.0)})).unwrap();
        assert!(square[0].contains((0.5, 0.5)));
        assert!(square[0].contains((1.0, 0.5)), "on the edge is inside");
        assert!(!square[0].contains((1.5, 0.5)));
        let open = json!({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]});
        assert_eq!(parse_geometry(&open), Err(GeometryError::OpenRing));
        let short = json!({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 0]]]});
        assert_eq!(parse_geometry(&short), Err(GeometryError::ShortRing));
        assert_eq!(parse_geometry(&json!({"type": "Point", "coordinates": [0, 0]})), Err(GeometryError::NotAPolygon));
        let half = parse_geometry(&json!({"type": "Polygon", "coordinates": rect(0.0, 0.0, 0.5, 1.0)})).unwrap();
        assert!(within(&half, &square));
        assert!(!within(&square, &half));
    }

    #[tokio::test]
    async fn import_accepts_good_boundaries_and_names_the_feature_of_each_problem() {
        testing::all_at(async |t| {
            let db = &t.db;
            let h = testing::hierarchy(db).await;
            let (w, s, e, n) = (121.38, 37.52, 121.40, 37.54);
            let good = collection(vec![
                feature(&h.community.code, rect(w, s, e, n)),
                feature(&h.grid.code, rect(w, s, 121.39, n)),
                feature(&h.other_grid.code, rect(121.39, s, e, n)),
            ]);
            let done = import_boundaries(db, &h.community, &good).await.unwrap().unwrap();
            assert!(done.community);
            assert_eq!(done.grids, vec![h.grid.code.clone(), h.other_grid.code.clone()]);
            let grid = areas::get(db, &h.grid.id).await.unwrap();
            let stored = polygons_of(&grid);
            assert_eq!(stored.len(), 1);
            assert_eq!(stored[0].rings[0].len(), 5);
            assert!(stored[0].contains((121.385, 37.53)));
            let community = areas::get(db, &h.community.id).await.unwrap();

            // An open ring and an unknown grid: nothing written, each feature named.
            let bad = collection(vec![
                feature(&h.grid.code, json!([[[w, s], [121.385, s], [121.385, n], [w, n]]])),
                feature("370602004011099", rect(w, s, e, n)),
                feature(&h.other_grid.code, rect(121.39, s, 121.45, n)),
            ]);
            let problems = import_boundaries(db, &community, &bad).await.unwrap().unwrap_err();
            let said = keys(&problems);
            assert_eq!(said.len(), 3, "{said:?}");
            assert!(
                said[0].starts_with("cockpit.map.error.open_ring")
                    && said[0].contains(&format!("#1 ({})", h.grid.code)),
                "{said:?}"
            );
            assert!(
                said[1].starts_with("cockpit.map.error.unknown_grid") && said[1].contains("#2 (370602004011099)"),
                "{said:?}"
            );
            assert!(said[2].starts_with("cockpit.map.error.outside") && said[2].contains("#3"), "{said:?}");
            assert_eq!(polygons_of(&areas::get(db, &h.grid.id).await.unwrap()), stored, "nothing half-imported");

            // Grids without any community boundary are refused.
            let bare = areas::get(db, &h.community.id).await.unwrap();
            sqlx::query("UPDATE areas SET boundary = NULL WHERE id = $1")
                .bind(&bare.id)
                .execute(&db.pool)
                .await
                .unwrap();
            let bare = areas::get(db, &h.community.id).await.unwrap();
            let only_grid = collection(vec![feature(&h.grid.code, rect(w, s, 121.39, n))]);
            let problems = import_boundaries(db, &bare, &only_grid).await.unwrap().unwrap_err();
            assert_eq!(problems[0].key, "cockpit.map.error.no_community_boundary");
            assert!(import_boundaries(db, &bare, "{not json").await.unwrap().is_err());
        })
        .await;
    }
}
