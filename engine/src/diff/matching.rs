//! Pairing of previous and current objects: by name first, then by stable id.
//!
//! A stable id only pairs an object that disappeared by name with one that
//! appeared by name, and only when both carry the same id. Nothing is paired on
//! similarity, so a rename is reported only when the warehouse's stable ids
//! show one. The one exception is a column renamed only in letter case, paired
//! by `columns::pair_case_renames` when neither side has an id.

use super::name_hash::NameMap;

/// Name and stable id of an object on one side of the comparison.
pub(crate) trait Identity {
    fn name(&self) -> &str;
    fn stable_id(&self) -> Option<&str>;
}

/// Result of pairing two lists of objects, as indexes into them.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Matching {
    /// (previous, current) pairs with the same name, in current order.
    pub(crate) same_name: Vec<(usize, usize)>,
    /// (previous, current) pairs with different names and the same stable id,
    /// in current order.
    pub(crate) renamed: Vec<(usize, usize)>,
    /// Previous objects without a partner, in previous order.
    pub(crate) dropped: Vec<usize>,
    /// Current objects without a partner, in current order.
    pub(crate) added: Vec<usize>,
}

/// Pairs `previous` with `current` by name, then the rest by stable id.
pub(crate) fn match_objects<P: Identity, C: Identity>(previous: &[P], current: &[C]) -> Matching {
    let previous_by_name: NameMap<'_, usize> = previous
        .iter()
        .enumerate()
        .map(|(index, object)| (object.name(), index))
        .collect();

    let mut previous_matched = vec![false; previous.len()];
    let mut matching = Matching::default();
    let mut unmatched_current = Vec::new();
    for (current_index, object) in current.iter().enumerate() {
        match previous_by_name.get(object.name()) {
            Some(&previous_index) if !previous_matched[previous_index] => {
                previous_matched[previous_index] = true;
                matching.same_name.push((previous_index, current_index));
            }
            _ => unmatched_current.push(current_index),
        }
    }

    let previous_by_id: NameMap<'_, usize> = previous
        .iter()
        .enumerate()
        .filter(|(index, _)| !previous_matched[*index])
        .filter_map(|(index, object)| Some((object.stable_id()?, index)))
        .collect();
    for current_index in unmatched_current {
        let partner = current[current_index]
            .stable_id()
            .and_then(|id| previous_by_id.get(id).copied())
            .filter(|previous_index| !previous_matched[*previous_index]);
        match partner {
            Some(previous_index) => {
                previous_matched[previous_index] = true;
                matching.renamed.push((previous_index, current_index));
            }
            None => matching.added.push(current_index),
        }
    }

    matching.dropped = (0..previous.len())
        .filter(|index| !previous_matched[*index])
        .collect();
    matching
}

#[cfg(test)]
mod tests {
    use super::{Identity, Matching, match_objects};

    struct Object(&'static str, Option<&'static str>);

    impl Identity for Object {
        fn name(&self) -> &str {
            self.0
        }
        fn stable_id(&self) -> Option<&str> {
            self.1
        }
    }

    #[test]
    fn match_objects_pairs_same_names() {
        let previous = [Object("a", None), Object("b", None)];
        let current = [Object("b", None), Object("a", None)];
        let matching = match_objects(&previous, &current);
        assert_eq!(matching.same_name, vec![(1, 0), (0, 1)]);
        assert!(matching.renamed.is_empty());
    }

    #[test]
    fn match_objects_pairs_renames_by_id() {
        let previous = [Object("old", Some("7")), Object("gone", Some("8"))];
        let current = [Object("new", Some("7")), Object("fresh", Some("9"))];
        let matching = match_objects(&previous, &current);
        assert_eq!(
            matching,
            Matching {
                same_name: vec![],
                renamed: vec![(0, 0)],
                dropped: vec![1],
                added: vec![1],
            }
        );
    }

    #[test]
    fn match_objects_never_renames_without_ids() {
        let previous = [Object("old", None)];
        let current = [Object("new", None)];
        let matching = match_objects(&previous, &current);
        assert!(matching.renamed.is_empty());
        assert_eq!(matching.dropped, vec![0]);
        assert_eq!(matching.added, vec![0]);
    }

    #[test]
    fn match_objects_prefers_name_over_id() {
        // A recreated object keeps its name and gets a new id: same object by name.
        let previous = [Object("orders", Some("1"))];
        let current = [Object("orders", Some("2"))];
        let matching = match_objects(&previous, &current);
        assert_eq!(matching.same_name, vec![(0, 0)]);
        assert!(matching.added.is_empty());
        assert!(matching.dropped.is_empty());
    }

    #[test]
    fn match_objects_keeps_case_distinct_names_apart() {
        let previous = [Object("id", None)];
        let current = [Object("ID", None), Object("id", None)];
        let matching = match_objects(&previous, &current);
        assert_eq!(matching.same_name, vec![(0, 1)]);
        assert_eq!(matching.added, vec![0]);
    }
}
