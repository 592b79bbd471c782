//! How people reach this server: its public address, and which reverse proxies'
//! forwarded headers are believed.
//!
//! A poster printed on the office PC must not point at `127.0.0.1` or a LAN address
//! that the laminated QR code will carry up a stairwell for years: with a public URL
//! (`--public-url`, `WANGGE_PUBLIC_URL`) every link the server writes for use
//! elsewhere — posters, Open311 `media_url`, links in webhooks — starts with it.
//! Without one, links are made from the request's `Host`, which is right on the
//! machine itself and on a LAN.
//!
//! `X-Forwarded-For`, `-Proto` and `-Host` are believed only from the proxies named
//! with `--trusted-proxy` (addresses or CIDR ranges): anyone else could write them.
//! The session cookie is `Secure` when the public URL is https or a trusted proxy
//! says the browser's connection is; over plain http on a LAN it cannot be, or the
//! browser would drop it and nobody could log in.

use std::net::IpAddr;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};

use crate::ApiError;

/// The public address and the trusted proxies, as `serve` was started with them.
#[derive(Clone, Debug, Default)]
pub struct Site {
    /// `https://wangge.example.cn` or `https://example.cn/wangge`, without a
    /// trailing slash.
    public_url: Option<String>,
    trusted_proxies: Vec<Cidr>,
}

/// An address range: `192.168.1.1` (one address) or `10.0.0.0/8`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Cidr {
    net: IpAddr,
    bits: u8,
}

impl Cidr {
    fn parse(text: &str) -> Result<Cidr, String> {
        let text = text.trim();
        let (addr, bits) = match text.split_once('/') {
            Some((a, b)) => (a, Some(b)),
            None => (text, None),
        };
        let net: IpAddr = addr.parse().map_err(|_| format!("'{text}' is not an IP address or CIDR range"))?;
        let max = if net.is_ipv4() { 32 } else { 128 };
        let bits = match bits {
            Some(b) => b.parse::<u8>().ok().filter(|b| *b <= max).ok_or_else(|| format!("'{text}': bad prefix"))?,
            None => max,
        };
        Ok(Cidr { net, bits })
    }

    fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.net, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.bits)).unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.bits)).unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl Site {
    /// Checks a public URL (http or https, a host, no query) and the trusted
    /// proxies; the error says in one sentence what is wrong.
    pub fn new(public_url: Option<&str>, trusted_proxies: &[String]) -> Result<Site, String> {
        let public_url = match public_url.map(str::trim).filter(|u| !u.is_empty()) {
            None => None,
            Some(url) => {
                let rest = url
                    .strip_prefix("https://")
                    .or_else(|| url.strip_prefix("http://"))
                    .ok_or_else(|| format!("the public URL '{url}' must start with https:// or http://"))?;
                let host = rest.split('/').next().unwrap_or("");
                if host.is_empty() || rest.contains(['?', '#', ' ']) {
                    return Err(format!(
                        "the public URL '{url}' must be a plain address such as https://wangge.example.cn"
                    ));
                }
                Some(url.trim_end_matches('/').to_owned())
            }
        };
        let trusted_proxies = trusted_proxies
            .iter()
            .flat_map(|list| list.split(','))
            .filter(|p| !p.trim().is_empty())
            .map(Cidr::parse)
            .collect::<Result<_, _>>()?;
        Ok(Site { public_url, trusted_proxies })
    }

    /// The public URL, when one is configured.
    pub fn public_url(&self) -> Option<&str> {
        self.public_url.as_deref()
    }

    fn trusts(&self, peer: IpAddr) -> bool {
        self.trusted_proxies.iter().any(|c| c.contains(peer))
    }

    /// How the request at hand reached the server: the browser's address, the
    /// address to write into links, and whether the browser's connection is https.
    pub fn reached(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> Reached {
        let trusted = peer.is_some_and(|p| self.trusts(p));
        let forwarded =
            |name: &str| trusted.then(|| headers.get(name).and_then(|v| v.to_str().ok())).flatten().map(str::trim);
        // The rightmost address a trusted proxy did not add is the browser's.
        let client = match (peer, forwarded("x-forwarded-for")) {
            (Some(peer), Some(chain)) => chain
                .rsplit(',')
                .filter_map(|a| a.trim().parse::<IpAddr>().ok())
                .find(|a| !self.trusts(*a))
                .unwrap_or(peer),
            (Some(peer), None) => peer,
            (None, _) => {
                let base = self.base_from(headers, None, false);
                return Reached { client: "unknown".into(), secure: base.starts_with("https://"), base };
            }
        };
        let proto = forwarded("x-forwarded-proto").map(|p| p.split(',').next().unwrap_or("").trim().to_lowercase());
        let host = forwarded("x-forwarded-host").map(|h| h.split(',').next().unwrap_or("").trim().to_owned());
        let https = proto.as_deref() == Some("https");
        let base = self.base_from(headers, host.filter(|h| host_is_plain(h)), https);
        Reached { client: client.to_string(), secure: base.starts_with("https://"), base }
    }

    /// `scheme://host` from the request: a trusted proxy's host and scheme, or the
    /// `Host` header over plain http (this server does not speak TLS itself).
    fn base_from(&self, headers: &HeaderMap, forwarded_host: Option<String>, https: bool) -> String {
        if let Some(url) = &self.public_url {
            return url.clone();
        }
        let host = forwarded_host.unwrap_or_else(|| {
            let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).filter(|h| host_is_plain(h));
            host.unwrap_or("127.0.0.1:8080").to_owned()
        });
        format!("{}://{host}", if https { "https" } else { "http" })
    }
}

