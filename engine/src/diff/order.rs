//! Detection of columns whose relative order changed.
//!
//! Dropping a column shifts the ordinal of every column after it; that is not a
//! move. A column moved when its order relative to the other surviving columns
//! changed. The columns of a longest increasing subsequence of previous ordinals
//! (taken in current order) kept their relative order; every other column moved.

/// Returns, for each entry of `previous_ordinals` (listed in current column
/// order), whether that column moved relative to the others.
pub(crate) fn moved_positions(previous_ordinals: &[u32]) -> Vec<bool> {
    let kept = longest_increasing_subsequence(previous_ordinals);
    let mut moved = vec![true; previous_ordinals.len()];
    for index in kept {
        moved[index] = false;
    }
    moved
}

/// Returns the indexes of one longest strictly increasing subsequence, in
/// O(n log n). Among several of the same length it prefers the one ending earliest.
fn longest_increasing_subsequence(values: &[u32]) -> Vec<usize> {
    // tails[k]: index of the smallest tail value of an increasing run of length k + 1.
    let mut tails: Vec<usize> = Vec::new();
    let mut predecessor: Vec<Option<usize>> = vec![None; values.len()];

    for (index, value) in values.iter().enumerate() {
        let length = tails.partition_point(|&tail| values[tail] < *value);
        predecessor[index] = length.checked_sub(1).map(|previous| tails[previous]);
        if length == tails.len() {
            tails.push(index);
        } else {
            tails[length] = index;
        }
    }

    let mut subsequence = Vec::with_capacity(tails.len());
    let mut cursor = tails.last().copied();
    while let Some(index) = cursor {
        subsequence.push(index);
        cursor = predecessor[index];
    }
    subsequence.reverse();
    subsequence
}

#[cfg(test)]
mod tests {
    use super::moved_positions;

    #[test]
    fn moved_positions_ignores_shift_after_drop() {
        // Columns 1, 3, 4 survive a drop of column 2 and keep their order.
        assert_eq!(moved_positions(&[1, 3, 4]), vec![false, false, false]);
    }

    #[test]
    fn moved_positions_flags_moved_column() {
        // Column 4 moved to the front.
        assert_eq!(
            moved_positions(&[4, 1, 2, 3]),
            vec![true, false, false, false]
        );
    }

    #[test]
    fn moved_positions_flags_swap_once() {
        assert_eq!(moved_positions(&[2, 1]), vec![true, false]);
    }

    #[test]
    fn moved_positions_handles_empty_input() {
        assert!(moved_positions(&[]).is_empty());
    }
}
