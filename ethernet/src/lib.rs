//! Ethernet L2 (being built).
#![no_std]
