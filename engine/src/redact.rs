//! Removal of credentials from connection URLs before they are shown or logged.

/// Query parameters whose values are secrets.
const SECRET_PARAMETERS: &[&str] = &[
    "password",
    "pass",
    "pwd",
    "secret",
    "token",
    "access_token",
    "private_key",
    "private_key_passphrase",
    "client_secret",
];

/// Returns `url` with the password of its user-info part and the values of
/// secret query parameters replaced by `***`.
///
/// `postgres://app:s3cret@db:5432/sales?sslmode=require&password=x` becomes
/// `postgres://app:***@db:5432/sales?sslmode=require&password=***`.
pub fn redact_url(url: &str) -> String {
    let (head, query) = match url.split_once('?') {
        Some((head, query)) => (head, Some(query)),
        None => (url, None),
    };

    let mut redacted = redact_user_info(head);
    if let Some(query) = query {
        redacted.push('?');
        redacted.push_str(&redact_query(query));
    }
    redacted
}

fn redact_user_info(head: &str) -> String {
    let Some((scheme, rest)) = head.split_once("://") else {
        return head.to_string();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);

    // The last '@' ends the user info: a password may itself contain '@'.
    let Some(at) = authority.rfind('@') else {
        return head.to_string();
    };
    let (user_info, host) = authority.split_at(at);
    match user_info.split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:***{host}{path}"),
        None => head.to_string(),
    }
}

fn redact_query(query: &str) -> String {
    let parameters: Vec<String> = query
        .split('&')
        .map(|parameter| match parameter.split_once('=') {
            Some((key, _)) if SECRET_PARAMETERS.contains(&key.to_ascii_lowercase().as_str()) => {
                format!("{key}=***")
            }
            _ => parameter.to_string(),
        })
        .collect();
    parameters.join("&")
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn redact_url_hides_password() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db:5432/sales"),
            "postgres://app:***@db:5432/sales"
        );
    }

    #[test]
    fn redact_url_hides_password_containing_at_sign() {
        assert_eq!(
            redact_url("postgres://app:p@ss@db/sales"),
            "postgres://app:***@db/sales"
        );
    }

    #[test]
    fn redact_url_hides_secret_parameters() {
        assert_eq!(
            redact_url("snowflake://acct/DB?warehouse=WH&password=x&Token=y"),
            "snowflake://acct/DB?warehouse=WH&password=***&Token=***"
        );
    }

    #[test]
    fn redact_url_keeps_urls_without_secrets() {
        assert_eq!(redact_url("sqlite://./music.db"), "sqlite://./music.db");
        assert_eq!(
            redact_url("postgres://app@db/sales?sslmode=require"),
            "postgres://app@db/sales?sslmode=require"
        );
    }
}
