use std::collections::BTreeMap;

use super::xlsform::{self, Rows};
use super::*;
use crate::Arg;

/// Rows as a sheet gives them: row numbers from 1.
fn sheet(rows: &[&[&str]]) -> Sheet {
    rows.iter().enumerate().map(|(i, r)| (i + 1, r.iter().map(|c| (*c).to_owned()).collect())).collect()
}

/// A gas-safety check shaped like the forms ODK and KoBoToolbox users share: ODK's
/// metadata, labels in two languages, a group, a multiple choice, a constraint
/// with its message, a question asked only on an earlier answer.
type Sheet = Vec<(usize, Vec<String>)>;

fn gas_check() -> (Sheet, Sheet, Sheet) {
    let survey = sheet(&[
        &[
            "type",
            "name",
            "label::Chinese (zh)",
            "label::English (en)",
            "hint::Chinese (zh)",
            "required",
            "relevant",
            "constraint",
            "constraint_message::Chinese (zh)",
            "constraint_message::English (en)",
            "appearance",
            "save_to",
        ],
        &["start", "start", "", "", "", "", "", "", "", "", "", ""],
        &["end", "end", "", "", "", "", "", "", "", "", "", ""],
        &["select_one yes_no", "uses_gas", "是否使用燃气", "Uses gas", "", "yes", "", "", "", "", "", ""],
        &[
            "begin_group",
            "appliance",
            "燃气设备",
            "Appliances",
            "",
            "",
            "${uses_gas} = 'yes'",
            "",
            "",
            "",
            "field-list",
            "",
        ],
        &["select_multiple appliances", "kinds", "设备类型", "Kinds", "可多选", "yes", "", "", "", "", "", ""],
        &[
            "integer",
            "hose_age",
            "软管使用年限",
            "Hose age (years)",
            "",
            "yes",
            "",
            ". >= 0 and . <= 50",
            "年限应在0到50之间",
            "Between 0 and 50",
            "",
            "",
        ],
        &["select_one yes_no", "alarm", "是否安装报警器", "Alarm fitted", "", "", "", "", "", "", "", ""],
        &["end_group", "", "", "", "", "", "", "", "", "", "", ""],
        &["date", "checked_on", "检查日期", "Checked on", "", "yes", "", ". <= today()", "", "", "", "gas_checked_on"],
        &[
            "text",
            "problem",
            "发现的问题",
            "Problem found",
            "",
            "",
            "${hose_age} > 8 or selected(${kinds}, 'water_heater')",
            "",
            "",
            "",
            "multiline",
            "",
        ],
        &["image", "photo", "现场照片", "Photo", "", "", "", "", "", "", "", ""],
    ]);
    let choices = sheet(&[
        &["list_name", "name", "label::Chinese (zh)", "label::English (en)"],
        &["yes_no", "yes", "是", "Yes"],
        &["yes_no", "no", "否", "No"],
        &["appliances", "stove", "灶具", "Stove"],
        &["appliances", "water_heater", "热水器", "Water heater"],
        &["appliances", "wall_boiler", "壁挂炉", "Wall boiler"],
    ]);
    let settings = sheet(&[&["form_title", "form_id", "version"], &["燃气安全排查", "gas_check", "2026120301"]]);
    (survey, choices, settings)
}

fn gas_form() -> Form {
    let (s, c, t) = gas_check();
    xlsform::read(&s, Some(&c), Some(&t)).unwrap()
}

#[test]
fn an_odk_shaped_form_reads_with_groups_metadata_and_both_languages() {
    let form = gas_form();
    assert_eq!(
        (form.id.as_str(), form.version.as_str(), form.title.zh.as_str()),
        ("gas_check", "2026120301", "燃气安全排查")
    );
    let names: Vec<&str> = form.questions.iter().map(|q| q.name.as_str()).collect();
    assert_eq!(names, ["uses_gas", "kinds", "hose_age", "alarm", "checked_on", "problem", "photo"], "metadata skipped");
    let kinds = form.question("kinds").unwrap();
    assert_eq!(kinds.kind, QuestionKind::SelectMultiple("appliances".into()));
    assert_eq!(
        (kinds.label.zh.as_str(), kinds.label.en.as_str(), kinds.hint.en.as_str()),
        ("设备类型", "Kinds", "可多选")
    );
    // The group's condition is carried by every question in it.
    assert_eq!(form.question("alarm").unwrap().relevant.as_ref().unwrap().to_string(), "${uses_gas} = 'yes'");
    assert_eq!(form.question("checked_on").unwrap().save_to.as_deref(), Some("gas_checked_on"));
    assert_eq!(form.lists["appliances"].len(), 3);
    // The group starts a page; leaving it starts another; `problem` reads answers
    // of the page before, so it stays with `checked_on`.
    assert_eq!(form.pages(), [0, 1, 1, 1, 2, 2, 2]);
}

