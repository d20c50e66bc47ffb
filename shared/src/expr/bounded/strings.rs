//! The size-checked string functions: `replace`, `split`, `join`, and `indexOf` /
//! `lastIndexOf` in linear time.

use cel::ExecutionError;
use cel::common::types::{CelInt, CelList, CelString};
use cel::common::value::{CowVal, Val};

use super::{Args, Out};
use crate::expr::limits::{self, ITEM_BYTES};

/// The strings of `args`, or the overload error of member function `function`.
pub(super) fn strings<'a>(
    function: &str,
    args: &'a [CowVal<'_, '_>],
) -> Result<Vec<&'a str>, ExecutionError> {
    args.iter()
        .map(|arg| arg.downcast_ref::<CelString>().map(|s| s.inner()))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| no_overload(function, args))
}

pub(super) fn no_overload(function: &str, args: &[CowVal<'_, '_>]) -> ExecutionError {
    let types = args
        .iter()
        .map(|arg| arg.get_type().name().to_owned())
        .collect();
    ExecutionError::no_such_member_overload(function, types)
}

/// The optional trailing `int` argument (`n` or an offset) after `strings` strings.
fn count_arg(
    function: &str,
    args: &[CowVal<'_, '_>],
    strings: usize,
) -> Result<Option<i64>, ExecutionError> {
    match args.get(strings) {
        None => Ok(None),
        Some(n) => n
            .downcast_ref::<CelInt>()
            .map(|n| Some(*n.inner()))
            .ok_or_else(|| no_overload(function, args)),
    }
}

fn string<'b, 'v>(text: String) -> Out<'b, 'v> {
    Ok(CowVal::owned(CelString::from(text)))
}

/// `s.replace(from, to)` and `s.replace(from, to, n)`.
pub(super) fn replace<'b, 'v>(args: Args<'b, 'v>) -> Out<'b, 'v> {
    let [this, from, to] = strings("replace", &args[..3.min(args.len())])?[..] else {
        return Err(no_overload("replace", &args));
    };
    let n = count_arg("replace", &args, 3)?.and_then(|n| usize::try_from(n).ok());
    let found = if from.is_empty() {
        this.chars().count() + 1
    } else {
        this.matches(from).count()
    };
    let count = n.map_or(found, |n| n.min(found));
    let size = (this.len() - count * from.len()).saturating_add(count.saturating_mul(to.len()));
    limits::check_size(size)?;
    string(match n {
        Some(n) => this.replacen(from, to, n),
        None => this.replace(from, to),
    })
}

/// `s.split(sep)` and `s.split(sep, n)`: at most `n` parts, the last holding the rest;
/// none when `n` is zero, all when it is negative; an empty `sep` splits code points.
pub(super) fn split<'b, 'v>(args: Args<'b, 'v>) -> Out<'b, 'v> {
    let [this, sep] = strings("split", &args[..2.min(args.len())])?[..] else {
        return Err(no_overload("split", &args));
    };
    let n = count_arg("split", &args, 2)?.unwrap_or(-1);
    let found = if sep.is_empty() {
        this.chars().count()
    } else {
        this.matches(sep).count() + 1
    };
    let parts = usize::try_from(n).map_or(found, |n| n.min(found));
    limits::check_size(this.len().saturating_add(parts.saturating_mul(ITEM_BYTES)))?;
    let parts: Vec<&str> = match (usize::try_from(n), sep.is_empty()) {
        (Ok(0), _) => Vec::new(),
        (Ok(n), true) => {
            let mut parts: Vec<&str> = Vec::new();
            let mut rest = this;
            while let Some(c) = rest.chars().next() {
                if parts.len() + 1 == n {
                    break;
                }
                let (head, tail) = rest.split_at(c.len_utf8());
                parts.push(head);
                rest = tail;
            }
            if !rest.is_empty() {
                parts.push(rest);
            }
            parts
        }
        (Ok(n), false) => this.splitn(n, sep).collect(),
        (Err(_), true) => this
            .char_indices()
            .map(|(i, c)| &this[i..i + c.len_utf8()])
            .collect(),
        (Err(_), false) => this.split(sep).collect(),
    };
    let items: Vec<Box<dyn Val>> = parts
        .into_iter()
        .map(|part| Box::new(CelString::from(part.to_owned())) as Box<dyn Val>)
        .collect();
    Ok(CowVal::owned(CelList::from(items)))
}

