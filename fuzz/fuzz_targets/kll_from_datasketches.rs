#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| sketchy_fuzz::kll_from_datasketches(data));
