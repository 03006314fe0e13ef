//! Property tests of the server's session and storage rules (issue 19, finding 9), with the
//! application on a scripted radio and a shell that stores into memory that can be broken:
//!
//! - every `ConfigSave` is answered exactly once, `Ok` exactly when the write succeeded;
//! - the configuration stays dirty until a write of it succeeded, and what is stored is then
//!   the running configuration;
//! - a `Hello` tells the old session it ended (id 0, before the `Hello` answer) exactly when
//!   that session still had a subscription.

#[cfg(not(feature = "std"))]
extern crate std;

use std::boxed::Box;
use std::vec::Vec;

use l2_15_4::radio::testing::ScriptedRadio;
use mgmt::{FrameDecoder, Header, IfaceSetting, Kind, MAX_FRAME, Message, Request};
use netif::Instant;
use proptest::prelude::*;

use super::{Action, MgmtServer, TAKEN_OVER};
use crate::app::{App, AppResources};
use crate::config::Config;

#[derive(Clone, Copy, Debug)]
enum Op {
    /// A run-time change (the channel).
    Change(u8),
    /// The store starts failing.
    Break,
    /// The store works again.
    Repair,
    /// `ConfigSave`.
    Save,
    /// `Subscribe` to events.
    Subscribe,
    /// `Hello` (a new client, or the same one's next command).
    Hello,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (11u8..=26).prop_map(Op::Change),
        Just(Op::Break),
        Just(Op::Repair),
        Just(Op::Save),
        Just(Op::Subscribe),
        Just(Op::Hello),
    ]
}

/// The shell: what `sixgate-sim` and the board do around the server.
struct Shell {
    app: App<'static>,
    radio: ScriptedRadio<16>,
    server: Box<MgmtServer<4096>>,
    store_ok: bool,
    stored: Option<Config>,
    dec: FrameDecoder,
    next_id: u16,
}

impl Shell {
    fn new() -> Shell {
        let res: &'static mut AppResources = Box::leak(Box::new(AppResources::new()));
        let mut radio = ScriptedRadio::default();
        let app = App::new(Config::default(), res, Instant::ZERO, &mut radio).unwrap();
        Shell {
            app,
            radio,
            server: Box::new(MgmtServer::new("test")),
            store_ok: true,
            // What the first boot stored.
            stored: Some(Config::default()),
            dec: FrameDecoder::new(),
            next_id: 1,
        }
    }

    fn write(&mut self) -> Option<&'static str> {
        if self.store_ok {
            self.stored = Some(self.app.config().clone());
            self.app.config_saved();
            None
        } else {
            Some("broken")
        }
    }

    /// Sends `r`; returns its id and every (header, response debug text) that came back.
    fn request(&mut self, r: &Request<'_>) -> (u16, Vec<(u16, std::string::String)>) {
        let id = self.next_id;
        self.next_id += 1;
        let mut buf = [0u8; MAX_FRAME];
        let n = mgmt::encode(Header::new(Kind::Request, id), r, &mut buf).unwrap();
        let now = Instant::ZERO;
        let taken = self
            .server
            .receive(&buf[..n], &mut self.app, now, &mut self.radio);
        assert_eq!(taken, n, "the request was taken");
        self.server.poll(&mut self.app, now, &mut self.radio);
        match self.server.take_action() {
            Some(Action::SaveConfig) => {
                let failure = self.write();
                self.server.action_done(failure);
            }
            Some(a) => panic!("unexpected action {a:?}"),
            None => {}
        }
        // The shell's automatic save after a change.
        if self.app.take_dirty_config().is_some() {
            let _ = self.write();
        }
        let mut out = Vec::new();
        let mut rest = self.server.pending();
        while !rest.is_empty() {
            let (k, f) = self.dec.feed(rest);
            rest = &rest[k..];
            if let Some(Ok(p)) = f {
                let (h, m) = mgmt::decode(p).unwrap();
                if let Message::Response(r) = m.unwrap() {
                    out.push((h.id, std::format!("{r:?}")));
                }
            }
        }
        let k = self.server.pending().len();
        self.server.consumed(k);
        (id, out)
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn saves_are_answered_with_their_outcome_and_sessions_end_loudly(
        ops in proptest::collection::vec(op(), 1..24)
    ) {
        let mut sh = Shell::new();
        let hello = Request::Hello {
            version: mgmt::PROTOCOL_VERSION,
            schema: mgmt::SCHEMA_FINGERPRINT,
            client: "test",
        };
        sh.request(&hello);
        // The model: unsaved changes, a subscription running.
        let mut dirty = false;
        let mut subscribed = false;
        let (mut failed_saves, mut takeovers) = (0u64, 0u64);
        for op in ops {
            let (id, answers) = match op {
                Op::Break => {
                    sh.store_ok = false;
                    continue;
                }
                Op::Repair => {
                    sh.store_ok = true;
                    continue;
                }
                Op::Change(ch) => {
                    // Saved at once unless the store is broken; a failed automatic save is
                    // not retried.
                    dirty = !sh.store_ok;
                    sh.request(&Request::IfaceSet {
                        iface: "wpan0",
                        setting: IfaceSetting::Channel(ch),
                    })
                }
                Op::Save => {
                    let r = sh.request(&Request::ConfigSave);
                    let want = if sh.store_ok { "Ok" } else { "Error" };
                    let got: Vec<_> = r.1.iter().filter(|(i, _)| *i == r.0).collect();
                    prop_assert_eq!(got.len(), 1, "answered once: {:?}", r.1);
                    prop_assert!(got[0].1.starts_with(want), "{:?}", got);
                    if sh.store_ok {
                        dirty = false;
                    } else {
                        failed_saves += 1;
                    }
                    r
                }
                Op::Subscribe => {
                    subscribed = true;
                    sh.request(&Request::Subscribe { events: true, logs: false })
                }
                Op::Hello => {
                    let r = sh.request(&hello);
                    let ids: Vec<u16> = r.1.iter().map(|(i, _)| *i).collect();
                    if subscribed {
                        takeovers += 1;
                        prop_assert_eq!(&ids, &[0, r.0], "{:?}", r.1);
                        prop_assert!(r.1[0].1.contains(TAKEN_OVER), "{:?}", r.1);
                    } else {
                        prop_assert_eq!(&ids, &[r.0], "{:?}", r.1);
                    }
                    subscribed = false;
                    r
                }
            };
            prop_assert!(answers.iter().any(|(i, _)| *i == id), "{:?}: {:?}", op, answers);
            prop_assert_eq!(sh.app.config_dirty(), dirty, "after {:?}", op);
            if !dirty {
                prop_assert_eq!(sh.stored.as_ref(), Some(sh.app.config()));
            }
        }
        let stats = sh.server.stats();
        prop_assert_eq!(stats.store_failures, failed_saves);
        prop_assert_eq!(stats.sessions_taken_over, takeovers);
    }
}
