//! The one canonical binary encoding: bincode 2.0.1 with a fixed configuration.
//!
//! Configuration: little endian, fixed-width integers (`u8` 1 byte, `u32`
//! 4 bytes, `u64`/`i64` 8 bytes), lengths of strings and sequences as `u64`,
//! fixed arrays with no length prefix, `Option` as a 1-byte tag (0 none, 1 some)
//! then the value, `bool` as one byte 0 or 1, enum variants as a `u32` index.
//! docs/FORMAT.md restates this byte by byte so that no one needs this crate
//! (or bincode) to read a ledger.
//!
//! Decoding is strict: the input must be at most [`MAX_ENCODED_LEN`] bytes,
//! must be consumed exactly, and must re-encode to the very same bytes (so
//! there is exactly one encoding of every value and a hash of the parsed bytes
//! is a hash of the value).

use bincode::config::{Config, Configuration, Fixint, Limit, LittleEndian};
use bincode::{Decode, Encode};

/// Largest encoded entry (or any other wire value) accepted, in bytes.
pub const MAX_ENCODED_LEN: usize = 65_535;

/// Why bytes could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodingError {
    /// Longer than [`MAX_ENCODED_LEN`].
    #[error("encoded value is {0} bytes, more than the limit of 65535")]
    TooLong(usize),
    /// Not a valid encoding (truncated, unknown variant, invalid field).
    #[error("malformed encoding: {0}")]
    Malformed(String),
    /// Bytes left over after the value.
    #[error("{0} trailing bytes after the value")]
    TrailingBytes(usize),
    /// A valid value, but not in its one canonical encoding.
    #[error("non-canonical encoding")]
    NonCanonical,
}

/// Largest derived value (a state snapshot kept in the store), in bytes.
const MAX_DERIVED_LEN: usize = 1 << 30;

type Cfg = Configuration<LittleEndian, Fixint, Limit<MAX_ENCODED_LEN>>;

fn config() -> Cfg {
    bincode::config::standard()
        .with_little_endian()
        .with_fixed_int_encoding()
        .with_limit::<MAX_ENCODED_LEN>()
}

fn derived_config() -> Configuration<LittleEndian, Fixint, Limit<MAX_DERIVED_LEN>> {
    bincode::config::standard()
        .with_little_endian()
        .with_fixed_int_encoding()
        .with_limit::<MAX_DERIVED_LEN>()
}

/// Encodes a derived value (a cache kept in the store, never signed or hashed),
/// which may be larger than [`MAX_ENCODED_LEN`].
pub fn encode_derived<T: Encode>(value: &T) -> Vec<u8> {
    encode_with(value, derived_config())
}

/// Decodes a derived value written by [`encode_derived`].
pub fn decode_derived<T: Decode<()>>(bytes: &[u8]) -> Result<T, EncodingError> {
    let (value, used): (T, usize) = bincode::decode_from_slice(bytes, derived_config())
        .map_err(|e| EncodingError::Malformed(e.to_string()))?;
    if used != bytes.len() {
        return Err(EncodingError::TrailingBytes(bytes.len() - used));
    }
    Ok(value)
}

/// Encodes `value` canonically.
///
/// # Panics
/// Never for the wire types of this crate: their fields are bounded well below
/// [`MAX_ENCODED_LEN`] by the identifier limits.
pub fn encode<T: Encode>(value: &T) -> Vec<u8> {
    encode_with(value, config())
}

fn encode_with<T: Encode, C: Config>(value: &T, cfg: C) -> Vec<u8> {
    // Encoding into a Vec only fails past the size limit, which the
    // identifier limits keep every wire type well below.
    bincode::encode_to_vec(value, cfg).expect("wire values are bounded below the encoding limit")
}

/// Decodes exactly one canonical `T` from all of `bytes`.
pub fn decode<T: Decode<()> + Encode>(bytes: &[u8]) -> Result<T, EncodingError> {
    if bytes.len() > MAX_ENCODED_LEN {
        return Err(EncodingError::TooLong(bytes.len()));
    }
    let (value, used): (T, usize) = bincode::decode_from_slice(bytes, config())
        .map_err(|e| EncodingError::Malformed(e.to_string()))?;
    if used != bytes.len() {
        return Err(EncodingError::TrailingBytes(bytes.len() - used));
    }
    if encode(&value) != bytes {
        return Err(EncodingError::NonCanonical);
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_is_fixed_width_little_endian() {
        assert_eq!(encode(&1u64), [1, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(encode(&-1i64), [0xff; 8]);
        assert_eq!(
            encode(&"ab".to_string()),
            [2, 0, 0, 0, 0, 0, 0, 0, b'a', b'b']
        );
        assert_eq!(encode(&Some(1u8)), [1, 1]);
        assert_eq!(encode(&[9u8; 3]), [9, 9, 9]);
        assert_eq!(encode(&true), [1]);
    }

    #[test]
    fn strict_decoding() {
        assert_eq!(decode::<u64>(&[1, 0, 0, 0, 0, 0, 0, 0]), Ok(1));
        assert!(matches!(
            decode::<u64>(&[1, 0, 0]),
            Err(EncodingError::Malformed(_))
        ));
        assert!(matches!(
            decode::<u8>(&[1, 0]),
            Err(EncodingError::TrailingBytes(1))
        ));
        assert!(matches!(
            decode::<bool>(&[2]),
            Err(EncodingError::Malformed(_))
        ));
        // A string length far beyond the input must not allocate.
        let mut huge = vec![0xff; 8];
        huge.push(b'a');
        assert!(decode::<String>(&huge).is_err());
    }
}
