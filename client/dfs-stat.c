/*
 * dfs-stat -- show the attributes of dfs files and directories.
 */
#include <stdio.h>
#include <time.h>

#include "tool/common.h"

#define USAGE	"dfs-stat [-s server] path ..."

/* Formats ns since the epoch as local time with nanoseconds, e.g.
 * "2024-05-01 12:34:56.123456789 +0200", into buf.  Returns buf. */
static char *
fmt_time(int64_t ns, char *buf, size_t len)
{
	char		 date[32], zone[8];
	time_t		 sec;
	long		 frac;
	struct tm	 tm;

	sec = (time_t)(ns / 1000000000);
	frac = (long)(ns % 1000000000);
	if (frac < 0) {
		sec--;
		frac += 1000000000;
	}
	localtime_r(&sec, &tm);
	strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S", &tm);
	strftime(zone, sizeof(zone), "%z", &tm);
	snprintf(buf, len, "%s.%09ld %s", date, frac, zone);
	return buf;
}

static void
print_info(const char *arg, const struct dfs_info *st)
{
	char	mode[11], t1[64], t2[64];

	printf("   File: %s\n", arg);
	printf("   Size: %llu\n", (unsigned long long)st->size);
	printf("   Type: %s\n", st->type == DFS_FTYPE_DIR ? "directory" :
	    "regular file");
	printf("   Mode: %04o (%s)\n", st->mode & 07777,
	    tool_modestr(st->type, st->mode, mode));
	printf("    Uid: %u\n", st->uid);
	printf("    Gid: %u\n", st->gid);
	printf("  Links: %u\n", st->nlink);
	printf("Version: %llu\n", (unsigned long long)st->version);
	printf("File id: %llu\n", (unsigned long long)st->fileid);
	printf(" Modify: %s\n", fmt_time(st->mtime_ns, t1, sizeof(t1)));
	printf(" Change: %s\n", fmt_time(st->ctime_ns, t2, sizeof(t2)));
}

int
main(int argc, char *argv[])
{
	struct tool	t;
	struct dfs_info	st;
	char		path[PATH_MAX];
	int		i, rc;

	tool_init(&t, "dfs-stat", USAGE);
	while (tool_getopt(&t, argc, argv, "", NULL) != -1)
		tool_usage(&t);
	if (optind >= argc)
		tool_usage(&t);
	tool_connect(&t);
	for (i = optind; i < argc; i++) {
		if (tool_path(&t, argv[i], path) != 0)
			continue;
		if ((rc = dfs_getattr(t.dfs, path, &st)) != 0)
			tool_err(&t, argv[i], rc);
		else
			print_info(argv[i], &st);
	}
	return tool_exit(&t);
}
