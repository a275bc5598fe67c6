//! A FOR loop's record: each row's values replace `record.field` in the texts of the
//! loop's statements (the record is never a variable MariaDB sees).

use strata_sql::{code_tokens, Token};

use super::skeleton::{ident, Block, ForOver, Handler, Stmt, VarDecl};

/// `list` with every text passed through `f` (a FOR record's fields replaced by the
/// row's values).
pub(crate) fn map_texts(list: &[Stmt], f: &dyn Fn(&str) -> String) -> Vec<Stmt> {
    list.iter().map(|s| map_stmt(s, f)).collect()
}

fn map_stmt(stmt: &Stmt, f: &dyn Fn(&str) -> String) -> Stmt {
    match stmt {
        Stmt::Block(b) => Stmt::Block(Block {
            label: b.label.clone(),
            vars: b
                .vars
                .iter()
                .map(|v| VarDecl {
                    names: v.names.clone(),
                    ty: v.ty.clone(),
                    default: v.default.as_deref().map(f),
                })
                .collect(),
            handlers: b
                .handlers
                .iter()
                .map(|h| Handler {
                    exit: h.exit,
                    conditions: h.conditions.clone(),
                    body: Box::new(map_stmt(&h.body, f)),
                })
                .collect(),
            cursors: b.cursors.iter().map(|(n, s)| (n.clone(), f(s))).collect(),
            body: map_texts(&b.body, f),
        }),
        Stmt::If {
            arms,
            otherwise,
            case,
        } => Stmt::If {
            arms: arms
                .iter()
                .map(|(c, body)| (f(c), map_texts(body, f)))
                .collect(),
            otherwise: otherwise.as_deref().map(|o| map_texts(o, f)),
            case: *case,
        },
        Stmt::Loop {
            label,
            before,
            until,
            body,
        } => Stmt::Loop {
            label: label.clone(),
            before: before.as_deref().map(f),
            until: until.as_deref().map(f),
            body: map_texts(body, f),
        },
        Stmt::For {
            label,
            var,
            over,
            body,
        } => Stmt::For {
            label: label.clone(),
            var: var.clone(),
            over: match over {
                ForOver::Range {
                    lower,
                    upper,
                    reverse,
                } => ForOver::Range {
                    lower: f(lower),
                    upper: f(upper),
                    reverse: *reverse,
                },
                ForOver::Rows(s) => ForOver::Rows(f(s)),
                ForOver::Cursor(c) => ForOver::Cursor(c.clone()),
            },
            body: map_texts(body, f),
        },
        Stmt::Sql(s) => Stmt::Sql(f(s)),
        other => other.clone(),
    }
}

/// `text` with each `record.field` (not after a `.`) replaced by `value(field)` when
/// that is Some.
pub(crate) fn replace_fields(
    text: &str,
    record: &str,
    value: &dyn Fn(&str) -> Option<String>,
) -> String {
    let toks: Vec<Token> = code_tokens(text).collect();
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    let mut i = 0;
    while i < toks.len() {
        let hit = toks[i].kind.is_ident()
            && !(i > 0 && toks[i - 1].is_punct(text, "."))
            && ident(toks[i].text(text)) == record
            && toks.get(i + 1).is_some_and(|d| d.is_punct(text, "."))
            && toks.get(i + 2).is_some_and(|t| t.kind.is_ident());
        if hit {
            if let Some(v) = value(&ident(toks[i + 2].text(text))) {
                out.push_str(text.get(last..toks[i].span.start).unwrap_or(""));
                out.push_str(&format!("({v})"));
                last = toks[i + 2].span.end;
                i += 3;
                continue;
            }
        }
        i += 1;
    }
    out.push_str(text.get(last..).unwrap_or(""));
    out
}
