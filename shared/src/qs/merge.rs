//! `qs`'s `combine`, `parseObject` and `merge` (lib/utils.js and lib/parse.js of `qs`
//! 6.17 with its default options), step for step, so that mixed shapes come out as they
//! do in Node.

use super::ARRAY_LIMIT;
use super::js::{Arr, Js, Obj, integer_key, number_text, parse_int};

/// `combine(a, b)`: `[].concat(a, b)`, or an overflow object once past the array limit.
pub(super) fn combine(a: Js, b: Js) -> Js {
    match a {
        Js::Obj(mut obj) if obj.overflow.is_some() => {
            let mut index = obj.overflow.unwrap_or_default();
            for value in spread(b).into_iter().flatten() {
                index += 1.0;
                obj.set(number_text(index), value);
            }
            obj.overflow = Some(index);
            Js::Obj(obj)
        }
        other => combine_plain(other, b),
    }
}

fn combine_plain(a: Js, b: Js) -> Js {
    let mut items = spread(a);
    items.extend(spread(b));
    limited(items)
}

/// What `[].concat(value)` adds: an array's elements (holes included), anything else itself.
fn spread(value: Js) -> Vec<Option<Js>> {
    match value {
        Js::Arr(arr) => arr.items,
        other => vec![Some(other)],
    }
}

/// An array of `items`, or the overflow object standing for it past the array limit.
fn limited(items: Vec<Option<Js>>) -> Js {
    let last = items.len() as f64 - 1.0;
    let arr = Arr {
        items,
        conflict: None,
    };
    if arr.items.len() > ARRAY_LIMIT {
        let mut obj = arr.into_object();
        obj.overflow = Some(last);
        return Js::Obj(obj);
    }
    Js::Arr(arr)
}

/// `parseObject`: the value `chain` (`["a", "[b]", "[]"]`) makes of `leaf`.
pub(super) fn nest(chain: Vec<String>, mut leaf: Js) -> Js {
    for root in chain.into_iter().rev() {
        leaf = if root == "[]" {
            match leaf {
                Js::Obj(obj) if obj.overflow.is_some() => Js::Obj(obj),
                other => combine(Js::Arr(Arr::default()), other),
            }
        } else {
            let clean = strip_wrapping_brackets(&root);
            let index = (clean.len() != root.len())
                .then(|| integer_key(clean))
                .flatten()
                .filter(|index| *index >= 0.0);
            match index {
                Some(index) if index < ARRAY_LIMIT as f64 => {
                    Js::Arr(Arr::with_item_at(index as usize, leaf))
                }
                Some(index) => {
                    let mut obj = Obj::single(clean.to_owned(), leaf);
                    obj.overflow = Some(index);
                    Js::Obj(obj)
                }
                None if clean == "__proto__" => Js::Obj(Obj::default()),
                None => Js::Obj(Obj::single(clean.to_owned(), leaf)),
            }
        };
    }
    leaf
}

/// `[b]` → `b`; anything else as it is.
pub(super) fn strip_wrapping_brackets(key: &str) -> &str {
    if key.len() >= 2 && key.starts_with('[') && key.ends_with(']') {
        &key[1..key.len() - 1]
    } else {
        key
    }
}

/// `merge(target, source)` with `strictMerge` (the default since `qs` 6.15).
pub(super) fn merge(target: Js, source: Js) -> Js {
    match source {
        // `if (!source) return target`: the empty string is falsy.
        Js::Str(text) if text.is_empty() => target,
        Js::Str(text) => merge_text(target, text),
        container => match target {
            Js::Str(text) => prepend(text, container),
            Js::Arr(target) => match container {
                Js::Arr(source) => merge_arrays(target, source),
                other => {
                    let conflict = target.conflict;
                    let length = target.items.len() as f64;
                    let mut object = target.into_object();
                    if conflict.is_some() {
                        object.conflict = Some(length - 1.0);
                    }
                    Js::Obj(merge_into(object, other))
                }
            },
            Js::Obj(target) => Js::Obj(merge_into(target, container)),
        },
    }
}

