//! CLI tests: the real binary on `fixtures/`.
#![allow(clippy::unwrap_used)]

mod util;

mod datasets;
mod errors;
mod formats;
mod help;
mod hostile;
mod invariants;
mod search;
mod shapes;
mod stream;
mod trace;
