//! Parameters chosen by name (`hash="datasketches"`, `target="HLL_4"`, `dtype="float32"`...): one
//! table per enum gives its names, its `FromStr` and the error that lists the valid names, so that
//! the name a sketch reports and the name it takes are written once, in the core.

/// Implements `name()`, `ALL` and `FromStr` for an enum from one table of its names: the error for
/// any other string is `InvalidParameter` naming `$parameter` and the valid names.
#[macro_export]
macro_rules! named {
    ($ty:ty, $parameter:literal, { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $ty {
            /// Every value, in the table's order.
            pub const ALL: &'static [$ty] = &[$(<$ty>::$variant),+];

            /// The name users pass and see.
            pub fn name(self) -> &'static str {
                match self {
                    $(<$ty>::$variant => $name,)+
                }
            }
        }

        impl std::str::FromStr for $ty {
            type Err = $crate::error::SketchError;

            fn from_str(name: &str) -> $crate::error::Result<Self> {
                match name {
                    $($name => Ok(<$ty>::$variant),)+
                    other => Err($crate::named::unknown($parameter, other, &[$($name),+])),
                }
            }
        }
    };
}

/// `InvalidParameter`: `parameter` must be one of `valid`, and was `got`.
pub fn unknown(parameter: &'static str, got: &str, valid: &[&str]) -> crate::error::SketchError {
    crate::error::SketchError::parameter(
        parameter,
        format!("unknown {parameter} {got:?}; valid: {}", valid.join(", ")),
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    enum Fruit {
        Apple,
        Pear,
        Fig,
    }

    named!(Fruit, "fruit", { Apple => "apple", Pear => "pear", Fig => "fig" });

    #[test]
    fn names_round_trip_and_others_list_the_valid_ones() {
        for &f in Fruit::ALL {
            assert_eq!(f.name().parse::<Fruit>(), Ok(f));
        }
        let err = "kiwi".parse::<Fruit>().map(|_| ()).unwrap_err().to_string();
        assert_eq!(
            err,
            "fruit: unknown fruit \"kiwi\"; valid: apple, pear, fig"
        );
    }
}