/// `l.join()` and `l.join(sep)` over a list of strings.
pub(super) fn join<'b, 'v>(args: Args<'b, 'v>) -> Out<'b, 'v> {
    let Some(list) = args.first().and_then(|list| list.as_iterable()) else {
        return Err(no_overload("join", &args));
    };
    let sep = match args.get(1) {
        None => "",
        Some(sep) => sep
            .downcast_ref::<CelString>()
            .map(|s| s.inner())
            .ok_or_else(|| no_overload("join", &args))?,
    };
    let mut parts = Vec::new();
    let mut size = 0usize;
    let mut items = list.iter();
    while let Some(item) = items.next() {
        let part = item
            .downcast_ref::<CelString>()
            .ok_or_else(|| ExecutionError::UnexpectedType {
                got: item.get_type().name().to_owned(),
                want: "string".to_owned(),
            })?
            .inner();
        size = size
            .saturating_add(part.len())
            .saturating_add(if parts.is_empty() { 0 } else { sep.len() });
        limits::check_size(size)?;
        parts.push(part);
    }
    string(parts.join(sep))
}

fn out_of_range(function: &str, index: i64) -> ExecutionError {
    ExecutionError::function_error(function, format!("index out of range: {index}"))
}

/// The byte offset of code point `index` of `text` (its length past the end).
fn byte_offset(text: &str, index: usize) -> usize {
    text.char_indices()
        .nth(index)
        .map_or(text.len(), |(i, _)| i)
}

/// `s.indexOf(needle)` and `s.indexOf(needle, offset)`, in code points; -1 when absent.
pub(super) fn index_of<'b, 'v>(args: Args<'b, 'v>) -> Out<'b, 'v> {
    let [this, needle] = strings("indexOf", &args[..2.min(args.len())])?[..] else {
        return Err(no_overload("indexOf", &args));
    };
    let offset = count_arg("indexOf", &args, 2)?;
    let len = this.chars().count();
    let start = match offset {
        None => 0,
        Some(offset) if offset < 0 => return Err(out_of_range("indexOf", offset)),
        Some(offset) if needle.is_empty() => return int(offset.min(len as i64)),
        Some(offset) if offset >= len as i64 => return Err(out_of_range("indexOf", offset)),
        Some(offset) => offset as usize,
    };
    let from = byte_offset(this, start);
    int(this[from..].find(needle).map_or(-1, |at| {
        (start + this[from..from + at].chars().count()) as i64
    }))
}

/// `s.lastIndexOf(needle)` and `s.lastIndexOf(needle, offset)`: the last occurrence that
/// starts at or before `offset`, in code points; -1 when absent.
pub(super) fn last_index_of<'b, 'v>(args: Args<'b, 'v>) -> Out<'b, 'v> {
    let [this, needle] = strings("lastIndexOf", &args[..2.min(args.len())])?[..] else {
        return Err(no_overload("lastIndexOf", &args));
    };
    let offset = count_arg("lastIndexOf", &args, 2)?;
    let len = this.chars().count();
    let last = match offset {
        None => len,
        Some(offset) if offset < 0 => return Err(out_of_range("lastIndexOf", offset)),
        Some(offset) if needle.is_empty() => return int(offset.min(len as i64)),
        Some(offset) if offset >= len as i64 => return Err(out_of_range("lastIndexOf", offset)),
        Some(offset) => offset as usize,
    };
    let end = byte_offset(this, last)
        .saturating_add(needle.len())
        .min(this.len());
    let end = (0..=end)
        .rev()
        .find(|&i| this.is_char_boundary(i))
        .unwrap_or(0);
    int(this[..end]
        .rfind(needle)
        .map_or(-1, |at| this[..at].chars().count() as i64))
}

fn int<'b, 'v>(value: i64) -> Out<'b, 'v> {
    Ok(CowVal::owned(CelInt::from(value)))
}
