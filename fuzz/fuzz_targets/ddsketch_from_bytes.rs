#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| sketchy_fuzz::ddsketch_from_bytes(data));
