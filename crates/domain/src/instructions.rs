//! Instructions down, reports up (指令, module 4): an upper level sends an
//! instruction to areas below it; each receiver confirms receipt and reports back
//! (text, and the figures of the sender's table); the one who sent it — or, for a
//! receipt passed further down, the receiver that passed it — returns a report with
//! a reason or accepts it, which locks it (DHIS2's data approval). A receiver that
//! passed the instruction down may build its own figures from its children's
//! accepted reports: sums computed, never typed again.
//!
//! Pure rules, no I/O: a receipt's states as one `match` ([`next`]), the figures
//! table and its cells ([`Table`], [`Table::read`]), sums ([`Table::sum`]).

use serde::{Deserialize, Serialize};
use time::Date;
use utoipa::ToSchema;

use crate::vocab::vocabulary;
use crate::{Message, Vocabulary, msg};

vocabulary!(
    /// Where a receiver's receipt of an instruction stands.
    ReceiptState, "instruction receipt state" {
    Sent = "sent", "未读", "Not read", ["未签收", "待签收"];
    Read = "read", "已读", "Read", ["已签收"];
    Reported = "reported", "已上报", "Reported", ["已反馈"];
    Returned = "returned", "已退回", "Returned", ["退回"];
    Accepted = "accepted", "已采纳", "Accepted", ["已审核", "通过"];
});

vocabulary!(
    /// What someone does to a receipt.
    ReceiptStep, "instruction step" {
    Read = "read", "确认收到", "Confirm receipt", ["签收"];
    Report = "report", "上报", "Report", ["反馈"];
    Return = "return", "退回", "Return", ["驳回"];
    Accept = "accept", "采纳", "Accept", ["审核通过"];
});

/// Why a step cannot be taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepError {
    /// An accepted report is locked.
    Locked,
    /// The step does not apply in this state (returning what was not reported).
    NotFrom(ReceiptStep, ReceiptState),
}

impl StepError {
    pub fn message(self) -> Message {
        match self {
            StepError::Locked => msg!("instructions.error.locked"),
            StepError::NotFrom(step, state) => {
                Message::new("instructions.error.not_from").term("step", step).term("state", state)
            }
        }
    }
}

/// The state after `step`. Reading is idempotent (the first read's time is kept);
/// a report may be sent again until it is accepted — after a return, or to correct
/// it before the sender looks; only a report can be returned or accepted, and an
/// accepted one is locked.
pub fn next(state: ReceiptState, step: ReceiptStep) -> Result<ReceiptState, StepError> {
    use ReceiptState::*;
    match (step, state) {
        (_, Accepted) => Err(StepError::Locked),
        (ReceiptStep::Read, Sent) => Ok(Read),
        (ReceiptStep::Read, other) => Ok(other),
        (ReceiptStep::Report, Sent | Read | Reported | Returned) => Ok(Reported),
        (ReceiptStep::Return, Reported) => Ok(Returned),
        (ReceiptStep::Accept, Reported) => Ok(Accepted),
        (step, state) => Err(StepError::NotFrom(step, state)),
    }
}

/// Whether a receipt is late on `today`: its deadline has passed and nothing has
/// been reported, or it was reported after the deadline (`reported_on`).
pub fn is_late(deadline: Date, today: Date, state: ReceiptState, reported_on: Option<Date>) -> bool {
    match (state, reported_on) {
        (ReceiptState::Reported | ReceiptState::Accepted, Some(day)) => day > deadline,
        _ => today > deadline,
    }
}

/// Most rows and columns a figures table may have.
pub const MAX_ROWS: usize = 30;
pub const MAX_COLUMNS: usize = 8;
/// Largest figure a cell takes.
pub const MAX_FIGURE: i64 = 1_000_000_000;

/// The table of figures an instruction asks for: rows and columns named by the
/// sender (行: 独居老人, 残疾人 …; 列: 应走访, 已走访 …); every cell a whole number.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Table {
    pub rows: Vec<String>,
    pub columns: Vec<String>,
}

/// A table's cells, row by row (`cells[row][column]`).
pub type Figures = Vec<Vec<i64>>;

fn labels(text: &str, field: &'static str, most: usize) -> Result<Vec<String>, Message> {
    let mut out: Vec<String> = Vec::new();
    for line in text.lines().flat_map(|l| l.split(['，', ','])) {
        let label = line.trim();
        if label.is_empty() {
            continue;
        }
        if label.chars().count() > 40 {
            return Err(msg!("instructions.error.label_long", label = label).field(field));
        }
        if out.iter().any(|l| l == label) {
            return Err(msg!("instructions.error.label_twice", label = label).field(field));
        }
        out.push(label.to_owned());
    }
    if out.len() > most {
        return Err(msg!("instructions.error.too_many", count = out.len(), most = most).field(field));
    }
    Ok(out)
}

impl Table {
    /// A table from the sender's two lists (one label a line, or separated by
    /// commas); `None` when both are empty. A table needs both rows and columns.
    pub fn parse(rows: &str, columns: &str) -> Result<Option<Table>, Message> {
        let rows = labels(rows, "rows", MAX_ROWS)?;
        let columns = labels(columns, "columns", MAX_COLUMNS)?;
        match (rows.is_empty(), columns.is_empty()) {
            (true, true) => Ok(None),
            (false, true) => Err(msg!("instructions.error.no_columns").field("columns")),
            (true, false) => Err(msg!("instructions.error.no_rows").field("rows")),
            (false, false) => Ok(Some(Table { rows, columns })),
        }
    }

    /// The name of a cell's input: `cell.<row>.<column>` (indexes from 0).
    pub fn input(row: usize, column: usize) -> String {
        format!("cell.{row}.{column}")
    }

