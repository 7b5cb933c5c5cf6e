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
    let text = v.to_string();
    let mut out = String::with_capacity(text.len() + text.len() / 64);
    for c in text.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{7f}'..='\u{9f}'
            | '\u{200b}'..='\u{200f}'
            | '\u{2028}'..='\u{202e}'
            | '\u{2060}'..='\u{2069}'
            | '\u{feff}' => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out
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
            "DATA" => out.write_all(script_json(data).as_bytes())?,
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
