//! One UDP payload of [`PAYLOAD_LEN`] bytes from one 6LoWPAN endpoint to another over an
//! in-memory IEEE 802.15.4 link ([`Air`]), ours and smoltcp's.
//!
//! Both pairs use the same addressing, so they put frames of the same shape on the air:
//! sender short address 0x0001 (fe80::ff:fe00:1, UDP port 0x1633), receiver EUI-64
//! 02:00:00:ff:fe:00:00:02 (fe80::ff:fe00:2, port 0x1634), PAN 0xabcd with PAN ID compression:
//! a 15-byte MAC header and 2 FCS bytes around each 6LoWPAN payload, 127-byte PSDUs at most.
//! smoltcp 0.14 fixes that shape: it derives no link-layer address from an IID, has no public
//! neighbor-cache API and on 802.15.4 only learns 8-byte link-layer addresses from NDISC
//! options, so its sender is primed once with a Neighbor Advertisement carrying the receiver's
//! EUI-64 and then sends to that extended address (time stays at 0, so the entry never
//! expires).
//!
//! What each side does per datagram, by [`Work`]:
//! - **ours** ([`OursSender`], [`OursReceiver`]): build the IPv6 and UDP headers in front of a
//!   copy of the payload (netif's IPv6 header writer; with `udp_checksum`, the UDP checksum with
//!   `netif::checksum`, the code netif and sixlo use for checksums); plan and
//!   cut the frames with `sixlo::Fragmenter` (IPHC + UDP NHC, RFC 4944 FRAG1/FRAGN); per frame
//!   the MAC header the soft-MAC writes on enqueue (`l2_15_4::mac::Framer`, ACK request set, as
//!   our MAC does for unicast) and, with `fcs`, `l2_15_4::frame::fcs::append` (slice-by-16 on
//!   hosted targets). Receive: per frame, with `fcs`, `fcs::verify`; `Repr::parse_frame` (MAC
//!   header and payload in one walk, as the soft-MAC's receive); the soft-MAC's
//!   receive filter (data frame, unsecured, our PAN, our address); `sixlo::Reassembler::receive`
//!   (reassembly keyed by source, tag and size, with overlap/duplicate checks, and the
//!   decompression); then the checks a UDP endpoint makes (IPv6 version, next header, lengths,
//!   destination address and port; with `udp_checksum`, `netif::checksum::verify`) and the
//!   copy of the payload into the application's buffer.
//! - **smoltcp** ([`SmolSender`], [`SmolReceiver`]): two `iface::Interface`s
//!   (`Medium::Ieee802154`), each with a UDP socket. The sender `send_slice`s the payload
//!   (copied into the socket buffer) and `poll`s until the datagram's frames are on the air
//!   (UDP/IPv6 repr building, IPHC + UDP NHC, its fragmenter, 802.15.4 MHR emission); the
//!   receiver `poll`s until the socket has the datagram (MHR parse, PAN filter, reassembly in
//!   its assembler, decompression, IPv6 and UDP processing, socket dispatch, copy into the
//!   socket buffer) and `recv_slice`s it into the application's buffer. `udp_checksum` is the
//!   device's checksum capability: smoltcp computes the UDP checksum on transmit, or does not
//!   (`ChecksumCapabilities::ignored()`, it then sends whatever is in its buffer). On receive
//!   smoltcp 0.14 never verifies it for a 6LoWPAN datagram, whatever the capability: its
//!   decompression (`decompress_udp`) rebuilds the UDP header with a zero checksum, which its
//!   UDP input takes for "no checksum" ([`check`] shows it with a corrupted payload). So with
//!   `udp_checksum` smoltcp makes one checksum pass over the datagram and ours two (about 850
//!   instructions, 0.1 µs, in smoltcp's favour). smoltcp has no FCS code:
//!   `Medium::Ieee802154` hands MPDUs to the device, so with `fcs` the in-memory device computes
//!   the FCS on transmit and checks and strips it on receive, as a driver for a radio without
//!   hardware FCS would, with the code [`DriverFcs`] names: the `crc` crate's default
//!   CRC-16/KERMIT in [`Work::FULL`], `l2_15_4::frame::fcs` (ours) in
//!   [`Work::FULL_SAME_FCS`].
//!
//! Neither side does CSMA/CA, ACKs or retries here (smoltcp has no MAC; ours is measured with
//! its MAC in [`crate::router`]).
//!
//! Files, by job: `ours.rs` (our sender and receiver), `smol.rs` (smoltcp's, with their
//! in-memory devices), `check.rs` (the checks that every path delivers and the frame
//! lengths); this file holds the scenario's constants, the [`Work`] variants and the
//! addresses.

use core::net::Ipv6Addr;

use l2_15_4::frame::{Address, PanId, fcs};
use l2_15_4::radio::Channel;

mod check;
mod ours;
mod smol;

pub use check::{Checked, check, frame_lengths};
pub use ours::{OursReceiver, OursSender};
pub use smol::{SmolReceiver, SmolSender};

