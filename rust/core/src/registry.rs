//! What the one list of sketch families makes. The list is [`for_each_sketch!`](crate::for_each_sketch)
//! in `lib.rs`, beside the families' modules: each line names a family, its core type (which
//! implements [`Sketch`]) and the kind bytes of its serialized forms. Here it makes:
//!
//! - [`Kind`], the format's kind byte (the byte after sketchy's magic and version, see
//!   [`crate::codec`]): a byte given twice does not compile;
//! - [`Family`] and [`AnySketch`], which implements [`Sketch`] by dispatch, so that the file reader
//!   feeds any list of sketches and [`AnySketch::from_bytes`] reads any serialized sketch;
//! - `From<T> for AnySketch` and `TryFrom<AnySketch> for T`.
//!
//! The Python bindings call [`for_each_sketch!`] too, for their class list and their conversions
//! between Python objects and [`AnySketch`]: a family needs its line here and nowhere else in Rust.
//! A new family takes the next free kind byte; a kind byte, once released, never changes meaning.

use crate::error::{Result, SketchError};
use crate::items::Keys;
use crate::sketch::{Counts, Sketch, Takes};

macro_rules! registry {
    ($(
        $family:ident : $ty:ty {
            $first:ident = $first_byte:literal $first_name:literal
            $(, $kind:ident = $byte:literal $name:literal)* $(,)?
        }
    ),+ $(,)?) => {
        /// Which sketch a serialized form holds.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[repr(u8)]
        pub enum Kind {
            $(
                #[doc = $first_name]
                $first = $first_byte,
                $(#[doc = $name] $kind = $byte,)*
            )+
        }

        impl Kind {
            /// Every kind, in the registry's order.
            pub const ALL: &'static [Kind] = &[$(Kind::$first, $(Kind::$kind,)*)+];

            /// The kind of a kind byte (`None`: no sketch of this sketchy).
            pub fn from_byte(byte: u8) -> Option<Kind> {
                Kind::ALL.iter().copied().find(|k| *k as u8 == byte)
            }

            /// The sketch it holds, for messages ("expected a TopK, found ...").
            pub fn name(self) -> &'static str {
                match self {
                    $(Kind::$first => $first_name, $(Kind::$kind => $name,)*)+
                }
            }

            /// The family that reads and writes it.
            pub fn family(self) -> Family {
                match self {
                    $(Kind::$first => Family::$family, $(Kind::$kind => Family::$family,)*)+
                }
            }
        }

        /// A family of sketches: one core type, one Python class.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Family {
            $(#[doc = $first_name] $family,)+
        }

        impl Family {
            /// Every family, in the registry's order.
            pub const ALL: &'static [Family] = &[$(Family::$family,)+];

            /// The family's name: its Python class's.
            pub fn name(self) -> &'static str {
                match self {
                    $(Family::$family => $first_name,)+
                }
            }
        }

        /// A sketch of any family. Its variants differ in size, unboxed all the same: there are a
        /// few per read, never one per item.
        #[derive(Clone, Debug, PartialEq)]
        #[allow(clippy::large_enum_variant)]
        pub enum AnySketch {
            $(#[doc = $first_name] $family($ty),)+
        }

        impl AnySketch {
            /// The sketch's family.
            pub fn family(&self) -> Family {
                match self {
                    $(AnySketch::$family(_) => Family::$family,)+
                }
            }
        }

        $(
            impl From<$ty> for AnySketch {
                fn from(sketch: $ty) -> Self {
                    AnySketch::$family(sketch)
                }
            }

            impl TryFrom<AnySketch> for $ty {
                type Error = AnySketch;
                /// The sketch, or the `AnySketch` back when it is of another family.
                fn try_from(any: AnySketch) -> std::result::Result<Self, AnySketch> {
                    match any {
                        AnySketch::$family(sketch) => Ok(sketch),
                        #[allow(unreachable_patterns)]
                        other => Err(other),
                    }
                }
            }
        )+

        impl Sketch for AnySketch {
            fn update(&mut self, keys: &Keys, counts: Counts) -> Result<()> {
                match self {
                    $(AnySketch::$family(s) => Sketch::update(s, keys, counts),)+
                }
            }
            /// Sketches of two families never merge: `Incompatible` naming "sketch".
            fn merge(&mut self, other: &Self) -> Result<()> {
                match (self, other) {
                    $((AnySketch::$family(a), AnySketch::$family(b)) => Sketch::merge(a, b),)+
                    #[allow(unreachable_patterns)]
                    (a, b) => SketchError::check_same("sketch", a.family().name(), b.family().name()),
                }
            }
            fn to_bytes(&self) -> Vec<u8> {
                match self {
                    $(AnySketch::$family(s) => Sketch::to_bytes(s),)+
                }
            }
            /// Any serialized sketch, by its kind byte.
            fn from_bytes(bytes: &[u8]) -> Result<Self> {
                match crate::codec::header(bytes)?.0.map(Kind::family) {
                    $(Some(Family::$family) => Ok(AnySketch::$family(<$ty as Sketch>::from_bytes(bytes)?)),)+
                    None => Err(SketchError::format(format!(
                        "unknown sketch kind {} (a newer sketchy's?)",
                        bytes[5]
                    ))),
                }
            }
            fn memory_size(&self) -> usize {
                match self {
                    $(AnySketch::$family(s) => Sketch::memory_size(s),)+
                }
            }
            fn clear(&mut self) {
                match self {
                    $(AnySketch::$family(s) => Sketch::clear(s),)+
                }
            }
            fn takes(&self) -> Takes {
                match self {
                    $(AnySketch::$family(s) => Sketch::takes(s),)+
                }
            }
            fn merge_is_ordered(&self) -> bool {
                match self {
                    $(AnySketch::$family(s) => Sketch::merge_is_ordered(s),)+
                }
            }
            fn update_records(&mut self, keys: &Keys) -> Result<()> {
                match self {
                    $(AnySketch::$family(s) => Sketch::update_records(s, keys),)+
                }
            }
            fn item_cost(&self) -> crate::parallel::Cost {
                match self {
                    $(AnySketch::$family(s) => Sketch::item_cost(s),)+
                }
            }
            fn rows(&self, keys: &Keys) -> Option<Vec<u64>> {
                match self {
                    $(AnySketch::$family(s) => Sketch::rows(s, keys),)+
                }
            }
            fn update_rows(&mut self, rows: &[u64]) -> Result<()> {
                match self {
                    $(AnySketch::$family(s) => Sketch::update_rows(s, rows),)+
                }
            }
            fn empty_like(&self) -> Self {
                match self {
                    $(AnySketch::$family(s) => AnySketch::$family(Sketch::empty_like(s)),)+
                }
            }
        }
    };
}

