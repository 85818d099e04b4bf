//! Values as written → values as data: dates to ISO 8601, periods to
//! `start/end`, amounts to decimals with their currency.
//!
//! Parsers read a value at the *start* of a string and say how many
//! characters they consumed, so the same code both delimits a value after
//! its label and normalises it.

use std::sync::LazyLock;

use regex::Regex;

/// How to read `03/04/2024`: day first (most of the world) or month first
/// (the United States). Decided per document from its unambiguous dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DateOrder {
    #[default]
    MonthFirst,
    DayFirst,
}

/// A calendar date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    pub year: i32,
    pub month: u32,
    pub day: u32,
}

impl Date {
    fn new(year: i32, month: u32, day: u32) -> Option<Date> {
        let valid = (1..=12).contains(&month)
            && day >= 1
            && day <= days_in_month(year, month)
            && (1900..=2100).contains(&year);
        valid.then_some(Date { year, month, day })
    }

    pub fn iso(&self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 0,
    }
}

/// Month names and abbreviations in English, German, French, Spanish,
/// Italian and Portuguese, lowercase, without the trailing dot.
const MONTHS: &[(&str, u32)] = &[
    ("january", 1),
    ("jan", 1),
    ("januar", 1),
    ("jänner", 1),
    ("janvier", 1),
    ("janv", 1),
    ("enero", 1),
    ("ene", 1),
    ("gennaio", 1),
    ("janeiro", 1),
    ("february", 2),
    ("feb", 2),
    ("februar", 2),
    ("feber", 2),
    ("février", 2),
    ("fevrier", 2),
    ("févr", 2),
    ("fév", 2),
    ("febrero", 2),
    ("febbraio", 2),
    ("fevereiro", 2),
    ("march", 3),
    ("mar", 3),
    ("märz", 3),
    ("maerz", 3),
    ("mär", 3),
    ("mars", 3),
    ("marzo", 3),
    ("março", 3),
    ("april", 4),
    ("apr", 4),
    ("avril", 4),
    ("avr", 4),
    ("abril", 4),
    ("abr", 4),
    ("aprile", 4),
    ("may", 5),
    ("mai", 5),
    ("mayo", 5),
    ("maggio", 5),
    ("maio", 5),
    ("june", 6),
    ("jun", 6),
    ("juni", 6),
    ("juin", 6),
    ("junio", 6),
    ("giugno", 6),
    ("junho", 6),
    ("july", 7),
    ("jul", 7),
    ("juli", 7),
    ("juillet", 7),
    ("juil", 7),
    ("julio", 7),
    ("luglio", 7),
    ("julho", 7),
    ("august", 8),
    ("aug", 8),
    ("août", 8),
    ("aout", 8),
    ("agosto", 8),
    ("ago", 8),
    ("september", 9),
    ("sep", 9),
    ("sept", 9),
    ("septembre", 9),
    ("septiembre", 9),
    ("settembre", 9),
    ("setembro", 9),
    ("set", 9),
    ("october", 10),
    ("oct", 10),
    ("oktober", 10),
    ("okt", 10),
    ("octobre", 10),
    ("octubre", 10),
    ("ottobre", 10),
    ("outubro", 10),
    ("out", 10),
    ("november", 11),
    ("nov", 11),
    ("novembre", 11),
    ("noviembre", 11),
    ("novembro", 11),
    ("december", 12),
    ("dec", 12),
    ("dezember", 12),
    ("dez", 12),
    ("décembre", 12),
    ("decembre", 12),
    ("déc", 12),
    ("diciembre", 12),
    ("dic", 12),
    ("dicembre", 12),
    ("dezembro", 12),
];

fn month_number(word: &str) -> Option<u32> {
    let word = word.trim_end_matches('.').to_lowercase();
    MONTHS
        .iter()
        .find(|(name, _)| *name == word)
        .map(|(_, n)| *n)
}

const MONTH_WORD: &str = r"[A-Za-zÀ-ÿ]{3,10}\.?";

static NUMERIC_DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(\d{1,4})\s?([./-])\s?(\d{1,2})\s?[./-]\s?(\d{2,4})\b").expect("valid regex")
});
static DAY_MONTH_YEAR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"^(\d{{1,2}})(?:st|nd|rd|th|er)?\.?(?:\s+de)?[\s-]+({MONTH_WORD})(?:\s+de)?[\s,-]+(\d{{4}})\b"
    ))
    .expect("valid regex")
});
static MONTH_DAY_YEAR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"^({MONTH_WORD})\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b"
    ))
    .expect("valid regex")
});
static MONTH_YEAR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"^(?:({MONTH_WORD})\s+(\d{{4}})|(\d{{4}})-(\d{{2}}))\b"
    ))
    .expect("valid regex")
});

