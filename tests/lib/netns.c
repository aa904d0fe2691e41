// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_link.h>
#include <linux/if_packet.h>
#include <linux/rtnetlink.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include "netns.h"

#define NETNS_RUN_DIR	  "/run/netns"
#define E2E_LOCK	  "/run/lock/nsflow-e2e.lock"
#define E2E_LOCK_FALLBACK "/tmp/nsflow-e2e.lock"

uint64_t netns_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

int netns_enter(const char *name)
{
	char path[PATH_MAX];
	int self, fd, err;

	self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return -errno;
	snprintf(path, sizeof(path), "%s/%s", NETNS_RUN_DIR, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNET)) {
		err = -errno;
		fprintf(stderr, "netns: enter %s: %s\n", name, strerror(errno));
		if (fd >= 0)
			close(fd);
		close(self);
		return err;
	}
	close(fd);
	return self;
}

void netns_leave(int fd)
{
	if (fd < 0)
		return;
	if (setns(fd, CLONE_NEWNET))
		fprintf(stderr, "netns: back to the original namespace: %s\n", strerror(errno));
	close(fd);
}

static int write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ok;

	if (fd < 0)
		return -errno;
	ok = write(fd, val, strlen(val)) == (ssize_t)strlen(val);
	close(fd);
	return ok ? 0 : -EIO;
}

/* Child side of a spawn: namespace, output, then exec. Never returns. */
static void child_exec(const char *ns, const char *log, char *const argv[], pid_t parent)
{
	int fd;

	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		_exit(127);
	if (ns && netns_enter(ns) < 0)
		_exit(127);
	fd = open("/dev/null", O_RDONLY);
	if (fd >= 0) {
		dup2(fd, 0);
		close(fd);
	}
	if (!log || strcmp(log, "-")) {
		fd = open(log ? log : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0)
			_exit(127);
		dup2(fd, 1);
		dup2(fd, 2);
		close(fd);
	}
	execvp(argv[0], argv);
	fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

pid_t netns_spawn(const char *ns, const char *log, char *const argv[])
{
	pid_t parent = getpid(), pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid)
		child_exec(ns, log, argv, parent);
	return pid;
}

static int exit_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return -EINVAL;
}

int netns_wait(pid_t pid, int timeout_ms)
{
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0), status;
	pid_t r;

	if (pfd >= 0) {
		struct pollfd p = { .fd = pfd, .events = POLLIN };
		int n = poll(&p, 1, timeout_ms);

		close(pfd);
		if (n == 0)
			return -ETIMEDOUT;
	}
	r = waitpid(pid, &status, pfd >= 0 ? 0 : WNOHANG);
	if (r == 0)
		return -ETIMEDOUT;
	if (r < 0)
		return -errno;
	return exit_code(status);
}

