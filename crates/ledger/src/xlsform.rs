//! XLSForm workbooks: the `survey`, `choices` and `settings` sheets found by name
//! (ODK and KoBoToolbox put them in any order), read into the rows
//! `wangge_domain::campaigns::xlsform` judges, and a form written back as a
//! workbook ODK opens.

use std::io::Cursor;

use calamine::{Reader, Xlsx};
use rust_xlsxwriter::{Format, Workbook, XlsxError};
use wangge_domain::campaigns::{Form, xlsform};
use wangge_domain::{Explain, Message, msg};

use crate::table::{ReadError, Table};

/// Why an uploaded workbook gave no form: the file itself, or the form's rows.
#[derive(Debug)]
pub enum FormError {
    File(ReadError),
    /// Every error of the form, each with its sheet, row and column.
    Rows(Vec<Message>),
}

impl FormError {
    pub fn messages(&self) -> Vec<Message> {
        match self {
            FormError::File(e) => vec![e.message()],
            FormError::Rows(m) => m.clone(),
        }
    }
}

/// A sheet's rows as the form reader takes them: Excel's row number and the cells.
type SheetRows = Vec<(usize, Vec<String>)>;

fn rows(table: Table) -> SheetRows {
    table.rows.into_iter().map(|r| (r.number, r.cells)).collect()
}

/// Reads a form from an XLSForm `.xlsx` held in memory.
pub fn read_form_bytes(bytes: &[u8]) -> Result<Form, FormError> {
    if bytes.is_empty() {
        return Err(FormError::File(ReadError::Empty));
    }
    let mut workbook =
        Xlsx::new(Cursor::new(bytes)).map_err(|_| FormError::File(ReadError::NotAWorkbook(".xlsx".into())))?;
    let names = workbook.sheet_names().to_vec();
    let mut sheet = |wanted: &str| -> Result<Option<SheetRows>, FormError> {
        let Some(name) = names.iter().find(|n| n.trim().eq_ignore_ascii_case(wanted)) else { return Ok(None) };
        let range = workbook.worksheet_range(name).map_err(|e| FormError::File(ReadError::Damaged(e.to_string())))?;
        Ok(Some(rows(crate::table::table_from_range(&range, &[]))))
    };
    let Some(survey) = sheet("survey")? else {
        return Err(FormError::Rows(vec![msg!("campaigns.xlsform.no_survey")]));
    };
    let choices = sheet("choices")?;
    let settings = sheet("settings")?;
    xlsform::read(&survey, choices.as_deref(), settings.as_deref()).map_err(FormError::Rows)
}

/// Writes a form as an XLSForm `.xlsx` (every cell text, the header bold).
pub fn form_xlsx_bytes(form: &Form) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    let bold = Format::new().set_bold();
    for s in xlsform::write(form) {
        let sheet = workbook.add_worksheet();
        sheet.set_name(s.name)?;
        for (r, cells) in s.rows.iter().enumerate() {
            for (c, text) in cells.iter().enumerate() {
                let (row, col) = (r as u32, c as u16);
                if r == 0 {
                    sheet.write_string_with_format(row, col, text, &bold)?;
                } else if !text.is_empty() {
                    sheet.write_string(row, col, text)?;
                }
            }
        }
        sheet.set_column_width(2, 24)?;
        sheet.set_column_width(3, 24)?;
    }
    workbook.save_to_buffer()
}