fn year_of(text: &str) -> Option<i32> {
    let year: i32 = text.parse().ok()?;
    Some(match text.len() {
        2 if year <= 69 => 2000 + year,
        2 => 1900 + year,
        4 => year,
        _ => return None,
    })
}

/// The date at the start of `text`, and the bytes it took.
pub fn date_at(text: &str, order: DateOrder) -> Option<(Date, usize)> {
    if let Some(c) = NUMERIC_DATE.captures(text) {
        let (a, sep, b, c3) = (&c[1], &c[2], &c[3], &c[4]);
        let len = c[0].len();
        let n = |s: &str| s.parse::<u32>().ok();
        let date = if a.len() == 4 {
            Date::new(a.parse().ok()?, n(b)?, n(c3)?)
        } else {
            let (x, y, year) = (n(a)?, n(b)?, year_of(c3)?);
            // A dotted date is day first everywhere it is used.
            let day_first = sep == "." || x > 12 || (order == DateOrder::DayFirst && y <= 12);
            if day_first {
                Date::new(year, y, x)
            } else {
                Date::new(year, x, y).or_else(|| Date::new(year, y, x))
            }
        };
        return date.map(|d| (d, len));
    }
    if let Some(c) = DAY_MONTH_YEAR.captures(text)
        && let Some(month) = month_number(&c[2])
    {
        let date = Date::new(c[3].parse().ok()?, month, c[1].parse().ok()?)?;
        return Some((date, c[0].len()));
    }
    if let Some(c) = MONTH_DAY_YEAR.captures(text)
        && let Some(month) = month_number(&c[1])
    {
        let date = Date::new(c[3].parse().ok()?, month, c[2].parse().ok()?)?;
        return Some((date, c[0].len()));
    }
    None
}

/// A month written alone ("January 2024", "2024-01") at the start of
/// `text`: its first and last day.
fn month_at(text: &str) -> Option<((Date, Date), usize)> {
    let c = MONTH_YEAR.captures(text)?;
    let (year, month) = match (c.get(1), c.get(2), c.get(3), c.get(4)) {
        (Some(m), Some(y), _, _) => (y.as_str().parse().ok()?, month_number(m.as_str())?),
        (_, _, Some(y), Some(m)) => (y.as_str().parse().ok()?, m.as_str().parse().ok()?),
        _ => return None,
    };
    let first = Date::new(year, month, 1)?;
    let last = Date::new(year, month, days_in_month(year, month))?;
    Some(((first, last), c[0].len()))
}

static PERIOD_JOIN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*(?:-|–|—|to|til|until|bis|au|al|a|through|thru)\s*").expect("valid regex")
});
static PERIOD_LEAD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)^(?:from|vom|du|del|de)\s+").expect("valid regex"));

/// A period at the start of `text`: two dates joined by "to", "-", "bis"…,
/// or a month. Returns `start/end` in ISO 8601 and the bytes taken.
pub fn period_at(text: &str, order: DateOrder) -> Option<(String, usize)> {
    let lead = PERIOD_LEAD.find(text).map_or(0, |m| m.end());
    let rest = &text[lead..];
    if let Some((start, used)) = date_at(rest, order) {
        let after = &rest[used..];
        let lower = after.to_lowercase();
        if let Some(join) = PERIOD_JOIN.find(&lower)
            && let Some((end, used_end)) = date_at(&after[join.end()..], order)
            && end >= start
        {
            let total = lead + used + join.end() + used_end;
            return Some((format!("{}/{}", start.iso(), end.iso()), total));
        }
        return None;
    }
    let ((first, last), used) = month_at(rest)?;
    Some((format!("{}/{}", first.iso(), last.iso()), lead + used))
}

/// An amount of money.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Money {
    /// In hundredths of the unit.
    pub cents: i64,
    /// ISO 4217 code, when written.
    pub currency: Option<String>,
}

