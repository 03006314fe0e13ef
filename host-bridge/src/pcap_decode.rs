//! `sixgate pcap decode IN OUT [--context N=PREFIX/LEN ...]`: an IEEE 802.15.4 capture →
//! a capture of raw IPv6 packets, offline (no device).
//!
//! Input: pcap or pcapng with link type 195 (802.15.4 with FCS), 230 (without FCS) or 283
//! (802.15.4 TAP), read by the `capture-file` crate. Each frame goes the way `wpan0`'s receive
//! path takes it (`firmware::wpan`): FCS check when the capture carried one, MAC header parse
//! (`l2-15_4`), then the 6LoWPAN payload into a `sixlo` [`Reassembler`](sixlo::Reassembler) with the frame's
//! link-layer addresses and the context table. Output: a classic pcap with
//! LINKTYPE_IPV6 (229), one packet per datagram, stamped with the time of the frame that
//! completed it, for tools that do not speak 6LoWPAN.
//!
//! Contexts come from `--context` and, as Wireshark learns them, from the 6LoWPAN Context
//! Options (6CO, RFC 6775 §4.2) of the router advertisements in the capture itself: each 6CO
//! with the C flag and a non-zero lifetime sets its context from that frame on, and frames
//! before the first 6CO of a context use the one it announces (a capture usually starts
//! after the RA). `--context` wins over what the capture announces. `-` as input or output
//! is standard input or output.
//!
//! Every frame is counted exactly once, as
//! - **decoded**: a 6LoWPAN frame taken in (a whole datagram, or a fragment accepted for
//!   reassembly);
//! - **skipped**: not 6LoWPAN, or nothing to decode — acknowledgments, beacons, MAC commands,
//!   secured frames (not decrypted), NALP and other non-IPv6 dispatches, MAC retransmissions
//!   (same source, sequence number and bytes as that source's previous frame), packets of
//!   other link types;
//! - **malformed**: bad FCS, unparsable MAC header, 6LoWPAN that does not decompress or
//!   reassemble (e.g. `unknown context N` without `--context N=…`, FRAGN without FRAG1).
//!
//! Skipped and malformed frames are counted per reason ([`DecodeReport`]). Datagrams whose
//! fragments never all arrived (reassembly timeout of 60 s, the RFC 4944 maximum, in capture
//! time, or the end of the capture) are counted as incomplete.
//!
//! Every input byte is hostile: nothing here panics on input, and a capture that is cut short
//! or corrupt (a record or block running past the end of the file, an impossible length) is an
//! error ([`DecodeError::Damaged`]) that still carries — and [`decode_file`] still writes —
//! what was decoded from the intact part before it.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::io::{self, Write};
use std::net::Ipv6Addr;
use std::path::{Path, PathBuf};

use capture_file::{CaptureContents, CapturedFrame, LINKTYPE_IPV6, PcapError, intact_len, pcap};
use l2_15_4::frame::{FCS_LEN, ParseError, fcs};
use l2_15_4::{Address, Frame, FrameType};
use netif::time::{Duration, Instant};
use serde_json::json;
use sixlo::{
    Context, ContextTable, DecompressError, LinkAddr, ReassemblyConfig, ReceiveError, Received,
};

/// Concurrent reassemblies (a capture may interleave many senders).
const SLOTS: usize = 32;
/// Largest datagram a 6LoWPAN fragment header can announce (11-bit datagram_size).
const MAX_DATAGRAM: usize = sixlo::frag::MAX_DATAGRAM_SIZE;
/// Reassembly timeout in capture time: RFC 4944 §5.3's upper bound.
const REASSEMBLY_TIMEOUT: Duration = Duration::from_secs(60);

type OfflineReassembler = sixlo::Reassembler<SLOTS, MAX_DATAGRAM>;

/// One `--context` argument: context identifier, prefix, prefix length in bits.
pub type ContextArg = (u8, Ipv6Addr, u8);

/// One decoded IPv6 datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedPacket {
    /// Timestamp of the frame that completed the datagram, µs since the epoch.
    pub ts_us: u64,
    /// The IPv6 datagram.
    pub data: Vec<u8>,
}

