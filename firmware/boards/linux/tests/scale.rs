//! Scale in simulation (seeded): the border router with a 50-node mesh (smoltcp nodes over our
//! soft-MAC, star topology, readings every 10 s with replies) for five simulated minutes, for
//! each of five seeds. Every node registers or is gleaned and gets its readings through (at
//! least 99.5 % of readings and of replies per seed); the border router stays
//! within its configured capacities: the registration table (256 entries) holds one entry per
//! node and never more, the packet pool is full again once traffic stops, reassembly slots are
//! released, and nothing was dropped for lack of a buffer. The 256-entry table full case is in
//! `tests/lbr.rs` (`full_table_answers_status_2`); forwarding cost against the number of
//! registrations is measured by `cargo bench -p firmware --bench registry` (see
//! `docs/performance.md`).

use std::net::Ipv6Addr;

use firmware::registry::DEFAULT_REGISTRATIONS;
use netif::{Duration, Instant};
use sixgate_sim::simnet::{TopologyKind, World, WorldOpts};

const NODES: usize = 50;

fn global(w: &World, k: usize) -> Ipv6Addr {
    w.node(k)
        .unwrap()
        .addresses()
        .into_iter()
        .find(|a| !a.is_unicast_link_local())
        .unwrap_or_else(|| panic!("node {k} has no global address"))
}

/// Seeds of the delivery figure (issue 20: at least 99.5 % of readings and of replies in
/// each).
const SEEDS: [u64; 5] = [11, 12, 13, 14, 15];

#[test]
fn fifty_node_mesh_stays_within_capacities() {
    let (mut all_sent, mut all_got, mut all_replies) = (0u64, 0u64, 0u64);
    for seed in SEEDS {
        let (sent, got, replies) = fifty_nodes(seed);
        all_sent += sent;
        all_got += got;
        all_replies += replies;
    }
    println!(
        "scale: {NODES} nodes x {} seeds: {all_got} of {all_sent} readings delivered ({:.2} %), \
         {all_replies} replies received ({:.2} %)",
        SEEDS.len(),
        all_got as f64 * 100.0 / all_sent as f64,
        all_replies as f64 * 100.0 / all_sent as f64,
    );
}

/// One seed: every capacity check, and at least 99.5 % of the readings delivered and of
/// their replies received. Returns (readings sent, delivered, replies received).
fn fifty_nodes(seed: u64) -> (u64, u64, u64) {
    let mut o = WorldOpts::new();
    o.nodes = NODES;
    o.seed = seed;
    let mut w = World::build(&o).unwrap();
    w.sim.run_until(Instant::ZERO + Duration::from_secs(300));

    let app = w.br().unwrap().app().unwrap();
    let known: Vec<Ipv6Addr> = app.nodes().map(|n| n.addr).collect();
    assert!(known.len() <= DEFAULT_REGISTRATIONS);
    let host = w.br().unwrap().host().unwrap();
    let by_source = host.readings_by_source();
    let (mut sent, mut got, mut replies) = (0u64, 0u64, 0u64);
    for k in 0..NODES {
        let g = global(&w, k);
        assert!(
            known.contains(&g),
            "seed {seed}: node {k} ({g}) neither registered nor gleaned"
        );
        let n = w.node(k).unwrap().counters();
        let d = by_source.get(&g).copied().unwrap_or(0);
        // 50 leaves of a star are hidden terminals to each other: a reading can be lost in a
        // collision after the MAC's retries, as on a real mesh. Each node still gets nearly
        // all of its readings through.
        assert!(n.readings_sent >= 25, "node {k} sent {}", n.readings_sent);
        assert!(
            d * 10 >= n.readings_sent * 8,
            "seed {seed}: node {k}: {d} of {} delivered",
            n.readings_sent
        );
        sent += n.readings_sent;
        got += d;
        replies += n.replies_received;
    }
    // Issue 20: 95.0 % (1,276 of 1,343, seed 11) before the MAC spread its retries after a
    // missing ACK and its broadcasts' first backoff.
    assert!(
        got * 1000 >= sent * 995 && replies * 1000 >= sent * 995,
        "seed {seed}: {got} of {sent} readings delivered, {replies} replies received"
    );
    // Two entries per node in the table: its global and its link-local address, each
    // registered or gleaned once (these smoltcp nodes do not register, so both are gleaned);
    // the status counts devices (issue 20 #14).
    let st = app.status();
    assert_eq!(app.nodes().count(), 2 * NODES);
    assert_eq!(st.registered + st.gleaned, NODES, "{st:?}");
    // No buffer ran out on the way in, and every pool buffer is accounted for.
    let ws = app.wpan().stats();
    assert_eq!(ws.rx_no_buffer, 0, "{ws:?}");
    assert_eq!(app.stack().pool_stats().exhausted, 0);
    assert!(app.pool_accounted());
    println!(
        "scale: seed {seed}: {NODES} nodes, {got} of {sent} readings delivered ({:.2} %), \
         {replies} replies received ({:.2} %), {} registered + {} gleaned of \
         {DEFAULT_REGISTRATIONS}, pool high water {} of {}",
        got as f64 * 100.0 / sent as f64,
        replies as f64 * 100.0 / sent as f64,
        st.registered,
        st.gleaned,
        app.stack().pool_stats().high_water,
        firmware::app::PACKETS,
    );

    // Traffic stops (readings are periodic: stop the clock's effect by letting everything in
    // flight finish): the pool is full again and no reassembly is left open.
    w.sim.run_for(Duration::from_secs(1));
    let app = w.br().unwrap().app().unwrap();
    assert!(app.pool_accounted());
    assert!(app.wpan().reassembler().slots_in_use() <= 1);
    (sent, got, replies)
}

/// The reproduction (`sixgate-sim --topology line --nodes 5 --duration 40` took 32 s
/// of wall time, the star 0.01 s): nodes out of the border router's range never get a router
/// advertisement and must not make the event loop spin. Counted, not timed: loop iterations
/// and node polls per simulated second of a line and a grid stay within a small multiple of
/// the star's (the old code: 1,000,000 iterations per simulated second once the unreachable
/// nodes' router solicitations were spent, 18 s into the run).
#[test]
fn line_and_grid_step_no_more_than_a_star() {
    let secs = 40;
    let per_second = |kind: TopologyKind, nodes: usize| {
        let mut o = WorldOpts::new();
        o.nodes = nodes;
        o.topology = kind;
        let mut w = World::build(&o).unwrap();
        w.sim.run_until(Instant::ZERO + Duration::from_secs(secs));
        let st = w.sim.stats();
        (st.steps / secs, st.polls / secs)
    };
    let (star_steps, star_polls) = per_second(TopologyKind::Star, 5);
    for (kind, nodes) in [(TopologyKind::Line, 5), (TopologyKind::Grid, 8)] {
        let (steps, polls) = per_second(kind, nodes);
        println!(
            "{kind:?}: {steps} steps and {polls} polls per simulated second (star of 5: {star_steps}, {star_polls})"
        );
        assert!(
            steps <= 2 * star_steps.max(50) && polls <= 2 * star_polls.max(100),
            "{kind:?} of {nodes}: {steps} steps and {polls} polls per simulated s, star of 5: \
             {star_steps} and {star_polls}"
        );
    }
}
