//! A small bounded cache for converters: read-mostly, shared between
//! threads, with CLOCK ("second chance") eviction so hot entries survive
//! without a write lock on every hit.
//!
//! A hit takes the read lock, sets the entry's reference bit (a relaxed
//! atomic store, skipped when already set) and runs the caller's closure on
//! the value while the lock is held; callers keep that closure tiny (copy
//! bytes out, clone an `Arc`). A miss is handled by the caller outside the
//! lock and published with [`ClockCache::insert`].

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

struct Slot<K, V> {
    key: K,
    value: V,
    referenced: AtomicBool,
}

struct Inner<K, V, S> {
    index: HashMap<K, usize, S>,
    slots: Vec<Slot<K, V>>,
    hand: usize,
}

pub(crate) struct ClockCache<K, V, S = std::collections::hash_map::RandomState> {
    capacity: usize,
    inner: RwLock<Inner<K, V, S>>,
}

impl<K: Hash + Eq + Clone, V, S: BuildHasher + Default> ClockCache<K, V, S> {
    /// A cache holding at most `capacity` entries; 0 disables caching.
    pub(crate) fn new(capacity: usize) -> Self {
        ClockCache {
            capacity,
            inner: RwLock::new(Inner {
                index: HashMap::with_hasher(S::default()),
                slots: Vec::new(),
                hand: 0,
            }),
        }
    }

    fn read(&self) -> RwLockReadGuard<'_, Inner<K, V, S>> {
        // The lock is never held across code that can panic, but recover
        // from poisoning anyway: the cache holds no invariant a panic breaks.
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Inner<K, V, S>> {
        self.inner.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` on the cached value for `key`, if any.
    pub(crate) fn with<Q, R>(&self, key: &Q, f: impl FnOnce(&V) -> R) -> Option<R>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        if self.capacity == 0 {
            return None;
        }
        let inner = self.read();
        let slot = &inner.slots[*inner.index.get(key)?];
        if !slot.referenced.load(Ordering::Relaxed) {
            slot.referenced.store(true, Ordering::Relaxed);
        }
        Some(f(&slot.value))
    }

    /// Adds an entry, evicting one that was not used since the clock hand
    /// last passed it when full. If another thread inserted the same key in
    /// the meantime, the existing entry is kept.
    pub(crate) fn insert(&self, key: K, value: V) {
        if self.capacity == 0 {
            return;
        }
        let mut guard = self.write();
        let inner = &mut *guard;
        if inner.index.contains_key(&key) {
            return;
        }
        let slot = Slot {
            key: key.clone(),
            value,
            referenced: AtomicBool::new(false),
        };
        if inner.slots.len() < self.capacity {
            inner.index.insert(key, inner.slots.len());
            inner.slots.push(slot);
            return;
        }
        loop {
            let hand = inner.hand;
            inner.hand = (hand + 1) % self.capacity;
            if inner.slots[hand].referenced.swap(false, Ordering::Relaxed) {
                continue;
            }
            inner.index.remove(&inner.slots[hand].key);
            inner.slots[hand] = slot;
            inner.index.insert(key, hand);
            return;
        }
    }

    /// Number of cached entries.
    pub(crate) fn len(&self) -> usize {
        self.read().slots.len()
    }
}

/// Hasher for pointer-sized keys (`Arc::as_ptr` addresses): one multiply
/// and a fold, so the aligned low bits still spread over the buckets.
#[derive(Default, Clone, Copy)]
pub(crate) struct PtrHash;

pub(crate) struct PtrHasher(u64);

impl BuildHasher for PtrHash {
    type Hasher = PtrHasher;
    fn build_hasher(&self) -> PtrHasher {
        PtrHasher(0)
    }
}

impl Hasher for PtrHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_usize(&mut self, n: usize) {
        let h = (self.0 ^ n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        self.0 = h ^ (h >> 29);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_with_second_chance() {
        let cache: ClockCache<usize, usize, PtrHash> = ClockCache::new(2);
        cache.insert(1, 10);
        cache.insert(2, 20);
        // Touch 1 so that 2 is the victim.
        assert_eq!(cache.with(&1, |v| *v), Some(10));
        cache.insert(3, 30);
        assert_eq!(cache.len(), 2);
        assert_eq!(cache.with(&1, |v| *v), Some(10));
        assert_eq!(cache.with(&2, |v| *v), None);
        assert_eq!(cache.with(&3, |v| *v), Some(30));
        // Re-inserting an existing key keeps the old value.
        cache.insert(3, 31);
        assert_eq!(cache.with(&3, |v| *v), Some(30));
    }

    #[test]
    fn zero_capacity_disables() {
        let cache: ClockCache<usize, usize, PtrHash> = ClockCache::new(0);
        cache.insert(1, 1);
        assert_eq!(cache.len(), 0);
        assert_eq!(cache.with(&1, |v| *v), None);
    }
}
