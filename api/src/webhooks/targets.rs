//! Where a webhook may POST: http(s) URLs whose host resolves only to globally reachable
//! addresses (IANA's IPv4 and IPv6 special-purpose registries), with loopback and private
//! networks allowed by configuration for on-premise receivers. The HTTP client connects through
//! `FilteringResolver`, so the address it connects to is one that passed the check: DNS cannot
//! answer differently between the check and the connection (rebinding).

use std::{
    future::Future,
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    pin::Pin,
    sync::Arc,
};

/// Why an address is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Loopback, private (RFC 1918), shared (RFC 6598) or unique-local: allowed by
    /// `SINERGI_WEBHOOK_ALLOW_PRIVATE_TARGETS`.
    Private,
    /// Never reachable from here, or never to be reached: link-local and cloud metadata,
    /// unspecified, multicast, broadcast, documentation, benchmarking, reserved, deprecated.
    Always,
}

fn v4_in(ip: Ipv4Addr, net: [u8; 4], bits: u32) -> bool {
    let mask = if bits == 0 { 0 } else { u32::MAX << (32 - bits) };
    u32::from(ip) & mask == u32::from(Ipv4Addr::from(net)) & mask
}

fn v6_in(ip: Ipv6Addr, net: [u16; 8], bits: u32) -> bool {
    let mask = if bits == 0 { 0 } else { u128::MAX << (128 - bits) };
    u128::from(ip) & mask == u128::from(Ipv6Addr::from(net)) & mask
}

/// The rule for an IPv4 address (IANA IPv4 Special-Purpose Address Registry).
pub fn check_v4(ip: Ipv4Addr) -> Option<Refused> {
    const PRIVATE: &[([u8; 4], u32)] = &[
        ([127, 0, 0, 0], 8),    // loopback
        ([10, 0, 0, 0], 8),     // private
        ([172, 16, 0, 0], 12),  // private
        ([192, 168, 0, 0], 16), // private
        ([100, 64, 0, 0], 10),  // shared address space (carrier-grade NAT)
    ];
    const ALWAYS: &[([u8; 4], u32)] = &[
        ([0, 0, 0, 0], 8),       // "this network"
        ([169, 254, 0, 0], 16),  // link-local, cloud metadata
        ([192, 0, 0, 0], 24),    // IETF protocol assignments
        ([192, 0, 2, 0], 24),    // TEST-NET-1
        ([192, 88, 99, 0], 24),  // 6to4 relay anycast (deprecated)
        ([198, 18, 0, 0], 15),   // benchmarking
        ([198, 51, 100, 0], 24), // TEST-NET-2
        ([203, 0, 113, 0], 24),  // TEST-NET-3
        ([224, 0, 0, 0], 4),     // multicast
        ([240, 0, 0, 0], 4),     // reserved, and the limited broadcast address
    ];
    if ALWAYS.iter().any(|(net, bits)| v4_in(ip, *net, *bits)) {
        Some(Refused::Always)
    } else if PRIVATE.iter().any(|(net, bits)| v4_in(ip, *net, *bits)) {
        Some(Refused::Private)
    } else {
        None
    }
}

