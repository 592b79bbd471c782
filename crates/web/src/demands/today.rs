//! The demands' sections of 今日 (`crate::today`): items dispatched to the caller,
//! nearest deadline first (so the overdue lead); items reported done in their area,
//! waiting for their verification; new reports in their area, waiting to be accepted.
//! Each card's tap is the step the loop expects next: taken at once when it needs no
//! words (accept, start, verify, close), else the item's form for it.

use std::future::Future;
use std::pin::Pin;

use wangge_domain::demands::{BusinessCalendar, DueIn, ItemState, transition};
use wangge_domain::{DemandStatus, Step, Vocabulary};
use wangge_store::demands::{self, Category, Demand, DemandFilter};

use crate::shared::auth::Principal;
use crate::shared::render::{Lang, label, tr};
use crate::today::{Act, CARDS, Card, Day, Section, all_words};
use crate::{ApiError, AppState};

type Loaded<'a> = Pin<Box<dyn Future<Output = Result<Option<Section>, ApiError>> + Send + 'a>>;

/// A day as a card shows it: `12月5日（周五）`, `Fri 5 Dec`.
pub(crate) fn date_words(day: time::Date, lang: Lang) -> String {
    let weekday = tr(&format!("today.weekday.{}", day.weekday().number_days_from_monday()), lang.code);
    if lang.code == "en" {
        format!("{weekday} {} {}", day.day(), &format!("{:?}", day.month())[..3])
    } else {
        format!("{}月{}日（{weekday}）", u8::from(day.month()), day.day())
    }
}

/// How a deadline reads: `还剩 3 个工作日` / `3 working days left`, `今天到期` /
/// `due today`, `已超期 2 天` / `overdue by 2 days`.
pub(crate) fn due_words(calendar: &BusinessCalendar, now: i64, due: i64, lang: Lang) -> String {
    let (key, n) = match calendar.due_in(now, due) {
        DueIn::Left(1) => ("today.due.left_one", 1),
        DueIn::Left(n) => ("today.due.left", n),
        DueIn::Today => ("today.due.today", 0),
        DueIn::Overdue(1) => ("today.due.overdue_one", 1),
        DueIn::Overdue(n) => ("today.due.overdue", n),
    };
    tr(key, lang.code).replace("%{count}", &n.to_string())
}

/// The date and the words of an open item's deadline, for a card or an item page.
pub(crate) fn deadline(calendar: &BusinessCalendar, now: i64, d: &Demand, lang: Lang) -> (String, String) {
    (date_words(BusinessCalendar::last_day(d.due), lang), due_words(calendar, now, d.due, lang))
}

/// The steps a card takes in one tap: they need no words.
fn one_tap(step: Step) -> bool {
    matches!(step, Step::Accept | Step::Start | Step::Verify | Step::Close)
}

fn card(d: &Demand, p: &Principal, day: &Day, categories: &[Category]) -> Card {
    let lang = day.lang;
    let item = ItemState { status: d.status, kind: d.kind, level: d.level, reopened: d.reopened };
    let act = item.expected_step().filter(|&step| transition(item, step, p.role, Some(5)).is_ok()).map(|step| Act {
        label: tr(&format!("step.{}", step.code()), lang.code),
        action: if one_tap(step) {
            format!("/demands/{}/steps/{}", d.id, step.code())
        } else {
            format!("/demands/{}#step-{}", d.id, step.code())
        },
        post: one_tap(step),
    });
    let category = categories
        .iter()
        .find(|c| c.code == d.category)
        .map(|c| if lang.code == "en" { c.name_en.clone() } else { c.name_zh.clone() })
        .unwrap_or_else(|| d.category.clone());
    let (due_date, due_words) = deadline(&day.calendar, day.now, d, lang);
    Card {
        href: format!("/demands/{}", d.id),
        title: d.title.clone(),
        detail: format!("{category} · {}", label(d.status, lang)),
        due_date,
        due_words,
        overdue: d.overdue,
        act,
    }
}

async fn section(
    s: &AppState,
    p: &Principal,
    day: &Day,
    id: &'static str,
    filter: DemandFilter,
    more: &str,
) -> Result<Option<Section>, ApiError> {
    let (items, total) = demands::by_deadline(&s.db, &filter, CARDS).await?;
    let categories = demands::categories(&s.db).await?;
    let lang = day.lang;
    Ok(Some(Section {
        id,
        title: tr(&format!("today.{id}"), lang.code),
        cards: items.iter().map(|d| card(d, p, day, &categories)).collect(),
        total,
        more: (total > i64::from(CARDS)).then(|| more.to_owned()),
        more_label: all_words(total, lang),
        empty: tr(&format!("today.{id}_empty"), lang.code),
    }))
}

/// The caller's own area, when it is one (a grid member's grid).
async fn own_area(s: &AppState, p: &Principal) -> Option<String> {
    p.list_path(&s.db, None).await.ok().flatten()
}

/// Items dispatched to the caller or their units, open, nearest deadline first.
pub(crate) fn mine<'a>(s: &'a AppState, p: &'a Principal, day: &'a Day) -> Loaded<'a> {
    Box::pin(async move {
        let filter = DemandFilter {
            handler_ids: crate::demands::api::my_handler_ids(s, p).await?,
            status: DemandStatus::open(),
            ..Default::default()
        };
        section(s, p, day, "mine", filter, "/demands?mine=1").await
    })
}

/// Items reported done in the caller's area: their verification.
pub(crate) fn to_verify<'a>(s: &'a AppState, p: &'a Principal, day: &'a Day) -> Loaded<'a> {
    Box::pin(async move {
        let Some(path) = own_area(s, p).await else { return Ok(None) };
        let filter =
            DemandFilter { under_path: Some(path), status: vec![DemandStatus::ReportedDone], ..Default::default() };
        section(s, p, day, "to_verify", filter, "/demands?status=reported_done").await
    })
}

/// New reports in the caller's area, waiting to be accepted.
pub(crate) fn new_reports<'a>(s: &'a AppState, p: &'a Principal, day: &'a Day) -> Loaded<'a> {
    Box::pin(async move {
        let Some(path) = own_area(s, p).await else { return Ok(None) };
        let filter =
            DemandFilter { under_path: Some(path), status: vec![DemandStatus::Submitted], ..Default::default() };
        section(s, p, day, "new_reports", filter, "/demands?status=submitted").await
    })
}
