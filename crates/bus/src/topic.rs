//! Topic matching as RabbitMQ does it: keys and patterns are `.`-separated words;
//! `*` matches exactly one word, `#` zero or more words.

/// Whether routing key `key` matches binding pattern `pattern`.
pub fn topic_matches(pattern: &str, key: &str) -> bool {
    let p: Vec<&str> = pattern.split('.').collect();
    let k: Vec<&str> = key.split('.').collect();
    matches_words(&p, &k)
}

fn matches_words(p: &[&str], k: &[&str]) -> bool {
    // Iterative with memo-free backtracking over `#`; patterns are short.
    match p.split_first() {
        None => k.is_empty(),
        Some((&"#", rest)) => {
            // `#` absorbs 0..=k.len() words.
            (0..=k.len()).any(|n| matches_words(rest, &k[n..]))
        }
        Some((&"*", rest)) => match k.split_first() {
            Some((_, krest)) => matches_words(rest, krest),
            None => false,
        },
        Some((word, rest)) => match k.split_first() {
            Some((kw, krest)) => kw == word && matches_words(rest, krest),
            None => false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::topic_matches;

    #[test]
    fn exact_words() {
        assert!(topic_matches("identity.created", "identity.created"));
        assert!(!topic_matches("identity.created", "identity.deleted"));
        assert!(!topic_matches("identity", "identity.created"));
        assert!(!topic_matches("identity.created.x", "identity.created"));
    }

    #[test]
    fn star_is_exactly_one_word() {
        assert!(topic_matches("identity.*", "identity.created"));
        assert!(topic_matches("*.created", "grant.created"));
        assert!(!topic_matches("identity.*", "identity"));
        assert!(!topic_matches("identity.*", "identity.a.b"));
        assert!(!topic_matches("*", "a.b"));
        assert!(topic_matches("*", "a"));
        assert!(topic_matches("*.*", "default-role.grant-requested"));
    }

    #[test]
    fn hash_is_zero_or_more_words() {
        assert!(topic_matches("#", "identity.created"));
        assert!(topic_matches("#", "a"));
        assert!(topic_matches("identity.#", "identity"));
        assert!(topic_matches("identity.#", "identity.created"));
        assert!(topic_matches("identity.#", "identity.a.b.c"));
        assert!(!topic_matches("identity.#", "organization.created"));
        assert!(topic_matches("#.created", "created"));
        assert!(topic_matches("#.created", "a.b.created"));
        assert!(!topic_matches("#.created", "a.created.b"));
        assert!(topic_matches("a.#.z", "a.z"));
        assert!(topic_matches("a.#.z", "a.b.c.z"));
        assert!(!topic_matches("a.#.z", "a.b.c"));
        assert!(topic_matches("#.*", "a"));
        assert!(!topic_matches("#.*.*", "a"));
        assert!(topic_matches("a.#.#", "a"));
    }

    #[test]
    fn words_are_compared_whole() {
        assert!(!topic_matches("ident*", "identity"));
        assert!(!topic_matches("identity.create", "identity.created"));
        assert!(topic_matches(
            "default-role.grant-requested",
            "default-role.grant-requested"
        ));
    }
}
