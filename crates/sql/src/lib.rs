//! SQL text handling for the compute node's session layer, without a full parser: a MySQL
//! lexer, statement splitting and classification, the small parsers for statements the
//! session answers itself (SET, USE, SHOW, KILL, account statements, driver connect-time
//! SELECTs), a statement digest for the plan cache, and the schema-name rewrite used when
//! forwarding text to a storage node. Everything works on `&str` with byte spans into the original text.

pub mod account;
pub mod classify;
pub mod column_reads;
pub mod database;
pub mod ddl;
pub mod definer;
pub mod digest;
pub mod dynamic;
pub mod error;
pub mod flush;
pub mod global_priv_rows;
pub mod guard;
pub mod insert_id;
pub mod key_cache;
pub mod keywords;
pub mod kill;
pub mod lexer;
pub mod load_data;
pub mod load_file;
pub mod params;
mod parser;
pub mod rewrite;
pub mod row_count;
pub mod rw;
pub mod schema_pin;
pub mod search;
pub mod select;
pub mod select_list;
pub mod sequences;
pub mod set;
pub mod set_statement;
pub mod shape;
pub mod show;
pub mod split;
pub mod tables;
pub mod txn;
pub mod use_db;

pub use account::{
    parse_account, AccountStatement, GrantLevel, Identified, PasswordValue, Privilege,
    PrivilegeItem, ResourceLimits, UserName, UserRef, UserSpec,
};
pub use classify::{classify, classify_head, explained_statement, StatementKind};
pub use database::{
    is_database_statement, parse_database_statement, CreateDatabase, DatabaseStatement,
};
pub use definer::{
    parse_definer_show, parse_object_ddl, routine_status_query, DefinerShow, ObjectDdl, ObjectVerb,
    StoredObject,
};
pub use digest::{digest_text_into, normalize_digest, Digest};
pub use error::SqlError;
pub use flush::{flush_kind, Flush};
pub use global_priv_rows::{global_priv_write, GlobalPrivWrite};
pub use guard::{check_show_other, check_statement, Refusal, SchemaPolicy};
pub use insert_id::insert_id_generated;
pub use key_cache::{key_cache_items, key_cache_op, key_cache_tables, KeyCacheItem, KeyCacheOp};
pub use kill::{parse_kill, Kill};
pub use lexer::{
    code_tokens, only_comments, tokenize, LexErrorKind, Lexer, Span, Token, TokenKind,
};
pub use load_data::{parse_load_data, LoadData};
pub use params::inline_params;
pub use rewrite::{rename_identifier, rewrite_schema_names, rewrite_schema_names_as_written};
pub use row_count::{
    call_end as session_call_end, sets_last_insert_id, substitute_last_insert_id,
    substitute_last_insert_id_variables, substitute_row_count, substitute_session_calls,
    RowCountText,
};
pub use schema_pin::{information_schema_table_pin, TablePin};
pub use search::{contains_ignore_ascii_case, ByteSummary};
pub use select::{
    parse_simple_select, SelectExpr, SelectFunction, SelectItem, SelectLiteral, SimpleSelect,
};
pub use sequences::{
    may_use_sequences, sequence_calls_as_functions, sequence_uses, show_create_sequence,
    SequenceUse,
};
pub use set::{parse_set, IsolationLevel, SetExpr, SetItem, SetValue, TxScope, VarScope};
pub use set_statement::{is_set_statement, parse_set_statement, SetStatement};
pub use shape::ShapeDigests;
pub use show::{describe_as_show_columns, parse_show, Limit, ObjectName, Show, ShowFilter};
pub use split::{is_compound_statement, split_statements};
pub use tables::{table_references, Access, TableRef, Tables};
pub use txn::{parse_transaction, Completion, TxnStatement};
pub use use_db::parse_use;
