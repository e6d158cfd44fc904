//! `Range {start = 0, stop, step = 1}`: a source that emits the integers of Python's
//! `range(start, stop, step)`.

use std::sync::Arc;

use serde_json::json;

use crate::node::{NodeError, NodeImpl, NodeType, ParamKind, ParamSpec, Role, Source, param_i64};
use crate::value::Value;

/// The node's type name.
pub const NAME: &str = "Range";

/// Emits `start, start + step, ...` up to (not including) `stop`.
pub struct Range {
    next: Option<i64>,
    stop: i64,
    step: i64,
}

impl Range {
    /// `range(start, stop, step)`; `step` must not be 0.
    pub fn new(start: i64, stop: i64, increment: i64) -> Self {
        Range {
            next: Some(start),
            stop,
            step: increment,
        }
    }

    fn in_range(&self, v: i64) -> bool {
        if self.step > 0 {
            v < self.stop
        } else {
            v > self.stop
        }
    }
}

impl Source for Range {
    fn fill(&mut self, out: &mut Vec<Value>, max: usize) -> Result<bool, NodeError> {
        for _ in 0..max {
            match self.next {
                Some(v) if self.in_range(v) => {
                    out.push(Value::Int(v));
                    self.next = v.checked_add(self.step);
                }
                _ => {
                    self.next = None;
                    return Ok(false);
                }
            }
        }
        Ok(self.next.is_some_and(|v| self.in_range(v)))
    }
}

pub(super) fn node_types() -> Vec<NodeType> {
    vec![
        NodeType::rust(
            NAME,
            super::PROVIDER,
            "Source: emits the integers of range(start, stop, step).",
            Role::Source,
            vec![
                ParamSpec::optional("start", ParamKind::Integer, json!(0), "first value"),
                ParamSpec::required("stop", ParamKind::Integer, "end, not included"),
                ParamSpec::optional("step", ParamKind::Integer, json!(1), "increment, not 0"),
            ],
            Arc::new(|params| {
                NodeImpl::source(Range::new(
                    param_i64(params, "start", 0),
                    param_i64(params, "stop", 0),
                    param_i64(params, "step", 1),
                ))
            }),
        )
        .with_check(|params| {
            if param_i64(params, "step", 1) == 0 {
                return Err(("step".to_owned(), "must not be 0".to_owned()));
            }
            Ok(())
        }),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(mut r: Range, morsel: usize) -> Vec<i64> {
        let mut out = Vec::new();
        while r.fill(&mut out, morsel).unwrap() {}
        out.into_iter()
            .map(|v| {
                if let Value::Int(i) = v {
                    i
                } else {
                    unreachable!()
                }
            })
            .collect()
    }

    #[test]
    fn matches_python_range() {
        assert_eq!(collect(Range::new(0, 5, 1), 2), vec![0, 1, 2, 3, 4]);
        assert_eq!(collect(Range::new(10, 0, -3), 1), vec![10, 7, 4, 1]);
        assert_eq!(collect(Range::new(5, 5, 1), 4), Vec::<i64>::new());
        assert_eq!(collect(Range::new(0, 3, 5), 8), vec![0]);
    }

    #[test]
    fn stops_at_the_edge_of_i64_without_overflowing() {
        assert_eq!(
            collect(Range::new(i64::MAX - 1, i64::MAX, 4), 3),
            vec![i64::MAX - 1]
        );
    }
}
