//! The border router as a simulator node ([`BrNode`]): the application over a simulated radio,
//! its backbone side ([`EthSide`]), where it keeps its configuration and security counter
//! ([`Store`]), its capture recording, and a simulated reboot.

use super::*;

/// Where the border router keeps its configuration.
#[derive(Debug)]
pub enum Store {
    /// A file (`--config FILE`).
    File(FileStore),
    /// Memory (survives a simulated reboot, not the process), with the security counter
    /// record beside it.
    Mem(Box<MemStore>, MemCounterStore),
}

impl Store {
    /// The stored configuration (or `fallback`), why, and the operator's routes and addresses.
    pub(super) fn load(&mut self, fallback: Config) -> (Config, String, OperatorState) {
        let (c, o, op) = match self {
            Store::File(s) => load_state(s, fallback),
            Store::Mem(s, _) => load_state(s.as_mut(), fallback),
        };
        let why = match o {
            LoadOutcome::Loaded => "loaded".to_string(),
            other => format!("{other:?}"),
        };
        (c, why, op)
    }
    pub(super) fn save(&mut self, cfg: &Config, op: &OperatorState) -> Result<(), String> {
        match self {
            Store::File(s) => save_state(s, cfg, op).map_err(|e| save_error(&e)),
            Store::Mem(s, _) => save_state(s.as_mut(), cfg, op).map_err(|e| save_error(&e)),
        }
    }
    /// The running configuration and operator state of `app`; `app` is then saved.
    fn save_app(&mut self, app: &mut App<'_>) -> Result<(), String> {
        match self {
            Store::File(s) => app.save(s).map_err(|e| save_error(&e)),
            Store::Mem(s, _) => app.save(s.as_mut()).map_err(|e| save_error(&e)),
        }
    }
    fn erase(&mut self) -> Result<(), String> {
        match self {
            Store::File(s) => s.erase().map_err(|e| e.to_string()),
            Store::Mem(s, _) => s.erase().map_err(|e| e.to_string()),
        }
    }
    /// The link-layer security counter record (`None` when there is none, or it is unreadable:
    /// then the counter starts afresh, which a neighbour that remembers us refuses as replays
    /// until it passes what it saw — logged).
    fn load_counter(&mut self) -> Option<SecurityCounter> {
        let r = match self {
            Store::File(s) => s.load_counter().map_err(|e| e.to_string()),
            Store::Mem(_, c) => c.load_counter().map_err(|e| match e {}),
        };
        r.unwrap_or_else(|e| {
            log::warn!("security counter record unreadable: {e}");
            None
        })
    }
    fn save_counter(&mut self, c: SecurityCounter) -> Result<(), String> {
        match self {
            Store::File(s) => s.save_counter(c).map_err(|e| e.to_string()),
            Store::Mem(_, m) => m.save_counter(c).map_err(|e| match e {}),
        }
    }
}

/// Starts link-layer security on a simulated node's application: software AES, and the
/// counter record `stored`.
pub(crate) fn start_security(app: &mut App<'_>, stored: Option<SecurityCounter>) {
    app.start_security(stored, firmware::wpan::WpanCipher::soft);
}

/// Writes what the application's security asks to persist to `save`, and confirms it.
pub(crate) fn persist_security(
    app: &mut App<'_>,
    mut save: impl FnMut(SecurityCounter) -> Result<(), String>,
) -> Result<(), String> {
    if let Some(c) = app.take_security_persist() {
        save(c)?;
        app.security_persisted(c);
    }
    Ok(())
}

/// What failed, for the operator: the store's own words (not its `Debug` form).
fn save_error<E: std::fmt::Debug + std::fmt::Display>(e: &firmware::store::SaveError<E>) -> String {
    match e {
        firmware::store::SaveError::Store(e) => e.to_string(),
        other => other.to_string(),
    }
}

/// The backbone side of the border router.
pub enum EthSide {
    /// The simulated cable and host.
    Sim {
        /// The cable.
        link: EthLink,
        /// Our end.
        port: EthPort,
        /// The host on the other end.
        host: Box<BackboneHost>,
    },
    /// A Linux TAP device.
    Tap(ethernet::tap::Tap),
}

/// The border router as a simulator node.
pub struct BrNode {
    radio: RadioId,
    app: Option<App<'static>>,
    eth: EthSide,
    store: Store,
    fallback: Config,
    boots: u32,
    load_outcome: String,
    pcap: Option<PcapngWriter<BufWriter<File>>>,
    /// Added to simulated time in the recording: the wall clock at the start, µs since 1970.
    pcap_epoch_us: u64,
    pcap_error: Option<String>,
    save_errors: u64,
    now: Instant,
    /// Mixed into the key of the AP-ND challenge nonces at every boot.
    entropy: [u8; 32],
}

impl std::fmt::Debug for BrNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BrNode")
            .field("radio", &self.radio)
            .field("boots", &self.boots)
            .finish_non_exhaustive()
    }
}

