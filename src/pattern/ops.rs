//! String-level operators: wildcard, case-insensitive sequences, CIDR ranges.

use std::net::Ipv6Addr;

use memchr::memmem;

/// A compiled `wildcard` value: literal runs separated by `*`.
///
/// Matching is a prefix check, a suffix check and a leftmost substring search
/// (two-way algorithm) for each inner run, so it is linear in the length of the
/// value plus the pattern whatever the pattern is: no backtracking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Glob {
    /// Literal runs; `parts.len() == stars + 1`.
    parts: Vec<String>,
}

impl Glob {
    /// Parse the wildcard syntax: `*` is any run (possibly empty), `\*` a literal
    /// star, `\\` a literal backslash. Error messages follow event-ruler
    /// (0-based character positions).
    pub(crate) fn parse(s: &str) -> Result<Glob, String> {
        let mut parts = vec![String::new()];
        let mut prev_star = false;
        let mut chars = s.chars().enumerate().peekable();
        while let Some((i, c)) = chars.next() {
            match c {
                '*' => {
                    if prev_star {
                        return Err(format!("Consecutive wildcard characters at pos {i}"));
                    }
                    prev_star = true;
                    parts.push(String::new());
                }
                '\\' => {
                    prev_star = false;
                    match chars.next() {
                        Some((_, e @ ('*' | '\\'))) => parts.last_mut().expect("non-empty").push(e),
                        Some((j, _)) => return Err(format!("Invalid escape character at pos {j}")),
                        None => return Err(format!("Invalid escape character at pos {}", i + 1)),
                    }
                }
                c => {
                    prev_star = false;
                    parts.last_mut().expect("non-empty").push(c);
                }
            }
        }
        Ok(Glob { parts })
    }

    pub(crate) fn matches(&self, s: &str) -> bool {
        let s = s.as_bytes();
        let n = self.parts.len();
        if n == 1 {
            return s == self.parts[0].as_bytes();
        }
        let first = self.parts[0].as_bytes();
        let last = self.parts[n - 1].as_bytes();
        if first.len() + last.len() > s.len() || !s.starts_with(first) || !s.ends_with(last) {
            return false;
        }
        let mut rest = &s[first.len()..s.len() - last.len()];
        for mid in &self.parts[1..n - 1] {
            if mid.is_empty() {
                continue;
            }
            match memmem::find(rest, mid.as_bytes()) {
                Some(at) => rest = &rest[at + mid.len()..],
                None => return false,
            }
        }
        true
    }

    /// The literal runs between the stars (`parts().len()` is the number of stars plus one).
    pub(crate) fn parts(&self) -> &[String] {
        &self.parts
    }

    /// The longest literal run (what any matching value must contain).
    pub(crate) fn longest_literal(&self) -> &str {
        self.parts.iter().max_by_key(|p| p.len()).map_or("", |p| p.as_str())
    }
}

/// A value for `equals-ignore-case` (also under `prefix`, `suffix`,
/// `anything-but`): event-ruler turns every pattern character into the set
/// {lower-case form, upper-case form} (Locale.ROOT) and matches the event's
/// bytes against a sequence of those sets. No case folding of the event
/// (so `STRASSE` does not match `straße`, and `ΣΑΣ` does not match `σας`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CaseSeq {
    alts: Vec<[String; 2]>,
}

impl CaseSeq {
    pub(crate) fn new(s: &str) -> Self {
        CaseSeq {
            alts: s
                .chars()
                .map(|c| [c.to_lowercase().collect(), c.to_uppercase().collect()])
                .collect(),
        }
    }

