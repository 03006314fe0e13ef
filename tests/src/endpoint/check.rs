//! The checks behind the benchmark: every path delivers the payload, and the frame lengths
//! each side puts on the air.

use l2_15_4::frame::fcs;

use super::{FCS_LEN, MAX_FRAMES, Work};
use super::{OursReceiver, OursSender, SmolReceiver, SmolSender};
use crate::{Air, Failure, ensure};

/// What [`check`] found besides "every path delivers".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checked {
    /// Frames one datagram takes with our sender.
    pub ours_frames: usize,
    /// Frames one datagram takes with smoltcp's sender.
    pub smoltcp_frames: usize,
    /// Whether smoltcp's receiver refused a datagram whose payload was changed after its UDP
    /// checksum was computed (only tested with `udp_checksum`; ours always refuses it).
    pub smoltcp_verifies_udp_checksum: bool,
}

/// Run each pair once with `work` and check that the receiver got `payload` unchanged; also
/// cross over (our frames to smoltcp's receiver and smoltcp's frames to ours), which shows the
/// two senders put comparable, interoperable frames on the air. With `fcs`, a frame with a
/// bad FCS must be refused by both; with `udp_checksum`, a changed payload must be refused by
/// ours (whether smoltcp refuses it is reported).
pub fn check(work: Work, payload: &[u8]) -> Result<Checked, Failure> {
    let mut air = Air::new(MAX_FRAMES);
    let mut out = vec![0u8; 2048];
    let mut os = OursSender::new(work);
    let mut or = OursReceiver::new(work);
    let mut ss = SmolSender::new(work, payload)?;
    let mut sr = SmolReceiver::new(work)?;
    let mut report = Checked {
        ours_frames: 0,
        smoltcp_frames: 0,
        smoltcp_verifies_udp_checksum: false,
    };
    let same = |n: usize, out: &[u8], who: &str| {
        ensure(n == payload.len() && out[..n] == *payload, || {
            format!("{who}: got {n} bytes, not the payload")
        })
    };
    // Twice each: the second run goes through state the first one left.
    for _ in 0..2 {
        let ours = os.send(payload, &mut air)?;
        out.fill(0);
        same(or.receive(&air, &mut out)?, &out, "ours → ours")?;
        out.fill(0);
        same(sr.receive(&air, &mut out)?, &out, "ours → smoltcp")?;
        if let Some(code) = work.fcs {
            for f in air.frames() {
                ensure(fcs::verify(f), || "our frame has a bad FCS".into())?;
                // The two FCS codes compute the same CRC.
                ensure(code.verify(f), || "smoltcp's device refuses our FCS".into())?;
            }
        }
        let smol = ss.send(payload, &mut air)?;
        out.fill(0);
        same(sr.receive(&air, &mut out)?, &out, "smoltcp → smoltcp")?;
        out.fill(0);
        same(or.receive(&air, &mut out)?, &out, "smoltcp → ours")?;
        if work.fcs.is_some() {
            for f in air.frames() {
                ensure(fcs::verify(f), || "smoltcp's frame has a bad FCS".into())?;
            }
        }
        ensure(sr.transmitted == 0, || {
            "smoltcp's receiver transmitted".into()
        })?;
        ensure(or.dropped == 0, || {
            format!("ours dropped {} frames", or.dropped)
        })?;
        if ours != smol || ours == 0 {
            // Not an error, but the figures are per datagram: say so.
            eprintln!("note: ours sends {ours} frames, smoltcp {smol}");
        }
        if work.udp_checksum {
            // A payload byte changed after the checksum was computed (FCS recomputed, so only
            // the UDP checksum can catch it): both receivers refuse the datagram.
            let mut bad = air.clone();
            if let Some(buf) = bad.frames.get_mut(5) {
                let len = buf.1;
                buf.0[len - FCS_LEN - 10] ^= 0x40;
                if work.fcs.is_some() {
                    fcs::append(&mut buf.0[..len]);
                }
            }
            let mut r = OursReceiver::new(work);
            ensure(r.receive(&bad, &mut out).is_err(), || {
                "ours accepted a bad UDP checksum".into()
            })?;
            // smoltcp 0.14 does not: its 6LoWPAN decompression writes a zero UDP checksum
            // into the rebuilt header (`decompress_udp`), and its UDP input takes zero for
            // "no checksum", so the carried checksum is never verified. Recorded, not failed.
            let mut r = SmolReceiver::new(work)?;
            report.smoltcp_verifies_udp_checksum = r.receive(&bad, &mut out).is_err();
        }
        if work.fcs.is_none() {
            continue;
        }
        // A corrupted frame is refused by both (the FCS is really checked).
        let mut bad = air.clone();
        if let Some(buf) = bad.frames.get_mut(1) {
            buf.0[20] ^= 0x01;
        }
        let mut r = OursReceiver::new(work);
        ensure(r.receive(&bad, &mut out).is_err() && r.dropped == 1, || {
            "ours accepted a bad FCS".into()
        })?;
        let mut r = SmolReceiver::new(work)?;
        ensure(r.receive(&bad, &mut out).is_err(), || {
            "smoltcp's device accepted a bad FCS".into()
        })?;
    }
    report.ours_frames = os.send(payload, &mut air)?;
    report.smoltcp_frames = ss.frames();
    Ok(report)
}

/// Frame lengths (PSDU bytes) on the air for one datagram of each sender, for the record.
pub fn frame_lengths(work: Work, payload: &[u8]) -> Result<(Vec<usize>, Vec<usize>), Failure> {
    let mut air = Air::new(MAX_FRAMES);
    OursSender::new(work).send(payload, &mut air)?;
    let ours = air.frames().map(<[u8]>::len).collect();
    SmolSender::new(work, payload)?.send(payload, &mut air)?;
    let smol = air.frames().map(<[u8]>::len).collect();
    Ok((ours, smol))
}
