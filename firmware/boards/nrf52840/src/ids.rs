//! Identities derived from the chip: the 802.15.4 EUI-64 and the Ethernet MAC address.
//!
//! Source: FICR.DEVICEADDR[0..2], the 48-bit random static address Nordic programs into every
//! nRF52840 (DEVICEADDR[0] holds bits 31..0, DEVICEADDR[1] bits 47..32). Write it big-endian
//! as `d0 d1 d2 d3 d4 d5` (d0 = bits 47..40). It is random, not from an IEEE OUI, so both
//! identities are *locally administered* (U/L bit 0x02 set) unicast (I/G bit 0x01 clear):
//!
//! - EUI-64: `(d0 | 0x02) & !0x01, d1, d2, 0xff, 0xfe, d3, d4, d5`, the MAC-48 → EUI-64 rule
//!   (insert `ff:fe` in the middle). The mesh interface ID is this with the U/L bit flipped
//!   (RFC 4291 modified EUI-64), so the top byte's bit 0x02 ends up clear there.
//! - Ethernet MAC: `(d0 | 0x02) & !0x01, d1, d2, d3, d4, d5`.
//!
//! Both come from the same 46 random bits, so the two are stable across resets and unique as
//! far as DEVICEADDR is (Nordic documents it as random, so collisions are improbable but not
//! excluded; a configured EUI-64 in the stored configuration takes precedence anyway).

use embassy_nrf::pac;

/// The 48 bits of FICR.DEVICEADDR, most significant byte first.
pub fn device_addr() -> [u8; 6] {
    let lo = pac::FICR.deviceaddr(0).read().to_be_bytes();
    let hi = pac::FICR.deviceaddr(1).read().to_be_bytes();
    [hi[2], hi[3], lo[0], lo[1], lo[2], lo[3]]
}

/// Locally administered, unicast first byte.
const fn local_unicast(b: u8) -> u8 {
    (b | 0x02) & !0x01
}

/// The 802.15.4 extended address (canonical order) of `addr`.
pub const fn eui64(addr: [u8; 6]) -> [u8; 8] {
    let [d0, d1, d2, d3, d4, d5] = addr;
    [local_unicast(d0), d1, d2, 0xff, 0xfe, d3, d4, d5]
}

/// The Ethernet MAC address of `addr`.
pub const fn mac48(addr: [u8; 6]) -> [u8; 6] {
    let [d0, d1, d2, d3, d4, d5] = addr;
    [local_unicast(d0), d1, d2, d3, d4, d5]
}

// The board crate has no host test harness (no_std, no_main): the derivation is checked at
// compile time instead.
const _: () = {
    let e = eui64([0xf1, 0x22, 0x33, 0x44, 0x55, 0x66]);
    assert!(e[0] == 0xf2 && e[3] == 0xff && e[4] == 0xfe && e[7] == 0x66);
    let m = mac48([0x01, 0, 0, 0, 0, 0x07]);
    assert!(m[0] == 0x02 && m[5] == 0x07);
};
