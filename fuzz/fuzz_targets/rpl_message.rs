//! Fuzz the RPL control-message parser (the root reads every DIS, DIO, DAO and DAO-ACK a
//! neighbour sends): it never panics, the option walk ends, and a DIO/DAO/DAO-ACK it accepts
//! with well-formed options re-emits to a message it reads back the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rpl::message::{self, Message, Out};
use rpl::option::Opt;

fuzz_target!(|data: &[u8]| {
    let Ok(m) = Message::parse(data) else {
        return;
    };
    let (out, opts) = match m {
        Message::Dis(o) => (Out::Dis, o),
        Message::Dio(d, o) => (Out::Dio(d), o),
        Message::Dao(d, o) => (Out::Dao(d), o),
        Message::DaoAck(a, o) => (Out::DaoAck(a), o),
        Message::Other(..) => return,
    };
    let mut parsed: Vec<Opt<'_>> = Vec::new();
    for o in opts {
        match o {
            Ok(o) => parsed.push(o),
            // A malformed option: nothing to re-emit.
            Err(_) => return,
        }
    }
    // Re-emitting may grow a message: a Target read from its short form (RFC 6550 §6.7.7) is
    // written with 16 prefix bytes, up to 5 times its 4 received bytes.
    let mut buf = vec![0u8; 6 * data.len() + 64];
    let n = message::emit(&out, &parsed, &mut buf).expect("a parsed message re-emits");
    let again = Message::parse(&buf[..n]).expect("and parses again");
    let back: Vec<Opt<'_>> = match again {
        Message::Dis(o) | Message::Dio(_, o) | Message::Dao(_, o) | Message::DaoAck(_, o) => {
            o.map(|x| x.expect("re-emitted options are well formed")).collect()
        }
        Message::Other(..) => panic!("the code changed"),
    };
    assert_eq!(back, parsed);
});