impl Money {
    /// `1234.50`, `-12.00`.
    pub fn decimal(&self) -> String {
        let sign = if self.cents < 0 { "-" } else { "" };
        let abs = self.cents.unsigned_abs();
        format!("{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

const CURRENCY_SYMBOLS: &[(&str, &str)] = &[
    ("US$", "USD"),
    ("C$", "CAD"),
    ("A$", "AUD"),
    ("$", "USD"),
    ("€", "EUR"),
    ("£", "GBP"),
    ("¥", "JPY"),
    ("₹", "INR"),
    ("CHF", "CHF"),
    ("Fr.", "CHF"),
];
const CURRENCY_CODES: &[&str] = &[
    "USD", "EUR", "GBP", "CAD", "AUD", "CHF", "JPY", "INR", "SEK", "NOK", "DKK", "PLN", "CZK",
    "NZD", "MXN", "BRL", "ZAR", "SGD", "HKD", "CNY",
];

fn currency_prefix(text: &str) -> Option<(&'static str, usize)> {
    for (symbol, code) in CURRENCY_SYMBOLS {
        if text.starts_with(symbol) {
            return Some((code, symbol.len()));
        }
    }
    let upper: String = text.chars().take(3).collect::<String>().to_uppercase();
    CURRENCY_CODES
        .iter()
        .find(|c| **c == upper && text.len() >= 3)
        .map(|c| (*c, 3))
}

static AMOUNT: LazyLock<Regex> = LazyLock::new(|| {
    // Digits with optional thousands groups (, . space ' or narrow space)
    // and an optional decimal part of one or two digits.
    Regex::new(r"^\d{1,3}(?:[,.' \u{202f}\u{a0}]\d{3})+(?:[.,]\d{1,2})?\b|^\d+(?:[.,]\d{1,2})?\b")
        .expect("valid regex")
});

/// The amount at the start of `text` (after an optional sign, parenthesis
/// or currency), and the bytes taken. A bare integer with no currency and
/// no decimals is accepted: labels decide whether a number is money.
pub fn money_at(text: &str) -> Option<(Money, usize)> {
    let mut i = 0;
    let mut negative = false;
    let mut parenthesised = false;
    let mut currency: Option<&str> = None;
    let skip_space = |i: &mut usize| {
        while text[*i..].starts_with(' ') {
            *i += 1;
        }
    };
    for _ in 0..3 {
        if text[i..].starts_with('-') || text[i..].starts_with('−') {
            negative = true;
            i += text[i..].chars().next().map_or(1, char::len_utf8);
        } else if text[i..].starts_with('(') {
            parenthesised = true;
            i += 1;
        } else if let Some((code, used)) = currency_prefix(&text[i..]) {
            if currency.is_some() {
                break;
            }
            currency = Some(code);
            i += used;
            skip_space(&mut i);
        } else {
            break;
        }
    }
    let m = AMOUNT.find(&text[i..])?;
    let cents = cents_of(m.as_str())?;
    i += m.end();
    if parenthesised && text[i..].starts_with(')') {
        negative = true;
        i += 1;
    }
    // A currency written after the amount: "1.234,56 €", "99.00 EUR".
    let after = text[i..].trim_start_matches(' ');
    if currency.is_none()
        && let Some((code, used)) = currency_prefix(after)
    {
        let boundary = after[used..]
            .chars()
            .next()
            .is_none_or(|c| !c.is_alphanumeric());
        if boundary {
            currency = Some(code);
            i = text.len() - after.len() + used;
        }
    }
    // "DR"/"CR" after a statement amount.
    let after = text[i..].trim_start_matches(' ');
    let upper = after.get(..2).map(str::to_uppercase);
    if upper.as_deref() == Some("DR")
        && after[2..]
            .chars()
            .next()
            .is_none_or(|c| !c.is_alphanumeric())
    {
        negative = true;
        i = text.len() - after.len() + 2;
    }
    let cents = if negative { -cents } else { cents };
    Some((
        Money {
            cents,
            currency: currency.map(str::to_owned),
        },
        i,
    ))
}

/// Hundredths of `digits`, deciding which separator is the decimal one: a
/// last separator followed by one or two digits is decimal, any other is a
/// thousands separator.
fn cents_of(digits: &str) -> Option<i64> {
    let last_sep = digits.rfind(|c: char| !c.is_ascii_digit());
    let (integer, fraction) = match last_sep {
        Some(at) => {
            let tail = &digits[at..];
            let sep_len = tail.chars().next().map_or(1, char::len_utf8);
            let decimals = &tail[sep_len..];
            let sep = &tail[..sep_len];
            if (sep == "." || sep == ",") && (1..=2).contains(&decimals.len()) {
                (&digits[..at], decimals)
            } else {
                (digits, "")
            }
        }
        None => (digits, ""),
    };
    let whole: String = integer.chars().filter(char::is_ascii_digit).collect();
    let whole: i64 = whole.parse().ok()?;
    let fraction: i64 = match fraction.len() {
        0 => 0,
        1 => fraction.parse::<i64>().ok()? * 10,
        _ => fraction.parse().ok()?,
    };
    whole.checked_mul(100)?.checked_add(fraction)
}

/// The date order a document uses, from its unambiguous numeric dates
/// (`25/12/2024` is day first, `12/25/2024` month first); month first when
/// nothing tells.
pub fn date_order_of(text: &str) -> DateOrder {
    static SLASHED: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"\b(\d{1,2})[/-](\d{1,2})[/-]\d{2,4}\b").expect("valid regex")
    });
    let (mut day_first, mut month_first) = (0, 0);
    for c in SLASHED.captures_iter(text) {
        let (a, b): (u32, u32) = (c[1].parse().unwrap_or(0), c[2].parse().unwrap_or(0));
        if a > 12 && b <= 12 {
            day_first += 1;
        } else if b > 12 && a <= 12 {
            month_first += 1;
        }
    }
    if day_first > month_first {
        DateOrder::DayFirst
    } else {
        DateOrder::MonthFirst
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str, order: DateOrder) -> Option<String> {
        date_at(text, order).map(|(d, _)| d.iso())
    }

