//! XLSForm in and out: the `survey`, `choices` and `settings` sheets that ODK,
//! KoBoToolbox and their kin read and write (xlsform.org), for the part of the
//! standard a campaign form uses.
//!
//! Read: the types `text`, `integer`, `decimal`, `date`, `select_one L`,
//! `select_multiple L`, `image` (a photo), `note`; groups (`begin_group` …
//! `end_group`) become pages, their `relevant` joined to each question inside;
//! ODK's metadata (`start`, `end`, `today`, `deviceid`, `username`, …) is skipped,
//! the server records who and when itself. The columns `name`, `label`, `hint`,
//! `required`, `relevant`, `constraint`, `constraint_message` (each text column also
//! per language, `label::Chinese (zh)`, `label::English (en)`) and `save_to`;
//! `appearance` and other display columns are ignored. Anything else that changes
//! what is asked or stored (`calculate`, `repeat`, `geopoint`, `choice_filter`, a
//! `calculation` or `default`, an expression outside [`super::expr`]) is refused
//! with its sheet, row and column, so a form never runs differently here than in
//! ODK.
//!
//! The sheets come as rows of cell texts with the row numbers Excel shows; the
//! `ledger` crate reads and writes the workbook.

use std::collections::BTreeMap;

use super::{Choice, Expr, Form, Label, Question, QuestionKind, expr::is_name};
use crate::{Message, Vocabulary, msg};

/// A sheet's rows: the row number as Excel shows it, and the cells from column A.
pub type Rows = [(usize, Vec<String>)];

/// A sheet as written out: the header and the rows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SheetOut {
    pub name: &'static str,
    pub rows: Vec<Vec<String>>,
}

/// ODK metadata types, answered by the device, not the person: skipped.
const METADATA: &[&str] = &[
    "start",
    "end",
    "today",
    "deviceid",
    "subscriberid",
    "simserial",
    "phonenumber",
    "username",
    "email",
    "audit",
    "start-geopoint",
];

/// Columns that change what is asked or stored, outside the subset: a non-empty
/// cell in one is refused.
const REFUSED_COLUMNS: &[&str] = &["calculation", "choice_filter", "default", "repeat_count", "trigger", "parameters"];

