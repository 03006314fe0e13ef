//! sixlo (being built).
#![no_std]
