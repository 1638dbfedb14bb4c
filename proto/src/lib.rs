//! Wire types of the metacrawl gRPC API (package `metacrawl.v1`).
//!
//! TODO: the `.proto` files and their generated tonic/prost code are not written yet.