/// What a decode found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DecodeReport {
    /// Packets in the capture (802.15.4 frames, unreadable records and packets of other link
    /// types): `frames == frames_decoded + skipped_total() + malformed_total()`.
    pub frames: u64,
    /// 6LoWPAN frames taken in (whole datagrams and accepted fragments).
    pub frames_decoded: u64,
    /// IPv6 datagrams produced (one output packet each).
    pub datagrams: u64,
    /// Of [`Self::datagrams`], those reassembled from fragments.
    pub reassembled: u64,
    /// Fragment frames accepted (FRAG1 and FRAGN).
    pub fragments: u64,
    /// Datagrams started but never completed (reassembly timeout or end of capture).
    pub incomplete_datagrams: u64,
    /// Frames not decoded because they are not 6LoWPAN (or carry nothing to decode), per reason.
    pub skipped: BTreeMap<String, u64>,
    /// Frames that could not be decoded, per reason.
    pub malformed: BTreeMap<String, u64>,
    /// Contexts learned from the 6COs of router advertisements in the capture, in the order
    /// first seen (each distinct value once).
    pub contexts_learned: Vec<ContextArg>,
}

impl DecodeReport {
    /// Skipped frames, all reasons together.
    pub fn skipped_total(&self) -> u64 {
        self.skipped.values().sum()
    }

    /// Malformed frames, all reasons together.
    pub fn malformed_total(&self) -> u64 {
        self.malformed.values().sum()
    }

    fn skip(&mut self, reason: impl Into<String>, n: u64) {
        if n > 0 {
            *self.skipped.entry(reason.into()).or_default() += n;
        }
    }

    fn malformed(&mut self, reason: impl Into<String>, n: u64) {
        if n > 0 {
            *self.malformed.entry(reason.into()).or_default() += n;
        }
    }

    /// The report as one JSON document (for `--json`).
    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "frames": self.frames,
            "frames_decoded": self.frames_decoded,
            "datagrams": self.datagrams,
            "reassembled": self.reassembled,
            "fragments": self.fragments,
            "incomplete_datagrams": self.incomplete_datagrams,
            "skipped": { "total": self.skipped_total(), "by_reason": &self.skipped },
            "malformed": { "total": self.malformed_total(), "by_reason": &self.malformed },
            "contexts_learned": self.contexts_learned.iter().map(|(cid, p, l)| json!({
                "cid": cid, "prefix": format!("{p}/{l}"),
            })).collect::<Vec<_>>(),
        })
    }
}

impl fmt::Display for DecodeReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} frames: {} decoded, {} skipped, {} malformed",
            self.frames,
            self.frames_decoded,
            self.skipped_total(),
            self.malformed_total()
        )?;
        write!(
            f,
            "{} IPv6 datagrams ({} reassembled from {} fragments)",
            self.datagrams, self.reassembled, self.fragments
        )?;
        if self.incomplete_datagrams > 0 {
            write!(
                f,
                ", {} incomplete (fragments missing)",
                self.incomplete_datagrams
            )?;
        }
        writeln!(f)?;
        if !self.contexts_learned.is_empty() {
            let c: Vec<String> = self
                .contexts_learned
                .iter()
                .map(|(cid, p, l)| format!("{cid}={p}/{l}"))
                .collect();
            writeln!(
                f,
                "contexts learned from router advertisements: {}",
                c.join(", ")
            )?;
        }
        let width = self
            .skipped
            .values()
            .chain(self.malformed.values())
            .map(|n| n.to_string().len())
            .max()
            .unwrap_or(1);
        for (title, map) in [("skipped", &self.skipped), ("malformed", &self.malformed)] {
            if map.is_empty() {
                continue;
            }
            writeln!(f, "{title}:")?;
            for (reason, n) in map {
                writeln!(f, "  {n:>width$}  {reason}")?;
            }
        }
        if self
            .malformed
            .keys()
            .any(|r| r.starts_with("unknown context"))
        {
            writeln!(
                f,
                "hint: give the compression contexts of the mesh with --context N=PREFIX/LEN \
                 (e.g. --context 0=2001:db8:1::/64)"
            )?;
        }
        Ok(())
    }
}

