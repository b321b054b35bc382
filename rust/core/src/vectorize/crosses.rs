//! Feature crosses (`FeatureHasher(interactions=...)`): the tokens that scikit-learn would hash for
//! an observation with its crosses written out. Each side of a cross is what the feature alone
//! gives (`name=value` with value 1 for a string, the name with its value for a number, one
//! `name=item` per string of a collection, nothing for a 0), and each pair of sides is the token
//! `left*right` with the product of their values (a 0 product skipped). Reading the observation's
//! features out of Python is the bindings' job; which pairs, and what they give, is this module's.

use super::feature_hashing::Tokens;

/// The crosses asked for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Crosses {
    /// None.
    #[default]
    None,
    /// These pairs of feature names, when both are in the observation.
    Pairs(Pairs),
    /// Every pair of the observation's features, in its order.
    All,
}

/// Pairs of feature names, as indices into the distinct names: each name is looked up and read
/// once per observation, whatever its crosses.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pairs {
    names: Vec<String>,
    pairs: Vec<(usize, usize)>,
}

impl Pairs {
    /// The pairs `given`, by name.
    pub fn new(given: &[(String, String)]) -> Self {
        let mut names: Vec<String> = Vec::new();
        let mut index = |n: &String| match names.iter().position(|d| d == n) {
            Some(i) => i,
            None => {
                names.push(n.clone());
                names.len() - 1
            }
        };
        let pairs = given.iter().map(|(a, b)| (index(a), index(b))).collect();
        Pairs { names, pairs }
    }

    /// The distinct names the pairs use: what the caller looks up in each observation.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The crosses of one observation, from what each name gave in it (`sides[i]`, `present[i]`
    /// for `names()[i]`).
    pub fn cross(&self, sides: &[Tokens], present: &[bool], out: &mut Tokens) {
        for &(a, b) in &self.pairs {
            if present[a] && present[b] {
                cross(&sides[a], &sides[b], out);
            }
        }
    }
}

/// The cross tokens of two sides: `left*right` for each pair of their tokens, with the product of
/// the values.
pub fn cross(left: &Tokens, right: &Tokens, out: &mut Tokens) {
    for i in 0..left.len() {
        let (la, xa) = left.get(i);
        for j in 0..right.len() {
            let (lb, xb) = right.get(j);
            out.push_cross(la, lb, xa * xb);
        }
    }
}

/// The buffers of a thread's crosses, reused from observation to observation.
#[derive(Debug, Default)]
pub struct Scratch {
    /// The two sides of a cross of `Crosses::All`.
    pub left: Tokens,
    /// See `left`.
    pub right: Tokens,
    /// Per distinct name of `Crosses::Pairs`: its tokens in this observation.
    pub sides: Vec<Tokens>,
    /// Per distinct name: whether the observation has it.
    pub present: Vec<bool>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(of: &[(&str, f64)]) -> Tokens {
        let mut t = Tokens::default();
        for &(name, value) in of {
            t.push_number(name.as_bytes(), value);
        }
        t
    }

    fn all(t: &Tokens) -> Vec<(String, f64)> {
        (0..t.len())
            .map(|i| {
                let (token, value) = t.get(i);
                (String::from_utf8_lossy(token).into_owned(), value)
            })
            .collect()
    }

    #[test]
    fn a_cross_is_each_pair_of_tokens_with_the_product() {
        let mut out = Tokens::default();
        cross(
            &tokens(&[("a", 2.0), ("b", 3.0)]),
            &tokens(&[("c", 0.5)]),
            &mut out,
        );
        assert_eq!(all(&out), vec![("a*c".into(), 1.0), ("b*c".into(), 1.5)]);
    }

    #[test]
    fn pairs_read_each_name_once_and_cross_the_present_ones() {
        let pairs = Pairs::new(&[("x".into(), "y".into()), ("y".into(), "z".into())]);
        assert_eq!(pairs.names(), ["x", "y", "z"]);
        let sides = [
            tokens(&[("x", 2.0)]),
            tokens(&[("y", 5.0)]),
            Tokens::default(),
        ];
        let mut out = Tokens::default();
        pairs.cross(&sides, &[true, true, false], &mut out);
        assert_eq!(all(&out), vec![("x*y".into(), 10.0)]);
    }
}