/// A host name or address with an optional port, nothing that could break out of
/// a link.
fn host_is_plain(host: &str) -> bool {
    !host.is_empty() && host.bytes().all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b))
}

/// How one request reached the server (see [`Site::reached`]); put on each request
/// by the guard.
#[derive(Clone, Debug)]
pub struct Reached {
    /// The browser's address: the peer, or what a trusted proxy says it is.
    pub client: String,
    /// `https://wangge.example.cn`: the start of every link written for use elsewhere.
    pub base: String,
    /// Whether the browser's connection is https (the session cookie is `Secure`).
    pub secure: bool,
}

impl<S: Send + Sync> FromRequestParts<S> for Reached {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts.extensions.get::<Reached>().cloned().unwrap_or_else(|| Site::default().reached(None, &parts.headers)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn forwarded_headers_count_only_from_trusted_proxies() {
        let site = Site::new(None, &["10.0.0.0/8".into(), "::1".into()]).unwrap();
        let sent = headers(&[
            ("host", "192.168.1.10:8080"),
            ("x-forwarded-for", "203.0.113.7, 10.1.2.3"),
            ("x-forwarded-proto", "https"),
            ("x-forwarded-host", "wangge.example.cn"),
        ]);
        let via_proxy = site.reached(Some("10.1.2.3".parse().unwrap()), &sent);
        assert_eq!(via_proxy.client, "203.0.113.7");
        assert_eq!(via_proxy.base, "https://wangge.example.cn");
        assert!(via_proxy.secure);

        let direct = site.reached(Some("192.168.1.20".parse().unwrap()), &sent);
        assert_eq!(direct.client, "192.168.1.20", "anyone may write X-Forwarded-For");
        assert_eq!(direct.base, "http://192.168.1.10:8080");
        assert!(!direct.secure, "nor X-Forwarded-Proto");
    }

    #[test]
    fn the_public_url_wins_and_decides_secure() {
        let site = Site::new(Some("https://wangge.example.cn/"), &[]).unwrap();
        let r = site.reached(Some("127.0.0.1".parse().unwrap()), &headers(&[("host", "127.0.0.1:8080")]));
        assert_eq!((r.base.as_str(), r.secure), ("https://wangge.example.cn", true));
        let lan = Site::new(Some("http://192.168.1.10:8080"), &[]).unwrap();
        assert!(!lan.reached(Some("192.168.1.20".parse().unwrap()), &HeaderMap::new()).secure);
        assert!(Site::new(Some("wangge.example.cn"), &[]).is_err());
        assert!(Site::new(None, &["10.0.0.0/33".into()]).is_err());
        assert!(Site::new(None, &["proxy".into()]).is_err());
    }

    #[test]
    fn a_host_header_cannot_break_out_of_a_link() {
        let r = Site::default().reached(None, &headers(&[("host", "evil.example/\"><script>")]));
        assert_eq!(r.base, "http://127.0.0.1:8080");
    }
}