/// UDP payload bytes per datagram: a 1280-byte IPv6 datagram (the IPv6 minimum MTU).
pub const PAYLOAD_LEN: usize = 1232;
/// IPv6 datagram bytes.
pub const DATAGRAM_LEN: usize = PAYLOAD_LEN + HEADERS_LEN;
/// IPv6 + UDP header bytes.
const HEADERS_LEN: usize = 48;
/// The PAN both endpoints are in.
pub const PAN: u16 = 0xabcd;
/// The sender's short address.
pub const SENDER_SHORT: u16 = 0x0001;
/// The sender's EUI-64 (canonical order; its frames carry the short address instead).
pub const SENDER_EUI64: [u8; 8] = [0x02, 0, 0, 0xff, 0xfe, 0, 0, 0x01];
/// The channel (unused on the in-memory air; part of the sender's MAC configuration).
const CHANNEL: Channel = match Channel::new(26) {
    Some(c) => c,
    None => panic!("channel 26 is valid"),
};
/// The receiver's EUI-64 (canonical order); its IID is 0000:00ff:fe00:0002.
pub const RECEIVER_EUI64: [u8; 8] = [0x02, 0, 0, 0xff, 0xfe, 0, 0, 0x02];
/// The sender's address (derived from its short address).
pub const SENDER_IP: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0xff, 0xfe00, 1);
/// The receiver's address (derived from its EUI-64).
pub const RECEIVER_IP: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0xff, 0xfe00, 2);
/// The sender's UDP port.
pub const SRC_PORT: u16 = 0x1633;
/// The receiver's UDP port.
pub const DST_PORT: u16 = 0x1634;
/// Hop limit of the datagram (smoltcp's UDP socket default).
const HOP_LIMIT: u8 = 64;
/// FCS bytes at the end of each PSDU.
const FCS_LEN: usize = l2_15_4::frame::FCS_LEN;
/// Frames a datagram may take (12 in practice).
pub const MAX_FRAMES: usize = 32;

/// The FCS code smoltcp's in-memory device runs when the work has `fcs` (smoltcp has none of
/// its own: `Medium::Ieee802154` hands MPDUs to the device). Ours always runs
/// `l2_15_4::frame::fcs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DriverFcs {
    /// The `crc` crate's default CRC-16/KERMIT (`Crc::<u16>::new(&CRC_16_KERMIT)`: one
    /// 256-entry table, a byte at a time), what a driver built on that crate gets unless it
    /// asks for more, and the kind of code `l2-15_4` itself ran until it moved to slice-by-16.
    /// The baseline of the figure.
    CrcDefault,
    /// `l2_15_4::frame::fcs`, the code ours runs, so that only the stacks differ.
    Ours,
}

impl DriverFcs {
    /// Writes the FCS of `psdu[..len-2]` into its last two bytes (nothing if `psdu` is
    /// shorter than the FCS).
    pub fn append(self, psdu: &mut [u8]) {
        match self {
            DriverFcs::Ours => {
                fcs::append(psdu);
            }
            DriverFcs::CrcDefault => {
                if let Some(n) = psdu.len().checked_sub(FCS_LEN) {
                    let c = CRC_DEFAULT.checksum(&psdu[..n]).to_le_bytes();
                    psdu[n..].copy_from_slice(&c);
                }
            }
        }
    }

    /// Whether the last two bytes of `psdu` are the FCS of the bytes before them.
    pub fn verify(self, psdu: &[u8]) -> bool {
        match self {
            DriverFcs::Ours => fcs::verify(psdu),
            DriverFcs::CrcDefault => match psdu.len().checked_sub(FCS_LEN) {
                Some(n) => CRC_DEFAULT.checksum(&psdu[..n]).to_le_bytes() == [psdu[n], psdu[n + 1]],
                None => false,
            },
        }
    }
}

/// Which work outside 6LoWPAN and the MAC header both sides do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Work {
    /// Compute the UDP checksum on transmit and verify it on receive.
    pub udp_checksum: bool,
    /// `Some`: compute the FCS on transmit and check it on receive in software (a radio
    /// without hardware FCS), smoltcp's device with the given code (ours always runs
    /// `l2_15_4::frame::fcs`). `None`: the two FCS bytes are left as they are and never checked.
    pub fcs: Option<DriverFcs>,
}

impl Work {
    /// Everything an endpoint with a radio without hardware FCS does (the figure),
    /// smoltcp's device with the `crc` crate's default FCS.
    pub const FULL: Work = Work {
        udp_checksum: true,
        fcs: Some(DriverFcs::CrcDefault),
    };
    /// [`Work::FULL`] with smoltcp's device running our FCS code.
    pub const FULL_SAME_FCS: Work = Work {
        udp_checksum: true,
        fcs: Some(DriverFcs::Ours),
    };
    /// The radio computes and checks the FCS (as the nRF52840 does).
    pub const HW_FCS: Work = Work {
        udp_checksum: true,
        fcs: None,
    };
    /// Neither UDP checksum nor FCS: the stacks' own work only.
    pub const BARE: Work = Work {
        udp_checksum: false,
        fcs: None,
    };
    /// Every variant the benchmarks measure.
    pub const ALL: [Work; 4] = [Work::FULL, Work::FULL_SAME_FCS, Work::HW_FCS, Work::BARE];

    /// A short name for tables.
    pub const fn name(self) -> &'static str {
        match (self.udp_checksum, self.fcs) {
            (true, Some(DriverFcs::CrcDefault)) => "full",
            (true, Some(DriverFcs::Ours)) => "full-same-fcs",
            (true, None) => "hw-fcs",
            (false, None) => "bare",
            (false, Some(_)) => "fcs-only",
        }
    }
}

/// The baseline driver FCS ([`DriverFcs::CrcDefault`]).
const CRC_DEFAULT: crc::Crc<u16> = crc::Crc::<u16>::new(&crc::CRC_16_KERMIT);

/// The UDP payload every benchmark sends: bytes 0, 1, 2, … (mod 256).
pub fn payload() -> Vec<u8> {
    (0..PAYLOAD_LEN).map(|i| i as u8).collect()
}

fn pan() -> PanId {
    PanId(PAN)
}

fn sender_ll() -> Address {
    Address::Short(SENDER_SHORT)
}

fn receiver_ll() -> Address {
    Address::Extended(RECEIVER_EUI64)
}
