//! Threshold windows: per group, the earliest runs of at least `count` events whose times lie
//! within `within` of the run's first event.
//!
//! Events are sorted by time within their group. Starting from the earliest, a window opens at
//! an event and takes every later event of the group no more than `within` after it; when it
//! holds at least `count` events it becomes a finding and the next window starts after its last
//! event, otherwise the start moves to the next event. Windows never overlap, so a burst is
//! reported once however long it lasts within the window, and a new finding needs `count` new
//! events.

use std::collections::BTreeMap;

/// One candidate event.
#[derive(Debug, Clone)]
pub struct Event<T> {
    /// The group (the `by` values, serialised).
    pub group: String,
    /// Nanoseconds since the epoch.
    pub time: i64,
    /// What the caller keeps with it.
    pub data: T,
}

/// Splits `events` into findings: (group, events of one window), by group then time.
#[must_use]
pub fn windows<T>(
    events: Vec<Event<T>>,
    count: usize,
    within_secs: i64,
) -> Vec<(String, Vec<Event<T>>)> {
    windows_where(events, within_secs, |w| w.len() >= count.max(1))
}

/// The same windows, firing when `fires` holds for the window's events (in time order) rather
/// than on a count: Sigma's correlations (distinct values, rules seen, rules seen in order).
#[must_use]
pub fn windows_where<T>(
    events: Vec<Event<T>>,
    within_secs: i64,
    fires: impl Fn(&[&Event<T>]) -> bool,
) -> Vec<(String, Vec<Event<T>>)> {
    let within = within_secs.saturating_mul(1_000_000_000);
    let mut groups: BTreeMap<String, Vec<Event<T>>> = BTreeMap::new();
    for e in events {
        groups.entry(e.group.clone()).or_default().push(e);
    }
    let mut out = Vec::new();
    for (group, mut evs) in groups {
        evs.sort_by_key(|e| e.time);
        let mut rest: Vec<Option<Event<T>>> = evs.into_iter().map(Some).collect();
        let n = rest.len();
        let mut i = 0;
        while i < n {
            let start = rest[i].as_ref().map_or(0, |e| e.time);
            let mut end = i;
            while end < n && rest[end].as_ref().is_some_and(|e| e.time - start <= within) {
                end += 1;
            }
            let window: Vec<&Event<T>> = rest[i..end].iter().flatten().collect();
            if !window.is_empty() && fires(&window) {
                let found: Vec<Event<T>> =
                    rest[i..end].iter_mut().filter_map(Option::take).collect();
                out.push((group.clone(), found));
                i = end;
            } else {
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(group: &str, secs: i64) -> Event<i64> {
        Event { group: group.into(), time: secs * 1_000_000_000, data: secs }
    }

    fn secs(w: &[(String, Vec<Event<i64>>)]) -> Vec<(String, Vec<i64>)> {
        w.iter().map(|(g, e)| (g.clone(), e.iter().map(|e| e.data).collect())).collect()
    }

    #[test]
    fn fires_per_group_within_the_window() {
        // 5 failures by alice within 4 minutes, 4 by bob: only alice fires.
        let mut e: Vec<_> = [0, 60, 120, 180, 240].iter().map(|&s| ev("alice", s)).collect();
        e.extend([0, 10, 20, 30].iter().map(|&s| ev("bob", s)));
        let w = windows(e, 5, 300);
        assert_eq!(secs(&w), vec![("alice".to_string(), vec![0, 60, 120, 180, 240])]);
    }

    #[test]
    fn spread_out_events_do_not_fire_and_windows_do_not_overlap() {
        let e: Vec<_> = [0, 400, 800, 1200, 1600].iter().map(|&s| ev("a", s)).collect();
        assert!(windows(e, 2, 300).is_empty());
        // Unsorted input; 3 at 1000.., then 3 more later: two findings.
        let e: Vec<_> =
            [1001, 1000, 1002, 1003, 5000, 5001, 5002].iter().map(|&s| ev("a", s)).collect();
        assert_eq!(
            secs(&windows(e, 3, 60)),
            vec![
                ("a".to_string(), vec![1000, 1001, 1002, 1003]),
                ("a".to_string(), vec![5000, 5001, 5002])
            ]
        );
        // The window slides: a lone early event does not hide a later burst.
        let e: Vec<_> = [0, 500, 510, 520].iter().map(|&s| ev("a", s)).collect();
        assert_eq!(secs(&windows(e, 3, 60)), vec![("a".to_string(), vec![500, 510, 520])]);
        // Boundary: exactly `within` apart is inside.
        let e: Vec<_> = [0, 300].iter().map(|&s| ev("a", s)).collect();
        assert_eq!(windows(e, 2, 300).len(), 1);
    }
}
