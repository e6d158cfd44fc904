//! The arithmetic node behind `Add` and `Multiply`: one operator applied to every item.
//!
//! Ints stay ints (checked: `OverflowError` where Python would grow the integer), a float on
//! either side makes a float, anything else is a `TypeError`. JSON booleans are not numbers
//! here, unlike Python's `bool`, because a manifest author who sends `true` meant a flag.

use std::sync::Arc;

use crate::error::NodeError;
use crate::node::{Node, NodeImpl, NodeType, ParamKind, ParamSpec, Role, param_f64_or_i64};
use crate::value::Value;

/// A number parameter: an integer, or a float.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Operand {
    /// Integer operand.
    Int(i64),
    /// Float operand.
    Float(f64),
}

/// One binary operator on numbers.
#[derive(Clone, Copy)]
pub struct Operator {
    /// The node type that applies it, for messages.
    pub node: &'static str,
    /// Its symbol, for messages.
    pub symbol: char,
    /// On two ints; `None` on overflow.
    pub int: fn(i64, i64) -> Option<i64>,
    /// On two floats.
    pub float: fn(f64, f64) -> f64,
}

/// Applies its operator with a fixed right-hand operand to every item.
pub struct Arith {
    op: Operator,
    operand: Operand,
}

impl Arith {
    /// `item <op> operand` for every item.
    pub fn new(op: Operator, operand: Operand) -> Self {
        Arith { op, operand }
    }

    #[allow(clippy::cast_precision_loss)] // int with float operand: Python's int * float, same rounding
    fn apply(&self, item: &mut Value) -> Result<(), NodeError> {
        let Operator {
            node,
            symbol,
            int,
            float,
        } = self.op;
        *item = match (&*item, self.operand) {
            (Value::Int(a), Operand::Int(b)) => Value::Int(int(*a, b).ok_or_else(|| {
                NodeError::new(
                    "OverflowError",
                    format!("{node}: {a} {symbol} {b} does not fit in a 64-bit integer"),
                )
            })?),
            (Value::Int(a), Operand::Float(b)) => Value::Float(float(*a as f64, b)),
            (Value::Float(a), Operand::Int(b)) => Value::Float(float(*a, b as f64)),
            (Value::Float(a), Operand::Float(b)) => Value::Float(float(*a, b)),
            (other, _) => {
                return Err(NodeError::new(
                    "TypeError",
                    format!(
                        "{node} expects a number, got {} {}",
                        other.kind(),
                        other.brief()
                    ),
                ));
            }
        };
        Ok(())
    }
}

impl Node for Arith {
    /// On the first error, `items` keeps only the outputs of the items before the failing one
    /// (the node contract).
    fn process(&mut self, items: &mut Vec<Value>) -> Result<(), NodeError> {
        let failed = items
            .iter_mut()
            .enumerate()
            .find_map(|(i, item)| self.apply(item).err().map(|e| (i, e)));
        match failed {
            Some((i, error)) => {
                items.truncate(i);
                Err(error)
            }
            None => Ok(()),
        }
    }
}

/// The registry entry of an arithmetic node whose operand is the number parameter `param`.
pub fn node_type(
    op: Operator,
    param: &'static str,
    param_doc: &'static str,
    doc: &str,
) -> NodeType {
    NodeType::rust(
        op.node,
        super::PROVIDER,
        doc,
        Role::Transform,
        vec![ParamSpec::required(param, ParamKind::Number, param_doc)],
        Arc::new(move |params| {
            let operand = match param_f64_or_i64(params, param, 0) {
                Ok(i) => Operand::Int(i),
                Err(x) => Operand::Float(x),
            };
            NodeImpl::sync(Arith::new(op, operand))
        }),
    )
}
