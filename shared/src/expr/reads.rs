//! What of each variable an expression reads, so that an evaluation converts only that:
//! `context.body.amount > 100` needs `context.body.amount`, not the whole request.
//!
//! Every mention of a variable is a chain of field selections starting at it
//! (`context.body.amount`, or just `context`); what the chain's last value is used for —
//! an operator, a function, an index, `has()` — may read all of it, so that value is kept
//! whole. Everything a chain passes through is kept only as far as the chain goes: a field it
//! selects is kept when present and left out when absent, so selecting it, or testing it with
//! `has()`, behaves as on the whole value; a value that is not a map is kept whole, so
//! selecting from it fails as it would have. A comprehension variable that shadows a
//! variable only adds fields to keep: more is kept than needed, never less.

use std::collections::BTreeMap;

use cel::common::ast::{EntryExpr, Expr, IdedExpr};
use serde_json::Value;

/// What of one value an expression reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Read {
    /// All of it.
    Whole,
    /// These fields of it (when it is a map), each read as far as its entry says.
    Fields(BTreeMap<String, Read>),
}

/// What `expr` reads of each variable it mentions.
pub(crate) fn of(expr: &IdedExpr) -> BTreeMap<String, Read> {
    let mut reads = BTreeMap::new();
    collect(expr, &mut reads);
    reads
}

fn collect(expr: &IdedExpr, reads: &mut BTreeMap<String, Read>) {
    match &expr.expr {
        Expr::Ident(name) => note(reads, name, &[]),
        Expr::Select(select) => match chain(expr) {
            Some((root, fields)) => note(reads, root, &fields),
            None => collect(&select.operand, reads),
        },
        Expr::Call(call) => {
            if let Some(target) = call.target.as_deref() {
                collect(target, reads);
            }
            call.args.iter().for_each(|arg| collect(arg, reads));
        }
        Expr::Comprehension(comprehension) => {
            for part in [
                &comprehension.iter_range,
                &comprehension.accu_init,
                &comprehension.loop_cond,
                &comprehension.loop_step,
                &comprehension.result,
            ] {
                collect(part, reads);
            }
        }
        Expr::List(list) => list.elements.iter().for_each(|item| collect(item, reads)),
        Expr::Map(map) => map
            .entries
            .iter()
            .for_each(|e| collect_entry(&e.expr, reads)),
        Expr::Struct(st) => st
            .entries
            .iter()
            .for_each(|e| collect_entry(&e.expr, reads)),
        Expr::Literal(_) | Expr::Unspecified => {}
    }
}

fn collect_entry(entry: &EntryExpr, reads: &mut BTreeMap<String, Read>) {
    match entry {
        EntryExpr::MapEntry(entry) => {
            collect(&entry.key, reads);
            collect(&entry.value, reads);
        }
        EntryExpr::StructField(field) => collect(&field.value, reads),
    }
}

/// Whether `expr` holds a comprehension (a macro that loops: `all`, `exists`, `map`…).
pub(crate) fn loops(expr: &IdedExpr) -> bool {
    match &expr.expr {
        Expr::Comprehension(_) => true,
        Expr::Select(select) => loops(&select.operand),
        Expr::Call(call) => {
            call.target.as_deref().is_some_and(loops) || call.args.iter().any(loops)
        }
        Expr::List(list) => list.elements.iter().any(loops),
        Expr::Map(map) => map.entries.iter().any(|e| entry_loops(&e.expr)),
        Expr::Struct(st) => st.entries.iter().any(|e| entry_loops(&e.expr)),
        Expr::Ident(_) | Expr::Literal(_) | Expr::Unspecified => false,
    }
}

fn entry_loops(entry: &EntryExpr) -> bool {
    match entry {
        EntryExpr::MapEntry(entry) => loops(&entry.key) || loops(&entry.value),
        EntryExpr::StructField(field) => loops(&field.value),
    }
}

/// `a.b.c` as `("a", ["b", "c"])`, when the selections lead down to a name.
fn chain(expr: &IdedExpr) -> Option<(&str, Vec<&str>)> {
    let mut fields = Vec::new();
    let mut at = expr;
    loop {
        match &at.expr {
            Expr::Select(select) => {
                fields.push(select.field.as_str());
                at = &select.operand;
            }
            Expr::Ident(name) => {
                fields.reverse();
                return Some((name.as_str(), fields));
            }
            _ => return None,
        }
    }
}

