//! Limit: OFFSET and LIMIT applied after the merge. Each data node was asked for
//! `LIMIT offset + limit` rows; the merge skips `offset` rows of the merged stream and
//! stops after `limit` more, without pulling (or asking any node for) another row.

use crate::error::MergeError;
use crate::operator::{Context, Operator, Pull};

/// Skips `offset` rows, then passes at most `limit`.
#[derive(Debug)]
pub(crate) struct Limit {
    child: Box<dyn Operator>,
    offset: u64,
    limit: Option<u64>,
    skipped: u64,
    emitted: u64,
}

impl Limit {
    /// OFFSET `offset` LIMIT `limit` (None: no limit) over `child`.
    pub fn new(child: Box<dyn Operator>, offset: u64, limit: Option<u64>) -> Self {
        Self {
            child,
            offset,
            limit,
            skipped: 0,
            emitted: 0,
        }
    }
}

impl Operator for Limit {
    fn pull(&mut self, cx: &mut Context) -> Result<Pull, MergeError> {
        loop {
            if self.limit.is_some_and(|limit| self.emitted >= limit) {
                return Ok(Pull::Done);
            }
            match self.child.pull(cx)? {
                Pull::Row(_) if self.skipped < self.offset => self.skipped += 1,
                Pull::Row(row) => {
                    self.emitted += 1;
                    return Ok(Pull::Row(row));
                }
                other => return Ok(other),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{context, drain, RowsSource};
    use proptest::prelude::*;

    fn run(n: usize, offset: u64, limit: Option<u64>) -> Vec<usize> {
        let numbers: Vec<String> = (0..n).map(|i| i.to_string()).collect();
        let rows: Vec<Vec<Option<&str>>> = numbers.iter().map(|s| vec![Some(s.as_str())]).collect();
        let mut op = Limit::new(Box::new(RowsSource::new(&rows)), offset, limit);
        drain(&mut op, &mut context())
            .unwrap()
            .into_iter()
            .map(|r| r[0].as_deref().unwrap().parse().unwrap())
            .collect()
    }

    #[test]
    fn offset_and_limit_slice_the_stream() {
        assert_eq!(run(10, 2, Some(3)), vec![2, 3, 4]);
        assert_eq!(run(10, 8, Some(5)), vec![8, 9]);
        assert_eq!(run(10, 20, Some(5)), Vec::<usize>::new());
        assert_eq!(run(3, 0, None), vec![0, 1, 2]);
        assert_eq!(run(3, 1, None), vec![1, 2]);
        assert_eq!(run(3, 0, Some(0)), Vec::<usize>::new());
    }

    #[derive(Debug)]
    struct NeverAsked;

    impl Operator for NeverAsked {
        fn pull(&mut self, _cx: &mut Context) -> Result<Pull, MergeError> {
            panic!("LIMIT 0 must not pull its input")
        }
    }

    #[test]
    fn limit_zero_never_pulls() {
        let mut op = Limit::new(Box::new(NeverAsked), 0, Some(0));
        assert!(matches!(op.pull(&mut context()), Ok(Pull::Done)));
    }

    proptest! {
        #[test]
        fn limit_equals_slicing(n in 0usize..40, offset in 0u64..50, limit in proptest::option::of(0u64..50)) {
            let expected: Vec<usize> = (0..n)
                .skip(offset as usize)
                .take(limit.map_or(usize::MAX, |l| l as usize))
                .collect();
            prop_assert_eq!(run(n, offset, limit), expected);
        }
    }
}
