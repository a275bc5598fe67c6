//! Every protocol decoder and both sides of the login exchange on arbitrary bytes
//! (`strata_protocol::fuzzing::decode_any`): no input may make them panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    strata_protocol::fuzzing::decode_any(data);
});
