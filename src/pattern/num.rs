//! Numbers as event-ruler 2.x sees them.
//!
//! A number is *comparable* when its text denotes exactly the value of the
//! shortest decimal form of the nearest double (`new BigDecimal(text)` equals
//! `new BigDecimal(Double.toString(d))`): `300`, `3e2`, `300.0`, `0.1` and
//! `1.7976931348623157E308` are comparable; `0.10000000000000001`,
//! `12345678901234567890`, `1e400` and `1e-325` are not. Comparable numbers
//! compare by value (so `-0.0` equals `0`); a pattern number that is not
//! comparable can only equal an event number with the same text; `numeric`
//! needs comparable numbers on both sides.

use serde_json::Number;

/// A number from the pattern: its text and, if comparable, its value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NumLit {
    pub(crate) text: String,
    pub(crate) val: Option<f64>,
}

impl NumLit {
    pub(crate) fn new(text: &str) -> Self {
        NumLit { text: text.to_string(), val: comparable(text).map(|_| json_f64(text)) }
    }

    /// Exact-number equality with an event number.
    pub(crate) fn equals(&self, n: &Number) -> bool {
        match self.val {
            Some(v) => event_value(n) == Some(v),
            // Not comparable: event-ruler compares the text. serde_json keeps
            // the text of integers; a float's spelling is gone, so compare the
            // nearest doubles (the same spelling gives the same double).
            None if n.is_f64() => Some(json_f64(&self.text)) == n.as_f64(),
            None => n.to_string() == self.text,
        }
    }
}

/// The double serde_json reads from this text. Events are read by serde_json
/// (whose default float parser may differ from a correctly rounded one in the
/// last bit), so pattern numbers are read the same way: the same spelling
/// always gives the same double.
fn json_f64(text: &str) -> f64 {
    serde_json::from_str::<f64>(text).ok().or_else(|| text.parse().ok()).unwrap_or(f64::NAN)
}

/// Sign, significant digits (no leading/trailing zeros) and decimal exponent.
type Decimal = (bool, Vec<u8>, i64);

fn normalize(text: &str) -> Option<Decimal> {
    let b = text.as_bytes();
    let mut i = 0;
    let neg = b.first() == Some(&b'-');
    if neg {
        i += 1;
    }
    let mut digits = Vec::new();
    let mut point: i64 = 0;
    while i < b.len() && b[i].is_ascii_digit() {
        digits.push(b[i]);
        point += 1;
        i += 1;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        while i < b.len() && b[i].is_ascii_digit() {
            digits.push(b[i]);
            i += 1;
        }
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        let eneg = b.get(i) == Some(&b'-');
        if matches!(b.get(i), Some(b'-' | b'+')) {
            i += 1;
        }
        let mut e: i64 = 0;
        while i < b.len() && b[i].is_ascii_digit() {
            e = e.saturating_mul(10).saturating_add(i64::from(b[i] - b'0'));
            i += 1;
        }
        point = point.saturating_add(if eneg { -e } else { e });
    }
    if i != b.len() {
        return None;
    }
    let lead = digits.iter().take_while(|&&d| d == b'0').count();
    digits.drain(..lead);
    point = point.saturating_sub(lead as i64);
    while digits.last() == Some(&b'0') {
        digits.pop();
    }
    if digits.is_empty() {
        return Some((false, digits, 0));
    }
    Some((neg, digits, point))
}

/// The value of `text` if event-ruler can compare it (see the module docs).
pub(crate) fn comparable(text: &str) -> Option<f64> {
    let f: f64 = text.parse().ok()?;
    if !f.is_finite() {
        return None;
    }
    let shortest = format!("{f:e}");
    (normalize(text)? == normalize(&shortest)?).then_some(f)
}

/// The comparable value of an event number, if any. Floats are taken as
/// comparable (serde_json has already rounded them; their text is gone).
pub(crate) fn event_value(n: &Number) -> Option<f64> {
    if let Some(u) = n.as_u64() {
        if u < (1 << 53) {
            return Some(u as f64);
        }
        let f = u as f64;
        return (format!("{f}") == u.to_string()).then_some(f);
    }
    if let Some(i) = n.as_i64() {
        if i.unsigned_abs() < (1 << 53) {
            return Some(i as f64);
        }
        let f = i as f64;
        return (format!("{f}") == i.to_string()).then_some(f);
    }
    n.as_f64().filter(|f| f.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparability() {
        for t in ["300", "3e2", "300.0", "0.1", "1.7976931348623157E308", "-0.0", "0", "5e-324"] {
            assert!(comparable(t).is_some(), "{t}");
        }
        for t in [
            "0.10000000000000001",
            "12345678901234567890",
            "1e400",
            "1E-325",
            "99999999999.999999",
            "2.0e422",
        ] {
            assert!(comparable(t).is_none(), "{t}");
        }
        assert_eq!(comparable("3.018e2"), Some(301.8));
    }

    #[test]
    fn event_numbers() {
        let big: Number = serde_json::from_str("12345678901234567891").unwrap();
        assert_eq!(event_value(&big), None);
        let ok: Number = serde_json::from_str("9007199254740993").unwrap();
        assert_eq!(event_value(&ok), None);
        let f: Number = serde_json::from_str("3e2").unwrap();
        assert_eq!(event_value(&f), Some(300.0));
        assert!(NumLit::new("300").equals(&f));
        assert!(
            NumLit::new("12345678901234567890").equals(&"12345678901234567890".parse().unwrap())
        );
        assert!(!NumLit::new("12345678901234567890").equals(&big));
    }
}
