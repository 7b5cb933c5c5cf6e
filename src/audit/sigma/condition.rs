//! Sigma conditions: `and`, `or`, `not`, parentheses, `1 of x*`, `all of x*`, `1 of them`,
//! `all of them`. Precedence: `not` binds tightest, then `and`, then `or`.

/// A parsed condition over selection names (quantifiers already expanded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Cond {
    Sel(String),
    And(Vec<Cond>),
    Or(Vec<Cond>),
    Not(Box<Cond>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    LParen,
    RParen,
    And,
    Or,
    Not,
    Word(String),
}

fn lex(text: &str) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some(&(i, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '(' {
            chars.next();
            out.push(Tok::LParen);
        } else if c == ')' {
            chars.next();
            out.push(Tok::RParen);
        } else if c == '|' {
            return Err(
                "aggregation expressions (`| count() ...`) are not supported: Sigma replaced them with correlation rules"
                    .into(),
            );
        } else if c.is_alphanumeric() || matches!(c, '_' | '*' | '-' | '.' | '?') {
            let mut end = i;
            while let Some(&(j, d)) = chars.peek() {
                if d.is_alphanumeric() || matches!(d, '_' | '*' | '-' | '.' | '?') {
                    end = j + d.len_utf8();
                    chars.next();
                } else {
                    break;
                }
            }
            let w = &text[i..end];
            out.push(match w.to_ascii_lowercase().as_str() {
                "and" => Tok::And,
                "or" => Tok::Or,
                "not" => Tok::Not,
                _ => Tok::Word(w.to_string()),
            });
        } else {
            return Err(format!("unexpected character {c:?} at position {}", i + 1));
        }
    }
    Ok(out)
}

/// Does `name` match a selection pattern with `*` (any run) and `?` (one character)?
fn name_matches(pat: &str, name: &str) -> bool {
    // ok[j]: the pattern read so far matches name[..j] (dynamic programming, linear space).
    let n: Vec<char> = name.chars().collect();
    let mut ok = vec![false; n.len() + 1];
    ok[0] = true;
    for c in pat.chars() {
        let mut next = vec![false; n.len() + 1];
        match c {
            '*' => {
                let mut seen = false;
                for j in 0..=n.len() {
                    seen |= ok[j];
                    next[j] = seen;
                }
            }
            _ => {
                for j in 1..=n.len() {
                    next[j] = ok[j - 1] && (c == '?' || n[j - 1] == c);
                }
            }
        }
        ok = next;
    }
    ok[n.len()]
}

