//! Both far ends together, and the order in which the board (and the tests) drive them with
//! the application.

use firmware::app::App;
use netif::Instant;

use crate::backbone::Backbone;
use crate::mesh::{Mesh, MeshRadio};

/// The mesh nodes and the backbone host.
pub struct FarEnds {
    /// The mesh side (owns the radio the application drives).
    pub mesh: Mesh,
    /// The backbone side (the application's Ethernet driver).
    pub backbone: Backbone,
}

impl FarEnds {
    /// Far ends starting at `now`, cabled to a router whose `eth0` has `router_mac`.
    pub fn new(router_mac: [u8; 6], now: Instant) -> Self {
        FarEnds {
            mesh: Mesh::new(now),
            backbone: Backbone::new(router_mac, now),
        }
    }

    /// The radio, for [`App::new`].
    pub fn radio(&mut self) -> &mut MeshRadio {
        self.mesh.radio()
    }

    /// One turn at `now`: radio events and the nodes' frames (each stamped with its own
    /// instant), the host's RA, then the application's poll (Ethernet input, timers, output),
    /// then the radio again for what the poll sent.
    pub fn step(&mut self, now: Instant, app: &mut App<'_>) {
        self.mesh.pump(now, app);
        self.backbone.pump(now);
        app.poll(now, self.mesh.radio(), &mut self.backbone);
        self.mesh.pump(now, app);
    }

    /// When [`FarEnds::step`] must run next: the application's deadline or a far end's.
    pub fn next_deadline(&self, app: &App<'_>) -> Instant {
        let mut t = self.backbone.next_deadline();
        for d in [app.next_deadline(), self.mesh.next_deadline()]
            .into_iter()
            .flatten()
        {
            t = t.min(d);
        }
        if self.backbone.has_rx() {
            t = t.min(app.now());
        }
        t
    }
}
