//! Who hears whom, and how well: a directed link matrix with per-link RSSI, LQI and loss
//! probability, built explicitly or from node positions through a log-distance path-loss
//! model, plus the presets the tests and benches use (star, line, grid, seeded random).

use crate::rng::SimRng;

/// One direction of a radio link.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Link {
    /// Received signal strength at the receiver, dBm.
    pub rssi_dbm: i8,
    /// Link quality indication reported with each frame.
    pub lqi: u8,
    /// Probability that a frame which did not collide is still lost (0.0..=1.0).
    pub loss: f64,
}

impl Link {
    /// A link with `rssi_dbm`, the LQI derived from it ([`lqi_from_rssi`]) and `loss`.
    pub fn new(rssi_dbm: i8, loss: f64) -> Self {
        Link {
            rssi_dbm,
            lqi: lqi_from_rssi(rssi_dbm),
            loss,
        }
    }

    /// A strong, lossless link (−50 dBm).
    pub fn good() -> Self {
        Link::new(-50, 0.0)
    }
}

/// A plausible LQI for an RSSI: 0 at −100 dBm rising linearly to 255 at −40 dBm.
pub fn lqi_from_rssi(rssi_dbm: i8) -> u8 {
    let x = (i32::from(rssi_dbm) + 100).clamp(0, 60);
    (x * 255 / 60) as u8
}

/// Log-distance path loss: `rssi = tx_power − (pl_d0 + 10·n·log10(d/d0))`, links below
/// `sensitivity_dbm` absent, and a loss probability that falls linearly from
/// `edge_loss` at the sensitivity to 0 at `sensitivity_dbm + fade_margin_db`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PathLoss {
    /// Transmit power, dBm.
    pub tx_power_dbm: f64,
    /// Path loss at the reference distance `d0`, dB.
    pub pl_d0_db: f64,
    /// Reference distance, metres.
    pub d0_m: f64,
    /// Path-loss exponent.
    pub exponent: f64,
    /// Weakest signal that still forms a link, dBm.
    pub sensitivity_dbm: f64,
    /// Margin above the sensitivity at which the link becomes lossless, dB.
    pub fade_margin_db: f64,
    /// Loss probability right at the sensitivity.
    pub edge_loss: f64,
}

impl Default for PathLoss {
    fn default() -> Self {
        // 2.4 GHz indoors: 40 dB at 1 m, exponent 3.
        PathLoss {
            tx_power_dbm: 0.0,
            pl_d0_db: 40.0,
            d0_m: 1.0,
            exponent: 3.0,
            sensitivity_dbm: -95.0,
            fade_margin_db: 10.0,
            edge_loss: 0.5,
        }
    }
}

impl PathLoss {
    /// The link over `distance_m`, or `None` when it is below the sensitivity.
    pub fn link(&self, distance_m: f64) -> Option<Link> {
        let d = distance_m.max(self.d0_m);
        let rssi =
            self.tx_power_dbm - (self.pl_d0_db + 10.0 * self.exponent * (d / self.d0_m).log10());
        if !rssi.is_finite() || rssi < self.sensitivity_dbm {
            return None;
        }
        let margin = rssi - self.sensitivity_dbm;
        let loss = if self.fade_margin_db <= 0.0 || margin >= self.fade_margin_db {
            0.0
        } else {
            self.edge_loss * (1.0 - margin / self.fade_margin_db)
        };
        let rssi = rssi.round().clamp(-128.0, 127.0) as i8;
        Some(Link::new(rssi, loss.clamp(0.0, 1.0)))
    }
}

/// A directed link matrix over `n` radios (index = attach order).
#[derive(Debug, Clone, PartialEq)]
pub struct Topology {
    links: Vec<Vec<Option<Link>>>,
    positions: Option<Vec<(f64, f64)>>,
}

impl Topology {
    /// `n` radios, nobody hears anybody.
    pub fn new(n: usize) -> Self {
        Topology {
            links: vec![vec![None; n]; n],
            positions: None,
        }
    }

    /// Every radio hears every other with `link`.
    pub fn full_mesh(n: usize, link: Link) -> Self {
        let mut t = Topology::new(n);
        for a in 0..n {
            for b in 0..n {
                if a != b {
                    t.set(a, b, Some(link));
                }
            }
        }
        t
    }

    /// Star: radio 0 (the border router) and every leaf hear each other; leaves do not hear
    /// each other (every pair of leaves is a hidden-terminal pair).
    pub fn star(n: usize, link: Link) -> Self {
        let mut t = Topology::new(n);
        for leaf in 1..n {
            t.connect(0, leaf, link);
        }
        t
    }

    /// Line: `i` hears `i − 1` and `i + 1`.
    pub fn line(n: usize, link: Link) -> Self {
        let mut t = Topology::new(n);
        for i in 1..n {
            t.connect(i - 1, i, link);
        }
        t
    }

