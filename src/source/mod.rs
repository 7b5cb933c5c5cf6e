//! Finding, reading and splitting CloudTrail files: walk → prune by path → read + inflate →
//! detect shape → split records.

pub mod name;
pub mod prune;
pub mod read;
pub mod shape;
pub mod stamp;
pub mod stream;
pub mod walk;

pub use name::{FileKind, FileMeta};
pub use prune::{PruneRules, SkipReason};
pub use read::{Exact, Loaded, Opened, ReadError, Reader, Streamed};
pub use shape::{NotUtf8, Problem, Record, Split, Walk, split, split_with, validate};
pub use stamp::FileStamp;
pub use walk::{Input, WalkItem, Walker};
