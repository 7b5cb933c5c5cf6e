//! The Amazon EventBridge event-pattern engine (being written; see the API in the helper brief).
