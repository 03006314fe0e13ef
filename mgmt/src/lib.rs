//! # mgmt — sixgate's management protocol
#![no_std]
