//! XLSForm workbooks in and out: a form shaped like those ODK and KoBoToolbox users
//! share (sheets in their order, metadata rows, labels per language, a group, a
//! constraint with its message), read through the workbook; our export read back;
//! a row outside the supported expressions refused with its sheet, row and column.

use rust_xlsxwriter::Workbook;
use wangge_domain::Message;
use wangge_domain::campaigns::QuestionKind;
use wangge_domain::campaigns::builtin::BUILTINS;
use wangge_ledger::xlsform::{FormError, form_xlsx_bytes, read_form_bytes};

/// A workbook with the sheets given, in that order.
fn workbook(sheets: &[(&str, &[&[&str]])]) -> Vec<u8> {
    let mut book = Workbook::new();
    for (name, rows) in sheets {
        let sheet = book.add_worksheet();
        sheet.set_name(*name).unwrap();
        for (r, cells) in rows.iter().enumerate() {
            for (c, text) in cells.iter().enumerate() {
                if !text.is_empty() {
                    sheet.write_string(r as u32, c as u16, *text).unwrap();
                }
            }
        }
    }
    book.save_to_buffer().unwrap()
}

const SURVEY_HEADER: &[&str] = &[
    "type",
    "name",
    "label::Chinese (zh)",
    "label::English (en)",
    "required",
    "relevant",
    "constraint",
    "constraint_message::Chinese (zh)",
    "appearance",
];

fn odk_form(relevant_of_note: &str) -> Vec<u8> {
    workbook(&[
        // KoBoToolbox exports settings first.
        (
            "settings",
            &[
                &["form_title", "form_id", "version", "default_language"],
                &["入户核查", "home_check", "3", "Chinese (zh)"],
            ],
        ),
        (
            "survey",
            &[
                SURVEY_HEADER,
                &["start", "start", "", "", "", "", "", "", ""],
                &["deviceid", "deviceid", "", "", "", "", "", "", ""],
                &["select_one yn", "present", "户主在家", "Head at home", "yes", "", "", "", ""],
                &["begin_group", "g1", "", "", "", "${present} = 'yes'", "", "", "field-list"],
                &[
                    "integer",
                    "people",
                    "在住人数",
                    "People living here",
                    "yes",
                    "",
                    ". > 0 and . < 30",
                    "人数应在1到29之间",
                    "",
                ],
                &["select_multiple needs", "needs", "需求", "Needs", "", "", "", "", ""],
                &["end_group", "", "", "", "", "", "", "", ""],
                &["text", "note", "备注", "Note", "", relevant_of_note, "", "", "multiline"],
            ],
        ),
        (
            "choices",
            &[
                &["list_name", "name", "label::Chinese (zh)", "label::English (en)"],
                &["yn", "yes", "是", "Yes"],
                &["yn", "no", "否", "No"],
                &["needs", "care", "照料", "Care"],
                &["needs", "repair", "维修", "Repairs"],
            ],
        ),
    ])
}

#[test]
fn an_odk_shaped_workbook_reads_and_our_export_reads_back_the_same() {
    let form = read_form_bytes(&odk_form("selected(${needs}, 'repair')")).unwrap();
    assert_eq!(form.id, "home_check");
    assert_eq!(form.version, "3");
    let names: Vec<&str> = form.questions.iter().map(|q| q.name.as_str()).collect();
    assert_eq!(names, ["present", "people", "needs", "note"], "metadata skipped, the group's questions kept");
    assert_eq!(form.question("needs").unwrap().kind, QuestionKind::SelectMultiple("needs".into()));
    assert_eq!(form.question("people").unwrap().label.en, "People living here");
    // The group's condition is carried by each question inside it.
    assert!(form.question("people").unwrap().relevant.is_some());

    let out = form_xlsx_bytes(&form).unwrap();
    assert_eq!(read_form_bytes(&out).unwrap(), form);

    for b in BUILTINS {
        let f = b.form();
        assert_eq!(read_form_bytes(&form_xlsx_bytes(&f).unwrap()).unwrap(), f, "{}", b.code);
    }
}

#[test]
fn an_expression_outside_the_subset_is_refused_with_its_row() {
    let Err(FormError::Rows(errors)) = read_form_bytes(&odk_form("string-length(${needs}) > 3")) else {
        panic!("a function outside the subset must be refused");
    };
    assert_eq!(errors.len(), 1, "{errors:?}");
    let e: &Message = &errors[0];
    assert_eq!(e.key, "campaigns.xlsform.at");
    let arg = |name: &str| e.text(name).unwrap_or_default().to_owned();
    assert_eq!(arg("sheet"), "survey");
    // The header is row 1; the note is the ninth row of the sheet.
    assert_eq!(arg("row"), "9");
    assert_eq!(arg("column"), "relevant");
}

#[test]
fn a_workbook_without_a_survey_sheet_or_not_a_workbook_says_so() {
    let only_choices = workbook(&[("choices", &[&["list_name", "name", "label"], &["yn", "yes", "是"]])]);
    let Err(FormError::Rows(errors)) = read_form_bytes(&only_choices) else { panic!("no survey sheet") };
    assert_eq!(errors[0].key, "campaigns.xlsform.no_survey");
    assert!(matches!(read_form_bytes(b"type,name\ntext,a\n"), Err(FormError::File(_))));
    assert!(matches!(read_form_bytes(b""), Err(FormError::File(_))));
}
