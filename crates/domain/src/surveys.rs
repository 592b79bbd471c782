//! Surveys (问卷调查): a questionnaire is a campaigns [`Form`] (the same question
//! types, `required`, skip logic through `relevant`, XLSForm in and out, and
//! [`Form::check`] as the one judge of an answer); a rating question is a single
//! choice over the list [`RATING_LIST`]. What is particular to surveys lives here:
//! how an answer came in ([`Channel`]), the coarse attributes an answer keeps
//! ([`age_band`]), the survey's states, and the counting of results with small
//! cells suppressed ([`tally`], [`suppress`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::campaigns::{Choice, Form, Label, QuestionKind};
use crate::vocab::vocabulary;
use crate::{Message, Vocabulary};

/// The choice list of a rating question: 1 to 5.
pub const RATING_LIST: &str = "rating_5";

/// A cross-tab cell with fewer answers than this is not shown.
pub const MIN_CELL: i64 = 5;

vocabulary!(
    /// How an answer came in. Paper answers are typed in by staff and flagged.
    Channel, "survey channel" {
    Online = "online", "链接/二维码", "Link or QR code", ["网上", "在线"];
    Portal = "portal", "居民门户", "Residents' portal", ["门户"];
    Doorstep = "doorstep", "入户代填", "At the door, with a grid member", ["入户"];
    Phone = "phone", "电话", "By phone", ["电话访问"];
    Paper = "paper", "纸质问卷", "Paper", ["纸质"];
});

vocabulary!(
    /// Where a survey stands: answers are taken only while open.
    SurveyState, "survey state" {
    Draft = "draft", "草稿", "Draft", [];
    Open = "open", "进行中", "Open", ["开放"];
    Closed = "closed", "已结束", "Closed", ["结束"];
});

/// The state after opening (`true`) or closing (`false`): a draft opens, an open
/// survey closes, a closed one may open again.
pub fn next(state: SurveyState, open: bool) -> Result<SurveyState, Message> {
    match (state, open) {
        (SurveyState::Draft | SurveyState::Closed, true) => Ok(SurveyState::Open),
        (SurveyState::Open, false) => Ok(SurveyState::Closed),
        (state, _) => Err(Message::new("surveys.error.state").term("state", state)),
    }
}

/// The ten-year age band of someone born on `birth_date` (`YYYY-MM-DD`) on `today`:
/// `0-9`, `10-19`, … `80+`; empty when the date is unreadable.
pub fn age_band(birth_date: &str, today: &str) -> String {
    let part = |s: &str, a: usize, b: usize| s.get(a..b).and_then(|x| x.parse::<i32>().ok());
    let (Some(by), Some(bmd), Some(ty), Some(tmd)) = (
        part(birth_date, 0, 4),
        part(&birth_date.replace('-', ""), 4, 8),
        part(today, 0, 4),
        part(&today.replace('-', ""), 4, 8),
    ) else {
        return String::new();
    };
    let age = (ty - by - i32::from(tmd < bmd)).max(0);
    if age >= 80 { "80+".to_owned() } else { format!("{}-{}", age / 10 * 10, age / 10 * 10 + 9) }
}

/// The 1–5 list a rating question draws from.
pub fn rating_choices() -> Vec<Choice> {
    (1..=5).map(|n| Choice { name: n.to_string(), label: Label::both(&n.to_string()) }).collect()
}

/// A count shown in a cross-tab: `None` (suppressed) under [`MIN_CELL`], except 0.
pub fn suppress(count: i64) -> Option<i64> {
    if count == 0 || count >= MIN_CELL { Some(count) } else { None }
}

/// The answers to one choice question: how many answered it, and per choice.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub question: String,
    pub answered: i64,
    /// (choice name, count) in the list's order.
    pub counts: Vec<(String, i64)>,
}

impl Tally {
    /// The share of `choice` among those who answered, in per mille (585 = 58.5 %).
    pub fn per_mille(&self, choice: &str) -> Option<i64> {
        let n = self.counts.iter().find(|(c, _)| c == choice)?.1;
        (self.answered > 0).then(|| (n * 1000 + self.answered / 2) / self.answered)
    }
}

