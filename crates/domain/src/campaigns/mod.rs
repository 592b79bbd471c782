//! Door-to-door campaigns (排查): the short form asked at every target, and the
//! states a target goes through.
//!
//! A [`Form`] is what XLSForm calls a survey: questions with a type, a label in
//! each language, `required`, a condition on earlier answers (`relevant`) and a
//! check of the answer (`constraint`), in the expression subset of [`expr`]. The
//! same form reads from and writes to XLSForm ([`xlsform`]), so forms built for ODK
//! or KoBoToolbox come in and ours go out. [`Form::check`] is the one judge of a
//! submission: the web form, the API and paper entry all go through it.
//!
//! Without JavaScript a conditional question cannot appear the moment its
//! condition is met, so the server shows the form page by page: [`Form::pages`]
//! starts a new page wherever a question depends on an answer given on the page it
//! would otherwise be on (and where the XLSForm has a group).

pub mod builtin;
pub mod expr;
pub mod xlsform;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::Date;
use utoipa::ToSchema;

use crate::vocab::vocabulary;
use crate::{Message, Vocabulary, msg};
pub use expr::{Answers, Context, Expr};

/// A text in both languages of the interface.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Label {
    pub zh: String,
    pub en: String,
}

impl Label {
    /// The same text in both languages (a form written in one language).
    pub fn both(text: &str) -> Label {
        Label { zh: text.to_owned(), en: text.to_owned() }
    }

    pub fn is_empty(&self) -> bool {
        self.zh.is_empty() && self.en.is_empty()
    }
}

/// What kind of answer a question takes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "list", rename_all = "snake_case")]
pub enum QuestionKind {
    Text,
    Integer,
    Decimal,
    /// A day, `YYYY-MM-DD`.
    Date,
    /// One choice of the named list (a yes/no question is one over a yes/no list).
    SelectOne(String),
    /// Any choices of the named list, stored as their names separated by spaces.
    SelectMultiple(String),
    /// A photo, stored as the id of its attachment.
    Photo,
    /// Text shown to the person asking; takes no answer.
    Note,
}

impl QuestionKind {
    /// The list a choice question draws from.
    pub fn list(&self) -> Option<&str> {
        match self {
            QuestionKind::SelectOne(l) | QuestionKind::SelectMultiple(l) => Some(l),
            _ => None,
        }
    }
}

/// One question of a form.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Question {
    /// The name answers are kept under (`${name}` in expressions).
    pub name: String,
    pub kind: QuestionKind,
    pub label: Label,
    pub hint: Label,
    pub required: bool,
    /// Asked only when this holds.
    #[serde(with = "opt_expr")]
    pub relevant: Option<Expr>,
    /// The answer must satisfy this (`.` is the answer).
    #[serde(with = "opt_expr")]
    pub constraint: Option<Expr>,
    pub constraint_message: Label,
    /// The registry field this answer updates, where the form says so (XLSForm's
    /// `save_to`); the store knows which fields exist.
    pub save_to: Option<String>,
    /// Starts a new page whatever the conditions (an XLSForm group begins here).
    pub page_break: bool,
}

/// One choice of a list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    pub name: String,
    pub label: Label,
}

/// A campaign's form, as one version of it: a submission is pinned to the version
/// it was made with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Form {
    /// XLSForm's `form_id`.
    pub id: String,
    pub title: Label,
    /// XLSForm's `version`.
    pub version: String,
    pub questions: Vec<Question>,
    /// The choice lists, by name.
    pub lists: BTreeMap<String, Vec<Choice>>,
}

/// What is wrong with one answer of a submission.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AnswerError {
    pub question: String,
    pub message: Message,
}

impl Form {
    /// The question named `name`.
    pub fn question(&self, name: &str) -> Option<&Question> {
        self.questions.iter().find(|q| q.name == name)
    }

    /// The label of choice `name` of `list`.
    pub fn choice(&self, list: &str, name: &str) -> Option<&Choice> {
        self.lists.get(list)?.iter().find(|c| c.name == name)
    }

    /// The page (from 0) each question is shown on, in the order of the questions:
    /// a new page where the form says so, and wherever a question's condition reads
    /// an answer given on the page it would be on.
    pub fn pages(&self) -> Vec<usize> {
        let mut page = 0;
        let mut on_page: Vec<&str> = Vec::new();
        let mut out = Vec::with_capacity(self.questions.len());
        for q in &self.questions {
            let depends = q.relevant.as_ref().is_some_and(|r| r.fields().iter().any(|f| on_page.contains(f)));
            if (q.page_break || depends) && !on_page.is_empty() {
                page += 1;
                on_page.clear();
            }
            on_page.push(&q.name);
            out.push(page);
        }
        out
    }