/// The result of a decode: the IPv6 packets and the report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Decoded {
    /// Decoded datagrams, in completion order.
    pub packets: Vec<DecodedPacket>,
    /// What was found.
    pub report: DecodeReport,
}

/// Why a decode failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum DecodeError {
    /// The input file could not be read.
    Read {
        /// The input path.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// The output file could not be written.
    Write {
        /// The output path.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// Input and output name the same file.
    SameFile(PathBuf),
    /// Not a readable 802.15.4 capture at all (nothing decoded).
    Capture {
        /// The input path, when decoding a file.
        path: Option<PathBuf>,
        /// What is wrong.
        error: PcapError,
    },
    /// The capture is cut short or corrupt at `offset`; what came before it was decoded.
    Damaged {
        /// Byte offset of the first damaged record or block.
        offset: usize,
        /// What is wrong there.
        problem: &'static str,
        /// What was decoded from the intact part of the file.
        partial: Box<Decoded>,
        /// Where those packets were written ([`decode_file`]).
        written_to: Option<PathBuf>,
    },
    /// A `--context` value is out of range or given twice.
    BadContext(String),
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Read { path, source } => {
                write!(f, "cannot read {}: {source}", path.display())
            }
            DecodeError::Write { path, source } => {
                write!(f, "cannot write {}: {source}", path.display())
            }
            DecodeError::SameFile(p) => write!(
                f,
                "input and output are the same file ({}); choose another output name",
                p.display()
            ),
            DecodeError::Capture { path, error } => match path {
                Some(p) => write!(f, "cannot decode {}: {error}", p.display()),
                None => write!(f, "cannot decode the capture: {error}"),
            },
            DecodeError::Damaged {
                offset,
                problem,
                partial,
                written_to,
            } => {
                write!(
                    f,
                    "the capture is truncated or corrupt at byte {offset}: {problem}; \
                     {} IPv6 packets were decoded from the {} frames before it",
                    partial.report.datagrams, partial.report.frames
                )?;
                if let Some(p) = written_to {
                    write!(f, " and written to {}", p.display())?;
                }
                Ok(())
            }
            DecodeError::BadContext(m) => write!(f, "bad --context: {m}"),
        }
    }
}

impl std::error::Error for DecodeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            DecodeError::Read { source, .. } | DecodeError::Write { source, .. } => Some(source),
            DecodeError::Capture { error, .. } => Some(error),
            _ => None,
        }
    }
}

/// Parse one `--context N=PREFIX/LEN` value (clap `value_parser`), e.g. `0=2001:db8:1::/64`.
pub fn parse_context_arg(s: &str) -> Result<ContextArg, String> {
    const FORM: &str = "expected N=PREFIX/LEN with N in 0..=15, e.g. 0=2001:db8:1::/64";
    let (n, rest) = s.split_once('=').ok_or_else(|| format!("`{s}`: {FORM}"))?;
    let cid: u8 = n
        .trim()
        .parse()
        .ok()
        .filter(|c| *c <= 15)
        .ok_or_else(|| format!("`{n}` is not a context number 0..=15 ({FORM})"))?;
    let (prefix, len) = rest
        .split_once('/')
        .ok_or_else(|| format!("`{rest}` has no /LEN ({FORM})"))?;
    let addr: Ipv6Addr = prefix
        .trim()
        .parse()
        .map_err(|_| format!("`{prefix}` is not an IPv6 prefix ({FORM})"))?;
    let len: u8 = len
        .trim()
        .parse()
        .ok()
        .filter(|l| *l <= 128)
        .ok_or_else(|| format!("`{len}` is not a prefix length 0..=128 ({FORM})"))?;
    Ok((cid, addr, len))
}

fn context_table(contexts: &[ContextArg]) -> Result<ContextTable, DecodeError> {
    let mut t = ContextTable::new();
    for &(cid, prefix, len) in contexts {
        if len > 128 {
            return Err(DecodeError::BadContext(format!(
                "context {cid}: prefix length {len} is above 128"
            )));
        }
        if t.get(cid).is_some() {
            return Err(DecodeError::BadContext(format!(
                "context {cid} given twice"
            )));
        }
        if !t.set(cid, Context::new(prefix.octets(), len)) {
            return Err(DecodeError::BadContext(format!(
                "context {cid} is out of range (0..=15)"
            )));
        }
    }
    Ok(t)
}

