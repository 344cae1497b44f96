fn main() -> std::process::ExitCode {
    // Before anything is allocated: see src/alloc.rs.
    emo_run::alloc::keep_freed_memory();
    emo_run::cli::main()
}
