//! A minimal PNG writer for the figures: 8-bit RGB, every row unfiltered, one zlib stream.
//!
//! Written here instead of taking the `png` crate because that crate turns on flate2's default
//! (miniz_oxide) backend, which changes flate2's features for polars and burn and rebuilds
//! both; flate2 is already in the tree with the zlib-rs backend, and a figure needs nothing more
//! than this. Same pixels, same bytes.

use std::io::Write as _;

use flate2::Crc;
use flate2::write::ZlibEncoder;

const SIGNATURE: &[u8; 8] = b"\x89PNG\r\n\x1a\n";

/// `pixels`: `height` rows of `width` RGB triples, top row first.
pub fn encode_rgb(pixels: &[u8], width: u32, height: u32) -> anyhow::Result<Vec<u8>> {
    let row = width as usize * 3;
    anyhow::ensure!(
        pixels.len() == row * height as usize,
        "a {width}x{height} RGB image needs {} bytes, got {}",
        row * height as usize,
        pixels.len()
    );
    // Each row starts with its filter type, 0 (none).
    let mut raw = Vec::with_capacity((row + 1) * height as usize);
    for line in pixels.chunks(row.max(1)) {
        raw.push(0);
        raw.extend_from_slice(line);
    }
    let mut zlib = ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    zlib.write_all(&raw)?;
    let data = zlib.finish()?;

    let mut header = Vec::with_capacity(13);
    header.extend_from_slice(&width.to_be_bytes());
    header.extend_from_slice(&height.to_be_bytes());
    // Bit depth 8, colour type 2 (RGB), compression 0 (deflate), filter method 0 (the only
    // one), no interlace.
    header.extend_from_slice(&[8, 2, 0, 0, 0]);

    let mut out = SIGNATURE.to_vec();
    chunk(&mut out, b"IHDR", &header);
    chunk(&mut out, b"IDAT", &data);
    chunk(&mut out, b"IEND", &[]);
    Ok(out)
}

/// Length, type, data, and the CRC-32 of type and data.
fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let mut crc = Crc::new();
    crc.update(kind);
    crc.update(data);
    out.extend_from_slice(&crc.sum().to_be_bytes());
}

#[cfg(test)]
mod tests {
    use std::io::Read as _;

    use super::*;

    #[test]
    fn writes_a_png_that_reads_back() {
        // 2x2: red, green / blue, white.
        let pixels = [255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255];
        let png = encode_rgb(&pixels, 2, 2).unwrap();
        assert_eq!(&png[..8], SIGNATURE);
        assert_eq!(&png[12..16], b"IHDR");
        assert_eq!(&png[16..24], &[0, 0, 0, 2, 0, 0, 0, 2]);
        // The IHDR's CRC, as any PNG reader checks it (zlib's crc32 of "IHDR" + data).
        assert_eq!(&png[29..33], &[0xfd, 0xd4, 0x9a, 0x73]);
        let idat_len = u32::from_be_bytes(png[33..37].try_into().unwrap()) as usize;
        assert_eq!(&png[37..41], b"IDAT");
        let mut raw = Vec::new();
        flate2::read::ZlibDecoder::new(&png[41..41 + idat_len])
            .read_to_end(&mut raw)
            .unwrap();
        assert_eq!(raw, [0, 255, 0, 0, 0, 255, 0, 0, 0, 0, 255, 255, 255, 255]);
        assert!(png.ends_with(&[0, 0, 0, 0, b'I', b'E', b'N', b'D', 0xae, 0x42, 0x60, 0x82]));
        assert!(encode_rgb(&pixels, 3, 2).is_err());
    }
}
