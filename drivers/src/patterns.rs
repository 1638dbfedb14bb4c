//! Name patterns of the include and exclude options: `*` matches any run of
//! characters, `?` one character; everything else matches itself, case included.

/// Splits a comma-separated option value into patterns, dropping empty ones.
pub(crate) fn split_patterns(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|pattern| !pattern.is_empty())
        .map(str::to_string)
        .collect()
}

/// Returns whether `name` matches a pattern with `*` (any run) and `?` (one character).
pub(crate) fn matches_pattern(pattern: &str, name: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let name: Vec<char> = name.chars().collect();
    let (mut p, mut n) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        if p < pattern.len() && (pattern[p] == '?' || pattern[p] == name[n]) {
            p += 1;
            n += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
            star = Some((p, n));
            p += 1;
        } else if let Some((star_p, star_n)) = star {
            p = star_p + 1;
            n = star_n + 1;
            star = Some((star_p, star_n + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|character| *character == '*')
}

/// Returns whether a name passes the include patterns (all names when there are none)
/// and no exclude pattern.
pub(crate) fn in_scope(include: &[String], exclude: &[String], name: &str) -> bool {
    let included =
        include.is_empty() || include.iter().any(|pattern| matches_pattern(pattern, name));
    included && !exclude.iter().any(|pattern| matches_pattern(pattern, name))
}

/// Returns the outcome of a scope the connection's patterns leave out, whose
/// previous state is kept. `kind` is `schema`, `dataset` or `database`.
pub(crate) fn excluded(kind: &str, name: &str) -> metacrawl_engine::driver::DriverError {
    metacrawl_engine::driver::DriverError::new(
        metacrawl_engine::driver::DriverErrorKind::ExcludedByFilter,
        format!("{kind} '{name}' is excluded by the connection's {kind} patterns"),
    )
}

#[cfg(test)]
mod tests {
    use super::{in_scope, matches_pattern};

    #[test]
    fn patterns_match_wildcards() {
        assert!(matches_pattern("tmp_*", "tmp_2024"));
        assert!(matches_pattern("sales", "sales"));
        assert!(!matches_pattern("sales", "Sales"));
        assert!(matches_pattern("s?les", "sales"));
        assert!(!matches_pattern("tmp_*", "temp"));
        assert!(matches_pattern("*", ""));
    }

    #[test]
    fn exclude_wins_over_include() {
        let include = vec!["sales*".to_string()];
        let exclude = vec!["sales_tmp".to_string()];
        assert!(in_scope(&include, &exclude, "sales_eu"));
        assert!(!in_scope(&include, &exclude, "sales_tmp"));
        assert!(!in_scope(&include, &exclude, "audit"));
        assert!(in_scope(&[], &[], "audit"));
    }
}
