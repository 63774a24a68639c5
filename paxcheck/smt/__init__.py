"""Z3-backed engines: bounded model checking and inductive-invariant proofs."""
