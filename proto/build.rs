//! Compiles the .proto files with protox (pure Rust), so building needs no
//! `protoc`, and generates the tonic/prost code into OUT_DIR.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto = "metacrawl/v1/crawler.proto";
    println!("cargo:rerun-if-changed={proto}");

    let descriptors = protox::compile([proto], ["."])?;
    let descriptor_path =
        std::path::PathBuf::from(std::env::var("OUT_DIR")?).join("metacrawl_descriptor.bin");
    std::fs::write(
        &descriptor_path,
        prost::Message::encode_to_vec(&descriptors),
    )?;
    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        .compile_fds(descriptors)?;
    Ok(())
}
