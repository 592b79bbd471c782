//! The expressions a campaign form may carry in `relevant` (when a question is
//! asked) and `constraint` (what an answer must satisfy): a documented subset of
//! XLSForm's XPath, small enough to evaluate on the server and to explain to a
//! clerk, large enough for the forms communities actually write.
//!
//! ```text
//! expr     := and ("or" and)*
//! and      := compare ("and" compare)*
//! compare  := operand (("=" | "!=" | "<" | "<=" | ">" | ">=") operand)?
//! operand  := "." | "${" name "}" | 'text' | "text" | number
//!           | "not(" expr ")" | "selected(" operand "," operand ")"
//!           | "today()" | "true()" | "false()" | "(" expr ")"
//! ```
//!
//! Answers are text, as XLSForm stores them: a number as written, a date as
//! `YYYY-MM-DD`, a multiple choice as its choice names separated by spaces, an
//! unanswered question as the empty text. A comparison is numeric when both sides
//! read as numbers and textual otherwise (ISO dates order correctly as text); an
//! ordering comparison with an unanswered side is false, as in ODK.
//!
//! Anything outside this subset (arithmetic, other functions, paths) is refused
//! when the form is read, with the place in the expression, so a form never
//! carries a condition the server would evaluate differently from ODK.

use std::fmt;

use crate::{Message, msg};

/// A parsed expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// `.`: the answer being checked (in a constraint).
    Current,
    /// `${name}`: another question's answer.
    Field(String),
    /// A quoted text or a number, kept as written.
    Literal(String),
    /// `true()` or `false()`.
    Bool(bool),
    /// `today()`: the day the answer is given, `YYYY-MM-DD`.
    Today,
    /// `not(…)`.
    Not(Box<Expr>),
    /// `selected(list, 'choice')`: whether a multiple (or single) choice includes a choice.
    Selected(Box<Expr>, Box<Expr>),
    /// A comparison of two operands.
    Compare(Box<Expr>, Op, Box<Expr>),
    /// `a and b and …`.
    And(Vec<Expr>),
    /// `a or b or …`.
    Or(Vec<Expr>),
}

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Op {
    fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
        }
    }
}

/// What an expression is evaluated against: the answers so far, the answer being
/// checked, and the day.
pub trait Answers {
    /// The answer to question `name`; the empty text when unanswered.
    fn answer(&self, name: &str) -> &str;
}

impl Answers for std::collections::BTreeMap<String, String> {
    fn answer(&self, name: &str) -> &str {
        self.get(name).map_or("", String::as_str)
    }
}

/// The context of one evaluation.
pub struct Context<'a> {
    pub answers: &'a dyn Answers,
    /// The answer `.` stands for.
    pub current: &'a str,
    /// Today, `YYYY-MM-DD`.
    pub today: &'a str,
}

/// A value met while evaluating.
#[derive(Clone, Debug, PartialEq)]
enum Value {
    Text(String),
    Bool(bool),
}

impl Value {
    fn truthy(&self) -> bool {
        match self {
            Value::Bool(b) => *b,
            Value::Text(t) => !t.is_empty(),
        }
    }

    fn text(&self) -> String {
        match self {
            Value::Text(t) => t.clone(),
            Value::Bool(b) => if *b { "true" } else { "false" }.to_owned(),
        }
    }
}

fn number(text: &str) -> Option<f64> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    t.parse::<f64>().ok().filter(|n| n.is_finite())
}

impl Expr {
    /// Reads an expression of the subset; the error names the place (a character
    /// position, from 1) and what was found there.
    pub fn parse(text: &str) -> Result<Expr, Message> {
        let tokens = lex(text)?;
        let mut p = Parser { tokens, at: 0 };
        let expr = p.or()?;
        match p.peek() {
            None => Ok(expr),
            Some((pos, t)) => Err(unexpected(*pos, t)),
        }
    }

