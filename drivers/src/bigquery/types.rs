//! BigQuery column types as `INFORMATION_SCHEMA.COLUMNS` spells them, and the
//! nested fields they hold.
//!
//! A RECORD column's type lists its fields in schema order:
//! `ARRAY<STRUCT<sku STRING NOT NULL, quantity INT64>>`. A REQUIRED field
//! carries `NOT NULL`; a REPEATED one is an `ARRAY<...>`. Parsing that spelling
//! gives each nested field its type, its mode and its place in the column
//! order, which `COLUMN_FIELD_PATHS` alone does not give.
//!
//! NOTE: the `NOT NULL` of REQUIRED nested fields follows BigQuery's DDL
//! spelling; it was not checked against a live INFORMATION_SCHEMA.

use metacrawl_engine::types::normalize_type;

/// One field of a STRUCT type, with its own nested fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StructField {
    pub(crate) name: String,
    /// The field's type without `NOT NULL`: `STRING`, `ARRAY<STRUCT<...>>`.
    pub(crate) data_type: String,
    pub(crate) required: bool,
    pub(crate) fields: Vec<StructField>,
}

/// Returns the fields of a `STRUCT<...>` or `ARRAY<STRUCT<...>>` type, in
/// order; empty for any other type. Fails on an unbalanced or empty spelling.
pub(crate) fn struct_fields(data_type: &str) -> Result<Vec<StructField>, String> {
    let element = strip_wrapper(data_type.trim(), "ARRAY").unwrap_or(data_type.trim());
    let Some(body) = strip_wrapper(element, "STRUCT") else {
        return Ok(Vec::new());
    };
    split_top_level(body)?
        .into_iter()
        .map(|part| parse_field(part, data_type))
        .collect()
}

/// Returns what is inside `NAME<...>` when `text` is exactly that.
fn strip_wrapper<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    let head = text.get(..name.len() + 1)?;
    if !head.eq_ignore_ascii_case(&format!("{name}<")) || !text.ends_with('>') {
        return None;
    }
    Some(&text[name.len() + 1..text.len() - 1])
}

/// Splits a field list at the commas outside `<>`, `()`, backticks and quotes.
fn split_top_level(body: &str) -> Result<Vec<&str>, String> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    let mut start = 0;
    let mut escaped = false;
    for (index, character) in body.char_indices() {
        if let Some(open) = quote {
            if escaped {
                escaped = false;
            } else if character == '\\' {
                escaped = true;
            } else if character == open {
                quote = None;
            }
            continue;
        }
        match character {
            '`' | '"' | '\'' => quote = Some(character),
            '<' | '(' => depth += 1,
            '>' | ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(body[start..index].trim());
                start = index + 1;
            }
            _ => {}
        }
        if depth < 0 {
            return Err(format!("unbalanced brackets in '{body}'"));
        }
    }
    if depth != 0 || quote.is_some() {
        return Err(format!("unbalanced brackets or quotes in '{body}'"));
    }
    parts.push(body[start..].trim());
    if parts.iter().any(|part| part.is_empty()) {
        return Err(format!("empty field in '{body}'"));
    }
    Ok(parts)
}

/// Parses `name TYPE [NOT NULL]`, where the name may be backtick-quoted.
fn parse_field(part: &str, whole: &str) -> Result<StructField, String> {
    let (name, rest) = if let Some(quoted) = part.strip_prefix('`') {
        let end = quoted
            .find('`')
            .ok_or_else(|| format!("unterminated field name in '{whole}'"))?;
        (quoted[..end].to_string(), &quoted[end + 1..])
    } else {
        let end = part
            .find(char::is_whitespace)
            .ok_or_else(|| format!("field '{part}' has no type in '{whole}'"))?;
        (part[..end].to_string(), &part[end..])
    };
    let mut data_type = rest.trim();
    let mut required = false;
    let upper = data_type.to_ascii_uppercase();
    if upper.ends_with(" NOT NULL") {
        required = true;
        data_type = data_type[..data_type.len() - " NOT NULL".len()].trim_end();
    }
    if data_type.is_empty() {
        return Err(format!("field '{name}' has no type in '{whole}'"));
    }
    Ok(StructField {
        name,
        data_type: data_type.to_string(),
        required,
        fields: struct_fields(data_type)?,
    })
}

