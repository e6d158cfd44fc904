//! `Add {addend}`: adds `addend` to every number.

use super::arith::{self, Operator};
use crate::node::NodeType;

/// The node's type name.
pub const NAME: &str = "Add";

const OPERATOR: Operator = Operator {
    node: NAME,
    symbol: '+',
    int: i64::checked_add,
    float: |a, b| a + b,
};

pub(super) fn node_types() -> Vec<NodeType> {
    vec![arith::node_type(
        OPERATOR,
        "addend",
        "the number to add",
        "Adds `addend` to every number; an int stays an int, a float addend gives floats.",
    )]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::Node;
    use crate::node::builtin::arith::{Arith, Operand};
    use crate::value::Value;

    #[test]
    fn adds_to_ints_and_floats() {
        let mut items = vec![Value::Int(1), Value::Float(1.5), Value::Int(-3)];
        Arith::new(OPERATOR, Operand::Int(2))
            .process(&mut items)
            .unwrap();
        assert_eq!(
            items,
            vec![Value::Int(3), Value::Float(3.5), Value::Int(-1)]
        );
    }

    #[test]
    fn null_is_a_type_error() {
        let mut items = vec![Value::Null];
        let err = Arith::new(OPERATOR, Operand::Float(1.0))
            .process(&mut items)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "TypeError: Add expects a number, got null null"
        );
    }
}