    /// Whether the expression holds.
    pub fn holds(&self, cx: &Context<'_>) -> bool {
        self.eval(cx).truthy()
    }

    /// The questions the expression reads (`${name}`), in order of appearance.
    pub fn fields(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.collect_fields(&mut out);
        out
    }

    /// Whether `.` appears.
    pub fn uses_current(&self) -> bool {
        match self {
            Expr::Current => true,
            Expr::Field(_) | Expr::Literal(_) | Expr::Bool(_) | Expr::Today => false,
            Expr::Not(e) => e.uses_current(),
            Expr::Selected(a, b) | Expr::Compare(a, _, b) => a.uses_current() || b.uses_current(),
            Expr::And(es) | Expr::Or(es) => es.iter().any(Expr::uses_current),
        }
    }

    fn collect_fields<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Expr::Field(name) => {
                if !out.contains(&name.as_str()) {
                    out.push(name);
                }
            }
            Expr::Current | Expr::Literal(_) | Expr::Bool(_) | Expr::Today => {}
            Expr::Not(e) => e.collect_fields(out),
            Expr::Selected(a, b) | Expr::Compare(a, _, b) => {
                a.collect_fields(out);
                b.collect_fields(out);
            }
            Expr::And(es) | Expr::Or(es) => es.iter().for_each(|e| e.collect_fields(out)),
        }
    }

    fn eval(&self, cx: &Context<'_>) -> Value {
        match self {
            Expr::Current => Value::Text(cx.current.to_owned()),
            Expr::Field(name) => Value::Text(cx.answers.answer(name).to_owned()),
            Expr::Literal(t) => Value::Text(t.clone()),
            Expr::Bool(b) => Value::Bool(*b),
            Expr::Today => Value::Text(cx.today.to_owned()),
            Expr::Not(e) => Value::Bool(!e.holds(cx)),
            Expr::Selected(list, choice) => {
                let (list, choice) = (list.eval(cx).text(), choice.eval(cx).text());
                let choice = choice.trim();
                Value::Bool(!choice.is_empty() && list.split_whitespace().any(|c| c == choice))
            }
            Expr::Compare(a, op, b) => Value::Bool(compare(&a.eval(cx), *op, &b.eval(cx))),
            Expr::And(es) => Value::Bool(es.iter().all(|e| e.holds(cx))),
            Expr::Or(es) => Value::Bool(es.iter().any(|e| e.holds(cx))),
        }
    }
}

fn compare(a: &Value, op: Op, b: &Value) -> bool {
    if let (Value::Bool(x), Value::Bool(y)) = (a, b) {
        return match op {
            Op::Eq => x == y,
            Op::Ne => x != y,
            _ => false,
        };
    }
    let (a, b) = (a.text(), b.text());
    let ordering = match (number(&a), number(&b)) {
        (Some(x), Some(y)) => x.partial_cmp(&y),
        _ if matches!(op, Op::Eq | Op::Ne) => Some(a.trim().cmp(b.trim())),
        // An ordering with an unanswered side is false, as in ODK.
        _ if a.trim().is_empty() || b.trim().is_empty() => None,
        _ => Some(a.trim().cmp(b.trim())),
    };
    let Some(o) = ordering else { return false };
    match op {
        Op::Eq => o.is_eq(),
        Op::Ne => o.is_ne(),
        Op::Lt => o.is_lt(),
        Op::Le => o.is_le(),
        Op::Gt => o.is_gt(),
        Op::Ge => o.is_ge(),
    }
}

