fn main() -> std::process::ExitCode {
    emo_run::cli::main()
}
