//! A fast hasher for maps keyed by object names.
//!
//! The standard SipHash resists hash flooding, which costs time on every
//! lookup: building the name index of 50,000 tables took about 11 ms with it
//! on a 2-core VM (benches/diff.rs), a tenth of the whole comparison. Names here come from the warehouse's own catalog,
//! so the multiply-rotate hash below (the FxHash scheme) is enough.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Odd 64-bit multiplier that spreads bits (the FxHash constant).
const MULTIPLIER: u64 = 0x517c_c1b7_2722_0a95;

/// Hasher of [`NameMap`]: folds 8 bytes at a time.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct NameHasher {
    hash: u64,
}

impl NameHasher {
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(MULTIPLIER);
    }
}

impl Hasher for NameHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_u8(&mut self, value: u8) {
        self.add(u64::from(value));
    }

    fn write_usize(&mut self, value: usize) {
        self.add(value as u64);
    }

    fn finish(&self) -> u64 {
        self.hash
    }
}

/// A hash map keyed by names, with [`NameHasher`].
pub(crate) type NameMap<'a, V> = HashMap<&'a str, V, BuildHasherDefault<NameHasher>>;

#[cfg(test)]
mod tests {
    use super::NameMap;

    #[test]
    fn name_map_keeps_distinct_names_apart() {
        let names = ["id", "ID", "customer_id", "customer_id_", "a\0", "a", ""];
        let map: NameMap<'_, usize> = names
            .iter()
            .enumerate()
            .map(|(index, name)| (*name, index))
            .collect();
        for (index, name) in names.iter().enumerate() {
            assert_eq!(map.get(name), Some(&index), "{name:?}");
        }
        assert_eq!(map.len(), names.len());
    }
}
