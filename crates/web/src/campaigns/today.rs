//! The campaigns' section of 今日 (`crate::today`): the targets still open in the
//! caller's area in every running campaign, pending first and then the revisit
//! queue, each in walking order, each card opening the form at that door.

use std::future::Future;
use std::pin::Pin;

use wangge_domain::{Action, Vocabulary, msg};
use wangge_store::campaigns::{self, Which};

use crate::shared::auth::Principal;
use crate::shared::render::{label, say, tr};
use crate::today::{Act, CARDS, Card, Day, Section, all_words};
use crate::{ApiError, AppState};

type Loaded<'a> = Pin<Box<dyn Future<Output = Result<Option<Section>, ApiError>> + Send + 'a>>;

/// 排查任务: for those who visit, in their own area; none for anyone else.
pub(crate) fn open<'a>(s: &'a AppState, p: &'a Principal, day: &'a Day) -> Loaded<'a> {
    Box::pin(async move {
        if !p.role.may(Action::VisitHouseholds) {
            return Ok(None);
        }
        let Some(path) = p.list_path(&s.db, None).await.ok().flatten() else { return Ok(None) };
        let lang = day.lang;
        let today = super::today();
        let running = campaigns::open_here(&s.db, &path, today).await?;
        let total: i64 = running.iter().map(|(_, n)| n).sum();
        let mut cards = Vec::new();
        for (c, _) in &running {
            let room = i64::from(CARDS) - cards.len() as i64;
            if room <= 0 {
                break;
            }
            let closes =
                time::Date::parse(&c.closes_on, &time::format_description::well_known::Iso8601::DATE).unwrap_or(today);
            let days_left = (closes - today).whole_days();
            for l in campaigns::lines(&s.db, &c.id, &path, Which::Open, room).await? {
                let href = format!("/campaigns/targets/{}", l.target.id);
                let place = super::pages::place(&l, lang);
                let who = l.resident_name.clone().map(|n| format!("{n} · ")).unwrap_or_default();
                let detail = if l.target.attempts > 0 {
                    say(
                        &msg!("campaigns.today_revisit", attempts = l.target.attempts).lang_arg(
                            "status",
                            l.target.status.label_zh(),
                            l.target.status.label_en(),
                        ),
                        lang.code,
                    )
                } else {
                    label(l.target.status, lang).to_owned()
                };
                cards.push(Card {
                    href: href.clone(),
                    title: format!("{who}{place} · {}", c.title),
                    detail,
                    due_date: crate::demands::today::date_words(closes, lang),
                    due_words: say(&msg!("campaigns.days_left", days = days_left), lang.code),
                    overdue: false,
                    act: Some(Act { label: tr("campaigns.fill", lang.code), action: href, post: false }),
                });
            }
        }
        Ok(Some(Section {
            id: "campaigns_open",
            title: tr("today.campaigns_open", lang.code),
            cards,
            total,
            more: (total > i64::from(CARDS)).then(|| "/campaigns".to_owned()),
            more_label: all_words(total, lang),
            empty: tr("today.campaigns_open_empty", lang.code),
        }))
    })
}
