//! EventBridge's limit on wildcard complexity ("Rule is too complex").
//!
//! EventBridge refuses a rule whose wildcards make matching too non-deterministic, with
//! `InvalidEventPatternException`: "Rule is too complex - try using fewer wildcard characters
//! or fewer repeating character sequences after a wildcard character". The measure is
//! event-ruler's `MachineComplexityEvaluator`: build the rule's machine, and find the most
//! wildcard rule prefixes a single value can keep alive at once (the most states of the
//! byte-level automaton that lead to a `wildcard` or `anything-but`/`wildcard` match, counted
//! once per pattern they lead to). This module is a port of that evaluation and of the parts
//! of event-ruler's `ByteMachine` that build the states it walks (`addMatchValue`,
//! `addEndOfMatch`, `findOrMakeNextByteState`, `addTransitionNextState`, `insertMatch`, and
//! `ByteMap`'s byte ranges), so that the states, their sharing and the count are event-ruler's.
//!
//! What is left out, and why it cannot change the count: patterns other than wildcards are not
//! added to the byte machines (they carry no weight, and event-ruler's own tests show exact,
//! prefix, equals-ignore-case and exists patterns beside wildcards leaving the count as it is);
//! their matches still lead to the next field's machines, which are evaluated, as in
//! `GenericMachine`. Fields reached only through `exists: false` are not evaluated (event-ruler
//! evaluates the machines reached through value matches only).
//!
//! The limit itself is not in event-ruler (each application sets its own): [`MAX_COMPLEXITY`]
//! is EventBridge's, as observed (see its docs).

use rustc_hash::FxHashMap as HashMap;

use super::ast::{Alt, AnyBut};
use super::compile::Compiled;

/// The most wildcard complexity EventBridge accepts in a rule. Observed: a rule with
/// `"EventBusArn": [{"wildcard": "*:*:*:*:*:event-bus/*"}]` (complexity 11 here) is refused by
/// EventBridge, and a rule whose field lists three `*:stack/<name>/*` wildcards (complexity 9)
/// is accepted while four (complexity 12) are refused. That puts the limit at 9 or 10; 10 is
/// used, so that trailscan never refuses a rule EventBridge accepts.
pub(crate) const MAX_COMPLEXITY: usize = 10;

/// EventBridge's message for a rule over [`MAX_COMPLEXITY`].
pub(crate) const TOO_COMPLEX: &str = "Rule is too complex - try using fewer wildcard characters or fewer repeating character sequences after a wildcard character";

/// One input character of a pattern value: a byte, or the wildcard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ch {
    Byte(u8),
    Star,
}

/// event-ruler's `WildcardParser` on an already validated value: `\*` and `\\` are literal.
fn chars(value: &str) -> Vec<Ch> {
    let b = value.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'*' => out.push(Ch::Star),
            b'\\' if i + 1 < b.len() => {
                out.push(Ch::Byte(b[i + 1]));
                i += 1;
            }
            c => out.push(Ch::Byte(c)),
        }
        i += 1;
    }
    out
}

/// A transition (event-ruler's `SingleByteTransition`), by identity.
type T = u32;

#[derive(Debug, Clone, Copy)]
enum Kind {
    /// A `ByteState`.
    State,
    /// A `CompositeByteTransition`: a next state and a match.
    Composite { state: T, matched: T },
    /// A `ByteMatch`: a pattern leading to a name state.
    Match { pattern: u32, name: u32 },
}

#[derive(Debug, Clone)]
struct Node {
    kind: Kind,
    /// For states: `ByteMap`, byte ranges `[previous ceiling, ceiling)` and their transitions.
    ranges: Vec<(u16, Vec<T>)>,
    indeterminate: bool,
}

/// A field's byte machine (event-ruler's `ByteMachine`), wildcard patterns only.
#[derive(Debug, Clone)]
pub(crate) struct ByteMachine {
    nodes: Vec<Node>,
    /// Interned matches: equal (pattern, name state) is one `ByteMatch`, as event-ruler's
    /// `ByteMatch.equals` makes them.
    matches: HashMap<(u32, u32), T>,
    start_match: bool,
    /// Whether each pattern counts (wildcard, anything-but wildcard).
    weighted: Vec<bool>,
    next_name: u32,
}