/// Notes that `root` is read down `fields`, and all of what lies there.
fn note(reads: &mut BTreeMap<String, Read>, root: &str, fields: &[&str]) {
    let mut read = reads
        .entry(root.to_owned())
        .or_insert_with(|| Read::Fields(BTreeMap::new()));
    for field in fields {
        match read {
            Read::Whole => return,
            Read::Fields(map) => {
                read = map
                    .entry((*field).to_owned())
                    .or_insert_with(|| Read::Fields(BTreeMap::new()));
            }
        }
    }
    *read = Read::Whole;
}

/// The part of `value` that `read` needs, converted as `convert` converts a whole value.
pub(crate) fn convert<T>(
    value: &Value,
    read: &Read,
    convert: &impl Fn(&Value) -> T,
    map: &impl Fn(Vec<(String, T)>) -> T,
) -> T {
    match (read, value) {
        (Read::Fields(fields), Value::Object(object)) => map(fields
            .iter()
            .filter_map(|(field, read)| {
                let value = object.get(field)?;
                Some((field.clone(), self::convert(value, read, convert, map)))
            })
            .collect()),
        _ => convert(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn reads(source: &str) -> BTreeMap<String, Read> {
        let program = crate::expr::env().compile(source).expect("compiles");
        of(program.expression())
    }

    fn kept(source: &str, root: &str, value: &Value) -> Value {
        let reads = reads(source);
        convert(value, &reads[root], &Clone::clone, &|entries| {
            Value::Object(entries.into_iter().collect())
        })
    }

    #[test]
    fn a_chain_keeps_only_what_it_selects() {
        let context =
            json!({"body": {"amount": 25, "blob": "x".repeat(1000)}, "headers": {"a": "b"}});
        assert_eq!(
            kept("context.body.amount * 2", "context", &context),
            json!({"body": {"amount": 25}})
        );
        assert_eq!(
            kept(
                "context.body.amount > 1 && context.headers.a == 'b'",
                "context",
                &context
            ),
            json!({"body": {"amount": 25}, "headers": {"a": "b"}})
        );
    }

    #[test]
    fn what_is_used_as_a_value_is_kept_whole() {
        let context = json!({"body": {"amount": 25, "items": [1, 2]}, "query": {}});
        assert_eq!(
            kept("size(context.body) > 1", "context", &context),
            json!({"body": {"amount": 25, "items": [1, 2]}})
        );
        assert_eq!(
            kept("context.body['amount']", "context", &context),
            json!({"body": {"amount": 25, "items": [1, 2]}})
        );
        assert_eq!(kept("context == {}", "context", &context), context);
        // The whole `body` wins over the chain below it, in either order.
        assert_eq!(
            kept(
                "context.body.amount > 0 && size(context.body) > 0",
                "context",
                &context
            ),
            json!({"body": {"amount": 25, "items": [1, 2]}})
        );
    }

    #[test]
    fn absent_fields_stay_absent_and_other_values_whole() {
        let context = json!({"body": "text", "query": {"a": 1}});
        assert_eq!(
            kept(
                "has(context.query.b) || context.body.x",
                "context",
                &context
            ),
            json!({"body": "text", "query": {}})
        );
    }

    #[test]
    fn comprehensions_are_found_wherever_they_are() {
        let program = |source: &str| crate::expr::env().compile(source).expect("compiles");
        for source in [
            "[1].all(x, x > 0)",
            "size(context.body.items.map(i, i.qty)) > 1",
            "{'a': [2].exists(x, x == 2)}",
        ] {
            assert!(loops(program(source).expression()), "{source}");
        }
        for source in [
            "context.body.amount * 2 > 10",
            "size(context.body) > 1 && has(context.query.a)",
        ] {
            assert!(!loops(program(source).expression()), "{source}");
        }
    }

    #[test]
    fn names_inside_comprehensions_are_read_too() {
        let jobs = json!({"lines": [{"qty": 2}], "other": 1});
        assert_eq!(
            kept("jobs.lines.map(l, l.qty)", "jobs", &jobs),
            json!({"lines": [{"qty": 2}]})
        );
        let reads = reads("[1, 2].exists(x, x == context.body.n)");
        assert!(reads.contains_key("context"));
    }
}
