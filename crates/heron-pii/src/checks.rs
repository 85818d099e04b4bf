//! Check digits that tell a real identifier from a number that looks like
//! one: Luhn (payment cards), ISO 13616 mod-97 (IBAN), the ABA routing
//! checksum, and the SSA's rules for social security numbers.

/// Luhn's mod-10 check over ASCII digits.
pub fn luhn_valid(digits: &str) -> bool {
    if digits.len() < 2 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// The IIN ranges of the major card networks, with their lengths.
pub fn card_prefix_plausible(digits: &str) -> bool {
    let n = digits.len();
    let prefix = |p: &str| digits.starts_with(p);
    let two: u32 = digits.get(..2).and_then(|p| p.parse().ok()).unwrap_or(0);
    let four: u32 = digits.get(..4).and_then(|p| p.parse().ok()).unwrap_or(0);
    (prefix("4") && matches!(n, 13 | 16 | 19))
        || ((51..=55).contains(&two) && n == 16)
        || ((2221..=2720).contains(&four) && n == 16)
        || ((prefix("34") || prefix("37")) && n == 15)
        || ((prefix("6011") || prefix("65") || prefix("64")) && (16..=19).contains(&n))
        || (prefix("35") && (16..=19).contains(&n))
        || ((prefix("36") || prefix("38") || prefix("30")) && n == 14)
}

/// The IBAN length of a country, for the countries that use IBANs most.
pub fn iban_length(country: &str) -> Option<usize> {
    Some(match country {
        "NO" => 15,
        "BE" => 16,
        "DK" | "FI" | "NL" => 18,
        "AT" | "EE" | "LT" | "LU" | "KZ" => 20,
        "CH" | "HR" | "LV" | "LI" => 21,
        "BG" | "DE" | "GB" | "IE" | "ME" | "RS" => 22,
        "AE" | "GI" | "IL" => 23,
        "CZ" | "ES" | "MD" | "PK" | "RO" | "SA" | "SE" | "SK" | "TN" | "VG" => 24,
        "PT" => 25,
        "IS" | "TR" => 26,
        "FR" | "GR" | "IT" | "MC" | "SM" => 27,
        "AL" | "CY" | "HU" | "PL" => 28,
        "BR" | "QA" => 29,
        "MU" => 30,
        "MT" => 31,
        _ => return None,
    })
}

/// ISO 13616: move the first four characters to the end, letters to
/// numbers (A = 10 … Z = 35), and the number mod 97 must be 1.
pub fn iban_valid(compact: &str) -> bool {
    let bytes = compact.as_bytes();
    if bytes.len() < 15
        || !bytes[..2].iter().all(u8::is_ascii_uppercase)
        || !bytes[2..4].iter().all(u8::is_ascii_digit)
        || !bytes
            .iter()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        || iban_length(&compact[..2]) != Some(bytes.len())
    {
        return false;
    }
    iban_remainder(&compact[4..], &compact[..4]) == 1
}

/// The mod-97 remainder of `bban` followed by `head`, letters expanded.
pub fn iban_remainder(bban: &str, head: &str) -> u32 {
    bban.bytes().chain(head.bytes()).fold(0u32, |acc, b| {
        if b.is_ascii_digit() {
            (acc * 10 + u32::from(b - b'0')) % 97
        } else {
            (acc * 100 + u32::from(b - b'A') + 10) % 97
        }
    })
}

/// The ABA routing number checksum: 3·(d1+d4+d7) + 7·(d2+d5+d8) +
/// (d3+d6+d9) is a multiple of 10.
pub fn aba_valid(digits: &str) -> bool {
    let d: Vec<u32> = digits
        .bytes()
        .map(|b| u32::from(b.wrapping_sub(b'0')))
        .collect();
    if d.len() != 9 || d.iter().any(|&x| x > 9) || d.iter().all(|&x| x == 0) {
        return false;
    }
    (3 * (d[0] + d[3] + d[6]) + 7 * (d[1] + d[4] + d[7]) + (d[2] + d[5] + d[8])).is_multiple_of(10)
}

/// The SSA never issues area 000, 666 or 900–999, group 00 or serial 0000.
pub fn ssn_valid(area: &str, group: &str, serial: &str) -> bool {
    let (Ok(a), Ok(g), Ok(s)) = (
        area.parse::<u32>(),
        group.parse::<u32>(),
        serial.parse::<u32>(),
    ) else {
        return false;
    };
    a != 0 && a != 666 && a < 900 && g != 0 && s != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_good_and_bad_numbers() {
        assert!(luhn_valid("4111111111111111"));
        assert!(!luhn_valid("4111111111111112"));
        assert!(card_prefix_plausible("4111111111111111"));
        assert!(!card_prefix_plausible("1234567812345670"));
        assert!(iban_valid("DE89370400440532013000"));
        assert!(iban_valid("GB82WEST12345698765432"));
        assert!(!iban_valid("DE89370400440532013001"));
        assert!(!iban_valid("XX89370400440532013000"));
        assert!(aba_valid("011000015"));
        assert!(aba_valid("021000021"));
        assert!(!aba_valid("021000022"));
        assert!(ssn_valid("123", "45", "6789"));
        assert!(!ssn_valid("666", "45", "6789"));
        assert!(!ssn_valid("912", "45", "6789"));
        assert!(!ssn_valid("123", "00", "6789"));
    }
}
