//! `Add {addend}`: adds `addend` to every number.

use std::sync::Arc;

use super::arith::{Operand, apply, map_in_place};
use crate::node::{
    Node, NodeError, NodeImpl, NodeType, ParamKind, ParamSpec, Role, param_f64_or_i64,
};
use crate::value::Value;

/// The node's type name.
pub const NAME: &str = "Add";

/// Adds a constant to every number.
pub struct Add {
    addend: Operand,
}

impl Node for Add {
    fn process(&mut self, items: &mut Vec<Value>) -> Result<(), NodeError> {
        map_in_place(items, |item| {
            apply(NAME, '+', item, self.addend, i64::checked_add, |a, b| a + b)
        })
    }
}

pub(super) fn node_types() -> Vec<NodeType> {
    vec![NodeType {
        name: NAME.to_owned(),
        provider: "builtin".to_owned(),
        runtime: "rust",
        doc: "Adds `addend` to every number; an int stays an int, a float addend gives floats."
            .to_owned(),
        role: Role::Transform,
        params: vec![ParamSpec {
            name: "addend",
            kind: ParamKind::Number,
            required: true,
            doc: "the number to add",
        }],
        factory: Arc::new(|params| {
            let addend = param_f64_or_i64(params, "addend", 0).into();
            Ok(NodeImpl::sync(Add { addend }))
        }),
    }]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds_to_ints_and_floats() {
        let mut items = vec![Value::Int(1), Value::Float(1.5), Value::Int(-3)];
        Add {
            addend: Operand::Int(2),
        }
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
        let err = Add {
            addend: Operand::Float(1.0),
        }
        .process(&mut items)
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "TypeError: Add expects a number, got null null"
        );
    }
}