    /// Byte offsets reachable in `s` after consuming the whole sequence from
    /// `start`, forwards (`back == false`) or backwards from `start`.
    fn ends(&self, s: &[u8], start: usize, back: bool) -> Vec<usize> {
        let mut cur = vec![start];
        let n = self.alts.len();
        for k in 0..n {
            let pair = &self.alts[if back { n - 1 - k } else { k }];
            let mut next: Vec<usize> = Vec::with_capacity(cur.len());
            for &p in &cur {
                for a in pair {
                    let a = a.as_bytes();
                    let e = if back {
                        if !s[..p].ends_with(a) {
                            continue;
                        }
                        p - a.len()
                    } else {
                        if !s[p..].starts_with(a) {
                            continue;
                        }
                        p + a.len()
                    };
                    if !next.contains(&e) {
                        next.push(e);
                    }
                }
            }
            if next.is_empty() {
                return next;
            }
            cur = next;
        }
        cur
    }

    /// For each pattern character, its lower-case and upper-case forms (what an event's text
    /// must hold there, one or the other), for consumers that translate the pattern.
    pub(crate) fn alternatives(&self) -> &[[String; 2]] {
        &self.alts
    }

    pub(crate) fn equals(&self, s: &str) -> bool {
        self.ends(s.as_bytes(), 0, false).contains(&s.len())
    }

    pub(crate) fn is_prefix_of(&self, s: &str) -> bool {
        !self.ends(s.as_bytes(), 0, false).is_empty()
    }

    pub(crate) fn is_suffix_of(&self, s: &str) -> bool {
        !self.ends(s.as_bytes(), s.len(), true).is_empty()
    }
}

/// An IPv4 or IPv6 range from a `cidr` pattern: the network of the address
/// as written (host bits cleared) to the same with all host bits set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cidr {
    v6: bool,
    lo: u128,
    hi: u128,
}

/// Parse an IP address literal the way event-ruler recognises one:
/// IPv4 is four dot-separated decimal numbers (leading zeros allowed, each
/// at most 255); IPv6 is hex digits and colons only (no zone, no embedded
/// IPv4); an IPv4-mapped IPv6 address counts as IPv4 (Java's InetAddress).
pub(crate) fn parse_ip(s: &str) -> Option<(bool, u128)> {
    if s.contains('.') {
        let mut v: u128 = 0;
        let mut n = 0;
        for part in s.split('.') {
            if part.is_empty() || part.len() > 10 || !part.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let x: u32 = part.parse().ok()?;
            if x > 255 {
                return None;
            }
            v = (v << 8) | u128::from(x);
            n += 1;
        }
        return (n == 4).then_some((false, v));
    }
    if !s.contains(':') || !s.bytes().all(|b| b.is_ascii_hexdigit() || b == b':') {
        return None;
    }
    let a: Ipv6Addr = s.parse().ok()?;
    if let Some(v4) = a.to_ipv4_mapped() {
        return Some((false, u128::from(u32::from(v4))));
    }
    Some((true, u128::from(a)))
}

impl Cidr {
    pub(crate) fn parse(s: &str) -> Result<Cidr, String> {
        Cidr::parse_with(s, false)
    }

    /// Like [`Cidr::parse`], but a full-width mask (`/32`, `/128`: one address) is accepted, as
    /// Sigma's `cidr` allows (EventBridge does not).
    pub(crate) fn parse_inclusive(s: &str) -> Result<Cidr, String> {
        Cidr::parse_with(s, true)
    }

    fn parse_with(s: &str, full: bool) -> Result<Cidr, String> {
        let parts: Vec<&str> = s.split('/').collect();
        if parts.len() != 2 || parts[1].is_empty() {
            return Err("Malformed CIDR, one '/' required".into());
        }
        let bits: i64 = parts[1]
            .parse()
            .map_err(|_| "Malformed CIDR, mask bits must be an integer".to_string())?;
        if bits < 0 {
            return Err("Malformed CIDR, mask bits must not be negative".into());
        }
        let (v6, ip) =
            parse_ip(parts[0]).ok_or_else(|| format!("Invalid IP address: {}", parts[0]))?;
        let width: i64 = if v6 { 128 } else { 32 };
        if bits > width || (bits == width && !full) {
            return Err(if v6 {
                "IPv6 mask bits must be < 128".into()
            } else {
                "IPv4 mask bits must be < 32".into()
            });
        }
        let host = (width - bits) as u32;
        let mask: u128 = if host >= 128 { u128::MAX } else { (1u128 << host) - 1 };
        Ok(Cidr { v6, lo: ip & !mask, hi: ip | mask })
    }

