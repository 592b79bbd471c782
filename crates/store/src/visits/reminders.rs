//! Reminders of visits through the shared notifications: the day before a subject
//! comes due ("soon") and once it is overdue ("missed"), to the grid members of the
//! household's grid. Each (subject, due date, kind) is reminded at most once
//! (`visit_reminders`), so the sweep may run as often as it likes, on as many
//! servers as share the database; one notice per grid and kind says how many.

use sqlx::Row;
use time::Date;
use wangge_domain::{Module, Role, msg, now_millis};

use super::{DueEntry, Subject};
use crate::notifications::{self, Audience, Notice};
use crate::{Db, StoreResult};

/// What a sweep sent: notices (one per grid and kind) and subjects newly reminded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sent {
    pub notices: u64,
    pub subjects: u64,
}

fn subject_key(e: &DueEntry) -> String {
    match &e.subject {
        Subject::Household => format!("household:{}:{}", e.household_id, e.cadence_id),
        Subject::Person { resident_id, .. } => format!("person:{resident_id}:{}", e.cadence_id),
    }
}

/// Reminds every grid of every community, as of `today`.
pub async fn sweep(db: &Db, today: Date) -> StoreResult<Sent> {
    // Every community: one that has not read its cadences yet gets the defaults here.
    let communities: Vec<String> =
        sqlx::query_scalar("SELECT id FROM areas WHERE level = 'community' ORDER BY path").fetch_all(&db.pool).await?;
    let mut sent = Sent::default();
    for community_id in communities {
        let community = crate::registry::areas::get(db, &community_id).await?;
        let (lo, hi) = crate::subtree_bounds(&community.path);
        let grids =
            sqlx::query("SELECT id, path FROM areas WHERE path > $1 AND path < $2 AND level = 'grid' ORDER BY path")
                .bind(&lo)
                .bind(&hi)
                .fetch_all(&db.pool)
                .await?;
        for g in &grids {
            let (grid_id, path): (String, String) = (g.try_get("id")?, g.try_get("path")?);
            let list = super::due_within(db, &path, &community_id, today, 1).await?;
            let tomorrow = (today + time::Duration::days(1)).to_string();
            let kinds: Vec<(&str, &str, Vec<&DueEntry>)> =
                [("soon", "visits.reminder.soon"), ("missed", "visits.reminder.missed")]
                    .into_iter()
                    .map(|(kind, key)| {
                        let picked =
                            |e: &&DueEntry| if kind == "soon" { e.due_on == tomorrow } else { e.overdue_days > 0 };
                        (kind, key, list.iter().filter(picked).collect::<Vec<_>>())
                    })
                    .filter(|(_, _, entries)| !entries.is_empty())
                    .collect();
            if kinds.is_empty() {
                continue;
            }
            // One transaction a grid: its subjects marked reminded and its notices
            // written together (never one without the other), and SQLite's write
            // lock taken once a grid, between reads, rather than once a subject back
            // to back — a city's first sweep held it so for minutes, and every
            // other writer waiting for it gave up ("database is locked").
            let mut tx = db.pool.begin().await?;
            for (kind, key, entries) in kinds {
                let mut fresh = 0_u64;
                for e in entries {
                    let done = sqlx::query(
                        "INSERT INTO visit_reminders (subject, due_on, kind, sent_at) VALUES ($1, $2, $3, $4)
                         ON CONFLICT DO NOTHING",
                    )
                    .bind(subject_key(e))
                    .bind(&e.due_on)
                    .bind(kind)
                    .bind(now_millis())
                    .execute(&mut *tx)
                    .await?;
                    fresh += done.rows_affected();
                }
                if fresh == 0 {
                    continue;
                }
                let notice = Notice {
                    module: Module::Visits,
                    subject_id: Some(grid_id.clone()),
                    path: path.clone(),
                    link: Some("/today".into()),
                    message: msg!(key, count = fresh),
                };
                let to = Audience::Role { role: Role::GridMember, path: path.clone() };
                notifications::notify_on(&mut tx, &to, &notice).await?;
                sent.notices += 1;
                sent.subjects += fresh;
            }
            tx.commit().await?;
        }
    }
    Ok(sent)
}
