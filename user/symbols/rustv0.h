/* Rust's v0 symbol mangling ("_R..."), read back into Rust's own display
 * of the name (crate::module::Type::method, without crate hashes). */
#ifndef BPFPROF_RUSTV0_H
#define BPFPROF_RUSTV0_H

/* The demangled name (malloc'd), or NULL when sym is not a v0 name. */
char *rust_v0_demangle(const char *sym);

#endif