const START: T = 0;

fn insert(set: &mut Vec<T>, t: T) {
    if let Err(i) = set.binary_search(&t) {
        set.insert(i, t);
    }
}

impl Default for ByteMachine {
    fn default() -> Self {
        ByteMachine {
            nodes: vec![Node {
                kind: Kind::State,
                ranges: vec![(256, Vec::new())],
                indeterminate: false,
            }],
            matches: HashMap::default(),
            start_match: false,
            weighted: Vec::new(),
            next_name: 0,
        }
    }
}

impl ByteMachine {
    fn new_state(&mut self, indeterminate: bool) -> T {
        self.nodes.push(Node { kind: Kind::State, ranges: vec![(256, Vec::new())], indeterminate });
        (self.nodes.len() - 1) as T
    }

    fn new_node(&mut self, kind: Kind) -> T {
        self.nodes.push(Node { kind, ranges: Vec::new(), indeterminate: false });
        (self.nodes.len() - 1) as T
    }

    fn byte_match(&mut self, pattern: u32, name: u32) -> T {
        if let Some(&t) = self.matches.get(&(pattern, name)) {
            return t;
        }
        let t = self.new_node(Kind::Match { pattern, name });
        self.matches.insert((pattern, name), t);
        t
    }

    fn next_state(&self, t: T) -> Option<T> {
        match self.nodes[t as usize].kind {
            Kind::State => Some(t),
            Kind::Composite { state, .. } => Some(state),
            Kind::Match { .. } => None,
        }
    }

    fn indeterminate(&self, t: T) -> bool {
        self.nodes[t as usize].indeterminate
    }

    fn own_match(&self, t: T) -> Option<T> {
        match self.nodes[t as usize].kind {
            Kind::State => None,
            Kind::Composite { matched, .. } => Some(matched),
            Kind::Match { .. } => Some(t),
        }
    }

    /// The transitions of state `s` on byte `b`.
    fn get(&self, s: T, b: u8) -> &[T] {
        let ranges = &self.nodes[s as usize].ranges;
        ranges.iter().find(|(c, _)| *c > u16::from(b)).map_or(&[], |(_, v)| v.as_slice())
    }

    /// `ByteMap.getTransitionForAllBytes`: the transitions every byte has.
    fn for_all(&self, s: T) -> Vec<T> {
        let ranges = &self.nodes[s as usize].ranges;
        let mut it = ranges.iter();
        let Some((_, first)) = it.next() else { return Vec::new() };
        let mut out = first.clone();
        for (_, v) in it {
            out.retain(|t| v.binary_search(t).is_ok());
        }
        out
    }

    fn get_ch(&self, s: T, c: Ch) -> Vec<T> {
        match c {
            Ch::Byte(b) => self.get(s, b).to_vec(),
            Ch::Star => self.for_all(s),
        }
    }

    /// The range index holding exactly byte `b` (ranges split as needed).
    fn range_of(&mut self, s: T, b: u8) -> usize {
        let ranges = &mut self.nodes[s as usize].ranges;
        for at in [u16::from(b), u16::from(b) + 1] {
            if at == 0 || ranges.iter().any(|(c, _)| *c == at) {
                continue;
            }
            let i = ranges.iter().position(|(c, _)| *c > at).unwrap_or(ranges.len() - 1);
            let copy = ranges[i].1.clone();
            ranges.insert(i, (at, copy));
        }
        ranges.iter().position(|(c, _)| *c == u16::from(b) + 1).unwrap_or(0)
    }

    fn add(&mut self, s: T, c: Ch, t: T) {
        match c {
            Ch::Byte(b) => {
                let i = self.range_of(s, b);
                insert(&mut self.nodes[s as usize].ranges[i].1, t);
            }
            // `ByteMachine.addTransition` on a wildcard character replaces every transition.
            Ch::Star => self.nodes[s as usize].ranges = vec![(256, vec![t])],
        }
    }

    fn add_all(&mut self, s: T, t: T) {
        for (_, v) in &mut self.nodes[s as usize].ranges {
            insert(v, t);
        }
    }

