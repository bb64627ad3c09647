//! `data:` URIs: an image written into the document that shows it.
//!
//! The wall (`wall.rs`) inlines every avatar this way, because an SVG used
//! as an image (`<img>`, a README) may load nothing from anywhere else.
//! Base64 is twenty lines; a crate for it would be more code in the binary
//! than the encoder itself.

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// How many bytes [`push_data_uri`] adds for `len` bytes of `content_type`.
pub fn data_uri_len(content_type: &str, len: usize) -> usize {
    "data:;base64,".len() + content_type.len() + len.div_ceil(3) * 4
}

/// Appends `data:{content_type};base64,{bytes in base64}` to `out`.
/// `content_type` must be a plain type such as `image/png` (ours are
/// constants), since it is written as is.
pub fn push_data_uri(out: &mut String, content_type: &str, bytes: &[u8]) {
    out.reserve(data_uri_len(content_type, bytes.len()));
    out.push_str("data:");
    out.push_str(content_type);
    out.push_str(";base64,");
    for chunk in bytes.chunks(3) {
        // Three bytes are 24 bits, written as four 6-bit digits; a short
        // last chunk is padded with '='.
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(bytes: &[u8]) -> String {
        let mut out = String::new();
        push_data_uri(&mut out, "image/png", bytes);
        assert_eq!(out.len(), data_uri_len("image/png", bytes.len()));
        out.strip_prefix("data:image/png;base64,")
            .unwrap()
            .to_string()
    }

    #[test]
    fn base64_matches_rfc_4648_test_vectors() {
        for (plain, base64) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(encoded(plain.as_bytes()), base64, "{plain}");
        }
        assert_eq!(encoded(&[0xfb, 0xff, 0xfe]), "+//+");
    }
}
