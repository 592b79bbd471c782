//! The registry's figures: people (by residence type, age band, care tag),
//! households, buildings, organisations, grids; and the population pyramid.

use serde::Serialize;
use sqlx::Row;
use time::Date;
use wangge_domain::{Gender, Message, ResidenceType, Vocabulary, msg};

use super::{Figure, FigureQuery, Rows, Section};
use crate::conditions::Conditions;
use crate::registry::tags;
use crate::{Db, StoreResult, stats, subtree_bounds, summaries};

/// The last birth date of someone at least `years` old on `today`: people born on
/// or before it are. Age bands are computed when read, so they are right on every
/// day without rewriting a row. (On 29 February, the 28th of a year without one.)
pub(crate) fn born_by(today: Date, years: i32) -> Date {
    let year = today.year() - years;
    Date::from_calendar_date(year, today.month(), today.day())
        .or_else(|_| Date::from_calendar_date(year, today.month(), today.day() - 1))
        .unwrap_or(today)
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

    // By residence type: from the summary's roll-up, which changes only when people do.
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

/// People by age band as of the day of reading (the one registry figure that
/// changes with the clock, so a source of its own that the children's table asks
/// for only when it shows ages).
pub(super) async fn age_figures(db: &Db, q: &FigureQuery) -> StoreResult<Vec<Figure>> {
    let how = |key: &'static str| Message::new(key);
    let counts = band_counts(db, &q.path, q.today(), &AGE_BANDS).await?;
    Ok(AGE_BANDS
        .iter()
        .zip(counts)
        .map(|(band, n)| {
            Figure::count(
                format!("registry.age.{}", band.key()),
                Section::Age,
                band.label(),
                how("cockpit.how.age"),
                n[ALL],
            )
        })
        .collect())
}

/// The columns of a count by sex: men, women, everyone (including a sex the
/// catalogue does not know).
const MALE: usize = 0;
const FEMALE: usize = 1;
const ALL: usize = 2;

/// Current residents under `path` in each of `bands` as of `today`, by sex
/// ([`MALE`], [`FEMALE`], [`ALL`]).
///
/// Someone is in `[from, to]` when born on or before [`born_by`]`(from)` and after
/// `born_by(to + 1)`, so a band is the difference of two counts "born on or before
/// a day". Each such count is read from the roll-up of people by sex and month of
/// birth kept at every level (`resident_births`, migration 0062): the months before
/// the day's month whole, from the few hundred rows of the area's own path, and the
/// day's own month (the band's edge, which moves every day) from the people born in
/// it up to the day. Those are counted from whichever index reads fewer entries:
/// the area's people (`residents_ages`, by place) when the area is small, or the
/// area's people born on those few days of a few years, one lookup a birthday
/// (`residents_born`, by birth date, then place) when it is large. The same figure the
/// rows give on every day (`cockpit::tests`), at a district's scale in a few
/// milliseconds instead of 60 (docs/benchmarks.md).
pub(crate) async fn band_counts(db: &Db, path: &str, today: Date, bands: &[AgeBand]) -> StoreResult<Vec<[i64; 3]>> {
    band_counts_by(db, path, today, bands, None).await
}

/// [`band_counts`], the edges' months read by birth date (`Some(true)`), by place
/// (`Some(false)`) or by whichever is cheaper (`None`): the tests ask both.
pub(crate) async fn band_counts_by(
    db: &Db,
    path: &str,
    today: Date,
    bands: &[AgeBand],
    by_birth: Option<bool>,
) -> StoreResult<Vec<[i64; 3]>> {
    let mut edges: Vec<Date> = bands
        .iter()
        .flat_map(|b| std::iter::once(born_by(today, b.from)).chain(b.to.map(|to| born_by(today, to + 1))))
        .collect();
    edges.sort();
    edges.dedup();
    let months: Vec<String> = edges.iter().map(|d| month_of(*d)).collect();

    // The area's months, whole.
    let rows = sqlx::query("SELECT gender, month, n FROM resident_births WHERE path = $1 AND n <> 0")
        .bind(path)
        .fetch_all(&db.pool)
        .await?;
    let mut by_month: Vec<(String, Option<usize>, i64)> = Vec::with_capacity(rows.len());
    let mut people = 0;
    for row in &rows {
        let n: i64 = row.try_get("n")?;
        people += n;
        by_month.push((row.try_get("month")?, sex(&row.try_get::<String, _>("gender")?), n));
    }
    // Each edge's month is read from its nearer end: the people born in it up to
    // the edge added to the months before, or those born after the edge taken
    // from the months up to and including it, so that no edge reads more than
    // half a month of birthdays on any day of the month.
    let sides: Vec<Side> = edges.iter().map(|edge| Side::of(*edge)).collect();
    let mut counts = vec![[0i64; 3]; edges.len()];
    for (month, sex, n) in &by_month {
        for (i, edge_month) in months.iter().enumerate() {
            if month < edge_month || (month == edge_month && matches!(sides[i], Side::After { .. })) {
                add(&mut counts[i], *sex, *n);
            }
        }
    }

    // Those birthdays from the cheaper index. By birth date (`residents_born`), each
    // birthday is one descent with the area's range inside it, reading only the
    // area's people born that day; by place (`residents_ages`), every one of the
    // area's people is read. So by place only when the area has fewer people than
    // a few dozen entries a descent would cost: a grid, not a street (a street of
    // 33,000 people read by place took 31–89 ms of a city's page on PostgreSQL).
    let birthdays: usize = sides.iter().map(|side| side.days().count()).sum();
    let by_birth = by_birth.unwrap_or(path == "/" || people > 32 * birthdays as i64);
    let mut c = Conditions::default();
    // "Under the area" but for the deployment's root, which is everyone.
    let place = |c: &mut Conditions| {
        (path != "/")
            .then(|| subtree_bounds(path))
            .map_or(String::new(), |(lo, hi)| format!(" AND path >= {} AND path < {}", c.text(lo), c.text(hi)))
    };
    let sql = if sides.iter().all(|side| side.days().next().is_none()) {
        // On a month's last day every edge is one: nothing to read.
        None
    } else if by_birth {
        // Each birthday looked up with the area's range inside it (`residents_born`
        // is by birth date, then place): a district reads its own people of those
        // days, not the city's. SQLite is told the index, which it would otherwise
        // leave for the area's whole range in `residents_ages`.
        let days: Vec<String> =
            sides.iter().flat_map(Side::days).map(|d| c.text(wangge_domain::format_date(d))).collect();
        let place = place(&mut c);
        let indexed = if db.backend == crate::Backend::Sqlite { " INDEXED BY residents_born" } else { "" };
        Some(format!(
            "SELECT gender, substr(birth_date, 1, 7) AS month, COUNT(*) AS n FROM residents{indexed} \
             WHERE status = 'active' AND birth_date IN ({}){place} GROUP BY gender, substr(birth_date, 1, 7)",
            days.join(", ")
        ))
    } else {
        // The area's people, each birth date compared with the list. SQLite is told
        // the index by place, which it would otherwise leave for the birth dates';
        // PostgreSQL reads either well (a list, not an expression of the column per
        // row: the street above read by place in 6 ms instead of 31).
        let days: Vec<String> =
            sides.iter().flat_map(Side::days).map(|d| c.text(wangge_domain::format_date(d))).collect();
        let place = place(&mut c);
        let indexed =
            if db.backend == crate::Backend::Sqlite && !place.is_empty() { " INDEXED BY residents_ages" } else { "" };
        Some(format!(
            "SELECT gender, substr(birth_date, 1, 7) AS month, COUNT(*) AS n FROM residents{indexed} \
             WHERE status = 'active' AND birth_date IN ({}){place} GROUP BY gender, substr(birth_date, 1, 7)",
            days.join(", ")
        ))
    };
    let rows = match sql {
        Some(sql) => c.query(sql).fetch_all(&db.pool).await?,
        None => Vec::new(),
    };
    for row in &rows {
        let month: String = row.try_get("month")?;
        let n: i64 = row.try_get("n")?;
        let sex = sex(&row.try_get::<String, _>("gender")?);
        if let Some(i) = months.iter().position(|m| *m == month) {
            match sides[i] {
                Side::UpTo(_) => add(&mut counts[i], sex, n),
                Side::After { .. } => add(&mut counts[i], sex, -n),
            }
        }
    }

    let at = |day: Date| counts[edges.binary_search(&day).unwrap_or_default()];
    Ok(bands
        .iter()
        .map(|b| {
            let older = at(born_by(today, b.from));
            let younger = b.to.map_or([0; 3], |to| at(born_by(today, to + 1)));
            [older[0] - younger[0], older[1] - younger[1], older[2] - younger[2]]
        })
        .collect())
}

/// Which birthdays of an edge's month are read from the people: those up to and
/// including the edge, or those after it (to subtract from the whole month).
#[derive(Clone, Copy, Debug)]
enum Side {
    UpTo(Date),
    After { edge: Date, last: Date },
}

impl Side {
    /// The nearer end of `edge`'s month: fewer days after the edge than up to it
    /// counts those after.
    fn of(edge: Date) -> Side {
        let length = time::util::days_in_month(edge.month(), edge.year());
        let last = edge.replace_day(length).expect("the month's last day");
        if length - edge.day() < edge.day() { Side::After { edge, last } } else { Side::UpTo(edge) }
    }

    /// The first and last birthday read (after an edge on a month's last day, the
    /// next day and the edge: none).
    fn range(&self) -> (Date, Date) {
        match *self {
            Side::UpTo(edge) => (edge.replace_day(1).expect("day 1"), edge),
            Side::After { edge, last } => (edge.next_day().unwrap_or(edge), last),
        }
    }

    /// Every birthday read.
    fn days(&self) -> impl Iterator<Item = Date> {
        let (first, last) = self.range();
        std::iter::successors(Some(first), |d| d.next_day()).take_while(move |d| *d <= last)
    }
}

fn month_of(day: Date) -> String {
    format!("{:04}-{:02}", day.year(), u8::from(day.month()))
}

fn sex(code: &str) -> Option<usize> {
    match Gender::from_code(code) {
        Some(Gender::Male) => Some(MALE),
        Some(Gender::Female) => Some(FEMALE),
        None => None,
    }
}

fn add(counts: &mut [i64; 3], sex: Option<usize>, n: i64) {
    if let Some(s) = sex {
        counts[s] += n;
    }
    counts[ALL] += n;
}

/// One bar pair of the population pyramid: men and women of a ten-year band.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PyramidRow {
    pub band: AgeBand,
    pub male: i64,
    pub female: i64,
}

/// Current residents under `path` by sex and ten-year age band (0–9 … 90+), as of
/// `today`, youngest first ([`band_counts`]).
pub async fn age_pyramid(db: &Db, path: &str, today: Date) -> StoreResult<Vec<PyramidRow>> {
    let bands: Vec<AgeBand> =
        (0..10).map(|i| AgeBand { from: i * 10, to: if i == 9 { None } else { Some(i * 10 + 9) } }).collect();
    let counts = band_counts(db, path, today, &bands).await?;
    Ok(bands.iter().zip(counts).map(|(&band, n)| PyramidRow { band, male: n[MALE], female: n[FEMALE] }).collect())
}
