//! Visitor addresses: parsing what the edge reports, anonymizing before storage, and
//! telling public addresses (worth a GeoIP lookup) from private and special ones.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// The stored form of an address unless `STORE_FULL_IP`: the /24 network of an IPv4
/// address (last octet zero), the /48 of an IPv6 address (all but the first three
/// groups zero). An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) is treated, and returned,
/// as IPv4.
pub fn anonymize(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            IpAddr::V4(Ipv4Addr::new(a, b, c, 0))
        }
        IpAddr::V6(v6) => {
            let [a, b, c, ..] = v6.segments();
            IpAddr::V6(Ipv6Addr::new(a, b, c, 0, 0, 0, 0, 0))
        }
    }
}

/// Parses a client address as an edge or a client reports it: `1.2.3.4`, `2001:db8::1`,
/// `[2001:db8::1]`, `1.2.3.4:5678`, `[2001:db8::1]:5678`, surrounding whitespace allowed.
/// IPv4-mapped IPv6 addresses come back as IPv4. `None` for anything else.
pub fn parse_client_ip(raw: &str) -> Option<IpAddr> {
    let raw = raw.trim();
    // The longest valid form, `[v6 with embedded v4]:port`, is well under 64 bytes.
    if raw.is_empty() || raw.len() > 64 {
        return None;
    }
    let ip = if let Ok(ip) = raw.parse::<IpAddr>() {
        ip
    } else if let Ok(socket) = raw.parse::<SocketAddr>() {
        socket.ip()
    } else {
        let inner = raw.strip_prefix('[')?.strip_suffix(']')?;
        IpAddr::V6(inner.parse::<Ipv6Addr>().ok()?)
    };
    Some(ip.to_canonical())
}

