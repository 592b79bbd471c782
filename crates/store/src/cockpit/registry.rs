//! The registry's figures: people (by residence type, age band, care tag),
//! households, buildings, organisations, grids; and the population pyramid.

use serde::Serialize;
use sqlx::Row;
use time::Date;
use wangge_domain::{Gender, Message, ResidenceType, Vocabulary, msg};

use super::{Figure, FigureQuery, Rows, Section};
use crate::conditions::Conditions;
use crate::registry::tags;
use crate::{Db, StoreResult, stats, summaries};

/// The last birth date (`YYYY-MM-DD`) of someone at least `years` old on `today`:
/// people born on or before it are. Age bands are computed when read, from
/// `birth_date`, so they are right on every day without rewriting a row.
pub(crate) fn born_by(today: Date, years: i32) -> String {
    let year = today.year() - years;
    let day = Date::from_calendar_date(year, today.month(), today.day())
        .or_else(|_| Date::from_calendar_date(year, today.month(), today.day() - 1))
        .unwrap_or(today);
    wangge_domain::format_date(day)
}

/// An age band `[from, to]` in whole years; `to` none: and older.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct AgeBand {
    pub from: i32,
    pub to: Option<i32>,
}

/// The cockpit's age bands: children, working age, the young old, the old old.
pub const AGE_BANDS: [AgeBand; 4] = [
    AgeBand { from: 0, to: Some(17) },
    AgeBand { from: 18, to: Some(59) },
    AgeBand { from: 60, to: Some(79) },
    AgeBand { from: 80, to: None },
];

impl AgeBand {
    pub fn key(&self) -> String {
        match self.to {
            Some(to) => format!("{}_{to}", self.from),
            None => format!("{}_plus", self.from),
        }
    }

    pub fn label(&self) -> Message {
        match self.to {
            Some(to) => msg!("cockpit.figure.age_range", from = self.from, to = to),
            None => msg!("cockpit.figure.age_over", from = self.from),
        }
    }

    /// `SUM(CASE …)` counting the band's people, its cut-off dates bound in `c`.
    fn sum(&self, c: &mut Conditions, today: Date) -> String {
        let oldest = c.text(born_by(today, self.from));
        match self.to {
            Some(to) => {
                let youngest = c.text(born_by(today, to + 1));
                format!("SUM(CASE WHEN birth_date <= {oldest} AND birth_date > {youngest} THEN 1 ELSE 0 END)")
            }
            None => format!("SUM(CASE WHEN birth_date <= {oldest} THEN 1 ELSE 0 END)"),
        }
    }
}

fn active_under(path: &str) -> Conditions {
    let mut c = Conditions::default();
    c.under_path("path", path);
    c.push("status = 'active'".into());
    c
}

