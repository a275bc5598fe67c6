//! Locating the MariaDB programs (`mariadbd`, `mariadb-install-db`, `mariadb`).
//!
//! Debian puts `mariadbd` in /usr/sbin, which is not on every user's PATH, so the search
//! covers PATH and then /usr/sbin and /usr/bin.

use std::path::{Path, PathBuf};

use crate::LocalNodeError;

/// Finds `program` on PATH, then in /usr/sbin and /usr/bin; the error names the Debian
/// `package` to install.
pub fn find_binary(program: &str, package: &str) -> Result<PathBuf, LocalNodeError> {
    let path_dirs = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    let found = path_dirs
        .iter()
        .map(PathBuf::as_path)
        .chain([Path::new("/usr/sbin"), Path::new("/usr/bin")])
        .map(|dir| dir.join(program))
        .find(|candidate| is_executable(candidate))
        .ok_or_else(|| LocalNodeError::BinaryNotFound {
            program: program.to_string(),
            package: package.to_string(),
        });
    found
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_program_error_names_the_package_to_install() {
        let err = find_binary("surely-not-a-real-program-xyz", "mariadb-server")
            .expect_err("program must not exist");
        assert!(err
            .to_string()
            .contains("install it with `apt-get install mariadb-server`"));
    }

    #[test]
    fn finds_a_program_on_path() {
        assert!(find_binary("sh", "dash").is_ok());
    }
}
