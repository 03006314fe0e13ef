//! `sixgate`: manage a sixgate border router over its serial line.

fn main() {}