impl fmt::Display for Expr {
    /// Writes the expression back in XLSForm's syntax (what the export writes).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Current => f.write_str("."),
            Expr::Field(name) => write!(f, "${{{name}}}"),
            Expr::Literal(t) if number(t).is_some() && t.trim() == t => f.write_str(t),
            Expr::Literal(t) if t.contains('\'') => write!(f, "\"{t}\""),
            Expr::Literal(t) => write!(f, "'{t}'"),
            Expr::Bool(b) => f.write_str(if *b { "true()" } else { "false()" }),
            Expr::Today => f.write_str("today()"),
            Expr::Not(e) => write!(f, "not({e})"),
            Expr::Selected(a, b) => write!(f, "selected({a}, {b})"),
            Expr::Compare(a, op, b) => write!(f, "{a} {} {b}", op.as_str()),
            Expr::And(es) => join(f, es, " and ", false),
            Expr::Or(es) => join(f, es, " or ", true),
        }
    }
}

fn join(f: &mut fmt::Formatter<'_>, es: &[Expr], sep: &str, in_or: bool) -> fmt::Result {
    for (i, e) in es.iter().enumerate() {
        if i > 0 {
            f.write_str(sep)?;
        }
        // `and` binds tighter than `or`: an `or` inside an `and` needs brackets.
        match e {
            Expr::Or(_) if !in_or => write!(f, "({e})")?,
            _ => write!(f, "{e}")?,
        }
    }
    Ok(())
}

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Dot,
    Field(String),
    Text(String),
    Number(String),
    Word(String),
    Op(Op),
    Open,
    Close,
    Comma,
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Token::Dot => f.write_str("."),
            Token::Field(n) => write!(f, "${{{n}}}"),
            Token::Text(t) => write!(f, "'{t}'"),
            Token::Number(n) | Token::Word(n) => f.write_str(n),
            Token::Op(op) => f.write_str(op.as_str()),
            Token::Open => f.write_str("("),
            Token::Close => f.write_str(")"),
            Token::Comma => f.write_str(","),
        }
    }
}

fn unexpected(pos: usize, token: &Token) -> Message {
    msg!("campaigns.expr.unexpected", at = pos, found = token)
}

fn lex(text: &str) -> Result<Vec<(usize, Token)>, Message> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let pos = i + 1;
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => (out.push((pos, Token::Open)), i += 1).1,
            ')' => (out.push((pos, Token::Close)), i += 1).1,
            ',' => (out.push((pos, Token::Comma)), i += 1).1,
            '=' => (out.push((pos, Token::Op(Op::Eq))), i += 1).1,
            '!' if chars.get(i + 1) == Some(&'=') => (out.push((pos, Token::Op(Op::Ne))), i += 2).1,
            '<' | '>' => {
                let eq = chars.get(i + 1) == Some(&'=');
                let op = match (c, eq) {
                    ('<', false) => Op::Lt,
                    ('<', true) => Op::Le,
                    ('>', false) => Op::Gt,
                    _ => Op::Ge,
                };
                out.push((pos, Token::Op(op)));
                i += if eq { 2 } else { 1 };
            }
            '\'' | '"' => {
                let end = chars[i + 1..]
                    .iter()
                    .position(|&d| d == c)
                    .ok_or_else(|| msg!("campaigns.expr.unclosed_text", at = pos))?;
                out.push((pos, Token::Text(chars[i + 1..i + 1 + end].iter().collect())));
                i += end + 2;
            }
            '$' if chars.get(i + 1) == Some(&'{') => {
                let end = chars[i + 2..]
                    .iter()
                    .position(|&d| d == '}')
                    .ok_or_else(|| msg!("campaigns.expr.unclosed_field", at = pos))?;
                let name: String = chars[i + 2..i + 2 + end].iter().collect();
                if !is_name(&name) {
                    return Err(msg!("campaigns.expr.bad_field", at = pos, found = format!("${{{name}}}")));
                }
                out.push((pos, Token::Field(name)));
                i += end + 3;
            }
            '.' if !chars.get(i + 1).is_some_and(char::is_ascii_digit) => (out.push((pos, Token::Dot)), i += 1).1,
            c if c.is_ascii_digit() || c == '-' || c == '.' => {
                let len = chars[i + 1..].iter().take_while(|d| d.is_ascii_digit() || **d == '.').count() + 1;
                let n: String = chars[i..i + len].iter().collect();
                if number(&n).is_none() {
                    return Err(msg!("campaigns.expr.unexpected", at = pos, found = n));
                }
                out.push((pos, Token::Number(n)));
                i += len;
            }
            c if c.is_ascii_alphabetic() => {
                let len =
                    chars[i..].iter().take_while(|d| d.is_ascii_alphanumeric() || **d == '-' || **d == '_').count();
                out.push((pos, Token::Word(chars[i..i + len].iter().collect())));
                i += len;
            }
            other => return Err(msg!("campaigns.expr.unexpected", at = pos, found = other)),
        }
    }
    Ok(out)
}

