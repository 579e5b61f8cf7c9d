"""The Rust backend's output will live here (a later issue); nothing is built in this package yet."""
