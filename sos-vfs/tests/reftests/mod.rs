//! Property tests against a reference model, in the shape of Mountpoint's reftests:
//! `reference.rs` is the one definition of the key-to-tree mapping and of what each
//! operation answers, `generators.rs` makes operation sequences (targets picked by index,
//! so shrinking stays valid), `harness.rs` runs them on `Vfs` over memory (checked against
//! the model after every operation) and over the RADOS Gateway (checked against memory,
//! operation by operation).

mod generators;
mod harness;
mod reference;