    /// IPv6 or not, and the first and last address of the range (IPv4 in the low 32 bits).
    pub(crate) fn range(&self) -> (bool, u128, u128) {
        (self.v6, self.lo, self.hi)
    }

    pub(crate) fn matches(&self, s: &str) -> bool {
        match parse_ip(s) {
            Some((v6, ip)) => v6 == self.v6 && self.lo <= ip && ip <= self.hi,
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_syntax() {
        assert_eq!(
            Glob::parse("abc**def").unwrap_err(),
            "Consecutive wildcard characters at pos 4"
        );
        assert_eq!(Glob::parse("**f").unwrap_err(), "Consecutive wildcard characters at pos 1");
        assert_eq!(Glob::parse("he\\llo").unwrap_err(), "Invalid escape character at pos 3");
        assert_eq!(Glob::parse("x\\").unwrap_err(), "Invalid escape character at pos 2");
        assert!(Glob::parse("a\\**").is_ok());
    }

    #[test]
    fn glob_matching() {
        let g = Glob::parse("a*b\\*c*").unwrap();
        assert!(g.matches("ab*c"));
        assert!(g.matches("axxb*cyy"));
        assert!(!g.matches("abc"));
        let g = Glob::parse("*").unwrap();
        assert!(g.matches(""));
        let g = Glob::parse("ab*ba").unwrap();
        assert!(!g.matches("aba") && g.matches("abba"));
        let g = Glob::parse("\\\\").unwrap();
        assert!(g.matches("\\"));
        assert_eq!(Glob::parse("*foo*barbaz").unwrap().longest_literal(), "barbaz");
    }

    /// Adversarial input for backtracking matchers: `*a*a*a...*b` against
    /// `aaaa...`. Matching does one bounded scan per literal run, so the work
    /// is O(value + pattern) by construction; this checks the answer at a size
    /// where an exponential matcher would never finish.
    #[test]
    fn glob_adversarial_is_linear() {
        let pat = "*a".repeat(2000) + "*b";
        let g = Glob::parse(&pat).unwrap();
        let val = "a".repeat(200_000);
        assert!(!g.matches(&val));
        let mut ok = val.clone();
        ok.push('b');
        assert!(g.matches(&ok));
    }

    #[test]
    fn case_seq() {
        assert!(CaseSeq::new("abc").equals("AbC"));
        assert!(!CaseSeq::new("STRASSE").equals("straße"));
        assert!(CaseSeq::new("straße").equals("STRASSE"));
        assert!(!CaseSeq::new("ΣΑΣ").equals("σας"));
        assert!(CaseSeq::new("ab").is_prefix_of("ABc"));
        assert!(CaseSeq::new("bc").is_suffix_of("aBC"));
        assert!(!CaseSeq::new("bc").is_suffix_of("aBCd"));
        assert!(CaseSeq::new("").is_suffix_of("x"));
    }

    #[test]
    fn cidr() {
        let c = Cidr::parse("10.0.0.0/24").unwrap();
        assert!(c.matches("10.0.0.255"));
        assert!(c.matches("10.0.0.01"));
        assert!(!c.matches("10.0.1.0"));
        assert!(!c.matches("hello"));
        assert!(!c.matches("10.0.0.256"));
        let c = Cidr::parse("2001:db8::/32").unwrap();
        assert!(c.matches("2001:DB8::1"));
        assert!(c.matches("2001:db8:0:0:0:0:0:1"));
        assert!(!c.matches("10.0.0.1"));
        assert_eq!(Cidr::parse("10.0.0.1/32").unwrap_err(), "IPv4 mask bits must be < 32");
        assert_eq!(Cidr::parse("foo").unwrap_err(), "Malformed CIDR, one '/' required");
        assert!(Cidr::parse("10.0.0.1/-1").is_err());
        assert!(Cidr::parse("::/0").is_ok());
    }
}