/// Storage of one boot. Leaked: a simulated reboot builds the application afresh over new
/// storage (about 70 KiB per boot), as the hardware reuses its static RAM.
fn resources() -> &'static mut AppResources {
    Box::leak(Box::new(AppResources::new()))
}

impl BrNode {
    /// Boot the border router on `radio`: the stored configuration if there is a valid one,
    /// else `fallback` (which is then stored).
    pub fn new(
        radio: RadioId,
        r: &mut SimRadio<'_>,
        fallback: Config,
        mut store: Store,
        eth: EthSide,
        entropy: [u8; 32],
    ) -> Result<Self, String> {
        let now = r.medium().now();
        let (cfg, why, op) = store.load(fallback.clone());
        if why != "loaded" {
            store.save(&cfg, &op)?;
        }
        let mut app = App::new(cfg, resources(), now, r).map_err(|e| e.to_string())?;
        start_security(&mut app, store.load_counter());
        persist_security(&mut app, |c| store.save_counter(c))?;
        app.seed_nonces(&entropy);
        app.set_explicit_context_id(true);
        app.restore_operator_state(now, &op);
        Ok(BrNode {
            radio,
            app: Some(app),
            eth,
            store,
            fallback,
            boots: 1,
            load_outcome: why,
            pcap: None,
            pcap_epoch_us: 0,
            pcap_error: None,
            save_errors: 0,
            now,
            entropy,
        })
    }

    /// Record both interfaces into `path` (pcapng: wpan0 as LINKTYPE_IEEE802_15_4_TAP with
    /// channel, RSSI and LQI, eth0 as Ethernet), written by `application` (`shb_userappl`),
    /// timestamped `epoch_us` (microseconds since 1970: the wall clock at the start of the
    /// run) plus simulated time.
    pub fn record_to(&mut self, path: PathBuf, application: &str, epoch_us: u64) -> io::Result<()> {
        let f = BufWriter::new(File::create(&path)?);
        self.pcap_epoch_us = epoch_us;
        let w = PcapngWriter::with_application(
            f,
            application,
            &[
                InterfaceDesc {
                    linktype: LINKTYPE_IEEE802_15_4_TAP,
                    name: "wpan0".into(),
                    snaplen: 0,
                },
                InterfaceDesc {
                    linktype: LINKTYPE_ETHERNET,
                    name: "eth0".into(),
                    snaplen: 0,
                },
            ],
        )?;
        self.pcap = Some(w);
        if let Some(app) = self.app.as_mut() {
            app.capture_mut().start(CaptureFilter {
                wpan0: true,
                eth0: true,
                promiscuous: false,
                snaplen: 2048,
            });
        }
        Ok(())
    }

    /// Write the interface statistics blocks (capture drops) and close the recording.
    pub fn finish_recording(&mut self) -> io::Result<()> {
        self.drain_capture();
        if let Some(mut w) = self.pcap.take() {
            let drops = self.app.as_ref().map_or(0, |a| a.capture().stats().dropped);
            let epoch = self.pcap_epoch_us;
            let end = self.now.as_micros().saturating_add(epoch);
            let (rx_w, rx_e) = self.app.as_ref().map_or((0, 0), |a| {
                let w = a.iface_stats(a.wpan_index()).unwrap_or_default();
                let e = a.iface_stats(a.eth_index()).unwrap_or_default();
                (u64::from(w.rx_packets), u64::from(e.rx_packets))
            });
            w.write_stats(0, epoch, end, rx_w, drops)?;
            w.write_stats(1, epoch, end, rx_e, drops)?;
            w.finish()?;
        }
        match self.pcap_error.take() {
            Some(e) => Err(io::Error::other(e)),
            None => Ok(()),
        }
    }

    fn drain_capture(&mut self) {
        let (Some(app), Some(w)) = (self.app.as_mut(), self.pcap.as_mut()) else {
            return;
        };
        let mut buf = [0u8; 2048];
        let epoch = self.pcap_epoch_us;
        while let Some((meta, n)) = app.capture_mut().pop(&mut buf) {
            let data = buf.get(..n).unwrap_or(&[]);
            let ts = meta.timestamp_us.saturating_add(epoch);
            let r = match meta.iface {
                CaptureIface::Wpan0 => {
                    let info = TapInfo {
                        channel: meta.channel,
                        rssi_dbm: (meta.direction != Direction::Tx).then_some(meta.rssi),
                        lqi: (meta.direction != Direction::Tx).then_some(meta.lqi),
                        start_us: ts.saturating_sub(u64::from(meta.orig_len + 6) * 32),
                        end_us: ts,
                    };
                    w.write_15_4(0, data, &info)
                }
                CaptureIface::Eth0 => w.write_packet(1, ts, data),
            };
            if let Err(e) = r {
                self.pcap_error.get_or_insert(e.to_string());
            }
        }
    }

