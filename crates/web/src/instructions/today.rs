//! The instructions' section of 今日 (`crate::today`): what reached the caller's
//! own area and still waits for them — to confirm, to report, or to report again
//! after a return — by due day, the late first.

use std::future::Future;
use std::pin::Pin;

use wangge_domain::instructions::ReceiptState;
use wangge_domain::{Action, msg};
use wangge_store::instructions;

use crate::shared::auth::Principal;
use crate::shared::render::{label, say, tr};
use crate::today::{Act, CARDS, Card, Day, Section, all_words};
use crate::{ApiError, AppState};

type Loaded<'a> = Pin<Box<dyn Future<Output = Result<Option<Section>, ApiError>> + Send + 'a>>;

/// 上级指令: for those who receive instructions, at their own areas.
pub(crate) fn open<'a>(s: &'a AppState, p: &'a Principal, day: &'a Day) -> Loaded<'a> {
    Box::pin(async move {
        if !p.role.may(Action::ViewInstructions) {
            return Ok(None);
        }
        let lang = day.lang;
        let today = instructions::today();
        let mut waiting = Vec::new();
        for sc in &p.scopes {
            waiting.extend(instructions::received_at(&s.db, &sc.path, true, 200).await?);
        }
        waiting.sort_by(|(a, x), (b, y)| y.late.cmp(&x.late).then(a.due_on.cmp(&b.due_on)));
        let total = waiting.len() as i64;
        let cards = waiting
            .iter()
            .take(CARDS as usize)
            .map(|(i, r)| {
                let due =
                    time::Date::parse(&i.due_on, &time::format_description::well_known::Iso8601::DATE).unwrap_or(today);
                let left = (due - today).whole_days();
                let href = format!("/instructions/{}#receipt-{}", i.id, r.id);
                let detail = match (r.state, &r.returned_reason) {
                    (ReceiptState::Returned, Some(why)) => {
                        say(&msg!("instructions.today_returned", reason = why), lang.code)
                    }
                    _ => format!("{} · {}", i.area_name, label(r.state, lang)),
                };
                let (act, action) = if r.state == ReceiptState::Sent {
                    (tr("instructions.confirm", lang.code), format!("/instructions/receipts/{}/read", r.id))
                } else {
                    (tr("instructions.report", lang.code), href.clone())
                };
                Card {
                    href: href.clone(),
                    title: format!("{} · {}", i.title, r.area_name),
                    detail,
                    due_date: crate::demands::today::date_words(due, lang),
                    due_words: if left < 0 {
                        say(&msg!("instructions.days_late", days = -left), lang.code)
                    } else {
                        say(&msg!("instructions.days_left", days = left), lang.code)
                    },
                    overdue: left < 0,
                    act: Some(Act { label: act, post: r.state == ReceiptState::Sent, action }),
                }
            })
            .collect();
        Ok(Some(Section {
            id: "instructions_open",
            title: tr("today.instructions_open", lang.code),
            cards,
            total,
            more: (total > i64::from(CARDS)).then(|| "/instructions".to_owned()),
            more_label: all_words(total, lang),
            empty: tr("today.instructions_open_empty", lang.code),
        }))
    })
}
