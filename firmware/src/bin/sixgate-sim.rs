//! `sixgate-sim` (being written).
fn main() {}
