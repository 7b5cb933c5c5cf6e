//! Turning raw records into what queries and sinks need: projected values, the EventBridge
//! envelope, the actor string and times.

pub mod actor;
pub mod envelope;
pub mod fields;
pub mod project;
pub mod scan;
pub mod time;

pub use actor::actor;
pub use project::KeepSet;
