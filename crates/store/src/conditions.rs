//! A WHERE clause built from optional filters, with its bound values in order. Lists
//! take many optional filters; this keeps each list's SQL readable and every value
//! bound, never spliced into the text.

use sqlx::any::{Any, AnyArguments};
use sqlx::query::{Query, QueryScalar};

use crate::subtree_bounds;

#[derive(Clone, Default)]
pub(crate) struct Conditions {
    parts: Vec<String>,
    values: Vec<Value>,
    /// Whether the clause holds a range of paths ([`Conditions::under_path`]): such
    /// a statement is planned with its values each time (see [`Conditions::query`]).
    ranged: bool,
}

/// A bound value: text, or an integer for the BIGINT columns (timestamps), which
/// PostgreSQL will not compare with text.
#[derive(Clone)]
enum Value {
    Text(String),
    Int(i64),
}

/// `text` with LIKE's wildcards (and the escape character itself) escaped by a
/// backslash, for `LIKE … ESCAPE '\\'`.
pub(crate) fn like_escaped(text: &str) -> String {
    text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

impl Conditions {
    /// Adds a value and returns its placeholder (`$3`).
    pub fn text(&mut self, value: impl Into<String>) -> String {
        self.values.push(Value::Text(value.into()));
        format!("${}", self.values.len())
    }

    /// Adds an integer value and returns its placeholder.
    pub fn int(&mut self, value: i64) -> String {
        self.values.push(Value::Int(value));
        format!("${}", self.values.len())
    }

    pub fn push(&mut self, condition: String) {
        self.parts.push(condition);
    }

    /// Adds `%word%` as a LIKE pattern matching `word` as typed (its wildcards
    /// escaped) and returns its placeholder.
    pub fn containing(&mut self, word: &str) -> String {
        self.text(format!("%{}%", like_escaped(word)))
    }

    /// `column` holds `word` as typed.
    pub fn contains(&mut self, column: &str, word: &str) {
        let p = self.containing(word);
        self.push(format!("{column} LIKE {p} ESCAPE '\\'"));
    }

    /// `column` at or under the area whose path is `path`: a range scan on an index.
    pub fn under_path(&mut self, column: &str, path: &str) {
        let (lo, hi) = subtree_bounds(path);
        let (lo, hi) = (self.text(lo), self.text(hi));
        self.push(format!("{column} >= {lo} AND {column} < {hi}"));
        self.ranged = true;
    }

    pub fn where_clause(&self) -> String {
        if self.parts.is_empty() { String::new() } else { format!("WHERE {}", self.parts.join(" AND ")) }
    }

    /// The statement `sql` with the values bound. A statement over a range of
    /// paths is not kept prepared on the connection: PostgreSQL plans a kept
    /// statement without its values after five executions (a generic plan), and
    /// such a plan cannot tell a grid's range from a city's — the closed items
    /// still within their time to rate under a street, 0.3 ms by their own index,
    /// took 25 ms by the index of states once the connection had served the
    /// cockpit five times. An unnamed statement is planned with its values.
    /// Forcing that on every statement (`plan_cache_mode = force_custom_plan`)
    /// made short writes 40 % slower (docs/benchmarks.md).
    pub fn query(&self, sql: String) -> Query<'_, Any, AnyArguments> {
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).persistent(!self.ranged);
        for value in &self.values {
            query = match value {
                Value::Text(t) => query.bind(t.as_str()),
                Value::Int(i) => query.bind(*i),
            };
        }
        query
    }

    pub fn scalar(&self, sql: String) -> QueryScalar<'_, Any, i64, AnyArguments> {
        let mut query = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).persistent(!self.ranged);
        for value in &self.values {
            query = match value {
                Value::Text(t) => query.bind(t.as_str()),
                Value::Int(i) => query.bind(*i),
            };
        }
        query
    }
}