/// Counts the answers to every choice question of `form` (a multiple choice
/// counts each choice picked; `answered` counts people).
pub fn tally<'a>(form: &Form, answers: impl IntoIterator<Item = &'a BTreeMap<String, String>>) -> Vec<Tally> {
    let mut out: Vec<Tally> = form
        .questions
        .iter()
        .filter_map(|q| {
            let list = q.kind.list()?;
            let counts = form.lists.get(list)?.iter().map(|c| (c.name.clone(), 0)).collect();
            Some(Tally { question: q.name.clone(), answered: 0, counts })
        })
        .collect();
    for a in answers {
        for t in &mut out {
            let Some(value) = a.get(&t.question).filter(|v| !v.is_empty()) else { continue };
            t.answered += 1;
            let multiple = matches!(form.question(&t.question).map(|q| &q.kind), Some(QuestionKind::SelectMultiple(_)));
            for picked in if multiple { value.split_whitespace().collect() } else { vec![value.as_str()] } {
                if let Some(c) = t.counts.iter_mut().find(|(c, _)| c == picked) {
                    c.1 += 1;
                }
            }
        }
    }
    out
}

/// A cross-tab of one choice question by one attribute: rows are the attribute's
/// values (sorted), columns the choices; cells under [`MIN_CELL`] are `None`.
pub fn cross_tab<'a>(
    form: &Form,
    question: &str,
    rows: impl IntoIterator<Item = (&'a str, &'a BTreeMap<String, String>)>,
) -> Vec<(String, Vec<Option<i64>>)> {
    let Some(list) = form.question(question).and_then(|q| q.kind.list()) else { return Vec::new() };
    let choices: Vec<&str> =
        form.lists.get(list).map(|l| l.iter().map(|c| c.name.as_str()).collect()).unwrap_or_default();
    let mut cells: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for (attribute, answers) in rows {
        let Some(value) = answers.get(question) else { continue };
        let row = cells.entry(attribute.to_owned()).or_insert_with(|| vec![0; choices.len()]);
        for picked in value.split_whitespace() {
            if let Some(i) = choices.iter().position(|c| *c == picked) {
                row[i] += 1;
            }
        }
    }
    cells.into_iter().map(|(k, v)| (k, v.into_iter().map(suppress).collect())).collect()
}

/// The seed's own questionnaire (塔山社区 居民问卷): whether residents know the Party
/// members serving them, whether members lead, how often workers visit, how
/// satisfied they are with cultural activities, and — asked only of the
/// unsatisfied — what they would like instead (skip logic). The demo's survey.
pub fn seed_questionnaire() -> Form {
    use crate::campaigns::{Expr, Question};
    let label = |zh: &str, en: &str| Label { zh: zh.to_owned(), en: en.to_owned() };
    let list = |items: &[(&str, &str, &str)]| -> Vec<Choice> {
        items.iter().map(|(name, zh, en)| Choice { name: (*name).to_owned(), label: label(zh, en) }).collect()
    };
    let q = |name: &str, kind: QuestionKind, zh: &str, en: &str| Question {
        name: name.to_owned(),
        kind,
        label: label(zh, en),
        hint: Label::default(),
        required: true,
        relevant: None,
        constraint: None,
        constraint_message: Label::default(),
        save_to: None,
        page_break: false,
    };
    let mut wish =
        q("wish", QuestionKind::Text, "您希望社区开展哪些文化活动？", "Which cultural activities would you like?");
    wish.required = false;
    wish.relevant = Expr::parse("${culture} = 'unsatisfied'").ok();
    Form {
        id: "tashan_residents".to_owned(),
        title: label("塔山社区居民问卷", "Tashan residents' questionnaire"),
        version: "1".to_owned(),
        questions: vec![
            q(
                "know_party",
                QuestionKind::SelectOne("yes_no".into()),
                "您是否知道为您服务的社区工作者的党员身份？",
                "Do you know which of the community workers serving you are Party members?",
            ),
            q(
                "party_role",
                QuestionKind::SelectOne("role".into()),
                "您认为身边的党员能否发挥先锋模范作用？",
                "Do the Party members around you lead by example?",
            ),
            q(
                "visits",
                QuestionKind::SelectOne("frequency".into()),
                "社区工作者入户走访的频率如何？",
                "How often do community workers visit your home?",
            ),
            q(
                "culture",
                QuestionKind::SelectOne("satisfaction".into()),
                "您对社区文化活动满意吗？",
                "Are you satisfied with the community's cultural activities?",
            ),
            wish,
        ],
        lists: BTreeMap::from([
            ("yes_no".to_owned(), list(&[("yes", "知道", "Yes"), ("no", "不知道", "No")])),
            (
                "role".to_owned(),
                list(&[
                    ("leading", "能发挥", "They do"),
                    ("partly", "部分能", "Some do"),
                    ("none", "不能发挥", "They do not"),
                ]),
            ),
            (
                "frequency".to_owned(),
                list(&[("often", "经常", "Often"), ("sometimes", "有时", "Sometimes"), ("rarely", "很少", "Rarely")]),
            ),
            (
                "satisfaction".to_owned(),
                list(&[
                    ("very", "非常满意", "Very satisfied"),
                    ("satisfied", "满意", "Satisfied"),
                    ("neutral", "一般", "Neutral"),
                    ("unsatisfied", "不满意", "Unsatisfied"),
                ]),
            ),
        ]),
    }
}