#[test]
fn the_xlsform_round_trip_gives_the_same_form() {
    let form = gas_form();
    let sheets = xlsform::write(&form);
    assert_eq!(sheets.iter().map(|s| s.name).collect::<Vec<_>>(), ["survey", "choices", "settings"]);
    let numbered = |rows: &Vec<Vec<String>>| -> Vec<(usize, Vec<String>)> {
        rows.iter().enumerate().map(|(i, r)| (i + 1, r.clone())).collect()
    };
    let back =
        xlsform::read(&numbered(&sheets[0].rows), Some(&numbered(&sheets[1].rows)), Some(&numbered(&sheets[2].rows)))
            .unwrap();
    assert_eq!(back, form);
    assert_eq!(back.pages(), form.pages());
}

fn errors_of(survey: &Rows, choices: &Rows) -> Vec<Message> {
    xlsform::read(survey, Some(choices), None).unwrap_err()
}

fn place(m: &Message) -> (String, String, String, &'static str) {
    let arg = |n: &str| m.text(n).unwrap_or_default().to_owned();
    let why = m
        .args
        .iter()
        .find_map(|(n, a)| match a {
            Arg::Message(inner) if *n == "why" => Some(inner.key),
            _ => None,
        })
        .unwrap_or("");
    (arg("sheet"), arg("row"), arg("column"), why)
}

#[test]
fn what_lies_outside_the_subset_is_refused_with_its_row_and_column() {
    let (survey, choices, _) = gas_check();
    let mut bad = survey.clone();
    // Row 7: arithmetic in a constraint; row 11: an unknown function.
    bad[6].1[7] = ". + 1 > 2".into();
    bad[10].1[6] = "count-selected(${kinds}) > 1".into();
    bad.push((13, vec!["geopoint".into(), "where".into()]));
    bad.push((14, vec!["calculate".into(), "total".into()]));
    bad.push((15, vec!["select_one nowhere".into(), "q15".into()]));
    bad.push((16, vec!["text".into(), "uses_gas".into()]));
    bad.push((
        17,
        vec!["text".into(), "late".into(), "".into(), "".into(), "".into(), "".into(), "${later} = 1".into()],
    ));
    let errors = errors_of(&bad, &choices);
    let places: Vec<_> = errors.iter().map(place).collect();
    let expect =
        |row: &str, column: &str, why: &'static str| (String::from("survey"), row.to_owned(), column.to_owned(), why);
    assert_eq!(
        places,
        [
            expect("7", "constraint", "campaigns.expr.unexpected"),
            expect("11", "relevant", "campaigns.expr.unsupported_function"),
            expect("13", "type", "campaigns.xlsform.unsupported_type"),
            expect("14", "type", "campaigns.xlsform.unsupported_type"),
            expect("15", "type", "campaigns.xlsform.unknown_list"),
            expect("16", "name", "campaigns.xlsform.duplicate_name"),
            expect("17", "relevant", "campaigns.xlsform.not_earlier"),
        ]
    );
    // A cell that changes what is stored is refused, not ignored.
    let mut calc = survey.clone();
    calc[0].1.push("calculation".into());
    calc[3].1.resize(13, String::new());
    calc[3].1[12] = "1 + 1".into();
    let errors = errors_of(&calc, &choices);
    assert_eq!(places_of(&errors), [("4".to_owned(), "calculation".to_owned())]);
}

fn places_of(errors: &[Message]) -> Vec<(String, String)> {
    errors.iter().map(place).map(|(_, r, c, _)| (r, c)).collect()
}

