//! ICMPv6 echo originated by the border router itself (`sixgate ping`).
//!
//! The [`Pinger`] registers one core handler for Echo Reply (129) and one for the ICMPv6
//! errors (1..=4); it builds Echo Requests with the identifier [`ECHO_ID`] and reports what
//! came back for them as [`PingReply`]s. Errors and replies that are not about our echoes
//! are freed and counted. Timeouts belong to the caller (the management server knows the
//! deadline of each request).

use core::net::Ipv6Addr;

use heapless::Deque;
use netif::icmp::{self, types};
use netif::{HandlerId, IfIndex, Instant, LocalDelivery, Match, PacketPool, Stack};
use smoltcp::wire::IpProtocol;

/// Echo identifier of every request we send ("SG").
pub const ECHO_ID: u16 = 0x5347;
/// Replies kept until taken.
pub const PING_REPLIES: usize = 4;
/// Hop limit of our echo requests.
pub const PING_HOP_LIMIT: u8 = 64;

/// What came back for one of our echo requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum PingReply {
    /// An Echo Reply.
    Reply {
        /// Sequence number.
        seq: u16,
        /// When it arrived.
        at: Instant,
        /// Its hop limit.
        hop_limit: u8,
        /// Echo data bytes.
        size: u16,
    },
    /// An ICMPv6 error quoting our echo request.
    Error {
        /// Sequence number of the quoted request.
        seq: u16,
        /// ICMPv6 type.
        icmp_type: u8,
        /// ICMPv6 code.
        code: u8,
        /// Who sent the error.
        from: Ipv6Addr,
    },
}

/// Why an echo request could not be sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum PingError {
    /// No source address for that destination (no route, or no address on the egress).
    NoSource,
    /// Packet pool empty.
    NoBuffer,
    /// The core refused it (no route, interface down, too big).
    NotSent,
}

/// Counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct PingStats {
    /// Echo requests sent.
    pub sent: u64,
    /// Our echo replies received.
    pub replies: u64,
    /// ICMPv6 errors about our echoes.
    pub errors: u64,
    /// Replies or errors not about our echoes, or malformed (freed).
    pub ignored: u64,
    /// Replies lost because nobody took the earlier ones.
    pub lost: u64,
}

/// See the module docs.
#[derive(Debug, Default)]
pub struct Pinger {
    handlers: Option<(HandlerId, HandlerId)>,
    replies: Deque<PingReply, PING_REPLIES>,
    stats: PingStats,
}

impl Pinger {
    /// Registers the handlers.
    pub fn attach(&mut self, stack: &mut Stack<'_>) -> Result<(), netif::stack::IfaceError> {
        let r = stack.register_handler(
            Match::Icmpv6 {
                first: types::ECHO_REPLY,
                last: types::ECHO_REPLY,
            },
            None,
        )?;
        let errors = Match::Icmpv6 {
            first: types::DST_UNREACHABLE,
            last: types::PARAM_PROBLEM,
        };
        let e = stack.register_handler(errors, None)?;
        self.handlers = Some((r, e));
        Ok(())
    }

    /// Whether `d` is for us.
    pub fn owns(&self, d: &LocalDelivery) -> bool {
        self.handlers
            .is_some_and(|(a, b)| d.handler == a || d.handler == b)
    }

    /// Counters.
    pub fn stats(&self) -> PingStats {
        self.stats
    }

    /// Whether a reply or error is waiting.
    pub fn has_reply(&self) -> bool {
        !self.replies.is_empty()
    }

    /// The oldest echo reply or error not taken yet.
    pub fn pop(&mut self) -> Option<PingReply> {
        self.replies.pop_front()
    }

    /// Forgets replies not taken yet (a new session).
    pub fn clear(&mut self) {
        self.replies.clear();
    }

    /// Sends an echo request `seq` with `size` data bytes to `dst`, out of `iface` when
    /// given (needed for link-local destinations), else by route. Returns the egress.
    pub fn send(
        &mut self,
        stack: &mut Stack<'_>,
        now: Instant,
        dst: Ipv6Addr,
        iface: Option<IfIndex>,
        seq: u16,
        size: u16,
    ) -> Result<IfIndex, PingError> {
        let egress = match iface {
            Some(i) => i,
            None => stack
                .lookup_route(&dst, now)
                .and_then(|r| r.iface())
                .ok_or(PingError::NotSent)?,
        };
        let src = stack
            .iface(egress)
            .and_then(|x| x.select_source(&dst))
            .ok_or(PingError::NoSource)?;
        let pkt = build_echo(stack.pool_mut(), &src, &dst, seq, size).ok_or(PingError::NoBuffer)?;
        let r = match iface {
            Some(i) => stack.send_on(now, i, dst, pkt),
            None => stack.send(now, pkt),
        };
        r.map_err(|_| PingError::NotSent)?;
        self.stats.sent += 1;
        Ok(egress)
    }