crate::for_each_sketch!(registry);

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn kind_bytes_are_distinct_and_read_back() {
        for &kind in Kind::ALL {
            assert_eq!(Kind::from_byte(kind as u8), Some(kind));
            assert!(Family::ALL.contains(&kind.family()));
        }
        assert_eq!(Kind::from_byte(0), None);
        assert_eq!(Kind::DsHyperLogLog as u8, 6);
        assert_eq!(Kind::DsHyperLogLog.family(), Family::HyperLogLog);
        assert_eq!(Family::Kll.name(), "KLL");
    }

    #[test]
    fn any_serialized_sketch_reads_back_as_its_family() {
        let sketches: Vec<AnySketch> = vec![
            crate::count_min::CountMinSketch::new(8, 2, 1, false)
                .unwrap()
                .into(),
            crate::top_k::TopK::new(3, None, 0).unwrap().into(),
            crate::hll::HyperLogLog::new(8, 0, crate::hll::Hashing::DataSketches)
                .unwrap()
                .into(),
            crate::quantiles::Kll::new(8, 0).unwrap().into(),
        ];
        for s in &sketches {
            let again = AnySketch::from_bytes(&Sketch::to_bytes(s)).unwrap();
            assert_eq!(&again, s);
        }
        let mut cms = sketches[0].clone();
        let err = cms.merge(&sketches[1]).unwrap_err().to_string();
        assert!(err.contains("different sketch"), "{err}");
        let err = AnySketch::from_bytes(b"SKCH\x01\x63")
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown sketch kind 99"), "{err}");
        assert!(AnySketch::from_bytes(b"nope").is_err());
    }
}
