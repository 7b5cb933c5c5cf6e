//! trailscan: search AWS CloudTrail archives offline with Amazon EventBridge event patterns.

pub mod pattern;
pub mod source;
pub mod record;
pub mod query;