/// Comparison form of a BigQuery type. A STRUCT's body is left out: its fields
/// are columns of their own and are compared one by one, so adding a nested
/// field is reported on that field and not as a type change of every parent.
pub(crate) fn normalized_type(data_type: &str) -> String {
    let mut collapsed = String::with_capacity(data_type.len());
    let mut rest = data_type;
    while let Some(position) = find_struct(rest) {
        collapsed.push_str(&rest[..position + "STRUCT".len()]);
        let body = &rest[position + "STRUCT".len()..];
        let mut depth = 0usize;
        let mut end = body.len();
        for (index, character) in body.char_indices() {
            match character {
                '<' => depth += 1,
                '>' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        end = index + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        rest = &body[end..];
    }
    collapsed.push_str(rest);
    normalize_type(&collapsed)
}

fn find_struct(text: &str) -> Option<usize> {
    text.to_ascii_uppercase().find("STRUCT<")
}

/// BigQuery's mode of a column read by this driver: `REPEATED` for an
/// `ARRAY<...>` type, `REQUIRED` for a column that is not nullable, `NULLABLE`
/// otherwise.
pub fn field_mode(data_type: &str, nullable: bool) -> &'static str {
    if data_type
        .get(..6)
        .is_some_and(|head| head.eq_ignore_ascii_case("ARRAY<"))
    {
        "REPEATED"
    } else if nullable {
        "NULLABLE"
    } else {
        "REQUIRED"
    }
}

#[cfg(test)]
mod tests {
    use super::{StructField, field_mode, normalized_type, struct_fields};

    fn leaf(name: &str, data_type: &str, required: bool) -> StructField {
        StructField {
            name: name.to_string(),
            data_type: data_type.to_string(),
            required,
            fields: Vec::new(),
        }
    }

    #[test]
    fn nested_fields_keep_order_types_and_modes() {
        let fields = struct_fields(
            "ARRAY<STRUCT<sku STRING NOT NULL, quantity INT64, discounts ARRAY<STRUCT<code STRING, amount NUMERIC(10, 2)>>>>",
        )
        .unwrap();
        assert_eq!(
            fields,
            vec![
                leaf("sku", "STRING", true),
                leaf("quantity", "INT64", false),
                StructField {
                    name: "discounts".to_string(),
                    data_type: "ARRAY<STRUCT<code STRING, amount NUMERIC(10, 2)>>".to_string(),
                    required: false,
                    fields: vec![
                        leaf("code", "STRING", false),
                        leaf("amount", "NUMERIC(10, 2)", false)
                    ],
                },
            ]
        );
    }

    #[test]
    fn quoted_names_and_scalars() {
        assert_eq!(struct_fields("STRING(100)").unwrap(), Vec::new());
        assert_eq!(struct_fields("ARRAY<STRING>").unwrap(), Vec::new());
        assert_eq!(
            struct_fields("STRUCT<`order id` INT64, `a,b` STRING>").unwrap(),
            vec![
                leaf("order id", "INT64", false),
                leaf("a,b", "STRING", false)
            ]
        );
    }

    #[test]
    fn malformed_types_are_errors() {
        assert!(struct_fields("STRUCT<a STRUCT<b INT64>").is_err());
        assert!(struct_fields("STRUCT<a>").is_err());
        assert!(struct_fields("STRUCT<a INT64,>").is_err());
    }

    #[test]
    fn struct_bodies_are_not_compared() {
        assert_eq!(normalized_type("STRUCT<id INT64>"), "struct");
        assert_eq!(
            normalized_type("ARRAY<STRUCT<a STRUCT<b INT64>, c STRING>>"),
            "array<struct>"
        );
        assert_eq!(normalized_type("NUMERIC(10, 2)"), "numeric(10,2)");
        assert_eq!(normalized_type("ARRAY<STRING>"), "array<string>");
    }

    #[test]
    fn modes_follow_type_and_nullability() {
        assert_eq!(field_mode("ARRAY<STRING>", true), "REPEATED");
        assert_eq!(field_mode("STRING", false), "REQUIRED");
        assert_eq!(field_mode("STRUCT<a INT64>", true), "NULLABLE");
    }
}
