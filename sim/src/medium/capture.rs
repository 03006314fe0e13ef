//! Recording the medium into pcapng ([`Medium::start_capture`]): every frame as the air
//! carried it, or as one radio heard it ([`CaptureMode`]).

use std::io::{self, Write};

use capture_file::{InterfaceDesc, LINKTYPE_IEEE802_15_4_TAP, PcapngWriter, TapInfo};
use netif::time::Instant;

use super::{CaptureMode, Medium, Transmission};

/// A capture in progress.
pub(super) struct Capture {
    pub(super) writer: PcapngWriter<Box<dyn Write>>,
    pub(super) mode: CaptureMode,
    pub(super) start: Instant,
    pub(super) received: u64,
    pub(super) dropped: u64,
}

impl Medium {
    /// Records every frame from now on into a pcapng stream (one `wpan0` interface).
    pub fn start_capture(&mut self, out: Box<dyn Write>, mode: CaptureMode) -> io::Result<()> {
        let ifs = [InterfaceDesc {
            linktype: LINKTYPE_IEEE802_15_4_TAP,
            name: "wpan0".into(),
            snaplen: 0,
        }];
        let writer = PcapngWriter::new(out, &ifs)?;
        self.capture = Some(Capture {
            writer,
            mode,
            start: self.now,
            received: 0,
            dropped: 0,
        });
        Ok(())
    }

    /// Ends the capture: writes the interface statistics block and flushes.
    pub fn finish_capture(&mut self) -> io::Result<()> {
        if let Some(c) = self.capture.take() {
            let mut w = c.writer;
            w.write_stats(
                0,
                c.start.as_micros(),
                self.now.as_micros(),
                c.received,
                c.dropped,
            )?;
            w.finish()?;
        }
        Ok(())
    }

    pub(super) fn capture_frame(
        &mut self,
        tx: &Transmission,
        best: Option<(i8, u8)>,
        observer_saw: Option<Option<(i8, u8)>>,
    ) {
        let Some(cap) = self.capture.as_mut() else {
            return;
        };
        let meta = match cap.mode {
            CaptureMode::Air => {
                if tx.collided {
                    cap.dropped += 1;
                }
                Some(best)
            }
            CaptureMode::Observer(o) if o.0 == tx.src => Some(None),
            CaptureMode::Observer(_) => match observer_saw {
                Some(Some(m)) => Some(Some(m)),
                Some(None) => {
                    cap.dropped += 1;
                    None
                }
                None => None,
            },
        };
        let Some(meta) = meta else {
            return;
        };
        let info = TapInfo {
            channel: tx.channel.number(),
            rssi_dbm: meta.map(|m| m.0),
            lqi: meta.map(|m| m.1),
            start_us: tx.start.as_micros(),
            end_us: tx.end.as_micros(),
        };
        cap.received += 1;
        if cap.writer.write_15_4(0, &tx.psdu, &info).is_err() {
            self.counters.capture_errors += 1;
            self.capture = None;
        } else {
            self.counters.captured += 1;
        }
    }
}