    /// The figures of a report: every cell a whole number from 0 to
    /// [`MAX_FIGURE`], `cell` answering a cell's text by its indexes. Every bad
    /// cell is named by its row and column.
    pub fn read(&self, cell: impl Fn(usize, usize) -> Option<String>) -> Result<Figures, Vec<(String, Message)>> {
        let mut figures = Vec::with_capacity(self.rows.len());
        let mut errors = Vec::new();
        for (r, row) in self.rows.iter().enumerate() {
            let mut line = Vec::with_capacity(self.columns.len());
            for (c, column) in self.columns.iter().enumerate() {
                let text = cell(r, c).unwrap_or_default();
                let text = text.trim();
                let value = match text.parse::<i64>() {
                    Ok(v) if (0..=MAX_FIGURE).contains(&v) => Some(v),
                    _ => None,
                };
                match value {
                    Some(v) => line.push(v),
                    None => {
                        let key =
                            if text.is_empty() { "instructions.error.cell_empty" } else { "instructions.error.cell" };
                        let m = Message::new(key)
                            .arg("row", row.as_str())
                            .arg("column", column.as_str())
                            .arg("value", text)
                            .field("figures");
                        errors.push((Self::input(r, c), m));
                        line.push(0);
                    }
                }
            }
            figures.push(line);
        }
        if errors.is_empty() { Ok(figures) } else { Err(errors) }
    }

    /// Whether `figures` has this table's shape.
    pub fn fits(&self, figures: &Figures) -> bool {
        figures.len() == self.rows.len() && figures.iter().all(|r| r.len() == self.columns.len())
    }

    /// The cell-by-cell sum of reports of this table (those of another shape are
    /// not counted); zeros when there are none.
    pub fn sum<'a>(&self, reports: impl IntoIterator<Item = &'a Figures>) -> Figures {
        let mut total = vec![vec![0i64; self.columns.len()]; self.rows.len()];
        for f in reports.into_iter().filter(|f| self.fits(f)) {
            for (r, row) in f.iter().enumerate() {
                for (c, v) in row.iter().enumerate() {
                    total[r][c] += v;
                }
            }
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_receipt_moves_as_the_sender_and_receiver_act() {
        use ReceiptState::*;
        assert_eq!(next(Sent, ReceiptStep::Read), Ok(Read));
        assert_eq!(next(Reported, ReceiptStep::Read), Ok(Reported), "reading again changes nothing");
        assert_eq!(next(Sent, ReceiptStep::Report), Ok(Reported), "a report is also a receipt");
        assert_eq!(next(Reported, ReceiptStep::Return), Ok(Returned));
        assert_eq!(next(Returned, ReceiptStep::Report), Ok(Reported), "reported again after a return");
        assert_eq!(next(Reported, ReceiptStep::Accept), Ok(Accepted));
        assert_eq!(next(Read, ReceiptStep::Accept), Err(StepError::NotFrom(ReceiptStep::Accept, Read)));
        assert_eq!(next(Returned, ReceiptStep::Return), Err(StepError::NotFrom(ReceiptStep::Return, Returned)));
        for step in ReceiptStep::all() {
            assert_eq!(next(Accepted, *step), Err(StepError::Locked), "{step:?}: an accepted report is locked");
        }
    }

    #[test]
    fn late_is_judged_by_the_day_reported() {
        let d = |s: &str| Date::parse(s, time::macros::format_description!("[year]-[month]-[day]")).unwrap();
        let deadline = d("2026-11-30");
        assert!(!is_late(deadline, d("2026-11-30"), ReceiptState::Read, None), "due today is not late");
        assert!(is_late(deadline, d("2026-12-01"), ReceiptState::Read, None));
        assert!(
            is_late(deadline, d("2026-12-01"), ReceiptState::Returned, Some(d("2026-11-29"))),
            "returned: not reported"
        );
        assert!(!is_late(deadline, d("2026-12-09"), ReceiptState::Accepted, Some(d("2026-11-30"))), "reported in time");
        assert!(is_late(deadline, d("2026-12-09"), ReceiptState::Reported, Some(d("2026-12-02"))), "reported late");
    }

    #[test]
    fn a_table_is_read_cell_by_cell_and_summed() {
        assert_eq!(Table::parse("", " \n"), Ok(None));
        assert_eq!(Table::parse("独居老人", "").unwrap_err().key, "instructions.error.no_columns");
        assert_eq!(Table::parse("独居老人\n独居老人", "已走访").unwrap_err().key, "instructions.error.label_twice");
        let t = Table::parse("独居老人\n残疾人", "应走访，已走访").unwrap().unwrap();
        assert_eq!(t.columns, ["应走访", "已走访"]);
        let cells = [["12", "10"], ["3", " 3 "]];
        let f = t.read(|r, c| Some(cells[r][c].to_owned())).unwrap();
        assert_eq!(f, vec![vec![12, 10], vec![3, 3]]);
        let bad = [["12", "x"], ["-1", ""]];
        let errors = t.read(|r, c| Some(bad[r][c].to_owned())).unwrap_err();
        let named: Vec<(&str, &str)> = errors.iter().map(|(input, m)| (input.as_str(), m.key)).collect();
        assert_eq!(
            named,
            [
                ("cell.0.1", "instructions.error.cell"),
                ("cell.1.0", "instructions.error.cell"),
                ("cell.1.1", "instructions.error.cell_empty")
            ]
        );
        assert_eq!((errors[0].1.text("row"), errors[0].1.text("column")), (Some("独居老人"), Some("已走访")));
        let other = vec![vec![1, 1]];
        assert_eq!(t.sum([&f, &f, &other]), vec![vec![24, 20], vec![6, 6]], "a report of another shape is not counted");
        assert_eq!(t.sum([]), vec![vec![0, 0], vec![0, 0]]);
    }
}
