//! The HTML page: a fixed template, one inline style and one inline script (both files in
//! this folder, included at build time), and the data as JSON in a
//! `<script type="application/json">` element. The Content-Security-Policy names the style and
//! the script by their SHA-256, so the browser runs nothing else and fetches nothing.

use base64::Engine as _;
use sha2::{Digest, Sha256};
use std::fmt::Write as _;
use std::io::{self, Write};

/// The page's style sheet.
pub const CSS: &str = include_str!("page.css");
/// The page's script.
pub const JS: &str = include_str!("page.js");
const TEMPLATE: &str = include_str!("page.html");

/// `'sha256-…'` of `text`, as a CSP source.
#[must_use]
pub fn csp_hash(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    format!("'sha256-{}'", base64::engine::general_purpose::STANDARD.encode(digest))
}

/// The Content-Security-Policy of the page.
#[must_use]
pub fn csp() -> String {
    format!(
        "default-src 'none'; script-src {}; style-src {}; img-src data:; base-uri 'none'; form-action 'none'",
        csp_hash(JS),
        csp_hash(CSS)
    )
}

/// JSON text safe inside a `<script>` element: no `<`, `>` or `&` (so no `</script>` or
/// `<!--`), no U+2028/U+2029, and no C1 control, bidirectional or invisible format character
/// left raw in the page's source. Each is only ever inside a JSON string, where its `\u`
/// escape means the same.
#[must_use]
pub fn script_json(v: &serde_json::Value) -> String {
    let mut out = Vec::new();
    // Writing into memory fails on no input.
    let _ = write_script_json(v, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// [`script_json`] of `v` written to `out` as it is made: the page's data is not held as text
/// (twice, escaped) next to itself.
///
/// # Errors
/// Those of `out`.
pub fn write_script_json(v: &serde_json::Value, out: &mut dyn Write) -> io::Result<()> {
    let mut buffered = io::BufWriter::with_capacity(1 << 16, out);
    let mut w = Escaper { out: &mut buffered, pending: Vec::new() };
    serde_json::to_writer(&mut w, v).map_err(io::Error::other)?;
    if !w.pending.is_empty() {
        return Err(io::Error::other("JSON text cut in a character"));
    }
    buffered.flush()
}

/// Escapes the JSON text written through it ([`script_json`]) into `out`.
struct Escaper<'a> {
    out: &'a mut dyn Write,
    /// The start of a character cut between two writes.
    pending: Vec<u8>,
}

impl Escaper<'_> {
    fn text(&mut self, text: &str) -> io::Result<()> {
        let mut start = 0;
        for (i, c) in text.char_indices() {
            let escaped = match c {
                '<' => "\\u003c".to_string(),
                '>' => "\\u003e".to_string(),
                '&' => "\\u0026".to_string(),
                '\u{7f}'..='\u{9f}'
                | '\u{200b}'..='\u{200f}'
                | '\u{2028}'..='\u{202e}'
                | '\u{2060}'..='\u{2069}'
                | '\u{feff}' => {
                    let mut e = String::new();
                    let _ = write!(e, "\\u{:04x}", u32::from(c));
                    e
                }
                _ => continue,
            };
            self.out.write_all(&text.as_bytes()[start..i])?;
            self.out.write_all(escaped.as_bytes())?;
            start = i + c.len_utf8();
        }
        self.out.write_all(&text.as_bytes()[start..])
    }
}

impl Write for Escaper<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let joined;
        let bytes = if self.pending.is_empty() {
            buf
        } else {
            let mut b = std::mem::take(&mut self.pending);
            b.extend_from_slice(buf);
            joined = b;
            &joined[..]
        };
        let (text, rest) = match std::str::from_utf8(bytes) {
            Ok(t) => (t, &[][..]),
            Err(e) if e.error_len().is_none() => {
                let (head, rest) = bytes.split_at(e.valid_up_to());
                (std::str::from_utf8(head).map_err(io::Error::other)?, rest)
            }
            Err(e) => return Err(io::Error::other(e)),
        };
        let rest = rest.to_vec();
        self.text(text)?;
        self.pending = rest;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// Writes the page for `data`.
pub fn write(data: &serde_json::Value, out: &mut dyn Write) -> io::Result<()> {
    let mut parts = TEMPLATE.split("{{");
    out.write_all(parts.next().unwrap_or_default().as_bytes())?;
    for part in parts {
        let (name, rest) = part.split_once("}}").unwrap_or(("", part));
        match name {
            "CSP" => out.write_all(csp().as_bytes())?,
            "CSS" => out.write_all(CSS.as_bytes())?,
            "JS" => out.write_all(JS.as_bytes())?,
            "DATA" => write_script_json(data, out)?,
            "VERSION" => out.write_all(env!("CARGO_PKG_VERSION").as_bytes())?,
            other => return Err(io::Error::other(format!("page template: unknown {other}"))),
        }
        out.write_all(rest.as_bytes())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn no_string_can_end_the_data_element() {
        let hostile =
            "</script><script>alert(1)</script><!-- & \u{2028}\u{2029} ]]> \u{202e}\u{85}\u{feff}";
        let v = json!({ "ua": hostile, hostile: [hostile] });
        let text = script_json(&v);
        for bad in ["<", ">", "&", "\u{2028}", "\u{2029}", "\u{202e}", "\u{85}", "\u{feff}"] {
            assert!(!text.contains(bad), "{bad} in {text}");
        }
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, v);
        // Written in pieces cut anywhere, even inside a character: the same text.
        let raw = v.to_string();
        for cut in 1..8 {
            let mut out = Vec::new();
            let mut w = Escaper { out: &mut out, pending: Vec::new() };
            for piece in raw.as_bytes().chunks(cut) {
                w.write_all(piece).unwrap();
            }
            assert!(w.pending.is_empty());
            assert_eq!(String::from_utf8(out).unwrap(), text, "pieces of {cut} bytes");
        }
    }

    #[test]
    fn the_page_names_its_script_and_style_by_hash() {
        let mut out = Vec::new();
        write(&json!({"x": "<b>"}), &mut out).unwrap();
        let page = String::from_utf8(out).unwrap();
        assert!(page.contains(&csp()));
        assert!(!csp().contains("unsafe"));
        assert!(page.contains(&format!("<style>{CSS}</style>")));
        assert!(page.contains(&format!("<script>{JS}</script>")));
        assert!(page.contains(r#"{"x":"\u003cb\u003e"}"#));
        assert!(!page.contains("{{"), "every placeholder filled");
        // No address outside the page: nothing to fetch.
        for needle in ["http://", "https://", "src=", "href=\"http", "@import", "url("] {
            assert!(!CSS.contains(needle) && !TEMPLATE.contains(needle), "{needle}");
        }
        assert!(!JS.contains("innerHTML") && !JS.contains("eval(") && !JS.contains("fetch("));
    }
}
