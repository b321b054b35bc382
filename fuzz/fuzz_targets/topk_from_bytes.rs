#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| sketchy_fuzz::topk_from_bytes(data));
