/*
 * log.h -- daemon logging: stderr in the foreground, syslog once detached.
 *
 * Message style: lowercase, failure first, subject in quotes, no final
 * full stop: "cannot open database '%s': %s".
 */
#ifndef DFS_LOG_H
#define DFS_LOG_H

#include <stdarg.h>

/* Log to stderr when `foreground`, else to syslog under `ident`. */
void	log_init(const char *ident, int foreground);
/* 0: warnings and info; 1: also debug. */
void	log_setverbose(int verbose);
/* log_warn appends ": strerror(errno)"; the x variants do not. */
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
/* Log and exit(1).  Only main() and the start-up path may call these. */
void	fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif
