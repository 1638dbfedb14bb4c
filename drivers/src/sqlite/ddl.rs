//! Extraction of generation expressions from SQLite `CREATE TABLE` text.
//!
//! `pragma_table_xinfo` marks the generated columns but does not return their
//! expressions, which only the stored `CREATE TABLE` statement contains. This reads the
//! statement with a small tokenizer that respects quoted identifiers, string
//! literals, comments and nested parentheses.

use std::collections::HashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TokenKind {
    Word,
    QuotedIdentifier,
    StringLiteral,
    OpenParen,
    CloseParen,
    Comma,
    Other,
}

#[derive(Debug, Clone, Copy)]
struct Token {
    kind: TokenKind,
    start: usize,
    end: usize,
}

/// Returns the generation expression of every generated column declared in a
/// `CREATE TABLE` statement, keyed by column name, as written in the statement.
pub(crate) fn generated_expressions(create_table: &str) -> HashMap<String, String> {
    let tokens = tokenize(create_table);
    let mut expressions = HashMap::new();

    let Some(open) = tokens
        .iter()
        .position(|token| token.kind == TokenKind::OpenParen)
    else {
        return expressions;
    };
    for definition in split_definitions(&tokens[open + 1..]) {
        let Some(first) = definition.first() else {
            continue;
        };
        if first.kind == TokenKind::Word
            && is_table_constraint(&create_table[first.start..first.end])
        {
            continue;
        }
        if let Some(expression) = generation_expression(create_table, definition) {
            expressions.insert(unquote(&create_table[first.start..first.end]), expression);
        }
    }
    expressions
}

fn is_table_constraint(word: &str) -> bool {
    ["constraint", "primary", "unique", "check", "foreign"]
        .iter()
        .any(|keyword| word.eq_ignore_ascii_case(keyword))
}

/// Splits the tokens inside the outer parentheses at top-level commas.
fn split_definitions(tokens: &[Token]) -> Vec<&[Token]> {
    let mut definitions = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (index, token) in tokens.iter().enumerate() {
        match token.kind {
            TokenKind::OpenParen => depth += 1,
            TokenKind::CloseParen if depth == 0 => {
                definitions.push(&tokens[start..index]);
                return definitions;
            }
            TokenKind::CloseParen => depth -= 1,
            TokenKind::Comma if depth == 0 => {
                definitions.push(&tokens[start..index]);
                start = index + 1;
            }
            _ => {}
        }
    }
    definitions.push(&tokens[start..]);
    definitions
}

/// Finds `AS (expression)` in a column definition and returns the expression.
fn generation_expression(sql: &str, definition: &[Token]) -> Option<String> {
    let as_index = definition
        .iter()
        .enumerate()
        .skip(1)
        .find_map(|(index, token)| {
            let is_as = token.kind == TokenKind::Word
                && sql[token.start..token.end].eq_ignore_ascii_case("as");
            let followed_by_paren = definition
                .get(index + 1)
                .is_some_and(|next| next.kind == TokenKind::OpenParen);
            (is_as && followed_by_paren).then_some(index)
        })?;

    let open = &definition[as_index + 1];
    let mut depth = 0usize;
    for token in &definition[as_index + 1..] {
        match token.kind {
            TokenKind::OpenParen => depth += 1,
            TokenKind::CloseParen => {
                depth -= 1;
                if depth == 0 {
                    return Some(sql[open.end..token.start].trim().to_string());
                }
            }
            _ => {}
        }
    }
    None
}

/// Removes SQLite identifier quotes: `"a""b"`, `` `a` ``, `[a]`.
fn unquote(identifier: &str) -> String {
    let mut characters = identifier.chars();
    match (characters.next(), identifier.chars().last()) {
        (Some('"'), Some('"')) if identifier.len() >= 2 => {
            identifier[1..identifier.len() - 1].replace("\"\"", "\"")
        }
        (Some('`'), Some('`')) if identifier.len() >= 2 => {
            identifier[1..identifier.len() - 1].replace("``", "`")
        }
        (Some('['), Some(']')) if identifier.len() >= 2 => {
            identifier[1..identifier.len() - 1].to_string()
        }
        _ => identifier.to_string(),
    }
}

