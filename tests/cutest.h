/*
 * cutest.h -- what every CUnit test program's main() does.
 */
#ifndef DFS_CUTEST_H
#define DFS_CUTEST_H

#include <stddef.h>
#include <stdint.h>

#include <CUnit/Basic.h>

/*
 * Registers the suites, runs them verbosely and returns the exit status:
 * 0 when every test passed and every suite set up and cleaned up, 1
 * otherwise, 2 when CUnit itself failed.  CU_basic_run_tests() reports
 * only framework errors, hence the counts.
 */
int	cutest_run(CU_SuiteInfo *suites);

/* Copies a file byte for byte.  Returns 0 or -1. */
int	cutest_copy_file(const char *src, const char *dst);
/* A TCP socket bound (not listening) to 127.0.0.1 on a port the kernel
 * chose, stored in *port.  Returns the socket or -1. */
int	cutest_bind_loopback(unsigned int *port);
/* A TCP socket connected to 127.0.0.1:port (a raw client of a daemon).
 * Returns the socket or -1. */
int	cutest_connect_loopback(unsigned int port);
/* Milliseconds on the monotonic clock, for deadlines. */
unsigned long long	cutest_ms(void);
/* Removes a directory tree.  Returns 0 or -1. */
int	cutest_rmtree(const char *dir);
/* Reads exactly n bytes from fd (a scripted peer's socket).  Returns 0,
 * or -1 at the end of the stream or on an error. */
int	cutest_read_full(int fd, void *buf, size_t n);
/* Writes all n bytes to fd.  Returns 0 or -1. */
int	cutest_write_full(int fd, const void *buf, size_t n);

struct file_compound_args;
/*
 * A scripted file server's side of one call: reads a call record from
 * fd (one fragment, at most cap bytes, into rec) and decodes it as a
 * COMPOUND of the file program with exactly one op into *args, which the
 * caller frees (xdr_free(xdr_file_compound_args)) whatever the outcome.
 * NULL calls before it are answered (a client probes a new connection).
 * Returns 0 with *xid, or -1: no whole record, another call, or bytes
 * after the arguments.
 */
int	cutest_take_file_call(int fd, void *rec, size_t cap, uint32_t *xid,
	    struct file_compound_args *args);

/*
 * What kill -9 leaves of a kv store NAME in directory `from`: copies
 * NAME.db and NAME.log (the truth) into `to`, and writes garbage as
 * NAME.work (what an older version's working file could hold; it is
 * removed at open).  Returns 0 or -1.
 */
int	cutest_crash_copy(const char *from, const char *to, const char *name);

#endif