/// Which language a column's suffix names: `label::Chinese (zh)`, `label::zh`,
/// `label::中文` are Chinese; `label::English (en)`, `label::en` English.
fn language(suffix: &str) -> Option<Lang> {
    let s = suffix.trim().to_lowercase();
    if s.contains("(zh") || s == "zh" || s.starts_with("zh-") || s.contains("chinese") || s.contains("中文") {
        Some(Lang::Zh)
    } else if s.contains("(en") || s == "en" || s.starts_with("en-") || s.contains("english") || s.contains("英文") {
        Some(Lang::En)
    } else {
        None
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Lang {
    Zh,
    En,
}

/// The header of a sheet: column positions by name, text columns per language.
struct Header {
    plain: BTreeMap<String, usize>,
    /// (column base name, language) → position.
    by_lang: BTreeMap<(String, LangKey), usize>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum LangKey {
    Zh,
    En,
}

impl Header {
    fn read(cells: &[String]) -> Header {
        let mut plain = BTreeMap::new();
        let mut by_lang = BTreeMap::new();
        for (i, c) in cells.iter().enumerate() {
            let c = c.trim();
            if c.is_empty() {
                continue;
            }
            match c.split_once("::") {
                Some((base, suffix)) => match language(suffix) {
                    Some(Lang::Zh) => {
                        by_lang.entry((base.trim().to_lowercase(), LangKey::Zh)).or_insert(i);
                    }
                    Some(Lang::En) => {
                        by_lang.entry((base.trim().to_lowercase(), LangKey::En)).or_insert(i);
                    }
                    // Another language: not one of ours, ignored.
                    None => {}
                },
                None => {
                    plain.entry(c.to_lowercase()).or_insert(i);
                }
            }
        }
        Header { plain, by_lang }
    }

    fn get<'r>(&self, row: &'r [String], name: &str) -> &'r str {
        self.plain.get(name).and_then(|&i| row.get(i)).map_or("", |s| s.trim())
    }

    fn has(&self, name: &str) -> bool {
        self.plain.contains_key(name)
    }

    /// A text column in both languages; a plain column fills a missing language,
    /// and one language fills the other.
    fn label(&self, row: &[String], name: &str) -> Label {
        let cell =
            |k: LangKey| self.by_lang.get(&(name.to_owned(), k)).and_then(|&i| row.get(i)).map_or("", |s| s.trim());
        let plain = self.get(row, name);
        let mut zh = cell(LangKey::Zh).to_owned();
        let mut en = cell(LangKey::En).to_owned();
        if zh.is_empty() {
            zh = plain.to_owned();
        }
        if en.is_empty() {
            en = plain.to_owned();
        }
        if zh.is_empty() {
            zh.clone_from(&en);
        }
        if en.is_empty() {
            en.clone_from(&zh);
        }
        Label { zh, en }
    }

    /// The column name as a sheet shows it, for an error.
    fn column(&self, name: &str) -> String {
        name.to_owned()
    }
}

/// An error at a place of the workbook.
fn at(sheet: &str, row: usize, column: &str, why: Message) -> Message {
    msg!("campaigns.xlsform.at", sheet = sheet, row = row, column = column).nested("why", why)
}

/// Reads a form from its sheets (`choices` and `settings` may be absent). Every
/// error is returned, each naming its sheet, row and column.
pub fn read(survey: &Rows, choices: Option<&Rows>, settings: Option<&Rows>) -> Result<Form, Vec<Message>> {
    let mut errors = Vec::new();
    let lists = read_choices(choices.unwrap_or(&[]), &mut errors);
    let (id, title, version) = read_settings(settings.unwrap_or(&[]));

    let mut rows = survey.iter().filter(|(_, cells)| cells.iter().any(|c| !c.trim().is_empty()));
    let Some((header_row, header_cells)) = rows.next() else {
        return Err(vec![msg!("campaigns.xlsform.no_survey")]);
    };
    let h = Header::read(header_cells);
    for needed in ["type", "name"] {
        if !h.has(needed) {
            errors.push(at("survey", *header_row, needed, msg!("campaigns.xlsform.missing_column")));
        }
    }
    if !errors.is_empty() && !h.has("type") {
        return Err(errors);
    }

    let mut questions: Vec<Question> = Vec::new();
    // Open groups: their row, and their `relevant`.
    let mut groups: Vec<(usize, Option<Expr>)> = Vec::new();
    let mut break_next = false;
    for (row, cells) in rows {
        let row = *row;
        let ty = h.get(cells, "type").to_lowercase();
        let ty = ty.split_whitespace().collect::<Vec<_>>();
        let name = h.get(cells, "name").to_owned();
        let err = |column: &str, why: Message| at("survey", row, &h.column(column), why);
        let Some(&head) = ty.first() else {
            if !name.is_empty() {
                errors.push(err("type", msg!("campaigns.xlsform.no_type")));
            }
            continue;
        };
        let parse_expr = |column: &str, errors: &mut Vec<Message>| -> Option<Expr> {
            let text = h.get(cells, column);
            if text.is_empty() {
                return None;
            }
            match Expr::parse(text) {
                Ok(e) => Some(e),
                Err(why) => {
                    errors.push(err(column, why));
                    None
                }
            }
        };
        match head {
            "begin_group" | "begin" if head == "begin_group" || ty.get(1) == Some(&"group") => {
                let relevant = parse_expr("relevant", &mut errors);
                groups.push((row, relevant));
                break_next = true;
                continue;
            }
            "end_group" | "end" if head == "end_group" || ty.get(1) == Some(&"group") => {
                if groups.pop().is_none() {
                    errors.push(err("type", msg!("campaigns.xlsform.end_without_begin")));
                }
                break_next = true;
                continue;
            }
            t if METADATA.contains(&t) => continue,
            _ => {}
        }
        for column in REFUSED_COLUMNS {
            let value = h.get(cells, column);
            if !value.is_empty() {
                errors.push(err(column, msg!("campaigns.xlsform.refused_column", value = value)));
            }
        }
        let kind = match (head, ty.get(1), ty.len()) {
            ("text", None, 1) => QuestionKind::Text,
            ("integer" | "int", None, 1) => QuestionKind::Integer,
            ("decimal", None, 1) => QuestionKind::Decimal,
            ("date", None, 1) => QuestionKind::Date,
            ("image" | "photo", None, 1) => QuestionKind::Photo,
            ("note", None, 1) => QuestionKind::Note,
            ("select_one" | "select_multiple", Some(list), 2) => {
                let list = (*list).to_owned();
                if !lists.contains_key(&list) {
                    errors.push(err("type", msg!("campaigns.xlsform.unknown_list", list = &list)));
                }
                if head == "select_one" { QuestionKind::SelectOne(list) } else { QuestionKind::SelectMultiple(list) }
            }
            _ => {
                errors.push(err("type", msg!("campaigns.xlsform.unsupported_type", value = ty.join(" "))));
                continue;
            }
        };
        if !is_name(&name) {
            errors.push(err("name", msg!("campaigns.xlsform.bad_name", value = name)));
            continue;
        }
        if questions.iter().any(|q| q.name == name) {
            errors.push(err("name", msg!("campaigns.xlsform.duplicate_name", value = name)));
            continue;
        }
        let required = match h.get(cells, "required").to_lowercase().as_str() {
            "" | "no" | "false" | "false()" | "0" => false,
            "yes" | "true" | "true()" | "1" => true,
            other => {
                errors.push(err("required", msg!("campaigns.xlsform.bad_required", value = other)));
                false
            }
        };
        let own_relevant = parse_expr("relevant", &mut errors);
        let constraint = parse_expr("constraint", &mut errors);
        // A condition may read only earlier questions.
        for (column, e) in [("relevant", &own_relevant), ("constraint", &constraint)] {
            for f in e.iter().flat_map(|e| e.fields()) {
                if !questions.iter().any(|q| q.name == f) {
                    errors.push(err(column, msg!("campaigns.xlsform.not_earlier", field = f)));
                }
            }
        }
        if own_relevant.as_ref().is_some_and(Expr::uses_current) {
            errors.push(err("relevant", msg!("campaigns.xlsform.dot_in_relevant")));
        }
        let mut conditions: Vec<Expr> = groups.iter().filter_map(|(_, r)| r.clone()).collect();
        conditions.extend(own_relevant);
        let relevant = match conditions.len() {
            0 => None,
            1 => conditions.pop(),
            _ => Some(Expr::And(conditions)),
        };
        // A registry fact of the vocabulary, written from a date question.
        let save_to = match h.get(cells, "save_to") {
            "" => None,
            given => match super::Fact::parse(given) {
                Ok(fact) if kind == QuestionKind::Date => Some(fact.code().to_owned()),
                Ok(_) => {
                    errors.push(err("save_to", msg!("campaigns.xlsform.save_to_date", value = given)));
                    None
                }
                Err(_) => {
                    let known = super::Fact::all().iter().map(|f| f.code()).collect::<Vec<_>>().join(", ");
                    errors.push(err("save_to", msg!("campaigns.xlsform.unknown_fact", value = given, known = known)));
                    None
                }
            },
        };
        questions.push(Question {
            label: h.label(cells, "label"),
            hint: h.label(cells, "hint"),
            constraint_message: h.label(cells, "constraint_message"),
            name,
            kind,
            required,
            relevant,
            constraint,
            save_to,
            page_break: std::mem::take(&mut break_next),
        });
    }
    for (row, _) in groups {
        errors.push(at("survey", row, "type", msg!("campaigns.xlsform.group_not_closed")));
    }
    if questions.is_empty() && errors.is_empty() {
        errors.push(msg!("campaigns.xlsform.no_questions"));
    }
    if errors.is_empty() { Ok(Form { id, title, version, questions, lists }) } else { Err(errors) }
}

fn read_choices(rows: &Rows, errors: &mut Vec<Message>) -> BTreeMap<String, Vec<Choice>> {
    let mut lists: BTreeMap<String, Vec<Choice>> = BTreeMap::new();
    let mut rows = rows.iter().filter(|(_, cells)| cells.iter().any(|c| !c.trim().is_empty()));
    let Some((header_row, header)) = rows.next() else { return lists };
    let h = Header::read(header);
    // Older forms call the first column `list name`.
    let list_col = if h.has("list_name") { "list_name" } else { "list name" };
    if !h.has(list_col) || !h.has("name") {
        errors.push(at("choices", *header_row, "list_name", msg!("campaigns.xlsform.missing_column")));
        return lists;
    }
    for (row, cells) in rows {
        let list = h.get(cells, list_col).to_owned();
        let name = h.get(cells, "name").to_owned();
        if list.is_empty() && name.is_empty() {
            continue;
        }
        if !is_name(&list) {
            errors.push(at("choices", *row, list_col, msg!("campaigns.xlsform.bad_name", value = list)));
            continue;
        }
        if name.is_empty() || name.contains(char::is_whitespace) {
            errors.push(at("choices", *row, "name", msg!("campaigns.xlsform.bad_choice", value = name)));
            continue;
        }
        let entry = lists.entry(list).or_default();
        if entry.iter().any(|c| c.name == name) {
            errors.push(at("choices", *row, "name", msg!("campaigns.xlsform.duplicate_name", value = name)));
            continue;
        }
        entry.push(Choice { label: h.label(cells, "label"), name });
    }
    lists
}

fn read_settings(rows: &Rows) -> (String, Label, String) {
    let mut rows = rows.iter().filter(|(_, cells)| cells.iter().any(|c| !c.trim().is_empty()));
    let (Some((_, header)), Some((_, values))) = (rows.next(), rows.next()) else {
        return (String::new(), Label::default(), String::new());
    };
    let h = Header::read(header);
    (h.get(values, "form_id").to_owned(), h.label(values, "form_title"), h.get(values, "version").to_owned())
}

/// The column headers the export writes, in order.
const SURVEY_HEADER: &[&str] = &[
    "type",
    "name",
    "label::Chinese (zh)",
    "label::English (en)",
    "hint::Chinese (zh)",
    "hint::English (en)",
    "required",
    "relevant",
    "constraint",
    "constraint_message::Chinese (zh)",
    "constraint_message::English (en)",
    "save_to",
];

/// Writes a form as XLSForm's three sheets. Reading them back gives the same form
/// (a group's condition is written on each of its questions, pages as groups).
pub fn write(form: &Form) -> Vec<SheetOut> {
    let s = |t: &str| t.to_owned();
    let mut survey = vec![SURVEY_HEADER.iter().map(|h| s(h)).collect::<Vec<_>>()];
    let pages = form.pages();
    let explicit: Vec<bool> = form.questions.iter().map(|q| q.page_break).collect();
    let mut open_group: Option<usize> = None;
    for (i, q) in form.questions.iter().enumerate() {
        // Only breaks the form itself asked for become groups; the others follow
        // from the conditions again when read back.
        if explicit[i] {
            if open_group.is_some() {
                survey.push(end_group());
            }
            let mut row = vec![String::new(); SURVEY_HEADER.len()];
            row[0] = s("begin_group");
            row[1] = format!("page_{}", pages[i] + 1);
            survey.push(row);
            open_group = Some(i);
        }
        let kind = match &q.kind {
            QuestionKind::Text => s("text"),
            QuestionKind::Integer => s("integer"),
            QuestionKind::Decimal => s("decimal"),
            QuestionKind::Date => s("date"),
            QuestionKind::SelectOne(l) => format!("select_one {l}"),
            QuestionKind::SelectMultiple(l) => format!("select_multiple {l}"),
            QuestionKind::Photo => s("image"),
            QuestionKind::Note => s("note"),
        };
        survey.push(vec![
            kind,
            q.name.clone(),
            q.label.zh.clone(),
            q.label.en.clone(),
            q.hint.zh.clone(),
            q.hint.en.clone(),
            if q.required { s("yes") } else { String::new() },
            q.relevant.as_ref().map(ToString::to_string).unwrap_or_default(),
            q.constraint.as_ref().map(ToString::to_string).unwrap_or_default(),
            q.constraint_message.zh.clone(),
            q.constraint_message.en.clone(),
            q.save_to.clone().unwrap_or_default(),
        ]);
    }
    if open_group.is_some() {
        survey.push(end_group());
    }
    let mut choices = vec![vec![s("list_name"), s("name"), s("label::Chinese (zh)"), s("label::English (en)")]];
    for (list, items) in &form.lists {
        for c in items {
            choices.push(vec![list.clone(), c.name.clone(), c.label.zh.clone(), c.label.en.clone()]);
        }
    }
    let settings = vec![
        vec![
            s("form_title::Chinese (zh)"),
            s("form_title::English (en)"),
            s("form_id"),
            s("version"),
            s("default_language"),
        ],
        vec![form.title.zh.clone(), form.title.en.clone(), form.id.clone(), form.version.clone(), s("Chinese (zh)")],
    ];
    vec![
        SheetOut { name: "survey", rows: survey },
        SheetOut { name: "choices", rows: choices },
        SheetOut { name: "settings", rows: settings },
    ]
}

fn end_group() -> Vec<String> {
    let mut row = vec![String::new(); SURVEY_HEADER.len()];
    row[0] = "end_group".to_owned();
    row
}
