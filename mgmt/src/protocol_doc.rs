//! `docs/protocol.md` §6, the worked `Hello` example, is generated here from the encoder:
//! the test fails when the document's bytes (version, fingerprint, CRCs, COBS) are not what
//! this build sends, and prints the section to paste in.

extern crate std;

use std::format;
use std::string::{String, ToString};
use std::vec::Vec;

use super::*;

const CLIENT: &str = concat!("sixgate ", env!("CARGO_PKG_VERSION"));
const BOARD: &str = "sixgate-sim";

fn hex(b: &[u8]) -> String {
    b.iter()
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn body<T: Serialize>(v: &T) -> Vec<u8> {
    let mut b = [0u8; 256];
    postcard::to_slice(v, &mut b).unwrap().to_vec()
}

fn frame<T: Serialize>(h: Header, v: &T) -> Vec<u8> {
    let mut out = [0u8; 256];
    let n = encode(h, v, &mut out).unwrap();
    out[..n].to_vec()
}

/// `bytes` padded to the annotation column.
fn col(bytes: &str, indent: usize, note: &str) -> String {
    let left = format!("{:indent$}{bytes}", "");
    format!("{left:<19}{note}\n")
}

/// The COBS blocks of `frame` (delimiter included), one line each.
fn cobs_lines(frame: &[u8]) -> String {
    let mut s = String::new();
    let mut i = 0;
    while i < frame.len() - 1 {
        let code = frame[i] as usize;
        let data = &frame[i + 1..i + code];
        let last = i + code == frame.len() - 1;
        let then = if last || code == 0xff {
            "no zero follows"
        } else {
            "then a zero"
        };
        let what = match data.len() {
            0 => "no data".into(),
            1 => "1 data byte".into(),
            n => format!("{n} data bytes"),
        };
        if data.len() <= 3 {
            s += &col(
                &hex(&frame[i..i + code]),
                0,
                &format!("code {code:#04x}: {what}, {then}"),
            );
        } else {
            s += &col(
                &hex(&frame[i..i + 1]),
                0,
                &format!("code {code:#04x}: {what}, {then}"),
            );
            for chunk in data.chunks(16) {
                s += &format!("   {}\n", hex(chunk));
            }
        }
        i += code;
    }
    s += &col("00", 0, "delimiter");
    s
}

fn varint_note(v: u32) -> String {
    let mut groups = Vec::new();
    let mut v = v;
    loop {
        let g = v & 0x7f;
        v >>= 7;
        if v == 0 {
            groups.push(format!("{g:#04x}"));
            break;
        }
        groups.push(format!("{g:#04x}|0x80"));
    }
    format!("({}: 7 bits at a time, low first)", groups.join(", "))
}

/// §6 as this build produces it.
fn section6() -> String {
    let v = PROTOCOL_VERSION;
    let fp = SCHEMA_FINGERPRINT;
    let hello = Request::Hello {
        version: v,
        schema: fp,
        client: CLIENT,
    };
    let rh = Header::new(Kind::Request, 1);
    let mut payload = rh.to_bytes().to_vec();
    payload.extend(body(&hello));
    let fp_bytes = body(&fp);
    let crc = frame::CRC32.checksum(&payload);
    let wire = frame(rh, &hello);
    let mut with_crc = payload.clone();
    with_crc.extend(crc.to_le_bytes());
    let zeros: Vec<String> = with_crc
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == 0)
        .map(|(i, _)| i.to_string())
        .collect();

    let answer = Response::Hello {
        version: v,
        schema: fp,
        firmware: CLIENT,
        board: BOARD,
    };
    let ah = Header::new(Kind::Response, 1);
    let mut apayload = ah.to_bytes().to_vec();
    apayload.extend(body(&answer));
    let acrc = frame::CRC32.checksum(&apayload);
    let awire = frame(ah, &answer);

    let unknown = Response::Error {
        code: ErrorCode::UnknownRequest,
        message: "unknown request",
    };
    let mismatch = format!("protocol version 9 not supported (device speaks {v}); send Hello");

    let mut s = String::new();
    s += "## 6. Worked example: Hello\n\n";
    s += &format!(
        "The CLI's first request on a fresh port, id 1, from `{CLIENT}` whose schema \
         fingerprint\n(§8.2) is `{fp:#010x}` (the value for the sources of this writing; it \
         changes with the schema).\n`mgmt/src/protocol_doc.rs` generates this section from the \
         encoder and checks it.\n\n"
    );
    s += &format!("Payload, {} bytes:\n\n```\n", payload.len());
    s += &col(&format!("{v:02x}"), 0, &format!("header: version {v}"));
    s += &col("00", 0, "header: kind 0 = Request");
    s += &col("01 00", 0, "header: id 1 (little-endian)");
    s += &col("00", 0, "Request variant 0 = Hello");
    s += &col(&format!("{v:02x}"), 2, &format!("version: u8 = {v}"));
    s += &col(
        &hex(&fp_bytes),
        2,
        &format!("schema: u32 = {fp:#010x} as a varint"),
    );
    s += &format!("{:23}{}\n", "", varint_note(fp));
    s += &col(
        &format!("{:02x}", CLIENT.len()),
        2,
        &format!("client: &str, length {}", CLIENT.len()),
    );
    s += &format!("  {}      \"{CLIENT}\"\n", hex(CLIENT.as_bytes()));
    s += "```\n\n";
    s += &format!(
        "CRC-32 of those {} bytes is `{crc:#010x}`, appended little-endian: `{}`. COBS over \
         the\n{} bytes (zeros at offsets {}) and the delimiter give the {} bytes on the wire:\n\n```\n",
        payload.len(),
        hex(&crc.to_le_bytes()),
        with_crc.len(),
        zeros.join(", "),
        wire.len()
    );
    s += &cobs_lines(&wire);
    s += "```\n\n(The CLI sends a lone `00` before this frame; see §2.1.)\n\n";
    s += &format!(
        "The answer of `sixgate-sim` (captured from its PTY), payload {} bytes:\n\n```\n",
        apayload.len()
    );
    s += &col(
        &hex(&ah.to_bytes()),
        0,
        &format!("version {v}, kind 1 = Response, id 1"),
    );
    s += &col("00", 0, "Response variant 0 = Hello");
    s += &col(&format!("{v:02x}"), 2, &format!("version {v}"));
    s += &col(
        &hex(&fp_bytes),
        2,
        &format!("schema {fp:#010x} (the same: compatible)"),
    );
    s += &format!(
        "  {} {}      firmware \"{CLIENT}\"\n",
        hex(&[CLIENT.len() as u8]),
        hex(CLIENT.as_bytes())
    );
    s += &format!(
        "  {} {}      board \"{BOARD}\"\n",
        hex(&[BOARD.len() as u8]),
        hex(BOARD.as_bytes())
    );
    s += &format!(
        "```\n\nCRC-32 `{acrc:#010x}`; on the wire, {} bytes:\n\n```\n",
        awire.len()
    );
    for chunk in awire.chunks(16) {
        s += &format!("{}\n", hex(chunk));
    }
    s += "```\n\n";
    s += &format!(
        "Two more, for comparison (payloads only): an unknown request variant `{}` is\n\
         answered `{} | {}`\n\
         (`Error {{ UnknownRequest, \"unknown request\" }}`), and `Info` sent with header version 9 is\n\
         answered `Error {{ VersionMismatch, \"{mismatch}\" }}`\n\
         in a version-{v} header with the same id.\n",
        hex(&[v, 0, 0x34, 0x12, 0x63]),
        hex(&Header::new(Kind::Response, 0x1234).to_bytes()),
        hex(&body(&unknown)),
    );
    s
}

#[test]
fn protocol_md_section_6_is_what_the_encoder_sends() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/protocol.md");
    let doc = std::fs::read_to_string(path).unwrap();
    let start = doc.find("## 6. Worked example: Hello").expect("§6 heading");
    let end = start + doc[start..].find("\n## 7.").expect("§7 heading") + 1;
    let want = section6();
    assert!(
        doc[start..end].trim_end() == want.trim_end(),
        "docs/protocol.md §6 differs from what this build encodes; replace it with:\n\n{want}"
    );
}