struct Parser<'a> {
    toks: Vec<Tok>,
    pos: usize,
    names: &'a [String],
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn or(&mut self) -> Result<Cond, String> {
        let mut v = vec![self.and()?];
        while self.peek() == Some(&Tok::Or) {
            self.pos += 1;
            v.push(self.and()?);
        }
        Ok(if v.len() == 1 { v.remove(0) } else { Cond::Or(v) })
    }

    fn and(&mut self) -> Result<Cond, String> {
        let mut v = vec![self.not()?];
        while self.peek() == Some(&Tok::And) {
            self.pos += 1;
            v.push(self.not()?);
        }
        Ok(if v.len() == 1 { v.remove(0) } else { Cond::And(v) })
    }

    fn not(&mut self) -> Result<Cond, String> {
        if self.peek() == Some(&Tok::Not) {
            self.pos += 1;
            self.depth += 1;
            if self.depth > 64 {
                return Err("condition nested too deep".into());
            }
            let inner = self.not()?;
            self.depth -= 1;
            return Ok(Cond::Not(Box::new(inner)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Cond, String> {
        match self.toks.get(self.pos).cloned() {
            Some(Tok::LParen) => {
                self.pos += 1;
                self.depth += 1;
                if self.depth > 64 {
                    return Err("condition nested too deep".into());
                }
                let e = self.or()?;
                self.depth -= 1;
                if self.peek() != Some(&Tok::RParen) {
                    return Err("missing ')'".into());
                }
                self.pos += 1;
                Ok(e)
            }
            Some(Tok::Word(w)) => {
                self.pos += 1;
                let quant = w.to_ascii_lowercase();
                if matches!(self.peek(), Some(Tok::Word(o)) if o.eq_ignore_ascii_case("of")) {
                    self.pos += 1;
                    let all = match quant.as_str() {
                        "1" | "any" => false,
                        "all" => true,
                        _ => {
                            return Err(format!(
                                "unsupported quantifier {w:?} (use `1 of` or `all of`)"
                            ));
                        }
                    };
                    let Some(Tok::Word(target)) = self.toks.get(self.pos).cloned() else {
                        return Err(format!("`{w} of` needs a selection name pattern or `them`"));
                    };
                    self.pos += 1;
                    let picked: Vec<Cond> = if target.eq_ignore_ascii_case("them") {
                        self.names
                            .iter()
                            .filter(|n| !n.starts_with('_'))
                            .map(|n| Cond::Sel(n.clone()))
                            .collect()
                    } else {
                        self.names
                            .iter()
                            .filter(|n| name_matches(&target, n))
                            .map(|n| Cond::Sel(n.clone()))
                            .collect()
                    };
                    if picked.is_empty() {
                        return Err(format!(
                            "no selection matches {target:?} in `{w} of {target}`"
                        ));
                    }
                    return Ok(if picked.len() == 1 {
                        picked.into_iter().next().unwrap_or(Cond::And(Vec::new()))
                    } else if all {
                        Cond::And(picked)
                    } else {
                        Cond::Or(picked)
                    });
                }
                if w.contains('*') || w.contains('?') {
                    return Err(format!("a wildcard name ({w:?}) needs `1 of` or `all of`"));
                }
                if !self.names.contains(&w) {
                    return Err(format!("the condition names {w:?}, which is not a selection"));
                }
                Ok(Cond::Sel(w))
            }
            Some(t) => Err(format!("unexpected {}", describe(&t))),
            None => Err("the condition ends too early".into()),
        }
    }
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::LParen => "'('".into(),
        Tok::RParen => "')'".into(),
        Tok::And => "'and'".into(),
        Tok::Or => "'or'".into(),
        Tok::Not => "'not'".into(),
        Tok::Word(w) => format!("{w:?}"),
    }
}

/// Parses one condition over the selections `names`.
pub(crate) fn parse(text: &str, names: &[String]) -> Result<Cond, String> {
    let toks = lex(text)?;
    if toks.is_empty() {
        return Err("the condition is empty".into());
    }
    let mut p = Parser { toks, pos: 0, names, depth: 0 };
    let c = p.or()?;
    if let Some(t) = p.peek() {
        return Err(format!("unexpected {} after a complete condition", describe(t)));
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Vec<String> {
        ["selection", "sel_a", "sel_b", "filter", "_private"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    fn sel(s: &str) -> Cond {
        Cond::Sel(s.into())
    }

    #[test]
    fn precedence_and_quantifiers() {
        let n = names();
        assert_eq!(
            parse("selection and not filter or sel_a", &n).unwrap(),
            Cond::Or(vec![
                Cond::And(vec![sel("selection"), Cond::Not(Box::new(sel("filter")))]),
                sel("sel_a")
            ])
        );
        assert_eq!(
            parse("selection AND (sel_a OR sel_b)", &n).unwrap(),
            Cond::And(vec![sel("selection"), Cond::Or(vec![sel("sel_a"), sel("sel_b")])])
        );
        assert_eq!(parse("1 of sel_*", &n).unwrap(), Cond::Or(vec![sel("sel_a"), sel("sel_b")]));
        assert_eq!(parse("all of sel_*", &n).unwrap(), Cond::And(vec![sel("sel_a"), sel("sel_b")]));
        assert_eq!(
            parse("all of them", &n).unwrap(),
            Cond::And(vec![sel("selection"), sel("sel_a"), sel("sel_b"), sel("filter")])
        );
        assert_eq!(parse("not not filter", &n).unwrap(), {
            Cond::Not(Box::new(Cond::Not(Box::new(sel("filter")))))
        });
    }

    #[test]
    fn errors_say_why() {
        let n = names();
        assert!(parse("selection and", &n).unwrap_err().contains("ends too early"));
        assert!(parse("nope", &n).unwrap_err().contains("not a selection"));
        assert!(parse("(selection", &n).unwrap_err().contains("missing ')'"));
        assert!(parse("1 of x*", &n).unwrap_err().contains("no selection matches"));
        assert!(parse("selection | count() > 5", &n).unwrap_err().contains("correlation"));
        assert!(parse("2 of sel_*", &n).unwrap_err().contains("quantifier"));
        assert!(parse("sel_*", &n).unwrap_err().contains("1 of"));
        assert!(parse("selection selection", &n).unwrap_err().contains("after a complete"));
        assert!(parse("", &n).unwrap_err().contains("empty"));
    }
}
