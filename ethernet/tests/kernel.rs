//! Interoperability with the real Linux kernel IPv6 stack, over a TAP interface inside a
//! network namespace this test creates (and always removes, through a `Drop` guard).
//!
//! Our stack (netif + `EthernetL2`) drives the TAP file descriptor; the kernel owns the TAP
//! network interface in the namespace. Shown, in order:
//! 1. our address passes DAD, the kernel resolves it (NS/NA) and `ping -6` gets replies;
//! 2. our stack resolves the kernel's address (NS/NA) and gets its echo reply;
//! 3. the kernel accepts our RA's Route Information Option and installs the mesh route;
//! 4. DAD detects the conflict when the kernel already holds the address we want.
//!
//! Needs root (CAP_NET_ADMIN), `ip` (iproute2) and `ping` (iputils-ping). Without root it
//! says so loudly and passes, unless `CI=true`, where it fails.
//!
//! Run: `cargo test -p ethernet --features std --test kernel -- --nocapture`

use std::net::Ipv6Addr;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration as StdDuration, Instant as StdInstant};

use ethernet::tap::Tap;
use ethernet::{EthConfig, EthernetL2, NdEvent, NeighborState, RouterConfig};
use netif::{
    HandlerId, IfIndex, Instant, Lifetimes, Match, Outcome, Prefix, Resources, Stack, StackConfig,
};

type Res = Resources<32, 1600, 16, 8, 64>;

const MAC: [u8; 6] = [0x02, 0x5e, 0, 0, 0, 0x02];
const TAP: &str = "sgtap0";

fn ip(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|e| e == "0"))
        })
        .unwrap_or(false)
}

/// A network namespace, deleted on drop (also when the test panics).
struct Netns(String);

impl Netns {
    fn new() -> Netns {
        let name = format!("sgeth{}", std::process::id());
        let _ = Command::new("ip").args(["netns", "del", &name]).output();
        let out = Command::new("ip")
            .args(["netns", "add", &name])
            .output()
            .expect("run ip");
        assert!(out.status.success(), "ip netns add: {out:?}");
        Netns(name)
    }
    fn ip(&self, args: &[&str]) -> Output {
        let out = Command::new("ip")
            .arg("-n")
            .arg(&self.0)
            .args(args)
            .output()
            .expect("run ip");
        assert!(out.status.success(), "ip -n {} {args:?}: {out:?}", self.0);
        out
    }
    fn ip_text(&self, args: &[&str]) -> String {
        String::from_utf8_lossy(&self.ip(args).stdout).into_owned()
    }
    fn sysctl(&self, key: &str, value: &str) {
        let path = format!("/proc/sys/{}", key.replace('.', "/"));
        let out = Command::new("ip")
            .args(["netns", "exec", &self.0, "sh", "-c"])
            .arg(format!("echo {value} > {path}"))
            .output()
            .expect("run sh");
        assert!(out.status.success(), "sysctl {key}={value}: {out:?}");
    }
    fn spawn(&self, cmd: &[&str]) -> Child {
        Command::new("ip")
            .args(["netns", "exec", &self.0])
            .args(cmd)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn in netns")
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).output();
    }
}

/// Our side: a netif stack with one Ethernet interface on the TAP.
struct Node<'r> {
    st: Stack<'r>,
    eth: EthernetL2,
    tap: Tap,
    i: IfIndex,
    echo: HandlerId,
    t0: StdInstant,
    events: Vec<NdEvent>,
    echo_replies: Vec<Ipv6Addr>,
}