pub(super) async fn figures(db: &Db, q: &FigureQuery) -> StoreResult<Vec<Figure>> {
    let counts = stats::counts_under(db, &q.path).await?;
    let how = |key: &'static str| Message::new(key);
    let mut out = vec![
        Figure::count(
            "registry.residents",
            Section::Registry,
            Message::new("cockpit.figure.residents"),
            how("cockpit.how.residents"),
            counts.residents,
        )
        .rows(Rows::Residents { tag: None }),
        Figure::count(
            "registry.households",
            Section::Registry,
            Message::new("cockpit.figure.households"),
            how("cockpit.how.households"),
            counts.households,
        ),
        Figure::count(
            "registry.buildings",
            Section::Registry,
            Message::new("cockpit.figure.buildings"),
            how("cockpit.how.buildings"),
            counts.buildings,
        )
        .rows(Rows::Buildings),
        Figure::count(
            "registry.organisations",
            Section::Registry,
            Message::new("cockpit.figure.organisations"),
            how("cockpit.how.organisations"),
            counts.organisations,
        ),
        Figure::count(
            "registry.grids",
            Section::Registry,
            Message::new("cockpit.figure.grids"),
            how("cockpit.how.grids"),
            counts.grids,
        ),
    ];

    // By residence type: from the summary, which changes only when people do.
    let by_type = summaries::residents_by_type(db, &q.path).await?;
    for &t in ResidenceType::all() {
        let n = by_type.get(t.code()).copied().unwrap_or(0);
        out.push(Figure::count(
            format!("registry.residence.{}", t.code()),
            Section::Residence,
            Message::new("cockpit.figure.residence").term("type", t),
            how("cockpit.how.residence"),
            n,
        ));
    }

    // By care tag: every tag of the catalogue, with its count (0 included), from
    // the summary.
    let by_tag = summaries::residents_by_tag(db, &q.path).await?;
    for tag in tags::list(db).await? {
        let n = by_tag.get(&tag.id).copied().unwrap_or(0);
        let mut figure = Figure::count(
            format!("registry.tag.{}", tag.code),
            Section::Care,
            Message::new("cockpit.figure.tag").lang_arg("tag", &tag.name_zh, &tag.name_en),
            how("cockpit.how.tag"),
            n,
        )
        .rows(Rows::Residents { tag: Some(tag.code.clone()) });
        figure.sensitive = tag.sensitive;
        out.push(figure);
    }
    Ok(out)
}

/// People by age band, from birth dates as of the day of reading: a range of the
/// area's current residents (the one registry figure not read from a summary, so a
/// source of its own that the children's table asks for only when it shows ages).
pub(super) async fn age_figures(db: &Db, q: &FigureQuery) -> StoreResult<Vec<Figure>> {
    let how = |key: &'static str| Message::new(key);
    let mut out = Vec::new();
    let mut c = active_under(&q.path);
    let today = q.today();
    let sums: Vec<String> =
        AGE_BANDS.iter().enumerate().map(|(i, band)| format!("{} AS b{i}", band.sum(&mut c, today))).collect();
    let sql = format!("SELECT {} FROM residents {}", sums.join(", "), c.where_clause());
    let row = c.query(sql).fetch_one(&db.pool).await?;
    for (i, band) in AGE_BANDS.iter().enumerate() {
        let n: Option<i64> = row.try_get(format!("b{i}").as_str())?;
        out.push(Figure::count(
            format!("registry.age.{}", band.key()),
            Section::Age,
            band.label(),
            how("cockpit.how.age"),
            n.unwrap_or(0),
        ));
    }
    Ok(out)
}

/// One bar pair of the population pyramid: men and women of a ten-year band.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PyramidRow {
    pub band: AgeBand,
    pub male: i64,
    pub female: i64,
}

/// Current residents under `path` by sex and ten-year age band (0–9 … 90+), as of
/// `today`, youngest first.
pub async fn age_pyramid(db: &Db, path: &str, today: Date) -> StoreResult<Vec<PyramidRow>> {
    let bands: Vec<AgeBand> =
        (0..10).map(|i| AgeBand { from: i * 10, to: if i == 9 { None } else { Some(i * 10 + 9) } }).collect();
    let mut c = active_under(path);
    let sums: Vec<String> =
        bands.iter().enumerate().map(|(i, b)| format!("{} AS b{i}", b.sum(&mut c, today))).collect();
    let sql = format!("SELECT gender, {} FROM residents {} GROUP BY gender", sums.join(", "), c.where_clause());
    let rows = c.query(sql).fetch_all(&db.pool).await?;
    let mut out: Vec<PyramidRow> = bands.iter().map(|&band| PyramidRow { band, male: 0, female: 0 }).collect();
    for row in &rows {
        let gender: String = row.try_get("gender")?;
        for (i, bar) in out.iter_mut().enumerate() {
            let n = row.try_get::<Option<i64>, _>(format!("b{i}").as_str())?.unwrap_or(0);
            match Gender::from_code(&gender) {
                Some(Gender::Male) => bar.male += n,
                Some(Gender::Female) => bar.female += n,
                None => {}
            }
        }
    }
    Ok(out)
}