/// Whether `name` is a question name XLSForm accepts: a letter or `_` first, then
/// letters, digits, `_`, `-` or `.`.
pub fn is_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

struct Parser {
    tokens: Vec<(usize, Token)>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&(usize, Token)> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Result<(usize, Token), Message> {
        let t = self.tokens.get(self.at).cloned().ok_or_else(|| msg!("campaigns.expr.incomplete"))?;
        self.at += 1;
        Ok(t)
    }

    fn expect(&mut self, want: Token) -> Result<(), Message> {
        let (pos, t) = self.next()?;
        if t == want { Ok(()) } else { Err(unexpected(pos, &t)) }
    }

    fn word(&self, w: &str) -> bool {
        matches!(self.peek(), Some((_, Token::Word(x))) if x == w)
    }

    fn or(&mut self) -> Result<Expr, Message> {
        let mut parts = vec![self.and()?];
        while self.word("or") {
            self.at += 1;
            parts.push(self.and()?);
        }
        Ok(if parts.len() == 1 { parts.remove(0) } else { Expr::Or(parts) })
    }

    fn and(&mut self) -> Result<Expr, Message> {
        let mut parts = vec![self.compare()?];
        while self.word("and") {
            self.at += 1;
            parts.push(self.compare()?);
        }
        Ok(if parts.len() == 1 { parts.remove(0) } else { Expr::And(parts) })
    }

    fn compare(&mut self) -> Result<Expr, Message> {
        let left = self.operand()?;
        if let Some((_, Token::Op(op))) = self.peek() {
            let op = *op;
            self.at += 1;
            let right = self.operand()?;
            return Ok(Expr::Compare(Box::new(left), op, Box::new(right)));
        }
        Ok(left)
    }

