//! Entry bundles: the one binary framing of a run of entries, as C2SP
//! tlog-tiles lays out its entry bundles (docs/FORMAT.md, "Entry bundles").
//!
//! ```text
//! bundle = *( length entry )
//! length = the entry's byte count, u16 big endian (1 to 65,535)
//! entry  = the entry's exact signed bytes
//! ```
//!
//! Every valid entry fits: [`crate::MAX_ENCODED_LEN`] is below 2^16. `log
//! --raw` writes this framing, and tile publication writes it into
//! `tile/entries/...`. A reader learns nothing from a bundle but lengths and
//! bytes: each entry is checked as any other (decoding, chain, signature).

use crate::encoding::MAX_ENCODED_LEN;

/// Why bytes are not an entry bundle.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BundleError {
    /// The bundle ends inside a length prefix or inside an entry.
    #[error("entry bundle cut short at byte {at}: entry {index} needs {needed} more bytes")]
    Truncated {
        /// Where the cut entry starts.
        at: usize,
        /// Its index in the bundle.
        index: usize,
        /// How many bytes are missing.
        needed: usize,
    },
    /// A length prefix of zero (no entry is empty).
    #[error("entry bundle holds an empty entry at byte {at}")]
    Empty {
        /// Where its length prefix starts.
        at: usize,
    },
}

/// Appends `entry` to `bundle` with its length prefix.
///
/// # Panics
/// If `entry` is empty or longer than [`MAX_ENCODED_LEN`]: entries the
/// encoding produced never are.
pub fn push_entry(bundle: &mut Vec<u8>, entry: &[u8]) {
    let len = u16::try_from(entry.len())
        .ok()
        .filter(|&l| l > 0 && usize::from(l) <= MAX_ENCODED_LEN)
        .expect("an encoded entry is 1 to MAX_ENCODED_LEN bytes");
    bundle.extend_from_slice(&len.to_be_bytes());
    bundle.extend_from_slice(entry);
}

/// The entries of `bundle`, in order, as slices of it.
pub fn entries(bundle: &[u8]) -> Result<Vec<&[u8]>, BundleError> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < bundle.len() {
        let index = out.len();
        let Some(prefix) = bundle.get(at..at + 2) else {
            return Err(BundleError::Truncated {
                at,
                index,
                needed: at + 2 - bundle.len(),
            });
        };
        let len = usize::from(u16::from_be_bytes([prefix[0], prefix[1]]));
        if len == 0 {
            return Err(BundleError::Empty { at });
        }
        let start = at + 2;
        let Some(entry) = bundle.get(start..start + len) else {
            return Err(BundleError::Truncated {
                at,
                index,
                needed: start + len - bundle.len(),
            });
        };
        out.push(entry);
        at = start + len;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_with_big_endian_lengths() {
        let mut b = Vec::new();
        push_entry(&mut b, b"abc");
        push_entry(&mut b, &[7; 300]);
        assert_eq!(&b[..5], &[0, 3, b'a', b'b', b'c']);
        assert_eq!(&b[5..7], &[1, 44]);
        assert_eq!(entries(&b).unwrap(), vec![&b"abc"[..], &[7; 300][..]]);
        assert_eq!(entries(&[]).unwrap(), Vec::<&[u8]>::new());
    }

    #[test]
    fn cut_or_empty_bundles_are_refused_naming_where() {
        let mut b = Vec::new();
        push_entry(&mut b, b"abc");
        assert_eq!(
            entries(&b[..4]),
            Err(BundleError::Truncated {
                at: 0,
                index: 0,
                needed: 1
            })
        );
        b.push(0);
        assert_eq!(
            entries(&b),
            Err(BundleError::Truncated {
                at: 5,
                index: 1,
                needed: 1
            })
        );
        assert_eq!(entries(&[0, 0]), Err(BundleError::Empty { at: 0 }));
    }
}
