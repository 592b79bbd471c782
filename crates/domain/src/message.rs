//! Sentences for people, not yet in a language.
//!
//! Code below the web layer never writes prose: an error or a notice is a
//! [`Message`] — a key of the catalogue (`crates/web/locales/<module>.yml`) and the
//! arguments its text names (`%{row}`, `%{column}`, `%{value}`). The web layer and
//! the command line put it into the reader's language once
//! (`wangge_web::say(&message, lang)`), so a clerk reads Chinese and an English
//! page reads English, from the same value. An argument can itself be a key (the
//! name of a column) or a whole message (why an ID number is wrong, inside "row 17,
//! 身份证号: …"), translated in the same language.
//!
//! `Display` shows the key and its arguments: what logs and test failures need.

use std::fmt;

/// A catalogue key with its arguments, and the form field it is about, if any.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// The catalogue key, such as `registry.error.household_elsewhere`.
    pub key: &'static str,
    /// The values the text names as `%{name}`.
    pub args: Vec<(&'static str, Arg)>,
    /// The field of a form or a JSON body the message is about (`id_card`, `phone`),
    /// reported by the API beside its stable code.
    pub field: Option<&'static str>,
}

/// One argument of a [`Message`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Arg {
    /// Shown as it is: a number, a name, what the user typed.
    Text(String),
    /// A catalogue key, shown in the reader's language (a column's name, a term).
    Key(&'static str),
    /// A whole sentence, shown in the reader's language.
    Message(Box<Message>),
    /// A text given in each language (a term of a vocabulary, a list of terms).
    Lang { zh: String, en: String },
}

impl Message {
    /// A message with no arguments.
    pub const fn new(key: &'static str) -> Self {
        Self { key, args: Vec::new(), field: None }
    }

    /// Adds an argument shown as it is.
    pub fn arg(mut self, name: &'static str, value: impl fmt::Display) -> Self {
        self.args.push((name, Arg::Text(value.to_string())));
        self
    }

    /// Adds an argument that is itself a catalogue key.
    pub fn key_arg(mut self, name: &'static str, key: &'static str) -> Self {
        self.args.push((name, Arg::Key(key)));
        self
    }

    /// Adds an argument that is a whole sentence.
    pub fn nested(mut self, name: &'static str, message: Message) -> Self {
        self.args.push((name, Arg::Message(Box::new(message))));
        self
    }

    /// Adds a term of a vocabulary, shown by its label in the reader's language.
    pub fn term<V: crate::Vocabulary>(self, name: &'static str, term: V) -> Self {
        self.lang_arg(name, term.label_zh(), term.label_en())
    }

    /// Adds a level of the hierarchy (市, 区, 街道…), in the reader's language.
    pub fn level(self, name: &'static str, level: crate::AreaLevel) -> Self {
        self.lang_arg(name, level.label_zh(), level.as_str())
    }

    /// Adds an argument given in each language.
    pub fn lang_arg(mut self, name: &'static str, zh: impl Into<String>, en: impl Into<String>) -> Self {
        self.args.push((name, Arg::Lang { zh: zh.into(), en: en.into() }));
        self
    }

    /// Says which field the message is about.
    pub fn field(mut self, field: &'static str) -> Self {
        self.field = Some(field);
        self
    }

    /// The text argument `name`, if there is one (for tests and logs).
    pub fn text(&self, name: &str) -> Option<&str> {
        self.args.iter().find_map(|(n, a)| match a {
            Arg::Text(t) if *n == name => Some(t.as_str()),
            _ => None,
        })
    }

    /// Every key this message uses, its own first, then those of its arguments.
    pub fn keys(&self) -> Vec<&'static str> {
        let mut keys = vec![self.key];
        for (_, arg) in &self.args {
            match arg {
                Arg::Key(k) => keys.push(k),
                Arg::Message(m) => keys.extend(m.keys()),
                Arg::Text(_) | Arg::Lang { .. } => {}
            }
        }
        keys
    }
}

/// Builds a [`Message`]: `msg!("idcard.wrong_length", found = 17)`.
/// Arguments are shown as they are; use [`Message::key_arg`] and [`Message::nested`]
/// for translated ones.
#[macro_export]
macro_rules! msg {
    ($key:expr $(, $name:ident = $value:expr)* $(,)?) => {
        $crate::Message::new($key)$(.arg(stringify!($name), $value))*
    };
}

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key)?;
        if self.args.is_empty() {
            return Ok(());
        }
        f.write_str(" (")?;
        for (i, (name, arg)) in self.args.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            match arg {
                Arg::Text(t) => write!(f, "{name}: {t:?}")?,
                Arg::Key(k) => write!(f, "{name}: {k}")?,
                Arg::Message(m) => write!(f, "{name}: {m}")?,
                Arg::Lang { en, .. } => write!(f, "{name}: {en:?}")?,
            }
        }
        f.write_str(")")
    }
}