    /// Whether question `q` is asked, given the answers so far.
    pub fn is_relevant(&self, q: &Question, answers: &dyn Answers, today: &str) -> bool {
        q.relevant.as_ref().is_none_or(|r| r.holds(&Context { answers, current: "", today }))
    }

    /// Checks a submission: every asked question's answer has its type, a required
    /// one is given, a constraint holds, a choice is of its list. Answers to
    /// questions not asked (their condition fails) and to unknown names are dropped,
    /// so a changed answer upstream cannot leave a stale one behind. Returns the
    /// answers to keep, normalised (trimmed, numbers as written, choices in list
    /// order), or every error, each naming its question.
    pub fn check(
        &self,
        given: &BTreeMap<String, String>,
        today: &str,
    ) -> Result<BTreeMap<String, String>, Vec<AnswerError>> {
        let mut kept: BTreeMap<String, String> = BTreeMap::new();
        let mut errors = Vec::new();
        for q in &self.questions {
            if q.kind == QuestionKind::Note || !self.is_relevant(q, &kept, today) {
                continue;
            }
            let raw = given.get(&q.name).map_or("", |s| s.trim());
            if raw.is_empty() {
                if q.required {
                    errors.push(AnswerError { question: q.name.clone(), message: msg!("campaigns.answer.required") });
                }
                continue;
            }
            let value = match self.typed(q, raw) {
                Ok(v) => v,
                Err(message) => {
                    errors.push(AnswerError { question: q.name.clone(), message });
                    continue;
                }
            };
            if let Some(c) = &q.constraint
                && !c.holds(&Context { answers: &kept, current: &value, today })
            {
                let message = if q.constraint_message.is_empty() {
                    msg!("campaigns.answer.constraint")
                } else {
                    Message::new("campaigns.answer.constraint_custom").lang_arg(
                        "text",
                        &q.constraint_message.zh,
                        &q.constraint_message.en,
                    )
                };
                errors.push(AnswerError { question: q.name.clone(), message });
                continue;
            }
            kept.insert(q.name.clone(), value);
        }
        if errors.is_empty() { Ok(kept) } else { Err(errors) }
    }

    fn typed(&self, q: &Question, raw: &str) -> Result<String, Message> {
        let raw = crate::text::normalize(raw);
        match &q.kind {
            QuestionKind::Text | QuestionKind::Photo | QuestionKind::Note => Ok(raw),
            QuestionKind::Integer => match raw.parse::<i64>() {
                Ok(n) => Ok(n.to_string()),
                Err(_) => Err(msg!("campaigns.answer.integer", value = raw)),
            },
            QuestionKind::Decimal => match raw.parse::<f64>() {
                Ok(n) if n.is_finite() => Ok(raw),
                _ => Err(msg!("campaigns.answer.decimal", value = raw)),
            },
            QuestionKind::Date => {
                let format = time::macros::format_description!("[year]-[month]-[day]");
                match Date::parse(&raw, format) {
                    Ok(d) => Ok(d.format(format).unwrap_or(raw)),
                    Err(_) => Err(msg!("campaigns.answer.date", value = raw)),
                }
            }
            QuestionKind::SelectOne(list) => self
                .choice(list, &raw)
                .map(|c| c.name.clone())
                .ok_or_else(|| msg!("campaigns.answer.choice", value = raw)),
            QuestionKind::SelectMultiple(list) => {
                let picked: Vec<&str> = raw.split_whitespace().collect();
                if let Some(bad) = picked.iter().find(|p| self.choice(list, p).is_none()) {
                    return Err(msg!("campaigns.answer.choice", value = bad));
                }
                let in_order: Vec<&str> =
                    self.lists[list].iter().map(|c| c.name.as_str()).filter(|n| picked.contains(n)).collect();
                Ok(in_order.join(" "))
            }
        }
    }
}

vocabulary!(
    /// Where a campaign's target stands. 不在家 puts it in the revisit queue.
    TargetStatus, "campaign target status" {
    Pending = "pending", "待走访", "Pending", ["未访", "未走访"];
    Done = "done", "已完成", "Done", ["完成"];
    NotHome = "not_home", "不在家", "Not at home", ["无人", "无人在家"];
    Refused = "refused", "拒绝", "Refused", ["拒访"];
    NoSuchHousehold = "no_such_household", "无此户", "No such household", ["查无此户", "空户"];
    Exempt = "exempt", "免查", "Exempt", ["豁免"];
});

