//! Size-checked and time-checked versions of the CEL functions that can build large
//! values or run long, called by the rewritten program (see `rewrite`). Each checks the
//! size of what it would build before building it; the string searches run in linear
//! time (the strings extension compares every window, quadratic in the worst case).
//! Apart from the checks they behave as the functions they stand in for.

use cel::common::types::{CelInt, CelList, DYN_TYPE, Kind};
use cel::common::value::{CowVal, Val};
use cel::{DeclarationError, Env, ExecutionError, Value};

use super::limits::{self, ITEM_BYTES, weight};
use strings::{index_of, join, last_index_of, no_overload, replace, split};

mod strings;

pub(crate) const TICK: &str = "@bounded_tick";
pub(crate) const ENTER: &str = "@bounded_enter";
pub(crate) const ITEM: &str = "@bounded_item";
pub(crate) const SIZED: &str = "@bounded_sized";
pub(crate) const ADD: &str = "@bounded_add";
pub(crate) const REPLACE: &str = "@bounded_replace";
pub(crate) const SPLIT: &str = "@bounded_split";
pub(crate) const JOIN: &str = "@bounded_join";
pub(crate) const INDEX_OF: &str = "@bounded_index_of";
pub(crate) const LAST_INDEX_OF: &str = "@bounded_last_index_of";
pub(crate) const DISTINCT: &str = "@bounded_distinct";
pub(crate) const RANGE: &str = "@bounded_range";

/// The most items `lists.range` makes, as the lists extension.
const MAX_RANGE: i64 = 1_000_000;

type Args<'b, 'v> = Vec<CowVal<'b, 'v>>;
type Out<'b, 'v> = Result<CowVal<'b, 'v>, ExecutionError>;

/// Registers the functions on `env`.
pub(crate) fn register(env: &mut Env) -> Result<(), DeclarationError> {
    let functions: [(&str, usize, cel::common::functions::Function); 17] = [
        (TICK, 1, tick),
        (ENTER, 2, enter),
        (ITEM, 2, item),
        (SIZED, 1, sized),
        (ADD, 2, add),
        (REPLACE, 3, replace),
        (REPLACE, 4, replace),
        (SPLIT, 2, split),
        (SPLIT, 3, split),
        (JOIN, 1, join),
        (JOIN, 2, join),
        (INDEX_OF, 2, index_of),
        (INDEX_OF, 3, index_of),
        (LAST_INDEX_OF, 2, last_index_of),
        (LAST_INDEX_OF, 3, last_index_of),
        (DISTINCT, 1, distinct),
        (RANGE, 1, range),
    ];
    for (name, arity, function) in functions {
        env.add_overload(
            name,
            &format!("{name}/{arity}"),
            (0..arity).map(|_| DYN_TYPE).collect(),
            function,
        )?;
    }
    Ok(())
}

fn last<'b, 'v>(mut args: Args<'b, 'v>) -> Out<'b, 'v> {
    args.pop()
        .ok_or_else(|| ExecutionError::invalid_argument_count(1, 0))
}

/// `@bounded_tick(x)`: one step of a loop; `x`.
fn tick<'b, 'v>(args: Args<'b, 'v>) -> Out<'b, 'v> {
    limits::tick()?;
    last(args)
}

fn node_id(arg: &dyn Val) -> u64 {
    arg.downcast_ref::<CelInt>()
        .and_then(|id| u64::try_from(*id.inner()).ok())
        .unwrap_or(0)
}

/// `@bounded_enter(id, range)`: the `map`/`filter` `id` starts; `range`.
fn enter<'b, 'v>(args: Args<'b, 'v>) -> Out<'b, 'v> {
    limits::enter(node_id(args[0].as_ref()))?;
    last(args)
}

/// `@bounded_item(id, x)`: the `map`/`filter` `id` appends `x`; `x`.
fn item<'b, 'v>(args: Args<'b, 'v>) -> Out<'b, 'v> {
    limits::add_item(node_id(args[0].as_ref()), args[1].as_ref())?;
    last(args)
}

/// `@bounded_sized(x)`: `x`, if it is within the size limit.
fn sized<'b, 'v>(args: Args<'b, 'v>) -> Out<'b, 'v> {
    let max = limits::max_value_bytes();
    limits::check_size(weight(args[0].as_ref(), max.saturating_add(1)))?;
    last(args)
}

/// `a + b`, when the string, bytes or list it makes is within the size limit.
fn add<'b, 'v>(args: Args<'b, 'v>) -> Out<'b, 'v> {
    let [lhs, rhs] = two(args)?;
    let (left, right) = (lhs.get_type().kind(), rhs.get_type().kind());
    if left == right && matches!(left, Kind::String | Kind::Bytes | Kind::List) {
        let max = limits::max_value_bytes().saturating_add(1);
        let size = weight(lhs.as_ref(), max).saturating_add(weight(rhs.as_ref(), max));
        limits::check_size(size)?;
    }
    let Some(adder) = lhs.as_adder() else {
        return Err(ExecutionError::UnsupportedBinaryOperator(
            "add",
            value_of(lhs.as_ref()),
            value_of(rhs.as_ref()),
        ));
    };
    let sum = adder.add(rhs.as_ref())?.into_owned();
    Ok(CowVal::Owned(sum))
}

fn value_of(val: &dyn Val) -> Value {
    Value::try_from(val).unwrap_or(Value::Null)
}

fn two<'b, 'v>(args: Args<'b, 'v>) -> Result<[CowVal<'b, 'v>; 2], ExecutionError> {
    let count = args.len();
    args.try_into()
        .map_err(|_| ExecutionError::invalid_argument_count(2, count))
}

/// `l.distinct()`: the first of each set of equal items, in order; stops at the deadline.
fn distinct<'b, 'v>(args: Args<'b, 'v>) -> Out<'b, 'v> {
    let Some(list) = args.first().and_then(|list| list.as_iterable()) else {
        return Err(no_overload("distinct", &args));
    };
    let mut unique: Vec<&dyn Val> = Vec::new();
    let mut items = list.iter();
    while let Some(item) = items.next() {
        limits::tick()?;
        if !unique.iter().any(|seen| item.equals(*seen)) {
            unique.push(item);
        }
    }
    let items: Vec<Box<dyn Val + 'v>> = unique
        .into_iter()
        .map(|item| item.clone_as_boxed())
        .collect();
    Ok(CowVal::owned(CelList::from(items)))
}

/// `lists.range(n)`: `[0, 1, ..., n - 1]`.
fn range<'b, 'v>(args: Args<'b, 'v>) -> Out<'b, 'v> {
    let Some(n) = args
        .first()
        .and_then(|n| n.downcast_ref::<CelInt>())
        .map(|n| *n.inner())
    else {
        return Err(ExecutionError::no_such_overload(
            "lists.range",
            args.iter()
                .map(|a| a.get_type().name().to_owned())
                .collect(),
        ));
    };
    if !(0..=MAX_RANGE).contains(&n) {
        return Err(ExecutionError::function_error(
            "lists.range",
            format!("size must be between 0 and {MAX_RANGE}, got {n}"),
        ));
    }
    limits::check_size((n as usize).saturating_mul(2 * ITEM_BYTES))?;
    let items: Vec<Box<dyn Val>> = (0..n)
        .map(|i| Box::new(CelInt::from(i)) as Box<dyn Val>)
        .collect();
    Ok(CowVal::owned(CelList::from(items)))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests;