/// Decode the capture in `input` and write the IPv6 packets to `output` (classic pcap,
/// LINKTYPE_IPV6). A damaged capture still gets its intact part written, then
/// [`DecodeError::Damaged`]; an unreadable one leaves `output` untouched.
pub fn decode_file(
    input: &Path,
    output: &Path,
    contexts: &[ContextArg],
) -> Result<DecodeReport, DecodeError> {
    let dash = |p: &Path| p.as_os_str() == "-";
    if let (Ok(a), Ok(b)) = (input.canonicalize(), output.canonicalize())
        && a == b
        && !dash(input)
    {
        return Err(DecodeError::SameFile(a));
    }
    let read = if dash(input) {
        let mut b = Vec::new();
        io::Read::read_to_end(&mut io::stdin().lock(), &mut b).map(|_| b)
    } else {
        std::fs::read(input)
    };
    let bytes = read.map_err(|source| DecodeError::Read {
        path: input.to_path_buf(),
        source,
    })?;
    let write = |d: &Decoded| {
        let bytes = ipv6_pcap(&d.packets);
        if dash(output) {
            let mut o = io::stdout().lock();
            o.write_all(&bytes).and_then(|()| o.flush())
        } else {
            std::fs::write(output, bytes)
        }
        .map_err(|source| DecodeError::Write {
            path: output.to_path_buf(),
            source,
        })
    };
    match decode_bytes(&bytes, contexts) {
        Ok(d) => {
            write(&d)?;
            Ok(d.report)
        }
        Err(DecodeError::Damaged {
            offset,
            problem,
            partial,
            ..
        }) => {
            write(&partial)?;
            Err(DecodeError::Damaged {
                offset,
                problem,
                partial,
                written_to: Some(output.to_path_buf()),
            })
        }
        Err(DecodeError::Capture { error, .. }) => Err(DecodeError::Capture {
            path: Some(input.to_path_buf()),
            error,
        }),
        Err(e) => Err(e),
    }
}

/// Decode a capture held in memory (pcap or pcapng bytes).
pub fn decode_bytes(input: &[u8], contexts: &[ContextArg]) -> Result<Decoded, DecodeError> {
    let table = context_table(contexts)?;
    let (intact, damage) = intact_len(input);
    let capture: CaptureContents =
        match capture_file::read_15_4(input.get(..intact).unwrap_or(input)) {
            Ok(c) => c,
            Err(error) => {
                return Err(match damage {
                    Some(problem) => DecodeError::Damaged {
                        offset: intact,
                        problem,
                        partial: Box::default(),
                        written_to: None,
                    },
                    None => DecodeError::Capture { path: None, error },
                });
            }
        };
    let run = |table: ContextTable| {
        let mut dec = Decoder::new(table, contexts);
        for f in &capture.frames {
            dec.frame(f);
        }
        dec.finish()
    };
    let mut d = run(table.clone());
    // Frames before a context's first 6CO: decode again, starting with what the capture
    // announced (the first value of each context not given on the command line).
    let mut start = table;
    let mut more = false;
    for &(cid, p, l) in &d.report.contexts_learned {
        if start.get(cid).is_none() {
            more |= start.set(cid, Context::new(p.octets(), l));
        }
    }
    if more {
        d = run(start);
    }
    let r = &mut d.report;
    r.frames += capture.other_linktype + capture.malformed;
    r.skip("packet of another link type", capture.other_linktype);
    r.malformed(
        "unreadable capture record (bad pseudo-header or frame length)",
        capture.malformed,
    );
    match damage {
        Some(problem) => Err(DecodeError::Damaged {
            offset: intact,
            problem,
            partial: Box::new(d),
            written_to: None,
        }),
        None => Ok(d),
    }
}

