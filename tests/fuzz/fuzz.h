/*
 * fuzz.h -- what the libFuzzer targets of the three programs share.
 *
 * Each target (fuzz_named.c, fuzz_lockd.c, fuzz_filed.c) takes one
 * input as the XDR body of a COMPOUND call, the bytes the dispatcher
 * (lib/dispatch.c) hands to xdr_<prog>_compound_args after the RPC
 * header.  When it decodes, the daemon's own COMPOUND entry point
 * evaluates it in-process, as the unit tests drive it, against a state
 * directory built afresh for every input; the reply must then encode,
 * and everything is freed with xdr_free.  The same bytes are also
 * decoded as a reply (what a client or a peer server decodes).
 *
 * Determinism: getrandom(2) is replaced here by a fixed stream that
 * fuzz_reset() rewinds before each input, so the name server's instance
 * and secret, lock ids and stage ids are the same on every run.  An
 * input then replays alone (a crash reproduces from its file), and the
 * seeds can carry valid file handles and lock ids.
 *
 * Seeds: run a target with DFS_FUZZ_SEEDS=DIR in the environment and it
 * writes its seed corpus there (typical COMPOUNDs, encoded with the XDR
 * encoders) and exits instead of fuzzing.
 */
#ifndef DFS_FUZZ_H
#define DFS_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include <rpc/rpc.h>

#define FUZZ_PATHLEN	256

/* libFuzzer's entry points, defined by each target. */
int	LLVMFuzzerInitialize(int *argc, char ***argv);
int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Makes a private directory for `prog`'s state under $DFS_FUZZ_TMP, else
 * /dev/shm (a RAM file system: every COMPOUND fsyncs, and on tmpfs that
 * costs nothing), else /tmp, and stores its path in `dir`
 * (FUZZ_PATHLEN bytes).  It is removed at exit.  Aborts on failure: a
 * target without state cannot run.
 */
void	fuzz_mkbase(const char *prog, char *dir);
/* Removes `dir` and everything below it, if it exists; then creates
 * it empty.  Aborts on failure. */
void	fuzz_fresh_dir(const char *dir);
/* Rewinds the getrandom(2) stream to its start. */
void	fuzz_reset_random(void);

/*
 * Decodes `size` bytes at `data` into `obj`, which must be zeroed, with
 * `proc`.
 * Returns 1 when it decoded; 0 when not, having freed what the partial
 * decode allocated, as the dispatcher does.
 */
int	fuzz_decode(xdrproc_t proc, void *obj, const uint8_t *data,
	    size_t size);
/*
 * Decodes the input as `proc`'s type and frees it: the decoder of a
 * reply, as a client or a peer server runs it on what it received.
 */
void	fuzz_decode_only(xdrproc_t proc, size_t objsize,
	    const uint8_t *data, size_t size);
/* Aborts (a finding) when `obj` does not encode with `proc`: the daemon
 * could not send that reply. */
void	fuzz_must_encode(xdrproc_t proc, void *obj, const char *what);

/* The seed directory asked for with DFS_FUZZ_SEEDS, or NULL: fuzz. */
const char *fuzz_seed_dir(void);
/* Encodes `obj` with `proc` into the file DIR/NAME.  Aborts on
 * failure. */
void	fuzz_write_seed(const char *dir, const char *name, xdrproc_t proc,
	    void *obj);

/* The dfs_path/dfs_name/dfs_fh shape (len, val) from a C string. */
#define FUZZ_BYTES(field, s) do {					\
	(field##_len) = (u_int)strlen(s);				\
	(field##_val) = (char *)(s);					\
} while (0)

#endif
