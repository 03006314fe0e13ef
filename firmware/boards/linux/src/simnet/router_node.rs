//! A sixgate mesh router (the firmware application in its router role, issue 23) as a
//! simulator node: `wpan0` on a simulated radio, no Ethernet (its driver's link is down).

use ethernet::driver::NullDriver;
use firmware::app::{App, AppResources};
use firmware::config::Config;
use firmware::store::{CounterStore, MemCounterStore};
use netif::Instant;
use sim::{RadioId, SimEvent, SimNode, SimRadio};

/// One of our mesh routers.
pub struct RouterNode {
    radio: RadioId,
    cfg: Config,
    app: Option<App<'static>>,
    /// Ethernet with no cable (link down).
    eth: NullDriver,
    boots: u32,
    /// The security counter record: the router's flash, kept across reboots.
    counter: MemCounterStore,
}

impl std::fmt::Debug for RouterNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RouterNode")
            .field("radio", &self.radio)
            .field("eui64", &self.cfg.eui64)
            .field("boots", &self.boots)
            .finish_non_exhaustive()
    }
}

/// Storage of one boot, leaked (a reboot builds the application afresh, see `BrNode`).
fn resources() -> &'static mut AppResources {
    Box::leak(Box::new(AppResources::new()))
}

impl RouterNode {
    /// Boot a router with `cfg` (the border router's, with the router's own EUI-64, short
    /// address and Ethernet MAC) on `radio`.
    pub fn new(radio: RadioId, r: &mut SimRadio<'_>, cfg: Config) -> Result<Self, String> {
        let now = r.medium().now();
        let mut app =
            App::new_router(cfg.clone(), resources(), now, r).map_err(|e| e.to_string())?;
        // smoltcp leaves only take explicit context IDs (as the border router sends them).
        app.set_explicit_context_id(true);
        super::start_security(&mut app, None);
        let mut counter = MemCounterStore::default();
        super::persist_security(&mut app, |c| {
            counter.save_counter(c).map_err(|e| match e {})
        })?;
        Ok(RouterNode {
            radio,
            eth: NullDriver {
                mac: cfg.eth_mac,
                link: false,
            },
            cfg,
            app: Some(app),
            boots: 1,
            counter,
        })
    }

    /// The application (`None` only between a failed reboot and the next).
    pub fn app(&self) -> Option<&App<'static>> {
        self.app.as_ref()
    }

    /// The application, to change (`None` only between a failed reboot and the next).
    pub fn app_mut(&mut self) -> Option<&mut App<'static>> {
        self.app.as_mut()
    }

    /// Boots so far (1 + reboots, power cycles included).
    pub fn boots(&self) -> u32 {
        self.boots
    }
}

impl SimNode for RouterNode {
    fn radio_id(&self) -> RadioId {
        self.radio
    }

    fn on_radio_event(&mut self, now: Instant, ev: &SimEvent, radio: &mut SimRadio<'_>) {
        if let Some(app) = self.app.as_mut() {
            app.on_radio_event(now, ev.as_radio_event(), radio);
        }
    }

    fn poll(&mut self, now: Instant, radio: &mut SimRadio<'_>) {
        if let Some(app) = self.app.as_mut() {
            app.poll(now, radio, &mut self.eth);
            let counter = &mut self.counter;
            let _ =
                super::persist_security(app, |c| counter.save_counter(c).map_err(|e| match e {}));
        }
    }

    fn next_wake(&self) -> Option<Instant> {
        self.app.as_ref().and_then(|a| a.next_deadline())
    }

    fn reboot(&mut self, now: Instant, radio: &mut SimRadio<'_>) {
        self.app = None;
        self.app = App::new_router(self.cfg.clone(), resources(), now, radio).ok();
        let stored = self.counter.0;
        if let Some(a) = self.app.as_mut() {
            a.set_explicit_context_id(true);
            super::start_security(a, stored);
            let counter = &mut self.counter;
            let _ = super::persist_security(a, |c| counter.save_counter(c).map_err(|e| match e {}));
        }
        self.boots += 1;
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn std::any::Any {
        self
    }
}