/// A non-empty string merged into `target`.
fn merge_text(target: Js, text: String) -> Js {
    match target {
        Js::Arr(mut arr) => {
            let next = arr.items.len() as f64;
            arr.items.push(Some(Js::Str(text)));
            if arr.count() > ARRAY_LIMIT {
                let mut obj = arr.into_object();
                obj.overflow = Some(next);
                return Js::Obj(obj);
            }
            Js::Arr(arr)
        }
        Js::Obj(mut obj) => {
            if let Some(max) = obj.overflow {
                obj.set(number_text(max + 1.0), Js::Str(text));
                obj.overflow = Some(max + 1.0);
                Js::Obj(obj)
            } else if let Some(last) = obj.conflict {
                obj.set(number_text(last + 1.0), Js::Str(text));
                obj.conflict = Some(last + 1.0);
                Js::Obj(obj)
            } else {
                // A name given both as a map and as a value: `[map, value]`.
                Js::Arr(Arr {
                    items: vec![Some(Js::Obj(obj)), Some(Js::Str(text))],
                    conflict: Some(1.0),
                })
            }
        }
        Js::Str(first) => limited(vec![Some(Js::Str(first)), Some(Js::Str(text))]),
    }
}

/// A container merged into a string: `[text].concat(source)`.
fn prepend(text: String, source: Js) -> Js {
    match source {
        Js::Obj(source) if source.overflow.is_some() => {
            let max = source.overflow.unwrap_or_default();
            let mut result = Obj::single("0".into(), Js::Str(text));
            for (key, value) in source.into_entries() {
                result.set(number_text(parse_int(&key) + 1.0), value);
            }
            result.overflow = Some(max + 1.0);
            Js::Obj(result)
        }
        other => {
            let mut items = vec![Some(Js::Str(text))];
            items.extend(spread(other));
            limited(items)
        }
    }
}

fn merge_arrays(mut target: Arr, source: Arr) -> Js {
    for (index, item) in source.items.into_iter().enumerate() {
        let Some(item) = item else { continue };
        match target.items.get_mut(index) {
            Some(Some(existing)) if existing.is_container() && item.is_container() => {
                let taken = std::mem::replace(existing, Js::Str(String::new()));
                *existing = merge(taken, item);
            }
            Some(Some(_)) => target.items.push(Some(item)),
            Some(slot @ None) => *slot = Some(item),
            None => {
                target.items.resize_with(index, || None);
                target.items.push(Some(item));
            }
        }
    }
    if target.count() > ARRAY_LIMIT {
        let last = target.items.len() as f64 - 1.0;
        let mut obj = target.into_object();
        obj.overflow = Some(last);
        return Js::Obj(obj);
    }
    Js::Arr(target)
}

/// The `Object.keys(source).reduce(...)` of `merge`: every entry of `source` into `acc`.
fn merge_into(mut acc: Obj, source: Js) -> Obj {
    let (entries, source_overflow) = match source {
        Js::Obj(obj) => {
            let overflow = obj.overflow;
            (obj.into_entries(), overflow)
        }
        Js::Arr(arr) => (arr.into_entries(), None),
        Js::Str(_) => return acc,
    };
    for (key, value) in entries {
        match acc.map.get_mut(&key) {
            Some(existing) => {
                let taken = std::mem::replace(existing, Js::Str(String::new()));
                *existing = merge(taken, value);
            }
            None => acc.set(key.clone(), value),
        }
        if let Some(max) = source_overflow
            && acc.overflow.is_none()
        {
            acc.overflow = Some(acc.max_numeric_index(max));
        }
        let number = integer_key(&key);
        if let (Some(max), Some(number)) = (acc.overflow, number)
            && number >= 0.0
            && number > max
        {
            acc.overflow = Some(number);
        }
        if let (Some(last), Some(number)) = (acc.conflict, number)
            && number > last
        {
            acc.conflict = Some(number);
        }
    }
    acc
}
