//! [`PathTable`]: values keyed by a namespace path, kept in the order they were added, each looked up, added and
//! removed in constant time (removal amortised).
//!
//! The session keeps its namespaces in one, and so does the Godot layer its namespace handles: a game may create
//! (and remove) a namespace per match, so nothing may scan them all per call. Creation order is kept because it is
//! the order things happen in for the user: namespaces rejoin, and report a lost connection, in the order they
//! were created.

use std::collections::HashMap;

/// Values by path, in insertion order. See the module documentation.
///
/// A value has a slot index ([`PathTable::index_of`]) that stays valid until the next [`PathTable::remove`], which
/// may compact the slots.
#[derive(Debug, Clone)]
pub struct PathTable<V> {
    /// In insertion order; `None` where a value was removed (compacted away once holes are the majority).
    slots: Vec<Option<(Box<str>, V)>>,
    index: HashMap<Box<str>, usize>,
    /// The slot of `"/"`, the namespace nearly every packet is for, which is then found without hashing its path
    /// (the index holds it too).
    root: Option<usize>,
}

impl<V> Default for PathTable<V> {
    fn default() -> Self {
        PathTable::new()
    }
}

impl<V> PathTable<V> {
    /// An empty table.
    pub fn new() -> Self {
        PathTable {
            slots: Vec::new(),
            index: HashMap::new(),
            root: None,
        }
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether there is no value.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Whether `path` has a value.
    pub fn contains(&self, path: &str) -> bool {
        self.index_of(path).is_some()
    }

    /// The slot of `path`'s value.
    pub fn index_of(&self, path: &str) -> Option<usize> {
        if path == "/" {
            return self.root;
        }
        self.index.get(path).copied()
    }

    /// `path`'s value.
    pub fn get(&self, path: &str) -> Option<&V> {
        self.index_of(path).and_then(|i| self.slot(i))
    }

    /// `path`'s value, mutable.
    pub fn get_mut(&mut self, path: &str) -> Option<&mut V> {
        let i = self.index_of(path)?;
        self.slot_mut(i)
    }

    /// The value in slot `i`, if that slot holds one.
    pub fn slot(&self, i: usize) -> Option<&V> {
        self.slots.get(i)?.as_ref().map(|(_, v)| v)
    }

    /// The value in slot `i`, mutable.
    pub fn slot_mut(&mut self, i: usize) -> Option<&mut V> {
        self.slots.get_mut(i)?.as_mut().map(|(_, v)| v)
    }

    /// One past the last slot: `0..slot_count()` covers every value (some slots may be empty).
    pub fn slot_count(&self) -> usize {
        self.slots.len()
    }

    /// Adds `value` for `path` at the end, or replaces `path`'s value in its place. Returns the value replaced.
    pub fn insert(&mut self, path: &str, value: V) -> Option<V> {
        if let Some(i) = self.index_of(path) {
            if let Some((_, old)) = self.slots[i].as_mut() {
                return Some(std::mem::replace(old, value));
            }
        }
        if path == "/" {
            self.root = Some(self.slots.len());
        }
        self.index.insert(path.into(), self.slots.len());
        self.slots.push(Some((path.into(), value)));
        None
    }

    /// Removes `path`'s value and returns it. Slot indices may change.
    pub fn remove(&mut self, path: &str) -> Option<V> {
        let i = self.index.remove(path)?;
        if path == "/" {
            self.root = None;
        }
        let (_, value) = self.slots[i].take()?;
        // Compacted when holes outnumber values: each removal costs O(1) amortised, and the slots never grow past
        // twice the values (plus a little).
        if self.slots.len() > 16 && self.index.len() * 2 < self.slots.len() {
            self.compact();
        }
        Some(value)
    }

    fn compact(&mut self) {
        self.slots.retain(Option::is_some);
        for (i, slot) in self.slots.iter().enumerate() {
            if let Some((path, _)) = slot {
                if let Some(entry) = self.index.get_mut(path) {
                    *entry = i;
                }
                if &**path == "/" {
                    self.root = Some(i);
                }
            }
        }
    }

    /// The values, in insertion order.
    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.slots.iter().flatten().map(|(_, v)| v)
    }

