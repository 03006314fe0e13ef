//! Radio medium simulator (being built).
