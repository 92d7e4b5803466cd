//! The `triaged` binary: a thin shell over the library's CLI.

use clap::Parser;

fn main() {
    let cli = triaged::cli::Cli::parse();
    triaged::init_logging(cli.verbose);
    std::process::exit(triaged::cli::main_with(cli));
}
