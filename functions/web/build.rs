//! Embeds the built dashboard (`dist/`, committed; `scripts/test` checks it is fresh): every
//! file with its gzip and brotli forms, made here once so requests never compress.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            files(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn mime(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "json" | "webmanifest" => "application/json",
        "txt" => "text/plain; charset=utf-8",
        "woff2" => "font/woff2",
        _ => "application/octet-stream",
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes).expect("gzip into memory");
    encoder.finish().expect("gzip into memory")
}

fn brotli(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut writer = brotli::CompressorWriter::new(&mut out, 4096, 11, 22);
        writer.write_all(bytes).expect("brotli into memory");
    }
    out
}

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let dist = root.join("dist");
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    println!("cargo:rerun-if-changed=dist");

    let mut paths = Vec::new();
    files(&dist, &mut paths);
    let mut table = String::from("pub static FILES: &[Asset] = &[\n");
    for (i, path) in paths.iter().enumerate() {
        println!("cargo:rerun-if-changed={}", path.display());
        let raw = std::fs::read(path).expect("read dist file");
        let rel = path.strip_prefix(&dist).expect("under dist");
        let url: String = rel
            .components()
            .map(|c| format!("/{}", c.as_os_str().to_string_lossy()))
            .collect();
        let gz = gzip(&raw);
        let br = brotli(&raw);
        let gz_file = out_dir.join(format!("asset-{i}.gz"));
        let br_file = out_dir.join(format!("asset-{i}.br"));
        std::fs::write(&gz_file, &gz).expect("write gz");
        std::fs::write(&br_file, &br).expect("write br");
        // A compressed form is only kept when it is smaller.
        let gz_expr = if gz.len() < raw.len() {
            format!("Some(include_bytes!({:?}))", gz_file.display().to_string())
        } else {
            "None".into()
        };
        let br_expr = if br.len() < raw.len() {
            format!("Some(include_bytes!({:?}))", br_file.display().to_string())
        } else {
            "None".into()
        };
        let _ = writeln!(
            table,
            "    Asset {{ path: {url:?}, mime: {:?}, raw: include_bytes!({:?}), gzip: {gz_expr}, brotli: {br_expr} }},",
            mime(path),
            path.display().to_string(),
        );
    }
    table.push_str("];\n");
    std::fs::write(out_dir.join("assets.rs"), table).expect("write assets.rs");
}