    fn remove(&mut self, s: T, c: Ch, t: T) {
        match c {
            Ch::Byte(b) => {
                let i = self.range_of(s, b);
                self.nodes[s as usize].ranges[i].1.retain(|x| *x != t);
            }
            Ch::Star => {
                for (_, v) in &mut self.nodes[s as usize].ranges {
                    v.retain(|x| *x != t);
                }
            }
        }
    }

    /// `CompoundByteTransition.getNextByteState`: a determinate next state first.
    fn set_next_state(&self, set: &[T]) -> Option<T> {
        let mut first = None;
        for &t in set {
            if let Some(n) = self.next_state(t) {
                if !self.indeterminate(n) {
                    return Some(n);
                }
                first.get_or_insert(n);
            }
        }
        first
    }

    /// Adds a wildcard value for `pattern` (event-ruler's `addMatchValue`); returns the name
    /// state its match leads to.
    fn add_value(&mut self, pattern: u32, value: &[Ch], name: Option<u32>) -> u32 {
        let n = value.len();
        let (mut state, mut prev) = (START, None);
        let mut i = 0;
        while i + 1 < n {
            let trans = self.get_ch(state, value[i]);
            if trans.is_empty() {
                break;
            }
            let reuse = trans
                .iter()
                .filter_map(|&t| self.next_state(t))
                .find(|&next| self.can_reuse(state, next, value, i));
            let Some(next) = reuse else { break };
            prev = Some(state);
            state = next;
            i += 1;
        }
        self.add_end_of_match(state, prev, value, i, pattern, name)
    }

    fn can_reuse(&self, state: T, next: T, value: &[Ch], i: usize) -> bool {
        if next == state {
            return false;
        }
        if !self.indeterminate(next) {
            return !(i + 2 == value.len() && value[i + 1] == Ch::Star);
        }
        !self.transitions_converge(state, value, i)
    }

    /// `doMultipleTransitionsConvergeForInputByte`.
    fn transitions_converge(&self, state: T, value: &[Ch], i: usize) -> bool {
        let Ch::Byte(b) = value[i] else { return false };
        if (0x80..=0xbf).contains(&b) {
            return false;
        }
        let all = self.for_all(state);
        if !all.is_empty() && all != [state] {
            return true;
        }
        // An equals-ignore-case parse of the character gives several byte sequences (a cased
        // letter): the lower- and upper-case paths converge.
        let bytes: Vec<u8> = value[i..]
            .iter()
            .map_while(|c| match c {
                Ch::Byte(b) => Some(*b),
                Ch::Star => None,
            })
            .take(4)
            .collect();
        let ch = match std::str::from_utf8(&bytes) {
            Ok(s) => s.chars().next(),
            Err(e) => {
                std::str::from_utf8(&bytes[..e.valid_up_to()]).ok().and_then(|s| s.chars().next())
            }
        };
        ch.is_some_and(|c| {
            let (lower, upper) = (c.to_lowercase().to_string(), c.to_uppercase().to_string());
            lower != upper
        })
    }

    fn add_end_of_match(
        &mut self,
        mut state: T,
        mut prev: Option<T>,
        value: &[Ch],
        at: usize,
        pattern: u32,
        name: Option<u32>,
    ) -> u32 {
        let n = value.len();
        let name = name.unwrap_or_else(|| self.new_name());
        if n == 1 && value[0] == Ch::Star {
            self.start_match = true;
            return name;
        }
        let mut j = at;
        while j + 1 < n {
            if j + 2 == n && value[j + 1] == Ch::Star {
                break;
            }
            let trans = self.get_ch(state, value[j]);
            if trans.is_empty() {
                break;
            }
            match self.set_next_state(&trans) {
                Some(next) if self.indeterminate(next) => break,
                Some(next) => {
                    prev = Some(state);
                    state = next;
                }
                None => {
                    // A match without a next state: give it one (`putTransitionNextState`).
                    let fresh = self.new_state(self.indeterminate(state));
                    let single = trans[0];
                    let replaced = match self.nodes[single as usize].kind {
                        Kind::Match { .. } => {
                            self.new_node(Kind::Composite { state: fresh, matched: single })
                        }
                        _ => fresh,
                    };
                    self.add(state, value[j], replaced);
                    self.remove(state, value[j], single);
                    prev = Some(state);
                    state = fresh;
                }
            }
            j += 1;
        }
        while j + 1 < n {
            let next = self.find_or_make_next(state, prev, value, j, pattern, name);
            prev = Some(state);
            state = next;
            j += 1;
        }
        self.insert_match(value, n - 1, state, name, pattern, prev)
    }

