//! Interleaved frames to one channel: the mean of the channels, or one chosen channel.

use crate::config::audio_input::ChannelSelect;

/// One sample per frame. A trailing partial frame (a file cut mid-frame) is dropped. The error
/// says which channel was asked for and how many the file has.
pub fn to_mono(
    interleaved: Vec<f32>,
    channels: usize,
    select: ChannelSelect,
) -> Result<Vec<f32>, String> {
    match select {
        ChannelSelect::Index(index) if usize::from(index) >= channels => Err(format!(
            "channel {index} requested (encoders.audio.input.channel), but the file has \
             {channels} channel{}; expected an index below {channels} or \"mix\"",
            if channels == 1 { "" } else { "s" }
        )),
        _ if channels == 1 => Ok(interleaved),
        ChannelSelect::Mix(_) => Ok(mean_of_channels(&interleaved, channels)),
        ChannelSelect::Index(index) => Ok(interleaved
            .chunks_exact(channels)
            .map(|frame| frame[usize::from(index)])
            .collect()),
    }
}

/// Sum then divide, in f32, as `torch.mean(dim=0)` on a float32 tensor.
fn mean_of_channels(interleaved: &[f32], channels: usize) -> Vec<f32> {
    interleaved
        .chunks_exact(channels)
        .map(|frame| frame.iter().sum::<f32>() / channels as f32)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const STEREO: [f32; 6] = [0.5, -0.5, 0.25, 0.75, -1.0, 0.0];

    #[test]
    fn mix_averages_the_channels_of_each_frame() {
        let mono = to_mono(STEREO.to_vec(), 2, ChannelSelect::MIX).unwrap();
        assert_eq!(mono, vec![0.0, 0.5, -0.5]);
        let three = to_mono(vec![0.25, 0.5, 0.75, 0.0, 0.0, -3.0], 3, ChannelSelect::MIX).unwrap();
        assert_eq!(three, vec![0.5, -1.0]);
    }

    #[test]
    fn an_index_picks_that_channel() {
        let left = to_mono(STEREO.to_vec(), 2, ChannelSelect::Index(0)).unwrap();
        let right = to_mono(STEREO.to_vec(), 2, ChannelSelect::Index(1)).unwrap();
        assert_eq!(left, vec![0.5, 0.25, -1.0]);
        assert_eq!(right, vec![-0.5, 0.75, 0.0]);
    }

    #[test]
    fn mono_is_kept_as_is_and_an_index_past_the_last_channel_is_an_error() {
        let mono = vec![0.1, 0.2];
        assert_eq!(to_mono(mono.clone(), 1, ChannelSelect::MIX).unwrap(), mono);
        assert_eq!(
            to_mono(mono.clone(), 1, ChannelSelect::Index(0)).unwrap(),
            mono
        );
        let err = to_mono(STEREO.to_vec(), 2, ChannelSelect::Index(2)).unwrap_err();
        assert!(
            err.contains("channel 2") && err.contains("2 channels"),
            "{err}"
        );
    }

    #[test]
    fn a_trailing_partial_frame_is_dropped() {
        let mono = to_mono(vec![1.0, 0.0, 0.5], 2, ChannelSelect::MIX).unwrap();
        assert_eq!(mono, vec![0.5]);
    }
}
