//! `Ping`: one ICMPv6 echo request from the device at a time, answered from
//! [`MgmtServer::poll`] when the reply, an error or the timeout comes.

use core::net::Ipv6Addr;

use mgmt::{ErrorCode, Ip6, PingOutcome};
use netif::{Duration, Instant};

use super::{MgmtServer, PendingPing, iface_index};
use crate::app::App;
use crate::ping::PingReply;

// The largest echo request fits a packet buffer after the headroom, and the message above
// states the limit.
const _: () = assert!(
    mgmt::MAX_PING_SIZE as usize + 48 + netif::config::DEFAULT_HEADROOM <= crate::app::PACKET_BUF
        && mgmt::MAX_PING_SIZE == 1232
);

impl<const TX: usize> MgmtServer<TX> {
    /// [`Request::Ping`]: sends the echo request; [`MgmtServer::poll`] answers.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)] // the request's fields
    pub(super) fn start_ping(
        &mut self,
        id: u16,
        dst: Ip6,
        size: u16,
        seq: u16,
        timeout_ms: u32,
        iface: Option<&str>,
        app: &mut App<'_>,
        now: Instant,
    ) {
        if self.ping.is_some() {
            return self.error(id, ErrorCode::Busy, "a ping is already in flight");
        }
        let egress = match iface {
            Some(n) => match iface_index(app, n) {
                Some(i) => Some(i),
                None => return self.no_iface(id, n),
            },
            None => None,
        };
        let dst = Ipv6Addr::from(dst);
        if egress.is_none() && (dst.is_unicast_link_local() || dst.is_multicast()) {
            return self.error(
                id,
                ErrorCode::InvalidArgument,
                "link-local and multicast destinations need an interface (ADDR%wpan0)",
            );
        }
        if size > mgmt::MAX_PING_SIZE {
            return self.error(id, ErrorCode::InvalidArgument, "size: 0..=1232 bytes");
        }
        app.clear_pings();
        match app.ping_send(now, dst, egress, seq, size) {
            Ok(_) => {
                self.ping = Some(PendingPing {
                    id,
                    seq,
                    sent: now,
                    deadline: now + Duration::from_millis(u64::from(timeout_ms.max(1))),
                });
            }
            Err(_) => self.ping_outcome(id, PingOutcome::NotSent),
        }
    }

    pub(super) fn poll_ping(&mut self, app: &mut App<'_>, now: Instant) {
        let Some(p) = self.ping else {
            while app.pop_ping().is_some() {}
            return;
        };
        if !self.response_room() {
            // Leave the replies queued until the answer fits.
            self.answer_waiting |= app.has_ping_reply() || now >= p.deadline;
            return;
        }
        while let Some(r) = app.pop_ping() {
            let outcome = match r {
                PingReply::Reply {
                    seq,
                    at,
                    hop_limit,
                    size,
                } if seq == p.seq => PingOutcome::Reply {
                    rtt_us: u32::try_from(at.saturating_since(p.sent).as_micros())
                        .unwrap_or(u32::MAX),
                    hop_limit,
                    size,
                },
                PingReply::Error {
                    seq,
                    icmp_type,
                    code,
                    from,
                } if seq == p.seq => PingOutcome::Error {
                    icmp_type,
                    code,
                    from: from.octets(),
                },
                _ => continue,
            };
            self.ping = None;
            self.ping_outcome(p.id, outcome);
            return;
        }
        if now >= p.deadline {
            self.ping = None;
            self.ping_outcome(p.id, PingOutcome::Timeout);
        }
    }
}