    /// Handles a delivery [`Pinger::owns`] (the packet is freed).
    pub fn handle(&mut self, pool: &mut PacketPool<'_>, now: Instant, d: LocalDelivery) {
        let r = parse(pool.data(&d.packet), d.upper_offset, now);
        pool.free(d.packet);
        let Some(r) = r else {
            self.stats.ignored += 1;
            return;
        };
        match r {
            PingReply::Reply { .. } => self.stats.replies += 1,
            PingReply::Error { .. } => self.stats.errors += 1,
        }
        if self.replies.push_back(r).is_err() {
            self.replies.pop_front();
            let _ = self.replies.push_back(r);
            self.stats.lost += 1;
        }
    }
}

/// Reads an echo reply to [`ECHO_ID`] or an error quoting one of our echo requests.
fn parse(pkt: &[u8], upper: usize, now: Instant) -> Option<PingReply> {
    let hop_limit = *pkt.get(7)?;
    let from: [u8; 16] = pkt.get(8..24)?.try_into().ok()?;
    let icmp = pkt.get(upper..)?;
    let (&[t, code, _, _], rest) = icmp.split_first_chunk::<4>()?;
    if t == types::ECHO_REPLY {
        let (&[i0, i1, s0, s1], data) = rest.split_first_chunk::<4>()?;
        if u16::from_be_bytes([i0, i1]) != ECHO_ID {
            return None;
        }
        return Some(PingReply::Reply {
            seq: u16::from_be_bytes([s0, s1]),
            at: now,
            hop_limit,
            size: u16::try_from(data.len()).ok()?,
        });
    }
    // An error: 4 unused/MTU/pointer bytes, then the invoking packet (IPv6 header, then our
    // echo request if it had no extension headers, which ours never have).
    let quoted = rest.get(4..)?;
    if quoted.get(6) != Some(&u8::from(IpProtocol::Icmpv6)) {
        return None;
    }
    let (&[qt, _, _, _, i0, i1, s0, s1], _) = quoted.get(40..)?.split_first_chunk::<8>()?;
    if qt != types::ECHO_REQUEST || u16::from_be_bytes([i0, i1]) != ECHO_ID {
        return None;
    }
    Some(PingReply::Error {
        seq: u16::from_be_bytes([s0, s1]),
        icmp_type: t,
        code,
        from: Ipv6Addr::from(from),
    })
}

fn build_echo(
    pool: &mut PacketPool<'_>,
    src: &Ipv6Addr,
    dst: &Ipv6Addr,
    seq: u16,
    size: u16,
) -> Option<netif::PacketHandle> {
    let icmp_len = 8 + usize::from(size);
    u16::try_from(icmp_len).ok()?;
    let mut write = |icmp: &mut [u8]| {
        let (head, data) = icmp.split_first_chunk_mut::<8>()?;
        let [i0, i1] = ECHO_ID.to_be_bytes();
        let [s0, s1] = seq.to_be_bytes();
        *head = [types::ECHO_REQUEST, 0, 0, 0, i0, i1, s0, s1];
        for (k, b) in data.iter_mut().enumerate() {
            *b = k as u8;
        }
        Some(icmp_len)
    };
    icmp::build_message(pool, src, dst, PING_HOP_LIMIT, icmp_len, &mut write)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_reply_and_quoted_error() {
        let src = Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 1);
        let dst = Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 2);
        // Echo reply from dst (hop limit 63), id ECHO_ID, seq 7, 3 data bytes.
        let mut p = [0u8; 40 + 11];
        p[6] = 58;
        p[7] = 63;
        p[8..24].copy_from_slice(&dst.octets());
        p[24..40].copy_from_slice(&src.octets());
        p[40..51].copy_from_slice(&[129, 0, 0, 0, 0x53, 0x47, 0, 7, 1, 2, 3]);
        assert_eq!(
            parse(&p, 40, Instant::ZERO),
            Some(PingReply::Reply {
                seq: 7,
                at: Instant::ZERO,
                hop_limit: 63,
                size: 3
            })
        );
        // Another program's id is not ours.
        p[44] = 0;
        assert_eq!(parse(&p, 40, Instant::ZERO), None);
        // Time Exceeded quoting our request seq 9.
        let mut e = [0u8; 40 + 8 + 40 + 8];
        e[6] = 58;
        e[8..24].copy_from_slice(&dst.octets());
        e[40] = 3;
        e[48 + 6] = 58;
        e[88..96].copy_from_slice(&[128, 0, 0, 0, 0x53, 0x47, 0, 9]);
        assert_eq!(
            parse(&e, 40, Instant::ZERO),
            Some(PingReply::Error {
                seq: 9,
                icmp_type: 3,
                code: 0,
                from: dst
            })
        );
        // Truncated input never panics.
        for n in 0..e.len() {
            let _ = parse(&e[..n], 40, Instant::ZERO);
            let _ = parse(&e[..n], 200, Instant::ZERO);
        }
    }
}
