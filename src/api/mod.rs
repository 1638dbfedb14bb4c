//! The network APIs of `metacrawl serve`. Each API maps engine errors to its
//! own status codes in one place.

pub(crate) mod auth;
pub(crate) mod graphql;
pub(crate) mod graphql_extras;
pub(crate) mod grpc;
pub(crate) mod metrics;
pub(crate) mod server;
