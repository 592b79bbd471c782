//! Import and export of the resident ledgers (居民台账) communities keep in Excel and CSV.
//!
//! The file layer turns a spreadsheet into plain strings and back, before any meaning
//! is attached: [`table`] reads `.xlsx` and CSV files of any common Chinese encoding
//! into rows of strings with the row numbers people see in Excel, [`columns`] finds
//! the header row and maps its columns to ledger fields, and [`xlsx_out`] writes a
//! ledger sheet in which every cell is text, so ID card numbers keep all 18 digits.
//! Validation and storage of the values live in the modules built on top of these.

pub mod columns;
pub mod export;
pub mod import;
pub mod roster;
pub mod table;
pub mod template;
pub mod xlsform;
pub mod xlsx_out;
