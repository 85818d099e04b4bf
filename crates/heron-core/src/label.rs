//! Document type labels.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A document type id such as `invoice` or `bank_statement`.
///
/// Ids are lowercase ASCII letters, digits and underscores, start with a
/// letter and are at most 64 bytes: they appear in URLs, metric labels and
/// file names of training folders, so anything else is refused at parse time.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Label(String);

/// Why a string is not a valid [`Label`].
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LabelError {
    #[error("a label may not be empty")]
    Empty,
    #[error("label {0:?} is longer than 64 bytes")]
    TooLong(String),
    #[error("label {0:?} must start with a lowercase letter and use only a-z, 0-9 and _")]
    BadCharacters(String),
}

impl Label {
    /// The label given when the final confidence is below the threshold.
    pub const UNSURE: &'static str = "unsure";

    pub fn parse(id: &str) -> Result<Self, LabelError> {
        if id.is_empty() {
            return Err(LabelError::Empty);
        }
        if id.len() > 64 {
            return Err(LabelError::TooLong(id.to_owned()));
        }
        let mut chars = id.chars();
        let starts_with_letter = chars.next().is_some_and(|c| c.is_ascii_lowercase());
        let rest_ok = id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !starts_with_letter || !rest_ok {
            return Err(LabelError::BadCharacters(id.to_owned()));
        }
        Ok(Label(id.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Label {
    type Error = LabelError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Label::parse(&value)
    }
}

impl From<Label> for String {
    fn from(label: Label) -> String {
        label.0
    }
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_valid_and_rejects_invalid_ids() {
        assert!(Label::parse("bank_statement").is_ok());
        assert!(Label::parse("w2").is_ok());
        assert_eq!(Label::parse(""), Err(LabelError::Empty));
        assert!(matches!(
            Label::parse("Invoice"),
            Err(LabelError::BadCharacters(_))
        ));
        assert!(matches!(
            Label::parse("2fa"),
            Err(LabelError::BadCharacters(_))
        ));
        assert!(matches!(
            Label::parse("a-b"),
            Err(LabelError::BadCharacters(_))
        ));
        assert!(matches!(
            Label::parse(&"a".repeat(65)),
            Err(LabelError::TooLong(_))
        ));
    }
}