    /// The running application (`None` only while rebooting).
    pub fn app(&self) -> Option<&App<'static>> {
        self.app.as_ref()
    }
    /// The running application, mutably.
    pub fn app_mut(&mut self) -> Option<&mut App<'static>> {
        self.app.as_mut()
    }
    /// The backbone side.
    pub fn eth(&self) -> &EthSide {
        &self.eth
    }
    /// The backbone host, when simulated.
    pub fn host(&self) -> Option<&BackboneHost> {
        match &self.eth {
            EthSide::Sim { host, .. } => Some(host),
            EthSide::Tap(_) => None,
        }
    }
    /// The backbone host, mutably.
    pub fn host_mut(&mut self) -> Option<&mut BackboneHost> {
        match &mut self.eth {
            EthSide::Sim { host, .. } => Some(host),
            EthSide::Tap(_) => None,
        }
    }
    /// Boots so far (1 + reboots).
    pub fn boots(&self) -> u32 {
        self.boots
    }
    /// What the last boot found in the store (`loaded`, or why it fell back).
    pub fn load_outcome(&self) -> &str {
        &self.load_outcome
    }
    /// Configuration saves that failed.
    pub fn save_errors(&self) -> u64 {
        self.save_errors
    }
    /// Forget the stored configuration (the next boot uses the fallback); `Err` says why
    /// the store failed.
    pub fn erase_config(&mut self) -> Result<(), String> {
        self.store.erase()?;
        // What runs is no longer stored.
        if let Some(app) = self.app.as_mut() {
            app.config_erased();
        }
        Ok(())
    }
    /// Persist the running configuration now; `Err` says why the store failed (the
    /// configuration then stays marked unsaved).
    pub fn save_config(&mut self) -> Result<(), String> {
        let Some(app) = self.app.as_mut() else {
            return Err("the border router is not running".into());
        };
        let r = self.store.save_app(app);
        if r.is_err() {
            self.save_errors += 1;
        }
        r
    }
    /// Whether `--capture` is recording the capture ring to a file.
    pub fn is_recording(&self) -> bool {
        self.pcap.is_some()
    }

    fn persist(&mut self) {
        let Some(app) = self.app.as_mut() else { return };
        if app.take_dirty_config().is_some() && self.store.save_app(app).is_err() {
            self.save_errors += 1;
        }
        let store = &mut self.store;
        if persist_security(app, |c| store.save_counter(c)).is_err() {
            self.save_errors += 1;
        }
    }

    fn run(&mut self, now: Instant, radio: &mut SimRadio<'_>) {
        let Some(app) = self.app.as_mut() else { return };
        match &mut self.eth {
            EthSide::Sim { link, port, host } => {
                link.advance_to(now);
                host.poll(now);
                app.poll(now, radio, port);
                host.poll(now);
            }
            EthSide::Tap(t) => app.poll(now, radio, t),
        }
        self.persist();
        self.drain_capture();
    }
}

impl SimNode for BrNode {
    fn radio_id(&self) -> RadioId {
        self.radio
    }

    fn on_radio_event(&mut self, now: Instant, ev: &SimEvent, radio: &mut SimRadio<'_>) {
        self.now = now;
        if let Some(app) = self.app.as_mut() {
            app.on_radio_event(now, ev.as_radio_event(), radio);
        }
        self.drain_capture();
    }

    fn poll(&mut self, now: Instant, radio: &mut SimRadio<'_>) {
        self.now = now;
        self.run(now, radio);
    }

    fn next_wake(&self) -> Option<Instant> {
        let mut t = self.app.as_ref().and_then(|a| a.next_deadline());
        let mut take = |x: Option<Instant>| {
            if let Some(x) = x {
                t = Some(t.map_or(x, |y: Instant| y.min(x)));
            }
        };
        match &self.eth {
            EthSide::Sim { link, host, .. } => {
                take(host.next_wake());
                take(link.next_delivery(End::A));
            }
            // Frames arrive from the kernel at any time: look every millisecond.
            EthSide::Tap(_) => take(Some(self.now + Duration::from_millis(1))),
        }
        t
    }

    fn reboot(&mut self, now: Instant, radio: &mut SimRadio<'_>) {
        self.now = now;
        self.persist();
        self.app = None;
        let (cfg, why, op) = self.store.load(self.fallback.clone());
        self.load_outcome = why;
        self.app = App::new(cfg, resources(), now, radio).ok();
        let stored = self.store.load_counter();
        if let Some(a) = self.app.as_mut() {
            start_security(a, stored);
            let store = &mut self.store;
            if persist_security(a, |c| store.save_counter(c)).is_err() {
                self.save_errors += 1;
            }
            a.seed_nonces(&self.entropy);
            a.seed_nonces(&self.boots.to_le_bytes());
            a.set_explicit_context_id(true);
            a.restore_operator_state(now, &op);
        }
        self.boots += 1;
        if self.pcap.is_some()
            && let Some(app) = self.app.as_mut()
        {
            app.capture_mut().start(CaptureFilter {
                wpan0: true,
                eth0: true,
                promiscuous: false,
                snaplen: 2048,
            });
        }
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn std::any::Any {
        self
    }
}