/// Whether `ip` is a globally routable unicast address, i.e. one a GeoIP database can
/// place. False for private, loopback, link-local, shared (CGNAT), documentation,
/// benchmarking, multicast, broadcast, unspecified, unique-local and reserved addresses.
/// IPv4-mapped IPv6 addresses are judged as IPv4.
pub fn is_public(ip: IpAddr) -> bool {
    match ip.to_canonical() {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    // `Ipv4Addr::is_global` is still unstable: the stable predicates, plus the ranges of
    // the IANA IPv4 Special-Purpose Address Registry that have none, written out.
    let [a, b, c, d] = ip.octets();
    let special = ip.is_unspecified()
        || ip.is_private() // 10/8, 172.16/12, 192.168/16
        || ip.is_loopback() // 127/8
        || ip.is_link_local() // 169.254/16
        || ip.is_documentation() // 192.0.2/24, 198.51.100/24, 203.0.113/24
        || ip.is_multicast() // 224/4
        || ip.is_broadcast() // 255.255.255.255
        // "This network", 0/8.
        || a == 0
        // Shared address space (carrier-grade NAT), 100.64/10.
        || (a == 100 && (b & 0b1100_0000) == 64)
        // IETF protocol assignments, 192.0.0/24, except the globally reachable
        // 192.0.0.9 (PCP anycast) and 192.0.0.10 (TURN anycast).
        || (a == 192 && b == 0 && c == 0 && d != 9 && d != 10)
        // Benchmarking, 198.18/15.
        || (a == 198 && (b & 0b1111_1110) == 18)
        // Reserved for future use, 240/4 (includes the broadcast address).
        || a >= 240;
    !special
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    // `Ipv6Addr::is_global` is still unstable. IANA allocates unicast space to the
    // registries only from 2000::/3, so everything outside it is not public: unspecified,
    // loopback, IPv4-compatible and the rest of ::/8, 64:ff9b::/96 and 64:ff9b:1::/48
    // (translation), 100::/64 (discard), unique-local fc00::/7, link-local fe80::/10,
    // site-local fec0::/10, multicast ff00::/8, SRv6 5f00::/16 and reserved space.
    // The stable predicates are named for clarity; they all fall outside 2000::/3.
    if ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || ip.is_unique_local()
        || ip.is_unicast_link_local()
    {
        return false;
    }
    let s = ip.segments();
    if s[0] & 0xe000 != 0x2000 {
        return false;
    }
    // Special-purpose blocks inside 2000::/3 (IANA IPv6 Special-Purpose Registry).
    let special =
        // IETF protocol assignments, 2001::/23 (Teredo 2001::/32 among them), except the
        // globally reachable 2001:1::1, 2001:1::2, 2001:3::/32 (AMT), 2001:4:112::/48
        // (AS112) and 2001:20::/27 (ORCHIDv2, drone remote ID).
        (s[0] == 0x2001 && s[1] < 0x200
            && !(
                (s[1] == 1 && s[2..7] == [0; 5] && (s[7] == 1 || s[7] == 2))
                || s[1] == 3
                || (s[1] == 4 && s[2] == 0x112)
                || (0x20..=0x3f).contains(&s[1])
            ))
        // Documentation, 2001:db8::/32 and 3fff::/20.
        || (s[0] == 0x2001 && s[1] == 0xdb8)
        || (s[0] == 0x3fff && s[1] < 0x1000)
        // 6to4, 2002::/16: a relay, not the visitor.
        || s[0] == 0x2002;
    !special
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn anonymize_keeps_the_ipv4_slash_24() {
        assert_eq!(anonymize(ip("81.2.69.142")), ip("81.2.69.0"));
        assert_eq!(anonymize(ip("10.0.0.255")), ip("10.0.0.0"));
        assert_eq!(anonymize(ip("81.2.69.0")), ip("81.2.69.0"));
    }

    #[test]
    fn anonymize_keeps_the_ipv6_slash_48() {
        assert_eq!(
            anonymize(ip("2001:db8:abcd:1234:5678:9abc:def0:1")),
            ip("2001:db8:abcd::")
        );
        assert_eq!(anonymize(ip("::1")), ip("::"));
    }

    #[test]
    fn anonymize_treats_mapped_addresses_as_ipv4() {
        let mapped = anonymize(ip("::ffff:81.2.69.142"));
        assert_eq!(mapped, ip("81.2.69.0"));
        assert!(mapped.is_ipv4());
    }

    #[test]
    fn parse_accepts_the_usual_forms() {
        assert_eq!(parse_client_ip("81.2.69.142"), Some(ip("81.2.69.142")));
        assert_eq!(parse_client_ip("  81.2.69.142\n"), Some(ip("81.2.69.142")));
        assert_eq!(parse_client_ip("81.2.69.142:443"), Some(ip("81.2.69.142")));
        assert_eq!(parse_client_ip("2001:db8::1"), Some(ip("2001:db8::1")));
        assert_eq!(parse_client_ip("[2001:db8::1]"), Some(ip("2001:db8::1")));
        assert_eq!(
            parse_client_ip("[2001:db8::1]:8080"),
            Some(ip("2001:db8::1"))
        );
        assert_eq!(parse_client_ip("::1"), Some(ip("::1")));
    }

    #[test]
    fn parse_maps_ipv4_mapped_addresses_to_ipv4() {
        assert_eq!(
            parse_client_ip("::ffff:81.2.69.142"),
            Some(ip("81.2.69.142"))
        );
        assert_eq!(
            parse_client_ip("[::ffff:81.2.69.142]:50000"),
            Some(ip("81.2.69.142"))
        );
        assert!(parse_client_ip("::ffff:1.2.3.4").unwrap().is_ipv4());
    }

    #[test]
    fn parse_rejects_junk() {
        for raw in [
            "",
            "   ",
            "unknown",
            "1.2.3",
            "1.2.3.4.5",
            "256.1.1.1",
            "1.2.3.4:",
            "1.2.3.4:99999",
            "[1.2.3.4]",
            "[2001:db8::1",
            "2001:db8::1]",
            "2001:db8::1:80:",
            "1.2.3.4, 5.6.7.8",
            "fe80::1%eth0",
            "http://1.2.3.4/",
            &"1".repeat(100),
        ] {
            assert_eq!(parse_client_ip(raw), None, "{raw:?}");
        }
    }

    #[test]
    fn public_addresses() {
        for raw in [
            "81.2.69.142",
            "8.8.8.8",
            "1.1.1.1",
            "100.63.255.255",
            "100.128.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "192.0.0.9",
            "192.0.0.10",
            "192.0.3.1",
            "198.17.255.255",
            "198.20.0.0",
            "223.255.255.255",
            "::ffff:81.2.69.142",
            "2a00:1450:4007:80f::200e",
            "2001:4860:4860::8888",
            "2001:218::1",
            "2001:1::1",
            "2001:3::1",
            "2001:4:112::1",
            "2001:20::1",
            "3fff:1000::1",
        ] {
            assert!(is_public(ip(raw)), "{raw} should be public");
        }
    }

    #[test]
    fn non_public_addresses() {
        for raw in [
            // IPv4
            "0.0.0.0",
            "0.1.2.3",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "127.0.0.1",
            "127.255.255.254",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.255",
            "192.0.0.1",
            "192.0.2.1",
            "198.51.100.7",
            "203.0.113.9",
            "198.18.0.1",
            "198.19.255.255",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
            // IPv4-mapped
            "::ffff:10.0.0.1",
            "::ffff:127.0.0.1",
            // IPv6
            "::",
            "::1",
            "::1.2.3.4",
            "64:ff9b::808:808",
            "64:ff9b:1::1",
            "100::1",
            "fc00::1",
            "fd12:3456:789a::1",
            "fe80::1",
            "fec0::1",
            "ff02::1",
            "ff0e::1",
            "5f00::1",
            "2001:db8::1",
            "2001::1",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
            "2001:2::1",
            "2001:1::3",
            "2002:c000:204::1",
            "3fff::1",
            "4000::1",
            "e000::1",
        ] {
            assert!(!is_public(ip(raw)), "{raw} should not be public");
        }
    }
}