/// The seed's published figures, in per mille of those who answered: (question,
/// choice, share). The demo survey's results reproduce them exactly.
pub const SEED_FIGURES: [(&str, &str, i64); 4] = [
    ("know_party", "yes", 585),
    ("party_role", "none", 185),
    ("visits", "rarely", 290),
    ("culture", "unsatisfied", 120),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::campaigns::Question;

    fn form() -> Form {
        let q = |name: &str, kind| Question {
            name: name.into(),
            kind,
            label: Label::both(name),
            hint: Label::default(),
            required: true,
            relevant: None,
            constraint: None,
            constraint_message: Label::default(),
            save_to: None,
            page_break: false,
        };
        let yn = vec![
            Choice { name: "yes".into(), label: Label::both("yes") },
            Choice { name: "no".into(), label: Label::both("no") },
        ];
        Form {
            id: "t".into(),
            title: Label::both("t"),
            version: "1".into(),
            questions: vec![
                q("a", QuestionKind::SelectOne("yn".into())),
                q("b", QuestionKind::SelectMultiple("yn".into())),
            ],
            lists: BTreeMap::from([("yn".to_owned(), yn)]),
        }
    }

    #[test]
    fn age_bands_are_ten_years() {
        assert_eq!(age_band("1960-06-01", "2026-05-31"), "60-69");
        assert_eq!(age_band("1960-06-01", "2026-06-01"), "60-69");
        assert_eq!(age_band("1956-06-01", "2026-06-01"), "70-79");
        assert_eq!(age_band("1940-01-01", "2026-06-01"), "80+");
        assert_eq!(age_band("2020-01-01", "2026-06-01"), "0-9");
        assert_eq!(age_band("bad", "2026-06-01"), "");
    }

    #[test]
    fn tallies_and_cross_tabs_by_hand() {
        let f = form();
        let mk = |a: &str, b: &str| BTreeMap::from([("a".to_owned(), a.to_owned()), ("b".to_owned(), b.to_owned())]);
        let answers: Vec<_> = (0..7).map(|_| mk("yes", "yes no")).chain((0..3).map(|_| mk("no", "no"))).collect();
        let t = tally(&f, &answers);
        assert_eq!(t[0].counts, vec![("yes".to_owned(), 7), ("no".to_owned(), 3)]);
        assert_eq!(t[0].per_mille("yes"), Some(700));
        assert_eq!(t[1].answered, 10);
        assert_eq!(t[1].counts, vec![("yes".to_owned(), 7), ("no".to_owned(), 10)]);
        // Grid A: 6 yes, 1 no; grid B: 1 yes, 2 no.
        let grids = ["A", "A", "A", "A", "A", "A", "B", "A", "B", "B"];
        let tab = cross_tab(&f, "a", grids.iter().copied().zip(answers.iter()));
        assert_eq!(tab, vec![("A".to_owned(), vec![Some(6), None]), ("B".to_owned(), vec![None, None])]);
        assert_eq!(suppress(0), Some(0));
        assert_eq!(suppress(4), None);
        assert_eq!(suppress(5), Some(5));
    }

    #[test]
    fn open_and_close() {
        assert_eq!(next(SurveyState::Draft, true), Ok(SurveyState::Open));
        assert_eq!(next(SurveyState::Open, false), Ok(SurveyState::Closed));
        assert!(next(SurveyState::Draft, false).is_err());
    }
}
