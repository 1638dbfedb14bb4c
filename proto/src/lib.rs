//! Wire types of the metacrawl gRPC API (package `metacrawl.v1`), generated
//! at build time from `metacrawl/v1/crawler.proto`. Engine code never uses
//! these types: the API layer converts at its edge.

#![allow(unreachable_pub, missing_debug_implementations, clippy::all)]

/// Package `metacrawl.v1`.
pub mod v1 {
    tonic::include_proto!("metacrawl.v1");
}

/// Encoded file descriptor set of the API, for server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/metacrawl_descriptor.bin"));