    /// `w × h` grid, row-major, 4-neighbour links.
    pub fn grid(w: usize, h: usize, link: Link) -> Self {
        let mut t = Topology::new(w * h);
        for y in 0..h {
            for x in 0..w {
                let i = y * w + x;
                if x + 1 < w {
                    t.connect(i, i + 1, link);
                }
                if y + 1 < h {
                    t.connect(i, i + w, link);
                }
            }
        }
        t
    }

    /// Links from positions (metres) through `model`; symmetric.
    pub fn from_positions(positions: &[(f64, f64)], model: &PathLoss) -> Self {
        let n = positions.len();
        let mut t = Topology::new(n);
        for (a, pa) in positions.iter().enumerate() {
            for (b, pb) in positions.iter().enumerate() {
                if a != b {
                    let d = ((pa.0 - pb.0).powi(2) + (pa.1 - pb.1).powi(2)).sqrt();
                    t.set(a, b, model.link(d));
                }
            }
        }
        t.positions = Some(positions.to_vec());
        t
    }

    /// `n` radios placed uniformly at random (seeded) in a `side_m × side_m` square, radio 0
    /// in the centre, links through `model`.
    pub fn random(n: usize, side_m: f64, seed: u64, model: &PathLoss) -> Self {
        let mut rng = SimRng::new(seed);
        let pos: Vec<(f64, f64)> = (0..n)
            .map(|i| {
                if i == 0 {
                    (side_m / 2.0, side_m / 2.0)
                } else {
                    (rng.unit() * side_m, rng.unit() * side_m)
                }
            })
            .collect();
        Topology::from_positions(&pos, model)
    }

    /// Number of radios.
    pub fn len(&self) -> usize {
        self.links.len()
    }

    /// No radios.
    pub fn is_empty(&self) -> bool {
        self.links.is_empty()
    }

    /// Positions, when built from them.
    pub fn positions(&self) -> Option<&[(f64, f64)]> {
        self.positions.as_deref()
    }

    /// Grows the matrix to `n` radios (new radios hear nobody).
    pub fn resize(&mut self, n: usize) {
        if n > self.links.len() {
            for row in &mut self.links {
                row.resize(n, None);
            }
            self.links.resize(n, vec![None; n]);
        }
    }

    /// The link `from → to`.
    pub fn link(&self, from: usize, to: usize) -> Option<Link> {
        self.links
            .get(from)
            .and_then(|r| r.get(to))
            .copied()
            .flatten()
    }

    /// Sets the link `from → to` (growing the matrix if needed); `from == to` is ignored.
    pub fn set(&mut self, from: usize, to: usize, link: Option<Link>) {
        if from == to {
            return;
        }
        self.resize(from.max(to) + 1);
        if let Some(slot) = self.links.get_mut(from).and_then(|r| r.get_mut(to)) {
            *slot = link;
        }
    }

    /// Sets both directions between `a` and `b`.
    pub fn connect(&mut self, a: usize, b: usize, link: Link) {
        self.set(a, b, Some(link));
        self.set(b, a, Some(link));
    }

    /// Sets the loss probability of every existing link.
    pub fn set_loss_all(&mut self, loss: f64) {
        for l in self.links.iter_mut().flatten().flatten() {
            l.loss = loss;
        }
    }

    /// Whether every radio can reach radio 0 over some multi-hop path.
    pub fn is_connected_to(&self, root: usize) -> bool {
        let n = self.len();
        let mut seen = vec![false; n];
        let mut stack = vec![root];
        if let Some(s) = seen.get_mut(root) {
            *s = true;
        }
        while let Some(a) = stack.pop() {
            for (b, s) in seen.iter_mut().enumerate() {
                if !*s && self.link(a, b).is_some() {
                    *s = true;
                    stack.push(b);
                }
            }
        }
        seen.iter().all(|s| *s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_have_the_expected_links() {
        let s = Topology::star(4, Link::good());
        assert!(s.link(0, 3).is_some() && s.link(3, 0).is_some());
        assert!(s.link(1, 2).is_none());
        let l = Topology::line(3, Link::good());
        assert!(l.link(0, 1).is_some() && l.link(0, 2).is_none());
        let g = Topology::grid(3, 2, Link::good());
        assert!(g.link(0, 1).is_some() && g.link(0, 3).is_some() && g.link(0, 4).is_none());
        assert!(g.is_connected_to(0));
    }

    #[test]
    fn path_loss_decreases_with_distance_and_cuts_off() {
        let m = PathLoss::default();
        let near = m.link(2.0).unwrap();
        let far = m.link(40.0).unwrap();
        assert!(near.rssi_dbm > far.rssi_dbm && near.lqi >= far.lqi);
        assert_eq!(near.loss, 0.0);
        assert!(m.link(1000.0).is_none());
        let a = Topology::random(10, 60.0, 7, &m);
        assert_eq!(a, Topology::random(10, 60.0, 7, &m));
        assert_ne!(a, Topology::random(10, 60.0, 8, &m));
    }
}
