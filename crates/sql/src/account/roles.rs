//! MariaDB's role statements: CREATE ROLE, DROP ROLE, GRANT role TO, REVOKE role FROM,
//! SET ROLE and SET DEFAULT ROLE. Whether a role exists or is granted is the catalog's
//! rule; this is grammar only.

use super::{comma_list, if_exists, user_ref, AccountStatement, UserRef};
use crate::error::SqlError;
use crate::lexer::TokenKind;
use crate::parser::Parser;

/// Who CREATE ROLE ... WITH ADMIN names as the role's first administrator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoleAdmin {
    /// `CURRENT_USER` (the default).
    CurrentUser,
    /// `CURRENT_ROLE`: the session's enabled role.
    CurrentRole,
    /// An account or (a bare name) a role.
    Named(UserRef),
}

/// A role name: an identifier or a string, never `user@host`.
pub(super) fn role_name(p: &mut Parser<'_>) -> Result<String, SqlError> {
    p.ident_or_string()
}

/// True when the statement after GRANT/REVOKE names a role rather than privileges:
/// one name, then `TO`/`FROM` (`follow`).
pub(super) fn names_role(p: &Parser<'_>, follow: &str) -> bool {
    let role_like = p.peek().is_some_and(|t| match t.kind {
        TokenKind::String | TokenKind::QuotedIdent => true,
        TokenKind::Ident => !crate::keywords::is_reserved(&p.text(t).to_ascii_uppercase()),
        _ => false,
    });
    role_like && p.peek_at_is_keyword(1, follow)
}

/// `CREATE [OR REPLACE] ROLE [IF NOT EXISTS] name[, ...] [WITH ADMIN who]`, after
/// `CREATE [OR REPLACE]`.
pub(super) fn create_role(
    p: &mut Parser<'_>,
    or_replace: bool,
) -> Result<AccountStatement, SqlError> {
    p.expect_keyword("ROLE")?;
    let if_not_exists = if p.eat_keyword("IF") {
        p.expect_keyword("NOT")?;
        p.expect_keyword("EXISTS")?;
        true
    } else {
        false
    };
    let roles = comma_list(p, role_name)?;
    let admin = if p.eat_keyword("WITH") {
        p.expect_keyword("ADMIN")?;
        if p.eat_keyword("CURRENT_ROLE") {
            if p.eat_punct("(") && !p.eat_punct(")") {
                return Err(p.error(")"));
            }
            RoleAdmin::CurrentRole
        } else {
            match user_ref(p)? {
                UserRef::CurrentUser => RoleAdmin::CurrentUser,
                named => RoleAdmin::Named(named),
            }
        }
    } else {
        RoleAdmin::CurrentUser
    };
    Ok(AccountStatement::CreateRole {
        or_replace,
        if_not_exists,
        roles,
        admin,
    })
}

/// `DROP ROLE [IF EXISTS] name[, ...]`, after `DROP ROLE`.
pub(super) fn drop_role(p: &mut Parser<'_>) -> Result<AccountStatement, SqlError> {
    let if_exists = if_exists(p)?;
    let roles = comma_list(p, role_name)?;
    Ok(AccountStatement::DropRole { if_exists, roles })
}

/// `GRANT role TO grantee[, ...] [WITH ADMIN OPTION]`, after `GRANT`.
pub(super) fn grant_role(p: &mut Parser<'_>) -> Result<AccountStatement, SqlError> {
    let role = role_name(p)?;
    p.expect_keyword("TO")?;
    let grantees = comma_list(p, user_ref)?;
    let admin_option = if p.eat_keyword("WITH") {
        p.expect_keyword("ADMIN")?;
        p.expect_keyword("OPTION")?;
        true
    } else {
        false
    };
    Ok(AccountStatement::GrantRole {
        role,
        grantees,
        admin_option,
    })
}

/// `REVOKE role FROM grantee[, ...]`, after `REVOKE`.
pub(super) fn revoke_role(p: &mut Parser<'_>) -> Result<AccountStatement, SqlError> {
    let role = role_name(p)?;
    p.expect_keyword("FROM")?;
    let grantees = comma_list(p, user_ref)?;
    Ok(AccountStatement::RevokeRole { role, grantees })
}

/// `SET ROLE {name | NONE}` and `SET DEFAULT ROLE {name | NONE} [FOR user]`, after `SET`;
/// None when neither.
pub(super) fn set_role(p: &mut Parser<'_>) -> Result<Option<AccountStatement>, SqlError> {
    let default = if p.eat_keyword("ROLE") {
        false
    } else if p.peek_is_keyword("DEFAULT") && p.peek_at_is_keyword(1, "ROLE") {
        p.advance();
        p.advance();
        true
    } else {
        return Ok(None);
    };
    let role = if p.peek().is_some_and(|t| t.kind == TokenKind::Ident) && p.eat_keyword("NONE") {
        None
    } else {
        Some(role_name(p)?)
    };
    if !default {
        return Ok(Some(AccountStatement::SetRole { role }));
    }
    let user = if p.eat_keyword("FOR") {
        Some(user_ref(p)?)
    } else {
        None
    };
    Ok(Some(AccountStatement::SetDefaultRole { role, user }))
}
