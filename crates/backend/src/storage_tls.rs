//! Which storage nodes the pools built during a topology build reach over TLS.
//!
//! The server builds one pool per data node from a `StorageTarget` (address, account,
//! database) in code that does not know about TLS; `with_storage_tls` hands the TLS
//! settings of each storage node to the `Pool::new` calls made inside it, on the calling
//! thread, so every pool knows its TLS settings from the moment it exists and no
//! connection can open before them. A pool built outside such a scope, or for a storage
//! node the scope does not list, connects in clear text; the server checks afterwards
//! that every pool whose node asks for TLS got it (`Pool::tls`).

use std::cell::RefCell;
use std::collections::HashMap;

use strata_protocol::ClientTls;

use crate::conn::StorageTarget;

/// TLS settings per storage node: (DNID, host, port) -> settings.
#[derive(Debug, Clone, Default)]
pub struct StorageTlsMap {
    by_node: HashMap<(u32, String, u16), ClientTls>,
}

impl StorageTlsMap {
    /// Connections to `host:port` for data node `dnid` use `tls`.
    pub fn insert(&mut self, dnid: u32, host: &str, port: u16, tls: ClientTls) {
        self.by_node.insert((dnid, host.to_string(), port), tls);
    }

    /// The settings for `target`, if it is listed.
    pub fn get(&self, target: &StorageTarget) -> Option<&ClientTls> {
        self.by_node
            .get(&(target.dnid, target.host.clone(), target.port))
    }

    /// True when no storage node is listed.
    pub fn is_empty(&self) -> bool {
        self.by_node.is_empty()
    }
}

thread_local! {
    static SCOPE: RefCell<Option<StorageTlsMap>> = const { RefCell::new(None) };
}

/// Runs `build` with `tls` in force for the pools it creates on this thread.
pub fn with_storage_tls<R>(tls: StorageTlsMap, build: impl FnOnce() -> R) -> R {
    struct Restore(Option<StorageTlsMap>);
    impl Drop for Restore {
        fn drop(&mut self) {
            // Also on unwind: a later build on this thread must not inherit the settings.
            let previous = self.0.take();
            SCOPE.with(|s| *s.borrow_mut() = previous);
        }
    }
    let _restore = Restore(SCOPE.with(|s| s.borrow_mut().replace(tls)));
    build()
}

/// The TLS settings the current scope gives `target`.
pub(crate) fn scoped_tls_for(target: &StorageTarget) -> Option<ClientTls> {
    SCOPE.with(|s| s.borrow().as_ref().and_then(|m| m.get(target).cloned()))
}
