//! Normalised data types, so that two spellings of one type compare equal.
//!
//! Warehouses and their drivers spell one type several ways: `int4`, `INTEGER`
//! and `int` are the same Postgres type, `varchar(20)` is `character varying(20)`.
//! Change detection compares the normalised form; the store keeps the spelling
//! the warehouse returned. Unknown types are kept verbatim apart from case and
//! spacing, never dropped or mapped to a guess.

/// Type names that mean the same type, as (alias, canonical name). Every entry is
/// lower case with single spaces.
const SYNONYMS: &[(&str, &str)] = &[
    ("int", "integer"),
    ("int4", "integer"),
    ("int2", "smallint"),
    ("int8", "bigint"),
    ("bool", "boolean"),
    ("float4", "real"),
    ("float8", "double precision"),
    ("float", "double precision"),
    ("double", "double precision"),
    ("varchar", "character varying"),
    ("char varying", "character varying"),
    ("char", "character"),
    ("bpchar", "character"),
    ("decimal", "numeric"),
    ("timestamp without time zone", "timestamp"),
    ("timestamptz", "timestamp with time zone"),
    ("time without time zone", "time"),
    ("timetz", "time with time zone"),
    ("varbit", "bit varying"),
];

/// Returns the comparison form of a type name: lower case, runs of whitespace
/// collapsed to one space, no space around `(`, `)` and `,`, and known aliases
/// replaced by their canonical name.
///
/// Case is folded because every supported warehouse treats type names
/// case-insensitively; quoted user-defined type names that differ only in case
/// therefore compare equal.
pub fn normalize_type(data_type: &str) -> String {
    let spaced = collapse_spacing(data_type);

    let (base, modifiers) = match spaced.find('(') {
        Some(position) => spaced.split_at(position),
        None => (spaced.as_str(), ""),
    };

    // An array suffix (`int4[]`) applies to the base name's canonical form too.
    let (base, array_suffix) = match base.find('[') {
        Some(position) => base.split_at(position),
        None => (base, ""),
    };

    match SYNONYMS.iter().find(|(alias, _)| *alias == base) {
        Some((_, canonical)) => format!("{canonical}{array_suffix}{modifiers}"),
        None => spaced,
    }
}

/// Lower-cases `text`, collapses runs of whitespace to one space and drops
/// the spaces at either end and next to `(`, `)` and `,`, in one pass.
fn collapse_spacing(text: &str) -> String {
    let is_punctuation = |character: char| matches!(character, '(' | ')' | ',');
    let mut collapsed = String::with_capacity(text.len());
    let mut space_pending = false;
    for character in text.chars() {
        if character.is_whitespace() {
            space_pending = !collapsed.is_empty();
            continue;
        }
        if space_pending && !is_punctuation(character) && !collapsed.ends_with(is_punctuation) {
            collapsed.push(' ');
        }
        space_pending = false;
        collapsed.extend(character.to_lowercase());
    }
    collapsed
}

#[cfg(test)]
mod tests {
    use super::normalize_type;

    #[test]
    fn normalize_type_maps_aliases() {
        assert_eq!(normalize_type("int4"), "integer");
        assert_eq!(normalize_type("INT"), "integer");
        assert_eq!(normalize_type("bool"), "boolean");
        assert_eq!(normalize_type("int8"), "bigint");
        assert_eq!(normalize_type("timestamptz"), "timestamp with time zone");
    }

    #[test]
    fn normalize_type_keeps_modifiers() {
        assert_eq!(normalize_type("VARCHAR ( 20 )"), "character varying(20)");
        assert_eq!(normalize_type("numeric(10, 2)"), "numeric(10,2)");
        assert_eq!(normalize_type("decimal(10,2)"), "numeric(10,2)");
    }

    #[test]
    fn normalize_type_keeps_array_suffix() {
        assert_eq!(normalize_type("int4[]"), "integer[]");
        assert_eq!(normalize_type("text[]"), "text[]");
    }

    #[test]
    fn normalize_type_collapses_whitespace() {
        assert_eq!(
            normalize_type("timestamp   WITH time\tzone"),
            "timestamp with time zone"
        );
    }

    #[test]
    fn normalize_type_drops_spaces_next_to_punctuation_only() {
        assert_eq!(normalize_type("  Numeric ( 10 , 2 ) "), "numeric(10,2)");
        assert_eq!(
            normalize_type("MAP< STRING , INT64 >"),
            "map< string,int64 >"
        );
        assert_eq!(normalize_type("bit  varying( 8 )[]"), "bit varying(8)[]");
    }

    #[test]
    fn normalize_type_keeps_unknown_types() {
        assert_eq!(normalize_type("public.mood"), "public.mood");
        assert_eq!(normalize_type("STRUCT<a INT64>"), "struct<a int64>");
    }

    #[test]
    fn normalize_type_keeps_distinct_types_apart() {
        assert_ne!(normalize_type("integer"), normalize_type("bigint"));
        assert_ne!(normalize_type("varchar(20)"), normalize_type("varchar(30)"));
        assert_ne!(normalize_type("real"), normalize_type("double precision"));
    }
}
