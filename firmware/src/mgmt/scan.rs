//! `ScanEnergy`: energy detection channel by channel, driven from [`MgmtServer::poll`]; the
//! radio goes back to its own channel before the answer.

use heapless::Vec;
use l2_15_4::radio::Radio;
use mgmt::{ChannelEnergy, ErrorCode, Response};
use netif::{Duration, Instant};

use super::{MgmtServer, Scan};
use crate::app::App;

impl<const TX: usize> MgmtServer<TX> {
    /// [`Request::ScanEnergy`]: starts the scan; [`MgmtServer::poll`] runs it and answers.
    #[inline(always)]
    pub(super) fn start_scan(&mut self, id: u16, channels: u32, duration_ms: u16) {
        if self.scan.is_some() {
            return self.error(id, ErrorCode::Busy, "a scan is already running");
        }
        let left = channels & 0x07ff_f800;
        if left == 0 || channels & !0x07ff_f800 != 0 {
            return self.error(
                id,
                ErrorCode::InvalidArgument,
                "channels must be within 11..=26",
            );
        }
        self.scan = Some(Scan {
            id,
            left,
            current: None,
            duration: Duration::from_millis(u64::from(duration_ms.clamp(1, 1000))),
            results: Vec::new(),
            restored: false,
        });
    }

    pub(super) fn poll_scan<R: Radio>(&mut self, app: &mut App<'_>, now: Instant, radio: &mut R) {
        let Some(mut s) = self.scan.take() else {
            return;
        };
        // A measurement running: its result comes as an event (taken in poll_events, which
        // stores it through `scan_result`), or it timed out.
        if let Some((ch, deadline)) = s.current {
            if now < deadline {
                self.scan = Some(s);
                return;
            }
            // No result in time (radio busy): report the channel as unmeasured (-128 dBm).
            let _ = s.results.push(ChannelEnergy {
                channel: ch,
                dbm: i8::MIN,
            });
            s.current = None;
        }
        if s.left == 0 {
            if !s.restored {
                // Back to the configured channel at once, even if the answer must wait.
                let _ = app.restore_channel(radio);
                s.restored = true;
            }
            if !self.response_room() {
                self.answer_waiting = true;
                self.scan = Some(s);
                return;
            }
            let id = s.id;
            self.respond(id, &Response::Energy(s.results));
            return;
        }
        let ch = s.left.trailing_zeros() as u8;
        s.left &= !(1u32 << ch);
        match app.energy_detect_on(now, radio, ch, s.duration) {
            Ok(()) => s.current = Some((ch, now + s.duration + Duration::from_millis(200))),
            Err(_) => {
                let _ = s.results.push(ChannelEnergy {
                    channel: ch,
                    dbm: i8::MIN,
                });
            }
        }
        self.scan = Some(s);
    }

    pub(super) fn scan_result(&mut self, channel: u8, dbm: i8) -> bool {
        let Some(s) = self.scan.as_mut() else {
            return false;
        };
        if s.current.is_some_and(|(c, _)| c == channel) {
            let _ = s.results.push(ChannelEnergy { channel, dbm });
            s.current = None;
            return true;
        }
        false
    }
}