/// The per-frame receive path.
struct Decoder {
    contexts: ContextTable,
    /// Contexts given on the command line (bit N: context N), never replaced by a 6CO.
    given: u16,
    reassembler: Box<OfflineReassembler>,
    out: Vec<u8>,
    /// Last (sequence number, MPDU) of each link-layer source, to spot MAC retransmissions.
    last_from: HashMap<Address, (u8, Vec<u8>)>,
    decoded: Decoded,
}

enum Verdict {
    Decoded,
    Skipped(String),
    Malformed(String),
}

impl Decoder {
    fn new(contexts: ContextTable, given: &[ContextArg]) -> Self {
        Decoder {
            contexts,
            given: given.iter().fold(0, |m, (cid, _, _)| {
                m | 1u16.checked_shl(u32::from(*cid)).unwrap_or(0)
            }),
            reassembler: Box::new(OfflineReassembler::new(ReassemblyConfig {
                timeout: REASSEMBLY_TIMEOUT,
                per_source_limit: SLOTS,
                ..ReassemblyConfig::default()
            })),
            out: vec![0; MAX_DATAGRAM],
            last_from: HashMap::new(),
            decoded: Decoded::default(),
        }
    }

    fn frame(&mut self, f: &CapturedFrame) {
        self.decoded.report.frames += 1;
        match self.classify(f) {
            Verdict::Decoded => self.decoded.report.frames_decoded += 1,
            Verdict::Skipped(why) => self.decoded.report.skip(why, 1),
            Verdict::Malformed(why) => self.decoded.report.malformed(why, 1),
        }
    }

    fn classify(&mut self, f: &CapturedFrame) -> Verdict {
        if !f.fcs_added && !fcs::verify(&f.psdu) {
            return Verdict::Malformed("bad FCS".into());
        }
        let Some(mpdu) = f
            .psdu
            .len()
            .checked_sub(FCS_LEN)
            .and_then(|n| f.psdu.get(..n))
        else {
            return Verdict::Malformed("802.15.4 frame truncated".into());
        };
        let frame = match Frame::new_checked(mpdu) {
            Ok(fr) => fr,
            Err(ParseError::UnsupportedFrameType(t)) => {
                return Verdict::Skipped(format!("802.15.4 frame type {} (not data)", u8::from(t)));
            }
            Err(e) => return Verdict::Malformed(e.to_string()),
        };
        match frame.frame_type() {
            FrameType::Data => {}
            FrameType::Ack => return Verdict::Skipped("802.15.4 acknowledgment".into()),
            FrameType::Beacon => return Verdict::Skipped("802.15.4 beacon".into()),
            FrameType::MacCommand => return Verdict::Skipped("802.15.4 MAC command".into()),
            t => {
                return Verdict::Skipped(format!("802.15.4 frame type {} (not data)", u8::from(t)));
            }
        }
        if frame.security_enabled() {
            return Verdict::Skipped("secured 802.15.4 frame (not decrypted)".into());
        }
        let src = frame.src_addr();
        let dst = frame.dst_addr();
        if let (Some(s), Some(seq)) = (src, frame.sequence_number()) {
            match self.last_from.get_mut(&s) {
                Some(last) if last.0 == seq && last.1 == mpdu => {
                    return Verdict::Skipped(
                        "MAC retransmission (same source, sequence number and bytes)".into(),
                    );
                }
                Some(last) => {
                    last.0 = seq;
                    last.1.clear();
                    last.1.extend_from_slice(mpdu);
                }
                None => {
                    self.last_from.insert(s, (seq, mpdu.to_vec()));
                }
            }
        }
        let payload = frame.payload().unwrap_or(&[]);
        let Some(&dispatch) = payload.first() else {
            return Verdict::Skipped("802.15.4 data frame without payload".into());
        };
        if let Some(why) = not_decodable(dispatch) {
            return Verdict::Skipped(why);
        }
        let ll_src = src.map_or(LinkAddr::Absent, LinkAddr::from);
        let ll_dst = dst.map_or(LinkAddr::Absent, LinkAddr::from);
        let fragment = sixlo::frag::is_frag1(dispatch) || sixlo::frag::is_fragn(dispatch);
        let r = self.reassembler.receive(
            payload,
            &ll_src,
            &ll_dst,
            &self.contexts,
            Instant::from_micros(f.ts_us),
            &mut self.out,
        );
        let rep = &mut self.decoded.report;
        match r {
            Ok(Received::Pending) => {
                rep.fragments += 1;
                Verdict::Decoded
            }
            Ok(Received::Complete(len)) => {
                let Some(data) = self.out.get(..len) else {
                    return Verdict::Malformed("datagram larger than the output buffer".into());
                };
                rep.datagrams += 1;
                if fragment {
                    rep.fragments += 1;
                    rep.reassembled += 1;
                }
                let data = data.to_vec();
                for (cid, prefix, len) in ra_contexts(&data) {
                    self.learn(cid, prefix, len);
                }
                self.decoded.packets.push(DecodedPacket {
                    ts_us: f.ts_us,
                    data,
                });
                Verdict::Decoded
            }
            Err(ReceiveError::DuplicateFragment) => {
                Verdict::Skipped("duplicate 6LoWPAN fragment".into())
            }
            Err(e) => Verdict::Malformed(receive_reason(&e)),
        }
    }