int netns_sh(const char *ns, char **out, const char *fmt, ...)
{
	char *cmd = NULL, *buf = NULL;
	size_t len = 0, cap = 0;
	int pipefd[2], ret;
	pid_t parent = getpid(), pid;
	va_list ap;

	va_start(ap, fmt);
	ret = vasprintf(&cmd, fmt, ap);
	va_end(ap);
	if (ret < 0)
		return -ENOMEM;
	if (pipe2(pipefd, O_CLOEXEC)) {
		free(cmd);
		return -errno;
	}
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		ret = -errno;
		close(pipefd[0]);
		close(pipefd[1]);
		free(cmd);
		return ret;
	}
	if (!pid) {
		char *argv[] = { "/bin/sh", "-c", cmd, NULL };

		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent || (ns && netns_enter(ns) < 0))
			_exit(127);
		dup2(pipefd[1], 1);
		dup2(pipefd[1], 2);
		execv(argv[0], argv);
		_exit(127);
	}
	close(pipefd[1]);
	for (;;) {
		ssize_t n;

		if (cap - len < 4096) {
			char *nb = realloc(buf, cap ? cap * 2 : 65536);

			if (!nb)
				break;
			buf = nb;
			cap = cap ? cap * 2 : 65536;
		}
		n = read(pipefd[0], buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(pipefd[0]);
	free(cmd);
	if (buf)
		buf[len] = 0;
	ret = netns_wait(pid, -1);
	if (out)
		*out = buf ? buf : strdup("");
	else
		free(buf);
	return ret;
}

int netns_veth_add(struct netns_pair *p, char tag)
{
	char *out = NULL;
	int pid = getpid(), ret, fd;
	const char *sides[2] = { p->ns_rx, p->ns_tx };

	/* an interface name has 15 characters at most: the pid has 7 digits at most */
	snprintf(p->rx, sizeof(p->rx), NETNS_PREFIX "%u%cr", (unsigned int)pid % 10000000u, tag);
	snprintf(p->tx, sizeof(p->tx), NETNS_PREFIX "%u%ct", (unsigned int)pid % 10000000u, tag);
	/* locally administered, unique per pair */
	memcpy(p->rx_mac,
	       (uint8_t[]){ 0x02, 0xe2, (uint8_t)(pid >> 8), (uint8_t)pid, (uint8_t)tag, 0x01 }, 6);
	memcpy(p->tx_mac, p->rx_mac, 6);
	p->tx_mac[5] = 0x02;
	ret = netns_sh(NULL, &out,
		       "ip link add %s address %02x:%02x:%02x:%02x:%02x:%02x netns %s type veth "
		       "peer name %s address %02x:%02x:%02x:%02x:%02x:%02x netns %s && "
		       "ip -n %s link set %s up && ip -n %s link set %s up",
		       p->rx, p->rx_mac[0], p->rx_mac[1], p->rx_mac[2], p->rx_mac[3], p->rx_mac[4],
		       p->rx_mac[5], p->ns_rx, p->tx, p->tx_mac[0], p->tx_mac[1], p->tx_mac[2],
		       p->tx_mac[3], p->tx_mac[4], p->tx_mac[5], p->ns_tx, p->ns_rx, p->rx,
		       p->ns_tx, p->tx);
	if (ret) {
		fprintf(stderr, "netns: veth pair %s/%s: %s", p->rx, p->tx, out);
		free(out);
		return -EIO;
	}
	free(out);
	for (int i = 0; i < 2; i++) {
		fd = netns_enter(sides[i]);
		if (fd < 0)
			return fd;
		*(i ? &p->tx_ifindex : &p->rx_ifindex) = (int)if_nametoindex(i ? p->tx : p->rx);
		netns_leave(fd);
	}
	return p->rx_ifindex && p->tx_ifindex ? 0 : -ENODEV;
}

int netns_pair_create(struct netns_pair *p, char tag)
{
	const char *sides[2];
	char *out = NULL;
	int pid = getpid(), ret, fd;

	memset(p, 0, sizeof(*p));
	snprintf(p->ns_rx, sizeof(p->ns_rx), NETNS_PREFIX "%d%cr", pid, tag);
	snprintf(p->ns_tx, sizeof(p->ns_tx), NETNS_PREFIX "%d%ct", pid, tag);
	sides[0] = p->ns_rx;
	sides[1] = p->ns_tx;
	for (int i = 0; i < 2; i++) {
		ret = netns_sh(NULL, &out, "ip netns add %s", sides[i]);
		if (ret) {
			fprintf(stderr, "netns: ip netns add %s: %s", sides[i], out);
			free(out);
			netns_pair_destroy(p);
			return -EIO;
		}
		free(out);
		/* IPv6 off before the veth exists: it then never sends ND or MLD on its own */
		fd = netns_enter(sides[i]);
		if (fd < 0) {
			netns_pair_destroy(p);
			return fd;
		}
		write_file("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1");
		write_file("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
		write_file("/proc/sys/net/ipv4/ip_forward", "0");
		netns_leave(fd);
	}
	ret = netns_veth_add(p, tag);
	if (ret)
		netns_pair_destroy(p);
	return ret;
}

void netns_pair_destroy(struct netns_pair *p)
{
	const char *sides[2] = { p->ns_rx, p->ns_tx };
	char path[PATH_MAX];

	for (int i = 0; i < 2; i++) {
		if (!sides[i][0])
			continue;
		snprintf(path, sizeof(path), "%s/%s", NETNS_RUN_DIR, sides[i]);
		if (access(path, F_OK))
			continue;
		if (netns_sh(NULL, NULL, "ip netns del %s", sides[i]))
			fprintf(stderr, "netns: could not delete namespace %s\n", sides[i]);
	}
}

/* The pid in NETNS_PREFIX<pid>... or NETNS_PREFIX-<pid>..., if that process is gone; else 0. */
static long dead_owner(const char *name)
{
	size_t plen = strlen(NETNS_PREFIX);
	const char *p = name + plen;
	char *end;
	long pid;

	if (strncmp(name, NETNS_PREFIX, plen))
		return 0;
	if (*p == '-')
		p++;
	pid = strtol(p, &end, 10);
	if (end == p || pid <= 0)
		return 0;
	if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
		return 0;
	return pid;
}

static void rm_dir_files(const char *dir)
{
	char path[PATH_MAX + 256];
	struct dirent *e;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.') {
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			unlink(path);
		}
	closedir(d);
	rmdir(dir);
}

void netns_cleanup_stale(void)
{
	char path[PATH_MAX];
	struct dirent *e;
	DIR *d = opendir(NETNS_RUN_DIR);
	long pid;

	while (d && (e = readdir(d))) {
		pid = dead_owner(e->d_name);
		if (!pid)
			continue;
		fprintf(stderr, "netns: removing %s, left by process %ld that is gone\n", e->d_name,
			pid);
		netns_sh(NULL, NULL, "ip netns del %s", e->d_name);
	}
	if (d)
		closedir(d);
	/* the pin directory of an agent that a crashed test started */
	d = opendir("/sys/fs/bpf");
	while (d && (e = readdir(d))) {
		pid = dead_owner(e->d_name);
		if (!pid)
			continue;
		snprintf(path, sizeof(path), "/sys/fs/bpf/%s", e->d_name);
		fprintf(stderr, "netns: removing %s, left by process %ld that is gone\n", path,
			pid);
		rm_dir_files(path);
	}
	if (d)
		closedir(d);
}

/* rtnetlink: one RTM_GETLINK for ifname, parsed for stats and XDP state. */
int netns_link_get(const char *ns, const char *ifname, struct netns_link *l)
{
	struct {
		struct nlmsghdr n;
		struct ifinfomsg i;
		char attrs[64];
	} req = {
		.n.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg)),
		.n.nlmsg_type = RTM_GETLINK,
		.n.nlmsg_flags = NLM_F_REQUEST,
		.n.nlmsg_seq = 1,
		.i.ifi_family = AF_UNSPEC,
	};
	struct rtattr *rta = (struct rtattr *)((char *)&req + NLMSG_ALIGN(req.n.nlmsg_len));
	size_t nlen = strlen(ifname) + 1;
	static char buf[32768];
	struct nlmsghdr *h;
	int fd, saved = -1, ret = -ENOENT;
	ssize_t n;

	memset(l, 0, sizeof(*l));
	if (nlen > IFNAMSIZ)
		return -EINVAL;
	rta->rta_type = IFLA_IFNAME;
	rta->rta_len = (unsigned short)RTA_LENGTH(nlen);
	memcpy(RTA_DATA(rta), ifname, nlen);
	req.n.nlmsg_len = NLMSG_ALIGN(req.n.nlmsg_len) + RTA_ALIGN(rta->rta_len);
	if (ns) {
		saved = netns_enter(ns);
		if (saved < 0)
			return saved;
	}
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (ns)
		netns_leave(saved);
	if (fd < 0)
		return -errno;
	if (send(fd, &req, req.n.nlmsg_len, 0) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	n = recv(fd, buf, sizeof(buf), 0);
	close(fd);
	if (n < 0)
		return -errno;
	for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, (unsigned int)n); h = NLMSG_NEXT(h, n)) {
		struct ifinfomsg *ifi = NLMSG_DATA(h);
		struct rtattr *a;
		int alen;

		if (h->nlmsg_type == NLMSG_ERROR) {
			struct nlmsgerr *e = NLMSG_DATA(h);

			return e->error ? e->error : -ENOENT;
		}
		if (h->nlmsg_type != RTM_NEWLINK)
			continue;
		alen = (int)IFLA_PAYLOAD(h);
		for (a = IFLA_RTA(ifi); RTA_OK(a, alen); a = RTA_NEXT(a, alen)) {
			if (a->rta_type == IFLA_STATS64) {
				struct rtnl_link_stats64 st;

				memcpy(&st, RTA_DATA(a), sizeof(st));
				l->rx_packets = st.rx_packets;
				l->rx_bytes = st.rx_bytes;
				l->rx_dropped = st.rx_dropped;
				l->tx_packets = st.tx_packets;
				l->tx_bytes = st.tx_bytes;
				l->tx_dropped = st.tx_dropped;
			} else if (a->rta_type == IFLA_XDP) {
				struct rtattr *x = RTA_DATA(a);
				int xlen = (int)RTA_PAYLOAD(a);

				for (; RTA_OK(x, xlen); x = RTA_NEXT(x, xlen)) {
					if (x->rta_type == IFLA_XDP_ATTACHED)
						l->xdp_attached = *(uint8_t *)RTA_DATA(x);
					else if (x->rta_type == IFLA_XDP_PROG_ID)
						l->xdp_prog_id = *(uint32_t *)RTA_DATA(x);
				}
			}
		}
		ret = 0;
	}
	return ret;
}

