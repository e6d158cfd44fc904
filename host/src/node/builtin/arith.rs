//! Number handling shared by the arithmetic nodes: ints stay ints (checked), a float on either
//! side makes a float, anything else is a `TypeError`. JSON booleans are not numbers here,
//! unlike Python's `bool`, because a manifest author who sends `true` meant a flag.

use crate::error::NodeError;
use crate::value::Value;

/// A number parameter: an integer, or a float.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Operand {
    /// Integer operand.
    Int(i64),
    /// Float operand.
    Float(f64),
}

impl From<Result<i64, f64>> for Operand {
    fn from(v: Result<i64, f64>) -> Self {
        match v {
            Ok(i) => Operand::Int(i),
            Err(x) => Operand::Float(x),
        }
    }
}

impl std::fmt::Display for Operand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Operand::Int(i) => write!(f, "{i}"),
            Operand::Float(x) => write!(f, "{x:?}"),
        }
    }
}

/// Applies `int_op` / `float_op` to `item` and `operand` in place.
#[allow(clippy::cast_precision_loss)] // int with float operand: Python's int * float, same rounding
pub fn apply(
    node: &str,
    symbol: char,
    item: &mut Value,
    operand: Operand,
    int_op: fn(i64, i64) -> Option<i64>,
    float_op: fn(f64, f64) -> f64,
) -> Result<(), NodeError> {
    let result = match (&*item, operand) {
        (Value::Int(a), Operand::Int(b)) => Value::Int(int_op(*a, b).ok_or_else(|| {
            NodeError::new(
                "OverflowError",
                format!("{node}: {a} {symbol} {b} does not fit in a 64-bit integer"),
            )
        })?),
        (Value::Int(a), Operand::Float(b)) => Value::Float(float_op(*a as f64, b)),
        (Value::Float(a), Operand::Int(b)) => Value::Float(float_op(*a, b as f64)),
        (Value::Float(a), Operand::Float(b)) => Value::Float(float_op(*a, b)),
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
    *item = result;
    Ok(())
}

/// Applies `f` to every item in place. On the first error, `items` keeps only the outputs of
/// the items before the failing one (the node contract), and the error is returned.
pub fn map_in_place(
    items: &mut Vec<Value>,
    mut f: impl FnMut(&mut Value) -> Result<(), NodeError>,
) -> Result<(), NodeError> {
    let failed = items
        .iter_mut()
        .enumerate()
        .find_map(|(i, item)| f(item).err().map(|e| (i, e)));
    match failed {
        Some((i, error)) => {
            items.truncate(i);
            Err(error)
        }
        None => Ok(()),
    }
}
