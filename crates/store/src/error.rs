use thiserror::Error;

/// What can go wrong in the store, in words a caller can pass on to a person.
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("{what} {key} was not found")]
    NotFound { what: &'static str, key: String },
    /// A uniqueness or state rule would be broken (duplicate ID card, a building
    /// number taken, moving out someone who already left…).
    #[error("{0}")]
    Conflict(String),
    /// The request itself is wrong in a way only the store can see (a grid given
    /// where a community was needed, a code that does not nest under its parent…).
    #[error("{0}")]
    Invalid(String),
    /// The caller's role may not do this to this record (a rule only the record's
    /// state can decide, such as who may take a step of a demand).
    #[error("{0}")]
    Forbidden(String),
    /// Larger than the store accepts (an attachment over its limit).
    #[error("{0}")]
    TooLarge(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The encryption key of the protected fields is missing, unreadable or not the
    /// one the data was sealed with: an operator's problem, never the user's.
    #[error("encryption key: {0}")]
    Key(#[from] crate::vault::VaultError),
}

impl StoreError {
    pub fn not_found(what: &'static str, key: impl ToString) -> Self {
        Self::NotFound { what, key: key.to_string() }
    }

    /// Turns a unique-constraint violation into a [`StoreError::Conflict`] with the
    /// message given; other errors pass through.
    pub fn on_unique(err: sqlx::Error, message: impl FnOnce() -> String) -> Self {
        match &err {
            sqlx::Error::Database(db) if db.is_unique_violation() => Self::Conflict(message()),
            _ => Self::Database(err),
        }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;