impl Node<'_> {
    fn now(&self) -> Instant {
        Instant::from_micros(self.t0.elapsed().as_micros() as u64)
    }

    /// One turn of the firmware loop.
    fn step(&mut self) {
        let now = self.now();
        while let Some(h) = EthernetL2::receive_from(self.st.pool_mut(), &mut self.tap).unwrap() {
            if let Outcome::Local(d) = self.st.receive(now, self.i, &mut self.eth, h)
                && let Some(d) = self.eth.handle_local(&mut self.st, now, d)
            {
                if d.handler == self.echo {
                    let src: [u8; 16] = self.st.pool().data(&d.packet)[8..24].try_into().unwrap();
                    self.echo_replies.push(Ipv6Addr::from(src));
                }
                self.st.pool_mut().free(d.packet);
            }
        }
        self.eth.poll(now, &mut self.st);
        self.st.poll(now);
        self.st.transmit(now, self.i, &mut self.eth);
        self.eth
            .flush_to(self.st.pool_mut(), &mut self.tap)
            .unwrap();
        while let Some(e) = self.eth.pop_event() {
            println!("[{now}] ND event: {e:?}");
            self.events.push(e);
        }
    }

    fn run_until(&mut self, secs: u64, mut done: impl FnMut(&mut Self) -> bool) -> bool {
        let end = StdInstant::now() + StdDuration::from_secs(secs);
        while StdInstant::now() < end {
            self.step();
            if done(self) {
                return true;
            }
            std::thread::sleep(StdDuration::from_millis(2));
        }
        false
    }

    fn run_child(&mut self, mut child: Child, secs: u64) -> Output {
        let ok = self.run_until(secs, |_| matches!(child.try_wait(), Ok(Some(_))));
        if !ok {
            let _ = child.kill();
        }
        child.wait_with_output().expect("child output")
    }

    fn echo_request(&mut self, src: Ipv6Addr, dst: Ipv6Addr) {
        let mut p = vec![0x60, 0, 0, 0, 0, 16, 58, 64];
        p.extend_from_slice(&src.octets());
        p.extend_from_slice(&dst.octets());
        p.extend_from_slice(&[128, 0, 0, 0, 0x12, 0x34, 0, 1]);
        p.extend_from_slice(b"sixgate!");
        netif::icmp::fill_checksum(&mut p[40..], &src, &dst);
        let h = self.st.pool_mut().alloc_from(&p).unwrap();
        let now = self.now();
        self.st.send(now, h).expect("routed");
    }
}

