/*
 * rpcc.c -- client connections: a CLIENT * to HOST[:PORT] with timeouts.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rpc/rpc.h>

#include "dfs_types.h"
#include "rpcc.h"

int
rpcc_parse(const char *spec, char *host, size_t hostlen, unsigned int *port)
{
	const char	*h = spec, *colon, *end;
	char		*ep;
	unsigned long	 p = 0;
	size_t		 n;

	if (spec[0] == '[') {
		h = spec + 1;
		end = strchr(h, ']');
		if (end == NULL)
			return -DFS_ERR_INVAL;
		colon = end[1] == ':' ? end + 1 : NULL;
		if (end[1] != '\0' && colon == NULL)
			return -DFS_ERR_INVAL;
	} else {
		colon = strrchr(spec, ':');
		/* two colons and no brackets: a bare IPv6 address */
		if (colon != NULL && strchr(spec, ':') != colon)
			colon = NULL;
		end = colon != NULL ? colon : spec + strlen(spec);
	}
	if (colon != NULL) {
		errno = 0;
		p = strtoul(colon + 1, &ep, 10);
		/* strtoul would take "+80" and " 80" */
		if (colon[1] < '0' || colon[1] > '9' || *ep != '\0' ||
		    errno != 0 || p == 0 || p > 65535)
			return -DFS_ERR_INVAL;
	}
	n = (size_t)(end - h);
	if (n == 0 || n >= hostlen)
		return -DFS_ERR_INVAL;
	memcpy(host, h, n);
	host[n] = '\0';
	*port = (unsigned int)p;
	return 0;
}

/* Waits for a non-blocking connect(2).  Returns 0 or -1 with errno. */
static int
connect_wait(int fd, unsigned int timeout_ms)
{
	struct pollfd	pfd = { fd, POLLOUT, 0 };
	socklen_t	len = sizeof(int);
	int		rc, soerr;

	do
		rc = poll(&pfd, 1, (int)timeout_ms);
	while (rc == -1 && errno == EINTR);
	if (rc == 0)
		errno = ETIMEDOUT;
	if (rc <= 0)
		return -1;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == -1)
		return -1;
	if (soerr != 0) {
		errno = soerr;
		return -1;
	}
	return 0;
}

/* Opens a TCP connection to one address.  Returns the fd or -1. */
static int
connect_addr(const struct addrinfo *ai, unsigned int timeout_ms,
    unsigned int bufsz)
{
	int	fd, one = 1, saved, sz = (int)bufsz;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
	    ai->ai_protocol);
	if (fd == -1)
		return -1;
	if (bufsz > 0) {
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	}
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (fcntl(fd, F_SETFL, O_NONBLOCK) == -1)
		goto fail;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == -1 &&
	    (errno != EINPROGRESS || connect_wait(fd, timeout_ms) == -1))
		goto fail;
	if (fcntl(fd, F_SETFL, 0) == -1)
		goto fail;
	return fd;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

static CLIENT *
connect_direct(const char *host, unsigned int port, rpcprog_t prog,
    rpcvers_t vers, unsigned int timeout_ms, unsigned int bufsz,
    char *err, size_t errlen)
{
	struct addrinfo	 hints, *res, *ai;
	struct netbuf	 nb;
	CLIENT		*clnt = NULL;
	char		 portstr[16];
	int		 fd = -1, rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(portstr, sizeof(portstr), "%u", port);
	rc = getaddrinfo(host, portstr, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "%s: %s", host, gai_strerror(rc));
		return NULL;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = connect_addr(ai, timeout_ms, bufsz);
		if (fd != -1)
			break;
	}
	if (fd == -1) {
		snprintf(err, errlen, "%s port %u: %s", host, port,
		    strerror(errno));
		freeaddrinfo(res);
		return NULL;
	}
	nb.buf = ai->ai_addr;
	nb.len = nb.maxlen = ai->ai_addrlen;
	clnt = clnt_vc_create(fd, &nb, prog, vers, bufsz, bufsz);
	freeaddrinfo(res);
	if (clnt == NULL) {
		snprintf(err, errlen, "%s port %u: %s", host, port,
		    clnt_spcreateerror("cannot create client"));
		close(fd);
		return NULL;
	}
	clnt_control(clnt, CLSET_FD_CLOSE, NULL);
	return clnt;
}

CLIENT *
rpcc_connect(const char *host, unsigned int port, rpcprog_t prog,
    rpcvers_t vers, unsigned int timeout_ms, unsigned int bufsz, char *err,
    size_t errlen)
{
	struct timeval	 tv;
	CLIENT		*clnt;

	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	if (port != 0)
		clnt = connect_direct(host, port, prog, vers, timeout_ms,
		    bufsz, err, errlen);
	else {
		clnt = clnt_create_timed(host, prog, vers, "tcp", &tv);
		if (clnt == NULL)
			snprintf(err, errlen, "%s", clnt_spcreateerror(host));
	}
	if (clnt != NULL)
		clnt_control(clnt, CLSET_TIMEOUT, (char *)&tv);
	return clnt;
}

int
rpcc_error(enum clnt_stat st)
{
	switch (st) {
	case RPC_TIMEDOUT:
		return -DFS_ERR_TIMEDOUT;
	case RPC_PROGUNAVAIL:
	case RPC_PROGVERSMISMATCH:
	case RPC_PROCUNAVAIL:
	case RPC_CANTDECODERES:
	case RPC_VERSMISMATCH:
	case RPC_PROGNOTREGISTERED:
		return -DFS_ERR_PROTO;
	default:
		return -DFS_ERR_RPC;
	}
}

int
rpcc_closed(CLIENT *clnt)
{
	struct pollfd	pfd;
	int		fd;

	if (!clnt_control(clnt, CLGET_FD, (char *)&fd))
		return 0;
	pfd.fd = fd;
	pfd.events = POLLIN | POLLRDHUP;
	pfd.revents = 0;
	return poll(&pfd, 1, 0) == 1 && pfd.revents != 0;
}

int
rpcc_alive(int fd, rpcprog_t prog, rpcvers_t vers, unsigned int ms,
    char *err, size_t errlen)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);
	struct timeval		 tv;
	char			 host[NI_MAXHOST], port[NI_MAXSERV];
	enum clnt_stat		 st;
	CLIENT			*c;

	if (getpeername(fd, (struct sockaddr *)&ss, &len) == -1 ||
	    getnameinfo((struct sockaddr *)&ss, len, host, sizeof(host),
	    port, sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		snprintf(err, errlen, "not connected");
		return -DFS_ERR_RPC;
	}
	c = rpcc_connect(host, (unsigned int)strtoul(port, NULL, 10), prog,
	    vers, ms, 0, err, errlen);
	if (c == NULL)
		return errno == ETIMEDOUT ? -DFS_ERR_TIMEDOUT : -DFS_ERR_RPC;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	(void)clnt_control(c, CLSET_TIMEOUT, (char *)&tv);
	st = clnt_call(c, NULLPROC, XDR_VOID, NULL, XDR_VOID,
	    NULL, tv);
	clnt_destroy(c);
	if (st == RPC_SUCCESS)
		return 0;
	snprintf(err, errlen, "%s port %s: %s", host, port,
	    st == RPC_TIMEDOUT ? "connected, but no answer" : clnt_sperrno(st));
	return st == RPC_TIMEDOUT ? -DFS_ERR_TIMEDOUT : -DFS_ERR_RPC;
}
