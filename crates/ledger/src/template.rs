//! The ledger template a community can download and fill in: every column the
//! importer recognises, required ones marked `*`, one example row, and a second
//! sheet of notes in Chinese and English saying what each column takes.

use rust_xlsxwriter::{Format, FormatBorder, XlsxError};
use wangge_domain::{IdCardNumber, Relation, Vocabulary};

use crate::columns::Field;
use crate::xlsx_out::build_workbook;

/// The example row, one value per [`Field::ALL`]: a made-up person whose ID card
/// number passes the checksum, so that the row shows what a correct row looks like.
fn example() -> Vec<String> {
    let birth = time::Date::from_calendar_date(1958, time::Month::March, 7).expect("a valid date");
    let id = IdCardNumber::compose(370602, birth, 2);
    Field::ALL
        .iter()
        .map(|field| {
            match field {
                Field::Name => "王淑兰",
                Field::Gender => id.gender().label_zh(),
                Field::BirthDate => "1958-03-07",
                Field::IdCard => id.as_str(),
                Field::Phone => "13805351234",
                Field::Building => "3号楼",
                Field::Unit => "2",
                Field::Room => "301",
                Field::Relation => Relation::Head.label_zh(),
                Field::ResidenceType => "户籍",
                Field::PoliticalStatus => "群众",
                Field::Ethnicity => "汉族",
                Field::Tags => "独居老人",
                Field::Notes => "示例行，填写前请删除 / an example: delete this row",
                Field::Grid => "",
                Field::Occupancy => "自住",
            }
            .to_owned()
        })
        .collect()
}

/// What a column takes, in Chinese and in English.
fn note(field: Field) -> (&'static str, &'static str) {
    match field {
        Field::Name => ("居民姓名", "the resident's name"),
        Field::Gender => {
            ("男/女；可不填，以身份证号为准", "男/女 or male/female; may be left out: the ID card number says it")
        }
        Field::BirthDate => (
            "如 1958-03-07；可不填，须与身份证号一致",
            "e.g. 1958-03-07; may be left out, must match the ID card number",
        ),
        Field::IdCard => (
            "18 位，末位可为 X；请把这一列设为“文本”，以免丢失末几位",
            "18 characters, the last may be X; keep the column as text so Excel does not drop digits",
        ),
        Field::Phone => (
            "11 位手机号，或带区号的座机（0535-6661234）",
            "an 11-digit mobile number, or a landline with its area code (0535-6661234)",
        ),
        Field::Building => (
            "楼号：12、12号、12号楼、12栋均可；须是登记中的楼，或在“网格”列写明网格",
            "building: 12, 12号, 12号楼 or 12栋; one in the registry, or give its grid in 网格",
        ),
        Field::Unit => ("单元：2 或 2单元；平房不填", "unit: 2 or 2单元; empty for bungalows"),
        Field::Room => ("房号：301 或 301室", "room: 301 or 301室"),
        Field::Relation => {
            ("户主、配偶、子、女、儿媳、孙女……原样保留", "户主, 配偶, 子, 女, 儿媳, 孙女…: kept as written")
        }
        Field::ResidenceType => {
            ("户籍、常住、流动、境外、其他；不填为户籍", "户籍, 常住, 流动, 境外, 其他; empty means 户籍")
        }
        Field::PoliticalStatus => (
            "中共党员、预备党员、共青团员、民主党派、群众；不填为群众",
            "中共党员, 预备党员, 共青团员, 民主党派, 群众; empty means 群众",
        ),
        Field::Ethnicity => ("汉 或 汉族 均可；不填为汉族", "汉 or 汉族; empty means 汉族"),
        Field::Tags => ("独居老人、残疾人……多个用顿号分隔", "care tags such as 独居老人、残疾人, separated by 、"),
        Field::Notes => ("备注", "notes"),
        Field::Grid => (
            "网格编码或名称；只在新建楼栋时需要",
            "the grid's code or name; needed only for a building new to the registry",
        ),
        Field::Occupancy => ("自住、出租、空置、其他", "自住, 出租, 空置, 其他"),
    }
}

/// The template as the bytes of an `.xlsx` file.
pub fn template_xlsx_bytes() -> Result<Vec<u8>, XlsxError> {
    let headers: Vec<String> = Field::ALL
        .iter()
        .map(|f| if Field::REQUIRED.contains(f) { format!("*{}", f.header_zh()) } else { f.header_zh().to_owned() })
        .collect();
    let header_refs: Vec<&str> = headers.iter().map(String::as_str).collect();
    let title = "居民信息台账（模板）Resident ledger (template)";
    let (mut workbook, _) = build_workbook("居民台账", Some(title), &header_refs, [example()])?;
    let notes = workbook.add_worksheet();
    notes.set_name("填写说明 Notes")?;
    let bold = Format::new().set_bold().set_border(FormatBorder::Thin);
    let cell = Format::new().set_text_wrap().set_border(FormatBorder::Thin);
    for (col, text) in ["列 Column", "必填 Required", "填写说明", "Notes"].iter().enumerate() {
        notes.write_string_with_format(0, col as u16, *text, &bold)?;
    }
    for (i, field) in Field::ALL.iter().enumerate() {
        let row = i as u32 + 1;
        let (zh, en) = note(*field);
        let required = if Field::REQUIRED.contains(field) { "是 yes" } else { "" };
        notes.write_string_with_format(row, 0, format!("{} ({})", field.header_zh(), field.header_en()), &cell)?;
        notes.write_string_with_format(row, 1, required, &cell)?;
        notes.write_string_with_format(row, 2, zh, &cell)?;
        notes.write_string_with_format(row, 3, en, &cell)?;
    }
    let last = Field::ALL.len() as u32 + 2;
    notes.write_string(last, 0, "第一张工作表的表头行保持不变；表头上方可以有标题。支持 .xlsx、.xls、.csv。")?;
    notes.write_string(
        last + 1,
        0,
        "Keep the header row of the first sheet as it is; a title above it is fine. .xlsx, .xls and .csv are read.",
    )?;
    notes.set_column_width(0, 22)?;
    notes.set_column_width(1, 12)?;
    notes.set_column_width(2, 48)?;
    notes.set_column_width(3, 60)?;
    workbook.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::columns::locate_header;
    use crate::table::read_xlsx_bytes;

    /// Every column of the template is recognised, and its example row is valid.
    #[test]
    fn the_template_reads_back_with_every_column() {
        let bytes = template_xlsx_bytes().unwrap();
        let table = read_xlsx_bytes(&bytes).unwrap();
        let header = locate_header(&table, &[]).unwrap();
        let fields: Vec<Field> = header.columns.iter().map(|c| c.field).collect();
        assert_eq!(fields, Field::ALL);
        assert!(header.unrecognised.is_empty());
        let row = &header.data_rows(&table)[0];
        assert!(IdCardNumber::parse(header.get(row, Field::IdCard).unwrap()).is_ok());
        assert_eq!(header.get(row, Field::Room), Some("301"));
    }
}
