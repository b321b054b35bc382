//! Float helpers shared by the sketches: exact powers of two.

/// `2**n`, exactly (0 below 2**-1074, inf above 2**1023). `f64::powi` does not promise an exact
/// result, and Miri, which models its imprecision, made the exact sum round differently.
pub fn pow2(n: i32) -> f64 {
    match n {
        -1022..=1023 => f64::from_bits(((n + 1023) as u64) << 52),
        -1074..=-1023 => f64::from_bits(1u64 << (n + 1074)),
        ..=-1075 => 0.0,
        _ => f64::INFINITY,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pow2_is_exact_over_the_whole_range() {
        let mut x = 1.0f64;
        for n in 0..=1023 {
            assert_eq!(pow2(n), x, "2**{n}");
            x *= 2.0;
        }
        let mut x = 1.0f64;
        for n in 0..=1074 {
            assert_eq!(pow2(-n), x, "2**-{n}");
            x /= 2.0;
        }
        assert_eq!((pow2(-1075), pow2(1024)), (0.0, f64::INFINITY));
    }
}