    fn new_name(&mut self) -> u32 {
        self.next_name += 1;
        self.next_name
    }

    fn find_or_make_next(
        &mut self,
        state: T,
        prev: Option<T>,
        value: &[Ch],
        i: usize,
        pattern: u32,
        name: u32,
    ) -> T {
        let trans = self.get_ch(state, value[i]);
        match self.set_next_state(&trans) {
            Some(next)
                if !(self.indeterminate(next)
                    || (i + 2 == value.len() && value[i + 1] == Ch::Star)) =>
            {
                next
            }
            _ => {
                let next = self.new_state(self.indeterminate(state));
                self.add_transition_next_state(state, value, i, prev, pattern, next, name);
                next
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn add_transition_next_state(
        &mut self,
        state: T,
        value: &[Ch],
        i: usize,
        prev: Option<T>,
        pattern: u32,
        next: T,
        name: u32,
    ) {
        let c = value[i];
        if c == Ch::Star {
            // A self-referencing state for the wildcard, reached from `state` on every byte.
            self.add_all(next, next);
            self.nodes[next as usize].indeterminate = true;
            self.add_all(state, next);
            return;
        }
        let mut single = next;
        if value[value.len() - 1] == Ch::Star && i + 2 == value.len() {
            let m = self.byte_match(pattern, name);
            single = self.new_node(Kind::Composite { state: next, matched: m });
            self.nodes[next as usize].indeterminate = true;
        }
        self.add(state, c, single);
        if let Some(p) = prev
            && i > 0
            && value[i - 1] == Ch::Star
        {
            self.add(p, c, single);
        }
    }

    fn insert_match(
        &mut self,
        value: &[Ch],
        at: usize,
        state: T,
        name: u32,
        pattern: u32,
        prev: Option<T>,
    ) -> u32 {
        let c = value[at];
        let existing = self.get_ch(state, c);
        for t in existing {
            if let Some(m) = self.own_match(t)
                && let Kind::Match { pattern: p, name: nm } = self.nodes[m as usize].kind
                && p == pattern
            {
                return nm;
            }
        }
        let m = self.byte_match(pattern, name);
        if c == Ch::Star {
            // The value ends with `*`: a composite match state reached from the previous
            // character, and a copy of it on every byte of its own state.
            let composite = match prev {
                Some(p) => {
                    let before = value[at - 1];
                    self.get_ch(p, before).into_iter().find(|&t| self.next_state(t) == Some(state))
                }
                None => None,
            };
            let composite = composite.unwrap_or_else(|| {
                let fresh = self.new_state(false);
                self.new_node(Kind::Composite { state: fresh, matched: m })
            });
            let Kind::Composite { state: next, matched } = self.nodes[composite as usize].kind
            else {
                return name;
            };
            let clone = self.new_node(Kind::Composite { state: next, matched });
            self.add_all(next, clone);
            self.nodes[next as usize].indeterminate = true;
        } else {
            self.add(state, c, m);
            if let Some(p) = prev
                && at + 1 == value.len()
                && value[at - 1] == Ch::Star
            {
                self.add(p, c, m);
            }
        }
        name
    }

    /// Adds a pattern's values (one for `wildcard`, several for `anything-but`/`wildcard`),
    /// all leading to one name state.
    fn add_pattern(&mut self, values: &[String], quoted: bool) {
        let pattern = self.weighted.len() as u32;
        self.weighted.push(true);
        let mut name = None;
        for v in values {
            let text = if quoted { format!("\"{v}\"") } else { v.clone() };
            name = Some(self.add_value(pattern, &chars(&text), name));
        }
    }

    /// The transitions out of a set of states, one per class of bytes that behave alike
    /// (`ByteState.getTransitions`, `CompoundByteTransition.getTransitions`).
    fn transitions(&self, states: &[T]) -> Vec<Vec<T>> {
        let mut ceilings: Vec<u16> = states
            .iter()
            .flat_map(|&s| self.nodes[s as usize].ranges.iter().map(|r| r.0))
            .collect();
        ceilings.sort_unstable();
        ceilings.dedup();
        let mut out: Vec<Vec<T>> = Vec::new();
        for c in ceilings {
            let b = (c - 1) as u8;
            let mut set = Vec::new();
            for &s in states {
                for &t in self.get(s, b) {
                    insert(&mut set, t);
                }
            }
            if !set.is_empty() && !out.contains(&set) {
                out.push(set);
            }
        }
        out
    }

    /// Per transition, the patterns whose match it leads to
    /// (`getMatchesAccessibleFromEachTransition`, the same depth-first walk).
    fn reachable_patterns(&self) -> HashMap<T, Vec<u32>> {
        let mut result: HashMap<T, Vec<u32>> = HashMap::default();
        let mut visited = rustc_hash::FxHashSet::default();
        let mut stack = vec![START];
        while let Some(&t) = stack.last() {
            result.entry(t).or_default();
            let next = self.next_state(t);
            if visited.contains(&t) {
                let mut acc = result[&t].clone();
                if let Some(n) = next {
                    for set in self.transitions(&[n]) {
                        for s in set {
                            if let Some(v) = result.get(&s) {
                                for &p in v {
                                    if let Err(i) = acc.binary_search(&p) {
                                        acc.insert(i, p);
                                    }
                                }
                            }
                        }
                    }
                }
                result.insert(t, acc);
                stack.pop();
                continue;
            }
            visited.insert(t);
            if let Some(m) = self.own_match(t)
                && let Kind::Match { pattern, .. } = self.nodes[m as usize].kind
            {
                let v = result.entry(t).or_default();
                if let Err(i) = v.binary_search(&pattern) {
                    v.insert(i, pattern);
                }
            }
            if let Some(n) = next {
                for set in self.transitions(&[n]) {
                    for s in set {
                        if !visited.contains(&s) {
                            stack.push(s);
                        }
                    }
                }
            }
        }
        result
    }

    /// `ByteMachine.evaluateComplexity` without the name states that follow: the most
    /// weighted prefixes one value keeps alive, capped at `cap`.
    fn own_complexity(&self, cap: usize) -> usize {
        let reach = self.reachable_patterns();
        let weight = |t: &T| {
            reach.get(t).map_or(0, |v| v.iter().filter(|&&p| self.weighted[p as usize]).count())
        };
        let mut visited: rustc_hash::FxHashSet<Vec<T>> = rustc_hash::FxHashSet::default();
        visited.insert(vec![START]);
        let mut queue: std::collections::VecDeque<Vec<T>> = self.transitions(&[START]).into();
        let mut max = 0;
        while let Some(set) = queue.pop_front() {
            if !visited.insert(set.clone()) {
                continue;
            }
            let mut size = 0;
            for t in &set {
                size += weight(t);
                if let Some(n) = self.next_state(*t) {
                    for a in self.for_all(n) {
                        if set.binary_search(&a).is_err() {
                            size += weight(&a);
                        }
                    }
                }
            }
            if size >= cap {
                return cap;
            }
            max = max.max(size);
            let mut next: Vec<T> = Vec::new();
            for t in &set {
                if let Some(n) = self.next_state(*t) {
                    insert(&mut next, n);
                }
            }
            if !next.is_empty() {
                queue.extend(self.transitions(&next));
            }
        }
        max
    }

    /// The complexity of this machine alone (`ByteMachine.evaluateComplexity` when its matches
    /// lead nowhere else), capped at `cap`.
    #[cfg(test)]
    fn complexity(&self, cap: usize) -> usize {
        usize::from(self.start_match) + self.own_complexity(cap)
    }
}

/// A field's alternatives as they enter its machine: their identity (equal alternatives share
/// a match and so a next name state) and, for wildcards, their values.
fn alternative(alt: &Alt) -> (String, Option<Vec<String>>) {
    let key = format!("{alt:?}");
    match alt {
        Alt::Wildcard(s, _) => (key, Some(vec![s.clone()])),
        Alt::AnythingBut(AnyBut::Wildcard(v)) => {
            let mut values: Vec<String> = v.iter().map(|(s, _)| s.clone()).collect();
            values.sort();
            values.dedup();
            (key, Some(values))
        }
        _ => (key, None),
    }
}

/// A name state of the rule machine (`NameState`): a byte machine per field, and where each
/// alternative's match leads.
#[derive(Default)]
struct NameState {
    fields: Vec<(usize, ByteMachine, HashMap<String, usize>)>,
    absent: HashMap<usize, usize>,
}

/// The rule's complexity, as `GenericMachine.evaluateComplexity` gives it for a machine
/// holding only this rule, capped just past [`MAX_COMPLEXITY`]; with the field path of the
/// machine that reaches it.
pub(crate) fn evaluate(compiled: &Compiled) -> (usize, Option<String>) {
    evaluate_capped(compiled, MAX_COMPLEXITY + 1)
}

fn evaluate_capped(compiled: &Compiled, cap: usize) -> (usize, Option<String>) {
    let has_wildcard = compiled
        .conjs
        .iter()
        .any(|c| c.fields.iter().any(|f| f.alts.iter().any(|a| alternative(a).1.is_some())));
    if !has_wildcard {
        return (0, None);
    }
    let mut states: Vec<NameState> = vec![NameState::default()];
    for conj in &compiled.conjs {
        let mut here = vec![0usize];
        for field in &conj.fields {
            let mut next_states = Vec::new();
            for &st in &here {
                let mut last: Option<usize> = None;
                if !field.alts.is_empty() {
                    let pos = match states[st].fields.iter().position(|f| f.0 == field.path) {
                        Some(p) => p,
                        None => {
                            states[st].fields.push((
                                field.path,
                                ByteMachine::default(),
                                HashMap::default(),
                            ));
                            states[st].fields.len() - 1
                        }
                    };
                    for alt in &field.alts {
                        let (key, wild) = alternative(alt);
                        let known = states[st].fields[pos].2.get(&key).copied();
                        let ns = match known {
                            Some(ns) => ns,
                            None => {
                                let ns = last.unwrap_or_else(|| {
                                    states.push(NameState::default());
                                    states.len() - 1
                                });
                                let entry = &mut states[st].fields[pos];
                                if let Some(values) = wild {
                                    entry.1.add_pattern(&values, true);
                                }
                                entry.2.insert(key, ns);
                                ns
                            }
                        };
                        last = Some(ns);
                        if !next_states.contains(&ns) {
                            next_states.push(ns);
                        }
                    }
                }
                if field.absent_ok && last.is_none() {
                    let ns = match states[st].absent.get(&field.path) {
                        Some(&ns) => ns,
                        None => {
                            states.push(NameState::default());
                            let ns = states.len() - 1;
                            states[st].absent.insert(field.path, ns);
                            ns
                        }
                    };
                    if !next_states.contains(&ns) {
                        next_states.push(ns);
                    }
                }
            }
            here = next_states;
        }
    }
    let mut memo: HashMap<usize, (usize, Option<usize>)> = HashMap::default();
    let (c, path) = name_state_complexity(&states, 0, cap, &mut memo);
    (c, path.map(|p| compiled.paths[p].clone()))
}

/// `NameState.evaluateComplexity` through `MachineComplexityEvaluator.evaluate`'s recursion
/// into the name states matches lead to: the most of any machine reached.
fn name_state_complexity(
    states: &[NameState],
    at: usize,
    cap: usize,
    memo: &mut HashMap<usize, (usize, Option<usize>)>,
) -> (usize, Option<usize>) {
    if let Some(&r) = memo.get(&at) {
        return r;
    }
    memo.insert(at, (0, None));
    let mut best = (0, None);
    for (path, machine, next) in &states[at].fields {
        let own = machine.own_complexity(cap);
        let mut field_best = (own, Some(*path));
        let mut targets: Vec<usize> = next.values().copied().collect();
        targets.sort_unstable();
        targets.dedup();
        for ns in targets {
            let r = name_state_complexity(states, ns, cap, memo);
            if r.0 > field_best.0 {
                field_best = r;
            }
        }
        let total = (usize::from(machine.start_match) + field_best.0).min(cap);
        if total > best.0 {
            best = (total, field_best.1);
        }
        if best.0 >= cap {
            break;
        }
    }
    memo.insert(at, best);
    best
}

#[cfg(test)]
mod tests {
    //! event-ruler's `MachineComplexityEvaluatorTest`, case for case (raw values in a byte
    //! machine, cap 100), then whole rules.
    use super::*;

    const CAP: usize = 100;

    #[derive(Clone, Copy)]
    enum P<'a> {
        W(&'a str),
        /// Patterns that carry no weight (exact, prefix, ...): not in the machine.
        Other,
        AnyButW(&'a [&'a str]),
    }

    fn machine(patterns: &[P<'_>]) -> usize {
        let mut m = ByteMachine::default();
        let mut seen: Vec<Vec<String>> = Vec::new();
        for p in patterns {
            let values: Vec<String> = match p {
                P::W(s) => vec![(*s).to_string()],
                P::AnyButW(v) => v.iter().map(|s| (*s).to_string()).collect(),
                P::Other => continue,
            };
            // An equal pattern added twice is one pattern (one match).
            if seen.contains(&values) {
                continue;
            }
            seen.push(values.clone());
            m.add_pattern(&values, false);
        }
        m.complexity(CAP)
    }

    /// Every order of the patterns gives the same complexity (`testPatternPermutations`).
    fn permutations(expected: usize, patterns: &[P<'_>]) {
        fn permute<'a>(items: &mut Vec<P<'a>>, k: usize, out: &mut Vec<Vec<P<'a>>>) {
            if k == items.len() {
                out.push(items.clone());
                return;
            }
            for i in k..items.len() {
                items.swap(k, i);
                permute(items, k + 1, out);
                items.swap(k, i);
            }
        }
        let mut all = Vec::new();
        permute(&mut patterns.to_vec(), 0, &mut all);
        for order in all {
            assert_eq!(machine(&order), expected);
        }
    }

    use P::{AnyButW, Other, W};

    #[test]
    fn event_ruler_single_patterns() {
        for (p, want) in [
            ("*", 1),
            ("abc", 1),
            ("*ab", 2),
            ("*aa", 3),
            ("a*b", 2),
            ("aa*", 2),
            ("a*bc", 2),
            ("a*bb", 3),
            ("a*bcb", 3),
            ("a*bbb", 4),
            ("*ab*ad", 4),
            ("*ab*d", 3),
            ("*aba*", 4),
            ("a*b*bb", 5),
            ("a*b*cb", 4),
            ("a*b*cd", 3),
            ("a*b*b", 4),
            ("a*bb*", 4),
            ("ab*b*", 3),
            ("*ab*b*b*", 7),
            ("*a*a*a*a*a*a*a*a*", 17),
        ] {
            assert_eq!(machine(&[W(p)]), want, "{p}");
        }
        assert_eq!(machine(&[AnyButW(&["a*b*b"])]), 4);
        assert_eq!(machine(&[AnyButW(&["a*aaa", "aa*aa"])]), 6);
    }

    #[test]
    fn event_ruler_pattern_sets() {
        permutations(1, &[W("*"), Other]);
        permutations(3, &[W("*"), W("ab*c")]);
        permutations(3, &[W("ab*c"), W("x*xx")]);
        permutations(4, &[W("*abc"), W("*abcde")]);
        permutations(4, &[W("a*bcd"), W("ab*cd")]);
        permutations(4, &[W("a*bc"), W("a*bcde")]);
        permutations(7, &[W("a*aaa"), W("aa*aa")]);
        permutations(4, &[W("a*bc"), W("abc*d")]);
        permutations(6, &[W("a*aaa"), W("aaa*a")]);
        permutations(5, &[W("a*aax"), W("aaa*x")]);
        permutations(4, &[W("a*bc"), W("abc*")]);
        permutations(5, &[W("a*aa"), W("aaa*")]);
        permutations(3, &[W("abc*"), W("abcde*")]);
        permutations(6, &[W("ab*cd"), W("ab*wx"), W("ab*yz")]);
        permutations(2, &[W("*abc"), Other]);
        permutations(2, &[W("a*bc"), Other]);
        permutations(2, &[W("ab*c"), Other]);
        permutations(2, &[W("abc*"), Other]);
        permutations(2, &[W("abc*"), Other, Other, Other]);
        permutations(2, &[W("ab*c"), Other, Other]);
        permutations(0, &[Other, Other]);
        permutations(2, &[W("ab*c"), W("ab*c")]);
        permutations(10, &[W("F*eatureFeature"), W("Fe*atureFeature"), W("Fea*tureFeature")]);
        permutations(7, &[AnyButW(&["a*aaa"]), W("aa*aa")]);
        permutations(7, &[W("a*aaa"), AnyButW(&["aa*aa"])]);
        permutations(7, &[AnyButW(&["a*aaa"]), AnyButW(&["aa*aa"])]);
    }

    #[test]
    fn event_ruler_quamina_exploder() {
        let words = [
            "aahed*", "aal*ii", "aargh*", "aarti*", "a*baca", "*abaci", "a*back", "ab*acs",
            "abaf*t", "*abaka", "ab*amp", "a*band", "*abase", "abash*", "abas*k", "ab*ate",
            "aba*ya", "abbas*", "abbed*", "ab*bes", "abbey*", "*abbot", "ab*cee", "abea*m",
            "abe*ar", "a*bele", "a*bers", "abet*s", "*abhor", "abi*de", "a*bies", "*abled",
        ];
        let p: Vec<P<'_>> = words.iter().map(|w| W(w)).collect();
        assert_eq!(machine(&p), 45);
    }

    /// Evaluation stops at the cap instead of walking every state (140,000 of them here).
    #[test]
    fn event_ruler_beyond_max_complexity() {
        let long = "F*e*a*t*u*r*e*".repeat(10_000);
        assert_eq!(machine(&[W(&long)]), CAP);
    }

    /// A whole rule's complexity, capped at 100 as in event-ruler's tests.
    fn rule(text: &str) -> usize {
        let root = super::super::parse::parse_text(text).unwrap();
        evaluate_capped(&super::super::compile::compile(&root).unwrap(), CAP).0
    }

    #[test]
    fn event_ruler_nested_machines_via_next_name_states() {
        let r = r#"{"abc":[{"prefix":"a"},"abcdef",{"suffix":"z"}],"def":[{"prefix":"b"},{"wildcard":"a*a*a*a*a*a*"},{"suffix":"c"}],"ghi":[{"prefix":"a"},"abcdef",{"suffix":"z"}]}"#;
        assert_eq!(rule(r), 11);
    }

    #[test]
    fn event_ruler_numeric_matchers_have_none() {
        let r = r#"{"field1":[{"numeric":["<=",120.0]}],"field2":[{"numeric":[">",300.0]}],"field3":[{"numeric":["=",60.0]}],"field4":[{"numeric":["<",60.0]}],"field5":[{"numeric":["<=",60.0]}]}"#;
        assert_eq!(rule(r), 0);
    }

    #[test]
    fn eventbridge_observed_limits() {
        // Refused by EventBridge (observed): 11 > 10.
        assert_eq!(rule(r#"{"EventBusArn":[{"wildcard":"*:*:*:*:*:event-bus/*"}]}"#), 11);
        let stacks = |names: &[&str]| {
            let alts: Vec<String> =
                names.iter().map(|n| format!(r#"{{"wildcard":"*:stack/{n}/*"}}"#)).collect();
            rule(&format!(r#"{{"detail":{{"stack-id":[{}]}}}}"#, alts.join(",")))
        };
        // Accepted with three stack names, refused with four (observed).
        assert!(stacks(&["SharedStack", "DataStack", "ApiStack"]) <= MAX_COMPLEXITY);
        assert!(
            stacks(&["SharedStack", "DataStack", "ApiStack", "MonitoringStack"]) > MAX_COMPLEXITY
        );
    }
}
