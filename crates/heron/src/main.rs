//! The `heron` command. Wiring only: parse arguments, load settings, open
//! what the command needs from the library crates, run it.

mod cli;
mod commands;
mod dataset;
mod output;
mod setup;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    match commands::run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
