//! One input of `router_frames` (see the target's documentation), shared with the seed
//! generator (`seeds/router_frames.rs`), which writes inputs in this format and replays them.

use firmware::app::{App, AppResources};
use firmware::config::Config;
use netif::Instant;

use crate::common::{Input, MAX_OPS};
use crate::drivers::FuzzRadio;
use crate::harness::Harness;

/// Operation tag of a PSDU (with `arg` bit 0, high nibble 1: as received, FCS included).
pub(crate) const OP_PSDU: u8 = 0;
/// Operation tag of a time step.
pub(crate) const OP_ADVANCE: u8 = 7;

/// The EUI-64 of mesh router `k` (from 1), as `sixgate-sim` numbers its routers
/// (`simnet::router_eui64`).
pub(crate) fn router_eui(k: u8) -> [u8; 8] {
    [0x02, 0x00, 0x5e, 0xff, 0xfe, 0x00, 0x10, k]
}

/// Mesh router `k`'s configuration: the border router's defaults (channel, PAN ID, mesh
/// prefix, RPL) with its own EUI-64 and Ethernet MAC and no short address, as `sixgate-sim`
/// configures its routers (`simnet::router_config`).
pub(crate) fn router_config(k: u8) -> Config {
    Config {
        short_address: 0xfffe,
        ..Config::default_for(router_eui(k))
    }
}

/// Mesh router 1 fed `data`; `inspect` sees the harness after the last operation (before the
/// final drain).
pub(crate) fn run(data: &[u8], inspect: impl FnOnce(&Harness<'_>)) {
    let mut inp = Input(data);
    let setup = inp.byte();
    let mut res: Box<AppResources> = Box::default();
    let mut radio = FuzzRadio::new();
    let app = App::new_router(router_config(1), &mut res, Instant::ZERO, &mut radio)
        .expect("the router's config starts");
    // A mesh router's Ethernet has no cable.
    let mut h = Harness::start(app, radio, false, setup);

    let mut ops = 0;
    while !inp.is_empty() && ops < MAX_OPS {
        ops += 1;
        let tag = inp.byte();
        let arg = tag >> 4;
        match tag & 0x0f {
            OP_PSDU..=3 => h.radio_psdu(arg, &mut inp),
            4 => h.radio_data(&mut inp),
            5 | 6 => h.radio_datagram(arg, &mut inp),
            OP_ADVANCE | 8 | 9 => h.advance(&mut inp),
            10 => h.air(arg),
            11 => h.config_change(arg, &mut inp),
            12 => h.ping(&mut inp),
            13 => h.capture_pop(arg),
            _ => {}
        }
        h.settle();
        h.check();
    }
    inspect(&h);
    h.drain();
}
