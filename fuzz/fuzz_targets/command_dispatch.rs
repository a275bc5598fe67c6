//! Command dispatch on arbitrary bytes (`strata_server::fuzzing::run_session`): each input
//! is one client session against an in-process compute node, which must not panic, must
//! keep accepting logins and answering COM_PING, must drop the session when its client
//! leaves, and must leave other sessions untouched. Forwards to a real storage node when
//! `STRATA_FUZZ_STORAGE` is set (`scripts/fuzz` starts one), else to a closed port.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    strata_server::fuzzing::run_session(data);
});
