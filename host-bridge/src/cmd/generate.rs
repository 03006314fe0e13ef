//! `sixgate completions SHELL` and `sixgate man [--out DIR]`: generated from the clap
//! definitions of the CLI, so they never drift from `--help`.

use std::path::Path;

use crate::error::CliError;

pub use clap_complete::Shell;

/// The completion script for `shell` on standard output.
pub fn completions(mut cli: clap::Command, shell: Shell) -> Result<(), CliError> {
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cli, "sixgate", &mut buf);
    crate::out!("{}", String::from_utf8_lossy(&buf));
    Ok(())
}

/// The manual page (roff) of `sixgate` on standard output, or with `out`, one page per
/// command and subcommand (`sixgate.1`, `sixgate-iface.1`, `sixgate-iface-list.1`, …) written
/// into that directory; their names are printed.
pub fn man(cli: clap::Command, out: Option<&Path>) -> Result<(), CliError> {
    let Some(dir) = out else {
        let mut buf = Vec::new();
        clap_mangen::Man::new(cli).render(&mut buf)?;
        crate::out!("{}", String::from_utf8_lossy(&buf));
        return Ok(());
    };
    std::fs::create_dir_all(dir)
        .map_err(|e| CliError::Other(format!("cannot create {}: {e}", dir.display())))?;
    clap_mangen::generate_to(cli, dir)
        .map_err(|e| CliError::Other(format!("cannot write pages into {}: {e}", dir.display())))?;
    let mut pages: Vec<String> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("sixgate") && n.ends_with(".1"))
        .collect();
    pages.sort();
    for p in pages {
        crate::outln!("{}", dir.join(p).display());
    }
    Ok(())
}