/// The rule for an IPv6 address (IANA IPv6 Special-Purpose Address Registry). Addresses that
/// embed an IPv4 address (mapped, translated, NAT64, 6to4) are judged by the address they embed.
pub fn check_v6(ip: Ipv6Addr) -> Option<Refused> {
    let s = ip.segments();
    let embedded_low = || Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    if ip.is_loopback() {
        return Some(Refused::Private);
    }
    if ip.is_unspecified() {
        return Some(Refused::Always);
    }
    // ::ffff:a.b.c.d (mapped) and ::ffff:0:a.b.c.d (translated): the IPv4 address decides.
    if v6_in(ip, [0, 0, 0, 0, 0, 0xffff, 0, 0], 96) || v6_in(ip, [0, 0, 0, 0, 0xffff, 0, 0, 0], 96) {
        return check_v4(embedded_low());
    }
    // NAT64 well-known prefix 64:ff9b::/96: the IPv4 address it translates to decides.
    if v6_in(ip, [0x64, 0xff9b, 0, 0, 0, 0, 0, 0], 96) {
        return check_v4(embedded_low());
    }
    // 6to4 2002::/16 carries an IPv4 address in bits 16–48: that address decides.
    if v6_in(ip, [0x2002, 0, 0, 0, 0, 0, 0, 0], 16) {
        let v4 = Ipv4Addr::new((s[1] >> 8) as u8, s[1] as u8, (s[2] >> 8) as u8, s[2] as u8);
        return check_v4(v4);
    }
    // AWS's IPv6 instance-metadata address sits inside the unique-local range: never.
    if s == [0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254] {
        return Some(Refused::Always);
    }
    const ALWAYS: &[([u16; 8], u32)] = &[
        ([0, 0, 0, 0, 0, 0, 0, 0], 96), // IPv4-compatible (deprecated), e.g. ::127.0.0.1
        ([0x64, 0xff9b, 1, 0, 0, 0, 0, 0], 48), // local-use NAT64
        ([0x100, 0, 0, 0, 0, 0, 0, 0], 64), // discard-only
        ([0x2001, 0, 0, 0, 0, 0, 0, 0], 23), // IETF protocol assignments (Teredo, ORCHID, …)
        ([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 32), // documentation
        ([0x3fff, 0, 0, 0, 0, 0, 0, 0], 20), // documentation
        ([0x5f00, 0, 0, 0, 0, 0, 0, 0], 16), // segment routing SIDs
        ([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10), // link-local
        ([0xfec0, 0, 0, 0, 0, 0, 0, 0], 10), // site-local (deprecated)
        ([0xff00, 0, 0, 0, 0, 0, 0, 0], 8), // multicast
    ];
    if ALWAYS.iter().any(|(net, bits)| v6_in(ip, *net, *bits)) {
        Some(Refused::Always)
    } else if v6_in(ip, [0xfc00, 0, 0, 0, 0, 0, 0, 0], 7) {
        Some(Refused::Private) // unique-local
    } else {
        None
    }
}

/// Whether a webhook may be delivered to `ip`.
pub fn allowed(ip: IpAddr, allow_private: bool) -> bool {
    let rule = match ip {
        IpAddr::V4(v4) => check_v4(v4),
        IpAddr::V6(v6) => check_v6(v6),
    };
    match rule {
        None => true,
        Some(Refused::Private) => allow_private,
        Some(Refused::Always) => false,
    }
}

/// Looks a host up: the system's resolver in the gateway, a stub in tests.
pub trait Lookup: Send + Sync + 'static {
    fn lookup(
        &self,
        host: String,
        port: u16,
    ) -> Pin<Box<dyn Future<Output = std::io::Result<Vec<SocketAddr>>> + Send>>;
}

/// The system resolver.
pub struct SystemLookup;

impl Lookup for SystemLookup {
    fn lookup(
        &self,
        host: String,
        port: u16,
    ) -> Pin<Box<dyn Future<Output = std::io::Result<Vec<SocketAddr>>> + Send>> {
        Box::pin(async move { Ok(tokio::net::lookup_host((host.as_str(), port)).await?.collect()) })
    }
}

/// The one answer for a host that does not resolve and for one that resolves somewhere
/// forbidden: the two must not be told apart (no oracle of the internal DNS).
pub const NOT_ALLOWED: &str = "the target host does not resolve to an address webhooks may reach";

/// Checks a target URL: http or https, no credentials, and a host whose every address is allowed.
/// Returns the URL and the addresses the delivery may connect to.
pub async fn check(
    url: &str,
    allow_private: bool,
    lookup: &dyn Lookup,
) -> Result<(reqwest::Url, Vec<SocketAddr>), String> {
    let parsed = reqwest::Url::parse(url).map_err(|_| "not a valid URL".to_owned())?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err("only http and https targets are allowed".into());
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("credentials in the URL are not allowed; sign with the secret instead".into());
    }
    let port = parsed.port_or_known_default().unwrap_or(80);
    let addrs: Vec<SocketAddr> = match parsed.host() {
        Some(url::Host::Ipv4(ip)) => vec![SocketAddr::new(IpAddr::V4(ip), port)],
        Some(url::Host::Ipv6(ip)) => vec![SocketAddr::new(IpAddr::V6(ip), port)],
        Some(url::Host::Domain(host)) => lookup.lookup(host.to_owned(), port).await.unwrap_or_default(),
        None => return Err("the URL has no host".into()),
    };
    if addrs.is_empty() || !addrs.iter().all(|a| allowed(a.ip(), allow_private)) {
        let private = !allow_private && addrs.iter().all(|a| allowed(a.ip(), true)) && !addrs.is_empty();
        return Err(if private {
            // Saying so leaks nothing: the caller named a loopback or private address itself,
            // or its name resolves to one (the same answer an operator would give).
            format!(
                "{NOT_ALLOWED} (loopback and private networks are refused unless SINERGI_WEBHOOK_ALLOW_PRIVATE_TARGETS=true)"
            )
        } else {
            NOT_ALLOWED.to_owned()
        });
    }
    Ok((parsed, addrs))
}