fn tokenize(sql: &str) -> Vec<Token> {
    let bytes = sql.as_bytes();
    let mut tokens = Vec::new();
    let mut position = 0;

    while position < bytes.len() {
        let start = position;
        let byte = bytes[position];
        let kind = match byte {
            b' ' | b'\t' | b'\r' | b'\n' => {
                position += 1;
                continue;
            }
            b'-' if bytes.get(position + 1) == Some(&b'-') => {
                position = find_from(bytes, position, b"\n").map_or(bytes.len(), |end| end + 1);
                continue;
            }
            b'/' if bytes.get(position + 1) == Some(&b'*') => {
                position = find_from(bytes, position + 2, b"*/").map_or(bytes.len(), |end| end + 2);
                continue;
            }
            b'(' => {
                position += 1;
                TokenKind::OpenParen
            }
            b')' => {
                position += 1;
                TokenKind::CloseParen
            }
            b',' => {
                position += 1;
                TokenKind::Comma
            }
            b'\'' => {
                position = end_of_quoted(bytes, position, b'\'');
                TokenKind::StringLiteral
            }
            b'"' | b'`' => {
                position = end_of_quoted(bytes, position, byte);
                TokenKind::QuotedIdentifier
            }
            b'[' => {
                position = find_from(bytes, position, b"]").map_or(bytes.len(), |end| end + 1);
                TokenKind::QuotedIdentifier
            }
            _ if byte.is_ascii_alphanumeric() || byte == b'_' || byte >= 0x80 => {
                while position < bytes.len()
                    && (bytes[position].is_ascii_alphanumeric()
                        || bytes[position] == b'_'
                        || bytes[position] >= 0x80)
                {
                    position += 1;
                }
                TokenKind::Word
            }
            _ => {
                position += 1;
                TokenKind::Other
            }
        };
        tokens.push(Token {
            kind,
            start,
            end: position,
        });
    }
    tokens
}

/// Returns the position after a quoted token opened at `start`; a doubled
/// quote inside is an escaped quote.
fn end_of_quoted(bytes: &[u8], start: usize, quote: u8) -> usize {
    let mut position = start + 1;
    while position < bytes.len() {
        if bytes[position] == quote {
            if bytes.get(position + 1) == Some(&quote) {
                position += 2;
                continue;
            }
            return position + 1;
        }
        position += 1;
    }
    bytes.len()
}

fn find_from(bytes: &[u8], start: usize, needle: &[u8]) -> Option<usize> {
    bytes
        .get(start..)?
        .windows(needle.len())
        .position(|window| window == needle)
        .map(|offset| start + offset)
}

#[cfg(test)]
mod tests {
    use super::generated_expressions;

    #[test]
    fn generated_expressions_reads_both_forms() {
        let sql = "CREATE TABLE line (price REAL, quantity INTEGER, \
                   total REAL GENERATED ALWAYS AS (price * quantity) STORED, \
                   doubled REAL AS (price * 2) VIRTUAL)";
        let expressions = generated_expressions(sql);
        assert_eq!(expressions.len(), 2);
        assert_eq!(expressions["total"], "price * quantity");
        assert_eq!(expressions["doubled"], "price * 2");
    }

    #[test]
    fn generated_expressions_handles_nested_parentheses_and_strings() {
        let sql =
            "CREATE TABLE t (a TEXT, b TEXT AS (coalesce(a, ')') || ','), CHECK (length(a) > 0))";
        let expressions = generated_expressions(sql);
        assert_eq!(expressions.len(), 1);
        assert_eq!(expressions["b"], "coalesce(a, ')') || ','");
    }

    #[test]
    fn generated_expressions_unquotes_column_names() {
        let sql = "CREATE TABLE \"odd (name\" (\"Full Name\" TEXT AS (upper(x)), [x] TEXT)";
        let expressions = generated_expressions(sql);
        assert_eq!(expressions["Full Name"], "upper(x)");
    }

    #[test]
    fn generated_expressions_ignores_comments() {
        let sql = "CREATE TABLE t (\n a INT, -- b INT AS (1)\n c INT /* AS (2) */ AS (a + 1)\n)";
        let expressions = generated_expressions(sql);
        assert_eq!(expressions.len(), 1);
        assert_eq!(expressions["c"], "a + 1");
    }

    #[test]
    fn generated_expressions_empty_for_plain_tables() {
        assert!(generated_expressions("CREATE TABLE t (a INT DEFAULT (1 + 2), b TEXT)").is_empty());
    }
}
