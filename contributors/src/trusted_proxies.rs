//! Who the client is, when a reverse proxy stands in front.
//!
//! Behind a proxy every connection comes from the proxy's address, so the
//! per-client budget (`client_budget`) would lump all visitors together. The
//! proxy names the visitor in `X-Forwarded-For`, appending the address it saw
//! to whatever the request already carried:
//!
//! ```text
//! X-Forwarded-For: <anything the visitor typed>, <visitor>, <proxy 1>
//! ```
//!
//! Only the right-hand end is trustworthy: each trusted proxy appended one
//! address, and everything to the left of the first untrusted address could
//! have been written by the visitor. So the client is the right-most address
//! that is not one of our proxies. A peer that is not a trusted proxy has
//! its header ignored, or anyone could pick their own identity.

use std::fmt;
use std::net::IpAddr;

use http::HeaderMap;

/// An address block such as `10.0.0.0/8` or `fd00::/8`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Parses `ADDRESS/PREFIX`, or a bare address (a block of one).
    pub fn parse(text: &str) -> Result<Cidr, String> {
        let text = text.trim();
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let network: IpAddr = address
            .parse()
            .map_err(|_| format!("{address:?} is not an IP address"))?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => match p.parse::<u8>() {
                Ok(p) if p <= max => p,
                _ => return Err(format!("{p:?} is not a prefix length from 0 to {max}")),
            },
        };
        Ok(Cidr { network, prefix })
    }

    pub fn contains(&self, address: IpAddr) -> bool {
        // An IPv4 peer may show up as ::ffff:a.b.c.d on a dual-stack socket.
        let address = address.to_canonical();
        match (self.network, address) {
            (IpAddr::V4(net), IpAddr::V4(a)) => {
                same_prefix(net.to_bits().into(), a.to_bits().into(), 32, self.prefix)
            }
            (IpAddr::V6(net), IpAddr::V6(a)) => {
                same_prefix(net.to_bits(), a.to_bits(), 128, self.prefix)
            }
            _ => false,
        }
    }
}

/// Whether the top `prefix` of `bits` bits of `a` and `b` agree.
fn same_prefix(a: u128, b: u128, bits: u8, prefix: u8) -> bool {
    let unused = u32::from(bits - prefix);
    a.checked_shr(unused).unwrap_or(0) == b.checked_shr(unused).unwrap_or(0)
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// The proxies whose `X-Forwarded-For` we believe; empty means none.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<Cidr>);

impl TrustedProxies {
    /// Parses a comma-separated list of blocks; an empty text is no proxies.
    pub fn parse(text: &str) -> Result<TrustedProxies, String> {
        text.split(',')
            .filter(|part| !part.trim().is_empty())
            .map(Cidr::parse)
            .collect::<Result<_, _>>()
            .map(TrustedProxies)
    }

    fn trusts(&self, address: IpAddr) -> bool {
        self.0.iter().any(|block| block.contains(address))
    }

    /// The client behind a request that arrived from `peer`.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = peer.to_canonical();
        if !self.trusts(peer) {
            return peer;
        }
        // Several headers count as one list, in order.
        let forwarded: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .collect();
        let mut client = peer;
        for entry in forwarded.iter().rev() {
            // Something that is not an address was not written by a proxy
            // of ours: the last address we could believe stands.
            let Ok(address) = entry.trim().parse::<IpAddr>() else {
                break;
            };
            client = address.to_canonical();
            if !self.trusts(client) {
                break;
            }
        }
        client
    }
}

impl fmt::Display for TrustedProxies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let blocks: Vec<String> = self.0.iter().map(Cidr::to_string).collect();
        f.write_str(&blocks.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append("x-forwarded-for", v.parse().unwrap());
        }
        headers
    }

    #[test]
    fn blocks_contain_their_addresses() {
        let block = Cidr::parse("10.1.0.0/16").unwrap();
        assert!(block.contains(ip("10.1.200.3")));
        assert!(!block.contains(ip("10.2.0.1")));
        assert!(block.contains(ip("::ffff:10.1.0.9")), "v4-mapped");
        assert!(Cidr::parse("0.0.0.0/0").unwrap().contains(ip("8.8.8.8")));
        assert!(Cidr::parse("fd00::/8").unwrap().contains(ip("fd12::1")));
        assert!(!Cidr::parse("fd00::/8").unwrap().contains(ip("10.0.0.1")));
        assert!(Cidr::parse("127.0.0.1").unwrap().contains(ip("127.0.0.1")));
        for bad in ["10.0.0.0/33", "::/129", "10.0.0/8", "x", "10.0.0.0/"] {
            assert!(Cidr::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_right_most_untrusted_address_is_the_client() {
        let proxies = TrustedProxies::parse("127.0.0.0/8, 10.0.0.0/8").unwrap();
        let peer = ip("127.0.0.1");
        let h = forwarded(&["6.6.6.6, 1.2.3.4, 10.0.0.5"]);
        assert_eq!(proxies.client(peer, &h), ip("1.2.3.4"));
        // Two headers are one list.
        let h = forwarded(&["6.6.6.6", "1.2.3.4, 10.0.0.5"]);
        assert_eq!(proxies.client(peer, &h), ip("1.2.3.4"));
        // No header: the proxy itself.
        assert_eq!(proxies.client(peer, &HeaderMap::new()), peer);
        // Junk right of the proxies stops the walk at the last good address.
        let h = forwarded(&["1.2.3.4, junk, 10.0.0.5"]);
        assert_eq!(proxies.client(peer, &h), ip("10.0.0.5"));
    }

    #[test]
    fn an_untrusted_peer_cannot_choose_its_identity() {
        let proxies = TrustedProxies::parse("10.0.0.0/8").unwrap();
        let h = forwarded(&["1.2.3.4"]);
        assert_eq!(proxies.client(ip("9.9.9.9"), &h), ip("9.9.9.9"));
        let none = TrustedProxies::default();
        assert_eq!(none.client(ip("10.0.0.1"), &h), ip("10.0.0.1"));
    }
}
