//! `lvslab`: the command-line front end.

fn main() {
    println!("lvslab");
}
