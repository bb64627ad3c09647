//! A minimal PNG encoder for the fake avatars: one solid colour, nothing else.
//!
//! The app's browser test needs avatars a real decoder accepts, so this is a
//! genuine PNG, written by hand to show how little the format needs: a
//! signature, then chunks (length, type, data, CRC-32) — `IHDR` for the size,
//! `PLTE` for the one colour, `IDAT` for the pixels and `IEND`. The pixels go
//! in a zlib stream whose deflate blocks are "stored" (uncompressed), which
//! every inflater must accept, so no compressor is needed. With a one-entry
//! palette at one bit per pixel a 460×460 avatar is about 27 KB.

/// The eight bytes every PNG file starts with.
pub const SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n'];

/// The largest avatar side served; GitHub's own default size is 460.
pub const MAX_SIDE: u32 = 460;

/// The colour of avatar `id`: a stable, mid-tone colour derived from the id,
/// so different users look different and the same user always looks the same.
pub fn avatar_colour(id: u64) -> [u8; 3] {
    // splitmix64 scrambles neighbouring ids into unrelated bit patterns.
    let mut z = id.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    // Keep every channel in 48..=223: no near-black or near-white avatars.
    let channel = |shift: u32| 48 + ((z >> shift) & 0xff) as u8 % 176;
    [channel(0), channel(8), channel(16)]
}

/// Encodes a `width`×`height` image filled with `rgb` as a PNG file.
/// Sides of zero are raised to one: PNG forbids empty images.
pub fn solid_png(width: u32, height: u32, rgb: [u8; 3]) -> Vec<u8> {
    let (width, height) = (width.max(1), height.max(1));

    // The raw image: each row is a filter-type byte (0 = none) followed by
    // one bit per pixel, all zero, i.e. palette entry 0.
    let row_len = 1 + width.div_ceil(8) as usize;
    let raw = vec![0u8; row_len * height as usize];

    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    // bit depth 1, colour type 3 (palette), compression 0, filter 0, no interlace
    ihdr.extend_from_slice(&[1, 3, 0, 0, 0]);

    let mut png = Vec::with_capacity(raw.len() + raw.len() / 65_535 * 5 + 128);
    png.extend_from_slice(&SIGNATURE);
    write_chunk(&mut png, b"IHDR", &ihdr);
    write_chunk(&mut png, b"PLTE", &rgb);
    write_chunk(&mut png, b"IDAT", &zlib_stored(&raw));
    write_chunk(&mut png, b"IEND", &[]);
    png
}

/// Appends one chunk: big-endian length, type, data, then the CRC-32 of the
/// type and data (the length is not covered).
fn write_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    let len = u32::try_from(data.len()).expect("a PNG chunk is under 4 GiB");
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32(&[kind.as_slice(), data]);
    out.extend_from_slice(&crc.to_be_bytes());
}

/// Wraps `data` in a zlib stream made of stored deflate blocks.
fn zlib_stored(data: &[u8]) -> Vec<u8> {
    // 0x78 0x01: deflate with a 32 KiB window, no preset dictionary, and a
    // check value that makes the 16-bit header a multiple of 31, as required.
    let mut out = vec![0x78, 0x01];
    // A stored block holds at most 65,535 bytes; an empty input still needs
    // one (final, empty) block.
    let mut blocks = data.chunks(65_535).peekable();
    if blocks.peek().is_none() {
        out.extend_from_slice(&[1, 0, 0, 0xff, 0xff]);
    }
    while let Some(block) = blocks.next() {
        let last = blocks.peek().is_none();
        // Block header: BFINAL bit, then BTYPE 00 (stored), padded to a byte.
        out.push(u8::from(last));
        let len = block.len() as u16; // chunks(65_535) guarantees it fits
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(block);
    }
    out.extend_from_slice(&adler32(data).to_be_bytes());
    out
}

/// Adler-32, zlib's checksum of the uncompressed data (RFC 1950).
pub fn adler32(data: &[u8]) -> u32 {
    const MOD: u32 = 65_521;
    let (mut a, mut b) = (1u32, 0u32);
    // 5552 is the longest run that cannot overflow u32 before reducing.
    for block in data.chunks(5_552) {
        for &byte in block {
            a += u32::from(byte);
            b += a;
        }
        a %= MOD;
        b %= MOD;
    }
    b << 16 | a
}

/// CRC-32 (the IEEE polynomial, reflected), over several slices in turn.
/// Bit by bit rather than table-driven: avatars are small and this is short.
pub fn crc32(parts: &[&[u8]]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for part in parts {
        for &byte in *part {
            crc ^= u32::from(byte);
            for _ in 0..8 {
                let mask = (crc & 1).wrapping_neg();
                crc = (crc >> 1) ^ (0xedb8_8320 & mask);
            }
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums_match_known_values() {
        assert_eq!(crc32(&[b"123456789"]), 0xcbf4_3926);
        assert_eq!(crc32(&[b"1234", b"56789"]), 0xcbf4_3926);
        assert_eq!(adler32(b"Wikipedia"), 0x11e6_0398);
        assert_eq!(adler32(b""), 1);
    }

    #[test]
    fn a_one_pixel_png_has_the_expected_layout() {
        let png = solid_png(1, 1, [1, 2, 3]);
        assert_eq!(&png[..8], &SIGNATURE);
        assert_eq!(&png[12..16], b"IHDR");
        assert_eq!(&png[png.len() - 8..png.len() - 4], b"IEND");
    }

    #[test]
    fn colours_are_stable_and_differ_between_ids() {
        assert_eq!(avatar_colour(583_231), avatar_colour(583_231));
        assert_ne!(avatar_colour(1), avatar_colour(2));
    }
}
