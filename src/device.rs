//! The compute device, chosen at run time from the config or `--device`.

use burn::prelude::Device;

/// A parsed device name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceChoice {
    Flex,
    Cuda(usize),
    Tch,
    TchCuda(usize),
}

/// `flex`, `cuda`, `cuda:N`, `tch`, `tch-cuda:N`.
pub fn parse_device(name: &str) -> Result<DeviceChoice, String> {
    let index = |rest: &str| -> Result<usize, String> {
        if rest.is_empty() {
            return Ok(0);
        }
        rest.strip_prefix(':')
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| format!("found {name:?}, expected a GPU index like cuda:0"))
    };
    match name {
        "flex" | "cpu" => Ok(DeviceChoice::Flex),
        "tch" => Ok(DeviceChoice::Tch),
        _ if name.starts_with("tch-cuda") => {
            Ok(DeviceChoice::TchCuda(index(&name["tch-cuda".len()..])?))
        }
        _ if name.starts_with("cuda") => Ok(DeviceChoice::Cuda(index(&name["cuda".len()..])?)),
        _ => Err(format!(
            "found {name:?}, expected one of flex, cuda:N, tch, tch-cuda:N"
        )),
    }
}

impl DeviceChoice {
    /// The burn device, or an error that says which cargo feature is missing.
    pub fn device(self) -> anyhow::Result<Device> {
        match self {
            #[cfg(feature = "flex")]
            DeviceChoice::Flex => Ok(Device::flex()),
            #[cfg(feature = "cuda")]
            DeviceChoice::Cuda(i) => Ok(Device::cuda(i)),
            #[cfg(feature = "tch")]
            DeviceChoice::Tch => Ok(Device::libtorch()),
            #[cfg(feature = "tch")]
            DeviceChoice::TchCuda(i) => Ok(Device::libtorch_cuda(i)),
            #[allow(unreachable_patterns)]
            other => anyhow::bail!(
                "device {other:?} is not built into this binary; rebuild with `cargo build --release --features {}`",
                other.feature()
            ),
        }
    }

    pub fn feature(self) -> &'static str {
        match self {
            DeviceChoice::Flex => "flex",
            DeviceChoice::Cuda(_) => "cuda",
            DeviceChoice::Tch | DeviceChoice::TchCuda(_) => "tch",
        }
    }

    /// The backend and device kind that compute the numbers (the device index does not change
    /// them; the kind of device does: libtorch on the CPU and on CUDA round differently).
    pub fn backend_name(self) -> &'static str {
        match self {
            DeviceChoice::Flex => "flex",
            DeviceChoice::Cuda(_) => "cuda",
            DeviceChoice::Tch => "tch-cpu",
            DeviceChoice::TchCuda(_) => "tch-cuda",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_form() {
        assert_eq!(parse_device("flex"), Ok(DeviceChoice::Flex));
        assert_eq!(parse_device("cuda"), Ok(DeviceChoice::Cuda(0)));
        assert_eq!(parse_device("cuda:2"), Ok(DeviceChoice::Cuda(2)));
        assert_eq!(parse_device("tch-cuda:1"), Ok(DeviceChoice::TchCuda(1)));
        assert!(parse_device("cuda:x").is_err());
        assert!(parse_device("gpu").unwrap_err().contains("expected one of"));
    }
}
