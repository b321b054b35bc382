#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| sketchy_fuzz::from_bytes(data));
