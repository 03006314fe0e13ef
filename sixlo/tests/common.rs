//! Helpers shared by the integration tests: an IPv6 datagram builder.
#![allow(dead_code)]

/// One extension header of a generated datagram: (protocol, bytes including NH and length).
pub type Ext = (u8, Vec<u8>);

/// Build an IPv6 datagram: header fields, extension headers, then either UDP (with a correct
/// checksum) or a raw upper layer with protocol `last`.
#[allow(clippy::too_many_arguments)]
pub fn build(
    tc: u8,
    flow: u32,
    hlim: u8,
    src: [u8; 16],
    dst: [u8; 16],
    exts: &[Ext],
    udp: Option<(u16, u16)>,
    last: u8,
    payload: &[u8],
) -> Vec<u8> {
    let mut body = Vec::new();
    let first_proto = exts
        .first()
        .map(|e| e.0)
        .unwrap_or(if udp.is_some() { 17 } else { last });
    for (i, (_, bytes)) in exts.iter().enumerate() {
        let mut b = bytes.clone();
        b[0] = exts
            .get(i + 1)
            .map(|e| e.0)
            .unwrap_or(if udp.is_some() { 17 } else { last });
        body.extend_from_slice(&b);
    }
    if let Some((sp, dp)) = udp {
        let len = (8 + payload.len()) as u16;
        let mut u = Vec::new();
        u.extend_from_slice(&sp.to_be_bytes());
        u.extend_from_slice(&dp.to_be_bytes());
        u.extend_from_slice(&len.to_be_bytes());
        u.extend_from_slice(&[0, 0]);
        u.extend_from_slice(payload);
        let c = udp_checksum(&src, &dst, &u);
        u[6..8].copy_from_slice(&c.to_be_bytes());
        body.extend_from_slice(&u);
    } else {
        body.extend_from_slice(payload);
    }
    let mut p = vec![
        0x60 | (tc >> 4),
        (tc << 4) | ((flow >> 16) as u8 & 0x0f),
        (flow >> 8) as u8,
        flow as u8,
    ];
    p.extend_from_slice(&(body.len() as u16).to_be_bytes());
    p.push(first_proto);
    p.push(hlim);
    p.extend_from_slice(&src);
    p.extend_from_slice(&dst);
    p.extend_from_slice(&body);
    p
}

pub fn udp_checksum(src: &[u8; 16], dst: &[u8; 16], udp: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    let mut add = |d: &[u8]| {
        for c in d.chunks(2) {
            let w = if c.len() == 2 {
                u16::from_be_bytes([c[0], c[1]])
            } else {
                u16::from(c[0]) << 8
            };
            sum += u32::from(w);
        }
    };
    add(src);
    add(dst);
    add(&(udp.len() as u32).to_be_bytes());
    add(&[0, 0, 0, 17]);
    add(udp);
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    match !(sum as u16) {
        0 => 0xffff,
        c => c,
    }
}

pub fn addr(s: &str) -> [u8; 16] {
    s.parse::<std::net::Ipv6Addr>().unwrap().octets()
}