    #[test]
    fn dates_in_common_forms_become_iso() {
        let m = DateOrder::MonthFirst;
        assert_eq!(date("2024-03-15", m).as_deref(), Some("2024-03-15"));
        assert_eq!(date("03/15/2024", m).as_deref(), Some("2024-03-15"));
        assert_eq!(date("15/03/2024", m).as_deref(), Some("2024-03-15"));
        assert_eq!(
            date("04/03/2024", DateOrder::DayFirst).as_deref(),
            Some("2024-03-04")
        );
        assert_eq!(date("15.03.2024", m).as_deref(), Some("2024-03-15"));
        assert_eq!(date("15 December 2023", m).as_deref(), Some("2023-12-15"));
        assert_eq!(
            date("December 15, 2023 due", m).as_deref(),
            Some("2023-12-15")
        );
        assert_eq!(date("Dec 5 2023", m).as_deref(), Some("2023-12-05"));
        assert_eq!(date("15. März 2024", m).as_deref(), Some("2024-03-15"));
        assert_eq!(date("3 de marzo de 2024", m).as_deref(), Some("2024-03-03"));
        assert_eq!(date("1er janvier 2024", m).as_deref(), Some("2024-01-01"));
        assert_eq!(
            date("01/02/99", DateOrder::DayFirst).as_deref(),
            Some("1999-02-01")
        );
        assert_eq!(date("31/02/2024", m), None);
        assert_eq!(date("Date", m), None);
    }

    #[test]
    fn periods_are_two_dates_or_a_month() {
        let m = DateOrder::MonthFirst;
        let p = |t: &str| period_at(t, m).map(|(p, _)| p);
        assert_eq!(p("2023-01").as_deref(), Some("2023-01-01/2023-01-31"));
        assert_eq!(p("January 2024").as_deref(), Some("2024-01-01/2024-01-31"));
        assert_eq!(
            p("01/01/2024 to 01/31/2024").as_deref(),
            Some("2024-01-01/2024-01-31")
        );
        assert_eq!(
            p("vom 01.02.2024 bis 29.02.2024").as_deref(),
            Some("2024-02-01/2024-02-29")
        );
        assert_eq!(
            p("1 March 2024 - 31 March 2024").as_deref(),
            Some("2024-03-01/2024-03-31")
        );
    }

    #[test]
    fn amounts_keep_sign_and_currency() {
        let money = |t: &str| money_at(t).map(|(m, _)| (m.decimal(), m.currency));
        assert_eq!(
            money("$1,234.56"),
            Some(("1234.56".into(), Some("USD".into())))
        );
        assert_eq!(
            money("1.234,56 €"),
            Some(("1234.56".into(), Some("EUR".into())))
        );
        assert_eq!(
            money("EUR 1 234,5"),
            Some(("1234.50".into(), Some("EUR".into())))
        );
        assert_eq!(money("-403.32"), Some(("-403.32".into(), None)));
        assert_eq!(money("(12.00)"), Some(("-12.00".into(), None)));
        assert_eq!(money("-$5.00"), Some(("-5.00".into(), Some("USD".into()))));
        assert_eq!(money("150.00 DR"), Some(("-150.00".into(), None)));
        assert_eq!(money("£50"), Some(("50.00".into(), Some("GBP".into()))));
        assert_eq!(money("1,234"), Some(("1234.00".into(), None)));
        assert_eq!(money("Date"), None);
    }

    #[test]
    fn the_date_order_comes_from_unambiguous_dates() {
        assert_eq!(
            date_order_of("20/01/2023 and 04/01/2023"),
            DateOrder::DayFirst
        );
        assert_eq!(date_order_of("01/20/2023"), DateOrder::MonthFirst);
        assert_eq!(date_order_of("no dates"), DateOrder::MonthFirst);
    }
}
