//! `Multiply {factor}`: multiplies every number by `factor`.

use std::sync::Arc;

use super::arith::{Operand, apply, map_in_place};
use crate::node::{
    Node, NodeError, NodeImpl, NodeType, ParamKind, ParamSpec, Role, param_f64_or_i64,
};
use crate::value::Value;

/// The node's type name.
pub const NAME: &str = "Multiply";

/// Multiplies every number by a factor.
pub struct Multiply {
    factor: Operand,
}

impl Node for Multiply {
    fn process(&mut self, items: &mut Vec<Value>) -> Result<(), NodeError> {
        map_in_place(items, |item| {
            apply(NAME, '*', item, self.factor, i64::checked_mul, |a, b| a * b)
        })
    }
}

pub(super) fn node_types() -> Vec<NodeType> {
    vec![NodeType {
        name: NAME.to_owned(),
        provider: "builtin".to_owned(),
        runtime: "rust",
        doc:
            "Multiplies every number by `factor`; an int stays an int, a float factor gives floats."
                .to_owned(),
        role: Role::Transform,
        params: vec![ParamSpec {
            name: "factor",
            kind: ParamKind::Number,
            required: true,
            doc: "the multiplier",
        }],
        factory: Arc::new(|params| {
            let factor = param_f64_or_i64(params, "factor", 1).into();
            Ok(NodeImpl::sync(Multiply { factor }))
        }),
    }]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(factor: Operand, items: Vec<Value>) -> Result<Vec<Value>, NodeError> {
        let mut items = items;
        Multiply { factor }.process(&mut items)?;
        Ok(items)
    }

    #[test]
    fn ints_stay_ints_and_floats_spread() {
        assert_eq!(
            run(Operand::Int(3), vec![2.into(), 0.5.into()]).unwrap(),
            vec![6.into(), 1.5.into()]
        );
        assert_eq!(
            run(Operand::Float(0.5), vec![4.into()]).unwrap(),
            vec![2.0.into()]
        );
    }

    #[test]
    fn non_numbers_and_overflow_are_node_errors() {
        let mut items = vec![1.into(), 2.into(), "x".into(), 4.into()];
        let err = Multiply {
            factor: Operand::Int(2),
        }
        .process(&mut items)
        .unwrap_err();
        assert_eq!(
            items,
            vec![2.into(), 4.into()],
            "outputs before the failing item stay"
        );
        assert_eq!(
            err.to_string(),
            "TypeError: Multiply expects a number, got string \"x\""
        );
        let err = run(Operand::Int(2), vec![i64::MAX.into()]).unwrap_err();
        assert_eq!(err.error_type, "OverflowError");
        let err = run(Operand::Int(2), vec![Value::Bool(true)]).unwrap_err();
        assert_eq!(err.error_type, "TypeError");
    }
}
