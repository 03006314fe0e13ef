//! The fingerprint follows the types: test-only mirror types, defined with the same macro,
//! differ from each other (and from the real ones) exactly where a definition differs.
#![allow(dead_code)] // mirror types exist for their shape only

use super::{Schema, fingerprint, fingerprint_of};
use crate::msg::{
    Capture, Event, IfaceSetting, Ip6, Log, Request, Response, RplSettings, SecuritySettings,
};
use crate::{SCHEMA_FINGERPRINT, schema_fingerprint};

/// A copy of [`Request`] whose `AddrAdd.prefix_len` has the type given.
macro_rules! request_mirror {
    ($m:ident, $prefix_len:ty) => {
        mod $m {
            use super::*;
            schema_types! {
                pub enum Request<'a> {
                    Hello { version: u8, schema: u32, client: &'a str },
                    Info,
                    IfaceList,
                    IfaceAdmin { iface: &'a str, up: bool },
                    IfaceSet { iface: &'a str, setting: IfaceSetting },
                    AddrList,
                    AddrAdd { iface: &'a str, addr: Ip6, prefix_len: $prefix_len },
                    AddrDel { iface: &'a str, addr: Ip6 },
                    RouteList,
                    RouteAdd { prefix: Ip6, len: u8, iface: &'a str, via: Option<Ip6>, metric: u16 },
                    RouteDel { prefix: Ip6, len: u8 },
                    NeighList,
                    NodesList { start: u16 },
                    PrefixShow,
                    PrefixSet { prefix: Ip6, len: u8 },
                    Stats { start: u16 },
                    StatsReset { iface: Option<&'a str> },
                    Ping { dst: Ip6, size: u16, seq: u16, timeout_ms: u32, iface: Option<&'a str> },
                    ScanEnergy { channels: u32, duration_ms: u16 },
                    CaptureStart { ifaces: u8, promiscuous: bool },
                    CaptureStop,
                    Subscribe { events: bool, logs: bool },
                    ConfigShow,
                    ConfigSave,
                    ConfigReset,
                    Reboot,
                    RplShow,
                    RplSet(RplSettings),
                    RplRepair,
                    Topology { start: u16 },
                    SecurityShow,
                    SecuritySetKey { key: [u8; 16] },
                    SecuritySet(SecuritySettings),
                    SecurityRotate,
                    SecurityOff,
                }
            }
        }
    };
}
request_mirror!(same, u8);
request_mirror!(widened, u16);

fn with_request(request: u64) -> u32 {
    fingerprint_of([
        request,
        Response::SHAPE,
        Event::SHAPE,
        Log::SHAPE,
        Capture::SHAPE,
    ])
}

#[test]
fn the_fingerprint_is_the_types() {
    // A faithful copy of `Request` (docs and attributes aside) has its shape...
    assert_eq!(same::Request::SHAPE, Request::SHAPE);
    assert_eq!(with_request(same::Request::SHAPE), fingerprint());
    // ...and widening one field, which leaves a sample like 64 encoded the same, does not.
    assert_ne!(widened::Request::SHAPE, Request::SHAPE);
    assert_ne!(with_request(widened::Request::SHAPE), fingerprint());
}

#[test]
fn the_device_constant_is_the_hosts() {
    // The device sends `SCHEMA_FINGERPRINT` (a constant); the host computes
    // `schema_fingerprint()`: one value, fixed at compile time.
    const DEVICE: u32 = SCHEMA_FINGERPRINT;
    assert_eq!(DEVICE, schema_fingerprint());
    assert_eq!(DEVICE, fingerprint());
}

mod base {
    schema_types! {
        pub struct Addr { iface: u8, prefix_len: u8 }
    }
    schema_types! {
        pub enum Msg { A, B(u8), C { x: u16 } }
    }
    schema_types! {
        pub struct Page { values: heapless::Vec<u64, 64> }
    }
}

#[test]
fn widening_a_field_changes_the_shape() {
    mod m {
        schema_types! {
            pub struct Addr { iface: u8, prefix_len: u16 }
        }
    }
    assert_ne!(m::Addr::SHAPE, base::Addr::SHAPE);
}

#[test]
fn renaming_a_field_changes_the_shape() {
    mod m {
        schema_types! {
            pub struct Addr { iface: u8, plen: u8 }
        }
        schema_types! {
            pub enum Msg { A, B(u8), C { y: u16 } }
        }
    }
    assert_ne!(m::Addr::SHAPE, base::Addr::SHAPE);
    assert_ne!(m::Msg::SHAPE, base::Msg::SHAPE);
}

#[test]
fn renaming_a_type_changes_the_shape() {
    mod m {
        schema_types! {
            pub struct Address { iface: u8, prefix_len: u8 }
        }
    }
    assert_ne!(m::Address::SHAPE, base::Addr::SHAPE);
}

#[test]
fn adding_or_reordering_variants_changes_the_shape() {
    mod added {
        schema_types! {
            pub enum Msg { A, B(u8), C { x: u16 }, D }
        }
    }
    mod reordered {
        schema_types! {
            pub enum Msg { B(u8), A, C { x: u16 } }
        }
    }
    mod unit_to_tuple {
        schema_types! {
            pub enum Msg { A(), B(u8), C { x: u16 } }
        }
    }
    assert_ne!(added::Msg::SHAPE, base::Msg::SHAPE);
    assert_ne!(reordered::Msg::SHAPE, base::Msg::SHAPE);
    assert_ne!(unit_to_tuple::Msg::SHAPE, base::Msg::SHAPE);
}

#[test]
fn changing_a_capacity_or_length_changes_the_shape() {
    mod m {
        schema_types! {
            pub struct Page { values: heapless::Vec<u64, 32> }
        }
    }
    assert_ne!(m::Page::SHAPE, base::Page::SHAPE);
    assert_ne!(<[u8; 6]>::SHAPE, <[u8; 8]>::SHAPE);
    assert_ne!(<Option<u8>>::SHAPE, <[u8; 1]>::SHAPE);
    assert_ne!(<(u8, u16)>::SHAPE, <(u16, u8)>::SHAPE);
}

#[test]
fn the_same_definition_has_the_same_shape() {
    mod m {
        schema_types! {
            /// Docs and attributes are not part of the shape.
            #[derive(Clone)]
            pub struct Addr {
                #[allow(unused)]
                iface: u8,
                prefix_len: u8,
            }
        }
    }
    assert_eq!(m::Addr::SHAPE, base::Addr::SHAPE);
}
