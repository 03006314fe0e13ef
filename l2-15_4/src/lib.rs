//! l2-15_4 (being built).
#![no_std]