/// reqwest's resolver for deliveries: resolves through `lookup` and keeps only allowed
/// addresses, so a name that re-resolves somewhere else after the check cannot be reached.
pub struct FilteringResolver {
    pub lookup: Arc<dyn Lookup>,
    pub allow_private: bool,
}

impl reqwest::dns::Resolve for FilteringResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let lookup = self.lookup.clone();
        let allow_private = self.allow_private;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = lookup
                .lookup(host, 0)
                .await?
                .into_iter()
                .filter(|a| allowed(a.ip(), allow_private))
                .collect();
            if addrs.is_empty() {
                return Err(NOT_ALLOWED.into());
            }
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_special_purpose_range_is_judged() {
        use Refused::{Always, Private};
        let cases: &[(&str, Option<Refused>)] = &[
            // Refused before this rule set, and still.
            ("169.254.169.254", Some(Always)),
            ("::1", Some(Private)),
            ("127.0.0.1", Some(Private)),
            ("127.0.0.2", Some(Private)),
            ("10.1.2.3", Some(Private)),
            ("100.64.0.1", Some(Private)),
            ("::ffff:127.0.0.1", Some(Private)),
            // Accepted before, refused now.
            ("::127.0.0.1", Some(Always)),
            ("::ffff:0:7f00:1", Some(Private)),
            ("64:ff9b::a9fe:a9fe", Some(Always)),
            ("2002:7f00:1::", Some(Private)),
            ("2002:a9fe:a9fe::1", Some(Always)),
            ("fec0::1", Some(Always)),
            ("198.18.0.1", Some(Always)),
            ("198.19.255.255", Some(Always)),
            ("240.0.0.1", Some(Always)),
            ("255.255.255.255", Some(Always)),
            ("0.0.0.0", Some(Always)),
            ("0.1.2.3", Some(Always)),
            ("192.0.2.10", Some(Always)),
            ("198.51.100.7", Some(Always)),
            ("203.0.113.9", Some(Always)),
            ("224.0.0.1", Some(Always)),
            ("239.255.255.250", Some(Always)),
            ("192.0.0.8", Some(Always)),
            ("192.88.99.1", Some(Always)),
            ("ff02::1", Some(Always)),
            ("fe80::1", Some(Always)),
            ("2001:db8::1", Some(Always)),
            ("2001::1", Some(Always)),
            ("3fff::1", Some(Always)),
            ("100::1", Some(Always)),
            ("64:ff9b:1::1", Some(Always)),
            ("::", Some(Always)),
            ("fd00:ec2::254", Some(Always)),
            ("fd12:3456::1", Some(Private)),
            ("172.16.0.1", Some(Private)),
            ("172.31.255.255", Some(Private)),
            ("192.168.1.1", Some(Private)),
            // Globally reachable.
            ("172.32.0.1", None),
            ("8.8.8.8", None),
            ("36.66.0.1", None),
            ("2606:4700::1111", None),
            ("2002:808:808::1", None),
            ("64:ff9b::808:808", None),
            ("::ffff:8.8.8.8", None),
        ];
        for (text, expected) in cases {
            let ip: IpAddr = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
            let got = match ip {
                IpAddr::V4(v4) => check_v4(v4),
                IpAddr::V6(v6) => check_v6(v6),
            };
            assert_eq!(got, *expected, "{text}");
        }
    }

    /// A resolver stub: the names a test gives, no network.
    struct Stub(Vec<(&'static str, &'static str)>);

    impl Lookup for Stub {
        fn lookup(
            &self,
            host: String,
            port: u16,
        ) -> Pin<Box<dyn Future<Output = std::io::Result<Vec<SocketAddr>>> + Send>> {
            let found: Vec<SocketAddr> = self
                .0
                .iter()
                .filter(|(name, _)| *name == host)
                .filter_map(|(_, ip)| ip.parse::<IpAddr>().ok())
                .map(|ip| SocketAddr::new(ip, port))
                .collect();
            Box::pin(async move {
                if found.is_empty() {
                    Err(std::io::Error::new(std::io::ErrorKind::NotFound, "no such host"))
                } else {
                    Ok(found)
                }
            })
        }
    }

    #[tokio::test]
    async fn names_are_judged_by_every_address_they_resolve_to_and_refusals_look_alike() {
        let stub = Stub(vec![
            ("receiver.example", "203.0.114.10"),
            ("metadata.example", "169.254.169.254"),
            ("split.example", "203.0.114.10"),
            ("split.example", "10.0.0.5"),
            ("office.example", "10.0.0.5"),
        ]);
        assert!(check("https://receiver.example/hook", false, &stub).await.is_ok());
        let metadata = check("https://metadata.example/", true, &stub).await.err();
        let unknown = check("https://nowhere.example/", true, &stub).await.err();
        assert_eq!(metadata, unknown, "a forbidden name and an unknown one answer alike");
        assert!(
            check("https://split.example/", false, &stub).await.is_err(),
            "one bad address refuses the name"
        );
        assert!(
            check("https://office.example/", true, &stub).await.is_ok(),
            "private allowed by configuration"
        );
        let office = check("https://office.example/", false, &stub).await.err().unwrap_or_default();
        assert!(office.contains("SINERGI_WEBHOOK_ALLOW_PRIVATE_TARGETS"), "{office}");
        for literal in
            ["http://[::127.0.0.1]/", "http://0x7f000001/", "http://127.1/", "http://[64:ff9b::a9fe:a9fe]/"]
        {
            assert!(check(literal, false, &stub).await.is_err(), "{literal}");
        }
        assert!(check("ftp://receiver.example/", false, &stub).await.is_err());
        assert!(check("https://user:pw@receiver.example/", false, &stub).await.is_err());
    }

    #[tokio::test]
    async fn the_delivery_resolver_drops_forbidden_addresses() {
        use reqwest::dns::Resolve;
        let stub = Arc::new(Stub(vec![("split.example", "10.0.0.5"), ("split.example", "203.0.114.10")]));
        let resolver = FilteringResolver { lookup: stub.clone(), allow_private: false };
        let name: reqwest::dns::Name = "split.example".parse().unwrap_or_else(|_| panic!("name"));
        let addrs: Vec<SocketAddr> = resolver.resolve(name).await.map(|a| a.collect()).unwrap_or_default();
        assert_eq!(addrs, vec!["203.0.114.10:0".parse().unwrap_or_else(|_| panic!("addr"))]);
        let only_private = FilteringResolver {
            lookup: Arc::new(Stub(vec![("lan.example", "10.0.0.5")])),
            allow_private: false,
        };
        let name: reqwest::dns::Name = "lan.example".parse().unwrap_or_else(|_| panic!("name"));
        assert!(only_private.resolve(name).await.is_err());
    }
}