vocabulary!(
    /// Whom a campaign asks: every household in scope, or every person matching.
    TargetKind, "campaign target kind" {
    Household = "household", "住户", "Household", ["户", "家庭"];
    Person = "person", "人员", "Person", ["人", "个人"];
});

vocabulary!(
    /// A dated fact the registry keeps about a household or a person, which a
    /// form's date question may write back (XLSForm's `save_to`): the store keeps
    /// one value per subject and fact, and flags an answer instead of overwriting a
    /// value changed since the form was opened.
    Fact, "registry fact" {
    GasCheckedOn = "gas_checked_on", "最近燃气检查", "Last gas check", ["燃气检查日期"];
    FloodCheckedOn = "flood_checked_on", "最近汛期检查", "Last flood check", ["汛期检查日期"];
    VaccinatedOn = "vaccinated_on", "最近疫苗接种", "Last vaccination", ["疫苗接种日期"];
});

impl Fact {
    /// Whom the fact is about: a household fact is written from a household's or
    /// a person's target (their household), a person's only from a person's.
    pub fn subject(self) -> TargetKind {
        match self {
            Fact::GasCheckedOn | Fact::FloodCheckedOn => TargetKind::Household,
            Fact::VaccinatedOn => TargetKind::Person,
        }
    }
}

impl Form {
    /// The questions that write a registry fact, with the fact.
    pub fn write_backs(&self) -> impl Iterator<Item = (&Question, Fact)> {
        self.questions.iter().filter_map(|q| Some((q, Fact::parse(q.save_to.as_deref()?).ok()?)))
    }

    /// Whether a campaign of `kind` can write every fact this form names (a
    /// person's fact needs a person to write it to).
    pub fn writes_to(&self, kind: TargetKind) -> Result<(), Message> {
        match self.write_backs().find(|(_, f)| f.subject() == TargetKind::Person && kind != TargetKind::Person) {
            Some((q, f)) => Err(msg!("campaigns.error.save_to_kind", question = &q.name, fact = f.code())),
            None => Ok(()),
        }
    }
}

vocabulary!(
    /// How often a campaign saved as a template is started again.
    Repeat, "campaign repeat" {
    Never = "never", "不重复", "Not repeated", ["一次", "只一次"];
    Monthly = "monthly", "每月", "Every month", ["每月一次", "月度"];
    Quarterly = "quarterly", "每季度", "Every quarter", ["季度", "每季"];
    Yearly = "yearly", "每年", "Every year", ["年度", "每年一次"];
});

impl Repeat {
    /// The opening day one period after `day`, on the day of the month the
    /// schedule keeps to (`anchor`), or the month's last day when it is shorter:
    /// a schedule begun on 31 January opens on 28 February, then 31 March.
    pub fn after(self, day: Date, anchor: u8) -> Option<Date> {
        let months = match self {
            Repeat::Never => return None,
            Repeat::Monthly => 1,
            Repeat::Quarterly => 3,
            Repeat::Yearly => 12,
        };
        let index = day.year() * 12 + i32::from(u8::from(day.month())) - 1 + months;
        let (year, month) = (index.div_euclid(12), time::Month::try_from((index.rem_euclid(12) + 1) as u8).ok()?);
        let last = time::util::days_in_month(month, year);
        Date::from_calendar_date(year, month, anchor.clamp(1, 31).min(last)).ok()
    }
}

impl TargetStatus {
    /// Whether the target still waits for a visit (the revisit queue is `NotHome`).
    pub fn is_open(self) -> bool {
        matches!(self, TargetStatus::Pending | TargetStatus::NotHome)
    }

    /// Whether the target counts as reached for the progress figures: a visit
    /// settled it one way or another (done, refused, no such household); exempt
    /// targets are not expected at all.
    pub fn is_settled(self) -> bool {
        matches!(self, TargetStatus::Done | TargetStatus::Refused | TargetStatus::NoSuchHousehold)
    }
}

mod opt_expr {
    //! Expressions are stored as the text XLSForm would hold.
    use serde::{Deserialize, Deserializer, Serializer};

    use super::Expr;

    pub fn serialize<S: Serializer>(e: &Option<Expr>, s: S) -> Result<S::Ok, S::Error> {
        match e {
            Some(e) => s.serialize_some(&e.to_string()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Expr>, D::Error> {
        let text: Option<String> = Option::deserialize(d)?;
        text.map(|t| Expr::parse(&t).map_err(|m| serde::de::Error::custom(m.to_string()))).transpose()
    }
}

#[cfg(test)]
mod tests;
