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
use ipnet::IpNet;

/// An address block such as `10.0.0.0/8` or `fd00::/8` (the `ipnet`
/// crate's), read the way the setting's errors explain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr(IpNet);

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
        let Some(prefix) = prefix else {
            return Ok(Cidr(IpNet::from(network)));
        };
        let max = if network.is_ipv4() { 32 } else { 128 };
        (prefix.parse::<u8>().ok())
            .and_then(|bits| IpNet::new(network, bits).ok())
            .map(Cidr)
            .ok_or_else(|| format!("{prefix:?} is not a prefix length from 0 to {max}"))
    }

    pub fn contains(&self, address: IpAddr) -> bool {
        // An IPv4 peer may show up as ::ffff:a.b.c.d on a dual-stack socket.
        self.0.contains(&address.to_canonical())
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
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

    /// Whether `address` is one of the proxies.
    pub fn trusts(&self, address: IpAddr) -> bool {
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
            client = entry_address(entry).to_canonical();
            if !self.trusts(client) {
                break;
            }
        }
        client
    }
}

/// One `X-Forwarded-For` entry as an address: `ip`, `ip:port` or
/// `[v6]:port` (some proxies append the client's port). An entry that is
/// none of these was not written by a proxy of ours, yet it must not make
/// its sender share the proxy's budget with everyone behind it: it stands
/// for a client of its own, an address in `100::/8` (reserved, so no real
/// client has it) made from the entry's text, with the text's hash in the
/// first 64 bits, since budgets count IPv6 clients per /64.
fn entry_address(entry: &str) -> IpAddr {
    let entry = entry.trim();
    if let Ok(address) = entry.parse::<IpAddr>() {
        return address;
    }
    if let Ok(socket) = entry.parse::<std::net::SocketAddr>() {
        return socket.ip();
    }
    // std's hasher with its fixed keys: the same text, the same client.
    use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
    let hash = BuildHasherDefault::<DefaultHasher>::default().hash_one(entry);
    let hash = u128::from(hash >> 8);
    IpAddr::V6(std::net::Ipv6Addr::from((0x01u128 << 120) | (hash << 64)))
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
        // Junk right of the proxies is a client of its own: never the
        // proxy, the same for the same text, another for other text.
        let h = forwarded(&["1.2.3.4, junk, 10.0.0.5"]);
        let junk = proxies.client(peer, &h);
        assert!(!proxies.trusts(junk), "{junk}");
        assert_ne!(junk, ip("1.2.3.4"));
        assert_eq!(proxies.client(peer, &forwarded(&["junk"])), junk);
        let other = proxies.client(peer, &forwarded(&["other junk"]));
        assert_ne!(other, junk);
        // Its hash is in the first 64 bits: budgets count IPv6 per /64.
        let (IpAddr::V6(a), IpAddr::V6(b)) = (junk, other) else {
            panic!("junk stands for an IPv6 address: {junk}, {other}");
        };
        assert_ne!(a.segments()[..4], b.segments()[..4]);
        assert_eq!(a.segments()[0] >> 8, 0x01, "in 100::/8: {a}");
    }

    #[test]
    fn entries_with_a_port_are_their_address() {
        let proxies = TrustedProxies::parse("127.0.0.0/8").unwrap();
        let peer = ip("127.0.0.1");
        for (entry, client) in [
            ("198.51.100.9:5555", "198.51.100.9"),
            ("[2001:db8::1]:443", "2001:db8::1"),
            (" 203.0.113.7:80 ", "203.0.113.7"),
            ("[::ffff:198.51.100.9]:1", "198.51.100.9"),
        ] {
            let h = forwarded(&[entry]);
            assert_eq!(proxies.client(peer, &h), ip(client), "{entry}");
        }
        // A port does not hide a proxy: the walk goes on past it.
        let h = forwarded(&["198.51.100.9, 127.0.0.2:8080"]);
        assert_eq!(proxies.client(peer, &h), ip("198.51.100.9"));
    }

    #[test]
    fn the_setting_is_shown_as_blocks() {
        let proxies = TrustedProxies::parse(" 10.0.0.0/8,, fd00::/8 ,127.0.0.1").unwrap();
        assert_eq!(proxies.to_string(), "10.0.0.0/8,fd00::/8,127.0.0.1/32");
        assert_eq!(
            TrustedProxies::parse("").unwrap(),
            TrustedProxies::default()
        );
        assert!(TrustedProxies::parse("10.0.0.0/8,x").is_err());
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