    /// The values, mutable, in insertion order.
    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut V> {
        self.slots.iter_mut().flatten().map(|(_, v)| v)
    }

    /// Paths and values, in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &V)> {
        self.slots.iter().flatten().map(|(p, v)| (&**p, v))
    }

    /// The values, in insertion order, consuming the table.
    pub fn into_values(self) -> impl Iterator<Item = V> {
        self.slots.into_iter().flatten().map(|(_, v)| v)
    }

    /// Takes every value out, in insertion order, leaving the table empty.
    pub fn drain(&mut self) -> impl Iterator<Item = V> {
        self.index.clear();
        self.root = None;
        std::mem::take(&mut self.slots).into_iter().flatten().map(|(_, v)| v)
    }
}

impl<V> std::ops::Index<usize> for PathTable<V> {
    type Output = V;

    /// The value in slot `i`; panics if the slot is empty (use indices from [`PathTable::index_of`]).
    fn index(&self, i: usize) -> &V {
        self.slot(i).expect("a slot index from index_of, with no removal since")
    }
}

impl<V> std::ops::IndexMut<usize> for PathTable<V> {
    fn index_mut(&mut self, i: usize) -> &mut V {
        self.slot_mut(i)
            .expect("a slot index from index_of, with no removal since")
    }
}

#[cfg(test)]
mod tests {
    use super::PathTable;

    #[test]
    fn keeps_insertion_order_across_removals_and_compaction() {
        let mut table = PathTable::new();
        for i in 0..100 {
            assert!(table.insert(&format!("/{i}"), i).is_none());
        }
        assert_eq!(table.insert("/5", 500), Some(5));
        for i in (0..100).filter(|i| i % 3 != 0) {
            assert_eq!(table.remove(&format!("/{i}")), Some(if i == 5 { 500 } else { i }));
        }
        assert!(table.remove("/1").is_none());
        let left: Vec<i32> = table.values().copied().collect();
        assert_eq!(left, (0..100).filter(|i| i % 3 == 0).collect::<Vec<_>>());
        assert_eq!(table.len(), left.len());
        assert!(
            table.slot_count() < 2 * left.len() + 17,
            "compacted: {} slots",
            table.slot_count()
        );
        for i in (0..100).filter(|i| i % 3 == 0) {
            let path = format!("/{i}");
            assert_eq!(table.get(&path), Some(&i));
            assert_eq!(table.slot(table.index_of(&path).unwrap()), Some(&i));
        }
        table.insert("/new", 1000);
        assert_eq!(table.values().last(), Some(&1000));
        // "/" (found without the index) through insertion, replacement, compaction and removal.
        assert!(!table.contains("/") && table.get("/").is_none());
        table.insert("/", -1);
        assert_eq!(table.insert("/", -2), Some(-1));
        for i in (0..100).filter(|i| i % 3 == 0) {
            assert_eq!(table.remove(&format!("/{i}")), Some(i));
        }
        assert_eq!(table.get("/"), Some(&-2));
        assert_eq!(table.slot(table.index_of("/").unwrap()), Some(&-2));
        assert_eq!(table.iter().map(|(p, _)| p).collect::<Vec<_>>(), ["/new", "/"]);
        assert_eq!(table.remove("/"), Some(-2));
        assert!(!table.contains("/") && table.remove("/").is_none());
        table.insert("/", -3);
        assert_eq!(table.get("/"), Some(&-3));
        let left = table.len();
        assert_eq!(table.drain().count(), left);
        assert!(table.is_empty() && table.get("/0").is_none() && table.get("/").is_none());
    }
}
