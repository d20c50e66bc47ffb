//! Rewrites a compiled program so that its work is bounded (see `limits`).
//!
//! cel evaluates `+` inside its interpreter and its extensions' functions cannot be
//! replaced once registered, so the calls that can build large values or take long are
//! renamed to the size-checked functions of `bounded`, whose names (starting with `@`)
//! no expression can write: `a + b`, `s.replace(..)`, `s.split(..)`, `l.join(..)`,
//! `s.indexOf(..)`, `s.lastIndexOf(..)`, `l.distinct()`, `lists.range(n)`; the result of
//! `s.format(..)` is weighed. Every comprehension iteration calls `@bounded_tick` (in its
//! loop condition) or, for `map` and `filter`, `@bounded_item` on each item it appends,
//! so that a loop stops at the deadline and a list stops at the size limit. The `map` /
//! `filter` step keeps the shape cel recognises to append in place.

use cel::common::ast::{
    CallExpr, ComprehensionExpr, EntryExpr, Expr, IdedExpr, LiteralValue, operators,
};
use cel::common::types::CelInt;

use super::bounded::{ADD, DISTINCT, ENTER, INDEX_OF, ITEM, JOIN, LAST_INDEX_OF, RANGE};
use super::bounded::{REPLACE, SIZED, SPLIT, TICK};

/// Rewrites `expr` in place.
pub(crate) fn rewrite(expr: &mut IdedExpr) {
    let id = expr.id;
    match &mut expr.expr {
        Expr::Call(call) => {
            if let Some(target) = call.target.as_deref_mut() {
                rewrite(target);
            }
            call.args.iter_mut().for_each(rewrite);
            if call.func_name == "format" && call.target.is_some() && call.args.len() == 1 {
                let formatted = std::mem::take(expr);
                *expr = wrapped(id, SIZED, vec![formatted]);
            } else {
                rename(call);
            }
        }
        Expr::Comprehension(comprehension) => rewrite_comprehension(id, comprehension),
        Expr::List(list) => list.elements.iter_mut().for_each(rewrite),
        Expr::Map(map) => map
            .entries
            .iter_mut()
            .for_each(|e| rewrite_entry(&mut e.expr)),
        Expr::Struct(st) => st
            .entries
            .iter_mut()
            .for_each(|e| rewrite_entry(&mut e.expr)),
        Expr::Select(select) => rewrite(&mut select.operand),
        Expr::Ident(_) | Expr::Literal(_) | Expr::Unspecified => {}
    }
}

fn rewrite_entry(entry: &mut EntryExpr) {
    match entry {
        EntryExpr::MapEntry(entry) => {
            rewrite(&mut entry.key);
            rewrite(&mut entry.value);
        }
        EntryExpr::StructField(field) => rewrite(&mut field.value),
    }
}

/// Points `call` at its bounded version, if it has one; a member call's target becomes
/// the first argument.
fn rename(call: &mut CallExpr) {
    let member = call.target.is_some();
    let arity = call.args.len();
    let bounded = match (call.func_name.as_str(), member, arity) {
        (operators::ADD, false, 2) => ADD,
        ("replace", true, 2 | 3) => REPLACE,
        ("split", true, 1 | 2) => SPLIT,
        ("join", true, 0 | 1) => JOIN,
        ("indexOf", true, 1 | 2) => INDEX_OF,
        ("lastIndexOf", true, 1 | 2) => LAST_INDEX_OF,
        ("distinct", true, 0) => DISTINCT,
        ("lists.range", false, 1) => RANGE,
        ("range", true, 1) if is_ident(call.target.as_deref(), "lists") => {
            call.target = None;
            call.func_name = RANGE.to_owned();
            return;
        }
        _ => return,
    };
    if let Some(target) = call.target.take() {
        call.args.insert(0, *target);
    }
    call.func_name = bounded.to_owned();
}

fn is_ident(expr: Option<&IdedExpr>, name: &str) -> bool {
    matches!(expr.map(|e| &e.expr), Some(Expr::Ident(ident)) if ident == name)
}

fn rewrite_comprehension(id: u64, comprehension: &mut ComprehensionExpr) {
    rewrite(&mut comprehension.iter_range);
    rewrite(&mut comprehension.accu_init);
    rewrite(&mut comprehension.result);
    if rewrite_append_step(id, comprehension) {
        let range = std::mem::take(&mut comprehension.iter_range);
        comprehension.iter_range = wrapped(id, ENTER, vec![id_literal(id), range]);
        return;
    }
    rewrite(&mut comprehension.loop_step);
    rewrite(&mut comprehension.loop_cond);
    let cond = std::mem::take(&mut comprehension.loop_cond);
    comprehension.loop_cond = wrapped(id, TICK, vec![cond]);
}

/// The step of a `map` or `filter`, `@result + [item]` or `guard ? @result + [item] :
/// @result` (the shape cel runs in place), rewritten inside; `false` for any other step.
fn rewrite_append_step(id: u64, comprehension: &mut ComprehensionExpr) -> bool {
    let accu = comprehension.accu_var.clone();
    let is_accu = |e: &IdedExpr| matches!(&e.expr, Expr::Ident(name) if *name == accu);
    if !is_accu(&comprehension.result) || !matches!(comprehension.loop_cond.expr, Expr::Literal(_))
    {
        return false;
    }
    let guarded = match &comprehension.loop_step.expr {
        Expr::Call(step) => match (step.func_name.as_str(), step.args.as_slice()) {
            (operators::CONDITIONAL, [_, _, otherwise]) if is_accu(otherwise) => true,
            (operators::ADD, _) => false,
            _ => return false,
        },
        _ => return false,
    };
    let (guard, append) = if guarded {
        let Expr::Call(step) = &mut comprehension.loop_step.expr else {
            return false;
        };
        let [guard, append, _] = step.args.as_mut_slice() else {
            return false;
        };
        (Some(guard), append)
    } else {
        (None, &mut comprehension.loop_step)
    };
    let Expr::Call(add) = &mut append.expr else {
        return false;
    };
    let items = match (add.func_name.as_str(), add.args.as_mut_slice()) {
        (operators::ADD, [lhs, rhs]) if is_accu(lhs) && add.target.is_none() => match &mut rhs.expr
        {
            Expr::List(items) => items,
            _ => return false,
        },
        _ => return false,
    };
    for item in &mut items.elements {
        rewrite(item);
        let value = std::mem::take(item);
        *item = wrapped(id, ITEM, vec![id_literal(id), value]);
    }
    if let Some(guard) = guard {
        rewrite(guard);
        let test = std::mem::take(guard);
        *guard = wrapped(id, TICK, vec![test]);
    }
    true
}

fn wrapped(id: u64, function: &str, args: Vec<IdedExpr>) -> IdedExpr {
    IdedExpr {
        id,
        expr: Expr::Call(CallExpr {
            func_name: function.to_owned(),
            target: None,
            args,
        }),
    }
}

fn id_literal(id: u64) -> IdedExpr {
    IdedExpr {
        id,
        expr: Expr::Literal(LiteralValue::Int(CelInt::from(
            i64::try_from(id).unwrap_or(i64::MAX),
        ))),
    }
}
