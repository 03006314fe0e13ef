//! `--zep-links`: which foreign nodes hear which ([`LinkRule`], [`parse_links`]).

/// One end of a [`LinkRule`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// The border router.
    Br,
    /// Simulated node `k` (1-based: its index in the summary and its EUI-64).
    Node(usize),
    /// The ZEP peer whose frames carry this MAC source (EUI-64, canonical byte order).
    Eui64([u8; 8]),
}

/// A link of `--zep-links`: `a` and `b` hear each other, losing `loss` of the frames.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinkRule {
    /// One end.
    pub a: Endpoint,
    /// The other end.
    pub b: Endpoint,
    /// Loss probability, 0..=1.
    pub loss: f64,
}

fn parse_endpoint(s: &str) -> Result<Endpoint, String> {
    if s == "br" {
        return Ok(Endpoint::Br);
    }
    if let Ok(k) = s.parse::<usize>() {
        if k == 0 {
            return Err("`0`: simulated nodes count from 1 (the border router is `br`)".into());
        }
        return Ok(Endpoint::Node(k));
    }
    let parts: Vec<&str> = s.split([':', '-']).collect();
    let mut e = [0u8; 8];
    if parts.len() == e.len() {
        for (b, p) in e.iter_mut().zip(&parts) {
            if p.len() != 2 {
                return Err(format!("`{s}`: expected `br`, a node index or an EUI-64"));
            }
            *b = u8::from_str_radix(p, 16)
                .map_err(|_| format!("`{s}`: expected `br`, a node index or an EUI-64"))?;
        }
        return Ok(Endpoint::Eui64(e));
    }
    Err(format!(
        "`{s}`: expected `br`, a simulated node's index or an EUI-64 (02:aa:bb:cc:dd:ee:00:01)"
    ))
}

/// Reads a `--zep-links` file: one link per line, `A B [loss]`; A and B are `br`, a simulated
/// node's index (1-based, into [`ZepBridgeConfig::nodes`]: `sixgate-sim` lists its routers,
/// then its leaves, so the index is the radio index) or a peer's EUI-64 (`02:aa:bb:cc:dd:ee:00:01`); `loss` (0.0..=1.0,
/// default 0) is the link's frame loss in both directions. `#` starts a comment.
pub fn parse_links(text: &str) -> Result<Vec<LinkRule>, String> {
    let mut rules = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let at = |e: String| format!("line {}: {e}", n + 1);
        let f: Vec<&str> = line.split_whitespace().collect();
        let (a, b, loss) = match f.as_slice() {
            [a, b] => (a, b, 0.0),
            [a, b, l] => {
                let loss: f64 = l
                    .parse()
                    .ok()
                    .filter(|v: &f64| (0.0..=1.0).contains(v))
                    .ok_or_else(|| at(format!("`{l}`: loss must be 0.0..=1.0")))?;
                (a, b, loss)
            }
            _ => return Err(at("expected `A B [loss]`".into())),
        };
        let (a, b) = (
            parse_endpoint(a).map_err(at)?,
            parse_endpoint(b).map_err(at)?,
        );
        if a == b {
            return Err(at("a link needs two different ends".into()));
        }
        rules.push(LinkRule { a, b, loss });
    }
    Ok(rules)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_file() {
        let r = parse_links(
            "# a chain\nbr 02:aa:bb:cc:dd:ee:00:01\n02-aa-bb-cc-dd-ee-00-01 02:aa:bb:cc:dd:ee:00:02 0.1 # lossy\n3 br\n",
        )
        .unwrap();
        assert_eq!(r.len(), 3);
        assert_eq!(r[0].a, Endpoint::Br);
        assert_eq!(
            r[0].b,
            Endpoint::Eui64([2, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0, 1])
        );
        assert_eq!(r[1].loss, 0.1);
        assert_eq!(r[2].a, Endpoint::Node(3));
        for bad in [
            "br",
            "br br",
            "0 br",
            "br 1 2",
            "br x",
            "br 02:aa:bb",
            "1 2 0.5 7",
        ] {
            let e = parse_links(bad).unwrap_err();
            assert!(e.starts_with("line 1: "), "{bad}: {e}");
        }
    }
}
