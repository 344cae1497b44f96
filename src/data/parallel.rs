//! Per-file work over a corpus on a few threads, with one progress bar, results in input order.

use indicatif::{ProgressBar, ProgressStyle};

/// A progress bar for `len` items labelled `what` (hidden when `quiet`).
pub fn progress(len: usize, what: &str, quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len as u64);
    bar.set_style(
        ProgressStyle::with_template(&format!("{what} [{{bar:30}}] {{pos}}/{{len}} {{elapsed}}"))
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar
}

/// `f` of every item, in order, computed on up to 8 threads, ticking `bar` once per item.
pub fn map_in_order<T: Sync, R: Send>(
    items: &[T],
    bar: &ProgressBar,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    let chunk = items.len().div_ceil(threads).max(1);
    let f = &f;
    let results = std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|item| {
                            let out = f(item);
                            bar.inc(1);
                            out
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a worker thread panicked"))
            .collect()
    });
    bar.finish_and_clear();
    results
}
