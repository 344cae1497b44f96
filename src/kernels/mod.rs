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
