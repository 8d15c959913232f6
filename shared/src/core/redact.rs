//! Debug output that never shows a secret: types holding a token, password, digest,
//! hash, TOTP secret, email code or API key list their secret fields as `<redacted>`.

use std::fmt;

/// Stands in for a secret value in Debug output.
pub struct Redacted;

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Implements Debug for a struct: the fields listed first are shown, the fields after
/// `redacted` print as `<redacted>`. A field listed nowhere is left out, so a new
/// field stays hidden until someone decides it may be shown.
#[macro_export]
macro_rules! debug_redacted {
    ($ty:ident { $($shown:ident),* $(,)? } redacted { $($hidden:ident),* $(,)? }) => {
        impl ::std::fmt::Debug for $ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                let _ = ($(&self.$hidden,)*); // every redacted name must be a real field
                f.debug_struct(stringify!($ty))
                    $(.field(stringify!($shown), &self.$shown))*
                    $(.field(stringify!($hidden), &$crate::core::redact::Redacted))*
                    .finish_non_exhaustive()
            }
        }
    };
}