    fn operand(&mut self) -> Result<Expr, Message> {
        let (pos, t) = self.next()?;
        match t {
            Token::Dot => Ok(Expr::Current),
            Token::Field(name) => Ok(Expr::Field(name)),
            Token::Text(text) => Ok(Expr::Literal(text)),
            Token::Number(n) => Ok(Expr::Literal(n)),
            Token::Open => {
                let e = self.or()?;
                self.expect(Token::Close)?;
                Ok(e)
            }
            Token::Word(w) => {
                let call = matches!(self.peek(), Some((_, Token::Open)));
                match (w.as_str(), call) {
                    ("not", true) => {
                        self.at += 1;
                        let e = self.or()?;
                        self.expect(Token::Close)?;
                        Ok(Expr::Not(Box::new(e)))
                    }
                    ("selected", true) => {
                        self.at += 1;
                        let list = self.operand()?;
                        self.expect(Token::Comma)?;
                        let choice = self.operand()?;
                        self.expect(Token::Close)?;
                        Ok(Expr::Selected(Box::new(list), Box::new(choice)))
                    }
                    ("today" | "true" | "false", true) => {
                        self.at += 1;
                        self.expect(Token::Close)?;
                        Ok(match w.as_str() {
                            "today" => Expr::Today,
                            "true" => Expr::Bool(true),
                            _ => Expr::Bool(false),
                        })
                    }
                    (_, true) => Err(msg!("campaigns.expr.unsupported_function", at = pos, found = format!("{w}()"))),
                    _ => Err(unexpected(pos, &Token::Word(w))),
                }
            }
            other => Err(unexpected(pos, &other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn answers(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    fn holds(expr: &str, given: &[(&str, &str)], current: &str) -> bool {
        let a = answers(given);
        Expr::parse(expr).unwrap().holds(&Context { answers: &a, current, today: "2026-12-03" })
    }

    #[test]
    fn comparisons_are_numeric_when_both_sides_are_numbers_and_textual_otherwise() {
        assert!(holds(". >= 18", &[], "65"));
        assert!(!holds(". >= 18", &[], "9"), "numeric, not textual ('9' > '18' as text)");
        assert!(holds("${age} > 60 and ${alone} = 'yes'", &[("age", "72"), ("alone", "yes")], ""));
        assert!(!holds("${age} > 60 and ${alone} = 'yes'", &[("age", "72"), ("alone", "no")], ""));
        assert!(holds(". <= today()", &[], "2026-11-30"), "dates order as text");
        assert!(!holds(". <= today()", &[], "2027-01-01"));
        assert!(!holds(". < 5", &[], ""), "an ordering with an unanswered side is false");
        assert!(holds("${note} = ''", &[], ""), "unanswered equals the empty text");
        assert!(holds("${a} != 'x'", &[("a", "y")], ""));
    }

    #[test]
    fn and_binds_tighter_than_or_and_not_selected_and_brackets_work() {
        // a or (b and c)
        assert!(holds("${a} = 1 or ${b} = 1 and ${c} = 1", &[("a", "1")], ""));
        assert!(!holds("(${a} = 1 or ${b} = 1) and ${c} = 1", &[("a", "1")], ""));
        assert!(holds("selected(${symptoms}, 'fever')", &[("symptoms", "cough fever")], ""));
        assert!(!holds("selected(${symptoms}, 'fev')", &[("symptoms", "cough fever")], ""), "whole names only");
        assert!(holds("not(selected(${symptoms}, 'fever'))", &[("symptoms", "cough")], ""));
        assert!(holds("true() and not(false())", &[], ""));
    }

    #[test]
    fn what_lies_outside_the_subset_is_refused_with_its_place() {
        let err = Expr::parse("${a} + 1 > 2").unwrap_err();
        assert_eq!((err.key, err.args[0].1.clone()), ("campaigns.expr.unexpected", crate::Arg::Text("6".into())));
        let err = Expr::parse("count-selected(${a}) > 2").unwrap_err();
        assert_eq!(err.key, "campaigns.expr.unsupported_function");
        assert_eq!(Expr::parse("${a} = 'open").unwrap_err().key, "campaigns.expr.unclosed_text");
        assert_eq!(Expr::parse("${a} =").unwrap_err().key, "campaigns.expr.incomplete");
        assert_eq!(Expr::parse("${a b} = 1").unwrap_err().key, "campaigns.expr.bad_field");
        assert_eq!(Expr::parse("/data/a = 1").unwrap_err().key, "campaigns.expr.unexpected");
    }

    #[test]
    fn an_expression_writes_back_as_it_reads() {
        for text in [
            "${a} = 1 or ${b} = 1 and ${c} = 1",
            "(${a} = 1 or ${b} = 1) and ${c} = 1",
            "not(selected(${s}, 'fever')) and . <= today()",
            ". >= -3.5",
            "${name} != \"it's\"",
        ] {
            let e = Expr::parse(text).unwrap();
            assert_eq!(Expr::parse(&e.to_string()).unwrap(), e, "{text} → {e}");
        }
        let e = Expr::parse("${b} = 1 and (${a} = 2 or ${b} = 3) and . = ${a}").unwrap();
        assert_eq!(e.fields(), ["b", "a"]);
        assert!(e.uses_current());
    }
}
