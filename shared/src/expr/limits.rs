//! The bounds of one evaluation: a deadline and the largest value it may build.
//!
//! cel has no cancellation, so the bounds are checked from inside the evaluation: the
//! rewritten program (see `rewrite`) calls [`tick`] on every comprehension iteration and
//! the size-checked functions of `bounded` call [`check_size`] before they build. The
//! state lives in a thread-local for the duration of [`within`]: functions registered
//! with cel are plain `fn`s and cannot capture it, and one evaluation runs on one thread.
//! Once a bound is hit, every later check fails at once, so that an error absorbed by
//! `||` or `exists()` still stops every loop, and [`within`] reports the bound whatever
//! the expression made of the error.

use std::cell::RefCell;
use std::collections::HashMap;
use std::time::Instant;

use cel::ExecutionError;
use cel::common::types::{CelBytes, CelMap, CelString, Kind};
use cel::common::value::Val;

/// What a scalar (number, bool, null, timestamp...) and each list item or map entry count
/// for in a value's size: about what it takes in memory beyond its text.
pub(crate) const ITEM_BYTES: usize = 8;

/// The bounds of one evaluation.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    /// When the evaluation must have finished.
    pub deadline: Instant,
    /// The largest string, bytes or list (counted as [`weight`]) it may build.
    pub max_value_bytes: usize,
}

/// A bound an evaluation hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hit {
    /// It was still running at its deadline.
    Time,
    /// It was about to build a value larger than this many bytes.
    Size(usize),
}

struct Active {
    bounds: Bounds,
    hit: Option<Hit>,
    ticks: u32,
    /// Bytes built so far by each running `map`/`filter`, by the id of its node.
    built: HashMap<u64, usize>,
}

thread_local! {
    static ACTIVE: RefCell<Option<Active>> = const { RefCell::new(None) };
}

/// Runs `evaluate` under `bounds`; the bound it hit, if any, comes back with its result.
pub(crate) fn within<T>(bounds: Bounds, evaluate: impl FnOnce() -> T) -> (T, Option<Hit>) {
    let previous = ACTIVE.with(|active| {
        active.borrow_mut().replace(Active {
            bounds,
            hit: None,
            ticks: 0,
            built: HashMap::new(),
        })
    });
    let result = evaluate();
    let hit = ACTIVE.with(|active| {
        let mut active = active.borrow_mut();
        let hit = active.as_ref().and_then(|a| a.hit);
        *active = previous;
        hit
    });
    (result, hit)
}

/// The error a function returns for `hit`; [`within`] reports the hit itself.
fn error(hit: Hit) -> ExecutionError {
    ExecutionError::function_error(
        "limit",
        match hit {
            Hit::Time => "the evaluation ran out of time".to_owned(),
            Hit::Size(max) => format!("a value would exceed {max} bytes"),
        },
    )
}

fn with_active<T>(f: impl FnOnce(&mut Active) -> Result<T, Hit>) -> Result<T, ExecutionError>
where
    T: Default,
{
    ACTIVE.with(|active| match active.borrow_mut().as_mut() {
        // Outside `within` (nothing calls the rewritten functions there): unbounded.
        None => Ok(T::default()),
        Some(active) => {
            if let Some(hit) = active.hit {
                return Err(error(hit));
            }
            f(active).map_err(|hit| {
                active.hit = Some(hit);
                error(hit)
            })
        }
    })
}

/// One step of work; fails once the deadline has passed (checked every 64 steps, so a
/// step costs a few nanoseconds).
pub(crate) fn tick() -> Result<(), ExecutionError> {
    with_active(|active| {
        active.ticks = active.ticks.wrapping_add(1);
        if active.ticks % 64 == 0 && Instant::now() >= active.bounds.deadline {
            return Err(Hit::Time);
        }
        Ok(())
    })
}

/// The largest value size allowed now (`usize::MAX` outside an evaluation).
pub(crate) fn max_value_bytes() -> usize {
    ACTIVE.with(|active| {
        active
            .borrow()
            .as_ref()
            .map_or(usize::MAX, |a| a.bounds.max_value_bytes)
    })
}

/// Fails when a value of `bytes` would be larger than allowed.
pub(crate) fn check_size(bytes: usize) -> Result<(), ExecutionError> {
    with_active(|active| {
        let max = active.bounds.max_value_bytes;
        if bytes > max {
            Err(Hit::Size(max))
        } else {
            Ok(())
        }
    })
}

/// A `map`/`filter` with node id `id` starts (again): nothing built yet.
pub(crate) fn enter(id: u64) -> Result<(), ExecutionError> {
    with_active(|active| {
        active.built.insert(id, 0);
        Ok(())
    })
}

/// The `map`/`filter` `id` adds an item of `item` to its list.
pub(crate) fn add_item(id: u64, item: &dyn Val) -> Result<(), ExecutionError> {
    tick()?;
    with_active(|active| {
        let max = active.bounds.max_value_bytes;
        let built = active.built.get(&id).copied().unwrap_or(0);
        let total = built.saturating_add(ITEM_BYTES + weight(item, max.saturating_sub(built)));
        if total > max {
            return Err(Hit::Size(max));
        }
        active.built.insert(id, total);
        Ok(())
    })
}

/// What `value` counts for against the value limit: the bytes of its strings and bytes,
/// plus [`ITEM_BYTES`] per scalar, list item and map entry. Counting stops soon after
/// `cap` is passed, so that weighing a huge value costs no more than the limit.
pub(crate) fn weight(value: &dyn Val, cap: usize) -> usize {
    match value.get_type().kind() {
        Kind::String => value
            .downcast_ref::<CelString>()
            .map_or(ITEM_BYTES, |text| text.inner().len()),
        Kind::Bytes => value
            .downcast_ref::<CelBytes>()
            .map_or(ITEM_BYTES, |bytes| bytes.inner().len()),
        Kind::List => {
            let mut total = 0usize;
            if let Some(list) = value.as_iterable() {
                let mut items = list.iter();
                while let Some(item) = items.next() {
                    total =
                        total.saturating_add(ITEM_BYTES + weight(item, cap.saturating_sub(total)));
                    if total > cap {
                        break;
                    }
                }
            }
            total
        }
        Kind::Map => {
            let mut total = 0usize;
            if let Some(map) = value.downcast_ref::<CelMap>() {
                for (key, item) in map.inner() {
                    let entry = weight(key.inner(), cap) + weight(item.as_ref(), cap);
                    total = total.saturating_add(ITEM_BYTES + entry);
                    if total > cap {
                        break;
                    }
                }
            }
            total
        }
        _ => ITEM_BYTES,
    }
}
