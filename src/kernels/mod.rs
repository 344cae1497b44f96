//! Faster forms of burn operations that burn-flex runs slowly, used only on flex.
//!
//! Each keeps burn's own operation on every other device, where the device draws and computes
//! itself. docs/PERFORMANCE.md ("What we tried for flex") has the measurements behind each.

use burn::prelude::Device;

pub mod dropout;
pub mod gelu;
pub mod transformer;

/// Whether `device` is flex, with or without autodiff (device equality ignores autodiff).
#[cfg(feature = "flex")]
pub fn is_flex(device: &Device) -> bool {
    *device == Device::flex()
}

#[cfg(not(feature = "flex"))]
pub fn is_flex(_: &Device) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// burn's forms that this module replaces; each still works, only slower on flex.
    const REPLACED: [&str; 5] = [
        "dropout.forward(",
        "drop.forward(",
        "activation::gelu(",
        "Gelu::new(",
        "TransformerEncoderInput",
    ];

    #[test]
    fn src_uses_the_kernels_instead_of_burns_forms() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut offenders = Vec::new();
        visit(&src, &mut |path, text| {
            // Whitespace removed, so that a call broken over lines is seen too.
            let code: String = text.chars().filter(|c| !c.is_whitespace()).collect();
            let found: Vec<_> = REPLACED.iter().filter(|r| code.contains(*r)).collect();
            if !found.is_empty() && !path.starts_with(src.join("kernels")) {
                offenders.push(format!("{}: {found:?}", path.display()));
            }
        });
        assert!(offenders.is_empty(), "use crate::kernels: {offenders:?}");
    }

    fn visit(dir: &Path, f: &mut impl FnMut(&Path, &str)) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                visit(&path, f);
            } else if path.extension().is_some_and(|e| e == "rs") {
                f(&path, &std::fs::read_to_string(&path).unwrap());
            }
        }
    }
}