fn given(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

#[test]
fn a_submission_is_checked_and_answers_not_asked_are_dropped() {
    let form = gas_form();
    let today = "2026-12-03";
    // No gas: the appliance questions are not asked, so a stale answer goes.
    let kept = form
        .check(
            &given(&[("uses_gas", "no"), ("kinds", "stove"), ("hose_age", "12"), ("checked_on", "2026-12-01")]),
            today,
        )
        .unwrap();
    assert_eq!(kept, given(&[("uses_gas", "no"), ("checked_on", "2026-12-01")]));

    // Gas: required answers, the constraint, the choice list, the date.
    let errors = form
        .check(
            &given(&[("uses_gas", "yes"), ("kinds", "stove oven"), ("hose_age", "60"), ("checked_on", "2027-01-01")]),
            today,
        )
        .unwrap_err();
    let found: Vec<(&str, &str)> = errors.iter().map(|e| (e.question.as_str(), e.message.key)).collect();
    assert_eq!(
        found,
        [
            ("kinds", "campaigns.answer.choice"),
            ("hose_age", "campaigns.answer.constraint_custom"),
            ("checked_on", "campaigns.answer.constraint"),
        ]
    );
    let errors = form.check(&given(&[("uses_gas", "yes"), ("hose_age", "五")]), today).unwrap_err();
    let found: Vec<(&str, &str)> = errors.iter().map(|e| (e.question.as_str(), e.message.key)).collect();
    assert_eq!(
        found,
        [
            ("kinds", "campaigns.answer.required"),
            ("hose_age", "campaigns.answer.integer"),
            ("checked_on", "campaigns.answer.required"),
        ]
    );

    // Full-width digits are read; choices come back in the list's order; the
    // follow-up question is asked because the hose is old.
    let kept = form
        .check(
            &given(&[
                ("uses_gas", "yes"),
                ("kinds", " water_heater stove "),
                ("hose_age", "９"),
                ("checked_on", "2026-12-03"),
                ("problem", "软管老化"),
            ]),
            today,
        )
        .unwrap();
    assert_eq!(kept["kinds"], "stove water_heater");
    assert_eq!(kept["hose_age"], "9");
    assert_eq!(kept["problem"], "软管老化");
    let kept = form
        .check(
            &given(&[
                ("uses_gas", "yes"),
                ("kinds", "stove"),
                ("hose_age", "2"),
                ("checked_on", "2026-12-03"),
                ("problem", "x"),
            ]),
            today,
        )
        .unwrap();
    assert!(!kept.contains_key("problem"), "not asked for a new hose and no water heater");
}

#[test]
fn a_condition_on_the_same_page_moves_the_question_to_the_next_page() {
    let survey = sheet(&[
        &["type", "name", "label", "relevant"],
        &["integer", "a", "A", ""],
        &["integer", "b", "B", ""],
        &["text", "c", "C", "${a} > 1"],
        &["text", "d", "D", ""],
        &["text", "e", "E", "${b} > 1"],
        &["text", "f", "F", "${d} = 'x'"],
    ]);
    let form = xlsform::read(&survey, None, None).unwrap();
    // c reads a (page 0) → page 1; e reads b, on page 0 → stays on page 1;
    // f reads d, on page 1 → page 2.
    assert_eq!(form.pages(), [0, 0, 1, 1, 1, 2]);
    assert_eq!(form.question("c").unwrap().label, Label::both("C"));
}

#[test]
fn the_stored_form_keeps_its_expressions_as_text() {
    let form = gas_form();
    let json = serde_json::to_value(&form).unwrap();
    assert_eq!(json["questions"][5]["relevant"], "${hose_age} > 8 or selected(${kinds}, 'water_heater')");
    assert_eq!(json["questions"][1]["kind"], serde_json::json!({"type": "select_multiple", "list": "appliances"}));
    let back: Form = serde_json::from_value(json).unwrap();
    assert_eq!(back, form);
}

#[test]
fn target_states_say_what_is_open_and_what_is_settled() {
    use crate::Vocabulary;
    let open: Vec<&str> = TargetStatus::all().iter().filter(|s| s.is_open()).map(|s| s.code()).collect();
    assert_eq!(open, ["pending", "not_home"]);
    let settled: Vec<&str> = TargetStatus::all().iter().filter(|s| s.is_settled()).map(|s| s.code()).collect();
    assert_eq!(settled, ["done", "refused", "no_such_household"]);
    assert_eq!(TargetStatus::parse("查无此户").ok(), Some(TargetStatus::NoSuchHousehold));
}

#[test]
fn every_shipped_form_reads_and_survives_the_round_trip() {
    for b in builtin::BUILTINS {
        let form = b.form();
        assert_eq!(form.id, b.code);
        assert_eq!(form.title.zh, b.title_zh);
        assert!(form.questions.len() >= 3, "{}: {} questions", b.code, form.questions.len());
        let sheets = xlsform::write(&form);
        let as_rows =
            |i: usize| -> Sheet { sheets[i].rows.iter().enumerate().map(|(n, r)| (n + 1, r.clone())).collect() };
        let back = xlsform::read(&as_rows(0), Some(&as_rows(1)), Some(&as_rows(2))).unwrap();
        assert_eq!(back, form, "{}", b.code);
    }
    assert!(builtin::Builtin::find("gas_check").is_some());
    assert!(builtin::Builtin::find("no_such_form").is_none());
}

#[test]
fn a_schedule_keeps_its_day_of_the_month() {
    use super::Repeat;
    let d = |y: i32, m: u8, day: u8| time::Date::from_calendar_date(y, time::Month::try_from(m).unwrap(), day).unwrap();
    assert_eq!(Repeat::Monthly.after(d(2027, 1, 31), 31), Some(d(2027, 2, 28)));
    assert_eq!(Repeat::Monthly.after(d(2027, 2, 28), 31), Some(d(2027, 3, 31)));
    assert_eq!(Repeat::Monthly.after(d(2026, 12, 5), 5), Some(d(2027, 1, 5)));
    assert_eq!(Repeat::Quarterly.after(d(2026, 11, 30), 30), Some(d(2027, 2, 28)));
    assert_eq!(Repeat::Yearly.after(d(2028, 2, 29), 29), Some(d(2029, 2, 28)));
    assert_eq!(Repeat::Never.after(d(2026, 12, 5), 5), None);
}
