//! Writes Mozilla's root certificates, as the `webpki-root-certs` crate holds them, into one PEM
//! bundle in OUT_DIR. `store::client` compiles it into every binary as the functions' TLS trust
//! store: aws-smithy-http-client takes custom roots only as PEM, and reading the system's
//! certificate files instead cost each function about 3.5 ms of its init (docs/cold-start.md).

use base64::Engine;

fn main() {
    let mut pem = String::new();
    for cert in webpki_root_certs::TLS_SERVER_ROOT_CERTS {
        // One base64 line per certificate: the PEM reader takes it, in fewer, longer lines.
        pem.push_str("-----BEGIN CERTIFICATE-----\n");
        pem.push_str(&base64::engine::general_purpose::STANDARD.encode(cert.as_ref()));
        pem.push_str("\n-----END CERTIFICATE-----\n");
    }
    let out = std::path::Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("webpki-roots.pem");
    std::fs::write(out, pem).expect("write the root certificates");
    println!("cargo::rerun-if-changed=build.rs");
}