    /// A 6CO seen: context `cid` is `prefix/len` from now on, unless given on the command line.
    fn learn(&mut self, cid: u8, prefix: Ipv6Addr, len: u8) {
        if self.given & 1u16.checked_shl(u32::from(cid)).unwrap_or(0) != 0 {
            return;
        }
        if self.contexts.set(cid, Context::new(prefix.octets(), len)) {
            let learned = &mut self.decoded.report.contexts_learned;
            if !learned.contains(&(cid, prefix, len)) {
                learned.push((cid, prefix, len));
            }
        }
    }

    fn finish(mut self) -> Decoded {
        let stats = self.reassembler.stats();
        self.decoded.report.incomplete_datagrams = u64::from(stats.reassembly_timeouts)
            + u64::from(stats.reassembly_evictions)
            + self.reassembler.slots_in_use() as u64;
        self.decoded
    }
}

/// The contexts an IPv6 packet announces: for a Router Advertisement (ICMPv6 type 134 right
/// after the IPv6 header), each 6LoWPAN Context Option (type 34, RFC 6775 §4.2) valid for
/// compression (C flag) with a non-zero lifetime, as (CID, prefix, length). Anything else,
/// or a malformed option list, gives nothing more.
fn ra_contexts(ip: &[u8]) -> Vec<ContextArg> {
    const RA: u8 = 134;
    const OPT_6CO: u8 = 34;
    let mut found = Vec::new();
    if ip.get(6) != Some(&58) || ip.get(40) != Some(&RA) {
        return found;
    }
    // RA: type, code, checksum (4), hop limit, flags, router lifetime (4), reachable time
    // (4), retrans timer (4): options start 16 bytes in.
    let mut opts = ip.get(56..).unwrap_or(&[]);
    while let [ty, len, ..] = *opts {
        let n = usize::from(len) * 8;
        let Some(opt) = opts.get(..n).filter(|_| n > 0) else {
            break;
        };
        // 6CO: type, length, context length, res|C|CID, reserved (2), valid lifetime (2, in
        // minutes), prefix (8 or 16 bytes).
        if ty == OPT_6CO
            && let [_, _, ctx_len, flags, _, _, l0, l1, prefix @ ..] = opt
            && flags & 0x10 != 0
            && u16::from_be_bytes([*l0, *l1]) > 0
            && *ctx_len <= 128
            && prefix.len() * 8 >= usize::from(*ctx_len)
        {
            let mut p = [0u8; 16];
            for (d, s) in p.iter_mut().zip(prefix) {
                *d = *s;
            }
            found.push((flags & 0x0f, Ipv6Addr::from(p), *ctx_len));
        }
        opts = opts.get(n..).unwrap_or(&[]);
    }
    found
}

