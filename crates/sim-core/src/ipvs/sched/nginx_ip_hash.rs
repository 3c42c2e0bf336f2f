//! `nginx-ip_hash` — nginx's `ip_hash`
//! (`src/http/modules/ngx_http_upstream_ip_hash_module.c`).
//! **An nginx upstream method, not part of IPVS**: offered for comparison.
//!
//! Key = the **first three octets** of the client IPv4 address (a /24 shares
//! a server). `hash = 89`; per try, for each key byte
//! `hash = (hash * 113 + byte) % 6271`; `w = hash % total_weight` (all peers,
//! `down` ones included, so they keep the others' mapping); walk the peers
//! subtracting weights to find the target. An unusable target (down,
//! `max_conns`) re-runs the formula with the hash carried over; after 20
//! further tries it falls back to smooth round robin (`nginx-rr`). A single
//! peer goes straight to round robin. See [`super::nginx_swrr`] for how
//! destinations map onto nginx peers.

use super::nginx_swrr::{SwrrState, eligible, nginx_weight};
use super::{DestChange, DestInfo, SchedInput, Scheduler, why};
use crate::rng::SimRng;

/// nginx ip_hash (comparison only); keeps the round-robin fallback state.
#[derive(Debug, Default)]
pub struct NginxIpHash {
    rr: SwrrState,
    why: String,
}

impl Scheduler for NginxIpHash {
    fn name(&self) -> &'static str {
        "nginx-ip_hash"
    }

    fn update(&mut self, dests: &[DestInfo], _change: DestChange) {
        self.rr.reset(dests);
    }

    fn schedule(
        &mut self,
        dests: &[DestInfo],
        input: &SchedInput,
        _rng: &mut SimRng,
    ) -> Option<usize> {
        self.rr.sync(dests);
        let total: i64 = dests.iter().map(nginx_weight).sum();
        if dests.len() > 1 {
            let key = &input.saddr.octets()[..3];
            let mut hash: i64 = 89;
            for tries in 0..=20 {
                for b in key {
                    hash = (hash * 113 + i64::from(*b)) % 6271;
                }
                let mut w = hash % total;
                let mut p = 0;
                while w >= nginx_weight(&dests[p]) {
                    w -= nginx_weight(&dests[p]);
                    p += 1;
                }
                if eligible(&dests[p]) {
                    why!(
                        self,
                        input,
                        "nginx-ip_hash (not IPVS): {}.{}.{}.x hash {hash} -> {} (try {})",
                        key[0],
                        key[1],
                        key[2],
                        dests[p].addr,
                        tries + 1
                    );
                    return Some(p);
                }
            }
        }
        if let Some(i) = self.rr.pick(|i| eligible(&dests[i])) {
            why!(
                self,
                input,
                "nginx-ip_hash (not IPVS): hash tries exhausted or single server; round robin -> {}",
                dests[i].addr
            );
            Some(i)
        } else {
            self.why = "nginx-ip_hash (not IPVS): no live upstreams".into();
            None
        }
    }

    fn explain(&self) -> String {
        self.why.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{dests, input, pick};
    use super::*;
    use std::net::Ipv4Addr;

    fn hash3(a: [u8; 3]) -> i64 {
        let mut h = 89;
        for b in a {
            h = (h * 113 + i64::from(b)) % 6271;
        }
        h
    }

    #[test]
    fn same_slash24_same_server() {
        let d = dests(&[1, 1, 1]);
        let mut s = NginxIpHash::default();
        s.update(&d, DestChange::Init);
        let a = pick(&mut s, &d, &input(Ipv4Addr::new(172, 16, 0, 2)));
        let b = pick(&mut s, &d, &input(Ipv4Addr::new(172, 16, 0, 200)));
        assert_eq!(a, b);
        let want = (hash3([172, 16, 0]) % 3) as usize;
        assert_eq!(a, Some(want));
    }

    #[test]
    fn down_server_keeps_others_and_rehashes() {
        let mut d = dests(&[1, 1, 1]);
        let mut s = NginxIpHash::default();
        s.update(&d, DestChange::Init);
        let c = input(Ipv4Addr::new(172, 16, 0, 2));
        let home = pick(&mut s, &d, &c).expect("home");
        d[home].weight = 0;
        let other = pick(&mut s, &d, &c).expect("rehash");
        assert_ne!(other, home);
        // The second try continues from the first hash.
        let h1 = hash3([172, 16, 0]);
        let mut h2 = h1;
        for b in [172, 16, 0] {
            h2 = (h2 * 113 + b) % 6271;
        }
        if (h2 % 3) as usize != home {
            assert_eq!(other, (h2 % 3) as usize);
        }
        for dd in &mut d {
            dd.weight = 0;
        }
        assert_eq!(pick(&mut s, &d, &c), None);
    }
}
