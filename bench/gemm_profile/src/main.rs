//! GFLOP/s of the `gemm` crate's f32 product, called as burn-flex 0.22.1 calls it (row-major
//! strides, `Parallelism::Rayon(0)`), on the products of a BERT-base layer at 4 × 128 tokens, a
//! wav2vec2-base layer at 2 × 1 s, the mlp_mixer head and the 2048² square of bench/run.py.
//!
//! `cargo run --manifest-path bench/gemm_profile/Cargo.toml` prints one line per shape: the best
//! of five timed rounds after one warm-up product.

use std::time::Instant;

/// One product `C[m, n] = A[m, k] · B[k, n]`; `a_transposed` stores A as `[k, m]` and
/// `b_transposed` B as `[n, k]` (the backward pass's transposed operands).
struct Shape {
    name: &'static str,
    m: usize,
    k: usize,
    n: usize,
    a_transposed: bool,
    b_transposed: bool,
}

const SHAPES: [Shape; 9] = [
    shape("square 2048", 2048, 2048, 2048, false, false),
    shape("bert q/k/v/o", 512, 768, 768, false, false),
    shape("bert ffn in", 512, 768, 3072, false, false),
    shape("bert ffn out", 512, 3072, 768, false, false),
    shape("bert ffn in, dX", 512, 3072, 768, false, true),
    shape("bert ffn in, dW", 768, 512, 3072, true, false),
    shape("bert ffn out, dW", 3072, 512, 768, true, false),
    shape("wav2vec2 ffn in", 98, 768, 3072, false, false),
    shape("mlp_mixer tokens", 1536, 256, 256, false, false),
];

const fn shape(name: &'static str, m: usize, k: usize, n: usize, at: bool, bt: bool) -> Shape {
    Shape {
        name,
        m,
        k,
        n,
        a_transposed: at,
        b_transposed: bt,
    }
}

/// (row stride, column stride) of a `rows × cols` matrix, stored transposed or not.
fn strides(rows: usize, cols: usize, transposed: bool) -> (isize, isize) {
    if transposed {
        (1, rows as isize)
    } else {
        (cols as isize, 1)
    }
}

fn product(s: &Shape, a: &[f32], b: &[f32], c: &mut [f32]) {
    let (a_rs, a_cs) = strides(s.m, s.k, s.a_transposed);
    let (b_rs, b_cs) = strides(s.k, s.n, s.b_transposed);
    // SAFETY: a, b and c hold m·k, k·n and m·n values, laid out as the strides say.
    unsafe {
        gemm::gemm(
            s.m,
            s.n,
            s.k,
            c.as_mut_ptr(),
            1,
            s.n as isize,
            false,
            a.as_ptr(),
            a_cs,
            a_rs,
            b.as_ptr(),
            b_cs,
            b_rs,
            0.0f32,
            1.0f32,
            false,
            false,
            false,
            gemm::Parallelism::Rayon(0),
        )
    }
}

/// Deterministic values in [-0.5, 0.5): the rate does not depend on them.
fn filled(len: usize, step: usize) -> Vec<f32> {
    (0..len)
        .map(|i| ((i * step) % 1000) as f32 / 1000.0 - 0.5)
        .collect()
}

fn main() {
    let profile = if cfg!(debug_assertions) {
        "dev"
    } else {
        "release"
    };
    println!(
        "gemm 0.19, {} rayon threads, {profile} profile",
        rayon::current_num_threads()
    );
    for s in &SHAPES {
        let (a, b) = (filled(s.m * s.k, 7919), filled(s.k * s.n, 104_729));
        let mut c = vec![0f32; s.m * s.n];
        let flops = 2.0 * (s.m * s.n * s.k) as f64;
        // About 20 GFLOP a round, so that small shapes are timed over many products.
        let per_round = ((2e10 / flops) as usize).clamp(3, 200);
        product(s, &a, &b, &mut c);
        let best = (0..5)
            .map(|_| {
                let started = Instant::now();
                for _ in 0..per_round {
                    product(s, &a, &b, &mut c);
                }
                started.elapsed().as_secs_f64() / per_round as f64
            })
            .fold(f64::MAX, f64::min);
        println!(
            "{:<18} {:>4} × {:>4} × {:>4}  {:>6.1} GFLOP/s",
            s.name,
            s.m,
            s.k,
            s.n,
            flops / best / 1e9
        );
    }
}
