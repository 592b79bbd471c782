//! Party building's figures (`store::party`): members on the roll under the area,
//! the units registered there, their registration and completion rates added up
//! over the units (each unit's parts and wholes as its feedback report of the
//! period holding the time of reading computes them: docs/party.md), the hours
//! of confirmed service in the period, and the branches' organisational life
//! (三会一课): required meetings held ÷ required, over the year holding the
//! period's start as far as it is over at the time of reading
//! (`store::party::life`); the three lists' projects by state (open, overdue on
//! the day of reading, done) and the share of residents' ratings of 4 or 5 stars
//! (`store::party::projects`).

use wangge_domain::Message;
use wangge_domain::party::Period;

use super::{Figure, FigureQuery, Rows, Section, Value};
use crate::{Db, StoreResult, subtree_bounds};

pub(super) async fn figures(db: &Db, q: &FigureQuery) -> StoreResult<Vec<Figure>> {
    let (lo, hi) = subtree_bounds(&q.path);
    let members: i64 =
        sqlx::query_scalar("SELECT count(*) FROM party_members WHERE path >= $1 AND path < $2 AND status = 'active'")
            .bind(&lo)
            .bind(&hi)
            .fetch_one(&db.pool)
            .await?;
    let minutes: Option<i64> = sqlx::query_scalar(
        "SELECT SUM(minutes) FROM party_service
         WHERE path >= $1 AND path < $2 AND state = 'confirmed' AND served_at >= $3 AND served_at < $4",
    )
    .bind(&lo)
    .bind(&hi)
    .bind(q.from)
    .bind(q.to)
    .fetch_one(&db.pool)
    .await?;
    let units: Vec<(String, String)> =
        sqlx::query_as("SELECT id, community_id FROM party_units WHERE path >= $1 AND path < $2 ORDER BY id")
            .bind(&lo)
            .bind(&hi)
            .fetch_all(&db.pool)
            .await?;
    let (mut reg, mut declared, mut reached, mut registered) = (0, 0, 0, 0);
    let mut months = std::collections::HashMap::new();
    for (unit, community) in &units {
        if !months.contains_key(community) {
            months.insert(community.clone(), crate::party::settings(db, community).await?.feedback_months);
        }
        let f = crate::party::feedback(db, unit, Period::at(q.now, months[community])).await?;
        if let Some((part, whole)) = f.registration_rate {
            reg += part;
            declared += whole;
        }
        if let Some((part, whole)) = f.completion_rate {
            reached += part;
            registered += whole;
        }
    }
    let (showing, grids) = crate::party::cards::grids_showing(db, &q.path).await?;
    let projects = crate::party::projects::by_state(db, &q.path, q.today()).await?;
    let (satisfied, rated): (i64, i64) = sqlx::query_as(
        "SELECT COALESCE(SUM(CASE WHEN g.stars >= 4 THEN 1 ELSE 0 END), 0), count(*)
         FROM party_project_ratings g JOIN party_projects p ON p.id = g.project_id
         WHERE p.path >= $1 AND p.path < $2",
    )
    .bind(&lo)
    .bind(&hi)
    .fetch_one(&db.pool)
    .await?;
    let figure = |key: &str, label: &'static str, how: &'static str, value: Value| Figure {
        key: key.to_owned(),
        section: Section::Party,
        label: Message::new(label),
        how: Message::new(how),
        value,
        rows: Some(Rows::Party),
        sensitive: false,
    };
    Ok(vec![
        figure("party.members", "cockpit.figure.party_members", "cockpit.how.party_members", Value::count(members)),
        figure(
            "party.units",
            "cockpit.figure.party_units",
            "cockpit.how.party_units",
            Value::count(units.len() as i64),
        ),
        figure(
            "party.registration",
            "cockpit.figure.party_registration",
            "cockpit.how.party_registration",
            Value::Rate { part: reg, whole: declared },
        ),
        figure(
            "party.completion",
            "cockpit.figure.party_completion",
            "cockpit.how.party_completion",
            Value::Rate { part: reached, whole: registered },
        ),
        {
            let (held, required) =
                crate::party::life::compliance_under(db, &q.path, super::day_of(q.from).year(), q.today()).await?;
            Figure {
                rows: Some(Rows::PartyLife),
                ..figure(
                    "party.life",
                    "cockpit.figure.party_life",
                    "cockpit.how.party_life",
                    Value::Rate { part: held, whole: required },
                )
            }
        },
        figure(
            "party.hours",
            "cockpit.figure.party_hours",
            "cockpit.how.party_hours",
            Value::count(minutes.unwrap_or(0) / 60),
        ),
        figure(
            "party.cards",
            "cockpit.figure.party_cards",
            "cockpit.how.party_cards",
            Value::Rate { part: showing, whole: grids },
        ),
        Figure {
            rows: Some(Rows::PartyProjects { state: "" }),
            ..figure(
                "party.projects.open",
                "cockpit.figure.party_projects_open",
                "cockpit.how.party_projects_open",
                Value::count(projects.planned + projects.doing),
            )
        },
        Figure {
            rows: Some(Rows::PartyProjects { state: "" }),
            ..figure(
                "party.projects.overdue",
                "cockpit.figure.party_projects_overdue",
                "cockpit.how.party_projects_overdue",
                Value::count(projects.overdue),
            )
        },
        Figure {
            rows: Some(Rows::PartyProjects { state: "done" }),
            ..figure(
                "party.projects.done",
                "cockpit.figure.party_projects_done",
                "cockpit.how.party_projects_done",
                Value::count(projects.done),
            )
        },
        Figure {
            rows: Some(Rows::PartyProjects { state: "done" }),
            ..figure(
                "party.projects.rating",
                "cockpit.figure.party_projects_rating",
                "cockpit.how.party_projects_rating",
                Value::Rate { part: satisfied, whole: rated },
            )
        },
    ])
}