#[test]
fn linux_kernel_interop() {
    if !is_root() {
        eprintln!(
            "\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\
             !! ethernet kernel interop test NOT RUN: it needs root (network namespaces,  !!\n\
             !! TAP). Run it as root: sudo -E cargo test -p ethernet --features std      !!\n\
             !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n"
        );
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true: the kernel interop test must run as root"
        );
        return;
    }

    let ns = Netns::new();
    let tap = Tap::open_in_netns(&ns.0, TAP, MAC).unwrap_or_else(|e| panic!("{e}"));
    ns.ip(&["link", "set", "lo", "up"]);
    ns.sysctl(&format!("net.ipv6.conf.{TAP}.accept_ra"), "2");
    ns.sysctl(
        &format!("net.ipv6.conf.{TAP}.accept_ra_rt_info_max_plen"),
        "64",
    );
    ns.ip(&["-6", "addr", "add", "2001:db8:2::1/64", "dev", TAP, "nodad"]);
    ns.ip(&[
        "-6",
        "addr",
        "add",
        "2001:db8:2::99/64",
        "dev",
        TAP,
        "nodad",
    ]);
    ns.ip(&["link", "set", TAP, "up"]);
    let link = ns.ip_text(&["link", "show", TAP]);
    let kernel_mac = link
        .split_whitespace()
        .skip_while(|w| *w != "link/ether")
        .nth(1)
        .expect("kernel MAC")
        .to_string();
    println!("kernel side {TAP} has MAC {kernel_mac}");

    let mesh = Prefix::new(ip("2001:db8:100::"), 64).unwrap();
    let mut router = RouterConfig::announcing(mesh);
    router.max_interval = netif::Duration::from_secs(4);
    router.min_interval = netif::Duration::from_secs(3);
    router.route_lifetime = netif::Duration::from_secs(600);
    let cfg = EthConfig {
        router: Some(router),
        ..EthConfig::new(MAC)
    };

    let mut res: Box<Res> = Box::default();
    let mut st = Stack::new(StackConfig::default(), &mut res);
    let mut eth = EthernetL2::new(cfg);
    let t0 = StdInstant::now();
    let i = st
        .add_iface(Instant::ZERO, &eth.iface_config("eth0", true))
        .unwrap();
    eth.attach(&mut st, i).unwrap();
    let echo = st
        .register_handler(
            Match::Icmpv6 {
                first: 129,
                last: 129,
            },
            Some(i),
        )
        .unwrap();
    st.set_admin(Instant::ZERO, i, &mut eth, true).unwrap();
    let mut n = Node {
        st,
        eth,
        tap,
        i,
        echo,
        t0,
        events: vec![],
        echo_replies: vec![],
    };

    // 1. DAD for our address, then the kernel resolves it and pings it.
    let ours = ip("2001:db8:2::2");
    let now = n.now();
    n.eth
        .add_addr(&mut n.st, now, ours, 64, Lifetimes::INFINITE)
        .unwrap();
    assert!(
        n.run_until(10, |n| n.events.contains(&NdEvent::DadSucceeded(ours))),
        "DAD for {ours} did not finish: {:?}",
        n.eth.nd_stats()
    );
    let ping = ns.spawn(&[
        "ping",
        "-6",
        "-c",
        "3",
        "-i",
        "0.2",
        "-W",
        "2",
        "2001:db8:2::2",
    ]);
    let out = n.run_child(ping, 20);
    println!("{}", String::from_utf8_lossy(&out.stdout));
    assert!(
        out.status.success(),
        "kernel ping to our address failed: {out:?}\nnd stats {:?}\neth stats {:?}",
        n.eth.nd_stats(),
        n.eth.stats()
    );
    let neigh = ns.ip_text(&["-6", "neigh", "show", "2001:db8:2::2", "dev", TAP]);
    println!("kernel neighbor entry: {neigh}");
    assert!(
        neigh.contains("02:5e:00:00:00:02"),
        "kernel did not resolve us: {neigh}"
    );
    assert!(n.eth.nd_stats().tx_na >= 1);

    // Link-local too.
    let ll = "fe80::5e:ff:fe00:2%sgtap0";
    let out = n.run_child(
        ns.spawn(&["ping", "-6", "-c", "2", "-i", "0.2", "-W", "2", ll]),
        20,
    );
    assert!(
        out.status.success(),
        "kernel ping to our link-local failed: {out:?}"
    );

    // 2. Our stack resolves the kernel's address and gets its echo reply.
    let kernel = ip("2001:db8:2::1");
    n.echo_request(ours, kernel);
    assert!(
        n.run_until(10, |n| n.echo_replies.contains(&kernel)),
        "no echo reply from the kernel: {:?}",
        n.eth.nd_stats()
    );
    let entry = n
        .eth
        .neighbor(&kernel)
        .expect("neighbor entry for the kernel");
    let mac = entry.mac.expect("resolved MAC");
    let mac_s = mac
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":");
    assert_eq!(mac_s, kernel_mac, "resolved the kernel's MAC");
    assert!(
        matches!(entry.state, NeighborState::Reachable | NeighborState::Delay),
        "{entry:?}"
    );

    // 3. The kernel learns the mesh route from our RA's Route Information Option.
    let mut route = String::new();
    let learned = n.run_until(20, |_| {
        route = ns.ip_text(&["-6", "route", "show", "2001:db8:100::/64"]);
        route.contains("via fe80::5e:ff:fe00:2") && route.contains(TAP)
    });
    println!("kernel route: {route}");
    assert!(
        learned,
        "kernel did not install the RIO route: {route:?}, nd stats {:?}",
        n.eth.nd_stats()
    );
    // The RA says "not a default router": the kernel has no default route through us.
    let default = ns.ip_text(&["-6", "route", "show", "default"]);
    assert!(!default.contains("fe80::5e:ff:fe00:2"), "{default}");

    // 4. DAD conflict: the kernel already holds 2001:db8:2::99.
    let taken = ip("2001:db8:2::99");
    let now = n.now();
    n.eth
        .add_addr(&mut n.st, now, taken, 64, Lifetimes::INFINITE)
        .unwrap();
    assert!(
        n.run_until(10, |n| n.events.contains(&NdEvent::DadFailed(taken))),
        "DAD conflict for {taken} not detected: {:?}",
        n.eth.nd_stats()
    );
    assert!(n.st.iface(i).unwrap().addr(&taken).is_none());
    assert_eq!(n.eth.nd_stats().dad_conflicts, 1);
    println!(
        "nd stats: {:?}\neth stats: {:?}",
        n.eth.nd_stats(),
        n.eth.stats()
    );
}
