//! Unit tests of the SQL translator.