/// Why a frame whose first payload byte is `d` is not decoded (RFC 4944 §5.1, RFC 6282
/// §3.1, RFC 8025), or `None` for IPv6, IPHC, FRAG1 and FRAGN.
fn not_decodable(d: u8) -> Option<String> {
    Some(match d {
        0x41 | 0x60..=0x7f | 0xc0..=0xc7 | 0xe0..=0xe7 => return None,
        0x00..=0x3f => "not a LoWPAN frame (NALP dispatch)".into(),
        0x42 => "unsupported 6LoWPAN dispatch: LOWPAN_HC1".into(),
        0x50 => "unsupported 6LoWPAN dispatch: broadcast header (LOWPAN_BC0)".into(),
        0x80..=0xbf => "unsupported 6LoWPAN dispatch: mesh header".into(),
        0xf0..=0xff => "unsupported 6LoWPAN dispatch: page switch".into(),
        d => format!("reserved dispatch 0x{d:02x} (not 6LoWPAN)"),
    })
}

fn receive_reason(e: &ReceiveError) -> String {
    match e {
        ReceiveError::Decompress(DecompressError::UnknownContext(n)) => {
            format!("unknown context {n}")
        }
        ReceiveError::Decompress(d) => d.to_string(),
        e => e.to_string(),
    }
}

/// Write `packets` as a classic pcap (little-endian, µs timestamps, LINKTYPE_IPV6).
pub fn write_ipv6_pcap(packets: &[DecodedPacket], w: impl Write) -> io::Result<()> {
    let records = packets.iter().map(|p| pcap::Record {
        ts_us: p.ts_us,
        data: &p.data,
    });
    pcap::write(LINKTYPE_IPV6, records, w)
}

/// `packets` as the bytes of a classic pcap with LINKTYPE_IPV6.
pub fn ipv6_pcap(packets: &[DecodedPacket]) -> Vec<u8> {
    let mut v = Vec::with_capacity(24 + packets.iter().map(|p| 16 + p.data.len()).sum::<usize>());
    // Writing to a Vec cannot fail.
    let _ = write_ipv6_pcap(packets, &mut v);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_args() {
        assert_eq!(
            parse_context_arg("0=2001:db8:1::/64"),
            Ok((0, "2001:db8:1::".parse().unwrap(), 64))
        );
        assert_eq!(
            parse_context_arg("15=fd00::/8"),
            Ok((15, "fd00::".parse().unwrap(), 8))
        );
        for bad in [
            "",
            "0",
            "16=2001:db8::/64",
            "x=2001:db8::/64",
            "0=2001:db8::",
            "0=2001:db8::/129",
            "0=10.0.0.0/8",
            "-1=::/0",
        ] {
            assert!(parse_context_arg(bad).is_err(), "{bad}");
        }
        assert!(matches!(
            decode_bytes(
                &[],
                &[(1, Ipv6Addr::UNSPECIFIED, 0), (1, Ipv6Addr::UNSPECIFIED, 0)]
            ),
            Err(DecodeError::BadContext(_))
        ));
        assert!(matches!(
            decode_bytes(&[], &[(16, Ipv6Addr::UNSPECIFIED, 0)]),
            Err(DecodeError::BadContext(_))
        ));
    }

    #[test]
    fn dispatch_classes() {
        assert_eq!(not_decodable(0x41), None);
        assert_eq!(not_decodable(0x7a), None);
        assert_eq!(not_decodable(0xc4), None);
        assert_eq!(not_decodable(0xe4), None);
        assert!(not_decodable(0x00).unwrap().contains("NALP"));
        assert!(not_decodable(0x85).unwrap().contains("mesh"));
        assert!(not_decodable(0x50).unwrap().contains("broadcast"));
        assert!(not_decodable(0x43).unwrap().contains("reserved"));
    }

    #[test]
    fn pcap_writer_layout() {
        let p = ipv6_pcap(&[DecodedPacket {
            ts_us: 3_000_004,
            data: vec![0x60, 0, 0, 0],
        }]);
        assert_eq!(&p[..4], &[0xd4, 0xc3, 0xb2, 0xa1]);
        assert_eq!(&p[20..24], &229u32.to_le_bytes());
        assert_eq!(&p[24..28], &3u32.to_le_bytes());
        assert_eq!(&p[28..32], &4u32.to_le_bytes());
        assert_eq!(&p[32..36], &4u32.to_le_bytes());
        assert_eq!(&p[40..], &[0x60, 0, 0, 0]);
    }
}
