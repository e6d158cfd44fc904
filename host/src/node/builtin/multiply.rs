//! `Multiply {factor}`: multiplies every number by `factor`.

use super::arith::{self, Operator};
use crate::node::NodeType;

/// The node's type name.
pub const NAME: &str = "Multiply";

const OPERATOR: Operator = Operator {
    node: NAME,
    symbol: '*',
    int: i64::checked_mul,
    float: |a, b| a * b,
};

pub(super) fn node_types() -> Vec<NodeType> {
    vec![arith::node_type(
        OPERATOR,
        "factor",
        "the multiplier",
        "Multiplies every number by `factor`; an int stays an int, a float factor gives floats.",
    )]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::Node;
    use crate::node::builtin::arith::{Arith, Operand};
    use crate::value::Value;

    fn run(factor: Operand, mut items: Vec<Value>) -> (Vec<Value>, Option<String>) {
        let error = Arith::new(OPERATOR, factor)
            .process(&mut items)
            .err()
            .map(|e| e.to_string());
        (items, error)
    }

    #[test]
    fn ints_stay_ints_and_floats_spread() {
        assert_eq!(
            run(Operand::Int(3), vec![2.into(), 0.5.into()]),
            (vec![6.into(), 1.5.into()], None)
        );
        assert_eq!(
            run(Operand::Float(0.5), vec![4.into()]),
            (vec![2.0.into()], None)
        );
    }

    #[test]
    fn a_bad_item_fails_and_keeps_the_outputs_before_it() {
        let (items, error) = run(
            Operand::Int(2),
            vec![1.into(), 2.into(), "x".into(), 4.into()],
        );
        assert_eq!(items, vec![2.into(), 4.into()]);
        assert_eq!(
            error.as_deref(),
            Some("TypeError: Multiply expects a number, got string \"x\"")
        );
    }

    #[test]
    fn overflow_and_booleans_are_node_errors() {
        let (_, error) = run(Operand::Int(2), vec![i64::MAX.into()]);
        assert_eq!(
            error.as_deref(),
            Some(
                "OverflowError: Multiply: 9223372036854775807 * 2 does not fit in a 64-bit integer"
            )
        );
        let (_, error) = run(Operand::Int(2), vec![Value::Bool(true)]);
        assert_eq!(
            error.as_deref(),
            Some("TypeError: Multiply expects a number, got bool true")
        );
    }
}