/// A message is stored as JSON (a notification waiting to be read, in whatever
/// language its reader will open it): `{"key": …, "args": [[name, {"text": …}]],
/// "field": …}`. Keys read back are interned: they are the catalogue's keys, a
/// small fixed set, so each is leaked once and the type keeps its `&'static str`.
mod stored {
    use serde::{Deserialize, Serialize};

    #[derive(Serialize, Deserialize)]
    pub(super) struct Stored {
        key: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        args: Vec<(String, StoredArg)>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        field: Option<String>,
    }

    #[derive(Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum StoredArg {
        Text(String),
        Key(String),
        Message(Box<Stored>),
        Lang { zh: String, en: String },
    }

    impl From<&super::Message> for Stored {
        fn from(m: &super::Message) -> Self {
            use super::Arg;
            Stored {
                key: m.key.to_owned(),
                args: m
                    .args
                    .iter()
                    .map(|(name, arg)| {
                        let arg = match arg {
                            Arg::Text(t) => StoredArg::Text(t.clone()),
                            Arg::Key(k) => StoredArg::Key((*k).to_owned()),
                            Arg::Message(m) => StoredArg::Message(Box::new(Stored::from(&**m))),
                            Arg::Lang { zh, en } => StoredArg::Lang { zh: zh.clone(), en: en.clone() },
                        };
                        ((*name).to_owned(), arg)
                    })
                    .collect(),
                field: m.field.map(str::to_owned),
            }
        }
    }

    impl From<Stored> for super::Message {
        fn from(s: Stored) -> Self {
            use super::Arg;
            super::Message {
                key: intern(s.key),
                args: s
                    .args
                    .into_iter()
                    .map(|(name, arg)| {
                        let arg = match arg {
                            StoredArg::Text(t) => Arg::Text(t),
                            StoredArg::Key(k) => Arg::Key(intern(k)),
                            StoredArg::Message(m) => Arg::Message(Box::new((*m).into())),
                            StoredArg::Lang { zh, en } => Arg::Lang { zh, en },
                        };
                        (intern(name), arg)
                    })
                    .collect(),
                field: s.field.map(intern),
            }
        }
    }

    /// The one `&'static str` for a key, leaked the first time it is read.
    fn intern(s: String) -> &'static str {
        use std::collections::HashSet;
        use std::sync::{Mutex, OnceLock};
        static KEYS: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
        let mut keys = KEYS.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
        if let Some(k) = keys.get(s.as_str()) {
            return k;
        }
        let k: &'static str = Box::leak(s.into_boxed_str());
        keys.insert(k);
        k
    }
}

impl serde::Serialize for Message {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        stored::Stored::from(self).serialize(serializer)
    }
}

impl<'de> serde::Deserialize<'de> for Message {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        stored::Stored::deserialize(deserializer).map(Into::into)
    }
}

/// Something that can say what went wrong as a [`Message`] (the domain's parse errors).
pub trait Explain {
    fn message(&self) -> Message;
}

#[cfg(test)]
mod tests {

    #[test]
    fn builds_and_shows_a_message() {
        let m = msg!("idcard.wrong_length", found = 17).key_arg("column", "count.residents").field("id_card");
        assert_eq!(m.text("found"), Some("17"));
        assert_eq!(m.field, Some("id_card"));
        assert_eq!(m.keys(), ["idcard.wrong_length", "count.residents"]);
        assert_eq!(m.to_string(), "idcard.wrong_length (found: \"17\", column: count.residents)");
    }

    #[test]
    fn a_message_survives_being_stored() {
        let inner = msg!("idcard.not_digits").lang_arg("term", "男", "male");
        let m = msg!("import.row", row = 17).key_arg("column", "idcard.empty").nested("why", inner).field("id_card");
        let json = serde_json::to_string(&m).unwrap();
        let back: super::Message = serde_json::from_str(&json).unwrap();
        assert_eq!(back, m);
        let again: super::Message = serde_json::from_str(&json).unwrap();
        assert!(std::ptr::eq(back.key, again.key), "a key read twice is interned once");
    }
}
