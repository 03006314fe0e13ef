//! Live capture: `CaptureStart`, `CaptureStop`, and the records streamed from the capture
//! ring while the line has room.

use l2_15_4::radio::Radio;
use mgmt::{CaptureIface as MCaptureIface, ErrorCode, Kind, Response};

use super::{CaptureSession, MgmtServer};
use crate::app::App;
use crate::capture::{CaptureFilter, CaptureIface, Direction};

/// Most bytes a capture record's payload adds to its frame data: the message header and every
/// other field of [`mgmt::Capture`] at its longest varint.
const CAPTURE_PAYLOAD_OVERHEAD: usize = mgmt::HEADER_LEN + 10 + 1 + 1 + 1 + 1 + 1 + 3 + 2 * 5 + 3;

impl<const TX: usize> MgmtServer<TX> {
    /// [`Request::CaptureStart`].
    #[inline(always)]
    pub(super) fn start_capture<R: Radio>(
        &mut self,
        id: u16,
        ifaces: u8,
        promiscuous: bool,
        app: &mut App<'_>,
        radio: &mut R,
    ) {
        if let Some(why) = self.capture_unavailable {
            return self.error(id, ErrorCode::Busy, why);
        }
        if ifaces & 3 == 0 || ifaces & !3 != 0 {
            return self.error(
                id,
                ErrorCode::InvalidArgument,
                "ifaces: bit 0 wpan0, bit 1 eth0",
            );
        }
        let was = self.capture.is_some_and(|c| c.promiscuous);
        if promiscuous != was && app.set_promiscuous(radio, promiscuous).is_err() {
            return self.error(
                id,
                ErrorCode::Unsupported,
                "the radio cannot go promiscuous",
            );
        }
        let ring = app.capture_mut();
        ring.stop();
        ring.clear();
        ring.start(CaptureFilter {
            wpan0: ifaces & 1 != 0,
            eth0: ifaces & 2 != 0,
            promiscuous,
            snaplen: u16::MAX,
        });
        self.capture = Some(CaptureSession {
            promiscuous,
            base_dropped: ring.stats().dropped_by_iface,
            link_drops: [0; 2],
            recorded: 0,
            sent: 0,
        });
        self.ok(id);
    }

    /// [`Request::CaptureStop`]: answers the capture's counters.
    #[inline(always)]
    pub(super) fn capture_stop<R: Radio>(&mut self, id: u16, app: &mut App<'_>, radio: &mut R) {
        let s = self.stop_capture(app, radio);
        self.respond(id, &Response::CaptureStats(s));
    }

    pub(super) fn stop_capture<R: Radio>(
        &mut self,
        app: &mut App<'_>,
        radio: &mut R,
    ) -> mgmt::CaptureStats {
        let Some(c) = self.capture.take() else {
            return mgmt::CaptureStats::default();
        };
        if c.promiscuous {
            let _ = app.set_promiscuous(radio, false);
        }
        let ring = app.capture_mut();
        ring.stop();
        let pending = u64::from(ring.stats().pending_records);
        let d = ring.stats().dropped_by_iface;
        ring.clear();
        mgmt::CaptureStats {
            recorded: c.recorded + pending,
            sent: c.sent,
            dropped: [
                d[0].saturating_sub(c.base_dropped[0]) + c.link_drops[0],
                d[1].saturating_sub(c.base_dropped[1]) + c.link_drops[1],
            ],
        }
    }

    pub(super) fn poll_capture(&mut self, app: &mut App<'_>) {
        let Some(mut c) = self.capture else {
            return;
        };
        let mut data = [0u8; 1536];
        while self.stream_open() {
            let ring = app.capture_mut();
            // A record stays in the ring until its frame surely fits: a line slower than the
            // traffic fills the ring, which then drops (and counts) what it cannot keep.
            let Some(len) = ring.peek_len() else {
                break;
            };
            if self.free() < mgmt::frame::frame_len_bound(CAPTURE_PAYLOAD_OVERHEAD + len) {
                break;
            }
            let Some((meta, n)) = ring.pop(&mut data) else {
                break;
            };
            c.recorded += 1;
            let slot = meta.iface as usize;
            let rd = ring.stats().dropped_by_iface;
            let dropped = [0usize, 1].map(|k| {
                let ring_d = rd
                    .get(k)
                    .copied()
                    .unwrap_or(0)
                    .saturating_sub(c.base_dropped.get(k).copied().unwrap_or(0));
                u32::try_from(ring_d + c.link_drops.get(k).copied().unwrap_or(0))
                    .unwrap_or(u32::MAX)
            });
            let rec = mgmt::Capture {
                ts_us: meta.timestamp_us,
                iface: match meta.iface {
                    CaptureIface::Wpan0 => MCaptureIface::Wpan0,
                    CaptureIface::Eth0 => MCaptureIface::Eth0,
                },
                tx: meta.direction == Direction::Tx,
                channel: meta.channel,
                rssi: meta.rssi,
                lqi: meta.lqi,
                orig_len: meta.orig_len,
                dropped,
                data: data.get(..n).unwrap_or_default(),
            };
            if self.push(self.header(Kind::Capture, 0), &rec) {
                c.sent += 1;
                self.stats.capture_sent += 1;
            } else {
                // Only a frame longer than the largest payload gets here.
                if let Some(d) = c.link_drops.get_mut(slot) {
                    *d += 1;
                }
                self.stats.capture_link_drops += 1;
            }
        }
        self.capture = Some(c);
    }
}