long netns_send_frames(const char *ns, const char *ifname, const void *frame, size_t len,
		       uint64_t count)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_halen = ETH_ALEN };
	int fd, saved = -1;
	long sent = 0;

	if (ns) {
		saved = netns_enter(ns);
		if (saved < 0)
			return saved;
	}
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	sll.sll_ifindex = (int)if_nametoindex(ifname);
	if (ns)
		netns_leave(saved);
	if (fd < 0)
		return -errno;
	if (!sll.sll_ifindex) {
		close(fd);
		return -ENODEV;
	}
	memcpy(sll.sll_addr, frame, ETH_ALEN);
	for (uint64_t i = 0; i < count; i++) {
		ssize_t n = sendto(fd, frame, len, 0, (struct sockaddr *)&sll, sizeof(sll));

		if (n < 0 && errno == ENOBUFS) {
			i--;
			sleep_ms(1);
			continue;
		}
		if (n != (ssize_t)len)
			break;
		sent++;
	}
	close(fd);
	return sent;
}

const char *nsflow_bin(void)
{
	const char *b = getenv("NSFLOW_BIN");

	return b && *b ? b : "build/nsflow";
}

int nsflow_e2e_lock(int timeout_ms)
{
	uint64_t end = netns_now_ms() + (uint64_t)timeout_ms;
	int fd = open(E2E_LOCK, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0 && errno == ENOENT)
		fd = open(E2E_LOCK_FALLBACK, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	while (flock(fd, LOCK_EX | LOCK_NB)) {
		if (errno != EWOULDBLOCK || netns_now_ms() >= end) {
			int err = errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;

			close(fd);
			return err;
		}
		sleep_ms(50);
	}
	return fd;
}

void nsflow_e2e_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

int nsflow_ctl(const struct netns_agent *a, char **out, const char *words)
{
	return netns_sh(NULL, out, "%s %s %s", nsflow_bin(), words, a->ctl);
}

bool nsflow_ctl_alive(const struct netns_agent *a)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char *out = NULL;
	bool alive;
	int fd;

	if (!a->sock[0]) {
		alive = nsflow_ctl(a, &out, "show interfaces") == 0;
		free(out);
		return alive;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", a->sock);
	alive = !connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	return alive;
}

void netns_agent_dump_log(const struct netns_agent *a)
{
	char line[1024];
	FILE *f = fopen(a->log, "r");

	if (!f)
		return;
	fprintf(stderr, "---- agent log %s\n", a->log);
	while (fgets(line, sizeof(line), f))
		fputs(line, stderr);
	fprintf(stderr, "----\n");
	fclose(f);
}

int netns_agent_start(struct netns_agent *a, const char *ns, int timeout_ms,
		      const char *const args[])
{
	const char *argv[64] = { nsflow_bin(), "run" };
	uint64_t end = netns_now_ms() + (uint64_t)timeout_ms;
	static int seq;
	size_t n = 2;
	int st;

	for (size_t i = 0; args[i] && n < 61; i++)
		argv[n++] = args[i];
	if (!a->ctl[0]) {
		snprintf(a->sock, sizeof(a->sock), "/tmp/" NETNS_PREFIX "-%d-%d.sock", getpid(),
			 seq++);
		snprintf(a->ctl, sizeof(a->ctl), "--control-socket %s", a->sock);
	}
	if (a->sock[0]) { /* a restarted agent keeps its socket */
		argv[n++] = "--control-socket";
		argv[n++] = a->sock;
	}
	argv[n] = NULL;
	if (!a->log[0])
		snprintf(a->log, sizeof(a->log), "/tmp/" NETNS_PREFIX "-agent-%d.log", getpid());
	a->pid = netns_spawn(ns, a->log, (char *const *)argv);
	if (a->pid < 0)
		return a->pid;
	/* ready when it answers; a stale socket of a killed agent refuses the connection */
	while (netns_now_ms() < end) {
		char *out = NULL;

		st = netns_wait(a->pid, 0);
		if (st != -ETIMEDOUT) {
			fprintf(stderr, "agent exited with %d before answering (%s)\n", st, a->ctl);
			netns_agent_dump_log(a);
			a->pid = 0;
			return -ECHILD;
		}
		if (nsflow_ctl_alive(a) && nsflow_ctl(a, &out, "show interfaces") == 0) {
			free(out);
			return 0;
		}
		free(out);
		sleep_ms(20);
	}
	fprintf(stderr, "agent did not answer (%s) within %d ms\n", a->ctl, timeout_ms);
	netns_agent_dump_log(a);
	netns_agent_stop(a, SIGKILL, 5000);
	return -ETIMEDOUT;
}

int netns_agent_stop(struct netns_agent *a, int sig, int timeout_ms)
{
	int st;

	if (a->pid <= 0)
		return -ECHILD;
	kill(a->pid, sig);
	st = netns_wait(a->pid, timeout_ms);
	if (st == -ETIMEDOUT) {
		fprintf(stderr, "agent %d still running %d ms after signal %d: killed\n", a->pid,
			timeout_ms, sig);
		kill(a->pid, SIGKILL);
		netns_wait(a->pid, -1);
	}
	if (a->sock[0])
		unlink(a->sock); /* gone with a clean exit; left by a killed agent */
	a->pid = 0;
	return st;
}

char *netns_http(const char *ns, int port, const char *method, const char *path)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_port = htons((uint16_t)port),
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct timeval tv = { .tv_sec = 10 };
	size_t len = 0, cap = 1 << 20;
	char req[512], *buf;
	int back, fd, n;
	ssize_t got;

	back = netns_enter(ns);
	if (back < 0)
		return NULL;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	netns_leave(back);
	if (fd < 0)
		return NULL;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	n = snprintf(req, sizeof(req), "%s %s HTTP/1.0\r\n\r\n", method, path);
	buf = calloc(1, cap);
	if (!buf || connect(fd, (struct sockaddr *)&sin, sizeof(sin)) || write(fd, req, n) != n) {
		free(buf);
		close(fd);
		return NULL;
	}
	while (len < cap - 1 && (got = read(fd, buf + len, cap - 1 - len)) > 0)
		len += (size_t)got;
	close(fd);
	return buf;
}

char *netns_http_get(const char *ns, int port, const char *path)
{
	return netns_http(ns, port, "GET", path);
}

void netns_rm_pin_dir(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *d;
	DIR *dh;

	if (strncmp(dir, "/sys/fs/bpf/" NETNS_PREFIX "-", strlen("/sys/fs/bpf/" NETNS_PREFIX "-")))
		return;
	dh = opendir(dir);
	if (!dh)
		return;
	while ((d = readdir(dh)))
		if (d->d_name[0] != '.') {
			snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
			unlink(path);
		}
	closedir(dh);
	rmdir(dir);
}
